"""A reader that goes away (`seeknal run 2>&1 | head -3`) never stops a run halfway: the
outputs and the state that records them are written, and the next run has nothing to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import cli


def test_a_run_whose_reader_went_away_finishes(example: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeknal", "run"],
        cwd=example,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    proc.stdout.read(80)  # like `head`: a few lines, then the pipe is closed
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert (example / "target" / "run_state.json").is_file()
    assert (example / "target" / "manifest.json").is_file()
    res = cli(example, "plan")
    assert res.exit_code == 0, res.output
    assert "0 node(s) to run" in res.stdout or "Nothing to run" in res.stdout, res.stdout
