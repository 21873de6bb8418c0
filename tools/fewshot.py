"""`bit-fewshot` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/fewshot.py)."""

from bit_keras.programs.fewshot import main

if __name__ == "__main__":
    main()
