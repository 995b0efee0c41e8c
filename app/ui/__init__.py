"""The /ui dashboard: the static build of `ui/` (committed under app/ui/static, so no Node is
needed to run the service) served by the app itself, with its own Content-Security-Policy."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.core.security import UI_CSP

log = logging.getLogger(__name__)

UI_PATH = "/ui"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class UIStaticFiles(StaticFiles):
    """Static files with the dashboard's CSP (the security middleware keeps a header a route
    set) and caching: hashed assets are immutable, the HTML page is revalidated each time."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["content-security-policy"] = UI_CSP
        if path.startswith("assets/") and response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["cache-control"] = "no-cache"
        return response


def mount_ui(app: FastAPI, directory: Path = STATIC_DIR) -> bool:
    """Serve the built dashboard at /ui/ (and redirect /ui there); False when it is not built."""
    if not (directory / "index.html").is_file():
        log.warning("dashboard not built (%s/index.html missing): /ui is not served", directory)
        return False

    async def ui_root() -> RedirectResponse:
        return RedirectResponse(f"{UI_PATH}/", status_code=307)

    app.add_api_route(UI_PATH, ui_root, include_in_schema=False, methods=["GET"])
    app.mount(UI_PATH, UIStaticFiles(directory=directory, html=True), name="ui")
    return True
