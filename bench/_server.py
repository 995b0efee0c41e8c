"""What the loopback benchmarks share: a free port, and the environment and `python -c` code
that start `uvicorn app.main:app` on the embedded defaults (SQLite file `db`, HS256 auth with
the tests' secret, rate limits off, logs at WARNING, no access log)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db: Path, jwt_secret: str, **extra: str) -> dict[str, str]:
    """The server's environment: this process's, plus the embedded defaults and `extra`."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENV": "test",
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "SUPABASE_JWT_SECRET": jwt_secret,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def uvicorn_code(port: int) -> str:
    """`python -c` code that serves the app on 127.0.0.1:`port`."""
    return (
        "import uvicorn; uvicorn.run('app.main:app', host='127.0.0.1', "
        f"port={port}, log_level='warning', access_log=False)"
    )
