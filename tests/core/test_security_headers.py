"""Security headers on JSON routes, on the /docs and /redoc pages (CSP that lets them load and
allows their inline scripts by hash), and on error responses (404, 401, 413, 500); HSTS only
over HTTPS; trusted hosts; CORS from config and the wildcard-with-credentials refusal."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from app.core.security import API_CSP
from tests.conftest import running_client, sign_token
from tests.core._platform import probe_app

BASE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_base_headers(resp: httpx.Response) -> None:
    for name, value in BASE.items():
        assert resp.headers.get(name) == value, (name, resp.headers)
    assert "content-security-policy" in resp.headers
    assert "strict-transport-security" not in resp.headers  # plain http
    assert resp.headers.get("x-request-id")


async def test_json_route_headers(tmp_path: Path) -> None:
    app = probe_app(tmp_path)
    async with running_client(app) as client:
        resp = await client.get("/health")
    assert resp.status_code == 200
    assert_base_headers(resp)
    assert resp.headers["content-security-policy"] == API_CSP


async def test_hsts_only_over_https(tmp_path: Path) -> None:
    app = probe_app(tmp_path)
    async with running_client(app, base_url="https://127.0.0.1") as client:
        resp = await client.get("/health")
    assert resp.headers["strict-transport-security"].startswith("max-age=31536000")
    app = probe_app(tmp_path, hsts_max_age=0)
    async with running_client(app, base_url="https://127.0.0.1") as client:
        assert "strict-transport-security" not in (await client.get("/health")).headers


def _inline_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    ]


async def test_docs_pages_csp_allows_their_assets(tmp_path: Path) -> None:
    app = probe_app(tmp_path)
    async with running_client(app) as client:
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
        redirect = await client.get("/docs/oauth2-redirect")
    assert docs.status_code == redoc.status_code == redirect.status_code == 200
    for resp in (docs, redoc, redirect):
        assert_base_headers(resp)
    csp = docs.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    # every external asset the page references is allowed by its directive
    for src in re.findall(r'<script src="([^"]+)"', docs.text):
        assert (
            src.startswith("https://cdn.jsdelivr.net/")
            and "https://cdn.jsdelivr.net" in directives["script-src"]
        )
    for href in re.findall(r'<link[^>]+href="([^"]+)"', docs.text + redoc.text):
        host = "/".join(href.split("/")[:3])
        assert host in directives["style-src"] or host in directives["img-src"], href
    # the inline boot script is allowed by hash, not by 'unsafe-inline'
    hashes = _inline_hashes(docs.text)
    assert hashes and all(h in directives["script-src"] for h in hashes)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    redoc_csp = dict(
        d.strip().split(" ", 1) for d in redoc.headers["content-security-policy"].split(";")
    )
    assert "blob:" in redoc_csp["worker-src"]  # ReDoc's search worker
    assert "https://fonts.gstatic.com" in redoc_csp["font-src"]
    for src in re.findall(r'<script src="([^"]+)"', redoc.text):
        assert src.startswith("https://cdn.jsdelivr.net/")
    redirect_hashes = _inline_hashes(redirect.text)
    assert redirect_hashes and all(
        h in redirect.headers["content-security-policy"] for h in redirect_hashes
    )


async def test_error_responses_have_headers(tmp_path: Path) -> None:
    app = probe_app(tmp_path, max_body_bytes=2048)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        not_found = await client.get("/nope")
        unauth = await client.get("/api/v1/_probe")
        too_big = await client.post(
            "/api/v1/_probe", content=b"x" * 5000, headers={"content-type": "application/json"}
        )
        token = sign_token("u-500")
        boom = await client.get("/api/v1/_boom", headers={"Authorization": f"Bearer {token}"})
    assert not_found.status_code == 404 and unauth.status_code == 401
    assert too_big.status_code == 413 and boom.status_code == 500
    for resp in (not_found, unauth, too_big, boom):
        assert_base_headers(resp)
        assert resp.headers["content-security-policy"] == API_CSP
        body = resp.json()
        assert set(body) == {"error", "detail", "request_id"}
        assert body["request_id"] == resp.headers["x-request-id"]
    assert "probe failure" not in boom.text and "Traceback" not in boom.text


async def test_trusted_hosts(tmp_path: Path) -> None:
    app = probe_app(tmp_path, allowed_hosts=["api.example.com", "*.internal.example"])
    async with running_client(app, base_url="http://api.example.com") as client:
        ok = await client.get("/health")
        sub = await client.get("/health", headers={"host": "svc.internal.example:8000"})
        bad = await client.get("/health", headers={"host": "evil.example.org"})
        bare = await client.get("/health", headers={"host": "internal.example"})
    assert ok.status_code == 200 and sub.status_code == 200
    assert bad.status_code == 400 and bare.status_code == 400
    assert bad.json()["error"] == "bad_request"
    assert_base_headers(bad)


async def test_cors_from_config(tmp_path: Path) -> None:
    app = probe_app(tmp_path, cors_origins="https://app.example.com", cors_allow_credentials=True)
    async with running_client(app) as client:
        pre = await client.options(
            "/api/v1/_probe",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        same = await client.get("/health", headers={"Origin": "https://app.example.com"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://app.example.com"
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in other.headers
    assert same.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "X-Request-ID" in same.headers["access-control-expose-headers"]


def test_cors_wildcard_with_credentials_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        probe_app(tmp_path, cors_origins="*", cors_allow_credentials=True)
    probe_app(tmp_path, cors_origins="*", cors_allow_credentials=False)  # allowed
