"""The terminal view written out in Python (report/text_view.py) prints what the shipped
plan.txt.j2 renders through Jinja, for every part of the template."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from test_report_model import node, small_plan

from seeknal.report import text_view
from seeknal.report.model import build_report
from seeknal.report.production import NodeAction, build_production_report
from seeknal.report.render import _environment, render, shipped_text, template_dirs


def through_jinja(model: dict[str, Any], template_dir: Path | None = None) -> str:
    return _environment(template_dir).get_template("plan.txt.j2").render(r=model)


def env_model() -> dict[str, Any]:
    plan, manifest = small_plan()
    return build_report(plan, manifest)


def with_run(model: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "rows", "prod_rows", "seconds", "schema_changes")
    runs = [
        ("success", 1, 3, 0.25, []),
        ("success", 12, None, 1, ["+x"]),
        ("failed", None, None, 0.0, []),
        ("reused", 0, 0, 2.5, ["-a", "b"]),
    ]
    for n, run in zip(model["nodes"], runs, strict=False):
        n["run"] = dict(zip(keys, run, strict=True))
    return model


def with_data_changes(model: dict[str, Any]) -> dict[str, Any]:
    base = {"key": None, "schema_changes": [], "note": None, "row_delta": 0}
    model["data_changes"] = [
        {**base, "id": "transform.a", "rows_before": 3, "rows_after": 5, "row_delta": 2},
        {**base, "id": "transform.b", "rows_before": 5, "rows_after": 3, "row_delta": -2},
        {**base, "id": "transform.c", "rows_before": 4, "rows_after": 4, "key": ["id", "day"]}
        | {"rows_added": 1, "rows_removed": 1, "rows_changed": 2},
        {**base, "id": "transform.new", "rows_before": None, "rows_after": 7, "note": "new"},
        {**base, "id": "transform.r", "rows_before": 9, "rows_after": None},
        {**base, "id": "transform.x", "rows_before": None, "rows_after": None}
        | {"schema_changes": ["column `y` added", "column `z` removed"]},
    ]
    return model


def promoted(model: dict[str, Any], **fields: Any) -> dict[str, Any]:
    model["promoted"] = {"time": "2026-12-03T10:00:00Z", "promotion_id": "p1"}
    model["promoted"].update({"into": "production", "data_unavailable": None, **fields})
    return model


def production_model(idle: bool) -> dict[str, Any]:
    manifest = {"nodes": {"source.s": node("source"), "transform.t": node("transform")}}
    actions = [
        NodeAction("source.s", "run", "new"),
        NodeAction("transform.t", "unsupported" if idle else "cached", "up to date"),
    ]
    return build_production_report(actions, ["transform.old"], manifest, None, "f" * 64)


def no_changes() -> dict[str, Any]:
    plan, manifest = small_plan()
    plan.update(categorized_changes={}, nodes_to_execute=[], reasons={}, env_name=None)
    model = build_report(plan, manifest)
    model["base_fingerprint"] = None
    return model


MODELS = {
    "env plan": env_model,
    "with run results": lambda: with_run(env_model()),
    "with data changes": lambda: with_data_changes(with_run(env_model())),
    "stale": lambda: env_model() | {"stale": "production changed since."},
    "stale without env": lambda: no_changes() | {"stale": "the project changed."},
    "promoted": lambda: promoted(with_data_changes(env_model())),
    "promoted, no time or id": lambda: promoted(env_model(), time=None, promotion_id=None),
    "promoted, data gone": lambda: promoted(env_model(), data_unavailable="history pruned"),
    "production": lambda: production_model(False),
    "production, not executable": lambda: production_model(True),
    "no changes": no_changes,
}


@pytest.mark.parametrize("name", MODELS)
def test_python_view_prints_what_the_template_renders(name: str) -> None:
    model = MODELS[name]()
    expected = through_jinja(copy.deepcopy(model))
    assert text_view.render_text(model) == expected
    assert render(model, "text") == expected


def test_the_shipped_template_is_the_one_written_out() -> None:
    """Fails when plan.txt.j2 changes: change report/text_view.py the same way, then its
    TEMPLATE_SHA256 (the sha256 of the new template)."""
    assert shipped_text(env_model()) == through_jinja(env_model())
    assert (template_dirs()[0] / "plan.txt.j2").is_file()


def test_a_model_the_view_does_not_know_goes_through_jinja() -> None:
    model = env_model()
    del model["stale"]  # Jinja's strict undefined names what is missing
    assert shipped_text(model) is None
    with pytest.raises(Exception, match="stale"):
        render(model, "text")


def test_a_template_dir_of_ones_own_is_rendered_by_jinja(tmp_path: Path) -> None:
    (tmp_path / "plan.txt.j2").write_text("{{ r.summary.text }} (mine)\n")
    assert render(env_model(), "text", tmp_path) == env_model()["summary"]["text"] + " (mine)\n"


def test_the_terminal_view_needs_no_graph() -> None:
    plan, manifest = small_plan()
    light = build_report(plan, manifest, graph=False)
    assert light["graph"] is None and build_report(plan, manifest)["graph"]["nodes"]
    assert shipped_text(light) == through_jinja(build_report(plan, manifest))
