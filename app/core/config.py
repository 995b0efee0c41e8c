"""Service configuration: one pydantic-settings `Settings`, read from the environment and `.env`.

Every variable is listed in `.env.example` and explained in docs/CONFIGURATION.md. Request code
should use the settings the app was built with (`request.app.state.settings`, or `SettingsDep`
in app/api/deps.py) so that tests can build apps with their own settings; `get_settings()` is
the process-wide default used by `create_app()` and by code that runs outside a request.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

MiB = 1024 * 1024


class Settings(BaseSettings):
    """All configuration of the service. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- runtime -------------------------------------------------------------------------
    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment environment; production refuses unsafe values."
    )
    host: str = Field(
        "127.0.0.1",
        description="Address the server binds to (scripts/serve.sh passes it to uvicorn). "
        "Without auth configured the app refuses to start unless this is a loopback address.",
    )
    port: int = Field(8000, ge=1, le=65535, description="TCP port scripts/serve.sh binds to.")
    engine_warmup: bool = Field(
        True,
        description="Compile the engine's kernels in a background thread at start-up, so the "
        "first forecast does not wait for the JIT (compiled code is cached on disk).",
    )
    engine_inline_loans: int = Field(
        32,
        ge=0,
        description="Forecasts of at most this many loans x scenarios are computed on the "
        "event loop instead of a worker thread: ~1-3 ms of CPU, less than the two thread "
        "wake-ups it saves on a quiet server. 0 sends every forecast to a worker thread.",
    )

    # --- storage -------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Unset: SQLite file under DATA_DIR. Accepts "
        "sqlite+aiosqlite:///path, postgresql+asyncpg://..., postgresql://..., postgres://...",
    )
    database_schema: str | None = Field(
        None, description="PostgreSQL schema to use (search_path); default: the server's default."
    )
    data_dir: Path = Field(Path("data"), description="Directory of the embedded SQLite file.")
    database_pool_size: int = Field(
        5, ge=1, le=200, description="PostgreSQL connections kept per process (plus 10 overflow)."
    )
    database_echo: bool = Field(False, description="Log every SQL statement (debugging).")
    migrate_on_start: bool | None = Field(
        None,
        description="Run Alembic migrations at start-up. Unset: only in embedded (SQLite) mode.",
    )

    # --- auth (Supabase) -----------------------------------------------------------------
    supabase_url: str | None = Field(
        None, description="https://<project>.supabase.co; JWKS is read from its auth endpoint."
    )
    supabase_key: str | None = Field(
        None, description="Supabase anon/service key (not used to verify tokens; for clients)."
    )
    supabase_jwt_secret: str | None = Field(None, description="HS256 secret of the project.")
    supabase_jwt_audience: str = Field("authenticated", description="Required `aud` claim.")
    supabase_jwt_issuer: str | None = Field(
        None, description="Required `iss` claim, e.g. https://<project>.supabase.co/auth/v1."
    )
    supabase_jwks_url: str | None = Field(
        None,
        description="Override of the JWKS URL; default $SUPABASE_URL/auth/v1/.well-known/jwks.json.",
    )
    jwks_cache_seconds: int = Field(600, ge=0, description="How long fetched JWKS keys are kept.")
    jwt_leeway_seconds: int = Field(30, ge=0, le=600, description="Clock skew allowed on exp/nbf.")
    jwt_max_bytes: int = Field(
        16_384, ge=1024, le=1_048_576, description="Longest bearer token accepted (401 above it)."
    )

    # --- optional dependencies -----------------------------------------------------------
    redis_url: str | None = Field(None, description="redis://... or rediss://... (TLS).")
    upstash_redis_host: str | None = Field(
        None, description="Upstash form of the Redis location (used when REDIS_URL is unset; TLS)."
    )
    upstash_redis_port: int | None = Field(None, description="Upstash Redis port; default 6379.")
    upstash_redis_password: str | None = Field(None, description="Upstash Redis password.")
    redis_cache_ttl: int = Field(3600, ge=0, description="Default cache TTL in seconds.")
    celery_broker_url: str | None = Field(
        None, description="Celery broker (redis:// or amqp://). Unset: jobs run in-process."
    )
    sentry_dsn: str | None = Field(None, description="Sentry DSN; unset: Sentry is off.")
    health_timeout_seconds: float = Field(
        2.0, gt=0, description="Time budget of each dependency probe in GET /health."
    )

    # --- request limits ------------------------------------------------------------------
    max_body_bytes: int = Field(
        16 * MiB, ge=1024, description="Largest JSON request body (413 above it)."
    )
    max_upload_bytes: int = Field(
        256 * MiB, ge=1024, description="Largest loan-tape upload to POST /api/v1/pools (413)."
    )
    max_inline_loans: int = Field(
        20_000, ge=1, description="Most loans given inline in a forecast body (422 above it)."
    )
    max_pool_loans: int = Field(
        1_000_000, ge=1, description="Most loans in an uploaded pool (422 above it)."
    )
    max_tape_decoded_bytes: int = Field(
        512 * MiB,
        ge=1024,
        description="Largest decoded size of an uploaded tape's columns (Parquet checked from "
        "its footer before decoding; 422 above it).",
    )
    max_tape_string_bytes: int = Field(
        256, ge=16, description="Longest text cell of an uploaded tape, bytes (422 above it)."
    )
    max_tape_columns: int = Field(
        256, ge=3, description="Most columns of an uploaded tape (422 above it)."
    )
    max_tape_parse_seconds: float = Field(
        60.0, gt=0, description="Time budget of parsing one uploaded tape, seconds (422 above it)."
    )
    max_periods: int = Field(720, ge=1, description="Longest projection horizon in months.")
    max_scenarios: int = Field(20, ge=1, description="Most scenarios in one forecast request.")
    max_loan_level_cells: int = Field(
        50_000_000,
        ge=1,
        description="Largest loans x periods x scenarios for a loan-level run (422 above it).",
    )
    monte_carlo_sync_max_cells: int = Field(
        400_000_000,
        ge=1,
        description="Largest Monte Carlo run answered directly: paths x months x rep-lines "
        "(x3 with effective duration); larger runs become jobs (202 + job_id).",
    )
    deals_max_periods: int = Field(
        1200, ge=1, description="Longest deal run in periods (collateral flows or projection)."
    )
    deals_max_tranches: int = Field(60, ge=1, description="Most tranches in one deal.")
    deals_max_steps: int = Field(200, ge=1, description="Most waterfall steps in one deal.")
    deals_max_scenarios: int = Field(20, ge=1, description="Most scenarios in one deal run.")
    clo_max_assets: int = Field(5000, ge=1, description="Most collateral assets in a CLO request.")
    clo_mc_max_paths: int = Field(
        1_000_000, ge=1, description="Most copula paths in one CLO Monte Carlo."
    )
    clo_mc_block_size: int = Field(
        1000, ge=1, description="Copula paths per seeded block (the unit of reproducibility)."
    )
    clo_mc_sync_max_work: int = Field(
        5_000_000_000,
        ge=1,
        description="Largest CLO Monte Carlo answered directly: paths x assets x periods; "
        "larger runs (or `async`) become jobs (202 + job_id).",
    )
    consumer_credit_sync_max_rows: int = Field(
        2_000_000,
        ge=1,
        description="Largest performance panel (rows) analysed directly by POST .../consumer-credit/"
        "analyze; larger panels become jobs (202 + job_id).",
    )
    consumer_credit_max_panel_rows: int = Field(
        20_000_000,
        ge=1,
        description="Most rows in an uploaded or inline performance panel (422 above it).",
    )
    commercial_sync_max_draws: int = Field(
        400_000_000,
        ge=1,
        description="Largest commercial-loan copula Monte Carlo answered directly: paths x "
        "loans; larger runs become commercial_portfolio_loss jobs (202 + job_id).",
    )
    loan_level_chunk_loans: int = Field(
        10_000, ge=1, description="Loans per stored chunk of loan-level results."
    )

    # --- platform: cache, rate limits, security, logs, metrics, Sentry (app/core/*) -------
    cache_enabled: bool = Field(True, description="Cache forecast/analytics results.")
    cache_version: str = Field("1", description="Key version prefix; change it to invalidate.")
    cache_key_prefix: str = Field("cfe", description="Prefix of every cache key in Redis.")
    cache_serializer: Literal["msgpack", "orjson"] = Field(
        "msgpack", description="msgpack round-trips NumPy exactly; orjson is readable but lossy."
    )
    cache_compress_threshold: int = Field(
        32_768, description="zlib-compress values of at least this many bytes; -1: never."
    )
    cache_memory_max_items: int = Field(1024, ge=0, description="In-process LRU entries.")
    cache_memory_max_bytes: int = Field(64 * MiB, ge=0, description="In-process LRU bytes.")
    cache_memory_ttl: float = Field(
        300.0, description="Longest life of an in-process entry, seconds; <=0: the Redis TTL."
    )
    cache_breaker_fail_max: int = Field(
        5, ge=1, description="Consecutive Redis failures that open the circuit breaker."
    )
    cache_breaker_reset_seconds: float = Field(
        30.0, gt=0, description="Seconds the breaker stays open before a trial call."
    )
    redis_socket_timeout: float = Field(0.5, gt=0, description="Redis read/write timeout, s.")
    redis_connect_timeout: float = Field(0.5, gt=0, description="Redis connect timeout, s.")
    redis_max_connections: int = Field(32, ge=1, description="Redis pool size per process.")
    redis_keepalive: bool = Field(True, description="TCP keepalive on Redis connections.")
    redis_retries: int = Field(1, ge=0, description="redis-py retries (exponential backoff).")
    rate_limit_enabled: bool = Field(True, description="Per-user/IP request rate limits.")
    rate_limit_read: str = Field(
        "300/minute", description="Budget of cheap reads (GET/HEAD), limits-library syntax."
    )
    rate_limit_run: str = Field(
        "30/minute", description="Budget of runs and writes (POST/PUT/PATCH/DELETE)."
    )
    rate_limit_strategy: Literal["fixed-window", "moving-window", "sliding-window-counter"] = Field(
        "fixed-window", description="Window algorithm of the `limits` library."
    )
    rate_limit_storage_url: str | None = Field(
        None, description="limits storage URI; unset: the Redis URL if any, else memory://."
    )
    rate_limit_key_prefix: str = Field("cfe-rl", description="Prefix of rate-limit keys.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed browser origins, comma-separated; * = any."
    )
    cors_allow_credentials: bool = Field(
        False, description="Allow cookies/Authorization cross-origin (refused with origin *)."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Accepted Host headers, comma-separated (*.example.com wildcards); * = any.",
    )
    hsts_max_age: int = Field(
        31_536_000, ge=0, description="Strict-Transport-Security max-age on HTTPS; 0: off."
    )
    log_level: str = Field("INFO", description="Root log level.")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console in development, one JSON object per line otherwise."
    )
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: str | None = Field(
        None,
        description="Bearer token that opens /metrics to any client (Authorization: Bearer ...); "
        "unset: only clients in METRICS_ALLOW.",
    )
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Client networks (CIDR, comma-separated) that may read /metrics without "
        "the token; * = any (public metrics).",
    )
    sentry_environment: str | None = Field(None, description="Sentry environment; default ENV.")
    sentry_traces_sample_rate: float = Field(
        0.0, ge=0, le=1, description="Share of requests traced to Sentry."
    )

    # --- jobs: Celery workers / embedded pool, progress, WebSocket (app/tasks, issue 8) ------
    celery_result_backend: str | None = Field(
        None, description="Celery result backend (not needed: chunk results go to the database)."
    )
    celery_queue: str = Field("cfe-jobs", description="Celery queue the job tasks go to.")
    jobs_channel_prefix: str = Field(
        "cfe:jobs", description="Prefix of the Redis pub/sub channels of job progress."
    )
    jobs_embedded_workers: int = Field(
        2, ge=1, le=64, description="Processes of the embedded job pool (no CELERY_BROKER_URL)."
    )
    jobs_mc_chunks: int = Field(
        4,
        ge=1,
        le=1024,
        description="Chunks a Monte Carlo job is split into (any worker runs one).",
    )
    jobs_forecast_async_loans: int = Field(
        200_000, ge=1, description="Forecasts over this many loans x scenarios run as jobs (202)."
    )
    tape_store_dir: Path = Field(
        Path("data/tapes"),
        description="Directory of streamed tapes (stream_forecast jobs read only files inside it; "
        "loan-level datasets are written under it). Every worker must see it (shared volume).",
    )
    stream_chunk_loans: int = Field(
        250_000,
        ge=1,
        description="Loans per chunk of a stream_forecast job (Parquet: whole "
        "row groups of at least this many rows).",
    )
    stream_upload_bytes: int = Field(
        64 * MiB,
        ge=1,
        description="Tape uploads larger than this are kept as files in "
        "TAPE_STORE_DIR (origin tape) and forecast as stream_forecast jobs.",
    )
    stream_max_loans: int = Field(
        100_000_000,
        ge=1,
        description="Most loans in a streamed tape (stream_forecast, 422 above it).",
    )
    jobs_progress_interval_seconds: float = Field(
        0.25, gt=0, description="Least time between two progress messages of one job."
    )
    jobs_time_limit_seconds: float = Field(
        3600.0, gt=0, description="Longest run of one job unit before it fails (time limit)."
    )
    jobs_max_attempts: int = Field(
        3, ge=1, description="Starts of one chunk (worker deaths included) before the job fails."
    )
    jobs_requeue_after_seconds: float = Field(
        600.0,
        gt=0,
        description="A queued job not picked up, or a running one without a "
        "heartbeat, for this long is enqueued again (a lost message or a dead worker).",
    )
    jobs_sweep_interval_seconds: float = Field(
        60.0, gt=0, description="How often the service looks for such stale jobs."
    )
    jobs_visibility_timeout_seconds: int = Field(
        3600, ge=1, description="Redis broker: an unacknowledged task is redelivered after this."
    )
    jobs_worker_metrics_port: int | None = Field(
        None, description="Serve a Celery worker's Prometheus metrics on this port."
    )
    jobs_worker_metrics_host: str = Field(
        "127.0.0.1",
        description="Address of that metrics server (0.0.0.0 in a container, "
        "for Prometheus on another host).",
    )
    ws_ping_interval_seconds: float = Field(
        20.0, gt=0, description='Keep-alive: the server sends {"type": "ping"} this often.'
    )
    ws_auth_timeout_seconds: float = Field(
        10.0, gt=0, description="A socket must authenticate within this many seconds."
    )

    @field_validator("env", mode="before")
    @classmethod
    def _env_aliases(cls, value: object) -> object:
        """`testing` (what many tools and our README use) is the test environment."""
        if isinstance(value, str) and value.strip().lower() in {"testing", "tests"}:
            return "test"
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("cors_origins", "allowed_hosts", "metrics_allow", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """`a.com, b.com` or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return value

    @field_validator(
        "database_url",
        "supabase_url",
        "supabase_jwt_secret",
        "supabase_jwt_issuer",
        "supabase_jwks_url",
        "redis_url",
        "celery_broker_url",
        "celery_result_backend",
        "sentry_dsn",
        "upstash_redis_host",
        "upstash_redis_password",
        "supabase_key",
        "database_schema",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty variable in .env means "not configured", not an empty string."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("supabase_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if not self.auth_configured:
                raise ValueError(
                    "ENV=production needs SUPABASE_JWT_SECRET or SUPABASE_URL (token verification)"
                )
            if self.metrics_token is not None and len(self.metrics_token) < 16:
                raise ValueError("METRICS_TOKEN is too short for production (< 16 chars)")
            if self.supabase_jwt_secret and len(self.supabase_jwt_secret) < 32:
                raise ValueError("SUPABASE_JWT_SECRET is too short for production (< 32 chars)")
        return self

    # --- derived values ------------------------------------------------------------------
    @property
    def jwks_url(self) -> str | None:
        """Where asymmetric signing keys are fetched from, or None when not configured."""
        if self.supabase_jwks_url:
            return self.supabase_jwks_url
        if self.supabase_url:
            return f"{self.supabase_url}/auth/v1/.well-known/jwks.json"
        return None

    @property
    def auth_configured(self) -> bool:
        """True when tokens can be verified (an HS256 secret or a JWKS endpoint)."""
        return bool(self.supabase_jwt_secret or self.jwks_url)

    @property
    def effective_redis_url(self) -> str | None:
        """REDIS_URL, or the Upstash host/port/password form as a TLS URL (rediss://)."""
        if self.redis_url:
            return self.redis_url
        if self.upstash_redis_host:
            port = self.upstash_redis_port or 6379
            # The password may hold URL-reserved characters (@, :, /); quote it for the URL.
            password = quote(self.upstash_redis_password or "", safe="")
            auth = f"default:{password}@" if password else ""
            return f"rediss://{auth}{self.upstash_redis_host}:{port}"
        return None

    @property
    def embedded(self) -> bool:
        """Embedded mode: no DATABASE_URL, SQLite under DATA_DIR."""
        return self.database_url is None

    @property
    def should_migrate_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.embedded or (self.database_url or "").startswith("sqlite")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; False for 0.0.0.0, :: and anything else."""
    name = host.strip().strip("[]").lower()
    if name in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and `.env`."""
    return Settings()
