"""A deal that breaks a rule is refused with the path of the offending field and the reason."""

from __future__ import annotations

import pytest

from app.engine.deals import DealError, parse_collateral, parse_deal
from app.engine.deals.parse import check_capital_structure


def _base():
    return {
        "tranches": [
            {"name": "A", "balance": 80, "coupon": {"type": "fixed", "rate": 0.05}},
            {"name": "E", "role": "equity"},
        ],
        "fees": [{"name": "admin", "amount": 1}],
        "tests": [{"name": "oc", "type": "oc", "tranches": ["A"], "trigger": 1.1}],
        "waterfall": [
            {"source": "interest", "pay": "fees", "fees": ["admin"]},
            {"source": "interest", "pay": "interest", "tranches": ["A"]},
            {"source": "interest", "pay": "interest", "tranches": ["A"]},
            {"source": "interest", "pay": "interest", "tranches": ["A"]},
            {"source": "interest", "pay": "residual", "to": "E"},
        ],
    }


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (
            lambda d: d["waterfall"][3].update(tranches=["Z"]),
            ("deal", "waterfall", 3, "tranches", 0),
            "unknown tranche",
        ),
        (
            lambda d: d["waterfall"][0].update(fees=["nope"]),
            ("deal", "waterfall", 0, "fees", 0),
            "unknown fee",
        ),
        (
            lambda d: d["waterfall"].append(
                {"source": "interest", "pay": "deposit", "account": "r"}
            ),
            ("deal", "waterfall", 5, "account"),
            "unknown account",
        ),
        (
            lambda d: d["waterfall"].append(
                {"source": "interest", "pay": "cure", "test": "ic", "tranches": ["A"]}
            ),
            ("deal", "waterfall", 5, "test"),
            "unknown test",
        ),
        (lambda d: d["tests"][0].pop("trigger"), ("deal", "tests", 0, "trigger"), "trigger"),
        (
            lambda d: d["waterfall"][1].update(pay="dance"),
            ("deal", "waterfall", 1, "pay"),
            "not one of",
        ),
        (
            lambda d: d.update(reinvestment={"end_period": 24, "maturity_period": 12}),
            ("deal", "reinvestment", "end_period"),
            "circular",
        ),
        (
            lambda d: d["waterfall"].append({"source": "principal", "pay": "reinvest"}),
            ("deal", "waterfall", 5),
            "reinvestment",
        ),
    ],
)
def test_bad_deal_names_the_path(mutate, path, words) -> None:
    d = _base()
    mutate(d)
    with pytest.raises(DealError) as exc:
        parse_deal(d)
    assert exc.value.path == path
    assert words in exc.value.message


def test_debt_above_collateral_without_equity() -> None:
    d = _base()
    d["tranches"] = d["tranches"][:1]
    d["waterfall"] = d["waterfall"][:2]
    deal = parse_deal(d)
    with pytest.raises(DealError, match="no equity") as exc:
        check_capital_structure(deal, 50.0)
    assert exc.value.path == ("deal", "tranches")
    check_capital_structure(parse_deal(_base()), 50.0)  # an equity tranche absorbs it


def test_negative_collections() -> None:
    with pytest.raises(DealError, match="negative") as exc:
        parse_collateral({"balance": 10, "interest": [1, -1], "principal": [0, 0]})
    assert exc.value.path == ("collateral_cashflows", "interest", 1)
    assert exc.value.field == "collateral_cashflows.interest[1]"
