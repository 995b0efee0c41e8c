"""The small-forecast path: a request of at most ENGINE_INLINE_LOANS loans x scenarios is
computed on the event loop and its rows are written with Core INSERTs. It must answer and store
exactly what the worker-thread path does (ENGINE_INLINE_LOANS=0), on SQLite and PostgreSQL: the
same response numbers, a stored run and inline pool that read back with their ids and
timestamps, and projections that read back bit for bit."""

from __future__ import annotations

import pytest

from app.main import create_app
from tests.api.test_forecasts import FORECAST, body
from tests.conftest import running_client, unique_user
from tests.factories import bearer as H


async def _stored(settings, user: str) -> tuple[dict, dict, dict, dict]:
    async with running_client(create_app(settings)) as c:
        resp = await c.post(FORECAST, json=body(), headers=H(user))
        assert resp.status_code == 201, resp.text
        out = resp.json()
        run = (await c.get(f"/api/v1/forecasts/{out['forecast_id']}", headers=H(user))).json()
        pool = (await c.get(f"/api/v1/pools/{out['pool_id']}", headers=H(user))).json()
        proj = await c.get(f"/api/v1/forecasts/{out['forecast_id']}/projections", headers=H(user))
        assert proj.status_code == 200, proj.text
        return out, run, pool, proj.json()


@pytest.mark.parametrize("inline_loans", [0, 32])
async def test_small_path_matches_the_thread_path(any_db_settings, inline_loans: int) -> None:
    user = unique_user()
    reference = any_db_settings.model_copy(update={"engine_inline_loans": 0})
    settings = any_db_settings.model_copy(update={"engine_inline_loans": inline_loans})
    want, _, _, want_proj = await _stored(reference, user)
    got, run, pool, proj = await _stored(settings, user)
    assert got["scenarios"] == want["scenarios"]  # the same numbers, to the last bit
    assert run["forecast_id"] == got["forecast_id"] and run["status"] == "succeeded"
    assert run["pool_id"] == got["pool_id"] and run["created_at"]
    assert [s["name"] for s in run["scenarios"]] == ["base", "stress"]
    assert pool["pool_id"] == got["pool_id"] and pool["n_loans"] == 3 and pool["created_at"]
    assert proj["scenarios"] == want_proj["scenarios"]
    # the stored columns are what the response gave
    for sc_resp, sc_proj in zip(got["scenarios"], proj["scenarios"], strict=True):
        assert sc_proj["cashflows"] == sc_resp["cashflows"]
