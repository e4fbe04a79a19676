"""Run a set of nodes in dependency order, sequentially or on a pool of workers.

A failed node skips everything downstream of it; independent branches go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeknal.digest import file_digest
from seeknal.errors import ExecutionError, SeeknalError
from seeknal.types import Node, NodeStatus, Project


@dataclass
class NodeRun:
    node_id: str
    status: NodeStatus
    reason: str = ""
    duration_ms: int = 0
    row_count: int | None = None
    output_path: Path | None = None
    output_digest: str | None = None
    error: str | None = None
    hint: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunRequest:
    project: Project
    to_run: list[str]  # in dependency order
    reasons: dict[str, str]
    output_for: Callable[[Node], Path]
    resolve_input: Callable[[str], Path]  # outputs of nodes that do not run now
    parallel: bool = False
    max_workers: int = 4
    on_done: Callable[[NodeRun], None] | None = None
    digest_memo: MutableMapping[str, Any] | None = None


def execute(request: RunRequest) -> dict[str, NodeRun]:
    from seeknal.engine.duckdb import DuckDBEngine  # duckdb only when something runs

    project = request.project
    engine = DuckDBEngine(Path(project.root))
    results: dict[str, NodeRun] = {}
    running = set(request.to_run)

    def finish(run: NodeRun) -> None:
        results[run.node_id] = run
        if request.on_done:
            request.on_done(run)

    def blocked_by(node_id: str) -> str | None:
        for up in project.nodes[node_id].inputs:
            if up in running and results[up].status in (NodeStatus.FAILED, NodeStatus.SKIPPED):
                return up
        return None

    def run_one(node_id: str) -> NodeRun:
        node = project.nodes[node_id]
        started = time.perf_counter()
        reason = request.reasons.get(node_id, "")
        try:
            inputs = {}
            for up in node.inputs:
                path = results[up].output_path if up in running else request.resolve_input(up)
                if path is None or not path.exists():
                    raise ExecutionError(
                        f"{node_id}: upstream {up} has no output to read.",
                        f"Run it first: seeknal run --nodes {up}",
                    )
                inputs[up] = path
            output = request.output_for(node)
            result = engine.execute(node, inputs, output)
            digest = file_digest(output, request.digest_memo)
            return NodeRun(
                node_id,
                NodeStatus.SUCCESS,
                reason,
                _ms(started),
                result.row_count,
                output,
                digest,
                warnings=result.warnings,
            )
        except SeeknalError as exc:
            return NodeRun(
                node_id,
                NodeStatus.FAILED,
                reason,
                _ms(started),
                error=exc.message,
                hint=exc.hint,
            )
        except OSError as exc:
            return NodeRun(
                node_id,
                NodeStatus.FAILED,
                reason,
                _ms(started),
                error=f"{node_id}: could not write its output: {exc}",
                hint="Check free disk space and permissions under target/, then run again.",
            )

    try:
        if not request.parallel or request.max_workers <= 1:
            for node_id in request.to_run:
                up = blocked_by(node_id)
                if up:
                    finish(NodeRun(node_id, NodeStatus.SKIPPED, f"upstream {up} did not succeed"))
                else:
                    finish(run_one(node_id))
        else:
            _execute_parallel(request, running, results, run_one, finish, blocked_by)
    finally:
        engine.close()
    return results


def _execute_parallel(
    request: RunRequest,
    running: set[str],
    results: dict[str, NodeRun],
    run_one: Callable[[str], NodeRun],
    finish: Callable[[NodeRun], None],
    blocked_by: Callable[[str], str | None],
) -> None:
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    project = request.project
    waiting = {
        nid: {up for up in project.nodes[nid].inputs if up in running} for nid in request.to_run
    }
    order = {nid: i for i, nid in enumerate(request.to_run)}
    pending: dict[Future[NodeRun], str] = {}
    with ThreadPoolExecutor(max_workers=request.max_workers) as pool:
        while waiting or pending:
            ready = sorted((n for n, ups in waiting.items() if not ups), key=order.__getitem__)
            for node_id in ready:
                del waiting[node_id]
                up = blocked_by(node_id)
                if up:
                    finish(NodeRun(node_id, NodeStatus.SKIPPED, f"upstream {up} did not succeed"))
                    _release(waiting, node_id)
                else:
                    pending[pool.submit(run_one, node_id)] = node_id
            if ready and not pending:
                continue
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                node_id = pending.pop(future)
                finish(future.result())
                _release(waiting, node_id)


def _release(waiting: dict[str, set[str]], node_id: str) -> None:
    for ups in waiting.values():
        ups.discard(node_id)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
