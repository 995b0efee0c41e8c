"""Version 1 of the HTTP API: every router under /api/v1 is included here, one line each."""

from fastapi import APIRouter

api_router = APIRouter()
