"""Options that several commands declare the same way."""

from __future__ import annotations

import typer

from seeknal.cli.complete import env_names, selectors

ProjectPath = typer.Option(
    None, "--project-path", "-p", help="Project folder (default: found from the current one)."
)


def checked_params(value: str | None) -> str | None:
    """--params must be a JSON object: anything else is a usage error (exit 2), said before
    the project is looked at."""
    if value is None:
        return None
    import json

    example = """e.g. --params '{"run_date": "2024-01-31"}'"""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"not valid JSON ({exc.msg} at character {exc.pos}); pass a JSON object, {example}"
        ) from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter(f"it must be a JSON object, {example}")
    return value


Params = typer.Option(
    None,
    "--params",
    callback=checked_params,
    help='JSON object of {{ }} values, e.g. \'{"k": "v"}\'.',
)
Parallel = typer.Option(False, "--parallel", help="Run independent nodes at once.")
MaxWorkers = typer.Option(
    None, "--max-workers", min=1, help="Nodes run at once (default 4); implies --parallel."
)
Quiet = typer.Option(
    False, "--quiet", "-q", help="No progress: only the summary, warnings and errors."
)
Select = typer.Option(
    None,
    "--select",
    "-s",
    autocompletion=selectors,
    help="Only the selected nodes: id, name, +node, node+, tag:x, kind:k, path:dir, "
    "transform.* (comma or repeat).",
)
Exclude = typer.Option(
    None,
    "--exclude",
    autocompletion=selectors,
    help="Leave out these nodes (selectors as --select).",
)
EnvOption = typer.Option(
    None, "--env", "-e", autocompletion=env_names, help="Environment (same as giving ENV)."
)


def one_env(positional: str | None, option: str | None) -> str | None:
    """ENV and --env name the same thing: either may be given, both only when they agree."""
    if positional is not None and option is not None and positional != option:
        raise typer.BadParameter(
            f"ENV '{positional}' and --env '{option}' name different environments; give one."
        )
    return positional if positional is not None else option
