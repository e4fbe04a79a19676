"""seeknal: YAML/SQL data pipelines on DuckDB with a virtual environment per git branch."""

__version__ = "0.1.0"
