"""The consumer loan types and their default assumptions (one table, the market's usual
conventions). Rates are annual decimals, terms in months; auto loans prepay at an ABS speed
(DOMAIN.md §2, a monthly fraction of the original count), the others at a CPR."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.engine.types import Assumptions, Speed, SpeedKind


class LoanType(str, Enum):  # noqa: UP042
    CREDIT_CARD = "credit_card"
    PERSONAL_INSTALLMENT = "personal_installment"
    BNPL = "bnpl"
    STUDENT = "student"
    AUTO = "auto"


@dataclass(frozen=True)
class LoanTypeSpec:
    loan_type: LoanType
    description: str
    revolving: bool
    parameters: tuple[str, ...]
    defaults: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "loan_type": self.loan_type.value,
            "description": self.description,
            "revolving": self.revolving,
            "parameters": list(self.parameters),
            "default_assumptions": dict(self.defaults),
        }

    def assumptions(self, n_periods: int | None = None) -> Assumptions:
        """Engine assumptions of the type's default speeds, severity and recovery lag."""
        d = self.defaults
        pre = d.get("prepayment", {"type": "cpr", "rate": 0.0})
        dft = d.get("default", {"type": "cdr", "rate": 0.0})
        return Assumptions(
            prepayment=Speed(SpeedKind(pre["type"]), rate=float(pre["rate"])),
            default=Speed(SpeedKind(dft["type"]), rate=float(dft["rate"])),
            severity=float(d.get("severity", 0.0)),
            recovery_lag_months=int(d.get("recovery_lag_months", 0)),
            n_periods=n_periods,
        )


_INSTALMENT = (
    "rate",
    "original_term_months",
    "age_months",
    "prepayment",
    "default",
    "severity",
    "recovery_lag_months",
    "credit_score",
    "grade",
    "origination_date",
)
_CARD = (
    "payment_rate",
    "purchase_rate",
    "portfolio_yield",
    "charge_off_rate",
    "coupon",
    "servicing_fee",
    "credit_score",
    "grade",
    "origination_date",
)

LOAN_TYPES: dict[LoanType, LoanTypeSpec] = {
    LoanType.CREDIT_CARD: LoanTypeSpec(
        LoanType.CREDIT_CARD,
        "General-purpose credit cards: revolving receivables, projected as a master trust "
        "(monthly payment rate, purchase rate, yield, charge-offs, excess spread).",
        True,
        _CARD,
        {
            "payment_rate": 0.20,
            "purchase_rate": 0.18,
            "portfolio_yield": 0.18,
            "charge_off_rate": 0.04,
            "coupon": 0.05,
            "servicing_fee": 0.02,
            "severity": 1.0,
            "recovery_lag_months": 0,
            "rate": 0.18,
            "original_term_months": 36,
            "prepayment": {"type": "cpr", "rate": 0.0},
            "default": {"type": "cdr", "rate": 0.04},
        },
    ),
    LoanType.PERSONAL_INSTALLMENT: LoanTypeSpec(
        LoanType.PERSONAL_INSTALLMENT,
        "Unsecured fixed-rate personal instalment loans, level pay.",
        False,
        _INSTALMENT,
        {
            "rate": 0.12,
            "original_term_months": 48,
            "prepayment": {"type": "cpr", "rate": 0.15},
            "default": {"type": "cdr", "rate": 0.05},
            "severity": 0.85,
            "recovery_lag_months": 4,
        },
    ),
    LoanType.BNPL: LoanTypeSpec(
        LoanType.BNPL,
        "Buy now, pay later: short interest-free instalment plans (merchant-funded).",
        False,
        _INSTALMENT,
        {
            "rate": 0.0,
            "original_term_months": 3,
            "prepayment": {"type": "cpr", "rate": 0.05},
            "default": {"type": "cdr", "rate": 0.08},
            "severity": 0.90,
            "recovery_lag_months": 2,
        },
    ),
    LoanType.STUDENT: LoanTypeSpec(
        LoanType.STUDENT,
        "Private student loans in repayment, level pay over ten years.",
        False,
        _INSTALMENT,
        {
            "rate": 0.065,
            "original_term_months": 120,
            "prepayment": {"type": "cpr", "rate": 0.06},
            "default": {"type": "cdr", "rate": 0.02},
            "severity": 0.80,
            "recovery_lag_months": 6,
        },
    ),
    LoanType.AUTO: LoanTypeSpec(
        LoanType.AUTO,
        "Auto loans (retail instalment contracts), level pay; prepay at the engine's ABS speed.",
        False,
        _INSTALMENT,
        {
            "rate": 0.08,
            "original_term_months": 60,
            "prepayment": {"type": "abs", "rate": 0.015},
            "default": {"type": "cdr", "rate": 0.02},
            "severity": 0.55,
            "recovery_lag_months": 3,
        },
    ),
}


def catalogue() -> list[dict[str, Any]]:
    """GET loan-types: every type with its parameters and default assumptions."""
    return [spec.as_json() for spec in LOAN_TYPES.values()]
