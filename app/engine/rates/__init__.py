"""Short-rate models (Hull-White fitted to a curve, Vasicek, CIR) and seeded monthly paths."""

from app.engine.rates.curve import DiscountCurve, FlatCurve, ShiftedCurve, shift_curve
from app.engine.rates.models import (
    CIR,
    DT,
    CalibratedModel,
    HullWhite,
    MortgageRateProxy,
    RateModel,
    Vasicek,
    calibrate,
    cir_bond_coefficients,
    ou_variances,
)
from app.engine.rates.paths import (
    block_rng,
    mortgage_rates,
    path_discount_factors,
    simulate_short_rates,
)

__all__ = [
    "CIR",
    "DT",
    "CalibratedModel",
    "DiscountCurve",
    "FlatCurve",
    "HullWhite",
    "MortgageRateProxy",
    "RateModel",
    "ShiftedCurve",
    "Vasicek",
    "block_rng",
    "calibrate",
    "cir_bond_coefficients",
    "mortgage_rates",
    "ou_variances",
    "path_discount_factors",
    "shift_curve",
    "simulate_short_rates",
]
