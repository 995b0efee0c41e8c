"""The engine's public data types: a loan pool as flat arrays, projection assumptions, results.

Conventions (shared/DOMAIN.md): rates are decimals per year; terms and ages are in months;
money is in the pool's currency and never rounded; periods are months numbered 1..N with cash
flows at the end of each period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum

import numpy as np


class Amortization(IntEnum):
    """How a loan's scheduled principal is repaid (stored as int8 codes in LoanPool)."""

    LEVEL = 0  # annuity over the remaining term
    INTEREST_ONLY = 1  # interest only for io_months, then level over the rest of the term
    BALLOON = 2  # level on amortization_term_months, remaining balance due at maturity
    BULLET = 3  # interest only, whole balance at maturity
    LINEAR = 4  # equal principal each payment (straight line)


class RateType(IntEnum):
    FIXED = 0
    FLOATING = 1


class SpeedKind(str, Enum):  # noqa: UP042 - str() and format() keep the 3.11 mixin behaviour callers rely on
    """Prepayment and default speed conventions (DOMAIN.md §2)."""

    CPR = "cpr"  # constant annual prepayment rate, decimal
    SMM = "smm"  # constant single monthly mortality, decimal
    PSA = "psa"  # percent of the PSA ramp, on loan age
    ABS = "abs"  # monthly ABS speed (fraction of original count), on loan age
    CPR_VECTOR = "cpr_vector"
    SMM_VECTOR = "smm_vector"
    CDR = "cdr"  # constant annual default rate, decimal
    MDR = "mdr"  # constant monthly default rate, decimal
    SDA = "sda"  # percent of the SDA curve, on loan age
    CDR_VECTOR = "cdr_vector"
    MDR_VECTOR = "mdr_vector"


@dataclass(frozen=True)
class Speed:
    """One prepayment or default speed assumption.

    rate: annual decimal for CPR/CDR, monthly decimal for SMM/MDR/ABS.
    speed: percent of the standard curve for PSA/SDA (100 = 100% PSA).
    values: per-projection-period vector for the *_VECTOR kinds (annual for CPR/CDR vectors,
        monthly for SMM/MDR vectors); a vector shorter than the projection holds its last value.
    loan_rates: optional per-loan constant (same unit as `rate`), replacing `rate` loan by loan.
    loan_multiplier: optional per-loan multiplier applied to the resulting monthly rate
        (capped at 1), e.g. a multiplier by group broadcast to loans.
    """

    kind: SpeedKind
    rate: float = 0.0
    speed: float = 100.0
    values: np.ndarray | None = None
    loan_rates: np.ndarray | None = None
    loan_multiplier: np.ndarray | None = None


@dataclass(frozen=True)
class Assumptions:
    """Assumptions of one projection run.

    severity: loss as a fraction of the balance at default (0..1).
    recovery_lag_months: months from default to liquidation (L in DOMAIN.md §3).
    advancing: servicer advances principal and interest on defaulted loans until liquidation.
    index_paths: annual decimal index rate per projection month, by index name, for floaters.
    n_periods: projection horizon in months; None = the longest remaining term in the pool,
        plus the recovery lag unless the default speed is SDA (see projection.horizon).
    """

    prepayment: Speed = field(default_factory=lambda: Speed(SpeedKind.CPR, 0.0))
    default: Speed = field(default_factory=lambda: Speed(SpeedKind.CDR, 0.0))
    severity: float = 0.0
    recovery_lag_months: int = 0
    advancing: bool = True
    index_paths: Mapping[str, np.ndarray] = field(default_factory=dict)
    n_periods: int | None = None


CASHFLOW_COLUMNS: tuple[str, ...] = (
    "period",
    "beginning_balance",
    "ending_balance",
    "default",
    "scheduled_principal",
    "prepayment",
    "defaulted_amortization",
    "foreclosure_balance",
    "liquidated_balance",
    "loss",
    "recovery",
    "expected_interest",
    "lost_interest",
    "interest",
    "servicing_fee",
    "total_cashflow",
)
"""Per-period pool columns, in order; the API returns them under the same names."""

CASHFLOW_COLUMN_DEFINITIONS: dict[str, str] = {
    "period": "month of the projection, 1..N; every flow falls at the end of its month",
    "beginning_balance": "performing balance at the start of the month, P(i-1) (defaulted "
    "loans awaiting liquidation are in foreclosure_balance, not here)",
    "ending_balance": "performing balance at the end of the month: beginning_balance - default "
    "- scheduled_principal - prepayment",
    "default": "new defaults of the month, MDR x P(i-1), taken before scheduled amortisation",
    "scheduled_principal": "scheduled amortisation of the performing loans, (P(i-1) - default) "
    "x (1 - AF(i))",
    "prepayment": "voluntary prepayments, SMM x P(i-1) x AF(i)",
    "defaulted_amortization": "principal the servicer advances on defaulted loans awaiting "
    "liquidation (advancing only; 0 when not advanced); paid to investors",
    "foreclosure_balance": "defaulted balance awaiting liquidation at the end of the month, FCL(i)",
    "liquidated_balance": "defaulted balance liquidated this month, recovery_lag_months after "
    "its default (ADB(i))",
    "loss": "realised loss, min(severity x balance at default, liquidated_balance)",
    "recovery": "liquidation proceeds, liquidated_balance - loss",
    "expected_interest": "interest due at the net rate on the performing and foreclosure "
    "balances, (P(i-1) + FCL(i-1)) x net/12",
    "lost_interest": "interest not received on defaulted loans, (default + FCL(i-1)) x net/12",
    "interest": "interest paid to investors, expected_interest - lost_interest",
    "servicing_fee": "servicing strip on the performing balance, P(i-1) x (gross - net)/12 "
    "(not in total_cashflow)",
    "total_cashflow": "cash to investors: interest + scheduled_principal + "
    "defaulted_amortization + prepayment + recovery",
}
"""What each pool column means (DOMAIN.md §3; docs/methodology/projection.md), in currency
except `period`; the API schema and docs quote these."""
