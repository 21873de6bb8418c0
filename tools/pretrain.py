"""`bit-pretrain` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/pretrain.py)."""

from bit_keras.programs.pretrain import main

if __name__ == "__main__":
    main()
