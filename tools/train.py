"""`bit-train` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/train.py)."""

from bit_keras.programs.train import main

if __name__ == "__main__":
    main()
