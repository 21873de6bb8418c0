"""`bit-data-service` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/data_service.py)."""

from bit_keras.programs.data_service import main

if __name__ == "__main__":
    main()
