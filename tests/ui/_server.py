"""A real server for the browser tests: `python -m tests.ui._server PORT DIR [auth]` runs uvicorn
on 127.0.0.1:PORT with the embedded defaults (SQLite in DIR, in-process jobs, in-memory cache),
HS256 auth with the test secret when `auth` is given, the local single user otherwise;
`fake-supabase` points SUPABASE_URL at a stand-in of Supabase's password sign-in on the same
server."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from app.main import create_app
from tests.conftest import TEST_JWT_SECRET, make_settings


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    flags = set(sys.argv[3:])
    auth = "auth" in flags
    supabase: dict[str, str] = {}
    if "fake-supabase" in flags:  # password sign-in against tests/ui/_fake_supabase.py
        from tests.ui._fake_supabase import ANON_KEY

        supabase = {"supabase_url": f"http://127.0.0.1:{port}", "supabase_key": ANON_KEY}
    settings = make_settings(
        directory,
        **supabase,
        supabase_jwt_secret=TEST_JWT_SECRET if auth else None,
        rate_limit_enabled=False,  # a browser session loads pages faster than the read budget
        jobs_progress_interval_seconds=0.05,
        port=port,
    )
    app = create_app(settings)
    if "fake-supabase" in flags:
        from tests.ui._fake_supabase import router as supabase_router

        app.include_router(supabase_router)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
