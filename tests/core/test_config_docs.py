"""Every Settings variable is listed in .env.example and explained in docs/CONFIGURATION.md,
and .env.example itself loads (as is, it gives the embedded defaults)."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "DATABASE_URL",
    "SUPABASE_URL",
    "SUPABASE_KEY",
    "SUPABASE_JWT_SECRET",
    "REDIS_URL",
    "UPSTASH_REDIS_HOST",
    "UPSTASH_REDIS_PORT",
    "UPSTASH_REDIS_PASSWORD",
    "REDIS_CACHE_TTL",
    "CELERY_BROKER_URL",
    "SENTRY_DSN",
    "MAX_BODY_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_INLINE_LOANS",
    "MAX_PERIODS",
    "MAX_SCENARIOS",
]


def test_every_variable_is_documented() -> None:
    example = (ROOT / ".env.example").read_text()
    doc = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    names = [n.upper() for n in Settings.model_fields] + REQUIRED
    missing_example = [n for n in names if f"# {n}=" not in example]
    missing_doc = [n for n in names if f"`{n}`" not in doc]
    hint = "run: .venv/bin/python scripts/config_reference.py"
    assert not missing_example, f".env.example lacks {missing_example}; {hint}"
    assert not missing_doc, f"docs/CONFIGURATION.md lacks {missing_doc}; {hint}"


def test_env_example_as_is_gives_the_defaults(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    s = Settings(_env_file=str(env_file))  # type: ignore[call-arg]
    assert s.database_url is None and not s.auth_configured and s.host == "127.0.0.1"


def test_every_example_line_parses_when_uncommented(tmp_path, monkeypatch) -> None:
    """Uncommenting the whole file must give valid settings too (values are well-formed)."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    lines = [
        line[2:]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("# ") and "=" in line and line[2:].split("=", 1)[0].isupper()
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    s = Settings(_env_file=str(env_file))  # type: ignore[call-arg]
    assert s.database_url and s.database_url.startswith("postgresql://")
    assert s.effective_redis_url == "redis://127.0.0.1:6379/0"
