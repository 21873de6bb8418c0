"""`bit-export-hub` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/export_hub.py)."""

from bit_keras.programs.export_hub import main

if __name__ == "__main__":
    main()
