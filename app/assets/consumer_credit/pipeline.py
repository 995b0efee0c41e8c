"""Delinquency pipeline: balances by state month by month from a transition matrix, and the
charge-off and prepayment timing it implies fed to the engine as per-period MDR/SMM vectors.

Month k (1-based), v_0 the start balances by state:
    u_k = v_{k-1} · P_k                        (transitions at the start of the month)
    v_k = u_k ⊙ keep_k                         (scheduled amortisation)
keep_k is AF(k) = SCH(k) / SCH(k-1) for the performing state (a level-pay loan of annual rate r,
monthly compounding, remaining term T: SCH(k) = [1 - (1+r/12)^-(T-k)] / [1 - (1+r/12)^-T],
(T-k)/T at r = 0; 0 once k > T) and 1 for every other state: delinquent balances pay no
scheduled principal, absorbing balances are out of the pool. With `amortize` false every keep is
1 and v_k = v_0 · P^k.
Flows of month k: charge_off_k = Σ_{i live} v_{k-1}[i] P_k[i, charged_off], prepayment_k likewise
into prepaid, scheduled_k = u_k[performing] (1 - AF(k)). The engine vectors are fractions of the
start-of-month live balance L_{k-1} = Σ_{i live} v_{k-1}[i]: MDR_k = charge_off_k / L_{k-1},
SMM_k = prepayment_k / L_{k-1} (0 when L_{k-1} = 0); the engine applies them with its own SIFMA
rules (DOMAIN.md §3: defaults before, prepayments after the month's amortisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.assets.consumer_credit.states import StateRole, StateSpace
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.markov import Engine, check_stochastic, pipeline
from app.engine.pool import LoanPool
from app.engine.projection import Projection, project_with_rates
from app.engine.types import Assumptions

AMORTIZATION_NOTE = (
    "performing balance amortises as a level-pay loan (annual rate, monthly compounding, "
    "remaining term) after the month's transitions; delinquent balances pay no scheduled "
    "principal; charged-off and prepaid balances leave the pool"
)
MAX_MONTHS = 1200
_SERIAL_LOANS = 64


def schedule_factors(rate: float, term_months: int, months: int) -> np.ndarray:
    """AF(k) = SCH(k)/SCH(k-1), k = 1..months, for a level-pay loan (see module docstring)."""
    r = rate / 12.0
    k = np.arange(0, months + 1, dtype=np.float64)
    t = float(term_months)
    rem = np.maximum(t - k, 0.0)
    sch = (1.0 - (1.0 + r) ** (-rem)) / (1.0 - (1.0 + r) ** (-t)) if r > 0 else rem / t
    return np.divide(sch[1:], sch[:-1], out=np.zeros(months), where=sch[:-1] > 0)


@dataclass(frozen=True)
class PipelineResult:
    states: tuple[str, ...]
    balances: np.ndarray  # (T, S) end-of-month balance by state
    charge_off: np.ndarray  # (T,)
    prepayment: np.ndarray
    scheduled_principal: np.ndarray
    live_start: np.ndarray  # L_{k-1}
    mdr: np.ndarray
    smm: np.ndarray
    amortize: bool

    @property
    def months(self) -> int:
        return int(self.balances.shape[0])

    def as_json(self) -> dict[str, Any]:
        return {
            "months": np.arange(1, self.months + 1),
            "balances": {s: self.balances[:, i] for i, s in enumerate(self.states)},
            "charge_off": self.charge_off,
            "prepayment": self.prepayment,
            "scheduled_principal": self.scheduled_principal,
            "mdr": self.mdr,
            "smm": self.smm,
            "amortize": self.amortize,
            "amortization": AMORTIZATION_NOTE if self.amortize else "none: v_k = v_0 P^k",
        }


def start_vector(
    space: StateSpace, start: dict[str, float], field: str = "start_balances"
) -> np.ndarray:
    problems = []
    v0 = np.zeros(space.n)
    for name, amount in start.items():
        if name not in space.names:
            problems.append(
                FieldProblem(
                    None, f"{field}.{name}", f"unknown state (states: {', '.join(space.names)})"
                )
            )
        elif not (np.isfinite(amount) and amount >= 0):
            problems.append(FieldProblem(None, f"{field}.{name}", "must be a finite amount >= 0"))
        else:
            v0[space.names.index(name)] = float(amount)
    if problems:
        raise InvalidInput(problems)
    return v0


def check_matrix(space: StateSpace, p: np.ndarray, field: str = "matrix") -> None:
    """Shape (S, S), rows probability vectors (sum 1 ± 1e-9), absorbing rows the identity."""
    if p.ndim != 2 or p.shape != (space.n, space.n):
        raise InvalidInput(
            [
                FieldProblem(
                    None, field, f"must be {space.n} x {space.n} (one row and column per state)"
                )
            ]
        )
    check_stochastic(p, field)
    eye = np.eye(space.n)
    bad = [int(i) for i in np.flatnonzero(space.absorbing) if not np.array_equal(p[i], eye[i])]
    if bad:
        raise InvalidInput(
            [
                FieldProblem(
                    i,
                    field,
                    f"state {space.names[i]!r} is absorbing: transitions out of it must be 0",
                )
                for i in bad
            ]
        )


def project(
    space: StateSpace,
    p: np.ndarray,
    v0: np.ndarray,
    months: int,
    *,
    amortize: bool = True,
    rate: float = 0.0,
    term_months: int = 360,
    engine: Engine = "numba",
) -> PipelineResult:
    """Run the pipeline (module docstring); p is (S, S) or (months, S, S)."""
    if not (1 <= months <= MAX_MONTHS):
        raise InvalidInput([FieldProblem(None, "months", f"must be in 1..{MAX_MONTHS}")])
    s = space.n
    keep = np.ones((months, s))
    perf = space.index(StateRole.PERFORMING)
    af = schedule_factors(rate, term_months, months) if amortize else np.ones(months)
    if amortize and perf is not None:
        keep[:, perf] = af
    pm = np.broadcast_to(p, (months, s, s))
    out = pipeline(v0, pm, keep, engine=engine)
    prev = np.vstack([v0[None, :], out[:-1]])
    live = space.live
    live_start = prev[:, live].sum(axis=1)

    def into(role: StateRole) -> np.ndarray:
        j = space.index(role)
        if j is None:
            return np.zeros(months)
        return np.einsum("ti,ti->t", prev[:, live], pm[:, live, j])

    co, pp = into(StateRole.CHARGED_OFF), into(StateRole.PREPAID)
    sched = np.zeros(months)
    if perf is not None:
        sched = np.einsum("ti,ti->t", prev, pm[:, :, perf]) * (1.0 - keep[:, perf])
    mdr = np.divide(co, live_start, out=np.zeros(months), where=live_start > 0)
    smm = np.divide(pp, live_start, out=np.zeros(months), where=live_start > 0)
    return PipelineResult(
        space.names,
        out,
        co,
        pp,
        sched,
        live_start,
        np.clip(mdr, 0, 1),
        np.clip(smm, 0, 1),
        amortize,
    )


def cashflows(
    pool: LoanPool,
    result: PipelineResult,
    assumptions: Assumptions,
    *,
    smm_override: np.ndarray | None = None,
) -> Projection:
    """The pool's cash flows (engine, SIFMA rules) under the pipeline's MDR/SMM vectors, the same
    vector for every loan; horizon = the pipeline's months. `smm_override` replaces the SMM
    vector (e.g. the loan type's speed when the chain has no prepaid state)."""
    n = len(pool)
    smm = result.smm if smm_override is None else smm_override
    smm = np.minimum(smm, 1.0 - result.mdr)  # defaults and prepayments never exceed the balance
    shape = (n, result.months)
    args = (pool, np.broadcast_to(smm, shape), np.broadcast_to(result.mdr, shape), assumptions)
    if n > _SERIAL_LOANS:
        return project_with_rates(*args)
    # a rep-line or a handful of loans fills one chunk of the engine's parallel kernel: waking
    # its thread pool costs more than the work (tens of ms on a loaded machine), so run serial
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return project_with_rates(*args)
    finally:
        numba.set_num_threads(threads)
