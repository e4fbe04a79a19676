"""Git-driven flows (docs/git.md): plans between revisions, pre-push, and sync after a merge."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeknal.context import Context, Loaded
from seeknal.envs.access import planned_params
from seeknal.errors import ProjectError, SeeknalError
from seeknal.git import active, dotgit
from seeknal.git.repo import GitRepo
from seeknal.git.settings import GitSettings, git_settings
from seeknal.planning.changes import EnvDecision, base_snapshot, categorize
from seeknal.project.files import PROJECT_FILE
from seeknal.state.records import Manifest, Plan, RunState
from seeknal.state.store import read_manifest, read_plan, read_run_state

ZERO = "0" * 40


@dataclass
class RevisionPlan:
    base: str
    head: str
    merge_base: str
    head_commit: str
    decision: EnvDecision
    head_loaded: Loaded
    base_manifest: Manifest

    def as_plan(self, env: str | None) -> Plan:
        return Plan.of_changes(
            self.decision,
            env,
            self.head_loaded.manifest_fingerprint,
            self.base_manifest.fingerprint,
            base_snapshot(self.decision, self.base_manifest.nodes),
            len(self.head_loaded.project.nodes),
            {"base": self.merge_base, "head": self.head_commit, "base_ref": self.base},
        )


def plan_revisions(ctx: Context, base: str, head: str | None = None) -> RevisionPlan:
    """Plan the changes of `head` since its merge-base with `base`, from git objects alone."""
    repo = GitRepo(ctx.root)
    head_commit = repo.commit(head or "HEAD")
    merge_base = repo.merge_base(base, str(head_commit.id))
    head_files = repo.files_at(head_commit, ctx.root)
    if head_files.read(PROJECT_FILE) is None:
        raise SeeknalError(
            f"{head or 'HEAD'} has no {PROJECT_FILE} at {head_files.subdir or 'the repository root'}.",
            "Commit the project first.",
        )
    head_loaded = ctx.load(files=head_files)
    base_files = repo.files_at(merge_base, ctx.root)
    base_manifest = Manifest()
    if base_files.read(PROJECT_FILE) is not None:
        try:
            base_manifest = Manifest.of(ctx.load(files=base_files).manifest())
        except ProjectError:
            pass  # a broken base: every node of the head counts as new
    decision = categorize(
        head_loaded.project,
        head_loaded.dag,
        head_loaded.fingerprints,
        base_manifest.nodes,
        set(head_loaded.project.nodes),
    )
    return RevisionPlan(
        base,
        head or "HEAD",
        str(merge_base.id),
        str(head_commit.id),
        decision,
        head_loaded,
        base_manifest,
    )


# -- pre-push -------------------------------------------------------------------------------------
@dataclass
class PushReport:
    lines: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    plans: dict[str, RevisionPlan] = field(default_factory=dict)


def pre_push(
    ctx: Context,
    updates: list[str],
    summarize: Callable[[str, RevisionPlan], list[str]],
    remote: str | None = None,
) -> PushReport:
    """Plan every pushed non-production branch against the production branch."""
    git = git_settings(ctx.load_settings())
    report = PushReport()
    repo = GitRepo(ctx.root)
    for update in updates:
        pushed = _pushed_branch(update)
        if pushed is None:
            continue  # tags, other refs and lines of another shape
        branch, local_sha = pushed
        if local_sha == ZERO:
            env_name = active.env_for_branch(ctx.root, branch, git)
            if env_name and ctx.target(env_name).dir.is_dir():
                report.lines.append(
                    f"seeknal: remote branch {branch} deleted; env {env_name} stays until the "
                    "local branch is deleted too, then 'seeknal env gc' removes it"
                )
            else:
                report.lines.append(f"seeknal: remote branch {branch} deleted")
            continue
        if branch in git.production_branches:
            report.lines.append(
                f"seeknal: pushing production branch {branch}; production follows merges "
                "(post-merge hook or 'seeknal sync')"
            )
            continue
        base = repo.production_branch(list(git.production_branches), remote)
        if base is None:
            report.lines.append(
                f"seeknal: no production branch ({', '.join(git.production_branches)}) to plan "
                f"{branch} against; set git.production_branches in {PROJECT_FILE}"
            )
            continue
        _plan_pushed(ctx, git, report, summarize, branch, base, local_sha)
    return report


def _pushed_branch(update: str) -> tuple[str, str] | None:
    """(branch, local sha) of one `<local ref> <local sha> <remote ref> <remote sha>` line.

    A deletion's local ref is `(delete)` and `git push origin HEAD:x` names HEAD: the branch is
    the remote one then."""
    parts = update.split()
    if len(parts) != 4:
        return None
    local_ref, local_sha, remote_ref = parts[0], parts[1], parts[2]
    heads = "refs/heads/"
    if local_ref.startswith(heads) and local_sha != ZERO:
        return local_ref[len(heads) :], local_sha
    if remote_ref.startswith(heads):
        return remote_ref[len(heads) :], local_sha
    return None


def _plan_pushed(
    ctx: Context,
    git: GitSettings,
    report: PushReport,
    summarize: Callable[[str, RevisionPlan], list[str]],
    branch: str,
    base: str,
    local_sha: str,
) -> None:
    """Plan a pushed branch against `base`, report it, and save it as the branch's env plan."""
    from seeknal.envs.plan import plan_env

    env = active.env_for_branch(ctx.root, branch, git) or branch
    ctx.params = planned_params(ctx, env)  # a push takes no --params: the env's last plan's
    try:
        planned = plan_revisions(ctx, base, local_sha)
    except ProjectError as exc:
        report.lines.append(f"seeknal: {branch} has project errors:\n{exc.message}")
        if "--params" in exc.message:
            report.lines.append(
                f"seeknal: a push renders {{{{ }}}} with the --params env {env} was last planned "
                f"with: plan it once with them (seeknal plan {env} --params ...), then push again"
            )
        if "error" in git.pre_push_block_on:
            report.blocked.append(f"{branch}: project errors")
        return
    report.plans[branch] = planned
    lines = summarize(env, planned)
    kept = _has_plan_for(ctx, env, planned.head_loaded.manifest_fingerprint)
    if kept and _applied(ctx, env) and planned.decision.nodes_to_execute:
        lines[-1] = f"seeknal: env {env} is applied with this very content; merging promotes it"
    report.lines.extend(lines)
    breaking = [n for n, c in planned.decision.categories.items() if c == "breaking"]
    if breaking and "breaking" in git.pre_push_block_on:
        report.blocked.append(f"{branch}: breaking changes in {', '.join(breaking[:5])}")
    if kept:
        return  # keep the env's own plan (and its applied state) for this very content
    plan_env(
        ctx,
        env,
        loaded=planned.head_loaded,
        prod_manifest=planned.base_manifest,
        prod_state=_production_state(ctx),
        assume_production_valid=True,
        git={"branch": branch, "head": planned.head_commit, "base": planned.merge_base},
    )


def _production_state(ctx: Context) -> RunState:
    """Production's run state, for the digests the env's refs must record (the plan itself is
    made against the merge-base, not against production). Unreadable: no digests, and
    `run --env` refuses the refs until the env is planned again."""
    try:
        return read_run_state(ctx.production)
    except SeeknalError:
        return RunState()


def _applied(ctx: Context, env: str) -> bool:
    try:
        target = ctx.target(env)
        plan = read_plan(target)
        return plan is not None and read_run_state(target).plan_id == plan.plan_id
    except SeeknalError:
        return False


def _has_plan_for(ctx: Context, env: str, fingerprint: str) -> bool:
    try:
        plan = read_plan(ctx.target(env))
    except SeeknalError:
        return False
    return plan is not None and plan.manifest_fingerprint == fingerprint


# -- sync (post-merge) ----------------------------------------------------------------------------
@dataclass
class SyncOutcome:
    action: str  # up-to-date | promoted | recorded | ran | notify | skipped
    message: str
    env: str | None = None
    failed: bool = False


def sync(ctx: Context, on_done: Callable[[Any], None] | None = None) -> SyncOutcome:
    """Make production match the checked-out production branch (after a merge, or after the
    commit that completes a `git merge --squash`)."""
    from seeknal.envs.promote import promote_env

    git = git_settings(ctx.load_settings())
    dirs = dotgit.find_git(ctx.root)
    branch = dotgit.current_branch(dirs) if dirs else None
    if dirs is not None and branch not in git.production_branches:
        if branch is None and GitRepo(ctx.root).production_tip(list(git.production_branches)):
            pass  # a detached HEAD at a production branch's tip (CI): sync it
        elif branch is None:
            return SyncOutcome(
                "skipped",
                "HEAD is detached and not at the tip of a production branch "
                f"({', '.join(git.production_branches)}); nothing to sync",
            )
        else:
            return SyncOutcome(
                "skipped",
                f"on branch {branch}, not a production branch "
                f"({', '.join(git.production_branches)}); nothing to sync",
            )
    loaded = ctx.load()
    wanted = loaded.manifest_fingerprint
    prod = read_manifest(ctx.production) or Manifest()
    if prod.fingerprint == wanted:
        return SyncOutcome("up-to-date", "production already matches this commit")
    env = _matching_env(ctx, loaded, wanted)
    if env is not None:
        commit = _head_commit(ctx.root)
        outcome = promote_env(ctx, env, git_commit=commit)
        return SyncOutcome(
            "promoted",
            f"promoted env {env} ({len(outcome.moved)} output(s), "
            f"{outcome.seconds * 1000:.0f} ms, nothing recomputed)"
            + _receipt(ctx, "promote", commit),
            env,
        )
    return _without_env(ctx, git, loaded, on_done)


def _matching_env(ctx: Context, loaded: Loaded, wanted: str) -> str | None:
    """The applied env whose plan is this commit's content. A node rendering {{ run_id }} has a
    new definition on every render, so the commit is also rendered with each env's own run id
    (as `seeknal promote` checks an env) before no env is said to match."""
    from seeknal.envs.access import fingerprint_as_planned, require_env
    from seeknal.envs.store import list_envs

    plans = []
    for row in list_envs(ctx):
        if row["status"] != "applied":
            continue
        _, _, plan = require_env(ctx, row["name"])
        if plan.manifest_fingerprint == wanted:
            return str(row["name"])
        plans.append((str(row["name"]), plan))
    if not run_id_nodes(ctx.root, loaded):
        return None
    for name, plan in plans:
        if plan.run_id and fingerprint_as_planned(ctx, plan) == plan.manifest_fingerprint:
            return name
    return None


RUN_ID = re.compile(r"\{\{\s*run_id\s*\}\}")


def run_id_nodes(root: Path, loaded: Loaded) -> list[str]:
    """The nodes whose file renders {{ run_id }}: their definition differs on every render."""
    found = []
    for node in loaded.project.nodes.values():
        try:
            text = (root / node.file_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "{{" in text and RUN_ID.search(text):
            found.append(node.id)
    return sorted(found)


def _without_env(
    ctx: Context, git: GitSettings, loaded: Loaded, on_done: Callable[[Any], None] | None
) -> SyncOutcome:
    """No applied env matches the commit: record production's metadata when that is all the
    commit changes (whatever `on_merge` says, as promoting a metadata-only env would: no data
    changes), else run or say what to run."""
    from seeknal.runner.production import plan_production, run_production

    planned = plan_production(ctx, loaded=loaded)
    if not planned.to_run and not planned.removed:
        run_production(ctx, command="seeknal sync", git_commit=_head_commit(ctx.root))
        return SyncOutcome(
            "recorded",
            "no node needs to run (the commit changes metadata only): production's metadata "
            "recorded, nothing recomputed",
        )
    if git.on_merge == "run":
        commit = _head_commit(ctx.root)
        run = run_production(ctx, on_done=on_done, command="seeknal sync", git_commit=commit)
        return SyncOutcome(
            "ran",
            f"ran {len(run.plan.to_run)} changed node(s) in production"
            + (f"; {len(run.failed)} failed" if run.failed else "")
            + (_receipt(ctx, "run", commit) if run.history else ""),
            failed=bool(run.failed),
        )
    return SyncOutcome(
        "notify",
        f"no applied environment matches this commit; 'seeknal run' runs the "
        f"{len(planned.to_run)} node(s) it changes in production"
        + _run_id_note(ctx.root, loaded, planned.to_run),
    )


def _run_id_note(root: Path, loaded: Loaded, to_run: Any) -> str:
    """Why a node rendering {{ run_id }} is among the nodes to run after every merge."""
    names = [n for n in run_id_nodes(root, loaded) if n in set(to_run)]
    if not names:
        return ""
    return (
        f" ({', '.join(names)} render{'s' if len(names) == 1 else ''} {{{{ run_id }}}}, new "
        "on every run, so it counts as changed in every production run, even after a merge "
        "that changes only metadata)"
    )


def _receipt(ctx: Context, kind: str, commit: str | None) -> str:
    """Write the receipt of production's newest `kind` line as a git note on `commit`; the
    text to add to sync's message (a failure is reported there, never raised)."""
    from seeknal.envs.history import write_receipt
    from seeknal.state.history import promotions

    lines = [p for p in promotions(ctx.production.base) if p.kind == kind]
    if commit is None or not lines or lines[-1].git_commit != commit:
        return ""
    problem = write_receipt(ctx, lines[-1])
    return f"; {problem}" if problem else f"; receipt in git notes ({commit[:12]})"


def _head_commit(root: Path) -> str | None:
    try:
        return str(GitRepo(root).commit("HEAD").id)
    except SeeknalError:
        return None
