"""`bit-distill` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/distill.py)."""

from bit_keras.programs.distill import main

if __name__ == "__main__":
    main()
