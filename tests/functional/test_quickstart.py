"""docs/quickstart.md, run as written: every command of its `bash` blocks and every `$ ` line of
its `text` blocks runs, in order, in one shell in a fresh folder (a real git repository, the
installed `seeknal`), must exit 0, and must print the output lines the page shows (numbers,
dates, ids and temporary paths aside). The page cannot drift from the tool."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
# install steps: the test already runs the installed package
SKIPPED = ("pip install",)


@dataclass(frozen=True)
class Step:
    command: str
    expected: tuple[str, ...]  # output lines the page shows


def steps(markdown: str) -> list[Step]:
    found: list[Step] = []
    for lang, body in FENCE.findall(markdown):
        if lang == "bash":
            for line in body.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append(Step(line, ()))
        elif lang == "text":
            found.extend(_text_steps(body))
    return [s for s in found if not s.command.startswith(SKIPPED)]


def _text_steps(body: str) -> list[Step]:
    found: list[Step] = []
    command: str | None = None
    expected: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                found.append(Step(command, tuple(expected)))
            command, expected = line[2:], []
        elif command is not None and line.strip() and line.strip() != "...":
            expected.append(line)
    if command is not None:
        found.append(Step(command, tuple(expected)))
    return found


def normal(line: str) -> str:
    """A line without what differs from one machine or run to the next."""
    line = re.sub(r"/\S*seeknal-demo-\S+", "PATH", line)
    line = re.sub(r"\b[0-9a-f]{8,}\b", "ID", line)
    line = re.sub(r"\d+(\.\d+)?", "N", line)
    line = re.sub(r"\bN (row|rows)\b", "N ROWS", line)  # "1 row" / "120 rows"
    return " ".join(line.split())


def run_page(steps_: list[Step], workdir: Path) -> list[tuple[Step, int, str]]:
    """All steps in one bash (so `cd` carries over), each output framed by markers."""
    script = []
    for i, step in enumerate(steps_):
        script.append(f"echo '@@start {i}'\n{step.command} 2>&1\necho \"@@rc {i} $?\"")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TMPDIR": str(workdir),
        "HOME": str(workdir),
        "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "Quick Start",
        "GIT_AUTHOR_EMAIL": "qs@example.com",
        "GIT_COMMITTER_NAME": "Quick Start",
        "GIT_COMMITTER_EMAIL": "qs@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    for key in ("SEEKNAL_ENV", "SEEKNAL_DEBUG", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(key, None)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = []
    chunks = re.split(r"^@@start (\d+)\n", done.stdout, flags=re.M)[1:]
    for index, chunk in zip(chunks[::2], chunks[1::2], strict=True):
        body, _, tail = chunk.rpartition(f"@@rc {index} ")
        results.append((steps_[int(index)], int(tail.split()[0]), body))
    assert len(results) == len(steps_), done.stdout + done.stderr
    return results


def test_steps_are_found() -> None:
    found = steps(QUICKSTART.read_text())
    commands = [s.command for s in found]
    assert (
        "seeknal init --example shop      # writes the project; refuses a folder that already has one"
        in commands
    )
    assert any(c.startswith("git commit") for c in commands)
    assert "git checkout data/orders.csv" in commands
    assert "seeknal promote dev" in commands
    assert len(found) > 20


def counts(line: str) -> list[str]:
    """The numbers of a line that are the same on every machine: counts of files, rows and
    outputs (durations, times, dates, ids and paths left out)."""
    line = re.sub(r"/\S*seeknal-demo-\S+", "PATH", line)
    line = re.sub(r"\b[0-9a-f]{8,}\b", "ID", line)
    line = re.sub(r"\d{4}-\d\d-\d\d\S*", "TIME", line)
    line = re.sub(r"\d+(\.\d+)?\s*(ms|s)\b", "DURATION", line)
    return re.findall(r"\d+", line)


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    results = run_page(steps(QUICKSTART.read_text()), tmp_path)
    for step, code, output in results:
        assert code == 0, f"`{step.command}` exited {code}:\n{output}"
        printed = [(normal(line), counts(line)) for line in output.splitlines()]
        for line in step.expected:
            want = normal(line)
            assert any(want in got for got, _ in printed), (
                f"`{step.command}` did not print {line!r}; it printed:\n{output}"
            )
            if step.command == "seeknal demo":  # its counts are the same on every machine
                assert any(want in got and counts(line) == n for got, n in printed), (
                    f"`seeknal demo` printed other numbers than {line!r}:\n{output}"
                )
