"""`seeknal --help` as typer renders it without colour at 80 columns, kept here so that
seeknal/cli/quick.py prints it without importing typer, click or rich.

tests/functional/test_fast_paths.py fails when it differs from what typer renders; after
changing a command's name or help, or the global options, write it again with
`python -m seeknal.cli.help_text`.
"""

from __future__ import annotations

LINES = (
    "                                                                                ",
    " Usage: seeknal [OPTIONS] COMMAND [ARGS]...                                     ",
    "                                                                                ",
    " YAML/SQL data pipelines on DuckDB, with a virtual environment for every git    ",
    " branch.                                                                        ",
    "                                                                                ",
    "╭─ Options ────────────────────────────────────────────────────────────────────╮",
    "│ --debug                         Show full tracebacks on errors (also after   │",
    "│                                 the command name).                           │",
    "│ --version                       Print the version.                           │",
    "│ --install-completion            Install completion for the current shell.    │",
    "│ --show-completion               Show completion for the current shell, to    │",
    "│                                 copy it or customize the installation.       │",
    "│ --help                -h        Show this message and exit.                  │",
    "╰──────────────────────────────────────────────────────────────────────────────╯",
    "╭─ Commands ───────────────────────────────────────────────────────────────────╮",
    "│ run       Execute the project: production, or on a branch the branch's env.  │",
    "│ plan      Show what would run and why.                                       │",
    "│ promote   Make an applied environment production, atomically.                │",
    "│ log       List production's history, newest first (what can be rolled back). │",
    "│ rollback  Put production back exactly as before a promotion, atomically.     │",
    "│ report    Render an environment's saved plan, with run results once it was   │",
    "│           applied.                                                           │",
    "│ diff      Compare an applied environment with production: definitions and    │",
    "│           data, node by node.                                                │",
    "│ ls        List nodes with kind, tags and status (production's, or the active │",
    "│           env's).                                                            │",
    "│ show      Show one node: its YAML, SQL, inputs, downstream, last run and     │",
    "│           output schema.                                                     │",
    "│ lineage   Show the node graph: upstream and downstream of NODE, or the whole │",
    "│           project.                                                           │",
    "│ query     Run a read-only SQL query over an environment's outputs            │",
    "│           (production's without one).                                        │",
    "│ repl      An SQL shell over an environment's outputs, every node a view.     │",
    "│           Read-only.                                                         │",
    "│ sync      Make production match the checked-out production branch (what      │",
    "│           post-merge does).                                                  │",
    "│ init      Create a new project (or the example project with --example).      │",
    "│ demo      Run the example project end to end in a fresh git repository.      │",
    "│ clean     Remove outputs of nodes no longer in the project, expired envs and │",
    "│           the tool cache.                                                    │",
    "│ env       Manage virtual environments.                                       │",
    "│ hooks     Install, remove or explain seeknal's git hooks.                    │",
    "╰──────────────────────────────────────────────────────────────────────────────╯",
    "",
)
HELP = "".join(line + "\n" for line in LINES)


def render() -> str:
    """`seeknal --help` rendered by the typer app, in a process of its own with no terminal."""
    import os
    import subprocess
    import sys

    from seeknal.cli.quick import RENDER_SETTINGS

    env = {k: v for k, v in os.environ.items() if k not in RENDER_SETTINGS}
    code = "import sys; sys.argv = ['seeknal', '--help']; from seeknal.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
        encoding="utf-8",
    )
    return done.stdout


def _write() -> None:
    import json
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    head, tail = text.split("\nLINES = ", 1)
    lines = "".join(
        f"    {json.dumps(line, ensure_ascii=False)},\n" for line in render().split("\n")[:-1]
    )
    tail = tail[tail.index("\nHELP = ") :]
    path.write_text(f"{head}\nLINES = (\n{lines})" + tail, encoding="utf-8")


if __name__ == "__main__":
    _write()
