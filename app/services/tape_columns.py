"""Which columns of an uploaded tape are kept: the engine's loan fields, and the loan fields of
the asset-class analyses (commercial, consumer credit), which ride along for those routes. Any
other column maps to no field: it is not stored, and the upload's answer names it
(`unmapped_columns`, with a warning), so that nothing is carried silently."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.engine.pool import LoanPool
from app.models.commercial import COMMERCIAL_LOAN_FIELDS
from app.models.consumer_credit import CONSUMER_LOAN_FIELDS

ASSET_CLASS_FIELDS: dict[str, str] = {
    **{name: "commercial-loans" for name in COMMERCIAL_LOAN_FIELDS},
    **{name: "consumer-credit" for name in CONSUMER_LOAN_FIELDS},
}
"""Loan field -> the asset-class analysis that reads it."""


@dataclass(frozen=True)
class TapeColumnReport:
    """Tape columns kept for the asset-class analyses, and those that map to no field."""

    kept_columns: list[str] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sort_columns(
    pool: LoanPool, column_map: Mapping[str, str] | None
) -> tuple[LoanPool, TapeColumnReport]:
    """The pool without the columns that map to no field, and the report of what was done.
    Column names in the report are the tape's (before `column_map`)."""
    source_of = {target: source for source, target in (column_map or {}).items()}
    kept: dict[str, object] = {}
    kept_names: list[str] = []
    unmapped: list[str] = []
    warnings: list[str] = []
    for name, values in pool.extra.items():
        tape_name = source_of.get(name, name)
        route = ASSET_CLASS_FIELDS.get(name)
        if route is None:
            unmapped.append(tape_name)
            continue
        kept[name] = values
        kept_names.append(tape_name)
        warnings.append(
            f"column {tape_name!r} ({name}) kept for asset-class analyses ({route}); "
            "the cash-flow projection does not use it"
        )
    if unmapped:
        warnings.append(
            f"column(s) {', '.join(repr(c) for c in unmapped)} map to no loan field and were "
            "not stored; map them with column_map if they are a field under another name"
        )
    if not unmapped:
        return pool, TapeColumnReport(kept_names, [], warnings)
    trimmed = dataclasses.replace(pool, extra=kept)  # type: ignore[arg-type]
    return trimmed, TapeColumnReport(kept_names, unmapped, warnings)
