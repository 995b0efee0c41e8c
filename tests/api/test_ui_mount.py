"""The /ui dashboard is served by the app (static build committed under app/ui/static) with its
own CSP, and GET /api/v1/me tells the sign-in page who the caller is."""

from __future__ import annotations

import re

from app.core.security import API_CSP, UI_CSP
from app.ui import STATIC_DIR
from tests.conftest import make_settings, running_client


async def test_ui_is_served_with_its_own_csp(client) -> None:
    resp = await client.get("/ui", follow_redirects=False)
    assert resp.status_code == 307 and resp.headers["location"] == "/ui/"
    page = await client.get("/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    csp = page.headers["content-security-policy"]
    assert csp == UI_CSP
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("style-src-attr")[0]
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-cache"
    html = page.text
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assets = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', html)
    assert assets, html
    for path in assets:
        got = await client.get(path)
        assert got.status_code == 200
        assert got.headers["content-security-policy"] == UI_CSP
        assert "immutable" in got.headers["cache-control"]
    # no network at run time: the built files reference no other origin
    for path in STATIC_DIR.rglob("*.*"):
        text = path.read_text(errors="ignore")
        assert "cdn.jsdelivr" not in text and "fonts.googleapis" not in text, path
    api = await client.get("/health")
    assert api.headers["content-security-policy"] == API_CSP


async def test_me_names_the_caller(client, auth) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    resp = await client.get("/api/v1/me", headers=auth("alice"))
    assert resp.json() == {"user_id": "alice", "auth": "token"}


async def test_me_is_the_local_user_without_auth(tmp_path) -> None:
    from app.main import create_app

    app = create_app(make_settings(tmp_path, supabase_jwt_secret=None))
    async with running_client(app) as c:
        assert (await c.get("/api/v1/me")).json() == {"user_id": "local", "auth": "local"}


def test_only_a_public_supabase_key_reaches_the_browser(tmp_path) -> None:
    from app.ui import is_public_supabase_key, public_supabase, ui_csp
    from tests.conftest import sign_token

    anon = sign_token("anon", role="anon", audience=None)
    service = sign_token("service", role="service_role", audience=None)
    assert is_public_supabase_key(anon) and is_public_supabase_key("sb_publishable_abc")
    assert not is_public_supabase_key(service) and not is_public_supabase_key("sb_secret_abc")
    assert not is_public_supabase_key("not-a-key")
    url = "https://proj.supabase.co"
    on = make_settings(tmp_path, supabase_url=url, supabase_key=anon)
    assert public_supabase(on) == {"url": url, "anon_key": anon}
    assert "connect-src 'self' https://proj.supabase.co;" in ui_csp(on)
    off = make_settings(tmp_path, supabase_url=url, supabase_key=service)
    assert public_supabase(off) is None and ui_csp(off) == UI_CSP


async def test_ui_config_says_how_to_sign_in(client) -> None:
    resp = await client.get("/ui/config.json")
    assert resp.json() == {"auth": "token", "supabase": None}
    assert resp.headers["content-security-policy"] == UI_CSP
