"""`bit-report` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/report.py)."""

from bit_keras.programs.report import main

if __name__ == "__main__":
    main()
