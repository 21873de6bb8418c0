"""`bit-vtab` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/vtab.py)."""

from bit_keras.programs.vtab import main

if __name__ == "__main__":
    main()
