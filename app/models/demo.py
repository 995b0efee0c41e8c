"""Ids of the built-in demo pool and demo scenario that every install has (seeded at start-up
by `app.services.demo`): readable by every caller, never writable, so that the OpenAPI examples
that need an id run as they stand on a fresh install."""

from __future__ import annotations

DEMO_OWNER = "__demo__"
"""owner_id of the demo rows (not a token subject: reads of any caller also see these rows)."""
DEMO_POOL_ID = "demo-pool"
DEMO_SCENARIO_ID = "demo-scenario"
READ_ONLY_MESSAGE = (
    "{what} '{id}' is the built-in demo and is read-only: create your own "
    "({how}) and change that one"
)


def readable_owners(owner_id: str) -> tuple[str, str]:
    """The owners whose rows `owner_id` may read: itself and the demo."""
    return (owner_id, DEMO_OWNER)
