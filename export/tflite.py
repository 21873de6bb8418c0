"""`bit-export-tflite` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/export_tflite.py)."""

from bit_keras.programs.export_tflite import main

if __name__ == "__main__":
    main()
