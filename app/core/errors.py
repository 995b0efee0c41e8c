"""The service's one error hierarchy and the handlers that render every error the same way.

Every error response is `{"error": <code>, "detail": <message or list>, "request_id": <id>}` with
the X-Request-ID header. 422 details are lists of `{"loc": [...], "msg": ..., "type": ...}` where
`loc` is the field path. Engine errors (bad input found by the engine) are 422. No stack trace is
ever sent to a client: unexpected exceptions become a bare 500 and are logged server-side.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.request_context import REQUEST_ID_HEADER, get_request_id, request_id_from_scope
from app.engine.errors import EngineError, InvalidInput

log = logging.getLogger(__name__)

Loc = Sequence[str | int]


class AppError(Exception):
    """Base of the service's errors: an HTTP status, a stable error code and a detail."""

    status_code: int = 500
    code: str = "internal_error"
    default_detail: str = "internal server error"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail = self.default_detail if detail is None else detail
        self.headers = headers or {}
        super().__init__(str(self.detail))


class BadRequest(AppError):
    status_code, code, default_detail = 400, "bad_request", "bad request"


class Unauthorized(AppError):
    status_code, code, default_detail = 401, "unauthorized", "missing or invalid bearer token"

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code, code, default_detail = 403, "forbidden", "forbidden"


class NotFound(AppError):
    status_code, code, default_detail = 404, "not_found", "not found"


class Conflict(AppError):
    status_code, code, default_detail = 409, "conflict", "conflict with the current state"


class PayloadTooLarge(AppError):
    status_code, code, default_detail = 413, "payload_too_large", "request body too large"


class UnsupportedMediaType(AppError):
    status_code, code, default_detail = 415, "unsupported_media_type", "unsupported media type"


class ValidationFailed(AppError):
    """422 with a list of field problems: `[{"loc": [...], "msg": ..., "type": ...}]`."""

    status_code, code, default_detail = 422, "invalid_input", "invalid input"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(problems)

    @classmethod
    def single(cls, loc: Loc, msg: str, type_: str = "value_error") -> ValidationFailed:
        return cls([{"loc": list(loc), "msg": msg, "type": type_}])

    @classmethod
    def from_engine(cls, exc: EngineError, prefix: Loc = ()) -> ValidationFailed:
        """The engine's problems with their field paths, under `prefix` (e.g. body.pool.loans)."""
        return cls(engine_problems(exc, prefix))


class TooManyRequests(AppError):
    status_code, code, default_detail = 429, "rate_limited", "too many requests"

    def __init__(self, detail: Any = None, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        if retry_after is not None:
            self.headers["Retry-After"] = str(int(retry_after))


class ServiceUnavailable(AppError):
    status_code, code, default_detail = 503, "unavailable", "service unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


def engine_problems(exc: EngineError, prefix: Loc = ()) -> list[dict[str, Any]]:
    """Turn an EngineError into 422 problem items; InvalidInput gives one item per problem."""
    base = list(prefix)
    if isinstance(exc, InvalidInput) and exc.problems:
        return [
            {
                "loc": base + ([p.row] if p.row is not None else []) + [p.column],
                "msg": p.reason,
                "type": "invalid_value",
            }
            for p in exc.problems
        ]
    loc = base + ([exc.field] if exc.field else [])
    return [{"loc": loc, "msg": exc.message, "type": type(exc).__name__}]


def render_error(
    exc: AppError, request_id: str | None = None, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one JSON shape of every error response."""
    rid = request_id or get_request_id()
    out_headers = dict(exc.headers)
    out_headers.update(headers or {})
    if rid:
        out_headers[REQUEST_ID_HEADER] = rid
    return JSONResponse(
        {"error": exc.code, "detail": exc.detail, "request_id": rid},
        status_code=exc.status_code,
        headers=out_headers,
    )


def _rid(request: Request) -> str | None:
    return request_id_from_scope(request.scope) or get_request_id()


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return render_error(exc, _rid(request))


async def _engine_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EngineError)
    return render_error(ValidationFailed(engine_problems(exc)), _rid(request))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return render_error(ValidationFailed(problems), _rid(request))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route that matched the path, e.g. POST for /jobs/ although GET /jobs/ exists too)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    err = AppError(exc.detail, headers=headers)
    err.status_code = exc.status_code
    err.code = _HTTP_CODES.get(exc.status_code, "http_error")
    return render_error(err, _rid(request))


DATABASE_RETRY_AFTER_SECONDS = 5


_OUTAGE_SQLSTATES = ("08", "57P")  # connection exception; admin/crash shutdown, starting up


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in out and len(out) < 10:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def is_database_outage(exc: BaseException) -> bool:
    """A lost or refused database connection (restart, failover, network), not a bad query:
    an invalidated connection, an OperationalError/InterfaceError, a connection-class SQLSTATE
    (08xxx, 57P0x) anywhere in the cause chain, or a refused/reset socket."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    for link in _chain(exc):
        state = str(getattr(link, "sqlstate", "") or "")
        if state.startswith(_OUTAGE_SQLSTATES):
            return True
        if isinstance(link, ConnectionError | TimeoutError):
            return True
    return False


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_database_outage(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return render_error(
            ServiceUnavailable("the database is unavailable; nothing was stored, retry"),
            _rid(request),
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return render_error(AppError(), _rid(request))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers so that every error leaves in the same shape."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(EngineError, _engine_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSE_EXAMPLE = {
    "error": "not_found",
    "detail": "forecast not found",
    "request_id": "3f2b8c1e9a4d4f7e8b1c2d3e4f5a6b7c",
}
