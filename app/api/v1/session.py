"""Session API: who the caller is, so a client (the /ui dashboard) knows whether it signed in
as the local single user (no auth configured) or with a verified token."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentUser
from app.api.v1._responses import ERRORS

router = APIRouter(tags=["session"], responses=ERRORS)


class SessionOut(BaseModel):
    """The verified caller."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_id": "local", "auth": "local"}]}
    )

    user_id: str = Field(description="The token's `sub`, or `local` with no auth configured.")
    auth: Literal["local", "token"] = Field(
        description="local: no auth is configured (loopback only); token: a verified JWT."
    )


@router.get("/me", response_model=SessionOut, summary="Who the caller is")
async def me(user: CurrentUser) -> SessionOut:
    """The caller's user id and how it was established: 401 without a valid token when auth
    is configured; the local user when it is not."""
    return SessionOut(user_id=user.user_id, auth="local" if user.local else "token")
