"""Fixed-income analytics: conventions, zero curves, yields, durations, spreads (DOMAIN.md §5)."""

from app.engine.analytics.conventions import Compounding, DayCount, Frequency, year_fraction
from app.engine.analytics.curves import Interpolation, ZeroCurve

__all__ = ["Compounding", "DayCount", "Frequency", "Interpolation", "ZeroCurve", "year_fraction"]
