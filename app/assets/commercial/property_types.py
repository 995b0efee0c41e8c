"""Property types of commercial real-estate loans and the default assumptions of each.

Units: `cap_rate` is an annual decimal (NOI / value); `noi_volatility` the annual standard
deviation of NOI growth (decimal); `severity` loss as a fraction of the balance at default;
`liquidation_months` months from default to liquidation; `correlation` the asset correlation
of the one-factor Gaussian copula (decimal in [0, 1)).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PropertyType(str, Enum):  # noqa: UP042 - str mixin: values are the words users send
    """The property types users send (`property_type`)."""

    OFFICE = "office"
    RETAIL = "retail"
    MULTIFAMILY = "multifamily"
    INDUSTRIAL = "industrial"
    HOTEL = "hotel"
    MIXED_USE = "mixed_use"
    SELF_STORAGE = "self_storage"
    HEALTHCARE = "healthcare"


@dataclass(frozen=True)
class PropertyDefaults:
    """Default assumptions of one property type (units in the module docstring)."""

    description: str
    cap_rate: float
    noi_volatility: float
    severity: float
    liquidation_months: int
    correlation: float
    source: str


_CAP = (
    "cap_rate: rounded mid-range of the CBRE U.S. Cap Rate Survey, H2 2024 (approximate; check "
    "the current survey)"
)
_CORR = (
    "correlation: inside the Basel II IRB corporate asset-correlation range 0.12-0.24 (BCBS, "
    "International Convergence of Capital Measurement, June 2006, para. 272), placed by house "
    "assumption"
)
_HOUSE = "noi_volatility, severity and liquidation_months: house assumption"

PROPERTY_TYPES: dict[PropertyType, PropertyDefaults] = {
    PropertyType.OFFICE: PropertyDefaults(
        "Office buildings (CBD and suburban).",
        0.080,
        0.12,
        0.45,
        18,
        0.20,
        f"{_CAP}; {_CORR}; {_HOUSE}",
    ),
    PropertyType.RETAIL: PropertyDefaults(
        "Shopping centres, malls and single-tenant retail.",
        0.075,
        0.12,
        0.45,
        18,
        0.18,
        f"{_CAP}; {_CORR}; {_HOUSE}",
    ),
    PropertyType.MULTIFAMILY: PropertyDefaults(
        "Apartment buildings (five or more units).",
        0.055,
        0.06,
        0.30,
        12,
        0.12,
        f"{_CAP}; {_CORR}; {_HOUSE}",
    ),
    PropertyType.INDUSTRIAL: PropertyDefaults(
        "Warehouses, distribution and light industrial.",
        0.055,
        0.08,
        0.35,
        12,
        0.15,
        f"{_CAP}; {_CORR}; {_HOUSE}",
    ),
    PropertyType.HOTEL: PropertyDefaults(
        "Full- and limited-service hotels.",
        0.085,
        0.20,
        0.50,
        18,
        0.24,
        f"{_CAP}; {_CORR}; {_HOUSE}",
    ),
    PropertyType.MIXED_USE: PropertyDefaults(
        "Mixed retail, office and residential.",
        0.070,
        0.10,
        0.40,
        15,
        0.18,
        "house assumption (between the retail, office and multifamily defaults)",
    ),
    PropertyType.SELF_STORAGE: PropertyDefaults(
        "Self-storage facilities.",
        0.060,
        0.08,
        0.35,
        12,
        0.15,
        "house assumption",
    ),
    PropertyType.HEALTHCARE: PropertyDefaults(
        "Senior housing, skilled nursing and medical office.",
        0.070,
        0.12,
        0.45,
        18,
        0.18,
        "house assumption",
    ),
}
"""One row per property type; `source` says where each default comes from."""

PROPERTY_TYPE_CODES: dict[str, int] = {p.value: i for i, p in enumerate(PROPERTY_TYPES)}
"""property_type word -> int code (row of `defaults_array`)."""


def defaults_array(name: str) -> list[float]:
    """One default (by field name of `PropertyDefaults`) per property type, in code order."""
    return [float(getattr(d, name)) for d in PROPERTY_TYPES.values()]


def catalogue() -> list[dict[str, object]]:
    """The GET property-types list: property_type, description, default_assumptions, source."""
    return [
        {
            "property_type": p.value,
            "description": d.description,
            "default_assumptions": {
                "cap_rate": d.cap_rate,
                "noi_volatility": d.noi_volatility,
                "severity": d.severity,
                "liquidation_months": d.liquidation_months,
                "correlation": d.correlation,
            },
            "source": d.source,
        }
        for p, d in PROPERTY_TYPES.items()
    ]
