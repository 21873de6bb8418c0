"""`bit-predict` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/predict.py)."""

from bit_keras.programs.predict import main

if __name__ == "__main__":
    main()
