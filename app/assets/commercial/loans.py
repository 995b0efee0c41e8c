"""Commercial loan fields that ride along a `LoanPool` as extra columns, parsed and validated.

Every problem is reported together (row = 0-based loan position, column = field, reason names
the loan id). Units: `noi` annual net operating income and `property_value` in the pool's
currency; `cap_rate`, `occupancy`, `pd_annual`, `severity` decimals; months are whole months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.assets.commercial.property_types import PROPERTY_TYPE_CODES, defaults_array
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.pool import LoanPool

CRE_FIELDS: tuple[str, ...] = (
    "property_type",
    "noi",
    "property_value",
    "cap_rate",
    "state",
    "msa",
    "sponsor",
    "occupancy",
    "prepayment_lockout_months",
    "yield_maintenance",
    "extension_months",
    "pd_annual",
    "severity",
    "correlation",
)
"""Extra columns read by the commercial asset class (io_months and amortization_term_months
are the engine's own LoanPool fields)."""


_MISSING = frozenset({"", "none", "nan", "null"})
"""Cell texts read as missing (a stored tape writes an empty text cell as "None")."""


@dataclass(frozen=True, eq=False)
class CommercialLoans:
    """A pool plus its commercial fields, one array entry per loan (see module docstring).

    cap_rate: the loan's cap rate; when not given NOI / property_value, else the type default.
    property_value: today's value; when not given NOI / cap_rate.
    value_factor: property_value x cap_rate / NOI (1 when value and cap rate agree): the
        appraisal's premium over capitalised NOI, kept when NOI or the cap rate is stressed.
    pd_annual, severity, correlation: caller overrides (NaN = use the models/type defaults).
    """

    pool: LoanPool
    property_type: np.ndarray  # int codes of PROPERTY_TYPE_CODES
    noi: np.ndarray
    property_value: np.ndarray
    cap_rate: np.ndarray
    value_factor: np.ndarray
    state: np.ndarray
    msa: np.ndarray
    sponsor: np.ndarray
    occupancy: np.ndarray
    lockout_months: np.ndarray
    yield_maintenance: np.ndarray
    extension_months: np.ndarray
    pd_annual: np.ndarray
    severity: np.ndarray
    correlation: np.ndarray

    def __len__(self) -> int:
        return len(self.pool)

    def type_default(self, name: str) -> np.ndarray:
        """Per-loan property-type default of `name` (a PropertyDefaults field)."""
        return np.asarray(defaults_array(name), dtype=np.float64)[self.property_type]


def _floats(pool: LoanPool, name: str, problems: list[FieldProblem]) -> np.ndarray:
    """An extra column as float64 (missing/None -> NaN); unparseable cells are reported."""
    n = len(pool)
    col = pool.extra.get(name)
    if col is None:
        return np.full(n, np.nan)
    arr = np.asarray(col)
    if arr.dtype.kind == "b":
        problems.append(FieldProblem(None, name, "expected numbers, got booleans"))
        return np.full(n, np.nan)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        out = np.full(n, np.nan)
        for i, v in enumerate(arr.tolist()):
            if v is None or (isinstance(v, str) and v.strip().lower() in _MISSING):
                continue
            try:
                out[i] = float(v)
            except (TypeError, ValueError):
                problems.append(
                    FieldProblem(i, name, f"loan {pool.loan_id[i]!s}: not a number: {v!r}")
                )
        return out


def _texts(pool: LoanPool, name: str, default: str) -> np.ndarray:
    col = pool.extra.get(name)
    if col is None:
        return np.full(len(pool), default, dtype=object)
    vals = [
        default if v is None or str(v).strip().lower() in _MISSING else str(v).strip()
        for v in np.asarray(col).tolist()
    ]
    return np.asarray(vals, dtype=object)


def _bools(pool: LoanPool, name: str, problems: list[FieldProblem]) -> np.ndarray:
    col = pool.extra.get(name)
    if col is None:
        return np.zeros(len(pool), dtype=bool)
    out = np.zeros(len(pool), dtype=bool)
    for i, v in enumerate(np.asarray(col).tolist()):
        if v is None or (isinstance(v, str) and v.strip().lower() in _MISSING):
            continue
        if isinstance(v, bool | np.bool_) or v in (0, 1):
            out[i] = bool(v)
        elif isinstance(v, str) and v.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
            out[i] = v.strip().lower() in ("true", "1", "yes")
        else:
            problems.append(
                FieldProblem(i, name, f"loan {pool.loan_id[i]!s}: expected true/false, got {v!r}")
            )
    return out


def _flag(
    pool: LoanPool, name: str, mask: np.ndarray, reason: str, problems: list[FieldProblem]
) -> None:
    for row in np.flatnonzero(mask).tolist():
        problems.append(FieldProblem(row, name, f"loan {pool.loan_id[row]!s}: {reason}"))


def commercial_loans(pool: LoanPool) -> CommercialLoans:
    """Read and validate the commercial fields of `pool` (raises InvalidInput with every problem).

    Required: property_type (one of PropertyType) and noi > 0 (DSCR and debt yield divide by
    it). Optional: property_value > 0, 0 < cap_rate < 1, occupancy, pd_annual and severity in
    [0, 1], correlation in [0, 1), months >= 0 (whole), yield_maintenance true/false.
    """
    problems: list[FieldProblem] = []
    ids = pool.loan_id
    raw_type = _texts(pool, "property_type", "")
    codes = np.array(
        [PROPERTY_TYPE_CODES.get(t.lower(), -1) for t in raw_type.tolist()], dtype=np.int64
    )
    known = sorted(PROPERTY_TYPE_CODES)
    for row in np.flatnonzero(codes < 0).tolist():
        shown = raw_type[row]
        reason = "missing property_type" if shown == "" else f"unknown property type {shown!r}"
        problems.append(
            FieldProblem(
                row, "property_type", f"loan {ids[row]!s}: {reason}; expected one of {known}"
            )
        )
    codes = np.where(codes < 0, 0, codes)

    noi = _floats(pool, "noi", problems)
    value = _floats(pool, "property_value", problems)
    cap = _floats(pool, "cap_rate", problems)
    occ = _floats(pool, "occupancy", problems)
    pd_ = _floats(pool, "pd_annual", problems)
    sev = _floats(pool, "severity", problems)
    rho = _floats(pool, "correlation", problems)
    months = {
        k: _floats(pool, k, problems) for k in ("prepayment_lockout_months", "extension_months")
    }
    ym = _bools(pool, "yield_maintenance", problems)

    if "noi" not in pool.extra:
        problems.append(
            FieldProblem(None, "noi", "required column is missing (annual NOI, currency)")
        )
    else:
        _flag(pool, "noi", np.isnan(noi), "missing noi (annual NOI is needed for DSCR)", problems)
        _flag(
            pool,
            "noi",
            ~np.isnan(noi) & ~(noi > 0),
            "noi must be > 0 for a DSCR (got <= 0)",
            problems,
        )
        _flag(pool, "noi", np.isinf(noi), "noi must be finite", problems)
    _flag(
        pool,
        "property_value",
        ~np.isnan(value) & ~((value > 0) & np.isfinite(value)),
        "property_value must be > 0 and finite",
        problems,
    )
    _flag(
        pool,
        "cap_rate",
        ~np.isnan(cap) & ~((cap > 0) & (cap < 1)),
        "cap_rate must satisfy 0 < cap_rate < 1",
        problems,
    )
    _flag(
        pool,
        "occupancy",
        ~np.isnan(occ) & ~((occ >= 0) & (occ <= 1)),
        "occupancy must be a decimal in [0, 1]",
        problems,
    )
    _flag(
        pool,
        "pd_annual",
        ~np.isnan(pd_) & ~((pd_ >= 0) & (pd_ <= 1)),
        "pd_annual must be a probability in [0, 1]",
        problems,
    )
    _flag(
        pool,
        "severity",
        ~np.isnan(sev) & ~((sev >= 0) & (sev <= 1)),
        "severity must be a decimal in [0, 1]",
        problems,
    )
    _flag(
        pool,
        "correlation",
        ~np.isnan(rho) & ~((rho >= 0) & (rho < 1)),
        "correlation must satisfy 0 <= correlation < 1",
        problems,
    )
    for name, arr in months.items():
        fin = ~np.isnan(arr)
        _flag(
            pool,
            name,
            fin & ~((arr >= 0) & (arr == np.round(arr)) & np.isfinite(arr)),
            "must be a whole number of months >= 0",
            problems,
        )
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.column))
        raise InvalidInput(problems)

    type_cap = np.asarray(defaults_array("cap_rate"))[codes]
    cap_eff = np.where(
        np.isnan(cap),
        np.where(np.isnan(value), type_cap, noi / np.where(np.isnan(value), 1.0, value)),
        cap,
    )
    value_eff = np.where(np.isnan(value), noi / cap_eff, value)
    return CommercialLoans(
        pool=pool,
        property_type=codes,
        noi=noi,
        property_value=value_eff,
        cap_rate=cap_eff,
        value_factor=value_eff * cap_eff / noi,
        state=_texts(pool, "state", "unknown"),
        msa=_texts(pool, "msa", "unknown"),
        sponsor=_texts(pool, "sponsor", "unknown"),
        occupancy=occ,
        lockout_months=np.nan_to_num(months["prepayment_lockout_months"]).astype(np.int64),
        yield_maintenance=ym,
        extension_months=np.nan_to_num(months["extension_months"]).astype(np.int64),
        pd_annual=pd_,
        severity=sev,
        correlation=rho,
    )
