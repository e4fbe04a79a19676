"""The README's second set-up command works on a fresh machine: CI runs exactly it, and
`make test` first runs tests/tools/ensure-chromium, which installs Chromium with apt-get when it
can and otherwise says the one command to run. `id` and `apt-get` are stand-ins on PATH that
record what they were asked; the script itself runs for real."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "tools" / "ensure-chromium"
ADVICE = "sudo apt-get install -y chromium"
PG_SCRIPT = REPO / "tests" / "tools" / "ensure-postgresql"


def test_ci_runs_the_readme_test_command_and_make_installs_the_browser() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    command = block.splitlines()[1].split("#")[0].strip()
    assert command == "pip install '.[test]' && make check"
    ci_lines = [ln for ln in (REPO / ".ci" / "run").read_text().splitlines() if ln.strip()]
    assert ci_lines[-1] == command
    makefile = (REPO / "Makefile").read_text()
    assert "test: test-deps" in makefile and "sh tests/tools/ensure-chromium" in makefile
    assert "sudo apt-get install -y chromium postgresql" in readme
    assert "sh tests/tools/ensure-postgresql" in makefile


def run_script(tmp_path: Path, *, uid: int, apt: str | None) -> tuple[int, str, list[str]]:
    """Run the script with a PATH holding only `id`, `cat` and (unless None) an apt-get that
    exits with `apt` ('ok' also creates the browser). Returns exit code, stderr, apt-get calls."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    browser = tmp_path / "chromium"
    bin_dir.mkdir(exist_ok=True)
    tools = {"id": f"#!/bin/sh\necho {uid}\n"}
    if apt is not None:
        chmod = shutil.which("chmod")
        creates = f': > "{browser}"; {chmod} +x "{browser}"; ' if apt == "ok" else ""
        status = 0 if apt == "ok" else 100
        tools["apt-get"] = (
            f'#!/bin/sh\necho "$*" >> "{log}"\n'
            f'case "$1" in install) {creates}exit {status};; esac\nexit 0\n'
        )
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    cat = shutil.which("cat")
    assert cat
    (bin_dir / "cat").unlink(missing_ok=True)
    (bin_dir / "cat").symlink_to(cat)
    proc = subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": str(bin_dir), "SEEKNAL_TEST_CHROMIUM": str(browser)},
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stderr, calls


def test_nothing_happens_when_the_browser_is_there(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    code, stderr, calls = run_script(tmp_path, uid=0, apt="ok")
    assert (code, stderr, calls) == (0, "", [])


def test_root_with_apt_get_installs_chromium(tmp_path: Path) -> None:
    code, stderr, calls = run_script(tmp_path, uid=0, apt="ok")
    assert code == 0
    assert calls == ["update -qq", "install -y -qq chromium"]
    assert stderr == ""
    assert (tmp_path / "chromium").exists()


@pytest.mark.parametrize(
    ("uid", "apt", "expected_calls"),
    [
        (1000, "ok", []),  # not root: never tries
        (0, None, []),  # no apt-get
        (0, "fails", ["update -qq", "install -y -qq chromium"]),
    ],
    ids=["not-root", "no-apt-get", "apt-get-fails"],
)
def test_otherwise_it_says_the_command_and_lets_the_tests_run(
    tmp_path: Path, uid: int, apt: str | None, expected_calls: list[str]
) -> None:
    code, stderr, calls = run_script(tmp_path, uid=uid, apt=apt)
    assert code == 0
    assert calls == expected_calls
    assert f"{tmp_path / 'chromium'} is missing" in stderr
    assert "the 2 HTML report tests will fail" in stderr
    assert ADVICE in stderr


def run_pg_script(tmp_path: Path, *, uid: int, apt: str | None) -> tuple[int, str, list[str]]:
    """ensure-postgresql with stand-ins: an apt-get that ('ok') creates initdb and pg_ctl under
    an empty server root, or fails; returns exit code, stderr, apt-get calls."""
    bin_dir, log, root = tmp_path / "bin", tmp_path / "apt.log", tmp_path / "pg"
    bin_dir.mkdir(exist_ok=True)
    root.mkdir(exist_ok=True)
    tools = {"id": f"#!/bin/sh\necho {uid}\n"}
    if apt is not None:
        server = root / "15" / "bin"
        creates = (
            f'mkdir -p "{server}"; for t in initdb pg_ctl; do printf "#!/bin/sh\\n" > '
            f'"{server}/$t"; chmod +x "{server}/$t"; done; '
        )
        tools["apt-get"] = (
            f'#!/bin/sh\necho "$*" >> "{log}"\n'
            f'case "$1" in install) {creates if apt == "ok" else ""}'
            f"exit {0 if apt == 'ok' else 100};; esac\nexit 0\n"
        )
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for name in ("cat", "mkdir", "chmod", "printf"):
        found = shutil.which(name)
        assert found
        (bin_dir / name).unlink(missing_ok=True)
        (bin_dir / name).symlink_to(found)
    proc = subprocess.run(
        ["/bin/sh", str(PG_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": str(bin_dir), "SEEKNAL_TEST_PG_ROOT": str(root)},
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stderr, calls


def test_root_with_apt_get_installs_postgresql(tmp_path: Path) -> None:
    code, stderr, calls = run_pg_script(tmp_path, uid=0, apt="ok")
    assert (code, stderr) == (0, "")
    assert calls == ["update -qq", "install -y -qq postgresql"]
    assert (tmp_path / "pg" / "15" / "bin" / "initdb").exists()
    # installed now: a second run does nothing
    assert run_pg_script(tmp_path, uid=0, apt="ok")[2] == calls


@pytest.mark.parametrize(("uid", "apt"), [(1000, "ok"), (0, None), (0, "fails")])
def test_without_postgresql_it_says_the_command(tmp_path: Path, uid: int, apt: str | None) -> None:
    code, stderr, _ = run_pg_script(tmp_path, uid=uid, apt=apt)
    assert code == 0
    assert "so the PostgreSQL tests will fail" in stderr
    assert "sudo apt-get install -y postgresql" in stderr
