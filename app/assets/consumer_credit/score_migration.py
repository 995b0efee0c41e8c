"""Score migration: the transition matrix between score bands over a horizon (from two snapshots
or a panel), its k-step powers, the stationary distribution and expected loss by band.

Matrix: cohort estimator M[a, b] = n(a -> b) / n(a) over the horizon (by count, or by the
from-snapshot balance), 95% Wilson intervals with n = the row's transitions (Kish's effective
size when weighted). From a panel, a pair is (the loan's row at period t, its row at t + h).
Expected loss by band b: EL_b = exposure_b x PD_b x LGD (PD over the horizon, LGD = severity);
after k horizons a loan of band b has PD_k(b) = Σ_j (M^k)[b, j] PD_j.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.assets.consumer_credit.panel import arrays, as_array, codes_of, float_column, month_index
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.markov import Interval, interval, stationary


def band_codes(values: Any, bands: Sequence[str], field: str) -> np.ndarray:
    codes, labels = codes_of(as_array(values))
    lookup = {b: i for i, b in enumerate(bands)}
    table = np.array(
        [(lookup.get(str(lab), -1) if lab is not None else -1) for lab in labels] + [-1],
        dtype=np.int64,
    )
    out = table[codes]
    bad = np.flatnonzero(out < 0)
    if bad.size:
        labs = [*labels, None]
        raise InvalidInput(
            [
                FieldProblem(
                    int(r), field, f"unknown band {labs[codes[r]]!r} (bands: {', '.join(bands)})"
                )
                for r in bad[:20]
            ]
        )
    return out


def pairs_from_panel(
    cols: Mapping[str, Any], bands: Sequence[str], horizon: int, band_column: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(from codes, to codes, from balance) of every (t, t + horizon) pair of the same loan."""
    for c in ("loan_id", "period", band_column):
        if c not in cols:
            raise InvalidInput([FieldProblem(None, c, "required column is missing")])
    cols = arrays(cols)
    loan, _ = codes_of(as_array(cols["loan_id"]))
    period, missing = month_index(cols["period"])
    band = band_codes(cols[band_column], bands, band_column)
    bal = float_column(cols["balance"], "balance") if "balance" in cols else np.ones(len(loan))
    key = loan * (int(period.max(initial=0)) - int(period.min(initial=0)) + horizon + 1) + (
        period - period.min(initial=0)
    )
    order = np.argsort(key, kind="stable")
    ks = key[order]
    if np.any(ks[1:] == ks[:-1]):
        r = int(order[1:][ks[1:] == ks[:-1]][0])
        raise InvalidInput([FieldProblem(r, "period", "duplicated (loan_id, period) row")])
    pos = np.searchsorted(ks, key + horizon)
    pos_c = np.minimum(pos, len(ks) - 1)
    hit = (pos < len(ks)) & (ks[pos_c] == key + horizon) & ~missing
    return band[hit], band[order[pos_c[hit]]], bal[hit]


def migration(
    frm: np.ndarray,
    to: np.ndarray,
    weight: np.ndarray,
    bands: Sequence[str],
    *,
    powers: Sequence[int] = (2, 4),
    pd: Mapping[str, float] | None = None,
    severity: float = 1.0,
    exposure: Mapping[str, float] | None = None,
    kind: Interval = Interval.WILSON,
) -> dict[str, Any]:
    """The migration result as JSON-ready arrays (module docstring)."""
    b = len(bands)
    counts = np.bincount(frm * b + to, weights=weight, minlength=b * b).reshape(b, b)
    n_obs = np.bincount(frm * b + to, minlength=b * b).reshape(b, b)
    sq = np.bincount(frm, weights=weight * weight, minlength=b)
    totals = counts.sum(axis=1)
    m = np.divide(counts, totals[:, None], out=np.full((b, b), np.nan), where=totals[:, None] > 0)
    weighted = not np.all(weight == 1.0)
    n_eff = (
        np.divide(totals**2, sq, out=np.zeros(b), where=sq > 0)
        if weighted
        else n_obs.sum(axis=1).astype(float)
    )
    lo, hi = interval(m, n_eff[:, None], kind)
    warnings = [
        f"band {bands[i]!r} has no observations: its row is null"
        for i in np.flatnonzero(totals == 0).tolist()
    ]
    complete = bool(np.all(totals > 0))
    out: dict[str, Any] = {
        "bands": list(bands),
        "matrix": m,
        "counts": counts,
        "row_totals": totals,
        "ci_low": lo,
        "ci_high": hi,
        "interval": kind.value,
        "powers": {str(k): np.linalg.matrix_power(m, int(k)) if complete else None for k in powers},
        "stationary": None,
        "expected_loss": None,
        "warnings": warnings,
    }
    if complete:
        pi, why = stationary(m)
        out["stationary"] = pi
        if why:
            warnings.append(why)
    elif powers:
        warnings.append("powers and stationary distribution need every band's row: null")
    if pd is not None:
        unknown = [k for k in pd if k not in bands]
        if unknown:
            raise InvalidInput([FieldProblem(None, f"pd.{k}", "unknown band") for k in unknown])
        pdv = np.array([float(pd.get(x, np.nan)) for x in bands])
        if np.any(~((pdv >= 0) & (pdv <= 1))):
            raise InvalidInput([FieldProblem(None, "pd", "give a PD in [0, 1] for every band")])
        exp = (
            np.array([float((exposure or {}).get(x, 0.0)) for x in bands])
            if exposure
            else np.bincount(frm, weights=weight, minlength=b)
        )
        el = exp * pdv * severity
        out["expected_loss"] = {
            "pd": pdv,
            "severity": severity,
            "exposure": exp,
            "by_band": el,
            "total": float(el.sum()),
            "pd_after_k": {str(k): np.linalg.matrix_power(m, int(k)) @ pdv for k in powers}
            if complete
            else None,
        }
    return out
