"""Where a Python node's function runs (docs/concepts.md, "Python nodes").

In seeknal's own process when every package the file's `# /// script` block lists is installed
here; else in an isolated `uv run` when uv is on PATH (uv installs them; data goes in and out as
parquet files); else an error naming the missing packages and both ways out.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from seeknal.engine import python_child
from seeknal.errors import ExecutionError
from seeknal.project.python_code import requirement_names
from seeknal.types import Node, PythonCode

PROVIDED = frozenset({"seeknal"})  # seeknal.pipeline is seeknal's own, in both ways


def run_python(node: Node, inputs: dict[str, Path], output: Path, root: Path) -> None:
    """Run `node`'s function on `inputs` (node id -> data file); its rows go to `output`."""
    code = node.python
    if code is None:
        raise ExecutionError(f"{node.id} ({node.file_path}) is not a Python node.")
    missing = missing_packages(code)
    uv = shutil.which("uv") if missing else None
    if missing and uv is None:
        raise _missing_error(node, missing)
    with tempfile.TemporaryDirectory(prefix="seeknal-python-") as scratch:
        folder = Path(scratch)
        code_file = folder / Path(node.file_path).name
        code_file.write_text(code.code, encoding="utf-8")
        job: dict[str, Any] = {
            "code": str(code_file),
            "path": node.file_path,
            "function": code.function,
            "node": node.id,
            "inputs": {k: str(v) for k, v in inputs.items()},
            "output": str(output),
            "pandas": code.pandas,
            "params": node.config.get("params") or {},
            "project": str(root),
        }
        if uv is None:
            try:
                python_child.run_job(job)
            except python_child.NodeFailure as exc:
                raise _failed(node, str(exc)) from None
            except Exception as exc:  # writing what it returned failed
                raise _failed(node, python_child.describe(exc, node.file_path)) from None
        else:
            _run_uv(uv, node, code, job, folder, root)


def required(code: PythonCode) -> list[str]:
    """The packages the node needs: its file's dependencies, and pandas when it uses pandas."""
    needed = [r for r in code.dependencies if requirement_names([r])[:1] != ["seeknal"]]
    names = requirement_names(needed)
    if code.pandas and "pandas" not in names:
        needed.append("pandas")
    return needed


def missing_packages(code: PythonCode) -> list[str]:
    """The requirements this interpreter does not satisfy (a version is checked when the
    `packaging` library is there to read it)."""
    missing = [r for r in required(code) if not _installed(r)]
    if code.requires_python and not _satisfies(
        code.requires_python, ".".join(map(str, sys.version_info[:3]))
    ):
        missing.append(f"python{code.requires_python}")
    return missing


def _installed(requirement: str) -> bool:
    names = requirement_names([requirement])
    if not names:
        return False
    try:
        version = importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return True
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return True
    if parsed.marker is not None and not parsed.marker.evaluate():
        return True
    return parsed.specifier.contains(version, prereleases=True)


def _satisfies(specifier: str, version: str) -> bool:
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:
        return True
    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


def _missing_error(node: Node, missing: list[str]) -> ExecutionError:
    shown = " ".join(f"'{m}'" if any(c in m for c in "<>=!~; ") else m for m in missing)
    return ExecutionError(
        f"{node.id} ({node.file_path}) needs packages that are not installed here: "
        f"{', '.join(missing)}.",
        f"Install them where seeknal runs (pip install {shown}), or put uv on "
        "PATH (pip install uv, in an active venv) so that seeknal runs the node in an isolated "
        "environment with them",
    )


def _failed(node: Node, message: str) -> ExecutionError:
    return ExecutionError(
        f"{node.id} ({node.file_path}) failed: {message}",
        f"Fix the function in {node.file_path}, then run it again: seeknal run --nodes {node.id}",
    )


def _run_uv(
    uv: str, node: Node, code: PythonCode, job: dict[str, Any], folder: Path, root: Path
) -> None:
    """The job in `uv run`: a script whose `# /// script` block lists the node's packages
    (and duckdb, which ctx.duckdb is), with seeknal.pipeline importable from `folder`."""
    shim = folder / "shim" / "seeknal"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("", encoding="utf-8")
    pipeline = Path(__file__).resolve().parent.parent / "pipeline.py"
    shutil.copyfile(pipeline, shim / "pipeline.py")
    needed = required(code)
    if "duckdb" not in requirement_names(needed):
        needed.append("duckdb")
    header = ["# /// script"]
    if code.requires_python:
        header.append(f"# requires-python = {json.dumps(code.requires_python)}")
    header.append(f"# dependencies = {json.dumps(needed)}")
    header.append("# ///")
    runner = folder / "run_node.py"
    child = Path(python_child.__file__).read_text(encoding="utf-8")
    runner.write_text("\n".join(header) + "\n" + child, encoding="utf-8")
    job_file = folder / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(folder / "shim")}
    done = subprocess.run(  # noqa: S603 - uv found on PATH, arguments are our own files
        [uv, "run", "--no-project", "--quiet", "--script", str(runner), str(job_file)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return
    marked = [ln for ln in done.stderr.splitlines() if ln.startswith(python_child.FAILED)]
    if marked:
        raise _failed(node, marked[-1][len(python_child.FAILED) :])
    tail = " ".join(done.stderr.strip().splitlines()[-3:]) or f"exit code {done.returncode}"
    raise ExecutionError(
        f"{node.id} ({node.file_path}): uv could not run it: {tail}",
        f"Check the '# /// script' dependencies of {node.file_path} ({', '.join(needed)}) "
        "and that uv can reach its package index",
    )
