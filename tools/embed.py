"""`bit-embed` from a clone of the repository: the examples and flags are in `--help`
(bit_keras/programs/embed.py)."""

from bit_keras.programs.embed import main

if __name__ == "__main__":
    main()
