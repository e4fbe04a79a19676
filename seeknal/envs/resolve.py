"""Node X as env E sees it: the env's own output when the env computes it, else production's
output through the env's ref, refused when production's bytes changed since the env was planned.

`seeknal run --env` reads its inputs through it and reports compare env and production outputs
with it; anything else that reads an env's data (a diff, a query, a test fixture) calls
`resolve` too. `env=None` is production as production sees itself.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeknal.context import Context
from seeknal.digest import file_digest, memoised_digest, stat_key
from seeknal.errors import EnvError
from seeknal.state.layout import Target
from seeknal.state.records import Manifest, Plan, Ref, RunState
from seeknal.state.store import read_refs, read_refs_json, read_run_state
from seeknal.types import Output


@dataclass(frozen=True)
class Seen:
    """One node's output as an env sees it."""

    node_id: str
    output: Output
    env: str | None  # whose output it is: the env's own (its name) or production's (None)
    digest: str | None = None  # the digest recorded for it, when known

    @property
    def path(self) -> Path:
        return self.output.path


@dataclass(frozen=True)
class EnvView:
    """What one env (or production, `env=None`) reads for each node."""

    env: str | None
    production: Target
    own: Mapping[str, Output]  # outputs the env computes itself
    refs: Mapping[str, Ref] = field(default_factory=dict)  # production outputs it reads
    digests: Mapping[str, str | None] = field(default_factory=dict)  # of its own outputs
    memo: dict[str, Any] = field(default_factory=dict)  # file digests memoised by stat
    strict: bool = True  # False (--force): a production output only has to exist
    _checked: dict[str, Output] = field(default_factory=dict, repr=False, compare=False)

    def resolve(self, node_id: str) -> Seen:
        if node_id in self.own:
            return Seen(node_id, self.own[node_id], self.env, self.digests.get(node_id))
        ref = self.refs.get(node_id)
        if ref is None:
            raise self._unknown(node_id)
        output = self._checked.get(node_id) or self._check(ref)
        return Seen(node_id, output, None, ref.output_digest)

    def check_intact(self, seen: Seen) -> Seen:
        """`seen`, refused when it is the env's own output and its bytes are no longer the ones
        recorded when it was written (refs are checked by `resolve` already)."""
        if seen.node_id not in self.own or seen.digest is None or not seen.path.is_file():
            return seen
        if file_digest(seen.path, self.memo) == seen.digest:
            return seen
        rel = self.production.relative(seen.path)
        if self.env is None:
            raise EnvError(
                f"Production output {rel} ({seen.node_id}) changed since 'seeknal run' wrote it.",
                "Run 'seeknal run' to write it again.",
            )
        raise EnvError(
            f"Output {rel} of {seen.node_id} in env '{self.env}' changed since "
            f"'seeknal run --env {self.env}' wrote it.",
            f"Run 'seeknal run --env {self.env}' to write it again.",
        )

    def verify_refs(self) -> None:
        """check_refs for a caller that needs no outputs back (promote): a ref whose bytes are
        memoised by their stats is checked without building paths."""
        root = str(self.production.root)
        for ref in self.refs.values():
            rel = ref.output_path
            path = rel if os.path.isabs(rel) else f"{root}/{rel}"
            try:
                known = memoised_digest(path, self.memo) if self.strict else None
            except OSError:
                known = None  # _check words it
            if known is not None and known == ref.output_digest:
                continue
            self._check(ref)

    def check_refs(self) -> dict[str, Output]:
        """Every production output the env reads, checked at once (before anything runs)."""
        return {node_id: self.resolve(node_id).output for node_id in self.refs}

    def _check(self, ref: Ref) -> Output:
        # refs.json records file paths (relative to the project root) of production outputs
        path = self.production.absolute(ref.output_path)
        try:
            digest = file_digest(path, self.memo) if self.strict else None
            present = self.strict or path.is_file()
        except (FileNotFoundError, IsADirectoryError):
            present = False
        if not present:
            raise EnvError(
                f"Production output {ref.output_path} ({ref.node_id}), read by env "
                f"'{self.env}', is missing.",
                f"Run 'seeknal run' in production or 'seeknal plan {self.env}' again.",
            )
        # no digest recorded: production had no such file when the env was planned
        if self.strict and digest != ref.output_digest:
            raise EnvError(
                f"Production output {ref.output_path} ({ref.node_id}) changed since "
                f"env '{self.env}' was planned.",
                f"Run 'seeknal plan {self.env}' and 'seeknal run --env {self.env}' again.",
            )
        self._checked[ref.node_id] = Output.file(path)
        return self._checked[ref.node_id]

    def _unknown(self, node_id: str) -> EnvError:
        if self.env is None:
            return EnvError(
                f"Production has no output of {node_id}.",
                "Run 'seeknal run' to compute it ('seeknal plan' shows what runs).",
            )
        return EnvError(
            f"Env '{self.env}' neither computes {node_id} nor reads it from production.",
            f"'seeknal plan {self.env}' shows what the env computes; run "
            f"'seeknal run --env {self.env}' after planning it.",
        )


def open_view(ctx: Context, env: str | None, strict: bool = True) -> EnvView:
    """The view of an env from its saved files (or production's from its run state)."""
    if env is None:
        return production_view(ctx)
    from seeknal.envs.access import require_env, require_manifest

    target, _config, plan = require_env(ctx, env)
    manifest = require_manifest(target)
    return env_view(ctx, target, plan, manifest, read_run_state(target), strict)


def env_view(
    ctx: Context,
    target: Target,
    plan: Plan,
    manifest: Manifest,
    state: RunState,
    strict: bool = True,
) -> EnvView:
    """The view of the env at `target` from its plan, manifest and run state."""
    from seeknal.planning.manifest import project_from_manifest

    snapshot = project_from_manifest(manifest.to_json(), str(ctx.root))
    own = {
        n: target.output(snapshot.nodes[n]) for n in plan.nodes_to_execute if n in snapshot.nodes
    }
    return EnvView(
        target.env,
        ctx.production,
        own,
        read_refs(target).by_node(),
        {n: e.output_digest for n, e in state.nodes.items() if n in own and not e.ref},
        ctx.cache.digests,
        strict,
    )


def production_view(ctx: Context, state: RunState | None = None) -> EnvView:
    """Production's outputs as its run state records them."""
    prod = ctx.production
    nodes = (state or read_run_state(prod)).nodes
    return EnvView(
        None,
        prod,
        {n: Output.file(prod.absolute(e.output_path)) for n, e in nodes.items() if e.output_path},
        digests={n: e.output_digest for n, e in nodes.items() if e.output_path},
        memo=ctx.cache.digests,
    )


def verify_production_refs(
    ctx: Context, target: Target, only: Collection[str] | None = None
) -> None:
    """Every production output the env at `target` reads (with `only`, those of these nodes)
    still holds the bytes its plan recorded (promote). One pass over refs.json's JSON while
    each file's stats find that digest memoised; on any doubt (a damaged entry, stats not
    memoised, other bytes) the refs are read as records and checked by EnvView.verify_refs,
    which words what is wrong. Every entry is judged, whether checked on disk or not."""
    memo = ctx.cache.digests
    if not _memoised_as_recorded(read_refs_json(target), str(ctx.production.root), memo, only):
        refs = read_refs(target).by_node()
        if only is not None:
            refs = {node_id: ref for node_id, ref in refs.items() if node_id in only}
        EnvView(target.env, ctx.production, {}, refs, memo=memo).verify_refs()


def _memoised_as_recorded(
    data: Any, root: str, memo: Mapping[str, Any], only: Collection[str] | None
) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("schema_version"), str):
        return False
    refs = data.get("refs")
    if not isinstance(refs, list):
        return False
    try:
        for ref in refs:
            node_id, rel, digest = ref["node_id"], ref["output_path"], ref["output_digest"]
            fingerprint = ref.get("fingerprint")
            if not (
                isinstance(node_id, str)
                and isinstance(rel, str)
                and isinstance(digest, str)  # None: production had no such file when planned
                and isinstance(fingerprint, str | None)
            ):
                return False
            if only is not None and node_id not in only:
                continue  # judged, not read on disk
            path = rel if rel.startswith("/") else f"{root}/{rel}"
            if memo.get(stat_key(path, os.stat(path))) != digest:
                return False
    except (OSError, TypeError, KeyError):
        return False
    return True


def resolve(ctx: Context, env: str | None, node_id: str) -> Seen:
    """Node `node_id` as env `env` sees it (production when `env` is None)."""
    return open_view(ctx, env).resolve(node_id)
