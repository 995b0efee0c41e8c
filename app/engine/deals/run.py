"""Run a deal over its collateral: bond statements, test, fee and account ledgers, and the
cash-conservation check of every period.

The check is computed from the ledgers, not from the waterfall's own bookkeeping: collections
plus cash carried in = interest paid + principal paid + fees paid + residual + cash spent on
reinvestment + the change in account balances + cash carried out, period by period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.engine._lazy import lazy_module
from app.engine.deals.compile import DealArrays, compile_deal
from app.engine.deals.schema import CollateralFlows, Deal, TrancheRole

wk = lazy_module("app.engine._kernels.waterfall_nb")  # Numba is imported at the first run

Engine = Literal["numba", "reference"]
CONSERVATION_RTOL = 1e-9  # relative to the period's collections; asserted every period


class ConservationError(RuntimeError):
    """The waterfall lost or created cash: a defect, never a user error (so not an
    EngineError, which the service would answer as a 422)."""


@dataclass(frozen=True)
class Ledgers:
    """Raw kernel outputs: tranche rows (8, n, T), tests (3, k, T), fees (2, f, T), accounts
    (a, T), collateral rows (8, T); row names in `_kernels.waterfall_nb`."""

    tranches: np.ndarray
    tests: np.ndarray
    fees: np.ndarray
    accounts: np.ndarray
    collateral: np.ndarray


@dataclass(frozen=True)
class DealResult:
    deal: Deal
    ledgers: Ledgers
    max_abs_difference: float

    @property
    def n_periods(self) -> int:
        return int(self.ledgers.collateral.shape[1])

    def tranche_columns(self, j: int) -> dict[str, np.ndarray]:
        """The statement of tranche j (currency per period)."""
        tr = self.ledgers.tranches
        if self.deal.tranches[j].role is TrancheRole.EQUITY:
            return {"cash": tr[wk.T_RESID, j]}
        return {
            "balance": tr[wk.T_BAL, j],
            "interest_due": tr[wk.T_DUE, j],
            "interest_paid": tr[wk.T_IPAID, j],
            "interest_shortfall": tr[wk.T_SHORT, j],
            "interest_capitalised": tr[wk.T_PIK, j],
            "principal_paid": tr[wk.T_PPAID, j],
            "writedown": tr[wk.T_WD, j],
            "cash": tr[wk.T_IPAID, j] + tr[wk.T_PPAID, j] + tr[wk.T_RESID, j],
        }


def allocate(deal: Deal, n_periods: int) -> Ledgers:
    n, k, f, a = len(deal.tranches), len(deal.tests), len(deal.fees), len(deal.accounts)
    return Ledgers(
        tranches=np.zeros((wk.N_TR_ROWS, n, n_periods)),
        tests=np.zeros((3, k, n_periods)),
        fees=np.zeros((2, f, n_periods)),
        accounts=np.zeros((a, n_periods)),
        collateral=np.zeros((wk.N_COLL_ROWS, n_periods)),
    )


def conservation_difference(arrays: DealArrays, led: Ledgers) -> np.ndarray:
    """Cash in − cash out of each period, from the ledgers (currency)."""
    c = led.collateral
    tr = led.tranches
    cash_in = c[wk.C_INT] + c[wk.C_PRIN] + c[wk.C_CARRY_IN]
    acc_prev = np.concatenate([arrays.acc_init[:, None], led.accounts[:, :-1]], axis=1)
    d_acc = (led.accounts - acc_prev).sum(axis=0)
    cash_out = (
        tr[wk.T_IPAID].sum(axis=0)
        + tr[wk.T_PPAID].sum(axis=0)
        + tr[wk.T_RESID].sum(axis=0)
        + led.fees[0].sum(axis=0)
        + c[wk.C_REINV]
        + d_acc
        + c[wk.C_CARRY_OUT]
    )
    return cash_in - cash_out


def haircut_series(coll: CollateralFlows) -> np.ndarray:
    return (
        np.zeros(coll.n_periods)
        if coll.oc_haircut is None
        else np.asarray(coll.oc_haircut, dtype=np.float64)
    )


def run_deal(
    deal: Deal,
    collateral: CollateralFlows,
    index_paths: Mapping[str, np.ndarray] | None = None,
    *,
    engine: Engine = "numba",
    arrays: DealArrays | None = None,
) -> DealResult:
    """Run the waterfall for every period of `collateral`; raise ConservationError if any
    period's cash in and out differ by more than CONSERVATION_RTOL of its collections."""
    n_periods = collateral.n_periods
    arr = arrays if arrays is not None else compile_deal(deal, n_periods, index_paths)
    led = allocate(deal, n_periods)
    haircut = haircut_series(collateral)
    if engine == "numba":
        wk.waterfall_nb(  # type: ignore[call-arg]
            collateral.interest,
            collateral.principal,
            collateral.losses,
            float(collateral.balance),
            haircut,
            *arr.args(),
            led.tranches,
            led.tests,
            led.fees,
            led.accounts,
            led.collateral,
        )
    else:
        from app.engine.deals.reference import run_reference

        run_reference(deal, arr, collateral, haircut, led)
    diff = conservation_difference(arr, led)
    scale = np.maximum(
        1.0, led.collateral[wk.C_INT] + led.collateral[wk.C_PRIN] + led.collateral[wk.C_CARRY_IN]
    )
    worst = float(np.max(np.abs(diff))) if diff.size else 0.0
    if np.any(np.abs(diff) > CONSERVATION_RTOL * scale):
        t = int(np.argmax(np.abs(diff) / scale))
        raise ConservationError(f"cash not conserved in period {t + 1}: difference {diff[t]:.6g}")
    return DealResult(deal, led, worst)
