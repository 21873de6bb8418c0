"""`bit-list-models` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/list_models.py)."""

from bit_keras.programs.list_models import main

if __name__ == "__main__":
    main()
