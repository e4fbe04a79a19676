"""`python -m seeknal`: the same entry point as the `seeknal` console script."""

from seeknal.entry import main

if __name__ == "__main__":
    main()
