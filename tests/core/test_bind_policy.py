"""Without auth the service runs only on loopback: it refuses other bind addresses at start,
and refuses requests that arrive on a non-loopback socket."""

from __future__ import annotations

import logging

import pytest

from app.core.auth import InsecureBindError
from app.main import create_app
from tests.conftest import make_settings, running_client


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com"])
def test_refuses_non_loopback_bind_without_auth(tmp_path, host) -> None:
    with pytest.raises(InsecureBindError, match="refusing to start"):
        create_app(make_settings(tmp_path, host=host, supabase_jwt_secret=None))


def test_non_loopback_bind_allowed_with_auth(tmp_path) -> None:
    create_app(make_settings(tmp_path, host="0.0.0.0"))


def test_loopback_without_auth_warns_loudly(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="app.core.auth"):
        create_app(make_settings(tmp_path, host="127.0.0.1", supabase_jwt_secret=None))
    assert "AUTH DISABLED" in caplog.text


async def test_local_user_served_on_loopback_only(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, supabase_jwt_secret=None))
    async with running_client(app) as c:
        assert (await c.get("/api/v1/forecasts/")).status_code == 200
    async with running_client(app, base_url="http://192.0.2.10") as c:
        resp = await c.get("/api/v1/forecasts/")
        assert resp.status_code == 403
        assert resp.json()["error"] == "forbidden"
