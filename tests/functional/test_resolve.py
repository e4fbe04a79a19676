"""`seeknal.envs.resolve`: node X as env E sees it, on a real project planned and applied through
the CLI: the env's own output, production's through a ref, and production outputs that changed
since the plan refused with the node named."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import output, rows
from envkit import applied_dev_env, env_dir, sha

from seeknal.context import Context
from seeknal.envs.resolve import open_view, resolve
from seeknal.errors import EnvError


@pytest.fixture
def applied(git_project: Path) -> Path:
    return applied_dev_env(git_project)


def test_a_node_the_env_computes_is_its_own_output(applied: Path) -> None:
    seen = resolve(Context(applied), "dev", "transform.adults")
    assert seen.env == "dev"
    assert seen.path == env_dir(applied, "dev") / "cache" / "transform" / "adults.parquet"
    assert seen.digest == sha(seen.path)
    assert min(age for (age,) in rows(seen.path, "SELECT age FROM t")) >= 30
    # production still has its own adults, 18 and more
    prod = resolve(Context(applied), None, "transform.adults")
    assert prod.env is None and prod.path == output(applied, "transform.adults")
    assert min(age for (age,) in rows(prod.path, "SELECT age FROM t")) < 30


def test_an_unchanged_node_is_production_output_through_the_ref(applied: Path) -> None:
    seen = resolve(Context(applied), "dev", "source.people")
    assert seen.env is None
    assert seen.path == output(applied, "source.people")
    assert seen.digest == sha(output(applied, "source.people"))


def test_a_production_output_changed_since_the_plan_is_refused(applied: Path) -> None:
    people = output(applied, "source.people")
    people.write_bytes(people.read_bytes() + b"\0")
    with pytest.raises(EnvError) as caught:
        resolve(Context(applied), "dev", "source.people")
    assert "source.people" in caught.value.message
    assert "changed since env 'dev' was planned" in caught.value.message
    assert "seeknal plan dev" in caught.value.hint
    # the env's own outputs do not depend on production's bytes
    assert resolve(Context(applied), "dev", "transform.adults").env == "dev"
    # without the digest check (run --env --force) only its presence counts
    assert open_view(Context(applied), "dev", strict=False).resolve("source.people").path == people


def test_a_missing_production_output_is_refused(applied: Path) -> None:
    output(applied, "transform.names").unlink()
    with pytest.raises(EnvError) as caught:
        open_view(Context(applied), "dev", strict=False).check_refs()
    assert "transform.names" in caught.value.message and "is missing" in caught.value.message


def test_a_node_the_env_neither_computes_nor_reads(applied: Path) -> None:
    with pytest.raises(EnvError) as caught:
        resolve(Context(applied), "dev", "transform.nowhere")
    assert "transform.nowhere" in caught.value.message
    with pytest.raises(EnvError, match="Production has no output of transform.nowhere"):
        resolve(Context(applied), None, "transform.nowhere")
