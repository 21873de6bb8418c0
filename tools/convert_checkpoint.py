"""`bit-convert-checkpoint` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/convert_checkpoint.py)."""

from bit_keras.programs.convert_checkpoint import main

if __name__ == "__main__":
    main()
