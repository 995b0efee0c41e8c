"""Helpers for the platform tests: an app built like production plus a few probe routes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from app.api.deps import CurrentUser
from tests.conftest import make_settings

probe_log = logging.getLogger("tests.probe")


def probe_app(tmp_path: Path, **overrides: Any) -> FastAPI:
    """create_app(settings) with probe routes: GET/POST /api/v1/_probe (authenticated),
    GET /api/v1/_items/{item_id} (open) and GET /api/v1/_boom (raises)."""
    from app.main import create_app

    app = create_app(make_settings(tmp_path, **overrides))

    @app.get("/api/v1/_probe")
    async def probe_read(user: CurrentUser) -> dict[str, str]:
        probe_log.info("probe read", extra={"probe": True})
        return {"user": user.user_id}

    @app.post("/api/v1/_probe")
    async def probe_run(user: CurrentUser) -> dict[str, str]:
        return {"user": user.user_id}

    @app.get("/api/v1/_items/{item_id}")
    async def probe_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/api/v1/_boom")
    async def probe_boom(request: Request, user: CurrentUser) -> None:
        body = await request.body()
        loans = json.loads(body) if body else None  # noqa: F841 - a local holding loan data
        raise RuntimeError("probe failure")

    return app
