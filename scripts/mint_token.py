"""Print an HS256 access token for SUPABASE_JWT_SECRET (environment or .env), like Supabase
issues: for local stacks and load tests only. Usage: `python scripts/mint_token.py [sub] [hours]`
(default sub `dev-user`, 24 hours)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def mint(secret: str, sub: str, hours: float = 24.0, audience: str = "authenticated") -> str:
    import jwt

    now = int(time.time())
    claims = {
        "sub": sub,
        "aud": audience,
        "role": "authenticated",
        "iat": now,
        "exp": int(now + hours * 3600),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def main() -> int:
    from app.core.config import Settings

    settings = Settings()
    if not settings.supabase_jwt_secret:
        print("SUPABASE_JWT_SECRET is not set: nothing to sign with", file=sys.stderr)
        return 1
    sub = sys.argv[1] if len(sys.argv) > 1 else "dev-user"
    hours = float(sys.argv[2]) if len(sys.argv) > 2 else 24.0
    secret = settings.supabase_jwt_secret
    value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
    print(mint(value, sub, hours, settings.supabase_jwt_audience))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
