"""Installing seeknal's git hooks, and what post-checkout does when the real `git` fires it
(docs/git.md): shims beside user hooks, core.hooksPath, husky/lefthook, worktrees, the active env per
worktree, file checkouts and rebases, broken projects, a missing seeknal, a light hook path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, git, seeknal_cmd
from gitkit import (
    BROKEN_NODE,
    ZERO,
    commit_files,
    git_env,
    ignore_target,
    install_hooks,
    run_git,
    seeknal_lines,
    switch_file,
    write_hook,
)

from seeknal.git.hooks import HOOKS, MARKER, USER_SUFFIX


@pytest.fixture
def small(small: Path) -> Path:
    """The small project, committed, with target/ ignored."""
    return ignore_target(small)


def current(root: Path) -> str:
    res = cli(root, "env", "current")
    assert res.exit_code == 0, res.output
    return res.stdout.strip()


# -- install / status / uninstall -----------------------------------------------------------------
def test_install_status_uninstall(small: Path) -> None:
    hooks = small / ".git" / "hooks"
    res = cli(small, "hooks", "install")
    assert res.exit_code == 0, res.output
    assert str(hooks) in res.stdout
    for hook in HOOKS:
        path = hooks / hook
        assert path.is_file(), hook
        assert os.access(path, os.X_OK), hook
        assert MARKER in path.read_text()
        assert f"hook {hook}" in path.read_text()

    status = cli(small, "hooks", "status")
    assert status.exit_code == 0, status.output
    for hook in ("pre-push", "post-merge", "post-checkout", "post-commit"):
        assert any(line.split()[:2] == ["ok", hook] for line in status.stdout.splitlines()), (
            status.stdout
        )
    assert "What runs:" in status.stdout
    assert "Active env now: production" in status.stdout

    # installing twice is harmless: still ours, no user hook invented
    assert cli(small, "hooks", "install").exit_code == 0
    assert not list(hooks.glob(f"*{USER_SUFFIX}"))

    res = cli(small, "hooks", "uninstall")
    assert res.exit_code == 0, res.output
    for hook in HOOKS:
        assert not (hooks / hook).exists(), hook
    status = cli(small, "hooks", "status")
    assert status.stdout.count("not installed") == 4, status.stdout


SHIPPED = Path(__file__).resolve().parents[2] / "hooks"


def test_installed_shims_are_the_files_in_hooks_with_the_binary_recorded(small: Path) -> None:
    assert cli(small, "hooks", "install").exit_code == 0
    import seeknal

    home = str(Path(seeknal.__file__).resolve().parent.parent)
    for hook in HOOKS:
        shipped = (SHIPPED / hook).read_text()
        assert os.access(SHIPPED / hook, os.X_OK), hook
        assert "seeknal_bin=''\n" in shipped, hook
        installed = (small / ".git" / "hooks" / hook).read_text()
        recorded = [line for line in installed.splitlines() if line.startswith("seeknal_bin=")]
        assert len(recorded) == 1 and recorded[0].startswith("seeknal_bin='/"), installed
        # the lines install changes: the seeknal, and for post-checkout its Python and folder
        expected = shipped.replace("seeknal_bin=''", recorded[0])
        if hook == "post-checkout":
            expected = expected.replace(
                "seeknal_python=''", f"seeknal_python='{sys.executable}'"
            ).replace("seeknal_home=''", f"seeknal_home='{home}'")
        else:
            assert "seeknal_python" not in shipped, hook
        assert installed == expected, hook


def test_post_checkout_without_the_settings_memo_reads_the_project_file(small: Path) -> None:
    """The hook's own process has no site-packages; when the project file's settings are not
    remembered (a fresh clone, a file just edited) it turns them on and parses the YAML."""
    install_hooks(small)
    text = (small / "seeknal_project.yml").read_text()
    extra = "git:\n  production_branches: [trunk]\n"
    commit_files(small, {"seeknal_project.yml": text + extra}, "trunk is production")
    memo = small / "target" / ".seeknal-cache" / "settings.json"
    memo.unlink(missing_ok=True)
    done = run_git(small, "checkout", "-b", "trunk")
    assert seeknal_lines(done.stderr) == ["seeknal: production (branch trunk)"], done.stderr
    done = run_git(small, "checkout", "-b", "main2")  # main is not production any more
    assert seeknal_lines(done.stderr) == ["seeknal: env main2 (new; 'seeknal plan' creates it)"]
    assert current(small).split()[0] == "main2"


def test_post_checkout_falls_back_to_the_seeknal_executable(small: Path, tmp_path: Path) -> None:
    """A recorded Python or package folder that no longer works (seeknal moved, a broken
    install): the shim runs the recorded seeknal executable instead."""
    install_hooks(small)
    shim = small / ".git" / "hooks" / "post-checkout"
    broken = tmp_path / "moved"
    (broken / "seeknal" / "git").mkdir(parents=True)
    (broken / "seeknal" / "git" / "checkout.py").write_text("raise ImportError('moved')\n")
    for home in (str(broken), "/nonexistent"):
        lines = [
            f"seeknal_home='{home}'" if line.startswith("seeknal_home=") else line
            for line in shim.read_text().splitlines()
        ]
        shim.write_text("\n".join(lines) + "\n")
        branch = "feature/" + Path(home).name
        done = run_git(small, "checkout", "-b", branch)
        env = "feature-" + Path(home).name
        assert seeknal_lines(done.stderr) == [
            f"seeknal: env {env} (new; 'seeknal plan' creates it)"
        ]
        assert current(small).split()[0] == env
        git(small, "checkout", "-q", "main")


def test_shipped_shims_run_as_they_are(small: Path) -> None:
    # the files in hooks/ are what git runs: unchanged, they find seeknal on PATH
    git(small, "config", "core.hooksPath", str(SHIPPED))
    done = run_git(small, "checkout", "-b", "feature/shipped")
    assert "seeknal: env feature-shipped" in done.stderr, done.stderr
    assert current(small).split()[0] == "feature-shipped"
    done = run_git(small, "checkout", "-b", "feature/no-seeknal", with_seeknal=False)
    assert done.exit_code == 0
    assert "executable not found; post-checkout hook skipped" in done.stderr, done.stderr


def test_user_hook_is_kept_runs_and_is_restored(small: Path) -> None:
    hooks = small / ".git" / "hooks"
    log = small.parent / "user-hook.log"
    user_text = f'#!/bin/sh\necho "user $3" >> "{log}"\n'
    write_hook(hooks / "post-checkout", user_text)
    write_hook(hooks / "pre-push", "#!/bin/sh\nexit 0\n")

    res = cli(small, "hooks", "install")
    assert res.exit_code == 0, res.output
    assert "kept your post-checkout hook" in res.stdout
    assert (hooks / f"post-checkout{USER_SUFFIX}").read_text() == user_text
    assert MARKER in (hooks / "post-checkout").read_text()
    status = cli(small, "hooks", "status")
    assert "runs first" in status.stdout

    done = run_git(small, "checkout", "-b", "feature/a")
    assert log.read_text() == "user 1\n"  # the user's hook still runs
    assert "seeknal: env feature-a" in done.stderr  # and so does seeknal's
    run_git(small, "checkout", "--", "seeknal_project.yml")
    assert log.read_text() == "user 1\nuser 0\n"

    res = cli(small, "hooks", "uninstall")
    assert res.exit_code == 0, res.output
    assert "restored your post-checkout hook" in res.stdout
    assert (hooks / "post-checkout").read_text() == user_text
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nexit 0\n"
    assert not (hooks / "post-merge").exists()
    assert not list(hooks.glob(f"*{USER_SUFFIX}"))


def test_failing_user_pre_push_hook_still_blocks(small: Path) -> None:
    hooks = small / ".git" / "hooks"
    write_hook(hooks / "pre-push", "#!/bin/sh\necho 'user says no' >&2\nexit 3\n")
    install_hooks(small)
    remote = small.parent / "r.git"
    git(small.parent, "init", "-q", "--bare", str(remote))
    git(small, "remote", "add", "origin", str(remote))
    done = run_git(small, "push", "origin", "main", check=False)
    assert done.exit_code != 0
    assert "user says no" in done.stderr


def test_core_hooks_path_is_respected(small: Path) -> None:
    git(small, "config", "core.hooksPath", ".githooks")
    res = cli(small, "hooks", "install")
    assert res.exit_code == 0, res.output
    folder = small / ".githooks"
    assert str(folder) in res.stdout
    for hook in HOOKS:
        assert MARKER in (folder / hook).read_text()
        assert not (small / ".git" / "hooks" / hook).exists()
    done = run_git(small, "checkout", "-b", "feature/hp")
    assert "seeknal: env feature-hp" in done.stderr
    assert current(small).startswith("feature-hp")
    status = cli(small, "hooks", "status")
    assert f"Hooks folder: {folder}" in status.stdout


def test_husky_is_detected(small: Path) -> None:
    (small / ".husky" / "_").mkdir(parents=True)
    write_hook(small / ".husky" / "pre-push", "#!/bin/sh\nnpm test\n")
    git(small, "config", "core.hooksPath", ".husky/_")
    res = cli(small, "hooks", "install")
    assert res.exit_code != 0
    assert "husky" in res.output
    assert "seeknal hook" in res.output  # says what to add instead
    for hook in HOOKS:
        assert not (small / ".husky" / "_" / hook).exists()
        assert not (small / ".git" / "hooks" / hook).exists()
    status = cli(small, "hooks", "status")
    assert status.exit_code == 0, status.output
    assert "husky" in status.output


def test_lefthook_is_detected(small: Path) -> None:
    (small / "lefthook.yml").write_text("pre-push:\n  commands:\n    test:\n      run: make\n")
    res = cli(small, "hooks", "install")
    assert res.exit_code != 0
    assert "lefthook" in res.output
    assert "lefthook.yml" in res.output
    for hook in HOOKS:
        assert not (small / ".git" / "hooks" / hook).exists()
    status = cli(small, "hooks", "status")
    assert status.exit_code == 0, status.output
    assert "lefthook" in status.output


# -- post-checkout --------------------------------------------------------------------------------
def test_branch_checkout_switches_the_active_env(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_hooks(small)
    done = run_git(small, "checkout", "-b", "feature/new-metric")
    assert seeknal_lines(done.stderr) == [
        "seeknal: env feature-new-metric (new; 'seeknal plan' creates it)"
    ]
    now = current(small)
    assert now.split()[0] == "feature-new-metric"
    assert "checkout" in now and "feature/new-metric" in now

    done = run_git(small, "checkout", "main")
    assert seeknal_lines(done.stderr) == ["seeknal: production (branch main)"]
    assert current(small).split()[0] == "production"

    # SEEKNAL_ENV and --env beat the checkout
    monkeypatch.setenv("SEEKNAL_ENV", "dev")
    assert current(small).split()[0] == "dev"
    assert "SEEKNAL_ENV" in current(small)


def test_file_checkout_and_rebase_do_not_switch_the_env(small: Path) -> None:
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/r")
    commit_files(small, {"notes/a.txt": "a\n"}, "on the branch")
    run_git(small, "checkout", "-q", "main")
    commit_files(small, {"notes/b.txt": "b\n"}, "on main")
    run_git(small, "checkout", "-q", "feature/r")
    # a sentinel entry: any switch would overwrite it
    sentinel = {".": {"at": "sentinel", "branch": "feature/r", "env": "sentinel-env"}}
    switch_file(small).write_text(json.dumps(sentinel))
    assert current(small).split()[0] == "sentinel-env"

    (small / "seeknal_project.yml").write_text("changed: yes\n")
    done = run_git(small, "checkout", "--", "seeknal_project.yml")
    assert seeknal_lines(done.stderr) == []
    assert json.loads(switch_file(small).read_text()) == sentinel

    done = run_git(small, "rebase", "main")
    assert "seeknal: env" not in done.stderr and "seeknal: production" not in done.stderr
    assert json.loads(switch_file(small).read_text()) == sentinel
    assert git(small, "branch", "--show-current").strip() == "feature/r"
    assert (small / "notes" / "b.txt").exists()  # the rebase did happen
    assert current(small).split()[0] == "sentinel-env"


@pytest.mark.parametrize(
    "broken",
    [
        {"seeknal_project.yml": "name: [unclosed\n"},
        {"seeknal/transforms/adults.yml": BROKEN_NODE},
    ],
    ids=["project-file", "node-yaml"],
)
def test_broken_project_never_fails_a_checkout(small: Path, broken: dict[str, str]) -> None:
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/broken")
    commit_files(small, broken, "break it")
    done = run_git(small, "checkout", "main")
    assert done.exit_code == 0
    assert len(seeknal_lines(done.stderr)) == 1, done.stderr
    done = run_git(small, "checkout", "feature/broken")
    assert done.exit_code == 0
    lines = seeknal_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    if "seeknal_project.yml" in broken:
        assert "post-checkout hook skipped" in lines[0] and "seeknal_project.yml" in lines[0]
    assert git(small, "branch", "--show-current").strip() == "feature/broken"


def test_missing_seeknal_executable_warns_once(small: Path) -> None:
    install_hooks(small)
    shim = small / ".git" / "hooks" / "post-checkout"
    text = shim.read_text()
    assert "seeknal_bin='/" in text  # the absolute path recorded at install
    gone = {"seeknal_bin": "/nonexistent/bin/seeknal", "seeknal_python": "/nonexistent/python"}
    lines = [
        f"{line.split('=')[0]}='{gone[line.split('=')[0]]}'" if line.split("=")[0] in gone else line
        for line in text.splitlines()
    ]
    shim.write_text("\n".join(lines) + "\n")
    done = run_git(small, "checkout", "-b", "feature/nobin", with_seeknal=False)
    assert done.exit_code == 0
    lines = seeknal_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert "executable not found" in lines[0]
    assert git(small, "branch", "--show-current").strip() == "feature/nobin"


def test_hook_shim_finds_seeknal_on_path_when_recorded_binary_moved(small: Path) -> None:
    install_hooks(small)
    shim = small / ".git" / "hooks" / "post-checkout"
    lines = [
        "seeknal_bin='/nonexistent/bin/seeknal'" if line.startswith("seeknal_bin=") else line
        for line in shim.read_text().splitlines()
    ]
    shim.write_text("\n".join(lines) + "\n")
    done = run_git(small, "checkout", "-b", "feature/onpath")
    assert "seeknal: env feature-onpath" in done.stderr


# -- worktrees ------------------------------------------------------------------------------------
def test_worktrees_share_hooks_and_keep_their_own_active_env(small: Path) -> None:
    install_hooks(small)
    wt = small.parent / "wt"
    done = run_git(small, "worktree", "add", str(wt), "-b", "feature/wt")
    assert "seeknal: env feature-wt" in done.stderr  # hooks of the common dir fire there
    assert not (wt / ".git" / "hooks").exists()  # .git is a file in a worktree
    assert current(wt).split()[0] == "feature-wt"
    assert current(small).split()[0] == "production"

    done = run_git(wt, "checkout", "-b", "feature/wt2")
    assert "seeknal: env feature-wt2" in done.stderr
    assert current(wt).split()[0] == "feature-wt2"
    assert current(small).split()[0] == "production"

    done = run_git(small, "checkout", "-b", "feature/main-side")
    assert "seeknal: env feature-main-side" in done.stderr
    assert current(small).split()[0] == "feature-main-side"
    assert current(wt).split()[0] == "feature-wt2"


# -- the hook path stays light --------------------------------------------------------------------
def post_checkout_modules(root: Path) -> tuple[set[str], str]:
    """Run the installed post-checkout shim's own Python program, as the shim starts it (its
    recorded python with -I -S): the modules it loaded, its stderr."""
    shim = (root / ".git" / "hooks" / "post-checkout").read_text()
    recorded = dict(line.split("=", 1) for line in shim.splitlines() if line.startswith("seeknal_"))
    program = shim.split("-c '", 1)[1].split('\' "$seeknal_home"', 1)[0]
    call = "\n    sys.exit(main(sys.argv[1:]))\n"  # inside the shim's Ctrl-C handling
    assert call in program, program
    program = program.replace(
        call,
        "\n    code = main(sys.argv[1:])\n    print('\\n'.join(sorted(sys.modules)))\n"
        "    sys.exit(code)\n",
    )
    head = git(root, "rev-parse", "HEAD").strip()
    python, home = (recorded[key].strip("'") for key in ("seeknal_python", "seeknal_home"))
    proc = subprocess.run(
        [python, "-I", "-S", "-c", program, home, ZERO, head, "1"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env=git_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split()), proc.stderr


# what the post-checkout process never imports: the heavy libraries, and what the standard
# library's pathlib, json (re, enum), typing and dataclasses would add to every checkout
NOT_ON_CHECKOUT = (
    *("duckdb", "networkx", "jinja2", "pygit2", "typer", "sqlglot", "psycopg", "pyiceberg"),
    *("pyarrow", "yaml", "pathlib", "json", "re", "enum", "typing", "dataclasses", "site"),
)


def assert_light(modules: set[str], *heavy: str) -> None:
    assert "seeknal.git.checkout" in modules
    for name in (*NOT_ON_CHECKOUT, *heavy):
        assert name not in modules, name
        assert not any(m.startswith(name + ".") for m in modules), name


def test_post_checkout_hook_imports_nothing_heavy(small: Path) -> None:
    install_hooks(small)
    assert cli(small, "run").exit_code == 0  # target/ exists: the settings are remembered
    # hooks fire here too (PATH may lack seeknal)
    git(small, "checkout", "-q", "-b", "feature/light")
    assert (small / "target" / ".seeknal-cache" / "settings.json").is_file()
    switch_file(small).unlink(missing_ok=True)
    modules, stderr = post_checkout_modules(small)
    assert "seeknal: env feature-light" in stderr
    assert_light(modules)
    assert json.loads(switch_file(small).read_text())["."]["env"] == "feature-light"


def test_post_checkout_status_of_an_applied_env_reads_no_state_records(small: Path) -> None:
    """The env line's status comes from the env's JSON files read as plain data: loading the
    state records would import dataclasses (and inspect), about 25 ms on every checkout."""
    install_hooks(small)
    git(small, "checkout", "-q", "-b", "feature/light")
    assert cli(small, "plan", "feature-light").exit_code == 0
    assert cli(small, "run", "--env", "feature-light").exit_code == 0
    modules, stderr = post_checkout_modules(small)
    assert "seeknal: env feature-light (applied)" in stderr
    assert_light(modules, "dataclasses", "seeknal.state.records")


def test_hook_entry_rejects_unknown_hooks(small: Path) -> None:
    res = seeknal_cmd(small, "hook", "pre-commit")
    assert res.exit_code == 2
    assert "post-checkout" in res.stderr


def test_ctrl_c_during_post_checkout_is_one_line_not_a_traceback(small: Path) -> None:
    """git runs post-checkout in the foreground: a Ctrl-C while it records the switch reaches
    the hook's Python, which printed a traceback. The switch is written whole or not at all."""
    install_hooks(small)
    git(small, "branch", "feature")
    pause = {"SEEKNAL_FAILPOINT": "checkout.switch", "SEEKNAL_FAILPOINT_MODE": "pause"}
    proc = subprocess.Popen(
        ["git", "checkout", "-q", "feature"],
        cwd=small,
        env={**os.environ, **pause},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("failpoint checkout.switch: paused"):
            break
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches git and its hook alike
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "Traceback" not in err, err
    assert "seeknal: post-checkout stopped (Ctrl-C)" in err, err
    assert git(small, "branch", "--show-current").strip() == "feature"
