"""The terminal view of a report model, written out in Python: the same text the shipped
`plan.txt.j2` renders, without importing and running Jinja (at 10,000 nodes rendering thousands
of rows through the template cost ~50 ms, and the import ~12 ms on every `seeknal plan ENV`).

`render.py` uses it only for the shipped template, recognised by its digest (`TEMPLATE_SHA256`):
an edited template, a `--template-dir`, or any model this code does not expect (it raises)
goes through Jinja as before. Tests compare the two renderings on varied models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# sha256 of the shipped templates/plan.txt.j2 this module writes out
TEMPLATE_SHA256 = "c044fa3c1ffbf3c565d9b4be212c11e78ba6ecf0ef66f057862674718d3fad28"

_ENV_GROUPS = (
    ("Modified nodes", ("breaking", "non_breaking", "metadata")),
    ("Added nodes", ("added",)),
    ("Removed nodes", ("removed",)),
    ("Downstream impact", ("indirect_breaking", "indirect_non_breaking")),
)


def render_text(r: Mapping[str, Any]) -> str:
    """`plan.txt.j2` rendered with `r`; KeyError/TypeError/AttributeError where Jinja's strict
    undefined would fail or the model has a shape this code does not know."""
    prod = bool(r.get("production")) if "production" in r else False
    parts = [_header(r, prod), "\n", f"{r['summary']['text']}\n"]
    promoted = r["promoted"] if "promoted" in r else None
    if promoted:
        parts.append(_promoted(promoted))
    if r["stale"]:
        env = f" {r['env']}" if r["env"] else ""
        parts.append(f"WARNING: this plan is stale: {r['stale']} Run 'seeknal plan{env}' again.\n")
    nodes = r["nodes"]
    width = max(len(n["id"]) for n in nodes) if nodes else 10
    groups = (*_ENV_GROUPS, ("Nodes to run" if prod else "Also computed here", ("computed",)))
    for title, cats in groups:
        rows = [n for n in nodes if n["category"] in cats]
        if rows:
            parts.append(f"\n{title}:\n")
            parts.extend(_node_line(n, width) for n in rows)
    if r["data_changes"]:
        parts.append("\nData changes (production → env):\n")
        parts.extend(_data_line(d, width) for d in r["data_changes"])
    parts.append("\n")
    summary = r["summary"]
    if prod:
        production = r["production"]
        idle = production["not_executable"]
        more = f", {len(idle)} not executable yet" if idle else ""
        cached = len(production["cached"])
        parts.append(f"Nodes to execute: {summary['to_execute']} ({cached} cached{more})\n")
    else:
        unchanged = summary["total_nodes"] - summary["to_execute"]
        parts.append(
            f"Nodes to execute: {summary['to_execute']} (reading {unchanged} unchanged node(s)"
            " from production)\n"
        )
    return "".join(parts)


def _header(r: Mapping[str, Any], prod: bool) -> str:
    text = "Production plan" if prod else "Plan"
    if r["env"]:
        text += f" for environment '{r['env']}'"
    base = r["base_fingerprint"]
    text += f" (against {base[:12]})" if base else " (no production state yet)"
    return text + "\n"


def _promoted(promoted: Mapping[str, Any]) -> str:
    pid = promoted["promotion_id"]
    text = f"Promoted into production at {promoted['time'] or 'an unknown time'}"
    text += f" (promotion {pid})" if pid else ""
    text += ": what the env changed is production's now.\n"
    if promoted["data_unavailable"]:
        return text + f"Data changes are not available: {promoted['data_unavailable']}.\n"
    return text + (
        "Rows and data changes are as at the promotion: production before it → the env's "
        "outputs it promoted.\n"
    )


def _node_line(n: Mapping[str, Any], width: int) -> str:
    line = f"  {n['id'].ljust(width)}  {n['category'].ljust(22)} {n['reason']}"
    if "run" in n:
        run = n["run"]
        rows, prod_rows = run["rows"], run["prod_rows"]
        line += f" [{run['status']}"
        if rows is not None:
            line += f", {rows} row{'' if rows == 1 else 's'}"
        if prod_rows is not None:
            line += f", production {prod_rows}"
        line += f", {run['seconds']}s"
        if run["schema_changes"]:
            line += f"; {', '.join(str(c) for c in run['schema_changes'])}"
        line += "]"
    return line + "\n"


def _data_line(d: Mapping[str, Any], width: int) -> str:
    before, after = d["rows_before"], d["rows_after"]
    if before is not None and after is not None:
        rows = f"{before} → {after} rows"
        if d["row_delta"]:
            rows += " (%+d)" % d["row_delta"]  # noqa: UP031 - Jinja's `format` filter is `%`
    elif after is not None:
        rows = f"new, {after} rows"
    elif before is not None:
        rows = f"{before} rows, removed"
    else:
        rows = "-"
    line = f"  {d['id'].ljust(width)}  {rows}"
    if d["key"]:
        line += (
            f"; key {', '.join(str(k) for k in d['key'])}: {d['rows_added']} added, "
            f"{d['rows_removed']} removed, {d['rows_changed']} changed"
        )
    for change in d["schema_changes"]:
        line += f"; {change}"
    if d["note"]:
        line += f"; {d['note']}"
    return line + "\n"
