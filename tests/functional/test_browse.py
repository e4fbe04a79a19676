"""`seeknal ls`, `seeknal show NODE` and `seeknal lineage [NODE]` on real projects."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, write_tree

ADULTS = "seeknal/transforms/adults.yml"


def _tag_names(root: Path) -> None:
    path = root / "seeknal/transforms/names.yml"
    path.write_text(path.read_text().replace("name: names\n", "name: names\ntags: [daily]\n"))


def test_ls_lists_nodes_with_kind_tags_and_production_status(small: Path) -> None:
    _tag_names(small)
    before = cli(small, "ls", "--json")
    assert before.exit_code == 0, before.output
    assert {r["id"]: r["status"] for r in before.json()} == {
        "source.people": "never run",
        "transform.adults": "never run",
        "transform.city_counts": "never run",
        "transform.names": "never run",
    }
    assert cli(small, "run").exit_code == 0
    path = small / ADULTS
    path.write_text(path.read_text().replace("age >= 18", "age >= 30"))
    rows = {r["id"]: r for r in cli(small, "ls", "--json").json()}
    assert rows["transform.adults"]["status"] == "changed"
    assert rows["transform.names"]["status"] == "success"
    assert rows["transform.names"]["tags"] == ["daily"]
    assert rows["transform.names"]["kind"] == "transform"
    assert rows["transform.names"]["file"] == "seeknal/transforms/names.yml"
    text = cli(small, "ls", "tag:daily", "+city_counts")
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "STATUS", "TAGS"]
    listed = {line.split()[0] for line in lines[1:-1]}
    assert listed == {
        "source.people",
        "transform.adults",
        "transform.city_counts",
        "transform.names",
    }
    assert lines[-1] == "4 node(s); status in production."


def test_ls_in_an_env_shows_what_it_reads_from_production(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    path = small / ADULTS
    path.write_text(path.read_text().replace("age >= 18", "age >= 30"))
    assert cli(small, "plan", "dev").exit_code == 0
    planned = {r["id"]: r["status"] for r in cli(small, "ls", "--env", "dev", "--json").json()}
    assert planned["transform.adults"] == "planned"
    assert planned["transform.names"] == "production"
    assert cli(small, "run", "dev", "-s", "adults").exit_code == 0
    ran = {r["id"]: r["status"] for r in cli(small, "ls", "-e", "dev", "--json").json()}
    assert ran["transform.adults"] == "success"
    assert ran["transform.city_counts"] == "skipped"


def test_ls_errors(small: Path) -> None:
    res = cli(small, "ls", "tag:nope")
    assert res.exit_code == 1 and "No node matches 'tag:nope'" in res.stderr
    missing = cli(small, "ls", "--env", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_show_prints_yaml_sql_inputs_downstream_last_run_and_schema(small: Path) -> None:
    adults = (small / ADULTS).read_text().replace("age >= 18", "{{ rules.grown_up }}")
    rules = 'rules:\n- id: grown_up\n  value: "age >= 18"\n'
    write_tree(small, {ADULTS: adults, "seeknal/common/rules.yml": rules})
    assert cli(small, "run").exit_code == 0
    res = cli(small, "show", "adults")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert text.startswith("transform.adults  (transform, seeknal/transforms/adults.yml")
    assert "YAML (seeknal/transforms/adults.yml)" in text
    assert "description: People aged 18 or more." in text
    assert "WHERE {{ rules.grown_up }}" in text  # the YAML as written
    compiled = text.split("Compiled SQL", 1)[1].split("\n", 1)[1].split("\nInputs", 1)[0]
    assert "WHERE age >= 18" in compiled and "{{" not in compiled
    assert "source.people  <- target/cache/source/people.parquet (production)" in text
    assert "Downstream\n  transform.city_counts" in text
    assert "Last run (production: success)" in text
    assert "3 rows" in text
    assert "output: target/cache/transform/adults.parquet" in text
    assert "Schema (4 column(s))" in text
    schema = text.split("Schema (4 column(s))\n", 1)[1].split()
    assert schema[:4] == ["id", "BIGINT", "name", "VARCHAR"]


def test_show_before_a_run_and_unknown_nodes(small: Path) -> None:
    res = cli(small, "show", "transform.names")
    assert res.exit_code == 0, res.output
    assert "Last run (production: never run)" in res.stdout
    assert "Schema" not in res.stdout
    assert "not computed yet" in res.stdout
    unknown = cli(small, "show", "adultz")
    assert unknown.exit_code == 1
    assert "No node 'adultz'; did you mean transform.adults?" in unknown.stderr


def test_lineage_text_tree(small: Path) -> None:
    whole = cli(small, "lineage")
    assert whole.exit_code == 0, whole.output
    assert whole.stdout.splitlines() == [
        "source.people (source)",
        "├─ transform.adults (transform)",
        "│  └─ transform.city_counts (transform)",
        "└─ transform.names (transform)",
    ]
    one = cli(small, "lineage", "adults")
    assert one.stdout.splitlines() == [
        "transform.adults (transform)",
        "  upstream:",
        "    └─ source.people (source)",
        "  downstream:",
        "    └─ transform.city_counts (transform)",
    ]


def test_lineage_mermaid_and_svg(small: Path, tmp_path: Path) -> None:
    mermaid = cli(small, "lineage", "adults", "--format", "mermaid")
    assert mermaid.exit_code == 0, mermaid.output
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  n_transform_adults["transform.adults"]:::computed' in lines
    assert "  n_source_people --> n_transform_adults" in lines
    assert "  n_transform_adults --> n_transform_city_counts" in lines
    assert not any("names" in line for line in lines)  # not in adults' lineage
    svg_file = tmp_path / "lineage.svg"
    svg = cli(small, "lineage", "-f", "svg", "-o", str(svg_file))
    assert svg.exit_code == 0, svg.output
    drawing = svg_file.read_text()
    assert drawing.startswith("<svg") and "transform.city_counts" in drawing
    bad = cli(small, "lineage", "-f", "png")
    assert bad.exit_code == 2
