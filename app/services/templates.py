"""Built-in scenario templates: base / adverse / severely adverse for four asset classes.

Each template is a full assumption set (the forecast request's schema) plus the rate shocks it
implies; docs/methodology/scenarios.md gives the reasoning behind every number. They are
illustrative starting points calibrated to broad market experience, not forecasts: a user
creates a scenario from one (`"template": "<key>"`) and overrides what their view differs on.
"""

from __future__ import annotations

from typing import Any

from app.models.forecasts import AssumptionsIn
from app.models.scenarios import RateShockIn, TemplateOut

_LEVELS = ("base", "adverse", "severely_adverse")
_SHOCKS_BP = {"base": 0.0, "adverse": 100.0, "severely_adverse": 200.0}
"""Rising-rate stresses: the holder's discount rates and floating indices move up in parallel."""

# asset class -> level -> (prepayment, default, severity, recovery lag (months), advancing)
_TABLE: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any], float, int, bool]]] = {
    # prime fixed-rate residential mortgages (agency-style): PSA prepayments, SDA defaults
    "mortgage": {
        "base": ({"type": "psa", "speed": 150}, {"type": "sda", "speed": 100}, 0.35, 12, True),
        "adverse": ({"type": "psa", "speed": 100}, {"type": "sda", "speed": 300}, 0.45, 18, True),
        "severely_adverse": (
            {"type": "psa", "speed": 75},
            {"type": "sda", "speed": 600},
            0.55,
            24,
            True,
        ),
    },
    # prime auto loans: ABS prepayment speed (monthly, of the original count), constant CDR
    "auto": {
        "base": ({"type": "abs", "rate": 0.015}, {"type": "cdr", "rate": 0.01}, 0.50, 3, False),
        "adverse": ({"type": "abs", "rate": 0.013}, {"type": "cdr", "rate": 0.025}, 0.60, 4, False),
        "severely_adverse": (
            {"type": "abs", "rate": 0.010},
            {"type": "cdr", "rate": 0.05},
            0.70,
            6,
            False,
        ),
    },
    # unsecured consumer instalment loans: constant CPR and CDR, near-total severity
    "consumer": {
        "base": ({"type": "cpr", "rate": 0.15}, {"type": "cdr", "rate": 0.04}, 0.85, 4, False),
        "adverse": ({"type": "cpr", "rate": 0.12}, {"type": "cdr", "rate": 0.08}, 0.90, 4, False),
        "severely_adverse": (
            {"type": "cpr", "rate": 0.08},
            {"type": "cdr", "rate": 0.14},
            0.95,
            6,
            False,
        ),
    },
    # commercial real-estate / commercial loans: low voluntary prepayment (lockouts, yield
    # maintenance), long workouts
    "commercial": {
        "base": ({"type": "cpr", "rate": 0.05}, {"type": "cdr", "rate": 0.01}, 0.30, 18, True),
        "adverse": ({"type": "cpr", "rate": 0.03}, {"type": "cdr", "rate": 0.03}, 0.40, 24, True),
        "severely_adverse": (
            {"type": "cpr", "rate": 0.01},
            {"type": "cdr", "rate": 0.06},
            0.50,
            30,
            True,
        ),
    },
}

_DESCRIPTIONS = {
    "mortgage": "Prime fixed-rate residential mortgages",
    "auto": "Prime auto loans",
    "consumer": "Unsecured consumer instalment loans",
    "commercial": "Commercial real-estate and commercial loans",
}


def _build() -> dict[str, TemplateOut]:
    out: dict[str, TemplateOut] = {}
    for asset, levels in _TABLE.items():
        for level in _LEVELS:
            pre, dft, sev, lag, adv = levels[level]
            bp = _SHOCKS_BP[level]
            key = f"{asset}_{level}"
            out[key] = TemplateOut(
                key=key,
                asset_class=asset,  # type: ignore[arg-type]
                severity_level=level,  # type: ignore[arg-type]
                name=f"{_DESCRIPTIONS[asset]}: {level.replace('_', ' ')}",
                description=(
                    f"{_DESCRIPTIONS[asset]}, {level.replace('_', ' ')} case; see "
                    "docs/methodology/scenarios.md for the calibration."
                ),
                assumptions=AssumptionsIn.model_validate(
                    {
                        "prepayment": pre,
                        "default": dft,
                        "severity": sev,
                        "recovery_lag_months": lag,
                        "advancing": adv,
                    }
                ),
                rate_shocks=[RateShockIn(name=f"+{bp:g}bp", parallel_bp=bp)] if bp else [],
            )
    return out


TEMPLATES: dict[str, TemplateOut] = _build()
"""Every built-in template by key (`<asset class>_<level>`, e.g. "mortgage_adverse")."""
