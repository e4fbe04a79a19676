"""Python node files read from their syntax tree: nodes, arguments, refs, script metadata, and
the code as fingerprints see it."""

from __future__ import annotations

from seeknal.project.python_code import normalized_code, own_text, read_python

FILE = '''\
# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "pandas>=2",
#     "duckdb",
# ]
# ///
"""Two nodes."""

import seeknal.pipeline as sp
from seeknal.pipeline import materialize, transform as tf

FACTOR = 2


def helper(x):
    return x * FACTOR


@sp.source(name="people", source="csv", table="data/people.csv")
def people(ctx=None):
    """Declared only."""
    pass


@tf(name="adults", tags=["a"], params={"min": 18})
@materialize(type="postgresql", connection="pg", table="s.adults")
def adults(ctx):
    """Adults."""
    people = ctx.ref("source.people")  # the source
    return ctx.duckdb.sql("SELECT * FROM people WHERE age >= 18")
'''


def test_nodes_arguments_refs_and_script_metadata() -> None:
    found = read_python(FILE)
    assert found.problems == []
    assert found.dependencies == ("pandas>=2", "duckdb")
    assert found.requires_python == ">=3.11"
    assert found.uses_pandas
    people, adults = found.nodes
    assert (people.kind, people.function, people.empty_body) == ("source", "people", True)
    assert people.args["table"].value == "data/people.csv"
    assert (adults.kind, adults.empty_body, adults.line) == ("transform", False, 26)
    assert adults.args["params"].value == {"min": 18}
    assert adults.refs == [("source.people", 30)]
    assert adults.materializations == [
        ({"type": "postgresql", "connection": "pg", "table": "s.adults"}, 27)
    ]


def test_problems_name_their_line() -> None:
    found = read_python(
        "from seeknal.pipeline import transform\n"
        "@transform(name=NAME)\n"
        "def f(ctx):\n"
        "    return ctx.ref(f'source.{x}')\n"
    )
    assert [line for line, _ in found.problems] == [2, 4]
    assert "must be literal values" in found.problems[0][1]
    assert "must name its node with one literal text" in found.problems[1][1]
    assert read_python("def (:\n").problems[0][0] == 1


def test_fingerprinted_code_ignores_comments_docstrings_and_layout() -> None:
    base = normalized_code(FILE, "adults")
    reworded = FILE.replace('"""Adults."""', '"""Grown-ups."""').replace("# the source", "")
    assert normalized_code(reworded.replace("people = ctx", "people  =  ctx"), "adults") == base
    assert normalized_code(FILE.replace(">= 18", ">= 21"), "adults") != base
    assert normalized_code(FILE.replace("FACTOR = 2", "FACTOR = 3"), "adults") != base
    # another node's code is not this node's
    assert normalized_code(FILE.replace('table="data/people.csv"', 'table="x.csv"'), "adults") == (
        base
    )


def test_own_text_leaves_out_other_nodes() -> None:
    text = own_text(FILE, "adults")
    assert "def adults" in text and "# the source" in text
    assert "def people" not in text and "Declared only" not in text
    assert "def helper" in text
