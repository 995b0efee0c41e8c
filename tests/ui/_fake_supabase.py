"""A stand-in for Supabase's password sign-in (`POST /auth/v1/token?grant_type=password|
refresh_token`), mounted on the test server itself, issuing HS256 access tokens signed with the
test secret, as Supabase signs them with the project's JWT secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse

from tests.conftest import sign_token

EMAIL, PASSWORD, SUB = "analyst@example.com", "correct horse battery", "supabase-user"
ANON_KEY = sign_token("anon", role="anon", audience=None)

router = APIRouter()


@router.post("/auth/v1/token")
def token(
    grant_type: str = Query(...),
    apikey: str | None = Header(None),
    body: dict[str, Any] = Body(...),  # noqa: B008
) -> JSONResponse:
    if apikey != ANON_KEY:
        return JSONResponse({"message": "Invalid API key"}, status_code=401)
    ok = (
        grant_type == "password" and body.get("email") == EMAIL and body.get("password") == PASSWORD
    ) or (grant_type == "refresh_token" and body.get("refresh_token") == "refresh-1")
    if not ok:
        return JSONResponse(
            {"error": "invalid_grant", "error_description": "Invalid login credentials"},
            status_code=400,
        )
    return JSONResponse(
        {
            "access_token": sign_token(SUB),
            "token_type": "bearer",
            "expires_in": 3600,
            "refresh_token": "refresh-1",
            "user": {"id": SUB, "email": EMAIL},
        }
    )
