"""Response helpers shared by the v1 routers: fast JSON of NumPy columns, error docs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Query, Response
from pydantic import BeforeValidator

from app.core.errors import ERROR_RESPONSE_EXAMPLE

MAX_OFFSET = 1_000_000_000
"""Largest `offset` of a list route: far beyond any real page, far inside a 64-bit integer."""

OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description=f"Items to skip (at most {MAX_OFFSET}).")
]
"""The `offset` parameter of every list route (bounded: SQLite integers are 64-bit)."""


def _iso_8601_only(value: Any) -> Any:
    """Refuse bare numbers, which pydantic would read as Unix timestamps (`0.5` = 1970)."""
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lstrip("+-").replace(".", "", 1).isdigit():
            raise ValueError("expected an ISO 8601 date-time such as 2026-01-31T00:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601_only)]
"""A date-time query parameter in ISO 8601 only."""


class NumpyJSONResponse(Response):
    """JSON via orjson with NumPy arrays serialised natively; NaN/inf become null."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def utc(value: datetime | None) -> datetime | None:
    """Stored timestamps are UTC; SQLite returns them naive."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def error_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"example": ERROR_RESPONSE_EXAMPLE}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_doc("Malformed request body (not parseable as JSON or form data)."),
    401: error_doc("Missing, expired or invalid bearer token."),
    404: error_doc("Not found, or owned by another user."),
    413: error_doc("Request body over the configured limit."),
    422: error_doc("Invalid input; `detail` lists each problem with its field path `loc`."),
    429: error_doc("Rate limit exceeded (see Retry-After)."),
    503: error_doc("A dependency (the database) is unavailable; nothing was stored; retry."),
}


def links(status: int, description: str, **targets: tuple[str, str, str]) -> dict[int | str, Any]:
    """OpenAPI response links: name -> (operationId, path parameter, JSON pointer in the body),
    so clients and stateful fuzzers can follow a created resource to its reads."""
    return {
        status: {
            "description": description,
            "links": {
                name: {
                    "operationId": op,
                    "parameters": {param: f"$response.body#/{pointer}"},
                }
                for name, (op, param, pointer) in targets.items()
            },
        }
    }
