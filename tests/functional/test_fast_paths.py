"""Start-up: `seeknal --help` (on a plain output) and `seeknal env current` are answered before
typer, click and rich are imported (seeknal/cli/quick.py), and any other command registers only
its own command module. What they print must stay exactly what the typer app prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import cli, git

from seeknal.cli import help_text
from seeknal.cli.main import COMMANDS, get_app
from seeknal.cli.quick import RENDER_SETTINGS

# runs the console entry point and reports which of these modules it imported
PROBE = """
import json, sys
from seeknal.entry import main
sys.argv = ["seeknal", *sys.argv[1:]]
try:
    main()
finally:
    names = ("typer", "click", "rich", "yaml", "jinja2")
    loaded = [m for m in sorted(sys.modules) if m in names or m.endswith("_cmd")]
    sys.stderr.write("\\nloaded " + json.dumps(loaded) + "\\n")
"""
# the same command line through the typer app, as before the fast paths existed
TYPER = (
    "import sys; sys.argv = ['seeknal', *sys.argv[1:]]; from seeknal.cli.main import main; main()"
)


def _run(code: str, cwd: Path, args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in RENDER_SETTINGS}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**clean, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr


def entry(cwd: Path, *args: str, **env: str) -> tuple[int, str, str, list[str]]:
    """Exit code, stdout, stderr and the probed modules loaded, through seeknal.entry."""
    code, stdout, stderr = _run(PROBE, cwd, args, env)
    stderr, _, loaded = stderr.rpartition("\nloaded ")
    return code, stdout, stderr, json.loads(loaded)


def through_typer(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    return _run(TYPER, cwd, args, env)


def test_stored_help_is_what_typer_renders() -> None:
    """Fails when a command, its help or a global option changes without the stored text:
    write it again with `python -m seeknal.cli.help_text`."""
    assert help_text.HELP == help_text.render()
    assert help_text.HELP.count("\n") == len(help_text.LINES) > 20


def test_help_prints_typers_text_without_importing_typer(tmp_path: Path) -> None:
    for args in (["--help"], ["-h"], []):
        code, stdout, stderr, loaded = entry(tmp_path, *args)
        assert (code, stdout, stderr) == through_typer(tmp_path, *args), args
        assert loaded == [], args
        assert "Usage: seeknal [OPTIONS] COMMAND" in stdout and ("promote" in stdout)
    assert entry(tmp_path)[0] == 2  # no arguments: help as a usage error, like click


def test_help_for_another_width_or_colour_goes_through_typer(tmp_path: Path) -> None:
    code, stdout, stderr, loaded = entry(tmp_path, "--help", COLUMNS="120")
    assert (code, stdout, stderr) == through_typer(tmp_path, "--help", COLUMNS="120")
    assert "typer" in loaded
    assert stdout != help_text.HELP and len(stdout.splitlines()[1]) == 120
    code, stdout, _, loaded = entry(tmp_path, "--help", FORCE_COLOR="1")
    assert code == 0 and "\x1b[" in stdout and "typer" in loaded


def test_env_current_prints_typers_line_without_importing_typer(small: Path) -> None:
    git(small, "checkout", "-q", "-b", "feature/fast")
    for branch in ("feature/fast", "main"):
        git(small, "checkout", "-q", branch)
        code, stdout, stderr, loaded = entry(small, "env", "current")
        assert (code, stdout, stderr) == through_typer(small, "env", "current")
        assert (code, stdout, stderr) == (0, cli(small, "env", "current").stdout, "")
        assert [m for m in loaded if m != "yaml"] == []
    assert stdout == "production  (production branch, branch main)\n"
    assert entry(small, "env", "current", SEEKNAL_ENV="dev")[1] == "dev  (SEEKNAL_ENV)\n"


def test_env_current_outside_a_project_is_worded_by_typer(tmp_path: Path) -> None:
    code, stdout, stderr, loaded = entry(tmp_path, "env", "current")
    assert (code, stdout, stderr) == through_typer(tmp_path, "env", "current")
    assert code == 1 and "No seeknal project found" in stderr and "typer" in loaded


def test_a_command_registers_only_its_own_module(tmp_path: Path) -> None:
    code, stdout, _, loaded = entry(tmp_path, "promote", "--help")
    assert code == 0 and "Usage: seeknal promote" in stdout
    assert [m for m in loaded if m.endswith("_cmd")] == ["seeknal.cli.promote_cmd"]
    # a mistyped command still gets click's suggestion from the full set of commands
    code, _, stderr, loaded = entry(tmp_path, "promte")
    assert code == 2 and "Did you mean" in stderr
    assert len([m for m in loaded if m.endswith("_cmd")]) == len(set(COMMANDS.values()))


def test_command_table_names_every_command_and_its_module() -> None:
    app = get_app()
    registered = {c.name: c.callback.__module__ for c in app.registered_commands if c.callback}
    for group in app.registered_groups:
        first = group.typer_instance.registered_commands[0] if group.typer_instance else None
        registered[group.name] = first.callback.__module__ if first and first.callback else ""
    assert registered == {name: f"seeknal.cli.{module}" for name, module in COMMANDS.items()}
    # and in the order --help lists them
    listed = [
        line.split()[1] for line in help_text.LINES if line.startswith("│ ") and "─" not in line
    ]
    assert [n for n in listed if n in COMMANDS] == [
        n for n in COMMANDS if n not in ("env", "hooks")
    ] + ["env", "hooks"]


def test_settings_are_read_from_the_memo_a_command_left(small: Path) -> None:
    """A command that writes the tool cache keeps the `git:` settings beside it; env current
    (and the hooks) then import no YAML parser, until the project file changes."""
    assert "yaml" in entry(small, "env", "current")[3]
    assert cli(small, "run").exit_code == 0
    code, stdout, _, loaded = entry(small, "env", "current")
    assert (code, stdout, loaded) == (0, "production  (production branch, branch main)\n", [])
    project = small / "seeknal_project.yml"
    project.write_text(project.read_text() + "git:\n  production_branches: [trunk]\n")
    code, stdout, _, loaded = entry(small, "env", "current")
    assert (code, stdout) == (0, "main  (branch, branch main)\n") and "yaml" in loaded


def _same_as_typer(cwd: Path, *args: str) -> tuple[int, str, str]:
    """Runs `seeknal ARGS` through the typer app, then through seeknal.entry: the same exit
    code, stdout and stderr, and the second without typer or click, nor Jinja (the terminal view
    of the shipped template is written out in seeknal/report/text_view.py)."""
    expected = through_typer(cwd, *args)
    code, stdout, stderr, loaded = entry(cwd, *args)
    assert (code, stdout, stderr) == expected, args
    assert not {"typer", "click", "jinja2", "seeknal.cli.plan_cmd"} & set(loaded), (args, loaded)
    return code, stdout, stderr


def test_plan_prints_typers_plan_without_importing_typer(small: Path) -> None:
    code, stdout, _ = _same_as_typer(small, "plan")
    assert code == 0 and "Production plan:" in stdout and "4 node(s) to run" in stdout
    assert cli(small, "run").exit_code == 0
    code, stdout, _ = _same_as_typer(small, "plan")
    assert code == 0 and "0 node(s) to run, 4 cached." in stdout
    adults = small / "seeknal/transforms/adults.yml"
    adults.write_text(adults.read_text().replace("age >= 18", "age >= 21"))
    code, stdout, _ = _same_as_typer(small, "plan", "dev")
    assert code == 0 and "transform.adults" in stdout and "breaking" in stdout
    assert "Plan saved to target/environments/dev/plan.json" in stdout
    # the branch's env, chosen without naming it, says so first
    git(small, "checkout", "-q", "-b", "feature/x")
    code, stdout, _ = _same_as_typer(small, "plan")
    assert code == 0 and stdout.startswith("(env feature-x: branch feature/x)\n")


def test_plan_errors_are_worded_and_coded_as_by_typer(small: Path, tmp_path: Path) -> None:
    code, _, stderr = _same_as_typer(small, "plan", "Prod")
    assert code == 1 and stderr.startswith("Error: Invalid environment name 'Prod'")
    (small / "seeknal/transforms/adults.yml").write_text("kind: transform\nname: [adults\n")
    for args in (("plan",), ("plan", "dev")):
        code, _, stderr = _same_as_typer(small, *args)
        assert code == 1 and "adults.yml" in stderr and "Traceback" not in stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code, _, stderr = _same_as_typer(outside, "plan")
    assert code == 1 and "No seeknal project found" in stderr


def test_plan_with_options_goes_through_typer(small: Path) -> None:
    code, stdout, _, loaded = entry(small, "plan", "--json")
    assert code == 0 and json.loads(stdout)["to_run"] and "typer" in loaded
    code, _, stderr, loaded = entry(small, "plan", "dev", "--full")
    assert code == 2 and "--full" in stderr and "typer" in loaded


def test_colours_are_the_escape_sequences_click_writes() -> None:
    """cli/console.py styles text without click, for the answers given before typer loads."""
    import click
    import typer

    from seeknal.cli.console import ANSI, COLOURS, style

    names = {v for k, v in vars(typer.colors).items() if k.isupper() and isinstance(v, str)}
    assert names == set(COLOURS)
    for colour in (*COLOURS, None):
        for bold in (False, True):
            assert style("x", colour, bold) == click.style("x", fg=colour, bold=bold)
    assert ANSI.pattern == click._compat._ansi_re.pattern
