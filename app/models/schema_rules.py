"""Cross-field rules written into the OpenAPI document, so that it tells clients (and fuzzers)
the truth: "exactly one of" and "at most one of" a set of optional fields.

Pydantic renders an optional field as `anyOf: [<type>, null]` and a model validator is
invisible to JSON Schema. `exactly_one_of("a", "b")` returns a `json_schema_extra` that
drops the `null` branch of those fields (send the field, or leave it out) and adds
`oneOf: [{required: [a]}, {required: [b]}]`; `at_most_one_of` adds `not: {required: [a, b]}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JsonSchema = dict[str, Any]


def _drop_null(prop: JsonSchema) -> None:
    options = prop.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
    if prop.get("default", "missing") is None:
        prop.pop("default")


def _extra(
    names: tuple[str, ...], rule: Callable[[JsonSchema], None], examples: list[Any] | None
) -> Callable[[JsonSchema], None]:
    def apply(schema: JsonSchema) -> None:
        props = schema.get("properties", {})
        for name in names:
            if name in props:
                _drop_null(props[name])
        rule(schema)
        if examples is not None:
            schema["examples"] = examples

    return apply


def exactly_one_of(*names: str, examples: list[Any] | None = None) -> Callable[[JsonSchema], None]:
    """json_schema_extra: exactly one of `names` is given (and none of them is null)."""

    def rule(schema: JsonSchema) -> None:
        schema["oneOf"] = [{"required": [n]} for n in names]

    return _extra(names, rule, examples)


def at_most_one_of(
    *groups: tuple[str, ...], examples: list[Any] | None = None
) -> Callable[[JsonSchema], None]:
    """json_schema_extra: in each group, at most one field is given (none of them null)."""
    names = tuple(n for g in groups for n in g)

    def rule(schema: JsonSchema) -> None:
        clauses = [{"not": {"required": list(g)}} for g in groups]
        schema.setdefault("allOf", []).extend(clauses)

    return _extra(names, rule, examples)
