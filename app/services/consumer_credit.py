"""Consumer-credit use cases: analyse a pool and/or a performance panel (directly, or as a job for
big panels), upload a panel as a tape, and the `consumer_credit` job kind's functions.

Panels are stored like pools (one compressed Parquet blob in the pools table, origin "panel"),
so no new table is needed; they are never listed or loaded as pools.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import anyio
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy.ext.asyncio import AsyncSession

from app.assets.consumer_credit.analysis import MacroScenario, analyze
from app.assets.consumer_credit.loan_types import catalogue
from app.assets.consumer_credit.panel import Panel
from app.assets.consumer_credit.states import StateSpace
from app.core.config import Settings
from app.core.errors import NotFound, ValidationFailed
from app.engine.errors import EngineError, InvalidInput
from app.engine.pool import LoanPool
from app.models.consumer_credit import AnalyzeRequest, PanelOut
from app.models.tables import Job, Pool
from app.services import columnar, jobs, pools
from app.services.repositories import PoolRepository

PANEL_ORIGIN = pools.PANEL_ORIGIN


def loan_types() -> list[dict[str, Any]]:
    return catalogue()


def to_422(exc: EngineError, prefix: tuple[str | int, ...] = ("body",)) -> ValidationFailed:
    """Problems located as [*prefix, *dotted field path, row]: field, row and reason."""
    if isinstance(exc, InvalidInput) and exc.problems:
        return ValidationFailed(
            [
                {
                    "loc": [*prefix, *p.column.split("."), *([p.row] if p.row is not None else [])],
                    "msg": p.reason,
                    "type": "invalid_value",
                }
                for p in exc.problems
            ]
        )
    return ValidationFailed(
        [
            {
                "loc": [*prefix, *(exc.field or "").split(".")],
                "msg": exc.message,
                "type": type(exc).__name__,
            }
        ]
    )


# --- panels ----------------------------------------------------------------------------------
def read_panel_table(data: bytes, fmt: str, column_map: Mapping[str, str] | None) -> pa.Table:
    """CSV (header row; loan_id and state read as text) or Parquet, columns renamed by column_map."""
    mapping = dict(column_map or {})
    reverse = {v: k for k, v in mapping.items()}
    try:
        if fmt == "parquet":
            table = pq.read_table(pa.BufferReader(data))
        else:
            text = {reverse.get(c, c): pa.string() for c in ("loan_id", "state")}
            table = pacsv.read_csv(
                pa.BufferReader(data),
                convert_options=pacsv.ConvertOptions(column_types=text, strings_can_be_null=True),
            )
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise ValidationFailed.single(
            ["body", "file"], f"cannot read the {fmt} file: {exc}"
        ) from exc
    missing = [c for c in mapping if c not in table.column_names]
    if missing:
        raise ValidationFailed(
            [
                {
                    "loc": ["body", "column_map", c],
                    "msg": "no such column in the file",
                    "type": "value_error",
                }
                for c in missing
            ]
        )
    return table.rename_columns([mapping.get(c, c) for c in table.column_names])


def check_panel_table(table: pa.Table) -> Panel:
    """Structure checks at upload (states are checked against the request's states later)."""
    cols = {c: table.column(c) for c in table.column_names}
    names = (
        [
            s
            for s in pa.compute.unique(table.column("state").combine_chunks()).to_pylist()
            if s not in (None, "")
        ]
        if "state" in cols
        else []
    )
    space = StateSpace.build(names if len(names) >= 2 else [*names, "_other_"][:2] or ["a", "b"])
    return Panel.from_columns(cols, space)


async def upload_panel(
    session: AsyncSession,
    *,
    owner_id: str,
    name: str,
    data: bytes,
    filename: str | None,
    declared_format: str | None,
    column_map: Mapping[str, str] | None,
    settings: Settings,
    request_id: str | None,
) -> PanelOut:
    if not data:
        raise ValidationFailed.single(["body", "file"], "the uploaded file is empty")
    fmt = pools.detect_format(data, filename, declared_format)
    table = await anyio.to_thread.run_sync(read_panel_table, data, fmt, column_map)
    if table.num_rows > settings.consumer_credit_max_panel_rows:
        raise ValidationFailed.single(
            ["body", "file"],
            f"{table.num_rows} rows is more than the limit of "
            f"{settings.consumer_credit_max_panel_rows} (CONSUMER_CREDIT_MAX_PANEL_ROWS)",
        )
    try:
        panel = await anyio.to_thread.run_sync(check_panel_table, table)
    except EngineError as exc:
        raise to_422(exc, ("body", "file")) from exc
    buf = io.BytesIO()
    pq.write_table(table, buf, **columnar.parquet_options(table.schema))
    blob = buf.getvalue()
    total = float(panel.balance.sum()) if panel.balance is not None else 0.0
    row = Pool(
        owner_id=owner_id,
        name=name,
        origin=PANEL_ORIGIN,
        source_format=fmt,
        n_loans=panel.n_loans,
        total_balance=total,
        columns=list(table.column_names),
        column_map=dict(column_map) if column_map else None,
        data=blob,
        size_bytes=len(blob),
        request_id=request_id,
    )
    row = await PoolRepository(session).add(row)
    return PanelOut(
        panel_id=row.id,
        name=row.name,
        source_format=fmt,
        n_rows=table.num_rows,
        n_loans=panel.n_loans,
        columns=list(table.column_names),
        size_bytes=len(blob),
    )


async def _panel_row(
    session: AsyncSession, owner_id: str, panel_id: str, *, with_data: bool = True
) -> Pool:
    row = await PoolRepository(session).get_owned(owner_id, panel_id, with_data=with_data)
    if row is None or row.origin != PANEL_ORIGIN:
        raise NotFound("panel not found")
    return row


async def load_panel(session: AsyncSession, *, owner_id: str, panel_id: str) -> dict[str, Any]:
    row = await _panel_row(session, owner_id, panel_id)
    table = await anyio.to_thread.run_sync(lambda: pq.read_table(pa.BufferReader(row.data)))
    return {c: table.column(c) for c in table.column_names}


# --- analysis --------------------------------------------------------------------------------
async def panel_rows(session: AsyncSession, *, owner_id: str, body: AnalyzeRequest) -> int:
    """Rows of the request's panel (an uploaded panel's size from its stored blob metadata)."""
    if body.performance is not None:
        return max((len(v) for v in body.performance.columns.values()), default=0)
    if body.panel_id is not None:
        row = await _panel_row(session, owner_id, body.panel_id)
        return int(pq.ParquetFile(pa.BufferReader(row.data)).metadata.num_rows)
    return 0


async def _pool(
    session: AsyncSession, owner_id: str, body: AnalyzeRequest, settings: Settings
) -> LoanPool | None:
    ref = body.pool
    if ref is None:
        return None
    if ref.pool_id is not None:
        _, pool = await pools.load_pool(session, owner_id=owner_id, pool_id=ref.pool_id)
        return pool
    if ref.loans is not None:
        if len(ref.loans) > settings.max_inline_loans:
            raise ValidationFailed.single(
                ["body", "pool", "loans"],
                f"more than MAX_INLINE_LOANS={settings.max_inline_loans} loans",
            )
        rows = [loan.model_dump(exclude_none=True) for loan in ref.loans]
        return await anyio.to_thread.run_sync(pools.pool_from_loans, rows)
    return await anyio.to_thread.run_sync(pools.pool_from_columns, ref.columns or {})


async def _scenarios(
    session: AsyncSession, owner_id: str, body: AnalyzeRequest
) -> list[MacroScenario]:
    """The `macro` blocks of the named saved scenarios (a scenario's own block)."""
    if body.macro is None or not body.macro.scenarios:
        return []
    from app.services.repositories.scenarios import ScenarioRepository

    repo = ScenarioRepository(session)
    out = []
    for k, sid in enumerate(body.macro.scenarios):
        row = await repo.get_owned(owner_id, sid)
        if row is None:
            raise ValidationFailed.single(
                ["body", "macro", "scenarios", k], "no such scenario of yours"
            )
        block = (row.definition or {}).get("macro")
        if not block:
            raise ValidationFailed.single(
                ["body", "macro", "scenarios", k], f"scenario {row.name!r} has no macro block"
            )
        out.append(
            MacroScenario(row.name, block.get("paths") or {}, block.get("reference"), row.id)
        )
    return out


def _payload(body: AnalyzeRequest) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"pool", "performance", "panel_id", "async_"})


def contiguous(obj: Any) -> Any:
    """The analysis output with every array C-contiguous (orjson serialises only those)."""
    if isinstance(obj, np.ndarray):
        return np.ascontiguousarray(obj)
    if isinstance(obj, dict):
        return {k: contiguous(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [contiguous(v) for v in obj]
    return obj


def run_analysis(
    payload: dict[str, Any],
    pool: LoanPool | None,
    panel: Mapping[str, Any] | None,
    scenarios: list[MacroScenario],
) -> dict[str, Any]:
    """Pure CPU (a worker thread): the asset's analysis, errors as 422 at the body's paths."""
    try:
        return contiguous(analyze(payload, pool=pool, panel_columns=panel, scenarios=scenarios))
    except EngineError as exc:
        raise to_422(exc) from exc


async def analyze_request(
    session: AsyncSession, *, owner_id: str, body: AnalyzeRequest, settings: Settings
) -> dict[str, Any]:
    """Load the inputs (pool, panel, saved macro scenarios) and run the analysis."""
    n = await panel_rows(session, owner_id=owner_id, body=body)
    if n > settings.consumer_credit_max_panel_rows:
        raise ValidationFailed.single(
            ["body", "performance"], f"{n} rows is more than CONSUMER_CREDIT_MAX_PANEL_ROWS"
        )
    pool = await _pool(session, owner_id, body, settings)
    panel: Mapping[str, Any] | None = None
    if body.performance is not None:
        panel = body.performance.columns
    elif body.panel_id is not None:
        panel = await load_panel(session, owner_id=owner_id, panel_id=body.panel_id)
    scenarios = await _scenarios(session, owner_id, body)
    return await anyio.to_thread.run_sync(run_analysis, _payload(body), pool, panel, scenarios)


def warm_up() -> None:
    """Compile (or load from the disk cache) the Markov panel kernels (panel check, counts by
    count and by balance, the pipeline) before the first request: a two-loan panel through
    both estimators, and a two-state pipeline."""
    panel = {
        "loan_id": ["a", "a", "a", "b", "b", "b"],
        "period": ["2025-01", "2025-02", "2025-03"] * 2,
        "state": ["current", "dpd30", "current", "current", "current", "prepaid"],
        "balance": [1000.0, 990.0, 980.0, 500.0, 490.0, 0.0],
    }
    for method, weight in (("cohort", "count"), ("duration", "balance")):
        body = AnalyzeRequest.model_validate(
            {
                "loan_type": "auto",
                "roll_rates": {"method": method, "weight": weight},
            }
        )
        run_analysis(_payload(body), None, panel, [])
    from app.engine.markov import pipeline  # the panel above is too thin for a pipeline

    pipeline(np.ones(2), np.eye(2), np.ones((3, 2)))


# --- the consumer_credit job kind ------------------------------------------------------------
def job_validate(payload: dict[str, Any], settings: Settings) -> None:
    """Parse the analyze body (422 naming the field) before a job is created."""
    from pydantic import ValidationError

    try:
        AnalyzeRequest.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": ["body", "payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc


async def job_run_whole(
    session: AsyncSession, job: Job, settings: Settings
) -> tuple[dict[str, Any], None]:
    """Run the analysis of a stored analyze body; the JSON result is the job's result."""
    body = AnalyzeRequest.model_validate(job.payload)
    out = await analyze_request(session, owner_id=job.owner_id, body=body, settings=settings)
    return orjson.loads(
        orjson.dumps(out, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    ), None


async def run_or_submit(
    session: AsyncSession,
    *,
    owner_id: str,
    body: AnalyzeRequest,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any] | jobs.Submitted:
    """The analyze run path: answer now, or (a panel over CONSUMER_CREDIT_SYNC_MAX_ROWS rows,
    or `"async": true`) queue a `consumer_credit` job of the body, whose result is this answer."""
    rows = await panel_rows(session, owner_id=owner_id, body=body)
    return await jobs.run_or_submit(
        session,
        as_job=body.async_ or rows > settings.consumer_credit_sync_max_rows,
        run_now=lambda: analyze_request(session, owner_id=owner_id, body=body, settings=settings),
        owner_id=owner_id,
        kind="consumer_credit",
        payload=lambda: body.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude={"async_"}
        ),
        request_id=request_id,
    )
