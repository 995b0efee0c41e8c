"""One vocabulary: the words users send for grids, measures, break-evens and stresses are
engine enums; the API schemas derive their Literals from them, and the math never compares a
value with one of those words written as a string."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from app.engine.sensitivity import (
    BREAKEVEN_MEASURES,
    BreakEvenVariable,
    GridVariable,
    Measure,
    StandardStress,
    standard_stresses,
)
from app.engine.sensitivity import vocabulary as voc
from app.models import scenarios as schemas

SENSITIVITY = Path(__file__).resolve().parents[2] / "app" / "engine" / "sensitivity"
WORDS = {
    m.value
    for enum in (GridVariable, Measure, BreakEvenVariable, StandardStress, voc.BasisKind)
    for m in enum
}


@pytest.mark.parametrize(
    ("literal", "members"),
    [
        (schemas.GridVariable, list(GridVariable)),
        (schemas.Measure, list(Measure)),
        (schemas.BreakEvenVariableName, list(BreakEvenVariable)),
        (schemas.BreakEvenMeasureName, list(BREAKEVEN_MEASURES)),
    ],
)
def test_schema_literals_are_the_engine_words_in_order(literal: object, members: list) -> None:
    assert get_args(literal) == tuple(m.value for m in members)


def test_schema_enums_in_the_openapi_document() -> None:
    schema = schemas.AxisIn.model_json_schema()
    assert schema["properties"]["variable"]["enum"] == [v.value for v in GridVariable]
    be = schemas.BreakEvenRequest.model_json_schema()["properties"]
    assert be["measure"]["enum"] == [
        "cumulative_loss",
        "cumulative_loss_fraction",
        "yield",
        "npv",
        "price_percent",
    ]


def test_standard_stresses_are_named_by_the_enum_in_order() -> None:
    assert [s.name for s in standard_stresses()] == [s.value for s in StandardStress]


def test_member_of_parses_words_and_refuses_others() -> None:
    assert voc.member_of(Measure, "npv") is Measure.NPV
    assert voc.member_of(Measure, Measure.WAL) is Measure.WAL
    assert voc.member_of(Measure, "NPV") is None
    assert voc.member_of(GridVariable, 3) is None


def _string_comparisons(path: Path) -> list[str]:
    """`x == "word"`, `x != "word"`, `x in ("word", ...)` with a vocabulary word."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            consts = (
                [side]
                if isinstance(side, ast.Constant)
                else list(side.elts)
                if isinstance(side, ast.Tuple | ast.List | ast.Set)
                else []
            )
            for c in consts:
                if isinstance(c, ast.Constant) and c.value in WORDS:
                    found.append(f"{path.name}:{node.lineno} compares with {c.value!r}")
    return found


def test_no_string_comparisons_with_vocabulary_words_in_the_math() -> None:
    files = [p for p in sorted(SENSITIVITY.glob("*.py")) if p.name != "vocabulary.py"]
    assert len(files) >= 8
    bad = [b for p in files for b in _string_comparisons(p)]
    assert not bad, "\n".join(bad)


def test_the_comparison_check_catches_one(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text('def g(v, k):\n    return v == "cdr" or k in ("npv", "x")\n')
    assert len(_string_comparisons(f)) == 2
