"""Moody's tables used by the CLO model: rating factors, the diversity-score table and a
stated default-probability table. Each table names its source.

Ratings are on Moody's long-term scale (Aaa … C); `MoodysRating` is the vocabulary.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np


class MoodysRating(StrEnum):
    AAA = "Aaa"
    AA1 = "Aa1"
    AA2 = "Aa2"
    AA3 = "Aa3"
    A1 = "A1"
    A2 = "A2"
    A3 = "A3"
    BAA1 = "Baa1"
    BAA2 = "Baa2"
    BAA3 = "Baa3"
    BA1 = "Ba1"
    BA2 = "Ba2"
    BA3 = "Ba3"
    B1 = "B1"
    B2 = "B2"
    B3 = "B3"
    CAA1 = "Caa1"
    CAA2 = "Caa2"
    CAA3 = "Caa3"
    CA = "Ca"
    C = "C"


# Moody's idealised rating factors (the WARF table): Moody's Investors Service, "Moody's Global
# Approach to Rating Collateralized Loan Obligations" (rating-factor table, as in every CLO
# indenture's "Moody's Rating Factor" definition; first published in "The Binomial Expansion
# Method Applied to CBO/CLO Analysis", 1996).
RATING_FACTOR: dict[MoodysRating, float] = {
    MoodysRating.AAA: 1,
    MoodysRating.AA1: 10,
    MoodysRating.AA2: 20,
    MoodysRating.AA3: 40,
    MoodysRating.A1: 70,
    MoodysRating.A2: 120,
    MoodysRating.A3: 180,
    MoodysRating.BAA1: 260,
    MoodysRating.BAA2: 360,
    MoodysRating.BAA3: 610,
    MoodysRating.BA1: 940,
    MoodysRating.BA2: 1350,
    MoodysRating.BA3: 1766,
    MoodysRating.B1: 2220,
    MoodysRating.B2: 2720,
    MoodysRating.B3: 3490,
    MoodysRating.CAA1: 4770,
    MoodysRating.CAA2: 6500,
    MoodysRating.CAA3: 8070,
    MoodysRating.CA: 10000,
    MoodysRating.C: 10000,
}

CAA_OR_BELOW = frozenset(
    {MoodysRating.CAA1, MoodysRating.CAA2, MoodysRating.CAA3, MoodysRating.CA, MoodysRating.C}
)

# Moody's diversity-score table (same sources): the industry diversity score of an aggregate
# industry equivalent unit score u. The published anchors are 1 → 1.00, 2 → 1.50, 3 → 2.00,
# 4 → 2.33, 5 → 2.67, 6 → 3.00, 7 → 3.25, 8 → 3.50, 9 → 3.75, 10 → 4.00 (u below 1 scores u);
# indentures print it in steps of 0.1 of u (rows at 0.05, 0.15, …, 9.95, linear between the
# anchors: +0.05 a step from 1 to 3, +1/30 from 3 to 6, +0.025 from 6 to 10) and a score
# between two rows takes the row below. Above 9.95 the score stays 4.0 (Moody's treats more
# than ten obligor units in one industry case by case; we state the cap).
_ANCHOR_U = np.array([0.0, 1.0, 2.0, 3.0, 6.0, 10.0])
_ANCHOR_S = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0])
DIVERSITY_ROWS_U = np.concatenate([[0.0], 0.05 + 0.1 * np.arange(100)])
DIVERSITY_ROWS_SCORE = np.concatenate(
    [[0.0], np.round(np.interp(0.1 * np.arange(1, 101), _ANCHOR_U, _ANCHOR_S), 4)]
)


def industry_diversity_score(unit_score: np.ndarray | float) -> np.ndarray:
    """The table's industry diversity score of aggregate industry equivalent unit score(s)."""
    u = np.asarray(unit_score, dtype=np.float64)
    row = np.searchsorted(DIVERSITY_ROWS_U, u + 1e-12, side="right") - 1
    return DIVERSITY_ROWS_SCORE[np.clip(row, 0, DIVERSITY_ROWS_U.size - 1)]


# One-year default probabilities by rating, derived from the rating-factor table itself: a
# Moody's rating factor is the rating's 10-year idealised cumulative default probability in
# basis points (Moody's, "The Binomial Expansion Method Applied to CBO/CLO Analysis", 1996), so
# the constant annual PD is 1 − (1 − RF/10000)^(1/10). Ca and C (factor 10000) default at once.
# A request may give its own `pd_table` or a per-asset `pd`.
ONE_YEAR_PD: dict[MoodysRating, float] = {
    r: 1.0 - (1.0 - f / 10000.0) ** 0.1 for r, f in RATING_FACTOR.items()
}
