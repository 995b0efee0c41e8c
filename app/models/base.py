"""Declarative base of the ORM tables, with stable constraint names for Alembic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from sqlalchemy import JSON, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A random UUID4 as text (ids are opaque strings in the API)."""
    return str(uuid.uuid4())


def literal_of(members: Iterable[Enum]) -> Any:
    """`Literal[...]` of the members' values, in order: how a schema derives its words from an
    engine enum (the JSON schema is the same inline `enum` a written-out Literal gives)."""
    return Literal[tuple(m.value for m in members)]
