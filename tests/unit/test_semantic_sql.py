"""SQL fragments of the semantic layer: what counts as one expression, and how a derived
metric's names are replaced by the SQL of the metrics they name."""

from __future__ import annotations

import pytest

from seeknal.sql.semantic import expression_problem, substitute_names


@pytest.mark.parametrize(
    "text", ["revenue", "status = 'PAID' AND revenue > 0", "date_trunc('month', order_date)"]
)
def test_expressions_over_columns_pass(text: str) -> None:
    assert expression_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1; DROP TABLE t", "it must be one expression, not several statements"),
        ("x IN (SELECT 1)", "subqueries are not allowed in it"),
        ("count(*) FROM t", "it must be an expression, not a query"),
        ("a, b", "it must be one expression"),
        ("revenue -- and the rest", "comments are not allowed in it"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, problem: str) -> None:
    assert expression_problem(text) == problem


def test_only_bare_names_are_replaced() -> None:
    values = {"revenue": "SUM(r)", "orders": "COUNT(1)"}
    assert substitute_names("revenue / orders", values) == "(SUM(r)) / (COUNT(1))"
    # a qualified column, a function of the same name, a string and a longer name stay
    kept = "t.revenue + revenue(x) + 'revenue' + revenue_2"
    assert substitute_names(kept, values) == kept
