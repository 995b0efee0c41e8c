"""Every error leaves as {"error", "detail", "request_id"} with X-Request-ID; no stack traces."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.core.errors import Conflict, NotFound, TooManyRequests
from app.engine.errors import EngineError, FieldProblem, InvalidInput
from tests.conftest import running_client


class Body(BaseModel):
    name: str
    weights: list[float] = Field(min_length=1)


def _test_routes() -> APIRouter:
    r = APIRouter()

    @r.get("/missing")
    async def missing() -> None:
        raise NotFound("forecast not found")

    @r.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already exists")

    @r.get("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests(retry_after=7)

    @r.get("/engine")
    async def engine() -> None:
        raise EngineError("severity must be in [0, 1]", field="severity")

    @r.get("/engine-many")
    async def engine_many() -> None:
        raise InvalidInput(
            [FieldProblem(3, "rate", "negative rate"), FieldProblem(None, "balance", "missing")]
        )

    @r.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @r.post("/body")
    async def body(b: Body) -> dict[str, str]:
        return {"name": b.name}

    return r


@pytest.fixture
async def err_client(app):
    app.include_router(_test_routes(), prefix="/t")
    async with running_client(app) as c:
        yield c


def _check_shape(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "detail", "request_id"}
    assert body["error"] == code
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


async def test_app_errors_render_one_shape(err_client) -> None:
    body = _check_shape(await err_client.get("/t/missing"), 404, "not_found")
    assert body["detail"] == "forecast not found"
    _check_shape(await err_client.get("/t/conflict"), 409, "conflict")
    resp = await err_client.get("/t/slow-down")
    _check_shape(resp, 429, "rate_limited")
    assert resp.headers["Retry-After"] == "7"


async def test_unknown_route_and_method(err_client) -> None:
    _check_shape(await err_client.get("/t/nope"), 404, "not_found")
    _check_shape(await err_client.delete("/t/missing"), 405, "method_not_allowed")


async def test_engine_errors_are_422_with_field_paths(err_client) -> None:
    body = _check_shape(await err_client.get("/t/engine"), 422, "invalid_input")
    assert body["detail"] == [
        {"loc": ["severity"], "msg": "severity must be in [0, 1]", "type": "EngineError"}
    ]
    body = _check_shape(await err_client.get("/t/engine-many"), 422, "invalid_input")
    assert [p["loc"] for p in body["detail"]] == [[3, "rate"], ["balance"]]


async def test_request_validation_is_422_with_field_path(err_client) -> None:
    resp = await err_client.post("/t/body", json={"name": "x", "weights": ["a"]})
    body = _check_shape(resp, 422, "invalid_input")
    assert body["detail"][0]["loc"] == ["body", "weights", 0]
    assert "input" not in body["detail"][0]  # the caller's data is not echoed back


async def test_unexpected_error_is_bare_500_without_trace(app) -> None:
    app.include_router(_test_routes(), prefix="/t")
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            resp = await c.get("/t/boom", headers={"X-Request-ID": "trace-me-12345"})
    body = _check_shape(resp, 500, "internal_error")
    assert body["request_id"] == "trace-me-12345"
    assert "passwd" not in resp.text and "Traceback" not in resp.text


async def test_body_over_limit_is_413(tmp_path) -> None:
    from app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, max_body_bytes=2048))
    app.include_router(_test_routes(), prefix="/t")
    async with running_client(app) as c:
        big = {"name": "x", "weights": [1.0] * 2000}
        body = _check_shape(await c.post("/t/body", json=big), 413, "payload_too_large")
        assert "2048" in body["detail"]

        async def chunks():  # no Content-Length: counted while reading
            for _ in range(10):
                yield b" " * 1000

        resp = await c.post(
            "/t/body", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _check_shape(resp, 413, "payload_too_large")
        ok = await c.post("/t/body", json={"name": "x", "weights": [1.0]})
        assert ok.status_code == 200
