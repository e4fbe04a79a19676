"""`seeknal clean`: remove what nothing under target/ needs any more."""

from __future__ import annotations

from pathlib import Path

import typer

from seeknal.cli.console import out
from seeknal.cli.main import handled
from seeknal.cli.options import ProjectPath
from seeknal.cli.scope import context


def register(app: typer.Typer) -> None:
    app.command("clean")(clean)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _confirm(question: str) -> bool:
    try:
        return bool(typer.confirm(question))
    except typer.Abort:  # no answer (stdin closed): keep everything
        out("")
        return False


@handled
def clean(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    project_path: Path | None = ProjectPath,
) -> None:
    """Remove outputs of nodes no longer in the project, expired envs and the tool cache.

    Only under target/ (and this project's tool cache file in the user cache folder);
    production outputs a run state or a node refers to are kept.
    """
    from seeknal.envs.clean import clean as plan_clean

    ctx = context(project_path)
    found = plan_clean(ctx, dry_run=True)
    if not found:
        out("Nothing to clean.")
        return
    total = sum(r.size for r in found)
    for item in found:
        out(f"  {item.path:<48} {_size(item.size):>9}  {item.why}")
    if dry_run:
        out(
            f"Would remove {len(found)} item(s), {_size(total)}. Run 'seeknal clean' to remove them."
        )
        return
    if not yes and not _confirm(f"Remove these {len(found)} item(s) ({_size(total)})?"):
        out("Nothing removed. Pass --yes to remove without a question.")
        raise typer.Exit(1)
    removed = plan_clean(ctx)
    freed = sum(r.size for r in removed)
    out(f"Removed {len(removed)} item(s), {_size(freed)} freed.")
