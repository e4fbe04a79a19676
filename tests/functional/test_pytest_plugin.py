"""The pytest plugin seeknal installs, run for real: `pytest tests/ --env dev` in a subprocess
on the example project and the data tests `seeknal init --example` ships. They pass in
production and in an env with the walk-through's edits; an env whose change breaks one of them
fails that test, and pytest's output shows both numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import cli
from envkit import edit
from reportkit import EXAMPLE_EDITS

DOCS = Path(__file__).resolve().parents[2] / "docs"
DATA_TESTS = 9  # the shipped tests/test_shop_data.py, parametrized cases included


def pytest_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def apply(root: Path, env: str) -> None:
    for command in (("plan", env), ("run", "--env", env)):
        res = cli(root, *command)
        assert res.exit_code == 0, res.output


def csv_value(root: Path, sql: str, *args: str) -> str:
    res = cli(root, "query", sql, "-f", "csv", *args)
    assert res.exit_code == 0, res.output
    return res.stdout.splitlines()[1]


def test_shipped_data_tests_pass_in_production_and_in_an_applied_env(example: Path) -> None:
    assert (example / "tests" / "test_shop_data.py").is_file()
    assert cli(example, "run").exit_code == 0
    proc = pytest_in(example)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{DATA_TESTS} passed" in proc.stdout
    for rel, (old, new) in EXAMPLE_EDITS.items():
        edit(example, rel, old, new)
    apply(example, "dev")
    proc = pytest_in(example, "--env", "dev")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{DATA_TESTS} passed" in proc.stdout
    assert "seeknal: env dev" in proc.stdout  # the header names the env the tests read


def test_a_change_in_the_env_fails_the_data_test_it_breaks(example: Path) -> None:
    assert cli(example, "run").exit_code == 0
    # completed orders of 100 or less drop out of daily revenue, not out of lifetime value
    edit(example, "seeknal/transforms/daily_revenue.yml", "AND amount > 0", "AND amount > 100")
    apply(example, "dev")
    daily = csv_value(
        example, "SELECT sum(revenue) FROM ref('transform.daily_revenue')", "--env", "dev"
    )
    lifetime = csv_value(
        example, "SELECT sum(lifetime_value) FROM ref('transform.customer_lifetime_value')"
    )
    assert daily != lifetime
    proc = pytest_in(example, "--env", "dev")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"1 failed, {DATA_TESTS - 1} passed" in proc.stdout
    assert re.search(
        r"FAILED tests/test_shop_data.py::test_daily_revenue_adds_up_to_customer_lifetime_value",
        proc.stdout,
    )
    assert f"revenue {daily} per day, {lifetime} over customers" in proc.stdout
    assert f"assert Decimal('{daily}') == Decimal('{lifetime}')" in proc.stdout
    # production is untouched by the env, and its data still passes
    proc = pytest_in(example)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_fixture_reports_a_missing_env_without_a_traceback(example: Path) -> None:
    assert cli(example, "run").exit_code == 0
    proc = pytest_in(example, "--env", "nope")
    assert proc.returncode == 1
    assert f"{DATA_TESTS} errors" in proc.stdout
    assert "seeknal: Environment 'nope' not found.\nNext: Run 'seeknal plan nope'" in proc.stdout
    assert "Traceback" not in proc.stdout and "seeknal/envs" not in proc.stdout


def test_the_documented_example_test_runs(example: Path) -> None:
    text = (DOCS / "testing-data.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code is not None
    (example / "tests" / "test_docs_example.py").write_text(code.group(1))
    assert cli(example, "run").exit_code == 0
    proc = pytest_in(example, "--seeknal-project", str(example), "-k", "docs_example")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b[1-9]\d* passed", proc.stdout)


def test_a_damaged_output_fails_only_the_tests_that_read_it(example: Path) -> None:
    assert cli(example, "run").exit_code == 0
    (example / "target/cache/transform/daily_revenue.parquet").write_bytes(b"damaged")
    proc = pytest_in(example)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    failed, passed = (
        int(summary.split(f" {word}")[0].split()[-1]) for word in ("failed", "passed")
    )
    assert failed + passed == DATA_TESTS and 0 < failed < DATA_TESTS, summary
    assert "error" not in summary, summary  # the fixture itself works
    message = "(transform.daily_revenue) changed since 'seeknal run' wrote it"
    assert message in proc.stdout, proc.stdout
