"""Rate-driven prepayment: refinancing S-curve + seasoning ramp + burnout + base turnover.

Monthly prepayment rate (SMM) of loan l in projection month i on a rate path with mortgage
rate m_i (decimal per year, see app.engine.rates.MortgageRateProxy):

    SMM = min(1 − MDR, ramp · [smm(turnover_cpr) + smm(refi_cpr_max) · S(I) · B])

    I    = c_l − m_{i}           refinancing incentive: the loan's gross note rate minus the
                                  path's mortgage rate observed at the start of the month
    S(I) = 1 / (1 + exp(−k·(I − I_mid)))   logistic S-curve, k = refi_steepness (1/decimal),
                                  I_mid = refi_midpoint (decimal)
    B    = 1 / (1 + β·E)          burnout, β = burnout (per rate-year), E = Σ_{j<i} max(I_j, 0)·Δ
                                  the in-the-money incentive accumulated since the projection
                                  start (rate × years, Δ = 1/12)
    ramp = min(1, (age + i) / seasoning_months)   linear ramp on loan-age month (1 when 0)
    smm(c) = 1 − (1 − c)^(1/12)  (DOMAIN.md §2)

Components add in SMM space. The cap at 1 − MDR keeps the SIFMA balance identity
non-negative, since defaults and prepayments both come off the prior performing balance
(DOMAIN.md §3). With refi_cpr_max = 0 (zero rate sensitivity) and seasoning_months = 0 the
model is exactly a constant CPR of turnover_cpr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput

EXP_CLIP = 350.0  # |exponent| cap so exp never overflows; S is then 0 or 1 to ~1e-152


def cpr_to_smm(cpr: float | np.ndarray) -> float | np.ndarray:
    """SMM = 1 − (1 − CPR)^(1/12) (DOMAIN.md §2)."""
    return 1.0 - (1.0 - np.asarray(cpr, dtype=np.float64)) ** (1.0 / 12.0)


@dataclass(frozen=True)
class RefiPrepaymentModel:
    """Parameters of the rate-driven prepayment model (all rates decimal per year).

    turnover_cpr: base prepayment from housing turnover, CPR (default 6%).
    refi_cpr_max: refinancing CPR at full incentive, before burnout (default 40%); 0 makes the
        model rate-insensitive.
    refi_midpoint: incentive at which half of refi_cpr_max applies (default 0.0075 = 75 bp).
    refi_steepness: logistic slope k per unit of incentive (default 400: from 10% to 90% of
        the maximum over ±55 bp around the midpoint).
    seasoning_months: length of the linear seasoning ramp on loan age (default 30, as PSA).
    burnout: β per rate-year of accumulated in-the-money incentive (default 25: after 1% of
        incentive held for a year, refinancing runs at 1/(1 + 0.25) = 80% of the fresh level).
    """

    turnover_cpr: float = 0.06
    refi_cpr_max: float = 0.40
    refi_midpoint: float = 0.0075
    refi_steepness: float = 400.0
    seasoning_months: int = 30
    burnout: float = 25.0

    def validate(self) -> None:
        p: list[FieldProblem] = []
        vals = (
            self.turnover_cpr,
            self.refi_cpr_max,
            self.refi_midpoint,
            self.refi_steepness,
            float(self.seasoning_months),
            self.burnout,
        )
        if not all(math.isfinite(v) for v in vals):
            p.append(FieldProblem(None, "prepayment_model", "parameters must be finite"))
        if not 0.0 <= self.turnover_cpr <= 1.0:
            p.append(FieldProblem(None, "prepayment_model.turnover_cpr", "must be in [0, 1]"))
        if not 0.0 <= self.refi_cpr_max <= 1.0:
            p.append(FieldProblem(None, "prepayment_model.refi_cpr_max", "must be in [0, 1]"))
        if self.refi_steepness < 0:
            p.append(FieldProblem(None, "prepayment_model.refi_steepness", "must be >= 0"))
        if self.seasoning_months < 0:
            p.append(FieldProblem(None, "prepayment_model.seasoning_months", "must be >= 0"))
        if self.burnout < 0:
            p.append(FieldProblem(None, "prepayment_model.burnout", "must be >= 0"))
        if p:
            raise InvalidInput(p)

    @property
    def turnover_smm(self) -> float:
        return float(cpr_to_smm(self.turnover_cpr))

    @property
    def refi_smm_max(self) -> float:
        return float(cpr_to_smm(self.refi_cpr_max))

    def s_curve(self, incentive: np.ndarray) -> np.ndarray:
        """S(I) = 1/(1 + exp(−k(I − I_mid))), I a decimal incentive."""
        z = np.clip(-self.refi_steepness * (np.asarray(incentive) - self.refi_midpoint), -700, 700)
        return 1.0 / (1.0 + np.exp(z))

    def smm(
        self,
        note_rate: np.ndarray,
        age_months: np.ndarray,
        mortgage_rates: np.ndarray,
        mdr: np.ndarray | None = None,
    ) -> np.ndarray:
        """SMM[p, i, l] for paths p, months i = 1..N, loans l (plain NumPy reference).

        note_rate: gross annual coupon per loan (decimal); age_months: loan age at the start;
        mortgage_rates: (n_paths, N) path mortgage rates; mdr: optional (N, n_loans) monthly
        default rate used only for the 1 − MDR cap.
        """
        self.validate()
        c = np.asarray(note_rate, dtype=np.float64)[None, None, :]
        m = np.asarray(mortgage_rates, dtype=np.float64)[:, :, None]
        n = m.shape[1]
        incentive = c - m
        exposure = np.cumsum(np.maximum(incentive, 0.0), axis=1) / 12.0
        exposure = np.concatenate([np.zeros_like(exposure[:, :1]), exposure[:, :-1]], axis=1)
        burn = 1.0 / (1.0 + self.burnout * exposure)
        month = np.arange(1, n + 1, dtype=np.float64)[:, None]
        loan_age = month + np.asarray(age_months, dtype=np.float64)[None, :]
        if self.seasoning_months > 0:
            ramp = np.minimum(1.0, loan_age / self.seasoning_months)
        else:
            ramp = np.ones_like(loan_age)
        out = ramp[None] * (self.turnover_smm + self.refi_smm_max * self.s_curve(incentive) * burn)
        cap = 1.0 if mdr is None else 1.0 - np.asarray(mdr, dtype=np.float64)[None]
        return np.minimum(out, cap)
