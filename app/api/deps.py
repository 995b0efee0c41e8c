"""FastAPI dependencies as `Annotated` aliases: settings, the request's session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, TokenVerifier, connection_is_loopback, local_principal
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Forbidden, Unauthorized
from app.core.request_context import user_id_var

_bearer = HTTPBearer(auto_error=False, description="Supabase access token (JWT)")


# Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def`
# dependency in its thread pool, a hop (two thread wake-ups) on every request that uses it.
async def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with."""
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    """The app's database (engine and session factory)."""
    return request.app.state.database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the route returns, rolled back when it raises
    (`Database.session`)."""
    db: Database = request.app.state.database
    async with db.session() as session:
        yield session


async def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller (token `sub`), or the local user when auth is not configured."""
    settings: Settings = request.app.state.settings
    if not settings.auth_configured:
        if not connection_is_loopback(request.scope):
            raise Forbidden("auth is not configured: only loopback clients are served")
        principal = local_principal()
    else:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("missing bearer token")
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = await verifier.verify_for_request(request.scope, credentials.credentials)
    user_id_var.set(principal.user_id)
    request.state.user_id = principal.user_id
    return principal


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": commit before the response is sent, so a 2xx means the data is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
CurrentUser = Annotated[Principal, Depends(get_current_user)]
