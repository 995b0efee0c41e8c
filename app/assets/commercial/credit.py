"""Term default, maturity (refinance) default and loss severity of commercial loans.

- Term default: annual PD = 1 / (1 + exp(-(intercept + b_dscr DSCR + b_ltv LTV))) (logistic;
  the coefficients are inputs, the defaults a house assumption), or the caller's per-loan
  `pd_annual`. Monthly default rate MDR = 1 - (1 - PD)^(1/12) (DOMAIN.md §2).
- Maturity default: a loan with a balloon (balloon or bullet) refinances at maturity T if the
  new loan of the balloon amount passes both tests: refi LTV = balloon / value_T <= max_ltv and
  refi DSCR = NOI_T / (12 x level monthly payment at `rate` over `amortization_months`) >=
  min_dscr; NOI_T grown from today, value_T = NOI_T / (cap_rate + shift) x value_factor. A loan
  that fails and has `extension_months` > 0 is extended once (keeps its scheduled payments) and
  retested at T + extension; if it fails again (or has no extension) it defaults at maturity.
- Severity (model "ltv"): 1 - (1 - liquidation_cost) / LTV_liq + carry_cost x months / 12,
  clipped to [0, 1], with LTV_liq = balance at default / (value at liquidation (default month +
  liquidation months) x (1 - value_haircut)); model "property_type" takes the type's table default; a per-loan
  `severity` overrides either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from app.assets.commercial.loans import CommercialLoans
from app.assets.commercial.metrics import stressed_value
from app.assets.commercial.schedule import Schedule, schedule_of
from app.engine.pool import LoanPool


class SeverityModel(str, Enum):  # noqa: UP042 - str mixin: values are the words users send
    LTV = "ltv"
    PROPERTY_TYPE = "property_type"


@dataclass(frozen=True)
class PDModel:
    """Logistic annual PD in DSCR and LTV (coefficients per unit of DSCR / of LTV as a decimal)."""

    intercept: float = -4.0
    dscr: float = -1.5
    ltv: float = 3.0

    def annual_pd(self, dscr: np.ndarray, ltv: np.ndarray) -> np.ndarray:
        """PD per year; NaN metrics (loan gone) give 0."""
        z = self.intercept + self.dscr * dscr + self.ltv * ltv
        with np.errstate(over="ignore", invalid="ignore"):
            p = 1.0 / (1.0 + np.exp(-z))
        return np.where(np.isnan(p), 0.0, p)


@dataclass(frozen=True)
class RefiTerms:
    """The refinance test at maturity: new-loan coupon (annual decimal, monthly payments),
    amortisation (months) and the thresholds."""

    rate: float = 0.07
    amortization_months: int = 360
    max_ltv: float = 0.75
    min_dscr: float = 1.25


@dataclass(frozen=True)
class SeverityTerms:
    """Severity model and its costs: liquidation_cost a fraction of the value sold; carry_cost
    an annual fraction of the defaulted balance paid while liquidating (taxes, insurance)."""

    model: SeverityModel = SeverityModel.LTV
    liquidation_cost: float = 0.10
    carry_cost: float = 0.02
    liquidation_months: int | None = None  # None: each property type's default
    value_haircut: float = 0.0  # distressed-sale discount on the value at liquidation


@dataclass(frozen=True, eq=False)
class MaturityResult:
    """Per loan: whether it has a balloon, the test month and values, and the outcome.

    default_month: months from now of the maturity default (0 = none); extended: the loan used
    its extension; term_months: maturity (months from now) after any extension.
    """

    has_balloon: np.ndarray
    balloon: np.ndarray
    test_month: np.ndarray
    noi: np.ndarray
    value: np.ndarray
    refi_ltv: np.ndarray
    refi_dscr: np.ndarray
    refinances: np.ndarray
    extended: np.ndarray
    defaults: np.ndarray
    default_month: np.ndarray
    term_months: np.ndarray
    schedule: Schedule
    pool: LoanPool  # the pool with extended terms (the input pool when none is extended)


def refi_annual_debt_service(amount: np.ndarray, terms: RefiTerms) -> np.ndarray:
    """12 x the level monthly payment of a new loan of `amount` at terms.rate over its amortisation."""
    i = terms.rate / 12.0
    m = float(terms.amortization_months)
    pay = amount * i / (1.0 - (1.0 + i) ** -m) if i > 0 else amount / m
    return 12.0 * pay


def _test(
    loans: CommercialLoans,
    s: Schedule,
    terms: RefiTerms,
    growth: float,
    haircut: float,
    shift: float,
) -> tuple[np.ndarray, ...]:
    month = s.maturity_months.astype(np.float64)
    balloon = s.balloon()
    noi = loans.noi * (1.0 - haircut) * np.power(1.0 + growth, month / 12.0)
    value = stressed_value(loans, noi, shift)
    refi_ds = refi_annual_debt_service(balloon, terms)
    with np.errstate(divide="ignore", invalid="ignore"):
        ltv = balloon / value
        dscr = np.where(refi_ds > 0, noi / refi_ds, np.inf)
    ok = (ltv <= terms.max_ltv) & (dscr >= terms.min_dscr)
    return balloon, month, noi, value, ltv, dscr, ok


def maturity_test(
    loans: CommercialLoans,
    terms: RefiTerms,
    *,
    noi_growth: float = 0.0,
    noi_haircut: float = 0.0,
    cap_shift: float = 0.0,
) -> MaturityResult:
    """The refinance test of every loan with a balloon (module docstring)."""
    s = schedule_of(loans.pool)
    balloon, month, noi, value, ltv, dscr, ok = _test(
        loans, s, terms, noi_growth, noi_haircut, cap_shift
    )
    has = balloon > 0
    ext = has & ~ok & (loans.extension_months > 0)
    term_months = s.maturity_months.copy()
    s_out, pool_out = s, loans.pool
    if ext.any():
        pool = loans.pool
        new_term = pool.original_term_months + np.where(ext, loans.extension_months, 0)
        amort_term = np.maximum(pool.amortization_term_months, new_term)
        pool2 = replace(pool, original_term_months=new_term, amortization_term_months=amort_term)
        s2 = schedule_of(pool2)
        loans2 = replace(loans, pool=pool2)
        b2, m2, n2, v2, l2, d2, ok2 = _test(loans2, s2, terms, noi_growth, noi_haircut, cap_shift)
        balloon = np.where(ext, b2, balloon)
        month, noi, value = (
            np.where(ext, m2, month),
            np.where(ext, n2, noi),
            np.where(ext, v2, value),
        )
        ltv, dscr, ok = np.where(ext, l2, ltv), np.where(ext, d2, dscr), np.where(ext, ok2, ok)
        term_months = np.where(ext, s2.maturity_months, term_months)
        s_out, pool_out = s2, pool2
    defaults = has & ~ok
    return MaturityResult(
        has_balloon=has,
        balloon=balloon,
        test_month=month.astype(np.int64),
        noi=noi,
        value=value,
        refi_ltv=ltv,
        refi_dscr=dscr,
        refinances=has & ok,
        extended=ext,
        defaults=defaults,
        default_month=np.where(defaults, month, 0).astype(np.int64),
        term_months=term_months.astype(np.int64),
        schedule=s_out,
        pool=pool_out,
    )


def liquidation_months(loans: CommercialLoans, terms: SeverityTerms) -> np.ndarray:
    """Months from default to liquidation per loan (the option, else the type default)."""
    if terms.liquidation_months is not None:
        return np.full(len(loans), int(terms.liquidation_months), dtype=np.int64)
    return loans.type_default("liquidation_months").astype(np.int64)


def ltv_severity(
    ltv_at_liquidation: np.ndarray, months: np.ndarray, terms: SeverityTerms
) -> np.ndarray:
    """1 - (1 - liquidation_cost) / LTV + carry_cost x months / 12, clipped to [0, 1]."""
    sev = (
        1.0 - (1.0 - terms.liquidation_cost) / ltv_at_liquidation + terms.carry_cost * months / 12.0
    )
    return np.clip(sev, 0.0, 1.0)


def severities(
    loans: CommercialLoans,
    terms: SeverityTerms,
    maturity: MaturityResult,
    *,
    noi_growth: float = 0.0,
    noi_haircut: float = 0.0,
    cap_shift: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(severity per loan, LTV at liquidation). A maturity defaulter is valued at its maturity
    plus liquidation months with its balloon as the defaulted balance; any other loan at
    liquidation months from now with today's balance (the severity of a term default)."""
    months = liquidation_months(loans, terms).astype(np.float64)
    when = np.where(maturity.defaults, maturity.default_month + months, months)
    noi = loans.noi * (1.0 - noi_haircut) * np.power(1.0 + noi_growth, when / 12.0)
    value = stressed_value(loans, noi, cap_shift) * (1.0 - terms.value_haircut)
    bal = np.where(maturity.defaults, maturity.balloon, loans.pool.balance)
    ltv_liq = bal / value
    if terms.model == SeverityModel.LTV:
        sev = ltv_severity(ltv_liq, months, terms)
    else:
        sev = loans.type_default("severity")
    return np.where(np.isnan(loans.severity), sev, loans.severity), ltv_liq
