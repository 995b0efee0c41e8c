"""Monte Carlo `price_pct` (issue 17, item 2): a price per 100 of par (the pool's current
balance) gives the OAS of the money price price_pct / 100 × balance; exactly one of the two;
the errors and the schema state the units."""

from __future__ import annotations

import pytest

URL = "/api/v1/cashflow/monte-carlo"
BALANCES = [600_000.0, 400_000.0]


def body(**price: float) -> dict:
    return {
        "pool": {"balance": BALANCES, "note_rate": [0.065, 0.05], "remaining_term": [120, 96]},
        "curve": {"times": [1.0, 5.0, 10.0], "rates": [0.044, 0.043, 0.044]},
        "rate_model": {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.012},
        "n_paths": 64,
        "block_size": 32,
        "seed": 3,
        "duration_bump": None,
        **price,
    }


async def test_price_pct_and_money_price_give_the_same_oas(client, auth) -> None:
    h = auth("mc-pct")
    par = sum(BALANCES)  # 1,000,000: 98.75 per 100 is 987,500 in money, computed by hand
    money = await client.post(URL, json=body(price=987_500.0), headers=h)
    pct = await client.post(URL, json=body(price_pct=98.75), headers=h)
    assert money.status_code == pct.status_code == 200, (money.text, pct.text)
    assert 98.75 / 100 * par == 987_500.0
    oas_money, oas_pct = money.json()["oas"], pct.json()["oas"]
    assert oas_money is not None and oas_pct == pytest.approx(oas_money, abs=1e-12)
    # a different quote is a different OAS (the field is really used)
    cheaper = await client.post(URL, json=body(price_pct=95.0), headers=h)
    assert cheaper.json()["oas"] > oas_money + 1e-4


async def test_both_prices_are_refused_naming_the_units(client, auth) -> None:
    resp = await client.post(URL, json=body(price=987_500.0, price_pct=98.75), headers=auth("x"))
    assert resp.status_code == 422
    text = resp.text
    assert "price" in text and "price_pct" in text and "per 100 of par" in text


async def test_schema_states_the_units(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    props = spec["components"]["schemas"]["MonteCarloIn"]["properties"]
    assert "money" in props["price"]["description"]
    assert "per 100 of par" in props["price_pct"]["description"]
    assert "price_pct" in props["price"]["description"]
