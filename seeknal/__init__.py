"""seeknal: YAML/SQL data pipelines on DuckDB with a virtual environment per git branch."""

__version__ = "0.1.0"

# set by the console entry point: a command line, whose process may fork a helper of its own
# (seeknal/sql/ahead.py); a program importing seeknal never is one
command_line = False
