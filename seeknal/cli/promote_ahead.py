"""What `seeknal promote ENV` reads first, read by a forked copy while the command imports
(seeknal/forked.py says where forking is done): the env's run state (`read_env_outputs`, ~15 ms
at 10,000 nodes) and the signature of the project's files for the staleness check
(`project_signature`, ~30 ms of stats). The command takes each answer once; without one it reads
for itself. Standard library and light modules only: this runs before promote's imports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seeknal import forked
from seeknal.digest import RACY_SECONDS
from seeknal.errors import SeeknalError
from seeknal.project.files import find_root, project_signature


def read_ahead(start: Path, env: str) -> None:
    try:
        root = find_root(start)
    except SeeknalError:
        return  # the command says so itself
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_env_outputs, (str(root), env)),  # needed first
        (project_signature, (str(root), time.time() - RACY_SECONDS)),
    ]
    answers = forked.Answers.start(calls)
    if answers is not None:
        forked.expect(f"env-outputs:{root}:{env}", answers, 0)
        forked.expect(f"signature:{root}", answers, 1)


def _env_outputs(root: str, env: str) -> object:
    from seeknal.state.layout import Target
    from seeknal.state.store import env_outputs_seen

    return env_outputs_seen(Target(Path(root), env))
