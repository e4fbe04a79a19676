"""Python nodes end to end through the CLI, in real git repositories (docs/concepts.md, "Python
nodes"): loaded from the syntax tree, run in-process, through `uv run`, or refused with the
missing packages named; plan, run, plan ENV, run --env, promote; code changes are breaking,
docstring and comment changes metadata."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_YML, cli, git, output, ran, rows, run_json, write_tree
from envkit import edit, env_dir, env_json

ORDERS_CSV = """\
order_id,customer_id,amount,status
1,c1,10.0,paid
2,c1,25.0,paid
3,c2,7.5,refunded
4,c2,12.0,paid
5,c3,3.0,paid
"""

ORDERS = "seeknal/pipelines/orders.py"
PAID = "seeknal/pipelines/paid_orders.py"
TOTALS = "seeknal/pipelines/customer_totals.py"

FILES = {
    "seeknal_project.yml": PROJECT_YML.format(name="pynodes"),
    "data/orders.csv": ORDERS_CSV,
    ORDERS: '''\
# /// script
# requires-python = ">=3.11"
# dependencies = ["pandas", "pyarrow"]
# ///

"""Source: raw orders."""

from seeknal.pipeline import source


@source(
    name="orders",
    source="csv",
    table="data/orders.csv",
    description="Raw orders",
)
def orders(ctx=None):
    """Declare the orders file."""
    pass


@source(name="regions", description="Customers' regions, computed")
def regions(ctx):
    return ctx.duckdb.sql(
        "SELECT * FROM (VALUES ('c1', 'north'), ('c2', 'south'), ('c3', 'north')) "
        "AS t(customer_id, region)"
    )
''',
    PAID: '''\
# /// script
# requires-python = ">=3.11"
# dependencies = ["duckdb"]
# ///

"""Transform: paid orders only, with the customer's region."""

from seeknal.pipeline import transform


@transform(name="paid_orders", description="Paid orders")
def paid_orders(ctx):
    """Keep paid orders."""
    orders = ctx.ref("source.orders")
    regions = ctx.ref("source.regions")
    return ctx.duckdb.sql("""
        SELECT o.order_id, o.customer_id, o.amount, r.region
        FROM orders o JOIN regions r USING (customer_id)
        WHERE o.status = 'paid'
    """)
''',
    TOTALS: '''\
# /// script
# requires-python = ">=3.11"
# dependencies = ["pandas", "pyarrow", "duckdb"]
# ///

"""Transform: spend per customer, with pandas."""

from seeknal.pipeline import transform
import pandas as pd


@transform(name="customer_totals", description="Spend per customer")
def customer_totals(ctx):
    """Sum the paid orders per customer."""
    paid = ctx.ref("transform.paid_orders")
    assert isinstance(paid, pd.DataFrame)
    # one row per customer
    totals = paid.groupby(["customer_id", "region"], as_index=False)["amount"].sum()
    return totals.rename(columns={"amount": "total"})
''',
    "seeknal/transforms/big_spenders.yml": """\
kind: transform
name: big_spenders
inputs:
  - ref: transform.customer_totals
transform: SELECT customer_id, total FROM ref('transform.customer_totals') WHERE total > 10
""",
}

TOTALS_ROWS = [("c1", "north", 35.0), ("c2", "south", 12.0), ("c3", "north", 3.0)]


@pytest.fixture
def proj(git_project: Path) -> Path:
    write_tree(git_project, FILES)
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "python nodes")
    return git_project


def env_output(root: Path, env: str, node_id: str) -> Path:
    kind, name = node_id.split(".", 1)
    return env_dir(root, env) / "cache" / kind / f"{name}.parquet"


def test_python_nodes_load_plan_and_run_with_yaml_downstream(proj: Path) -> None:
    res = cli(proj, "plan")
    assert res.exit_code == 0, res.output
    for node in ("source.orders", "source.regions", "transform.paid_orders"):
        assert node in res.stdout
    assert "not supported" not in res.output
    res, summary = run_json(proj)
    assert res.exit_code == 0, res.output
    assert ran(summary) == {
        "source.orders",
        "source.regions",
        "transform.paid_orders",
        "transform.customer_totals",
        "transform.big_spenders",
    }
    assert rows(output(proj, "transform.paid_orders")) == [
        (1, "c1", 10.0, "north"),
        (2, "c1", 25.0, "north"),
        (4, "c2", 12.0, "south"),
        (5, "c3", 3.0, "north"),
    ]
    assert rows(output(proj, "transform.customer_totals")) == TOTALS_ROWS
    assert rows(output(proj, "transform.big_spenders")) == [("c1", 35.0), ("c2", 12.0)]
    # the empty @source reads its file like a YAML source: its data is fingerprinted
    manifest = (proj / "target" / "manifest.json").read_text()
    assert '"python"' in manifest
    res, summary = run_json(proj)
    assert ran(summary) == set()


def test_code_change_is_breaking_through_env_and_promote(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    production = rows(output(proj, "transform.customer_totals"))
    git(proj, "checkout", "-q", "-b", "dev")
    edit(
        proj,
        TOTALS,
        '.rename(columns={"amount": "total"})',
        '.rename(columns={"amount": "total"}).query("total > 5")',
    )
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    plan = env_json(proj, "dev", "plan.json")
    assert plan["categorized_changes"] == {
        "transform.customer_totals": "breaking",
        "transform.big_spenders": "indirect_breaking",
    }
    assert "Python code changed" in res.stdout
    assert plan["nodes_to_execute"] == ["transform.customer_totals", "transform.big_spenders"]
    res = cli(proj, "run", "--env", "dev")
    assert res.exit_code == 0, res.output
    # the unchanged upstream is production's, read through its ref
    assert not env_output(proj, "dev", "transform.paid_orders").exists()
    assert rows(env_output(proj, "dev", "transform.customer_totals")) == TOTALS_ROWS[:2]
    assert rows(output(proj, "transform.customer_totals")) == production
    res = cli(proj, "promote", "dev")
    assert res.exit_code == 0, res.output
    assert rows(output(proj, "transform.customer_totals")) == TOTALS_ROWS[:2]
    assert rows(output(proj, "transform.big_spenders")) == [("c1", 35.0), ("c2", 12.0)]


def test_production_reruns_a_python_node_whose_code_changed(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, TOTALS, '["amount"].sum()', '["amount"].max()')
    res = cli(proj, "plan")
    assert res.exit_code == 0, res.output
    assert "Python code changed" in res.stdout
    res, summary = run_json(proj)
    assert ran(summary) == {"transform.customer_totals", "transform.big_spenders"}
    assert rows(output(proj, "transform.customer_totals")) == [
        ("c1", "north", 25.0),
        ("c2", "south", 12.0),
        ("c3", "north", 3.0),
    ]


def test_docstring_and_comment_changes_are_metadata(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, TOTALS, '"""Sum the paid orders per customer."""', '"""Sum paid orders."""')
    edit(proj, TOTALS, "# one row per customer", "# one row for each customer")
    edit(proj, TOTALS, "paid = ctx.ref", "paid  =  ctx.ref")
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    plan = env_json(proj, "dev", "plan.json")
    assert plan["categorized_changes"] == {"transform.customer_totals": "metadata"}
    assert plan["nodes_to_execute"] == []
    assert "Python docstrings or comments changed" in res.stdout
    res, summary = run_json(proj)
    assert ran(summary) == set()


def test_dependency_change_is_breaking(proj: Path) -> None:
    assert cli(proj, "run").exit_code == 0
    edit(proj, PAID, '# dependencies = ["duckdb"]', '# dependencies = ["duckdb>=1.0"]')
    res = cli(proj, "plan", "dev")
    assert res.exit_code == 0, res.output
    assert env_json(proj, "dev", "plan.json")["categorized_changes"]["transform.paid_orders"] == (
        "breaking"
    )
    assert "Python dependencies changed" in res.stdout


def test_load_problems_are_reported_together_with_file_and_line(proj: Path) -> None:
    write_tree(
        proj,
        {
            "seeknal/pipelines/dynamic.py": (
                "from seeknal.pipeline import transform\n\n"
                "NAME = 'source.orders'\n\n"
                "@transform(name='dynamic', colour='red')\n"
                "def dynamic(ctx):\n"
                "    return ctx.ref(NAME)\n"
            ),
            "seeknal/pipelines/broken.py": "from seeknal.pipeline import transform\ndef (:\n",
            "seeknal/transforms/bad.yml": "kind: transform\nname: [bad\n",
        },
    )
    res = cli(proj, "plan")
    assert res.exit_code == 1
    assert "Project has 4 errors" in res.stderr
    assert "seeknal/pipelines/dynamic.py:5: @transform: unknown argument 'colour'" in res.stderr
    assert "seeknal/pipelines/dynamic.py:7: ctx.ref(NAME) must name its node" in res.stderr
    assert "seeknal/pipelines/broken.py:2: Python syntax error" in res.stderr
    assert "seeknal/transforms/bad.yml" in res.stderr and "invalid YAML" in res.stderr
    assert not (proj / "target").exists()


def test_a_failing_function_names_its_file_and_line(proj: Path) -> None:
    edit(
        proj,
        PAID,
        "    orders = ctx.ref",
        "    raise ValueError('no orders today')\n    orders = ctx.ref",
    )
    res, summary = run_json(proj)
    assert res.exit_code == 1
    nodes = {n["id"]: n for n in summary["nodes"]}
    message = nodes["transform.paid_orders"]["error"]
    assert "ValueError: no orders today (line 14 of seeknal/pipelines/paid_orders.py)" in message
    assert nodes["transform.customer_totals"]["status"] == "skipped"


def _path_without_uv() -> str:
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if not (Path(f) / "uv").exists())


def test_missing_dependency_without_uv_names_the_packages_and_both_ways_out(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(
        proj,
        PAID,
        '# dependencies = ["duckdb"]',
        '# dependencies = ["duckdb", "seeknal-no-such-package>=1"]',
    )
    monkeypatch.setenv("PATH", _path_without_uv())
    res = cli(proj, "run")
    assert res.exit_code == 1
    assert (
        "transform.paid_orders (seeknal/pipelines/paid_orders.py) needs packages that are not "
        "installed here: seeknal-no-such-package>=1." in res.output
    )
    assert "pip install 'seeknal-no-such-package>=1'" in res.output
    assert "put uv on PATH (pip install uv, in an active venv)" in res.output
    res, summary = run_json(proj)
    nodes = {n["id"]: n["status"] for n in summary["nodes"]}
    assert nodes["transform.paid_orders"] == "failed"
    assert nodes["transform.customer_totals"] == "skipped"
    assert nodes["source.orders"] == "cached"


def test_a_dependency_missing_here_runs_through_uv(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uv is a test dependency: it sits beside this interpreter
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    with pytest.raises(ImportError):
        __import__("inflection")
    write_tree(
        git_project,
        {
            "seeknal_project.yml": PROJECT_YML.format(name="uvrun"),
            "data/orders.csv": ORDERS_CSV,
            "seeknal/pipelines/names.py": (
                '# /// script\n# dependencies = ["inflection"]\n# ///\n'
                "from seeknal.pipeline import source, transform\n"
                "import inflection\n\n"
                "@source(name='orders', source='csv', table='data/orders.csv')\n"
                "def orders():\n    pass\n\n"
                "@transform(name='labels')\n"
                "def labels(ctx):\n"
                "    orders = ctx.ref('source.orders')\n"
                "    label = inflection.camelize('paid_order')\n"
                "    return ctx.duckdb.sql(\n"
                "        f\"SELECT order_id, '{label}' AS label FROM orders WHERE status = 'paid'\"\n"
                "    )\n"
            ),
        },
    )
    git(git_project, "add", "-A")
    git(git_project, "commit", "-q", "-m", "uv")
    res = cli(git_project, "run")
    assert res.exit_code == 0, res.output
    assert rows(output(git_project, "transform.labels")) == [
        (1, "PaidOrder"),
        (2, "PaidOrder"),
        (4, "PaidOrder"),
        (5, "PaidOrder"),
    ]
