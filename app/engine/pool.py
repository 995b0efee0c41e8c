"""A loan pool as flat NumPy arrays, built from columns with documented defaults and validation.

Every row is checked at once (vectorised) and every problem is reported together in one
`InvalidInput`: row (0-based), column, reason. Conventions: rates are annual decimals, terms and
ages in months, balances in the pool's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.types import Amortization, RateType

AMORTIZATION_NAMES: dict[str, int] = {
    "level": Amortization.LEVEL,
    "interest_only": Amortization.INTEREST_ONLY,
    "balloon": Amortization.BALLOON,
    "bullet": Amortization.BULLET,
    "linear": Amortization.LINEAR,
}
RATE_TYPE_NAMES: dict[str, int] = {"fixed": RateType.FIXED, "floating": RateType.FLOATING}
FREQUENCY_NAMES: dict[str, int] = {"monthly": 1, "quarterly": 3, "1": 1, "3": 3}

KNOWN_FIELDS: tuple[str, ...] = (
    "loan_id",
    "balance",
    "rate",
    "net_rate",
    "servicing_fee",
    "original_term_months",
    "age_months",
    "amortization",
    "io_months",
    "amortization_term_months",
    "payment_frequency",
    "rate_type",
    "index_name",
    "margin",
    "reset_months",
    "periodic_cap",
    "periodic_floor",
    "life_cap",
    "life_floor",
)
"""Field names `LoanPool.from_columns` understands; any other column rides along in `extra`."""

FIELD_ALIASES: dict[str, str] = {"index": "index_name"}

DEFAULTS: dict[str, Any] = {
    "age_months": 0,
    "amortization": "level",
    "io_months": 0,
    "payment_frequency": 1,
    "rate_type": "fixed",
    "index_name": "",
    "margin": 0.0,
    "reset_months": 12,
    "periodic_cap": np.inf,
    "periodic_floor": np.inf,
    "life_cap": np.inf,
    "life_floor": 0.0,
}
"""Defaults for optional fields (missing column or empty cell). Also: `loan_id` defaults to the
row number; `net_rate` to `rate - servicing_fee` (servicing_fee defaults to 0);
`amortization_term_months` to `original_term_months`. Floating-rate caps: `periodic_cap` and
`periodic_floor` are the largest rise and fall of the coupon at one reset (decimals, default
none); `life_cap` and `life_floor` are absolute coupon bounds (default: none above, 0 below)."""

REQUIRED: tuple[str, ...] = ("balance", "rate", "original_term_months")

MAX_TERM_MONTHS = 1200
"""Longest term, age, IO or amortisation term a loan may state (100 years, in months)."""
MAX_BALANCE = 1e15
"""Largest loan balance (currency): far above any real loan, far below float overflow in sums."""
MAX_ABS_MARGIN = 1.0
"""Largest |margin| of a floating-rate loan (decimal per year)."""
MAX_PROBLEMS_PER_CHECK = 100
"""Rows listed per failed rule; the rest are counted in one summary problem (bounded cost)."""

_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass(frozen=True, eq=False)
class LoanPool:
    """n loans as flat arrays (index i is loan i). See module `DEFAULTS` for optional fields.

    balance: current balance (currency); rate/net_rate: gross/net annual coupon (decimal);
    original_term_months, age_months: remaining term = original - age;
    amortization: int8 codes of `Amortization`; payment_frequency: months between payments (1, 3);
    rate_type: int8 codes of `RateType`; floating fields apply to floating-rate loans only.
    """

    loan_id: np.ndarray
    balance: np.ndarray
    rate: np.ndarray
    net_rate: np.ndarray
    original_term_months: np.ndarray
    age_months: np.ndarray
    io_months: np.ndarray
    amortization_term_months: np.ndarray
    amortization: np.ndarray
    payment_frequency: np.ndarray
    rate_type: np.ndarray
    index_name: np.ndarray
    margin: np.ndarray
    reset_months: np.ndarray
    periodic_cap: np.ndarray
    periodic_floor: np.ndarray
    life_cap: np.ndarray
    life_floor: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.balance.shape[0])

    @property
    def total_balance(self) -> float:
        """Sum of current balances (currency)."""
        return float(self.balance.sum())

    @property
    def remaining_term_months(self) -> np.ndarray:
        """original_term_months - age_months (int64)."""
        return self.original_term_months - self.age_months

    def take(self, idx: np.ndarray) -> LoanPool:
        """A sub-pool of the loans at positions `idx` (vectorised fancy indexing)."""
        kw = {f: getattr(self, f)[idx] for f in _ARRAY_FIELDS}
        return LoanPool(**kw, extra={k: v[idx] for k, v in self.extra.items()})

    @classmethod
    def from_columns(cls, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> LoanPool:
        """Build and validate a pool from columns keyed by the issue's field names.

        Enum columns take strings ("level", "interest_only", "balloon", "bullet", "linear";
        "fixed"/"floating"; payment_frequency 1/3 or "monthly"/"quarterly"). Raises
        `InvalidInput` listing every (row, column, reason) problem found.

        >>> p = LoanPool.from_columns({"balance": [100.0], "rate": [0.06],
        ...                            "original_term_months": [360]})
        >>> len(p), float(p.net_rate[0]), int(p.amortization[0])
        (1, 0.06, 0)
        """
        return _build(columns)


_ARRAY_FIELDS: tuple[str, ...] = (
    "loan_id",
    "balance",
    "rate",
    "net_rate",
    "original_term_months",
    "age_months",
    "io_months",
    "amortization_term_months",
    "amortization",
    "payment_frequency",
    "rate_type",
    "index_name",
    "margin",
    "reset_months",
    "periodic_cap",
    "periodic_floor",
    "life_cap",
    "life_floor",
)


def _n_rows(columns: Mapping[str, Any]) -> int:
    lengths = {name: len(col) for name, col in columns.items()}
    if not lengths:
        raise InvalidInput([FieldProblem(None, "balance", "no columns given")])
    distinct = set(lengths.values())
    if len(distinct) > 1:
        raise InvalidInput(
            [
                FieldProblem(None, name, f"length {ln} differs from the other columns")
                for name, ln in lengths.items()
                if ln != max(lengths.values(), key=list(lengths.values()).count)
            ]
        )
    return distinct.pop()


def _to_arrow(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return pa.array(arr)
    try:
        return pa.array(arr.tolist() if arr.dtype.kind == "O" else arr, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # OverflowError: ints > 64 bit
        # Mixed Python types: compare their text; unparseable cells are reported per row.
        obj = arr.astype(object)
        cells = [None if v is None else str(v) for v in obj.tolist()]
        return pa.array(cells, type=pa.string())


def _numeric(
    name: str, values: Any, n: int, problems: list[FieldProblem]
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column to float64; returns (values, missing mask). Bad text is reported."""
    arr = _to_arrow(values)
    if pa.types.is_boolean(arr.type):
        problems.append(FieldProblem(None, name, "expected numbers, got booleans"))
        return np.zeros(n), np.zeros(n, dtype=bool)
    if (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_null(arr.type)
    ):
        # integers beyond 2^53 become the nearest float (and then fail the field's bounds with
        # a located problem); nulls become NaN. A null-typed column goes through Arrow's cast.
        if pa.types.is_null(arr.type):
            arr = pc.cast(arr, pa.float64())
        out = arr.to_numpy(zero_copy_only=False).astype(np.float64)
        missing = np.isnan(out)
        return out, missing
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    stripped = pc.utf8_trim_whitespace(arr)
    missing = pc.fill_null(pc.equal(stripped, ""), True).to_numpy(zero_copy_only=False)
    ok = pc.fill_null(pc.match_substring_regex(arr, _NUMBER_RE), False).to_numpy(
        zero_copy_only=False
    )
    bad = np.flatnonzero(~ok & ~missing)
    for row in bad[:MAX_PROBLEMS_PER_CHECK].tolist():
        problems.append(FieldProblem(row, name, f"not a number: {str(arr[row].as_py())[:40]!r}"))
    _summarise(name, bad.size, "not a number", problems)
    text = pc.if_else(pa.array(ok), stripped, pa.scalar("nan"))
    out = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    out[~ok] = np.nan
    return out, missing


def _strings(values: Any) -> pa.Array:
    """A column as an Arrow string array (dictionary-decoded; numbers cast to text)."""
    arr = _to_arrow(values)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(arr)


def _enum(
    name: str,
    values: Any,
    mapping: Mapping[str, int],
    default: str,
    n: int,
    problems: list[FieldProblem],
) -> np.ndarray:
    """Codes of an enum column (case-insensitive text; numbers for numeric keys such as 1/3).

    Missing column or empty cell -> the default. Unknown values are reported per row.
    """
    if values is None:
        return np.full(n, mapping[default], dtype=np.int64)
    arr = _to_arrow(values)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        num = pc.cast(arr, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        codes = np.full(n, -1, dtype=np.int64)
        for key, val in mapping.items():
            if key.isdigit():
                codes[num == float(key)] = val
        codes[np.isnan(num)] = mapping[default]
        bad_text = None
    else:
        text = pc.utf8_lower(_strings(arr))
        enc = pc.dictionary_encode(text)
        dictionary = enc.dictionary.to_pylist()
        codes_u = np.array(
            [mapping.get(u, -1) if u != "" else -2 for u in dictionary] + [-2], dtype=np.int64
        )
        idx = pc.fill_null(enc.indices, len(dictionary)).to_numpy(zero_copy_only=False)
        codes = codes_u[idx]
        codes[codes == -2] = mapping[default]
        bad_text = text
    expected = f"expected one of {sorted(set(mapping))}"
    bad = np.flatnonzero(codes < 0)
    for row in bad[:MAX_PROBLEMS_PER_CHECK].tolist():
        shown = num[row] if bad_text is None else str(bad_text[row].as_py())[:40]
        problems.append(FieldProblem(row, name, f"unknown value {shown!r}; {expected}"))
    _summarise(name, bad.size, f"unknown value; {expected}", problems)
    return codes


def _flag(name: str, mask: np.ndarray, reason: str, problems: list[FieldProblem]) -> None:
    if not mask.any():  # the usual case, and cheaper than flatnonzero on small pools
        return
    rows = np.flatnonzero(mask)
    for row in rows[:MAX_PROBLEMS_PER_CHECK].tolist():
        problems.append(FieldProblem(row, name, reason))
    _summarise(name, rows.size, reason, problems)


def _summarise(name: str, n_bad: int, reason: str, problems: list[FieldProblem]) -> None:
    """One column-level problem counting the rows beyond the listed ones."""
    if n_bad > MAX_PROBLEMS_PER_CHECK:
        more = n_bad - MAX_PROBLEMS_PER_CHECK
        problems.append(FieldProblem(None, name, f"{reason} (and {more} more rows)"))


def _build(columns: Mapping[str, Any]) -> LoanPool:
    cols: dict[str, Any] = {FIELD_ALIASES.get(k, k): v for k, v in columns.items()}
    n = _n_rows(cols)
    if n == 0:
        raise InvalidInput([FieldProblem(None, "balance", "the pool has no loans (0 rows)")])
    problems: list[FieldProblem] = []
    for req in REQUIRED:
        if req not in cols:
            problems.append(FieldProblem(None, req, "required column is missing"))
    if problems:
        raise InvalidInput(problems)

    def num(name: str, default: float | None) -> np.ndarray:
        if name not in cols:
            return np.full(n, np.nan if default is None else default, dtype=np.float64)
        vals, missing = _numeric(name, cols[name], n, problems)
        if default is None:
            if name in REQUIRED:
                _flag(name, missing, "missing value", problems)
        else:
            vals = np.where(missing, default, vals)
        return vals

    def integer(name: str, vals: np.ndarray) -> np.ndarray:
        fin = np.isfinite(vals)
        _flag(name, fin & (vals != np.round(vals)), "must be a whole number of months", problems)
        return np.where(fin, np.round(vals), 0).astype(np.int64)

    balance = num("balance", None)
    rate = num("rate", None)
    term_f = num("original_term_months", None)
    age_f = num("age_months", DEFAULTS["age_months"])
    fee = num("servicing_fee", 0.0)
    net_given = "net_rate" in cols
    net = num("net_rate", np.nan) if net_given else rate - fee
    if net_given:
        net = np.where(np.isnan(net), rate - fee, net)
    io_f = num("io_months", DEFAULTS["io_months"])
    amt_f = num("amortization_term_months", np.nan)
    margin = num("margin", DEFAULTS["margin"])
    reset_f = num("reset_months", DEFAULTS["reset_months"])
    pcap = num("periodic_cap", DEFAULTS["periodic_cap"])
    pfloor = num("periodic_floor", DEFAULTS["periodic_floor"])
    lcap = num("life_cap", DEFAULTS["life_cap"])
    lfloor = num("life_floor", DEFAULTS["life_floor"])

    _flag(
        "balance",
        ~(balance > 0) & np.isfinite(balance) | np.isinf(balance),
        "must be > 0 and finite",
        problems,
    )
    _flag(
        "balance",
        np.isfinite(balance) & (balance > MAX_BALANCE),
        f"must be <= {MAX_BALANCE:g}",
        problems,
    )
    for name, vals in (
        ("original_term_months", term_f),
        ("age_months", age_f),
        ("io_months", io_f),
        ("amortization_term_months", amt_f),
        ("reset_months", reset_f),
    ):
        too_long = np.isfinite(vals) & (np.abs(vals) > MAX_TERM_MONTHS)
        _flag(name, too_long, f"must be <= {MAX_TERM_MONTHS} months", problems)
        vals[too_long] = np.nan  # int casts stay defined
    _flag(
        "margin",
        np.isfinite(margin) & (np.abs(margin) > MAX_ABS_MARGIN),
        f"must satisfy |margin| <= {MAX_ABS_MARGIN:g}",
        problems,
    )
    _flag(
        "rate",
        ~((rate >= 0) & (rate < 1)) & ~np.isnan(rate),
        "must satisfy 0 <= rate < 1 (rates are decimals: 0.065 for 6.5%)",
        problems,
    )
    _flag(
        "net_rate",
        ~((net >= 0) & (net <= rate)) & ~np.isnan(net) & (rate >= 0) & (rate < 1),
        "must satisfy 0 <= net_rate <= rate (servicing_fee >= 0)",
        problems,
    )
    term = integer("original_term_months", term_f)
    age = integer("age_months", age_f)
    _flag("original_term_months", np.isfinite(term_f) & ~(term_f >= 1), "must be >= 1", problems)
    _flag(
        "age_months",
        np.isfinite(age_f) & ~((age_f >= 0) & (age_f < term_f)),
        "must satisfy 0 <= age < term",
        problems,
    )
    _flag("age_months", ~np.isfinite(age_f), "must be a finite number", problems)

    amort = _enum(
        "amortization", cols.get("amortization"), AMORTIZATION_NAMES, "level", n, problems
    )
    rtype = _enum("rate_type", cols.get("rate_type"), RATE_TYPE_NAMES, "fixed", n, problems)
    freq = _enum(
        "payment_frequency", cols.get("payment_frequency"), FREQUENCY_NAMES, "1", n, problems
    )

    io = integer("io_months", io_f)
    is_io = amort == Amortization.INTEREST_ONLY
    if is_io.any():  # checks that only concern some amortisation types run when they occur
        _flag(
            "io_months",
            ~((io_f >= 0) & (io_f < term_f)) & is_io,
            "interest_only needs 0 <= io_months < term",
            problems,
        )
    io = np.where(is_io, io, 0)
    amt_f = np.where(np.isnan(amt_f), term_f, amt_f)
    amt_term = integer("amortization_term_months", amt_f)
    is_balloon = amort == Amortization.BALLOON
    has_balloon = bool(is_balloon.any())
    if has_balloon:
        _flag(
            "amortization_term_months",
            is_balloon & ~(amt_f >= term_f),
            "balloon needs amortization_term_months >= original_term_months",
            problems,
        )
    _flag(
        "original_term_months",
        (freq > 0) & np.isfinite(term_f) & (term % np.maximum(freq, 1) != 0),
        "must be a whole number of payment periods (multiple of payment_frequency)",
        problems,
    )
    if has_balloon:
        _flag(
            "amortization_term_months",
            is_balloon & (freq > 0) & (amt_term % np.maximum(freq, 1) != 0),
            "must be a multiple of payment_frequency",
            problems,
        )

    is_float = rtype == RateType.FLOATING
    if "index_name" in cols:
        names = _strings(cols["index_name"])
        idx_missing = pc.fill_null(pc.equal(names, ""), True).to_numpy(zero_copy_only=False)
        index_name = pc.fill_null(names, "").to_numpy(zero_copy_only=False).astype(str)
    else:
        index_name = np.full(n, "", dtype=str)
        idx_missing = np.ones(n, dtype=bool)
    reset = integer("reset_months", reset_f)
    if is_float.any():  # the floating-rate checks (a fixed-rate pool has nothing to check)
        _flag(
            "index_name", is_float & idx_missing, "floating-rate loans need an index name", problems
        )
        _flag("reset_months", is_float & ~(reset_f >= 1), "must be >= 1", problems)
        for nm, arr in (("periodic_cap", pcap), ("periodic_floor", pfloor), ("life_cap", lcap)):
            _flag(nm, is_float & ~(arr >= 0), "must be >= 0", problems)
        _flag("life_floor", is_float & ~(lfloor <= lcap), "must be <= life_cap", problems)
        _flag("margin", is_float & ~np.isfinite(margin), "must be finite", problems)

    if "loan_id" in cols:
        ids = pc.cast(
            _to_arrow(cols["loan_id"]).dictionary_decode()
            if pa.types.is_dictionary(_to_arrow(cols["loan_id"]).type)
            else _to_arrow(cols["loan_id"]),
            pa.string(),
        )
        id_missing = pc.is_null(ids).to_numpy(zero_copy_only=False)
        loan_id = pc.fill_null(ids, "").to_numpy(zero_copy_only=False).astype(object)
        if id_missing.any():
            loan_id[id_missing] = np.arange(n)[id_missing].astype(str)
    else:
        loan_id = np.arange(n).astype(str).astype(object)

    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.column))
        raise InvalidInput(problems)

    extra = {
        k: np.asarray(
            v.to_numpy(zero_copy_only=False) if isinstance(v, pa.Array | pa.ChunkedArray) else v
        )
        for k, v in cols.items()
        if k not in KNOWN_FIELDS
    }
    return LoanPool(
        loan_id=loan_id,
        balance=balance.astype(np.float64),
        rate=rate.astype(np.float64),
        net_rate=net.astype(np.float64),
        original_term_months=term,
        age_months=age,
        io_months=io.astype(np.int64),
        amortization_term_months=amt_term,
        amortization=amort.astype(np.int8),
        payment_frequency=freq.astype(np.int64),
        rate_type=rtype.astype(np.int8),
        index_name=index_name,
        margin=margin,
        reset_months=np.where(is_float, reset, DEFAULTS["reset_months"]).astype(np.int64),
        periodic_cap=pcap,
        periodic_floor=pfloor,
        life_cap=lcap,
        life_floor=lfloor,
        extra=extra,
    )
