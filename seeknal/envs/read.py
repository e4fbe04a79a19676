"""Reading an env's data with SQL: `seeknal query`, `seeknal repl` and the pytest fixture.

Every node is read as the env sees it (envs/resolve.py): the env's own output when it computed
the node, else production's. Nothing here takes the lock or writes under target/, so a query
can run next to any other command and leaves no trace.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from seeknal.context import Context
from seeknal.engine import DEFAULT_ENGINE, create_engine
from seeknal.engine.base import Engine, QueryResult, Session
from seeknal.envs.resolve import EnvView, env_view, production_view
from seeknal.errors import EnvError, SeeknalError
from seeknal.sql.quote import ident
from seeknal.sql.refs import replace_refs, sql_refs
from seeknal.state import journal
from seeknal.state.records import Manifest, RunState
from seeknal.state.store import read_manifest, read_run_state
from seeknal.types import Output

_ENDED = {"failed": "failed", "skipped": "was skipped (a node it reads failed)"}


@dataclass(frozen=True)
class Readable:
    """What one env (or production, `env=None`) can be read for, and how."""

    ctx: Context
    env: str | None
    view: EnvView
    nodes: Mapping[str, str]  # id -> name of every node its manifest or run state holds
    no_output: Mapping[str, str]  # id -> status of a last run that left no output
    _planned: list[set[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def where(self) -> str:
        return "production" if self.env is None else f"env '{self.env}'"

    @property
    def compute(self) -> str:
        """The command that computes the outputs read here."""
        return "seeknal run" if self.env is None else f"seeknal run --env {self.env}"

    def output(self, engine: Engine, node_id: str) -> Output:
        """The output of `node_id` as seen here; a clear error when there is none to read."""
        if node_id not in self.nodes:
            raise self.unknown(node_id)
        status = self.no_output.get(node_id)
        if status:
            ended = _ENDED.get(status, f"ended '{status}'")
            raise EnvError(
                f"{node_id} has no output in {self.where}: its last run {ended}.",
                f"Fix it, then run '{self.compute}' to compute it.",
            )
        seen = self.view.resolve(node_id)
        if not engine.exists(seen.output):
            raise EnvError(
                f"The output of {node_id} in {self.where} is missing "
                f"({self.ctx.production.relative(seen.path)}).",
                f"Run '{self.compute}' to write it again.",
            )
        return seen.output

    def explain(self, exc: SeeknalError, node_ids: Iterable[str]) -> SeeknalError:
        """On the way out of a failed read: when one of the outputs read changed since seeknal
        wrote it (edited, truncated, replaced), that is the error, not DuckDB's complaint about
        the file. Digests are computed only here, never on a read that works."""
        for node_id in node_ids:
            try:
                self.view.check_intact(self.view.resolve(node_id))
            except EnvError as changed:
                return changed
            except SeeknalError:
                continue
        return exc

    def unknown(self, node_id: str) -> EnvError:
        """The error for a node this env does not describe, naming the closest one."""
        planned = self._project_ids()
        if node_id in planned:
            if self.env is None:
                return EnvError(
                    f"{node_id} has no output in production yet.",
                    "Run 'seeknal run' to compute it.",
                )
            return EnvError(
                f"{node_id} is not in env '{self.env}': the env was planned before it existed.",
                f"Run 'seeknal plan {self.env}', then '{self.compute}'.",
            )
        if not self.nodes and self.env is None:
            return EnvError("Production has no outputs yet.", "Run 'seeknal run' to compute them.")
        known = sorted({*self.nodes, *planned})
        named = [n for n in known if n.split(".", 1)[-1] == node_id]
        close = named or difflib.get_close_matches(node_id, known, n=1, cutoff=0.5)
        guess = f" (did you mean {close[0]}?)" if close else ""
        env = "" if self.env is None else f" --env {self.env}"
        return EnvError(
            f"No node {node_id} in {self.where}{guess}.",
            f"Refs name nodes as kind.name; 'seeknal repl{env} -e .tables' lists them.",
        )

    def _project_ids(self) -> set[str]:
        """Node ids of the project files as they are now (loaded once, only for errors)."""
        if not self._planned:
            try:
                self._planned.append(set(self.ctx.load().project.nodes))
            except SeeknalError:  # a project that does not load names no nodes
                self._planned.append(set())
        return self._planned[0]


def open_readable(ctx: Context, env: str | None) -> Readable:
    """Production (`env=None`) or an applied env, ready to be read; refuses any other env."""
    if journal.pending(ctx.production.base):
        raise EnvError(
            "A promotion is in progress or was interrupted: production's outputs are being "
            "replaced.",
            "Run the query again in a moment; if no seeknal command is running, "
            "'seeknal env list' finishes or undoes the promotion first.",
        )
    if env is None:
        state = read_run_state(ctx.production)
        manifest = read_manifest(ctx.production) or Manifest()
        view = production_view(ctx, state)
        return Readable(ctx, None, view, _names(manifest, state), _no_output(state, state.nodes))
    from seeknal.envs.access import require_env, require_manifest

    target, config, plan = require_env(ctx, env)
    if config.promoted_plan_id == plan.plan_id:
        raise EnvError(
            f"Environment '{env}' was promoted: its outputs are production's now.",
            f"Read production instead (without --env; SEEKNAL_ENV=prod on a branch), or plan "
            f"the env again: seeknal plan {env}",
        )
    state = read_run_state(target)
    if state.plan_id is None or state.plan_id != plan.plan_id:
        raise EnvError(
            f"Environment '{env}' is planned but not applied: its plan has no outputs yet.",
            f"Run 'seeknal run --env {env}' to compute them.",
        )
    manifest = require_manifest(target)
    view = env_view(ctx, target, plan, manifest, state)
    return Readable(ctx, env, view, _names(manifest, state), _no_output(state, view.own))


def _names(manifest: Manifest, state: RunState) -> dict[str, str]:
    ids = sorted({*manifest.nodes, *state.nodes})
    return {n: str(manifest.nodes.get(n, {}).get("name") or n.split(".", 1)[-1]) for n in ids}


def _no_output(state: RunState, ids: Mapping[str, Any]) -> dict[str, str]:
    return {n: str(e.status) for n, e in state.nodes.items() if n in ids and not e.ok}


def run_query(ctx: Context, env: str | None, sql: str, limit: int | None = None) -> QueryResult:
    """One SELECT over the outputs its `ref('kind.name')` calls name, as `env` sees them."""
    readable = open_readable(ctx, env)
    with closing(create_engine(DEFAULT_ENGINE, ctx.root)) as engine:
        relations = {ref: readable.output(engine, ref) for ref in sql_refs(sql)}
        try:
            return engine.query(sql, relations, limit)
        except SeeknalError as exc:
            raise readable.explain(exc, relations) from None


class DataSession:
    """SQL over every node of an env that has an output: each is a view named by its id
    (`"transform.orders"`, quoted because of the dot) and, when no other node shares it, by its
    name (`orders`); `ref('transform.orders')` reads it too. Statements only read."""

    def __init__(self, readable: Readable, engine: Engine) -> None:
        self.readable = readable
        self._engine = engine
        outputs: dict[str, Output] = {}
        self.unavailable: dict[str, SeeknalError] = {}  # node id -> why it has no view
        for node_id in readable.nodes:
            try:
                outputs[node_id] = readable.output(engine, node_id)
            except SeeknalError as exc:
                self.unavailable[node_id] = exc
        counts = Counter(readable.nodes.values())
        self.aliases = {n: readable.nodes[n] for n in outputs if counts[readable.nodes[n]] == 1}
        views = {**outputs, **{name: outputs[n] for n, name in self.aliases.items()}}
        self.views = sorted(outputs)
        try:
            self._session: Session = engine.session(views)
        except SeeknalError as exc:
            raise readable.explain(exc, outputs) from None
        for name, why in self._session.broken.items():
            if name in outputs:  # the node's own view; its alias fails alike
                self.unavailable[name] = readable.explain(why, [name])
                self.views.remove(name)
                self.aliases.pop(name, None)

    def __repr__(self) -> str:
        return f"<seeknal data of {self.readable.where}: {len(self.views)} node(s)>"

    @property
    def env(self) -> str | None:
        return self.readable.env

    @property
    def duckdb(self) -> Any:
        """The DuckDB connection itself, views included, for anything else DuckDB offers."""
        return self._session.connection

    def sql(self, statement: str, limit: int | None = None) -> QueryResult:
        def bind(ref: str) -> str:
            if ref in self.views:
                return ident(ref)
            raise self.unavailable.get(ref) or self.readable.unknown(ref)

        bound = replace_refs(statement, bind)
        try:
            return self._session.sql(bound, limit)
        except SeeknalError as exc:
            for node_id, why in self.unavailable.items():  # `FROM orders`: a view left out
                names = (node_id, self.readable.nodes.get(node_id, node_id))
                if any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", statement) for n in names):
                    raise why from None
            read = [n for n in self.views if n in statement or self.aliases.get(n, "") in statement]
            explained = self.readable.explain(exc, read)
            unquoted = [
                n for n in read if re.search(rf'(?<!["\w.]){re.escape(n)}(?!["\w])', statement)
            ]
            if explained is exc and unquoted:  # `FROM transform.orders`: a schema and a table
                node_id, alias = unquoted[0], self.aliases.get(unquoted[0])
                also = f", {alias}" if alias else ""
                hint = f"A view named by id needs double quotes: \"{node_id}\" (or ref('{node_id}'){also})."
                raise SeeknalError(exc.message, hint) from None
            raise explained from None

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        return self.sql(statement).rows

    def scalar(self, statement: str) -> Any:
        """The first value of the first row (None when there is no row)."""
        rows = self.sql(statement, limit=1).rows
        return rows[0][0] if rows else None

    def close(self) -> None:
        try:
            self._session.close()
        finally:
            self._engine.close()


def open_session(ctx: Context, env: str | None) -> DataSession:
    """A `DataSession` over production (`env=None`) or an applied env. Close it when done."""
    readable = open_readable(ctx, env)
    engine = create_engine(DEFAULT_ENGINE, ctx.root)
    try:
        return DataSession(readable, engine)
    except BaseException:
        engine.close()
        raise
