"""Forecast use cases: run a forecast on the engine and store it; list, read and export runs.

A run is planned (limits checked, pool resolved, each scenario's assumptions mapped to engine
types), computed (`compute_forecast`: engine + analytics, pure CPU, no I/O; in a worker thread,
or on the event loop for at most ENGINE_INLINE_LOANS loans x scenarios), then stored (one row
per scenario with a blob of its columns (app.services.columnar), loan-level results in chunks).
Services never commit: the request's session dependency does.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import NotFound, ValidationFailed, engine_problems
from app.engine.errors import EngineError
from app.engine.pool import LoanPool
from app.engine.projection import Projection, horizon, project_pool
from app.engine.types import CASHFLOW_COLUMNS, Assumptions, Speed, SpeedKind
from app.models.base import new_id
from app.models.forecasts import (
    AssumptionsIn,
    ForecastRequest,
    LoanIn,
    OptionsIn,
    ValuationIn,
)
from app.models.tables import ForecastLoanChunk, ForecastRun, ForecastScenario, Pool
from app.services import columnar, jobs, pools
from app.services.repositories import ForecastFilters, ForecastRepository
from app.services.repositories.bulk import insert_all
from app.services.result_cache import cached_compute_forecast

PRINCIPAL_COLUMNS = ("scheduled_principal", "prepayment", "defaulted_amortization", "recovery")
"""Principal returned to the holder each period (for WAL): scheduled, prepaid, advanced
amortisation of defaulted loans, and recoveries."""

_LOANS = TypeAdapter(list[LoanIn])

_SPEED_KINDS = {
    "cpr": SpeedKind.CPR,
    "psa": SpeedKind.PSA,
    "abs": SpeedKind.ABS,
    "smm_vector": SpeedKind.SMM_VECTOR,
    "cpr_vector": SpeedKind.CPR_VECTOR,
    "cdr": SpeedKind.CDR,
    "sda": SpeedKind.SDA,
    "mdr_vector": SpeedKind.MDR_VECTOR,
    "cdr_vector": SpeedKind.CDR_VECTOR,
}


@dataclass(frozen=True)
class ScenarioPlan:
    name: str
    inputs: dict[str, Any]  # the resolved AssumptionsIn as JSON
    assumptions: Assumptions
    index: int | None  # position in body.scenarios, None for the implicit base scenario
    overridden: frozenset[str]  # assumption fields this scenario overrides

    def loc(self, field: str | None) -> tuple[str | int, ...]:
        """Body location of an assumption field: the scenario's override or the base."""
        if self.index is not None and field in self.overridden:
            return ("body", "scenarios", self.index, "assumptions", field)
        return ("body", "assumptions", *([field] if field else []))

    def error(self, exc: EngineError) -> ValidationFailed:
        """An engine error about these assumptions, located in the request body."""
        problems = engine_problems(exc)
        for p in problems:
            field = p["loc"][-1] if p["loc"] else None
            p["loc"] = [*self.loc(field if isinstance(field, str) else None), *p["loc"][1:-1]]
        return ValidationFailed(problems)


@dataclass(frozen=True)
class ForecastPlan:
    """Everything `compute_forecast` needs; no database objects."""

    pool: LoanPool
    scenarios: list[ScenarioPlan]
    valuation: ValuationIn | None
    options: OptionsIn


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    projection: Projection
    analytics: dict[str, float | None] | None


# --- request -> engine types ---------------------------------------------------------------
def to_speed(spec: Any) -> Speed:
    """An API speed object as the engine's Speed (units unchanged: see app.models.forecasts)."""
    kind = _SPEED_KINDS[spec.type]
    if hasattr(spec, "values"):
        return Speed(kind, values=np.asarray(spec.values, dtype=np.float64))
    if hasattr(spec, "speed"):
        return Speed(kind, speed=float(spec.speed))
    return Speed(kind, rate=float(spec.rate))


def to_assumptions(a: AssumptionsIn) -> Assumptions:
    return Assumptions(
        prepayment=to_speed(a.prepayment),
        default=to_speed(a.default),
        severity=float(a.severity),
        recovery_lag_months=int(a.recovery_lag_months),
        advancing=bool(a.advancing),
        index_paths={k: np.asarray(v, dtype=np.float64) for k, v in a.index_paths.items()},
        n_periods=a.n_periods,
    )


def scenario_inputs(
    req: ForecastRequest,
) -> list[tuple[str, AssumptionsIn, int | None, frozenset[str]]]:
    """(name, merged assumptions, index, overridden fields) per scenario; none -> one 'base'."""
    if not req.scenarios:
        return [("base", req.assumptions, None, frozenset())]
    out: list[tuple[str, AssumptionsIn, int | None, frozenset[str]]] = []
    for i, sc in enumerate(req.scenarios):
        overridden = frozenset(sc.assumptions.model_dump(exclude_unset=True))
        merged = req.assumptions.model_copy(
            update={k: getattr(sc.assumptions, k) for k in overridden}
        )
        out.append((sc.name, merged, i, overridden))
    return out


def inline_pool_now(request: ForecastRequest) -> LoanPool:
    """The request's inline pool (`loans` or `columns`), validated (422 naming each problem).
    CPU work: call it in a worker thread (`inline_pool`, or inside `_compute`)."""
    if request.pool.loans is not None:
        # one call into pydantic's serializer; Arrow then builds the columns
        return pools.pool_from_loans(_LOANS.dump_python(request.pool.loans, exclude_none=True))
    return pools.pool_from_columns(request.pool.columns or {})


async def inline_pool(request: ForecastRequest) -> LoanPool:
    """`inline_pool_now` off the event loop."""
    return await anyio.to_thread.run_sync(inline_pool_now, request)


def check_limits(req: ForecastRequest, settings: Settings) -> None:
    """Request-size limits that do not need the pool (422 naming the field and the limit)."""
    n_sc = max(1, len(req.scenarios))
    if n_sc > settings.max_scenarios:
        raise ValidationFailed.single(
            ["body", "scenarios"],
            f"{n_sc} scenarios is more than the limit of {settings.max_scenarios} (MAX_SCENARIOS)",
        )
    if req.pool.loans is not None and len(req.pool.loans) > settings.max_inline_loans:
        raise ValidationFailed.single(
            ["body", "pool", "loans"],
            f"{len(req.pool.loans)} inline loans is more than the limit of "
            f"{settings.max_inline_loans} (MAX_INLINE_LOANS); upload a tape to /api/v1/pools",
        )
    if req.pool.columns is not None:
        n = inline_loan_count(req)
        if n > settings.max_inline_loans:
            raise ValidationFailed.single(
                ["body", "pool", "columns"],
                f"{n} inline loans is more than the limit of {settings.max_inline_loans}",
            )


def plan_forecast(pool: LoanPool, req: ForecastRequest, settings: Settings) -> ForecastPlan:
    """Map each scenario to engine Assumptions and check the horizon and loan-level limits."""
    scenarios: list[ScenarioPlan] = []
    for name, a_in, index, overridden in scenario_inputs(req):
        sc = ScenarioPlan(
            name, a_in.model_dump(mode="json"), to_assumptions(a_in), index, overridden
        )
        if a_in.n_periods is not None and a_in.n_periods > settings.max_periods:
            raise ValidationFailed.single(
                sc.loc("n_periods"),
                f"must be at most {settings.max_periods} months (MAX_PERIODS)",
            )
        try:
            n_periods = horizon(pool, sc.assumptions)
        except EngineError as exc:
            raise sc.error(exc) from exc
        if n_periods > settings.max_periods:
            raise ValidationFailed.single(
                sc.loc("n_periods"),
                f"the projection needs {n_periods} months (longest remaining term plus the "
                f"recovery lag), more than the limit of {settings.max_periods} (MAX_PERIODS); "
                "set a shorter n_periods",
            )
        if req.options.balance_paths and req.options.loan_level:
            cells = times_scenarios(len(pool), req) * n_periods
            if cells > settings.max_loan_level_cells:
                raise ValidationFailed.single(
                    ["body", "options", "balance_paths"],
                    f"{cells} loan x period x scenario values is more than the limit of "
                    f"{settings.max_loan_level_cells} (MAX_LOAN_LEVEL_CELLS)",
                )
        scenarios.append(sc)
    return ForecastPlan(pool, scenarios, req.valuation, req.options)


# --- computation (pure CPU) ----------------------------------------------------------------
def principal_flow(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.sum([columns[c] for c in PRINCIPAL_COLUMNS], axis=0)


def compute_analytics(
    projection: Projection, valuation: ValuationIn | None, starting_balance: float
) -> dict[str, float | None]:
    """Cash-flow measures of the pool's total cash flow, at t = period / 12 years (30/360)."""
    from app.engine.analytics.conventions import Compounding
    from app.engine.analytics.curves import ZeroCurve
    from app.engine.analytics.summary import cashflow_measures

    cols = projection.columns
    times = cols["period"].astype(np.float64) / 12.0
    kwargs: dict[str, Any] = {"principal": principal_flow(cols), "frequency": 12}
    if valuation is not None:
        kwargs.update(
            frequency=int(valuation.frequency),
            compounding=Compounding(valuation.compounding),
            spread_compounding=Compounding(valuation.spread_compounding),
            spread_frequency=int(valuation.spread_frequency),
            discount_rate=valuation.discount_rate,
        )
        if valuation.curve is not None:
            kwargs["curve"] = ZeroCurve(
                np.asarray(valuation.curve.times),
                np.asarray(valuation.curve.rates),
                interpolation=valuation.curve.interpolation,
            )
        if valuation.price is not None:
            kwargs["price"] = float(valuation.price)
        elif valuation.price_percent is not None:
            kwargs["price"] = float(valuation.price_percent) / 100.0 * starting_balance
    measures = cashflow_measures(cols["total_cashflow"], times, **kwargs)
    return {k: _finite_or_none(v) for k, v in measures.items()}


def _finite_or_none(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if np.isfinite(f) else None


def analytics_available() -> bool:
    """Whether the analytics module (issue 3) is installed in this build."""
    return importlib.util.find_spec("app.engine.analytics.summary") is not None


def warm_up() -> None:
    """Run one tiny projection and its analytics so that the engine's Numba kernels are
    compiled (or loaded from the on-disk cache) before the first real request."""
    pool = LoanPool.from_columns(
        {"balance": [1000.0], "rate": [0.05], "original_term_months": [12]}
    )
    assumptions = Assumptions(
        prepayment=Speed(SpeedKind.CPR, 0.05), default=Speed(SpeedKind.CDR, 0.01)
    )
    for loan_level in (False, True):
        proj = project_pool(pool, assumptions, loan_level=loan_level)
    if analytics_available():
        compute_analytics(proj, ValuationIn(discount_rate=0.05), pool.total_balance)


def compute_forecast(plan: ForecastPlan) -> list[ScenarioOutcome]:
    """Project every scenario and compute its analytics. Raises ValidationFailed for bad input."""
    out: list[ScenarioOutcome] = []
    start_balance = plan.pool.total_balance
    for sc in plan.scenarios:
        try:
            proj = project_pool(
                plan.pool,
                sc.assumptions,
                loan_level=plan.options.loan_level,
                balance_paths=plan.options.loan_level and plan.options.balance_paths,
            )
        except EngineError as exc:
            raise sc.error(exc) from exc
        analytics = None
        if analytics_available():
            try:
                analytics = compute_analytics(proj, plan.valuation, start_balance)
            except EngineError as exc:
                raise ValidationFailed.from_engine(exc, prefix=("body", "valuation")) from exc
        out.append(ScenarioOutcome(sc.name, proj, analytics))
    return out


# --- storage -------------------------------------------------------------------------------
def _loan_chunks(
    forecast_id: str, index: int, projection: Projection, chunk: int
) -> list[ForecastLoanChunk]:
    ll = projection.loan_level
    if ll is None:
        return []
    cols = dict(ll.totals)
    cols["principal"] = ll.principal
    cols["wal_years"] = ll.wal_years
    n = len(ll.loan_id)
    rows = []
    for k, start in enumerate(range(0, n, chunk)):  # one blob per `chunk` loans
        stop = min(start + chunk, n)
        table = columnar.loan_chunk_table(
            ll.loan_id[start:stop],
            {name: v[start:stop] for name, v in cols.items()},
            None if ll.balances is None else ll.balances[start:stop],
        )
        rows.append(
            ForecastLoanChunk(
                forecast_id=forecast_id,
                scenario_index=index,
                chunk_index=k,
                loan_start=start,
                loan_count=stop - start,
                data=columnar.table_to_blob(table),
            )
        )
    return rows


def _encode(
    forecast_id: str, plan: ForecastPlan, outcomes: list[ScenarioOutcome], chunk: int
) -> tuple[list[ForecastScenario], list[ForecastLoanChunk]]:
    scenarios, chunks = [], []
    for i, (sc, res) in enumerate(zip(plan.scenarios, outcomes, strict=True)):
        columns_format, columns_data = columnar.columns_to_blob(res.projection.columns)
        scenarios.append(
            ForecastScenario(
                forecast_id=forecast_id,
                scenario_index=i,
                name=sc.name,
                assumptions=sc.inputs,
                n_periods=res.projection.n_periods,
                columns_format=columns_format,
                columns_data=columns_data,
                analytics=res.analytics,
            )
        )
        chunks.extend(_loan_chunks(forecast_id, i, res.projection, chunk))
    return scenarios, chunks


@dataclass(frozen=True)
class _Computed:
    """A computed forecast: its pool, plan, outcomes and when the engine ran (UTC)."""

    pool: LoanPool
    plan: ForecastPlan
    outcomes: list[ScenarioOutcome]
    started: datetime
    finished: datetime
    duration_ms: float  # engine + analytics, milliseconds


def _compute(request: ForecastRequest, settings: Settings, pool: LoanPool | None) -> _Computed:
    """The CPU part of a forecast in one worker-thread hop: the pool (built from the request's
    inline loans when `pool` is None), the plan (limits, engine assumptions), then engine and
    analytics through the result cache."""
    pool = inline_pool_now(request) if pool is None else pool
    plan = plan_forecast(pool, request, settings)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    outcomes = cached_compute_forecast(plan)
    duration_ms = (time.perf_counter() - t0) * 1e3
    return _Computed(pool, plan, outcomes, started, datetime.now(UTC), duration_ms)


_T = TypeVar("_T")


async def _cpu(loan_scenarios: int, settings: Settings, fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` (CPU work) in a worker thread, or right here on the event loop when the
    request is at most ENGINE_INLINE_LOANS loans x scenarios: a 1-loan forecast's ~1.5 ms of
    CPU costs less than the thread hop's two wake-ups on a quiet server."""
    if loan_scenarios <= settings.engine_inline_loans:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args)


def _loan_scenarios(request: ForecastRequest, pool: LoanPool | None) -> int:
    """Loans x scenarios of a request whose pool (if uploaded) is already loaded."""
    return times_scenarios(len(pool) if pool is not None else inline_loan_count(request), request)


async def price_forecast(
    session: AsyncSession, *, owner_id: str, request: ForecastRequest, settings: Settings
) -> tuple[int, float, list[ScenarioOutcome]]:
    """`"store": false`: run the forecast and keep nothing; (loans, engine+analytics ms, outcomes)."""
    check_limits(request, settings)
    if request.async_:
        raise ValidationFailed.single(
            ("body", "store"), "a pricing call (store false) cannot be a job"
        )
    if await loan_scenarios(session, owner_id, request) > settings.jobs_forecast_async_loans:
        raise ValidationFailed.single(
            ("body", "store"),
            "store false is for small pricing calls (at most JOBS_FORECAST_ASYNC_LOANS loans x scenarios)",
        )
    pool = None
    if request.pool.pool_id is not None:
        _, pool = await pools.load_pool(session, owner_id=owner_id, pool_id=request.pool.pool_id)
    done = await _cpu(_loan_scenarios(request, pool), settings, _compute, request, settings, pool)
    return len(done.pool), done.duration_ms, done.outcomes


def _compute_and_encode(
    request: ForecastRequest,
    settings: Settings,
    pool: LoanPool | None,
    run_id: str,
    owner_id: str,
    request_id: str | None,
) -> tuple[_Computed, list[ForecastScenario], list[ForecastLoanChunk], Pool | None]:
    """`_compute`, then the Parquet blobs of the results and (for an inline pool) of the pool,
    all in the same worker thread: on SQLite the write slot is then held only for the inserts."""
    done = _compute(request, settings, pool)
    scenarios, chunks = _encode(run_id, done.plan, done.outcomes, settings.loan_level_chunk_loans)
    pool_row = None
    if pool is None:
        pool_row = pools.inline_pool_row(
            done.pool, owner_id=owner_id, name=request.name, request_id=request_id
        )
    return done, scenarios, chunks, pool_row


async def create_forecast(
    session: AsyncSession,
    *,
    owner_id: str,
    request: ForecastRequest,
    settings: Settings,
    request_id: str | None,
) -> tuple[ForecastRun, list[ScenarioOutcome]]:
    """Run a forecast synchronously and store it (status succeeded). 422 for bad input."""
    check_limits(request, settings)
    stored_pool, pool = None, None
    if request.pool.pool_id is not None:
        stored_pool, pool = await pools.load_pool(
            session, owner_id=owner_id, pool_id=request.pool.pool_id
        )
    run_id = new_id()
    done, scenarios, chunks, new_pool = await _cpu(
        _loan_scenarios(request, pool),
        settings,
        _compute_and_encode,
        request,
        settings,
        pool,
        run_id,
        owner_id,
        request_id,
    )
    stored_pool = new_pool or stored_pool
    assert stored_pool is not None
    inputs = request.model_dump(mode="json", exclude={"pool"})
    inputs["pool"] = {"pool_id": stored_pool.id}
    run = ForecastRun(
        id=run_id,
        owner_id=owner_id,
        name=request.name,
        status="succeeded",
        pool_id=stored_pool.id,
        inputs=inputs,
        n_loans=len(done.pool),
        n_periods=max(o.projection.n_periods for o in done.outcomes),
        n_scenarios=len(done.outcomes),
        loan_level=request.options.loan_level,
        request_id=request_id,
        created_at=done.started,
        started_at=done.started,
        finished_at=done.finished,
        duration_ms=done.duration_ms,
    )
    await insert_all(session, [*([new_pool] if new_pool else []), run, *scenarios, *chunks])
    return run, done.outcomes


# --- reads ---------------------------------------------------------------------------------
async def get_forecast(session: AsyncSession, *, owner_id: str, forecast_id: str) -> ForecastRun:
    run = await ForecastRepository(session).get_owned(owner_id, forecast_id)
    if run is None:
        raise NotFound("forecast not found")
    return run


async def list_forecasts(
    session: AsyncSession,
    *,
    owner_id: str,
    filters: ForecastFilters,
    limit: int,
    offset: int,
) -> tuple[list[ForecastRun], int]:
    return await ForecastRepository(session).list_owned(
        owner_id, filters, limit=limit, offset=offset
    )


async def scenario_rows(
    session: AsyncSession, *, forecast_id: str, with_data: bool, name: str | None = None
) -> list[ForecastScenario]:
    rows = await ForecastRepository(session).scenarios(forecast_id, with_data=with_data, name=name)
    if name is not None and not rows:
        raise NotFound(f"scenario {name!r} not found")
    return rows


def decode_columns(row: ForecastScenario) -> dict[str, np.ndarray]:
    cols = columnar.blob_to_columns(row.columns_data)
    return {k: cols[k] for k in CASHFLOW_COLUMNS if k in cols}


def projections_csv(rows: list[ForecastScenario]) -> bytes:
    """All scenarios' columns as CSV (scenario, then CASHFLOW_COLUMNS), full float precision."""
    tables = []
    for row in rows:
        cols = decode_columns(row)
        n = row.n_periods
        data: dict[str, Any] = {
            "scenario": pa.array(np.full(n, row.name, dtype=object), pa.string())
        }
        data.update({k: pa.array(v) for k, v in cols.items()})
        tables.append(pa.table(data))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.concat_tables(tables) if tables else pa.table({}), sink)
    return sink.getvalue().to_pybytes()


async def loan_page(
    session: AsyncSession, *, forecast_id: str, scenario_index: int, offset: int, limit: int
) -> tuple[pa.Table, int]:
    """Loans [offset, offset+limit) of a scenario, reading only the chunks that hold them."""
    repo = ForecastRepository(session)
    index = await repo.chunk_index(forecast_id, scenario_index)
    total = sum(c[2] for c in index)
    parts = []
    for chunk_index, start, count in index:
        if start + count <= offset or start >= offset + limit:
            continue
        data = await repo.chunk_data(forecast_id, scenario_index, chunk_index)
        table = columnar.blob_to_table(data)
        lo = max(offset - start, 0)
        hi = min(offset + limit - start, count)
        parts.append(table.slice(lo, hi - lo))
    if not parts:
        return pa.table({}), total
    return pa.concat_tables(parts), total


async def stream_loans_parquet(
    database: Database, *, forecast_id: str, scenario_index: int
) -> AsyncIterator[bytes]:
    """The scenario's loan-level results as one Parquet file, one chunk at a time: each stored
    chunk becomes a row group and its bytes are sent before the next chunk is read."""
    async with database.sessionmaker() as session:  # read-only: nothing to commit
        repo = ForecastRepository(session)
        index = await repo.chunk_index(forecast_id, scenario_index)
        sink = columnar.StreamSink()
        writer: pq.ParquetWriter | None = None
        try:
            for chunk_index, _start, _count in index:
                data = await repo.chunk_data(forecast_id, scenario_index, chunk_index)
                table = columnar.blob_to_table(data)
                if writer is None:
                    writer = pq.ParquetWriter(
                        sink, table.schema, **columnar.parquet_options(table.schema)
                    )
                writer.write_table(table)
                yield sink.drain()
        finally:
            if writer is not None:
                writer.close()
        yield sink.drain()


async def loan_scenarios(session: AsyncSession, owner_id: str, body: ForecastRequest) -> int:
    """Loans x scenarios of a forecast request (an uploaded pool's size from its record)."""
    if body.pool.pool_id is not None:
        n = (await pools.get_pool(session, owner_id=owner_id, pool_id=body.pool.pool_id)).n_loans
    else:
        n = inline_loan_count(body)
    return times_scenarios(n, body)


def times_scenarios(n_loans: int, body: ForecastRequest) -> int:
    """`n_loans` x the request's scenarios (none given = the one base scenario)."""
    return n_loans * max(1, len(body.scenarios))


def inline_loan_count(body: ForecastRequest) -> int:
    """Loans given inline (`loans` or the longest of `columns`); 0 for a `pool_id`."""
    if body.pool.loans is not None:
        return len(body.pool.loans)
    return max((len(v) for v in (body.pool.columns or {}).values()), default=0)


async def run_or_submit(
    session: AsyncSession,
    *,
    owner_id: str,
    body: ForecastRequest,
    settings: Settings,
    request_id: str | None,
) -> tuple[ForecastRun, list[ScenarioOutcome]] | jobs.Submitted:
    """The forecast run path: run and store it now, or (over JOBS_FORECAST_ASYNC_LOANS loans x
    scenarios, or `"async": true`) check its limits and queue a `forecast` job of the body."""
    if body.pool.pool_id is not None:
        row = await pools.get_pool(session, owner_id=owner_id, pool_id=body.pool.pool_id)
        if row.origin == pools.TAPE_ORIGIN:  # a tape kept as a file: a stream_forecast job
            from app.services import tape_pools

            check_limits(body, settings)
            return await tape_pools.submit_forecast(
                session,
                owner_id=owner_id,
                row=row,
                body=body,
                settings=settings,
                request_id=request_id,
            )
    as_job = body.async_ or await loan_scenarios(session, owner_id, body) > (
        settings.jobs_forecast_async_loans
    )
    if as_job:
        check_limits(body, settings)
        if body.pool.pool_id is None:  # inline pools are small (MAX_INLINE_LOANS): check now
            await inline_pool(body)
    return await jobs.run_or_submit(
        session,
        as_job=as_job,
        run_now=lambda: create_forecast(
            session, owner_id=owner_id, request=body, settings=settings, request_id=request_id
        ),
        owner_id=owner_id,
        kind="forecast",
        payload=lambda: body.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude={"async_"}
        ),
        name=body.name,
        request_id=request_id,
    )
