"""`"store": false`: a pricing call answers the same numbers as a stored forecast and writes
nothing (no forecast run, no inline pool); it refuses to be a job (422 naming body.store)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from tests.api.test_forecasts import FORECAST, body
from tests.conftest import running_client, unique_user
from tests.factories import bearer as H


@pytest.fixture
async def db_client(any_db_settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_client(create_app(any_db_settings)) as c:
        yield c


async def test_store_false_prices_without_writing(db_client: httpx.AsyncClient) -> None:
    user = unique_user()
    priced = await db_client.post(FORECAST, json=body(store=False), headers=H(user))
    assert priced.status_code == 200, priced.text
    out = priced.json()
    assert out["forecast_id"] is None and "location" not in priced.headers
    assert (await db_client.get("/api/v1/forecasts/", headers=H(user))).json()["total"] == 0
    # nothing written: a later stored run is the user's first and only forecast
    stored = await db_client.post(FORECAST, json=body(), headers=H(user))
    assert stored.status_code == 201, stored.text
    assert (await db_client.get("/api/v1/forecasts/", headers=H(user))).json()["total"] == 1
    assert out["scenarios"] == stored.json()["scenarios"]
    assert out["n_loans"] == stored.json()["n_loans"] == 3


async def test_store_false_is_never_a_job(db_client: httpx.AsyncClient) -> None:
    b = {**body(store=False), "async": True}
    resp = await db_client.post(FORECAST, json=b, headers=H(unique_user()))
    assert resp.status_code == 422, resp.text
    assert "store" in str(resp.json())
