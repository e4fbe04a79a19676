"""One way to say things: ENV or --env everywhere an env is named, --json on report, --debug
after the command name, one "Did you mean", help text for positional arguments."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, seeknal_cmd, write_tree

ADULTS_21 = """\
kind: transform
name: adults
inputs:
  - ref: source.people
transform: |
  SELECT id, name, age, city
  FROM ref('source.people')
  WHERE age >= 21
"""


def _changed(root: Path) -> Path:
    assert cli(root, "run").exit_code == 0
    write_tree(root, {"seeknal/transforms/adults.yml": ADULTS_21})
    return root


def test_plan_takes_env_as_option_or_argument(small: Path) -> None:
    _changed(small)
    by_option = cli(small, "plan", "--env", "dev", "--json")
    assert by_option.exit_code == 0, by_option.output
    by_argument = cli(small, "plan", "dev", "--json")
    assert by_argument.exit_code == 0, by_argument.output
    first, second = by_option.json(), by_argument.json()
    assert first["env_name"] == second["env_name"] == "dev"
    assert first["nodes_to_execute"] == second["nodes_to_execute"]
    assert "transform.adults" in second["nodes_to_execute"]


def test_run_takes_env_as_argument(small: Path) -> None:
    _changed(small)
    assert cli(small, "plan", "dev").exit_code == 0
    res = cli(small, "run", "dev", "--json")
    assert res.exit_code == 0, res.output
    assert res.json()["env"] == "dev"
    assert (small / "target/environments/dev").is_dir()


def test_promote_report_and_diff_take_env_as_option(small: Path) -> None:
    _changed(small)
    assert cli(small, "plan", "dev").exit_code == 0
    assert cli(small, "run", "--env", "dev").exit_code == 0
    report = cli(small, "report", "--env", "dev", "--json")
    assert report.exit_code == 0, report.output
    assert report.json()["env"] == "dev"
    diff = cli(small, "diff", "--env", "dev", "--json")
    assert diff.exit_code == 0, diff.output
    assert diff.json() == cli(small, "diff", "dev", "--json").json()
    res = cli(small, "promote", "--env", "dev")
    assert res.exit_code == 0, res.output
    assert "Promoted env 'dev'" in res.stdout


def test_two_different_envs_are_a_usage_error(small: Path) -> None:
    for args in (
        ("plan", "dev", "--env", "qa"),
        ("run", "dev", "--env", "qa"),
        ("promote", "dev", "--env", "qa"),
        ("report", "dev", "--env", "qa"),
        ("diff", "dev", "--env", "qa"),
    ):
        res = cli(small, *args)
        assert res.exit_code == 2, (args, res.output)
        assert "name different environments" in res.output, res.output


def test_report_json_is_format_json(small: Path) -> None:
    _changed(small)
    assert cli(small, "plan", "dev").exit_code == 0
    assert cli(small, "run", "dev").exit_code == 0
    by_flag = cli(small, "report", "dev", "--json")
    by_format = cli(small, "report", "dev", "--format", "json")
    assert by_flag.exit_code == by_format.exit_code == 0
    assert by_flag.json() == by_format.json()
    clash = cli(small, "report", "dev", "--json", "--format", "markdown")
    assert clash.exit_code == 2
    assert "different formats" in clash.output


def test_debug_after_the_command_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    plain = seeknal_cmd(tmp_path, "report", "dev", "-p", str(missing))
    assert plain.exit_code == 1 and "Error:" in plain.stderr
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "seeknal", "report", "dev", "-p", str(missing), "--debug"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "SeeknalError" in proc.stderr


def test_a_mistyped_command_suggests_once(tmp_path: Path) -> None:
    res = seeknal_cmd(tmp_path, "rn")
    assert res.exit_code == 2
    assert res.stderr.count("Did you mean") == 1, res.stderr
    assert "'run'" in res.stderr
    sub = seeknal_cmd(tmp_path, "env", "lst")
    assert sub.exit_code == 2 and sub.stderr.count("Did you mean") == 1, sub.stderr


def test_positional_arguments_have_help(tmp_path: Path) -> None:
    for args, text in (
        (("init", "--help"), "Folder for the new project"),
        (("plan", "--help"), "Environment to plan"),
        (("run", "--help"), "Environment whose plan to apply"),
        (("report", "--help"), "Environment to report on"),
        (("promote", "--help"), "Environment to make production"),
    ):
        res = cli(tmp_path, *args)
        assert res.exit_code == 0
        assert text in " ".join(res.stdout.replace("│", " ").split()), (args, res.stdout)


def test_run_help_says_it_runs_the_branch_env(tmp_path: Path) -> None:
    res = cli(tmp_path, "run", "--help")
    assert "the branch's env" in " ".join(res.stdout.replace("│", " ").split())
