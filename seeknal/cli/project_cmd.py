"""`seeknal init` and `seeknal demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.console import out
from seeknal.cli.main import handled


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)


@handled
def init(
    directory: Path = typer.Argument(Path("."), help="Folder for the new project."),
    name: str | None = typer.Option(None, "--name", help="Project name (default: folder name)."),
    example: bool = typer.Option(False, "--example", help="Write the example shop project."),
) -> None:
    """Create a new project (or the example project with --example)."""
    from seeknal.project.scaffold import scaffold

    created = scaffold(directory, name=name, example=example)
    out(f"Created seeknal project '{created.name}' in {created.root}")
    for rel in created.files[:12]:
        out(f"  {rel}")
    if len(created.files) > 12:
        out(f"  ... and {len(created.files) - 12} more files")
    here = directory == Path(".")
    import shlex

    folder = shlex.quote(str(directory))
    if example:
        out("Next: seeknal run" if here else f"Next: cd {folder} && seeknal run")
        return
    hint = "add data files under data/ and nodes under seeknal/, then seeknal run"
    out(f"Next: {hint}" if here else f"Next: cd {folder}, {hint}")


@handled
def demo(
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to create the demo repository (default: a temporary folder)."
    ),
) -> None:
    """Run the example project end to end in a fresh git repository."""
    from seeknal.cli.demo import run_demo

    run_demo(directory)
