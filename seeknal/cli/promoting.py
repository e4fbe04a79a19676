"""`seeknal promote`'s work and what it prints: the typer command (cli/promote_cmd.py) and the
answer given before typer is imported (cli/quick.py) share it."""

from __future__ import annotations

from pathlib import Path


def promote_and_report(
    project_path: Path | None, env: str | None, copy_data: bool, rematerialize: bool
) -> None:
    try:  # Ctrl-C while this starts (imports take most of it) promotes nothing either
        from seeknal.cli.console import out
        from seeknal.cli.scope import context, named_env
        from seeknal.envs.promote import promote_env

        env = named_env(project_path, env, "promote")
        ctx = context(project_path)
    except KeyboardInterrupt:
        from seeknal.state.journal import stopped_before

        raise stopped_before("promote", f"seeknal promote {env or 'ENV'}") from None
    outcome = promote_env(ctx, env, copy_data, rematerialize=rematerialize)
    how = "copied" if copy_data else "moved"
    out(
        f"Promoted env '{env}' to production in {outcome.seconds * 1000:.0f} ms: "
        f"{len(outcome.moved)} output(s) {how}, {len(outcome.removed)} removed."
    )
    for table in outcome.tables:
        out(f"Materialized {table}")
