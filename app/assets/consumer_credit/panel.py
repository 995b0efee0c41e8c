"""A loan performance panel, rows (loan_id, period, state[, balance]) plus loan attributes, turned
into integer-coded arrays sorted by (loan, period) with every bad row reported at once.

Periods are months: integers (a month index), 'YYYY-MM[-DD]' strings or dates; they are coded
as year * 12 + month - 1 so that consecutive months differ by exactly 1. Balances are in the
pool's currency and must be finite and >= 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.assets.consumer_credit.states import StateSpace
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.markov import sorted_and_checked

REQUIRED = ("loan_id", "period", "state")


def as_array(values: Any) -> pa.Array:
    """Any column (list, NumPy array, Arrow array/chunked array) as one Arrow array."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, from_pandas=True)


def arrays(columns: Mapping[str, Any]) -> dict[str, pa.Array]:
    """Every column as one Arrow array; a column Arrow cannot type (mixed numbers and text, nested
    lists) is an InvalidInput naming it."""
    out: dict[str, pa.Array] = {}
    problems: list[FieldProblem] = []
    for name, values in columns.items():
        try:
            out[name] = as_array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            problems.append(
                FieldProblem(None, name, f"values must all be numbers or all text: {exc}")
            )
    if problems:
        raise InvalidInput(problems)
    return out


def float_column(arr: pa.Array, name: str) -> np.ndarray:
    try:
        return pc.fill_null(pc.cast(arr, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidInput([FieldProblem(None, name, f"must be numbers: {exc}")]) from exc


def month_index(values: Any, name: str = "period") -> tuple[np.ndarray, np.ndarray]:
    """(month index int64, missing mask): integers as given; 'YYYY-MM[-DD]' strings and dates
    as year * 12 + month - 1."""
    arr = as_array(values)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_integer(arr.type):
        return pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64), missing
    if pa.types.is_floating(arr.type):
        f = pc.fill_null(arr, 0.0).to_numpy(zero_copy_only=False)
        if np.any(f != np.round(f)) or not np.all(np.isfinite(f)):
            bad = np.flatnonzero((f != np.round(f)) | ~np.isfinite(f))
            raise InvalidInput(
                [FieldProblem(int(r), name, "must be a whole month number") for r in bad[:20]]
            )
        return f.astype(np.int64), missing
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        y = pc.fill_null(pc.year(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        m = pc.fill_null(pc.month(arr), 1).to_numpy(zero_copy_only=False).astype(np.int64)
        return y * 12 + m - 1, missing
    s = pc.cast(arr, pa.string())
    ok = pc.fill_null(pc.match_substring_regex(s, r"^\d{4}-\d{2}(-\d{2})?$"), True)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False) & ~missing)
    if bad.size:
        raise InvalidInput(
            [
                FieldProblem(
                    int(r), name, "must be an integer month or a 'YYYY-MM' / 'YYYY-MM-DD' date"
                )
                for r in bad[:20]
            ]
        )
    filled = pc.fill_null(s, "0000-01")
    y = pc.cast(pc.utf8_slice_codeunits(filled, 0, 4), pa.int64()).to_numpy(zero_copy_only=False)
    m = pc.cast(pc.utf8_slice_codeunits(filled, 5, 7), pa.int64()).to_numpy(zero_copy_only=False)
    if np.any((m < 1) | (m > 12)):
        bad = np.flatnonzero((m < 1) | (m > 12))
        raise InvalidInput([FieldProblem(int(r), name, "month must be 01..12") for r in bad[:20]])
    return y * 12 + m - 1, missing


def codes_of(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes (int64, null -> its own code at the end) and the distinct values."""
    arr = as_array(values)
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    labels = arr.dictionary.to_pylist()
    idx = pc.fill_null(arr.indices, len(labels)).to_numpy(zero_copy_only=False).astype(np.int64)
    if arr.null_count:
        labels = [*labels, None]
    return idx, labels


@dataclass(frozen=True)
class Panel:
    """A validated panel sorted by (loan, period): `rows[k]` is the input row of sorted row k."""

    space: StateSpace
    loan: np.ndarray  # int64 loan codes
    loan_ids: list[Any]
    period: np.ndarray  # int64 month index
    state: np.ndarray  # int64 state codes, -1 missing
    balance: np.ndarray | None
    rows: np.ndarray
    attributes: dict[str, pa.Array] = field(default_factory=dict)  # sorted like the rows

    def __len__(self) -> int:
        return int(self.loan.shape[0])

    @property
    def n_loans(self) -> int:
        return len(self.loan_ids)

    def attribute(self, name: str) -> pa.Array:
        if name not in self.attributes:
            raise InvalidInput(
                [FieldProblem(None, name, "no such column in the performance panel")]
            )
        return self.attributes[name]

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], space: StateSpace) -> Panel:
        """Validate and code the columns; InvalidInput lists every (row, column, reason) found:
        missing required columns, unknown states, negative or non-finite balances, duplicated
        (loan_id, period) rows and moves out of an absorbing state."""
        problems = [
            FieldProblem(None, c, "required column is missing")
            for c in REQUIRED
            if c not in columns
        ]
        if problems:
            raise InvalidInput(problems)
        columns = arrays(columns)
        n = len(as_array(columns["loan_id"]))
        for name, col in columns.items():
            if len(as_array(col)) != n:
                problems.append(
                    FieldProblem(None, name, f"has {len(as_array(col))} rows, loan_id has {n}")
                )
        if problems:
            raise InvalidInput(problems)
        loan_arr = as_array(columns["loan_id"])
        if loan_arr.null_count:
            bad = np.flatnonzero(loan_arr.is_null().to_numpy(zero_copy_only=False))
            problems += [FieldProblem(int(r), "loan_id", "missing value") for r in bad[:20]]
        period, p_missing = month_index(columns["period"])
        problems += [
            FieldProblem(int(r), "period", "missing value") for r in np.flatnonzero(p_missing)[:20]
        ]
        state = space.codes(columns["state"])
        balance = None
        if "balance" in columns and columns["balance"] is not None:
            balance = float_column(columns["balance"], "balance")
            bad = np.flatnonzero(~(balance >= 0) | ~np.isfinite(balance))
            problems += [
                FieldProblem(int(r), "balance", "must be a finite number >= 0") for r in bad[:20]
            ]
        if problems:
            raise InvalidInput(problems)
        loan, loan_ids = codes_of(loan_arr)
        order, problems = sorted_and_checked(loan, period, state, space.absorbing)
        if problems:
            raise InvalidInput(problems)
        rows = np.arange(n) if order is None else order
        if order is not None:
            loan, period, state = loan[order], period[order], state[order]
            balance = None if balance is None else balance[order]
        attrs = {
            k: (as_array(v) if order is None else as_array(v).take(pa.array(order)))
            for k, v in columns.items()
            if k not in ("loan_id", "period", "state", "balance")
        }
        return cls(space, loan, loan_ids, period, state, balance, rows, attrs)
