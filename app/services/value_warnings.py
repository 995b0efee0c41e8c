"""Null-with-a-reason, shared by every route: a value that cannot be computed (an engine
failure for one measure, a NaN or an infinity) leaves as JSON `null` plus a `warnings` entry
naming the field and why, never as a NaN in JSON and never as a 422 for the whole request.

    warnings = Warnings()
    out = {"npv": warnings.finite("npv", value), ...}
    response = {**out, "warnings": warnings.items()}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.models.warnings import ValueWarning

NOT_FINITE = "the computation gave {value}, not a finite number"


class Warnings:
    """Collects (field, reason) pairs in order; one entry per field (the first reason wins)."""

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}

    def add(self, field: str, reason: str) -> None:
        self._reasons.setdefault(field, reason)

    def add_all(self, reasons: Mapping[str, str], prefix: str = "") -> None:
        for field, reason in reasons.items():
            self.add(f"{prefix}{field}", reason)

    def finite(self, field: str, value: Any) -> float | None:
        """`value` as a float, or None (with a warning) when it is NaN or infinite."""
        if value is None:
            return None
        number = float(value)
        if not math.isfinite(number):
            self.add(field, NOT_FINITE.format(value=number))
            return None
        return number

    def finite_map(self, values: Mapping[str, Any], prefix: str = "") -> dict[str, float | None]:
        """Each value through `finite`, keyed as given (fields named `prefix + key`)."""
        return {k: self.finite(f"{prefix}{k}", v) for k, v in values.items()}

    def items(self) -> list[ValueWarning]:
        return [ValueWarning(field=f, reason=r) for f, r in self._reasons.items()]

    def __bool__(self) -> bool:
        return bool(self._reasons)
