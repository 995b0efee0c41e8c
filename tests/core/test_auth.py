"""Supabase JWT auth through the ASGI app with real tokens: HS256 with the project secret, and
RS256/ES256 with keys served as a JWKS by a real HTTP server on loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from app.main import create_app
from tests.conftest import TEST_JWT_SECRET, make_settings, running_client, sign_token

URL = "/api/v1/forecasts/"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _status(client, token: str | None) -> int:
    headers = _bearer(token) if token is not None else {}
    resp = await client.get(URL, headers=headers)
    if resp.status_code == 401:
        body = resp.json()
        assert body["error"] == "unauthorized" and body["request_id"]
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    return resp.status_code


# --- HS256 ---------------------------------------------------------------------------------
async def test_valid_hs256_token_is_accepted(client) -> None:
    assert await _status(client, sign_token("alice")) == 200


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "garbage",
        "expired",
        "wrong_audience",
        "no_audience",
        "wrong_key",
        "alg_none",
        "tampered",
        "no_sub",
        "no_exp",
        "hs512",
    ],
)
async def test_bad_hs256_tokens_are_401(client, case: str) -> None:
    tokens: dict[str, str | None] = {
        "missing": None,
        "garbage": "not.a.jwt",
        "expired": sign_token("alice", expires_in=-120),
        "wrong_audience": sign_token("alice", audience="anon"),
        "no_audience": sign_token("alice", audience=None),
        "wrong_key": sign_token("alice", secret="another-secret-of-sufficient-length-1234"),
        "alg_none": jwt.encode(
            {"sub": "alice", "aud": "authenticated", "exp": int(time.time()) + 600},
            None,  # type: ignore[arg-type]
            algorithm="none",
        ),
        "no_sub": sign_token(None),
        "no_exp": jwt.encode({"sub": "alice", "aud": "authenticated"}, TEST_JWT_SECRET, "HS256"),
        "hs512": sign_token("alice", algorithm="HS512"),
    }
    token: str | None
    if case == "tampered":
        head, payload, sig = sign_token("alice").split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "mallory"
        token = ".".join([head, _b64(json.dumps(claims).encode()), sig])
    else:
        token = tokens[case]
    assert await _status(client, token) == 401


async def test_issuer_checked_when_configured(tmp_path) -> None:
    iss = "https://proj.supabase.co/auth/v1"
    app = create_app(make_settings(tmp_path, supabase_jwt_issuer=iss))
    async with running_client(app) as c:
        assert await _status(c, sign_token("alice", iss=iss)) == 200
        assert await _status(c, sign_token("alice", iss="https://evil.example/auth/v1")) == 401
        assert await _status(c, sign_token("alice")) == 401  # issuer required


# --- JWKS (RS256 / ES256) ------------------------------------------------------------------
class JWKSServer:
    """A JWKS endpoint on 127.0.0.1 (ephemeral port) whose key set can be swapped."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/auth/v1/.well-known/jwks.json":
                    self.send_response(404)
                    self.end_headers()
                    return
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> JWKSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    conv = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    jwk = conv.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    with JWKSServer() as server:
        yield server


@pytest.fixture
async def jwks_client(tmp_path, jwks_server):
    app = create_app(
        make_settings(tmp_path, supabase_jwt_secret=None, supabase_url=jwks_server.base_url)
    )
    async with running_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


async def test_rs256_and_es256_via_jwks(jwks_client, jwks_server) -> None:
    rsa_key, ec_key = _rsa(), ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [_jwk(rsa_key, "rsa-1", "RS256"), _jwk(ec_key, "ec-1", "ES256")]
    rs = sign_token("alice", secret=rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    es = sign_token("bob", secret=ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert await _status(jwks_client, rs) == 200
    assert await _status(jwks_client, es) == 200
    assert await _status(jwks_client, rs) == 200
    assert jwks_server.hits == 1  # cached


async def test_jwks_bad_tokens_are_401(jwks_client, jwks_server) -> None:
    key, other = _rsa(), _rsa()
    jwks_server.keys = [_jwk(key, "k1", "RS256")]
    now = int(time.time())
    good: dict[str, Any] = {"secret": key, "algorithm": "RS256", "headers": {"kid": "k1"}}
    cases = {
        "expired": sign_token("alice", expires_in=-120, **good),
        "wrong_audience": sign_token("alice", audience="service_role", **good),
        "wrong_key_same_kid": sign_token(
            "alice", secret=other, algorithm="RS256", headers={"kid": "k1"}
        ),
        "no_kid": sign_token("alice", secret=key, algorithm="RS256"),
        "hs256_with_public_key_as_secret": _hs256_confusion(key),
        "alg_none": jwt.encode(
            {"sub": "alice", "aud": "authenticated", "exp": now + 600},
            None,  # type: ignore[arg-type]
            algorithm="none",
            headers={"kid": "k1"},
        ),
    }
    head, payload, sig = sign_token("alice", **good).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    cases["tampered"] = ".".join([head, _b64(json.dumps(claims).encode()), sig])
    for name, token in cases.items():
        assert await _status(jwks_client, token) == 401, name
    assert await _status(jwks_client, None) == 401


def _hs256_confusion(key: rsa.RSAPrivateKey) -> str:
    """An HS256 token whose HMAC key is the RSA public key (the classic confusion attack),
    built by hand because PyJWT refuses to sign it."""
    import hashlib
    import hmac

    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = _b64(
        json.dumps({"sub": "alice", "aud": "authenticated", "exp": int(time.time()) + 600}).encode()
    )
    sig = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(sig)}"


async def test_unknown_kid_refreshes_jwks(jwks_client, jwks_server) -> None:
    jwks_client.app.state.token_verifier.jwks.min_refresh_seconds = 0.0
    first, second = _rsa(), _rsa()
    jwks_server.keys = [_jwk(first, "old", "RS256")]
    assert (
        await _status(
            jwks_client, sign_token("a", secret=first, algorithm="RS256", headers={"kid": "old"})
        )
        == 200
    )
    jwks_server.keys = [_jwk(first, "old", "RS256"), _jwk(second, "new", "RS256")]  # rotation
    token = sign_token("a", secret=second, algorithm="RS256", headers={"kid": "new"})
    assert await _status(jwks_client, token) == 200
    assert jwks_server.hits == 2
    unknown = sign_token("a", secret=_rsa(), algorithm="RS256", headers={"kid": "never"})
    assert await _status(jwks_client, unknown) == 401


async def test_unknown_kid_refetch_is_throttled(jwks_client, jwks_server) -> None:
    key = _rsa()
    jwks_server.keys = [_jwk(key, "k", "RS256")]
    assert (
        await _status(
            jwks_client, sign_token("a", secret=key, algorithm="RS256", headers={"kid": "k"})
        )
        == 200
    )
    for i in range(5):
        bogus = sign_token("a", secret=key, algorithm="RS256", headers={"kid": f"bogus-{i}"})
        assert await _status(jwks_client, bogus) == 401
    assert jwks_server.hits == 1  # within min_refresh_seconds: no refetch per bad token


async def test_jwks_endpoint_down_is_401_not_500(tmp_path) -> None:
    app = create_app(
        make_settings(tmp_path, supabase_jwt_secret=None, supabase_url="http://127.0.0.1:9")
    )
    async with running_client(app) as c:
        token = sign_token("a", secret=_rsa(), algorithm="RS256", headers={"kid": "k"})
        assert await _status(c, token) == 401


async def test_verified_token_is_trusted_again_until_its_expiry(monkeypatch, tmp_path) -> None:
    """A token that verified is not signature-checked again within the trust window, a
    tampered copy never shares its entry, and past `exp` + leeway (or the 60 s window) it is
    checked afresh."""
    from app.core import auth

    settings = make_settings(tmp_path)
    verifier = auth.TokenVerifier(settings)
    decodes: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decodes.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting_decode)
    short = sign_token("alice", expires_in=30)
    assert (await verifier.verify(short)).user_id == "alice"
    assert (await verifier.verify(short)).user_id == "alice"
    assert len(decodes) == 1  # the second call was a hit

    tampered = short[:-2] + ("AA" if not short.endswith("AA") else "BB")
    with pytest.raises(auth.Unauthorized):
        await verifier.verify(tampered)
    assert len(decodes) == 2

    long = sign_token("bob", expires_in=3600)
    await verifier.verify(long)
    assert len(decodes) == 3
    now = time.time()
    exp = float(real_decode(short, options={"verify_signature": False})["exp"])
    monkeypatch.setattr(auth.time, "time", lambda: exp + settings.jwt_leeway_seconds + 0.5)
    await verifier.verify(short)  # past exp + leeway: checked again (PyJWT's clock is real)
    assert len(decodes) == 4
    monkeypatch.setattr(auth.time, "time", lambda: now + auth.VERIFIED_TOKEN_TTL_SECONDS + 1)
    await verifier.verify(long)  # beyond the trust window: checked again
    assert len(decodes) == 5
