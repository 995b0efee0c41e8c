"""The /ui dashboard: the static build of `ui/` (committed under app/ui/static, so no Node is
needed to run the service) served by the app itself, with its own Content-Security-Policy, and
`/ui/config.json`, what the sign-in page needs to know: whether auth is on and, when the
configured SUPABASE_KEY is a public (anon / publishable) key, the Supabase project to sign in
with email and password (its origin is then added to the page's connect-src)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.core.config import Settings
from app.core.security import UI_CSP

log = logging.getLogger(__name__)

UI_PATH = "/ui"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def is_public_supabase_key(key: str) -> bool:
    """True for a key meant for browsers: a new-style `sb_publishable_...` key, or a legacy JWT
    whose `role` claim is `anon`. A service-role or secret key is never sent to a browser."""
    if key.startswith("sb_publishable_"):
        return True
    parts = key.split(".")
    if len(parts) != 3:
        return False
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return False
    return isinstance(claims, dict) and claims.get("role") == "anon"


def public_supabase(settings: Settings) -> dict[str, str] | None:
    """The Supabase project the sign-in page may use (URL and public key), or None."""
    if not (settings.supabase_url and settings.supabase_key):
        return None
    if not is_public_supabase_key(settings.supabase_key):
        log.info("SUPABASE_KEY is not an anon/publishable key: /ui offers token sign-in only")
        return None
    return {"url": settings.supabase_url, "anon_key": settings.supabase_key}


def ui_csp(settings: Settings) -> str:
    """UI_CSP, plus the Supabase origin in connect-src when the page signs in with it."""
    supabase = public_supabase(settings)
    if supabase is None:
        return UI_CSP
    parts = urlsplit(supabase["url"])
    origin = f"{parts.scheme}://{parts.netloc}"
    return UI_CSP.replace("connect-src 'self'", f"connect-src 'self' {origin}")


class UIStaticFiles(StaticFiles):
    """Static files with the dashboard's CSP (the security middleware keeps a header a route
    set) and caching: hashed assets are immutable, the HTML page is revalidated each time."""

    def __init__(self, *, csp: str = UI_CSP, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.csp = csp

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["content-security-policy"] = self.csp
        if path.startswith("assets/") and response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["cache-control"] = "no-cache"
        return response


def mount_ui(app: FastAPI, settings: Settings, directory: Path = STATIC_DIR) -> bool:
    """Serve the built dashboard at /ui/ (and redirect /ui there); False when it is not built."""
    if not (directory / "index.html").is_file():
        log.warning("dashboard not built (%s/index.html missing): /ui is not served", directory)
        return False

    async def ui_root() -> RedirectResponse:
        return RedirectResponse(f"{UI_PATH}/", status_code=307)

    csp = ui_csp(settings)
    config = {
        "auth": "token" if settings.auth_configured else "local",
        "supabase": public_supabase(settings),
    }
    headers = {"cache-control": "no-cache", "content-security-policy": csp}

    async def ui_config() -> JSONResponse:
        return JSONResponse(config, headers=headers)

    app.add_api_route(UI_PATH, ui_root, include_in_schema=False, methods=["GET"])
    app.add_api_route(f"{UI_PATH}/config.json", ui_config, include_in_schema=False, methods=["GET"])
    app.mount(UI_PATH, UIStaticFiles(directory=directory, html=True, csp=csp), name="ui")
    return True
