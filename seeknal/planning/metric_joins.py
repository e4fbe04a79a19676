"""The FROM clause of a metric query that reads several semantic models. Pure.

The first model (the one of the first dimension, else of the first metric) is the base; every
other model is LEFT JOINed to it by the first of: the base's `joins:` entry naming it, its own
entry naming the base, or an entity both models declare (equal values of that column). Models
with no such link are refused rather than crossed.
"""

from __future__ import annotations

from collections.abc import Sequence

from seeknal.errors import SeeknalError
from seeknal.kinds.semantic_defs import SemanticModel
from seeknal.sql.quote import ident


def from_clause(models: Sequence[SemanticModel]) -> str:
    base = models[0]
    lines = [f"FROM ref('{base.model}') AS {ident(base.table)}"]
    for model in models[1:]:
        condition = _condition(base, model, models)
        lines.append(f"LEFT JOIN ref('{model.model}') AS {ident(model.table)} ON {condition}")
    return "\n".join(lines)


def _condition(base: SemanticModel, model: SemanticModel, models: Sequence[SemanticModel]) -> str:
    declared = base.join(model.name) or model.join(base.name)
    if declared is not None:
        sql = declared.sql.replace("{CUBE}", ident(base.table))
        for other in models:
            sql = sql.replace("{" + other.name + "}", ident(other.table))
        return sql
    shared = [e for e in base.entities if e in model.entities]
    if shared:
        column = ident(shared[0])
        return f"{ident(base.table)}.{column} = {ident(model.table)}.{column}"
    raise SeeknalError(
        f"The query reads semantic models '{base.name}' and '{model.name}', which share no "
        "entity and declare no join.",
        f"Add to {base.file_path}: joins: [{{name: {model.name}, sql: "
        f"'{{CUBE}}.<key> = {{{model.name}}}.<key>'}}], or an entity both models declare.",
    )
