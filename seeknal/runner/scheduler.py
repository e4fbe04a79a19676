"""Run a set of nodes in dependency order, sequentially or on a pool of workers.

A failed node skips everything downstream of it; independent branches go on.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any

from seeknal.digest import written_digest
from seeknal.errors import ExecutionError, SeeknalError
from seeknal.runner.interrupts import Stopped, Trap, trapped
from seeknal.types import Node, NodeStatus, Output, OutputKind, Project

if TYPE_CHECKING:
    from concurrent.futures import Future

    from seeknal.engine.base import Engine


@dataclass
class NodeRun:
    node_id: str
    status: NodeStatus
    reason: str = ""
    duration_ms: int = 0
    row_count: int | None = None
    output: Output | None = None
    output_digest: str | None = None
    error: str | None = None
    hint: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunRequest:
    project: Project
    to_run: list[str]  # in dependency order
    reasons: dict[str, str]
    output_for: Callable[[Node], Output]
    resolve_input: Callable[[str], Output]  # outputs of nodes that do not run now
    parallel: bool = False
    max_workers: int = 4
    on_done: Callable[[NodeRun], None] | None = None
    on_node_start: Callable[[str], None] | None = None  # a node starts executing
    digest_memo: MutableMapping[str, Any] | None = None

    @property
    def workers(self) -> int:
        """How many nodes run at once."""
        return max(1, self.max_workers) if self.parallel else 1


def execute(request: RunRequest, engine: Engine) -> dict[str, NodeRun]:
    """Run `request.to_run` on `engine`; the caller owns the engine (and closes it).

    Ctrl-C raises `Stopped` with the nodes that finished before it: a node it cut short counts
    as not run (its output was never renamed into place)."""
    run = _Run(request, engine)
    with trapped(engine.interrupt) as trap:
        try:
            if request.workers <= 1:
                _execute_sequential(run, trap)
            else:
                _execute_parallel(run, trap)
        except KeyboardInterrupt:
            trap.hit = True
        except Exception:
            if not trap.hit:
                raise  # a failure of its own, not a query the engine abandoned for Ctrl-C
        finally:
            if run.digests.wait():
                trap.hit = True
    if trap.hit:
        raise Stopped(run.results)
    return run.results


def _execute_sequential(run: _Run, trap: Trap) -> None:
    for node_id in run.request.to_run:
        if trap.hit:
            return
        up = run.blocked_by(node_id)
        if up:
            run.finish(NodeRun(node_id, NodeStatus.SKIPPED, f"upstream {up} did not succeed"))
            continue
        result = run.run_one(node_id)
        if trap.hit and result.status is not NodeStatus.SUCCESS:
            return  # failed because Ctrl-C interrupted its query
        run.finish(result)


_STOPPED = (NodeStatus.FAILED, NodeStatus.SKIPPED)


class _Run:
    """The nodes of one request run so far, and how one more node runs."""

    def __init__(self, request: RunRequest, engine: Engine) -> None:
        self.request = request
        self.engine = engine
        self.results: dict[str, NodeRun] = {}
        self.running = set(request.to_run)
        memo = request.digest_memo
        self.digests = _Digests(memo if memo is not None else {})

    def finish(self, run: NodeRun) -> None:
        self.results[run.node_id] = run
        if self.request.on_done:
            self.request.on_done(run)

    def blocked_by(self, node_id: str) -> str | None:
        for up in self.request.project.nodes[node_id].inputs:
            if up in self.running and self.results[up].status in _STOPPED:
                return up
        return None

    def inputs(self, node: Node) -> dict[str, Output]:
        inputs = {}
        for up in node.inputs:
            if up in self.running:  # ran now: its output was just put in place, or it failed
                output = self.results[up].output
                if output is not None:
                    inputs[up] = output
                    continue
            else:
                output = self.request.resolve_input(up)
            if output is None or not self.engine.exists(output):
                raise ExecutionError(
                    f"{node.id}: upstream {up} has no output to read.",
                    f"Run it first: seeknal run --nodes {up}",
                )
            inputs[up] = output
        return inputs

    def run_one(self, node_id: str) -> NodeRun:
        node = self.request.project.nodes[node_id]
        started = time.perf_counter()
        reason = self.request.reasons.get(node_id, "")
        if self.request.on_node_start:
            self.request.on_node_start(node_id)
        try:
            inputs = self.inputs(node)
            output = self.request.output_for(node)
            result = self.engine.materialize(node, inputs, output)
            memo = self.request.digest_memo
            later = memo is not None and output.kind is OutputKind.FILE
            done = NodeRun(
                node_id,
                NodeStatus.SUCCESS,
                reason,
                _ms(started),
                result.row_count,
                output,
                None if later else self.engine.digest(output, memo),
                warnings=result.warnings,
            )
            if later:
                self.digests.add(done)
            return done
        except SeeknalError as exc:
            return NodeRun(
                node_id, NodeStatus.FAILED, reason, _ms(started), error=exc.message, hint=exc.hint
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


def _execute_parallel(run: _Run, trap: Trap) -> None:
    from concurrent.futures import ThreadPoolExecutor

    request = run.request
    ready = _Ready(run)
    pending: dict[Future[NodeRun], str] = {}
    # finished nodes, in the order they finish: one wake-up of this thread per node, however
    # many nodes wait in the pool (`wait()` would visit every pending future each time)
    finished: SimpleQueue[Future[NodeRun]] = SimpleQueue()
    pool = ThreadPoolExecutor(max_workers=request.max_workers)
    try:
        while (ready or pending) and not trap.hit:
            while ready:
                node_id = ready.pop()
                up = run.blocked_by(node_id)
                if up:
                    run.finish(
                        NodeRun(node_id, NodeStatus.SKIPPED, f"upstream {up} did not succeed")
                    )
                    ready.release(node_id)
                else:
                    future = pool.submit(run.run_one, node_id)
                    pending[future] = node_id
                    future.add_done_callback(finished.put)
            if not pending:
                break
            future = finished.get()
            node_id = pending.pop(future)
            result = future.result()
            if trap.hit and result.status is not NodeStatus.SUCCESS:
                continue  # failed because Ctrl-C interrupted its query
            run.finish(result)
            ready.release(node_id)
    except KeyboardInterrupt:
        trap.hit = True
    finally:
        if trap.hit:
            run.engine.interrupt()  # the queries of the other workers stop too
        pool.shutdown(wait=True, cancel_futures=True)
    if trap.hit:
        _keep_finished(run, list(pending))


class _Ready:
    """The nodes whose inputs are all done, first in run order. Each finished node counts down
    its own downstream nodes only: the main thread holds the GIL the workers need, so it does
    not scan every waiting node after every finished one."""

    def __init__(self, run: _Run) -> None:
        nodes, to_run = run.request.project.nodes, run.request.to_run
        self.order = {node_id: index for index, node_id in enumerate(to_run)}
        self.waiting: dict[str, int] = {}
        self.below: dict[str, list[str]] = {node_id: [] for node_id in to_run}
        for node_id in to_run:
            ups = {up for up in nodes[node_id].inputs if up in run.running}
            self.waiting[node_id] = len(ups)
            for up in ups:
                self.below[up].append(node_id)
        self.heap = [(self.order[n], n) for n, count in self.waiting.items() if count == 0]
        heapq.heapify(self.heap)

    def __bool__(self) -> bool:
        return bool(self.heap)

    def pop(self) -> str:
        return heapq.heappop(self.heap)[1]

    def release(self, node_id: str) -> None:
        for down in self.below[node_id]:
            self.waiting[down] -= 1
            if self.waiting[down] == 0:
                heapq.heappush(self.heap, (self.order[down], down))


def _keep_finished(run: _Run, pending: Iterable[Future[NodeRun]]) -> None:
    """After Ctrl-C: the nodes that still succeeded while the others were interrupted."""
    for future in pending:
        if future.cancelled() or future.exception() is not None:
            continue
        result = future.result()
        if result.status is NodeStatus.SUCCESS:
            run.finish(result)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


class _Digests:
    """The digests of the files this run put in place, taken on a thread of their own while
    the next node's query runs (DuckDB lets go of the GIL, hashlib too for all but small
    reads). Each is memoised at once: a file this run just renamed into place under the lock
    cannot change meanwhile, so promote and the next run check it without reading it again."""

    def __init__(self, memo: MutableMapping[str, Any]) -> None:
        self.memo = memo
        self.queue: SimpleQueue[NodeRun | None] = SimpleQueue()
        self.thread: threading.Thread | None = None

    def add(self, run: NodeRun) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._take, name="seeknal-digests")
            self.thread.daemon = True
            self.thread.start()
        self.queue.put(run)

    def wait(self) -> bool:
        """Every digest added so far is taken; whether Ctrl-C came meanwhile."""
        stopped = False
        if self.thread is not None:
            self.queue.put(None)
            while self.thread.is_alive():
                try:
                    self.thread.join()
                except KeyboardInterrupt:
                    stopped = True  # the digests of what finished are taken all the same
            self.thread = None
        return stopped

    def _take(self) -> None:
        while (run := self.queue.get()) is not None:
            assert run.output is not None
            try:
                run.output_digest = written_digest(run.output.location, self.memo)
            except OSError as exc:
                run.status = NodeStatus.FAILED
                run.error = f"{run.node_id}: could not read its output back: {exc}"
                run.hint = "Check that nothing else writes under target/, then run again."
