"""SQL written for DuckDB, as Spark SQL (sqlglot), and what of it cannot be.

Node SQL is written in DuckDB's dialect; the Spark engine runs it through `to_spark`. A
construct sqlglot cannot express in Spark, or one known to mean something else there, is named
by `unportable` so that a run on Spark refuses the node before anything executes
(`planning/portable.py`), rather than failing half-way or computing something else.

Besides sqlglot's own translation, a few shapes are rewritten here so that Spark computes what
DuckDB does: `/` divides in DOUBLE (DuckDB's, for decimals too), avg() averages in DOUBLE,
round() of a quotient rounds the binary value as DuckDB does, `epoch(a - b)` is the seconds
between two timestamps, `json_object(k, v, ...)` becomes `to_json(named_struct(k, v, ...))`,
and an ordered aggregate `list(x ORDER BY ...)` becomes a sorted `collect_list` (Spark's has no
order of its own).
"""

from __future__ import annotations

import functools
from typing import Any

# DuckDB table functions and constructs with no Spark counterpart sqlglot would translate
_DUCKDB_ONLY_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_text",
        "glob",
        "range",
        "generate_series",
        "list_value",
        "struct_pack",
        "epoch_ms",
        "strptime",
        "regexp_extract_all",
        "string_split_regex",
        "list_aggregate",
        "array_aggregate",
        "json_extract_path",
        "getvariable",
        "current_setting",
        "pragma_table_info",
        "duckdb_tables",
        "duckdb_columns",
    }
)


@functools.cache
def _no_spark_types() -> frozenset[Any]:
    """Column types DuckDB has and Spark SQL lacks."""
    from sqlglot import exp

    kinds = exp.DataType.Type
    return frozenset({kinds.TIME, kinds.TIMETZ, kinds.UUID, kinds.INTERVAL, kinds.UNION})


class TranspileError(Exception):
    """A statement cannot be written as Spark SQL; `construct` names what."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


def unportable(sql: str) -> str | None:
    """The first construct of a script (DuckDB's dialect) that has no Spark translation, or
    None. The last statement is the SELECT; those before it may create tables or views."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        statements = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        return f"SQL sqlglot cannot parse ({_first(exc)})"
    try:
        for statement in statements[:-1]:
            to_spark_script(statement.sql(dialect="duckdb"))
        if statements:
            to_spark(statements[-1].sql(dialect="duckdb"))
    except TranspileError as exc:
        return exc.construct
    return None


def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL; TranspileError names a construct that cannot be."""
    import sqlglot
    from sqlglot.errors import ErrorLevel, SqlglotError

    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        raise TranspileError(f"SQL sqlglot cannot parse ({_first(exc)})") from None
    if len(trees) != 1:
        raise TranspileError("more than one statement where one SELECT was expected")
    tree = trees[0]
    _refuse(tree)
    tree = _rewrite(tree)
    try:
        return str(tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE))
    except SqlglotError as exc:
        raise TranspileError(_first(exc)) from None


def to_spark_script(sql: str) -> str:
    """A statement of a multi-statement transform as Spark SQL: `CREATE [TEMP] TABLE|VIEW x AS
    SELECT ...` becomes a temporary view of the session the script runs in."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError as exc:
        raise TranspileError(f"SQL sqlglot cannot parse ({_first(exc)})") from None
    query = tree.expression if isinstance(tree, exp.Create) else None
    kind = str(tree.args.get("kind") or "").upper()
    if not isinstance(query, exp.Query) or kind not in ("TABLE", "VIEW"):
        raise TranspileError(
            "a statement other than CREATE TABLE|VIEW ... AS SELECT before the last one"
        )
    name = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    select = to_spark(query.sql(dialect="duckdb"))
    return f"CREATE OR REPLACE TEMPORARY VIEW {name.sql(dialect='spark')} AS {select}"


def _first(exc: Exception) -> str:
    return " ".join(str(exc).strip().splitlines()[:1]) or type(exc).__name__


def _refuse(tree: Any) -> None:
    """Raise TranspileError for constructs sqlglot passes through that Spark lacks."""
    from sqlglot import exp

    for node in tree.walk():
        if isinstance(node, exp.Join) and "ASOF" in str(node.args.get("kind") or "").upper():
            raise TranspileError("ASOF JOIN")
        if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "ASOF":
            raise TranspileError("ASOF JOIN")
        if isinstance(node, exp.Pivot) and not node.args.get("field") and not node.this:
            continue
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in _DUCKDB_ONLY_FUNCTIONS:
            raise TranspileError(f"DuckDB function {str(node.name).lower()}()")
        if isinstance(node, exp.Func) and node.sql_name().lower() in _DUCKDB_ONLY_FUNCTIONS:
            if isinstance(node, exp.Unnest) or type(node).__name__ in ("ReadCSV", "ReadParquet"):
                raise TranspileError(f"DuckDB function {node.sql_name().lower()}()")
        if isinstance(node, exp.DataType) and node.this in _no_spark_types():
            raise TranspileError(f"the {node.sql(dialect='duckdb')} type (Spark SQL has none)")
        if isinstance(node, (exp.Create, exp.Insert, exp.Copy, exp.Pragma)):
            raise TranspileError(f"{node.key.upper()} statement")


def _rewrite(tree: Any) -> Any:
    from sqlglot import exp

    def json(node: Any) -> Any:
        if isinstance(node, exp.JSONObject):
            pairs = []
            for kv in node.expressions:
                pairs += [kv.this, kv.expression]
            return exp.func("to_json", exp.func("named_struct", *pairs))
        return node

    def epoch(node: Any) -> Any:
        # DuckDB's epoch() of an interval (a difference of timestamps): seconds, as a double
        if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Sub):
            micros = [
                exp.func("unix_micros", exp.cast(side, exp.DataType.build("TIMESTAMPLTZ")))
                for side in (node.this.this, node.this.expression)
            ]
            diff = exp.Paren(this=exp.Sub(this=micros[0], expression=micros[1]))
            return exp.Div(this=diff, expression=exp.Literal.number("1000000.0"))
        return node

    def ordered(node: Any) -> Any:
        if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
            return _sorted_list(node.this)
        return node

    def divide(node: Any) -> Any:
        # DuckDB divides in DOUBLE (decimals included); Spark would keep decimals, and round
        # the quotient differently afterwards
        if isinstance(node, exp.Div):
            double = exp.DataType.build("DOUBLE")
            node.set("this", exp.cast(node.this, double))
            node.set("expression", exp.cast(node.expression, double))
        return node

    def rounded(node: Any) -> Any:
        if isinstance(node, exp.Round) and isinstance(node.this, exp.Div):
            return _exact_round(node.this, node.args.get("decimals"))
        return node

    def average(node: Any) -> Any:
        # DuckDB averages in DOUBLE (decimals too); Spark keeps a decimal average's decimals
        if isinstance(node, exp.Avg) and not isinstance(node.this, exp.Distinct):
            node.set("this", exp.cast(node.this, exp.DataType.build("DOUBLE")))
        return node

    tree = tree.transform(json).transform(epoch).transform(ordered).transform(rounded)
    return tree.transform(divide).transform(average)


# round(x, n) of a DOUBLE as DuckDB computes it: x * 10^n rounded to a whole number half away
# from zero by x's exact binary value. Spark rounds the shortest decimal text of x * 10^n
# instead, which differs on the ties that product makes (742.91 / 2 → 371.455 → 371.45 in
# DuckDB, 371.46 in Spark). The product's rounding error is recovered exactly (Dekker's
# two-product, splitting x with Veltkamp's constant) and decides those ties.
_EXACT_ROUND = """(CASE WHEN {p} - floor({p}) = 0.5 THEN
  (CASE WHEN {e} < 0 THEN floor({p}) WHEN {e} > 0 THEN floor({p}) + 1
        WHEN {p} > 0 THEN floor({p}) + 1 ELSE floor({p}) END)
  ELSE round({p}) END) / {s}"""


def _exact_round(value: Any, places: Any) -> Any:
    import sqlglot
    from sqlglot import exp

    x = f"CAST(({value.sql(dialect='duckdb')}) AS DOUBLE)"
    if places is None or isinstance(places, exp.Literal) and places.is_int:
        scale = f"{10 ** int(places.name if places is not None else 0)}.0"
    else:
        scale = f"power(10.0, {places.sql(dialect='duckdb')})"
    p = f"({x} * {scale})"
    high = f"((134217729.0 * {x}) - ((134217729.0 * {x}) - {x}))"
    e = f"((({high} * {scale}) - {p}) + (({x} - {high}) * {scale}))"
    return sqlglot.parse_one(_EXACT_ROUND.format(p=p, e=e, s=scale), read="duckdb")


def _sorted_list(order: Any) -> Any:
    """`list(x ORDER BY k1 [DESC], ...)` as Spark: collect (keys, x) structs, sort them with a
    comparator that follows the ORDER BY, keep x."""
    import sqlglot
    from sqlglot import exp

    value = order.this
    keys = order.expressions
    fields: list[Any] = []
    for i, key in enumerate(keys):
        fields += [exp.Literal.string(f"k{i}"), key.this]
    fields += [exp.Literal.string("v"), value]
    collected = exp.func("collect_list", exp.func("named_struct", *fields)).sql("spark")
    tests = []
    for i, key in enumerate(keys):
        before, after = ("-1", "1") if not key.args.get("desc") else ("1", "-1")
        tests.append(f"WHEN l.k{i} < r.k{i} THEN {before} WHEN l.k{i} > r.k{i} THEN {after}")
    comparator = f"(l, r) -> CASE {' '.join(tests)} ELSE 0 END"
    text = f"transform(array_sort({collected}, {comparator}), e -> e.v)"
    return sqlglot.parse_one(text, read="spark")
