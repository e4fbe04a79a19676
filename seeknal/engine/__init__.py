"""Execution engines. DuckDB is the only one so far and the only module importing duckdb."""
