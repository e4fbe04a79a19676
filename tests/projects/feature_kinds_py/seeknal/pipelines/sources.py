# /// script
# requires-python = ">=3.11"
# dependencies = ["duckdb", "pandas", "pyarrow"]
# ///

"""Source: the transactions file."""

from seeknal.pipeline import source


@source(name="txns", source="csv", table="data/txns.csv", description="transactions")
def txns(ctx=None):
    """Declared only: seeknal reads the file."""
    pass
