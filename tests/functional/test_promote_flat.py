"""A promotion costs what it moves: of the nodes that do not move it reads no record and parses
no manifest entry (docs/architecture.md, envs/promote.py). Shown by damaging exactly those
entries: a promote that still read them as records would refuse them."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from conftest import cli
from envkit import ADULTS, NAMES, applied_dev_env, edit, env_dir, production_digests, promotions

from seeknal import context
from seeknal.digest import RACY_SECONDS
from seeknal.project.files import PROJECT_FILE, DiskFiles
from seeknal.state.store import ToolCache

ENV = "dev"
UNMOVED = "transform.names"  # people -> names, beside the changed people -> adults -> city_counts


def rewrite(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))


def applied(root: Path, pause: float = 0.0) -> None:
    assert cli(root, "run").exit_code == 0
    time.sleep(pause)
    edit(root, ADULTS, "WHERE age >= 18", "WHERE age >= 30")
    assert cli(root, "plan", ENV).exit_code == 0
    assert cli(root, "run", "--env", ENV).exit_code == 0


def test_promote_reads_nothing_of_the_nodes_it_does_not_move(small: Path) -> None:
    applied(small)
    env = env_dir(small, ENV)
    prod_state = small / "target/run_state.json"
    # entries a record reader refuses (a number as text, an unknown kind), only where promote
    # must not look: the node that does not move (its production output is still checked)
    rewrite(prod_state, lambda d: d["nodes"][UNMOVED].update(row_count="many"))
    rewrite(env / "run_state.json", lambda d: d["nodes"][UNMOVED].update(row_count="many"))
    rewrite(env / "manifest.json", lambda d: d["nodes"][UNMOVED].update(type="no_such_kind"))
    res = cli(small, "promote", ENV)
    assert res.exit_code == 0, res.output
    assert "2 output(s) moved" in res.stdout
    assert promotions(small)[-1]["nodes"] == ["transform.adults", "transform.city_counts"]
    nodes = json.loads(prod_state.read_text())["nodes"]
    # carried over as it was, with the env's fingerprint and status cached
    assert nodes[UNMOVED]["row_count"] == "many" and nodes[UNMOVED]["status"] == "cached"
    assert nodes["transform.adults"]["status"] == "success"
    assert nodes["transform.adults"]["output_path"] == "target/cache/transform/adults.parquet"
    assert nodes["source.people"]["status"] == "cached"


def test_promote_still_checks_what_it_moves_and_its_production_entries(small: Path) -> None:
    applied(small)
    prod_state = small / "target/run_state.json"
    rewrite(prod_state, lambda d: d["nodes"]["transform.adults"].update(row_count="many"))
    res = cli(small, "promote", ENV)
    assert res.exit_code == 1
    assert f"{prod_state} has an unexpected shape" in res.stderr and "'row_count'" in res.stderr
    rewrite(prod_state, lambda d: d["nodes"]["transform.adults"].update(row_count=3))
    moved = env_dir(small, ENV) / "cache/transform/city_counts.parquet"
    moved.write_bytes(moved.read_bytes() + b"\0")
    res = cli(small, "promote", ENV)
    assert res.exit_code == 1 and "is not what 'seeknal run --env dev' wrote" in res.stderr
    assert promotions(small) == []


def test_an_edit_after_the_stats_were_memoised_is_still_stale(small: Path) -> None:
    """Staleness checks memoise the project's fingerprint by the files' stats once no file
    changed for a while (seeknal.digest.RACY_SECONDS); a later edit moves the stats."""
    applied(small)
    time.sleep(RACY_SECONDS + 0.2)
    assert cli(small, "run", "--env", ENV).exit_code == 0  # checks the plan against the YAML
    cache = ToolCache(small / "target/.seeknal-cache/cache.pickle")
    assert any(str(k).startswith("mfs:") for k in cache.data)
    edit(small, NAMES, "upper(name)", "lower(name)")  # same size, same folder
    res = cli(small, "promote", ENV)
    assert res.exit_code == 1 and "Plan is stale" in res.stderr
    assert promotions(small) == []


RACY = 0.5  # RACY_SECONDS for the two tests below: the project's other files are older


def reads(monkeypatch: Any) -> list[str]:
    """The project files read from now on (DiskFiles.read)."""
    seen: list[str] = []
    real = DiskFiles.read

    def read(self: DiskFiles, path: str) -> bytes | None:
        seen.append(path)
        return real(self, path)

    monkeypatch.setattr(DiskFiles, "read", read)
    return seen


def test_promote_right_after_an_edit_reads_only_the_edited_file(small: Path, monkeypatch) -> None:
    """plan, run --env and promote within RACY_SECONDS of an edit: the memo made by run --env
    keeps the digest of the file that changed so recently, and promote reads that file alone
    (it read every project file before)."""
    monkeypatch.setattr(context, "RACY_SECONDS", RACY)
    applied(small, pause=RACY + 0.1)  # then the edit, plan and run --env within RACY
    seen = reads(monkeypatch)
    res = cli(small, "promote", ENV)
    assert res.exit_code == 0, res.output
    assert seen == [ADULTS]


def test_a_racy_file_rewritten_without_its_stats_moving_is_still_stale(
    small: Path, monkeypatch
) -> None:
    """A file rewritten within the same clock tick keeps its size and change times: its stats
    say nothing, so the memo's digest of its bytes decides."""
    monkeypatch.setattr(context, "RACY_SECONDS", RACY)
    applied(small, pause=RACY + 0.1)
    racy_after = time.time() - RACY
    pinned = DiskFiles(small).signature("seeknal", [PROJECT_FILE], racy_after)
    assert pinned[1] == [ADULTS]
    edit(small, ADULTS, "age >= 30", "age >= 31")  # same size
    monkeypatch.setattr(DiskFiles, "signature", lambda *args: pinned)  # the stats did not move
    res = cli(small, "promote", ENV)
    assert res.exit_code == 1 and "Plan is stale" in res.stderr, res.output
    assert promotions(small) == []


def test_promote_still_judges_every_entry_of_refs_json(small: Path) -> None:
    """The production outputs an env reads are checked in one pass over refs.json (their digests
    memoised by stats); an entry the records would refuse is still refused, naming it."""
    applied(small)
    refs = env_dir(small, ENV) / "refs.json"
    good = refs.read_text()
    for change, phrase in (
        (lambda d: d["refs"][-1].update(node_id=5), "has no text 'node_id'"),
        (lambda d: d["refs"][-1].update(fingerprint=7), "'fingerprint'"),
        (lambda d: d["refs"].append(d["refs"][0] | {"output_digest": None}), "changed since"),
    ):
        rewrite(refs, change)
        res = cli(small, "promote", ENV)
        assert res.exit_code == 1 and phrase in res.stderr, res.output
        assert promotions(small) == []
        refs.write_text(good)
    assert cli(small, "promote", ENV).exit_code == 0


def test_a_folder_where_a_promoted_file_goes_is_refused_and_kept(git_project: Path) -> None:
    """An exposure's production path that became a folder of the user's is never swept aside
    into history (pruned later): promote refuses, naming it, and changes nothing."""
    root = applied_dev_env(git_project)
    export = root / "exports/adults.csv"
    export.unlink()
    export.mkdir()
    (export / "mine.txt").write_text("keep me\n")
    before = production_digests(root)
    res = cli(root, "promote", "dev")
    assert res.exit_code == 1
    assert "exports/adults.csv of exposure.adults_export is a folder" in res.stderr, res.stderr
    assert "Next:" in res.stderr
    assert (export / "mine.txt").read_text() == "keep me\n"
    assert production_digests(root) == before and promotions(root) == []
    shutil.rmtree(export)
    assert cli(root, "promote", "dev").exit_code == 0
    assert export.is_file()
