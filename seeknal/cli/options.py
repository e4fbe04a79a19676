"""Options that several commands declare the same way."""

from __future__ import annotations

import typer

ProjectPath = typer.Option(
    None, "--project-path", "-p", help="Project folder (default: found from the current one)."
)
Params = typer.Option(None, "--params", help='JSON object of {{ }} values, e.g. \'{"k": "v"}\'.')
Parallel = typer.Option(False, "--parallel", help="Run independent nodes at once.")
MaxWorkers = typer.Option(4, "--max-workers", min=1, help="Workers for --parallel.")
Quiet = typer.Option(False, "--quiet", "-q", help="Only the summary and errors.")
