"""The built wheel works on its own: reports render from the templates inside the installed
package (seeknal/templates), and `seeknal hooks install` writes the shims shipped in it
(seeknal/_hooks).

The wheel is built from this checkout and installed with `pip install --no-deps --target`; every
command then runs in a subprocess whose import path starts with that folder, never the source
tree (checked).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from reportkit import (
    ADDED_FILE,
    ADDED_NODE,
    EXAMPLE_EDITS,
    FORMATS,
    GOLDEN,
    REMOVED_FILE,
    SUFFIX,
    isolated_git,
    mask,
)

SOURCE = Path(__file__).resolve().parents[2]
TEMPLATES = ("plan.txt.j2", "plan.md.j2", "plan.html.j2")


def pip(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("wheel")
    dist, site = folder / "dist", folder / "site"
    # hatchling from this environment when it is there (fast, offline); else an isolated build
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    pip("wheel", "--no-deps", *isolation, "-w", str(dist), str(SOURCE))
    (wheel,) = dist.glob("seeknal-*.whl")
    pip("install", "--no-deps", "--no-compile", "--target", str(site), str(wheel))
    return {"folder": folder, "site": site, "wheel": wheel}


def site_env(installed: dict[str, Any]) -> dict[str, str]:
    """This process's environment (isolated git config included), importing from the install."""
    return {**os.environ, "PYTHONPATH": str(installed["site"])}


def run(installed: dict[str, Any], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script (bin/seeknal), importing seeknal from the install folder."""
    proc = subprocess.run(
        [str(installed["site"] / "bin" / "seeknal"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=site_env(installed),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_the_installed_package_is_imported_with_its_templates(installed: dict[str, Any]) -> None:
    site = installed["site"].resolve()
    probe = "\n".join(
        [
            "import json, seeknal",
            "from seeknal.report import render",
            "env = render._environment(None)",
            "print(json.dumps({",
            "    'seeknal': seeknal.__file__,",
            "    'dirs': [str(p) for p in render.template_dirs()],",
            f"    'templates': {{n: env.get_template(n).filename for n in {TEMPLATES!r}}},",
            "}))",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=installed["folder"],
        capture_output=True,
        text=True,
        env=site_env(installed),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert Path(found["seeknal"]).resolve() == site / "seeknal" / "__init__.py"
    assert [Path(d).resolve() for d in found["dirs"]] == [site / "seeknal" / "templates"]
    for name, path in found["templates"].items():
        assert Path(path).resolve() == site / "seeknal" / "templates" / name
        # the wheel ships the repository's templates, byte for byte
        assert Path(path).read_bytes() == (SOURCE / "templates" / name).read_bytes()


def test_the_installed_cli_renders_all_formats_and_installs_hooks(
    installed: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    with isolated_git(tmp_path):
        git(root, "init", "-q", "-b", "main")
        # the example project shipped in the wheel, through the installed CLI
        run(installed, tmp_path, "init", "--example", str(root))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "example")
        run(installed, root, "run")
        git(root, "checkout", "-q", "-b", "feature/report-golden")
        for rel, (old, new) in EXAMPLE_EDITS.items():
            path = root / rel
            path.write_text(path.read_text().replace(old, new))
        (root / REMOVED_FILE).unlink()
        (root / ADDED_FILE).write_text(
            ADDED_NODE.format(description='"Net revenue per product category."')
        )
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "report edits")
        run(installed, root, "plan", "dev")
        for fmt in FORMATS:
            out = tmp_path / f"plan.{SUFFIX[fmt]}"
            run(installed, root, "report", "dev", "--format", fmt, "--output", str(out))
            # the same report as the source tree renders (tests/golden, see test_reports_golden)
            golden = GOLDEN / f"example_plan.{SUFFIX[fmt]}"
            assert mask(out.read_text(encoding="utf-8"), root) == golden.read_text(), fmt

        proc = run(installed, root, "hooks", "install")
        assert "Hooks installed in" in proc.stdout
    binary = installed["site"] / "bin" / "seeknal"
    for hook in ("pre-push", "post-merge", "post-checkout", "post-commit"):
        shim = root / ".git" / "hooks" / hook
        text = shim.read_text()
        assert "seeknal-hook-shim" in text, hook
        assert f"seeknal_bin='{binary.resolve()}'" in text, text
        # copied from the shims inside the wheel, which are the repository's hooks/ files
        shipped = installed["site"] / "seeknal" / "_hooks" / hook
        assert shipped.read_bytes() == (SOURCE / "hooks" / hook).read_bytes(), hook
        recorded = f"seeknal_bin='{binary.resolve()}'"
        expected = shipped.read_text().replace("seeknal_bin=''", recorded)
        if hook == "post-checkout":  # started directly: the Python that ran install, the install
            python = f"seeknal_python='{sys.executable}'"
            home = f"seeknal_home='{installed['site'].resolve()}'"
            expected = expected.replace("seeknal_python=''", python)
            expected = expected.replace("seeknal_home=''", home)
        assert text == expected, hook
        assert os.access(shim, os.X_OK), hook
        check = subprocess.run(["sh", "-n", str(shim)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    # and git runs them: post-checkout names the env of the new branch
    with isolated_git(tmp_path):
        proc = subprocess.run(
            ["git", "checkout", "-b", "feature/other"],
            cwd=root,
            capture_output=True,
            text=True,
            env=site_env(installed),
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert "seeknal: env feature-other" in proc.stderr, proc.stderr
