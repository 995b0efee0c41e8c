"""CLO quality tests of small portfolios computed by hand from Moody's published tables
(rating factors; the diversity-score table 1→1.0, 2→1.5, 3→2.0, 4→2.33, 5→2.67, 6→3.0 in 0.1
steps), and the OC haircuts."""

from __future__ import annotations

import datetime as dt

import pytest

from app.assets.clo.portfolio import (
    caa_share,
    ccc_excess_haircut,
    diversity_score,
    portfolio_from_assets,
    quality_tests,
    wac,
    wal,
    warf,
    was,
)
from app.assets.clo.ratings import industry_diversity_score

DAY = dt.date(2026, 1, 1)


def _asset(i, par, rating, industry, obligor=None, **kw):
    return {
        "asset_id": f"a{i}",
        "par": par,
        "rating": rating,
        "industry": industry,
        "obligor": obligor or f"o{i}",
        "maturity_months": kw.pop("m", 60),
        **({"spread": 0.04, "index": "SOFR"} if "coupon" not in kw else {}),
        **kw,
    }


def test_warf_by_hand() -> None:
    # B2 2720, Caa1 4770, Ba3 1766; par 100, 100, 200: (272000 + 477000 + 353200) / 400
    p = portfolio_from_assets(
        [_asset(0, 100, "B2", "x"), _asset(1, 100, "Caa1", "x"), _asset(2, 200, "Ba3", "x")], DAY
    )
    assert warf(p) == pytest.approx((100 * 2720 + 100 * 4770 + 200 * 1766) / 400)
    assert caa_share(p) == pytest.approx(0.25)


def test_warf_excludes_defaulted_assets() -> None:
    p = portfolio_from_assets(
        [_asset(0, 100, "B1", "x"), _asset(1, 100, "C", "x", defaulted=True)], DAY
    )
    assert warf(p) == pytest.approx(2220)


@pytest.mark.parametrize(
    ("u", "score"),
    [
        (0.0, 0.0),
        (0.5, 0.5),
        (1.0, 1.0),
        (1.5, 1.25),
        (2.0, 1.5),
        (2.04, 1.5),
        (2.06, 1.55),
        (3.0, 2.0),
        (4.0, 2.3333),
        (5.0, 2.6667),
        (6.0, 3.0),
        (7.0, 3.25),
        (8.0, 3.5),
        (10.0, 4.0),
        (14.0, 4.0),
    ],
)
def test_industry_table_rows(u, score) -> None:
    assert float(industry_diversity_score(u)) == pytest.approx(score, abs=1e-4)


def test_diversity_score_by_hand() -> None:
    """Five obligors of par 10 and one of par 5: average obligor par 55/6 = 9.1667, so the five
    count 1 unit each and the small one 5/9.1667 = 0.5455. Industry X holds three full obligors
    (3 units → 2.0); Y one full and the small one (1.5455 → row 1.45: 1.25); Z one (1.0).
    Two assets of the same obligor add up before the comparison."""
    assets = [
        _asset(0, 10, "B2", "X"),
        _asset(1, 10, "B2", "X"),
        _asset(2, 6, "B2", "X", obligor="o2b"),
        _asset(3, 4, "B2", "X", obligor="o2b"),
        _asset(4, 10, "B2", "Y"),
        _asset(5, 5, "B2", "Y"),
        _asset(6, 10, "B2", "Z"),
    ]
    p = portfolio_from_assets(assets, DAY)
    assert diversity_score(p) == pytest.approx(2.0 + 1.25 + 1.0)


def test_was_wac_wal_and_triggers() -> None:
    assets = [
        _asset(0, 100, "B2", "X", spread=0.03, m=24),
        _asset(1, 300, "B2", "X", spread=0.05, m=72),
        _asset(2, 100, "B2", "X", coupon=0.08, m=120),
    ]
    p = portfolio_from_assets(assets, DAY)
    assert was(p) == pytest.approx((100 * 0.03 + 300 * 0.05) / 400)
    assert wac(p) == pytest.approx(0.08)
    assert wal(p) == pytest.approx((100 * 2 + 300 * 6 + 100 * 10) / 500)
    q = quality_tests(p, {"warf": 2700, "was": 0.04, "wal": 6.0})
    assert q["warf"] == {"value": 2720.0, "trigger": 2700, "passed": False}
    assert q["was"]["passed"] is True and q["wal"]["passed"] is True
    assert q["wac"]["passed"] is None and q["diversity_score"]["trigger"] is None


def test_ccc_excess_at_market_value_lowest_price_first() -> None:
    """Performing par 1000, Caa 200 with a 7.5% limit: excess 125, taken from the lowest priced
    Caa asset first (par 100 at 0.60 → 40 of haircut), then 25 of the one at 0.80 (5)."""
    assets = [
        _asset(0, 800, "B2", "X"),
        _asset(1, 100, "Caa1", "X", price=0.8),
        _asset(2, 100, "Caa2", "X", price=0.6),
    ]
    p = portfolio_from_assets(assets, DAY)
    assert ccc_excess_haircut(p, 0.075) == pytest.approx(100 * 0.4 + 25 * 0.2)
