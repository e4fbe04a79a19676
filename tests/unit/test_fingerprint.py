"""Node and manifest fingerprints: deterministic, blind to metadata and SQL layout, and moved by
upstream changes and by the content of source data files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import small_project, write_tree

from seeknal.context import Context
from seeknal.planning.fingerprint import NodeFingerprint, manifest_fingerprint
from seeknal.sql.compare import normalize


def fingerprints(root: Path) -> dict[str, NodeFingerprint]:
    return Context(root).load().fingerprints


def fp(root: Path) -> dict[str, str]:
    return {nid: f.fingerprint for nid, f in fingerprints(root).items()}


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new))


ADULTS = "seeknal/transforms/adults.yml"


def test_same_project_in_two_folders_has_the_same_fingerprints(tmp_path: Path) -> None:
    one = fingerprints(small_project(tmp_path / "one"))
    two = fingerprints(small_project(tmp_path / "elsewhere" / "two"))
    assert one == two
    assert manifest_fingerprint(one) == manifest_fingerprint(two)
    assert len({f.fingerprint for f in one.values()}) == len(one)


def test_fingerprints_are_the_same_in_another_process_with_another_hash_seed(
    tmp_path: Path,
) -> None:
    root = small_project(tmp_path / "p")
    here = fp(root)
    code = (
        "import json, sys; from pathlib import Path; from seeknal.context import Context; "
        "fps = Context(Path(sys.argv[1])).load().fingerprints; "
        "print(json.dumps({k: v.fingerprint for k, v in fps.items()}))"
    )
    for seed in ("1", "12345"):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(root)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(proc.stdout) == here


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("description: People aged 18 or more.", "description: Grown-ups only."),
        ("description: People aged 18 or more.", "description: x\nowner: someone-else"),
        ("description: People aged 18 or more.", "description: x\ntags: [a, b]"),
        (
            "description: People aged 18 or more.",
            "description: x\ncolumns:\n  id: Person id\n  name: Display name",
        ),
    ],
    ids=["description", "owner", "tags", "columns"],
)
def test_metadata_edits_change_only_the_metadata_hash(tmp_path: Path, old: str, new: str) -> None:
    root = small_project(tmp_path)
    before = fingerprints(root)
    edit(root, ADULTS, old, new)
    after = fingerprints(root)
    for nid in before:
        assert after[nid].fingerprint == before[nid].fingerprint, nid
        assert after[nid].content == before[nid].content, nid
    assert after["transform.adults"].metadata != before["transform.adults"].metadata
    assert after["source.people"].metadata == before["source.people"].metadata
    assert manifest_fingerprint(after) != manifest_fingerprint(before)


@pytest.mark.parametrize(
    "sql",
    [
        "  SELECT   id, name, age, city\n\n  FROM ref('source.people')\n  WHERE age >= 18;\n",
        "  select id, name, age, city from ref('source.people') where age >= 18\n",
        "  -- adults only\n  SELECT id, name, age, city /* all columns */\n"
        "  FROM ref('source.people')\n  WHERE age >= 18 -- the law\n",
        "  SELECT id,name,age,city FROM ref('source.people') WHERE age>=18\n",
    ],
    ids=["whitespace", "keyword-case", "comments", "compact"],
)
def test_sql_layout_comments_and_keyword_case_do_not_change_fingerprints(
    tmp_path: Path, sql: str
) -> None:
    root = small_project(tmp_path)
    before = fp(root)
    edit(
        root,
        ADULTS,
        "  SELECT id, name, age, city\n  FROM ref('source.people')\n  WHERE age >= 18\n",
        sql,
    )
    assert fp(root) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("WHERE age >= 18", "WHERE age >= 21"),
        ("WHERE age >= 18", "WHERE age > 18"),
        ("WHERE age >= 18", "WHERE age >= 18 AND city <> 'Oslo'"),
        ("SELECT id, name, age, city", "SELECT id, name, city"),
    ],
)
def test_sql_logic_changes_change_the_fingerprint(tmp_path: Path, old: str, new: str) -> None:
    root = small_project(tmp_path)
    before = fp(root)
    edit(root, ADULTS, old, new)
    after = fp(root)
    assert after["transform.adults"] != before["transform.adults"]
    assert after["source.people"] == before["source.people"]


def test_function_name_case_is_not_significant_but_identifier_case_is() -> None:
    assert normalize("SELECT COUNT(*), Upper(name) FROM t") == normalize(
        "select count(*), upper(name) from t"
    )
    # DuckDB names output columns after aliases and expressions as written
    assert normalize("SELECT id AS UserId FROM t") != normalize("SELECT id AS userid FROM t")
    assert normalize("SELECT NAME + 1 FROM t") != normalize("SELECT name + 1 FROM t")


def test_dollar_quoted_strings_keep_case_and_spacing() -> None:
    assert normalize("SELECT $$Two  Words$$") != normalize("SELECT $$two words$$")
    assert normalize("SELECT $$x$$ ") == normalize("SELECT $$x$$;")


def test_sql_the_tokenizer_rejects_is_compared_as_written() -> None:
    assert normalize("SELECT 'Oslo") != normalize("SELECT 'oslo")


def test_string_literal_case_is_significant() -> None:
    assert normalize("SELECT * FROM t WHERE c = 'Oslo'") != normalize(
        "SELECT * FROM t WHERE c = 'OSLO'"
    )
    assert normalize('SELECT "Name" FROM t') != normalize('SELECT "name" FROM t')
    assert normalize("SELECT a FROM t") == normalize("select a from t;")


def test_upstream_change_moves_downstream_fingerprints_only(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    before = fingerprints(root)
    edit(root, ADULTS, "age >= 18", "age >= 30")
    after = fingerprints(root)
    assert after["transform.adults"].fingerprint != before["transform.adults"].fingerprint
    # city_counts' own SQL is unchanged, but it reads adults
    assert after["transform.city_counts"].content == before["transform.city_counts"].content
    assert after["transform.city_counts"].fingerprint != before["transform.city_counts"].fingerprint
    assert after["transform.names"] == before["transform.names"]
    assert after["source.people"] == before["source.people"]


def test_source_config_change_moves_the_source_and_downstream(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    before = fp(root)
    edit(root, "seeknal/sources/people.yml", "header: true", "header: true\n  skip: 0")
    after = fp(root)
    assert all(after[nid] != before[nid] for nid in before)


def test_data_file_change_moves_the_source_and_everything_downstream(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    before = fingerprints(root)
    edit(root, "data/people.csv", "5,Eve,29,Lima", "5,Eve,30,Lima")
    after = fingerprints(root)
    assert after["source.people"].data_digest != before["source.people"].data_digest
    for nid in before:
        assert after[nid].fingerprint != before[nid].fingerprint, nid


def big_csv(n: int = 20_000) -> str:
    return "id,name,age,city\n" + "".join(
        f"{i},N{i:06d},{20 + i % 50},C{i % 7}\n" for i in range(n)
    )


def flip_byte(path: Path, pos: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos] = ord("8") if data[pos] != ord("8") else ord("7")
    path.write_bytes(bytes(data))


def test_one_byte_far_past_the_first_4kb_of_a_large_file_is_noticed(tmp_path: Path) -> None:
    root = small_project(tmp_path, {"data/people.csv": big_csv()})
    path = root / "data" / "people.csv"
    size = path.stat().st_size
    assert size > 300_000
    pos = size - 10  # a digit of an age in the last row
    assert chr(path.read_bytes()[pos]).isdigit()

    before = fp(root)
    flip_byte(path, pos)
    assert path.stat().st_size == size
    assert fp(root)["source.people"] != before["source.people"]


def test_same_size_rewrite_is_noticed_through_a_warm_digest_cache(tmp_path: Path) -> None:
    """The digest memo is keyed on file stats; an edit that keeps size and mtime (a tool that
    restores timestamps, or a coarse clock) must still be noticed."""
    root = small_project(tmp_path, {"data/people.csv": big_csv()})
    path = root / "data" / "people.csv"
    ctx = Context(root)
    before = ctx.load().fingerprints["source.people"].fingerprint
    st = path.stat()
    flip_byte(path, st.st_size - 10)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert ctx.load().fingerprints["source.people"].fingerprint != before


def test_glob_source_digest_covers_every_matched_file(tmp_path: Path) -> None:
    root = small_project(
        tmp_path,
        {
            "data/parts/a.csv": "id,v\n1,a\n",
            "data/parts/b.csv": "id,v\n2,b\n",
            "seeknal/sources/parts.yml": (
                "kind: source\nname: parts\nsource: csv\ntable: data/parts/*.csv\n"
            ),
        },
    )
    before = fp(root)["source.parts"]
    write_tree(root, {"data/parts/b.csv": "id,v\n2,B\n"})
    changed = fp(root)["source.parts"]
    assert changed != before
    write_tree(root, {"data/parts/c.csv": "id,v\n3,c\n"})
    assert fp(root)["source.parts"] not in (before, changed)


def test_params_that_render_into_sql_move_the_fingerprint(tmp_path: Path) -> None:
    root = small_project(
        tmp_path,
        {
            "seeknal/transforms/old.yml": (
                "kind: transform\nname: old\ninputs:\n  - ref: source.people\n"
                "transform: SELECT * FROM input_0 WHERE age > {{ min_age }}\n"
            )
        },
    )
    a = Context(root, {"min_age": 20}).load().fingerprints["transform.old"].fingerprint
    b = Context(root, {"min_age": 40}).load().fingerprints["transform.old"].fingerprint
    c = Context(root, {"min_age": 20}).load().fingerprints["transform.old"].fingerprint
    assert a != b and a == c


def test_remembered_fingerprints_are_the_computed_ones(tmp_path: Path) -> None:
    """Nodes a file alone decides get their own hashes from the tool cache on the next load
    (keyed by the file and the data digest): they equal a load that computes everything."""
    from conftest import small_project

    from seeknal.context import Context

    small_project(tmp_path)
    (tmp_path / "target").mkdir()
    first = Context(tmp_path)
    computed = first.load().fingerprints
    first.save_cache()
    again = Context(tmp_path)
    remembered = [k for k in again.cache.data if str(k).startswith("fp:")]
    loaded = again.load()
    assert loaded.fingerprints == computed
    # the transforms; the source's node depends on its data file too (its checks read it)
    keyed = set(loaded.project.node_keys)
    assert keyed == {n for n in computed if n.startswith("transform.")}
    assert len(remembered) == len(keyed)
    # the source's data is part of the key: new rows, new fingerprints down the graph
    data = tmp_path / "data" / "people.csv"
    data.write_text(data.read_text() + "99,Zed,40,Oslo\n")
    changed = Context(tmp_path).load().fingerprints
    assert changed["source.people"].content != computed["source.people"].content
    assert changed["transform.adults"].fingerprint != computed["transform.adults"].fingerprint
    assert changed["transform.adults"].content == computed["transform.adults"].content
    # and a forgotten cache computes the same again
    (tmp_path / "target" / ".seeknal-cache" / "cache.pickle").unlink()
    assert Context(tmp_path).load().fingerprints == changed
