"""`{{ ... }}` placeholders: common config, built-ins, env vars and --params."""

from __future__ import annotations

import datetime as dt

import pytest

from seeknal.project.placeholders import (
    UnknownPlaceholder,
    builtin_values,
    common_values,
    render,
    render_tree,
)


def test_common_values_flatten_sources_rules_and_transformations() -> None:
    values = common_values(
        [{"id": "orders", "ref": "source.orders", "params": {"dateCol": "order_date", "n": 3}}],
        [{"id": "completed", "value": "status = 'completed'"}],
        [{"id": "net", "sql": "amount * (1 - discount)"}],
    )
    assert values == {
        "orders": "ref('source.orders')",
        "orders.dateCol": "order_date",
        "orders.n": "3",
        "rules.completed": "status = 'completed'",
        "transforms.net": "amount * (1 - discount)",
    }


def test_render_replaces_keys_with_any_spacing() -> None:
    values = {"rules.ok": "x > 1", "orders": "ref('source.orders')"}
    assert render("SELECT * FROM {{orders}} WHERE {{   rules.ok }}", values) == (
        "SELECT * FROM ref('source.orders') WHERE x > 1"
    )


def test_env_placeholder_reads_the_environment_or_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEEKNAL_T_VAR", raising=False)
    assert render("{{ env:SEEKNAL_T_VAR|fallback }}", {}) == "fallback"
    assert render("{{ env:SEEKNAL_T_VAR }}", {}) == ""
    monkeypatch.setenv("SEEKNAL_T_VAR", "set")
    assert render("{{ env:SEEKNAL_T_VAR|fallback }}", {}) == "set"


def test_builtins_and_params() -> None:
    day = dt.date(2024, 3, 1)
    values = builtin_values("run-1", {"region": "eu", "flag": True}, today=day)
    assert values["today"] == "2024-03-01"
    assert values["yesterday"] == "2024-02-29"
    assert values["run_date"] == "2024-03-01"
    assert values["run_id"] == "run-1"
    assert values["region"] == "eu"
    assert values["flag"] == "true"
    assert builtin_values("r", {"run_date": "2023-12-31"}, today=day)["run_date"] == "2023-12-31"


def test_unknown_key_names_the_closest_known_key() -> None:
    with pytest.raises(UnknownPlaceholder) as info:
        render("WHERE {{ rules.complted }}", {"rules.completed": "x", "orders.dateCol": "d"})
    assert info.value.key == "rules.complted"
    assert info.value.suggestion == "rules.completed"
    assert "rules.completed" in str(info.value)


def test_values_may_use_placeholders_themselves() -> None:
    values = {"transforms.net": "{{ orders.amount }} * 0.9", "orders.amount": "amount"}
    assert render("{{ transforms.net }}", values) == "amount * 0.9"


def test_self_referencing_value_stops_instead_of_recursing_forever() -> None:
    values = {"a": "{{ a }}x"}
    assert render("{{ a }}", values).endswith("x")


def test_render_tree_renders_nested_strings_only() -> None:
    tree = {"a": ["{{ k }}", 1, {"b": "{{ k }}!"}], "n": None, "t": True}
    assert render_tree(tree, {"k": "v"}) == {"a": ["v", 1, {"b": "v!"}], "n": None, "t": True}


def test_text_without_placeholders_is_untouched() -> None:
    sql = "SELECT {'a': 1} AS s, '{x}' AS t"
    assert render(sql, {}) == sql
