"""Roll-rate (monthly transition matrix) estimation from a performance panel, overall and by
segment, by count or by balance, with counts, row totals and a 95% interval per cell.

cohort: P[i, j] = W[i, j] / Σ_j W[i, j], W the (weighted) month-to-month transitions.
duration: Aalen-Johansen generator Q[i, j] = N[i, j] / R_i from the (weighted) months spent in
each state (mid-month convention for a move), P = expm(Q · 1 month).
Intervals: Wilson score (default) or Clopper-Pearson on the cell's probability with n = the row's
number of transitions (count weight) or Kish's effective size (Σw)² / Σw² (balance weight); for
`duration` this is an approximation that treats expm(Q) like a cohort proportion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from app.assets.consumer_credit.panel import Panel, codes_of
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.markov import (
    Engine,
    Interval,
    PanelCounts,
    cohort_matrix,
    duration_matrix,
    generator,
    interval,
    panel_counts,
)


class Method(str, Enum):  # noqa: UP042
    COHORT = "cohort"
    DURATION = "duration"


class Weight(str, Enum):  # noqa: UP042
    COUNT = "count"
    BALANCE = "balance"


@dataclass(frozen=True)
class MatrixEstimate:
    """One estimated matrix (rows = from-state), all (S, S) except row_totals (S,)."""

    matrix: np.ndarray
    counts: np.ndarray
    row_totals: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_transitions: np.ndarray  # (S, S) number of observed transitions (unweighted)
    generator: np.ndarray | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "matrix": self.matrix,
            "counts": self.counts,
            "row_totals": self.row_totals,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_transitions": self.n_transitions,
        }
        if self.generator is not None:
            out["generator"] = self.generator
        return out


@dataclass(frozen=True)
class RollRates:
    method: Method
    weight: Weight
    interval: Interval
    states: tuple[str, ...]
    overall: MatrixEstimate
    segment_by: tuple[str, ...] = ()
    segments: list[tuple[dict[str, Any], MatrixEstimate]] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "weight": self.weight.value,
            "interval": self.interval.value,
            "confidence_level": 0.95,
            "states": list(self.states),
            **self.overall.as_json(),
            "segment_by": list(self.segment_by),
            "segments": [{"segment": seg, **m.as_json()} for seg, m in self.segments],
            "missing": self.missing,
            "warnings": self.warnings,
        }


def _estimate_one(
    c: np.ndarray,
    n_obs: np.ndarray,
    sq: np.ndarray,
    exposure: np.ndarray,
    absorbing: np.ndarray,
    method: Method,
    weight: Weight,
    kind: Interval,
) -> MatrixEstimate:
    if method == Method.COHORT:
        p, totals = cohort_matrix(c, absorbing)
        q = None
    else:
        q = generator(c, exposure, absorbing)
        p = duration_matrix(q)
        totals = c.sum(axis=1)
    if weight == Weight.COUNT:
        n_eff = n_obs.sum(axis=1).astype(np.float64)
    else:
        n_eff = np.divide(totals * totals, sq, out=np.zeros_like(totals), where=sq > 0)
    lo, hi = interval(p, n_eff[:, None], kind)
    lo[absorbing], hi[absorbing] = p[absorbing], p[absorbing]
    return MatrixEstimate(p, c, totals, lo, hi, n_obs, q)


def segment_codes(panel: Panel, names: Sequence[str]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One int64 code per (sorted) row for the combination of the named attributes, and the
    combination of each code (dicts attribute -> value), in order of first code."""
    if not names:
        return np.zeros(len(panel), dtype=np.int64), [{}]
    combined = np.zeros(len(panel), dtype=np.int64)
    label_lists: list[list[Any]] = []
    for nm in names:
        codes, labels = codes_of(panel.attribute(nm))
        combined = combined * (len(labels) + 1) + codes
        label_lists.append(labels)
    uniq, inv = np.unique(combined, return_inverse=True)
    segs = []
    for u in uniq.tolist():
        parts = []
        for labels in reversed(label_lists):
            parts.append(labels[u % (len(labels) + 1)])
            u //= len(labels) + 1
        segs.append(dict(zip(names, reversed(parts), strict=True)))
    return inv.astype(np.int64), segs


def count(
    panel: Panel, weight: Weight, seg: np.ndarray, n_seg: int, *, engine: Engine = "numba"
) -> PanelCounts:
    """The transition sums of the panel (the hot path: one Numba pass)."""
    if weight == Weight.BALANCE and panel.balance is None:
        raise InvalidInput(
            [FieldProblem(None, "balance", "weight 'balance' needs a balance column")]
        )
    w = panel.balance if weight == Weight.BALANCE else None
    return panel_counts(
        panel.loan,
        panel.period,
        panel.state,
        w,
        seg,
        panel.space.absorbing,
        panel.space.n,
        n_seg,
        engine=engine,
    )


def estimate(
    panel: Panel,
    *,
    method: Method = Method.COHORT,
    weight: Weight = Weight.COUNT,
    segment_by: Sequence[str] = (),
    kind: Interval = Interval.WILSON,
    engine: Engine = "numba",
) -> RollRates:
    """Estimate the overall matrix and one per segment (see module docstring for the formulas)."""
    seg, segs = segment_codes(panel, list(segment_by))
    pc_ = count(panel, weight, seg, len(segs), engine=engine)
    ab = panel.space.absorbing
    overall = _estimate_one(
        pc_.counts.sum(0),
        pc_.n_obs.sum(0),
        pc_.sq.sum(0),
        pc_.exposure.sum(0),
        ab,
        method,
        weight,
        kind,
    )
    warnings = []
    names = panel.space.names
    for i in np.flatnonzero(~np.isfinite(overall.matrix).all(axis=1)).tolist():
        warnings.append(
            f"state {names[i]!r} has no observed transitions out of it: its row is null"
        )
    segments = []
    if segment_by:
        for g, label in enumerate(segs):
            m = _estimate_one(
                pc_.counts[g], pc_.n_obs[g], pc_.sq[g], pc_.exposure[g], ab, method, weight, kind
            )
            segments.append((label, m))
    missing = {
        "gap_pairs": pc_.n_gap_pairs,
        "missing_months": pc_.n_missing_months,
        "missing_state_pairs": pc_.n_missing_state,
    }
    if pc_.n_gap_pairs or pc_.n_missing_state:
        warnings.append(
            f"{pc_.n_missing_months} missing month(s) in {pc_.n_gap_pairs} gap(s) and "
            f"{pc_.n_missing_state} pair(s) with a missing state were not counted as one-month "
            "transitions (a transition over a gap is not a monthly transition)"
        )
    return RollRates(
        method, weight, kind, names, overall, tuple(segment_by), segments, missing, warnings
    )
