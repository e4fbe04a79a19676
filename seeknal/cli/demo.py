"""`seeknal demo`: the example project in a fresh git repository, production → branch env → promote.

It drives the same functions as the commands it imitates and prints what each step did.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer

from seeknal.cli.console import out, styled
from seeknal.cli.plan_view import print_env_plan
from seeknal.cli.progress import node_printer

EDITS = {
    # a new column in the final SELECT: non-breaking, downstream keeps production data
    "seeknal/transforms/daily_revenue.yml": (
        "      round(revenue / orders, 2) AS avg_order_value,\n",
        "      round(revenue / orders, 2) AS avg_order_value,\n"
        "      round(revenue / customers, 2) AS revenue_per_customer,\n",
    ),
    # a changed filter: breaking, everything downstream is rebuilt
    "seeknal/transforms/customer_activity.yml": (
        "      WHERE customer_id IS NOT NULL\n",
        "      WHERE customer_id IS NOT NULL\n        AND event_type <> 'page_view'\n",
    ),
    # a description only: metadata, nothing runs
    "seeknal/sources/customers.yml": ("description:", "description: (reviewed)"),
}


def step(title: str) -> None:
    out("")
    out(styled(f"== {title}", typer.colors.CYAN, bold=True))


def run_demo(directory: Path | None) -> None:
    if directory is not None:
        _refuse_busy_folder(directory)
    root = (directory or Path(tempfile.mkdtemp(prefix="seeknal-demo-"))).resolve()
    started = time.perf_counter()
    printer = node_printer(False)
    printer.width = 34
    _production_from_scratch(root, printer)
    commit = _branch_with_edits(root)
    _env_to_production(root, commit, printer)
    _report(root, started)


def _refuse_busy_folder(directory: Path) -> None:
    """The demo makes a git repository of its folder and commits everything in it: only a new
    or empty folder, so that no file of the user's is ever staged, committed or overwritten."""
    from seeknal.errors import SeeknalError

    shown = directory.resolve()
    if directory.exists() and not directory.is_dir():
        reason = "is a file"
    elif directory.is_dir() and any(directory.iterdir()):
        reason = "is not empty"
    else:
        return
    raise SeeknalError(
        f"{shown} {reason}: the demo creates a git repository there and commits every file in "
        "it, so it only uses a new or empty folder. Nothing was changed.",
        "seeknal demo --dir EMPTY_OR_NEW_FOLDER (or leave --dir out for a temporary folder)",
    )


def _production_from_scratch(root: Path, printer: node_printer) -> None:
    from seeknal.context import Context
    from seeknal.git.repo import init_and_commit
    from seeknal.project.scaffold import scaffold
    from seeknal.runner.production import run_production

    step(f"Example project in a new git repository: {root}")
    created = scaffold(root, example=True)
    commit = init_and_commit(root, "Example shop pipeline")
    out(f"{len(created.files)} files committed on main ({commit[:10]})")

    step("seeknal run  (production, everything is new)")
    outcome = run_production(Context(root), on_done=printer, command="seeknal demo")
    if outcome.failed:
        raise typer.Exit(1)


def _branch_with_edits(root: Path) -> str:
    from seeknal.git.repo import commit_all

    step("On branch feature/revenue-metrics: three edits")
    for rel, (old, new) in EDITS.items():
        path = root / rel
        text = path.read_text()
        if old not in text:
            raise RuntimeError(f"demo edit does not apply to {rel}")
        path.write_text(text.replace(old, new, 1))
        out(f"  edited {rel}")
    commit = commit_all(root, "Revenue per customer; ignore page views", "feature/revenue-metrics")
    out(f"committed {commit[:10]} on feature/revenue-metrics")
    return commit


def _env_to_production(root: Path, commit: str, printer: node_printer) -> None:
    from seeknal.context import Context
    from seeknal.envs.apply import apply_env
    from seeknal.envs.plan import plan_env
    from seeknal.envs.promote import promote_env
    from seeknal.git.repo import fast_forward
    from seeknal.runner.production import run_production

    step("seeknal plan dev")
    ctx = Context(root)
    result = plan_env(ctx, "dev")
    print_env_plan(result, root)

    step("seeknal run --env dev  (only what changed; the rest is read from production)")
    env_run = apply_env(ctx, "dev", on_done=printer)
    if env_run.failed:
        raise typer.Exit(1)

    step("seeknal promote dev")
    promoted = promote_env(ctx, "dev", git_commit=commit)
    out(
        f"production now matches env 'dev': {len(promoted.moved)} output(s) moved by rename "
        f"in {promoted.seconds * 1000:.0f} ms"
    )

    fast_forward(root, "main", "feature/revenue-metrics")
    out("merged feature/revenue-metrics into main (fast-forward)")

    step("seeknal run  (production after promote)")
    after = run_production(Context(root), on_done=printer, command="seeknal demo")
    left = len(after.plan.to_run)
    out("nothing to do: production is up to date" if not left else f"{left} node(s) ran")


def _report(root: Path, started: float) -> None:
    step("Report")
    out(f"project:       {root}")
    out(f"production:    {root / 'target'}  (manifest.json, run_state.json, cache/)")
    out(f"environment:   {root / 'target/environments/dev'}")
    out(f"promotions:    {root / 'target/promotions.jsonl'}")
    out(f"export:        {root / 'exports/customer_lifetime_value.csv'}")
    total = time.perf_counter() - started
    out(
        styled(
            f"Demo finished in {total:.1f}s. Explore it: cd {root} && seeknal env list", bold=True
        )
    )
