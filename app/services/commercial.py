"""Commercial-loan use cases: the property-type table, analyze a book now, or as a chunked job
(plan / compute_chunk / merge over the copula paths: the merged result equals one run)."""

from __future__ import annotations

import io
from typing import Any

import anyio
import numpy as np
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.assets.commercial.analyze import (
    AnalyzeOptions,
    NamedStress,
    PortfolioLossOptions,
    analyze,
    copula_portfolio,
)
from app.assets.commercial.cashflows import Drivers
from app.assets.commercial.credit import PDModel, RefiTerms, SeverityModel, SeverityTerms
from app.assets.commercial.loans import CommercialLoans, commercial_loans
from app.assets.commercial.property_types import catalogue
from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.credit.copula import chunk_paths, simulate_losses
from app.engine.errors import EngineError, InvalidInput
from app.engine.pool import LoanPool
from app.models.commercial import CommercialAnalyzeIn, CommercialLoanIn, CommercialPoolRef
from app.services import jobs, pools

Loc = tuple[str | int, ...]
_LOANS = TypeAdapter(list[CommercialLoanIn])
PROGRESS_PATHS = 2_000  # paths between progress reports inside a chunk
KIND = "commercial_portfolio_loss"
_BODY_FIELDS = frozenset({"index_paths"})  # engine problems that name a body field, not a loan


def property_types() -> list[dict[str, object]]:
    """GET .../property-types."""
    return catalogue()


def warm_up() -> None:
    """Compile (or load from the disk cache) the copula kernel before the first request."""
    from app.engine.credit.copula import CopulaPortfolio

    simulate_losses(CopulaPortfolio.build(np.ones(2), 0.5, 0.05, 0.1), 2, seed=0)


# ---- errors -------------------------------------------------------------------------------
def _pool_loc(ref: dict[str, Any] | CommercialPoolRef) -> str:
    keys = ref if isinstance(ref, dict) else ref.model_dump(exclude_none=True)
    return next(k for k in ("loans", "columns", "pool_id") if keys.get(k) is not None)


def engine_error(exc: EngineError, pool_form: str, prefix: Loc = ("body",)) -> ValidationFailed:
    """A 422 naming each problem: loan fields as pool.<form>.<row>.<field> (columns:
    pool.columns.<field>.<row>), option fields by their dotted body path."""
    if not (isinstance(exc, InvalidInput) and exc.problems):
        return ValidationFailed(
            [
                {
                    "loc": [*prefix, exc.field or "body"],
                    "msg": exc.message,
                    "type": type(exc).__name__,
                }
            ]
        )
    items = []
    for p in exc.problems:
        loc: list[Any]
        if p.column in _BODY_FIELDS:
            loc = [*prefix, p.column]
            msg = p.reason
        elif "." in p.column:
            loc = [*prefix, *p.column.split(".")]
            msg = p.reason if p.row is None else f"row {p.row}: {p.reason}"
        elif pool_form == "columns":
            loc = [*prefix, "pool", "columns", p.column, *([p.row] if p.row is not None else [])]
            msg = p.reason
        else:
            loc = [*prefix, "pool", pool_form, *([p.row] if p.row is not None else []), p.column]
            msg = p.reason
        items.append({"loc": loc, "msg": msg, "type": "invalid_value"})
    return ValidationFailed(items)


# ---- inputs -------------------------------------------------------------------------------
def options_of(body: CommercialAnalyzeIn, named: list[NamedStress]) -> AnalyzeOptions:
    """The asset-layer options of a request body (named stresses already resolved)."""
    pl = body.portfolio_loss
    return AnalyzeOptions(
        drivers=Drivers(
            noi_growth=body.noi_growth,
            noi_haircut=body.noi_haircut,
            cap_rate_shift=body.cap_rate_shift,
            prepayment_cpr=body.prepayment_cpr,
            yield_maintenance_factor=body.yield_maintenance_factor,
        ),
        pd_model=PDModel(body.pd_model.intercept, body.pd_model.dscr, body.pd_model.ltv),
        refi=RefiTerms(
            body.refinance.rate,
            body.refinance.amortization_months,
            body.refinance.max_ltv,
            body.refinance.min_dscr,
        ),
        severity=SeverityTerms(
            SeverityModel(body.severity.model),
            body.severity.liquidation_cost,
            body.severity.carry_cost,
            body.severity.liquidation_months,
            body.severity.value_haircut,
        ),
        noi_haircuts=tuple(body.stress.noi_haircuts),
        cap_rate_shifts=tuple(body.stress.cap_rate_shifts),
        scenarios=tuple(named),
        portfolio_loss=None
        if pl is None
        else PortfolioLossOptions(
            pl.correlation,
            pl.sector_correlation,
            pl.horizon_years,
            pl.n_paths,
            pl.seed,
            pl.histogram_bins,
        ),
        discount_rate=body.discount_rate,
        index_paths={k: np.asarray(v, dtype=np.float64) for k, v in body.index_paths.items()},
        loan_paths=body.loan_paths,
    )


def loans_of(pool: LoanPool, form: str) -> CommercialLoans:
    try:
        return commercial_loans(pool)
    except EngineError as exc:
        raise engine_error(exc, form) from exc


async def load_pool(
    session: Any, *, owner_id: str, ref: CommercialPoolRef, settings: Settings
) -> LoanPool:
    """The pool of a request: a stored pool of the caller, or inline loans/columns."""
    if ref.pool_id is not None:
        _, pool = await pools.load_pool(session, owner_id=owner_id, pool_id=ref.pool_id)
        return pool
    n = (
        len(ref.loans)
        if ref.loans is not None
        else max((len(v) for v in (ref.columns or {}).values()), default=0)
    )
    if n > settings.max_inline_loans:
        raise ValidationFailed.single(
            ["body", "pool"],
            f"{n} inline loans is more than the limit of {settings.max_inline_loans} (MAX_INLINE_LOANS); upload a tape to /api/v1/pools",
        )
    if ref.loans is not None:
        rows = _LOANS.dump_python(ref.loans, mode="json", exclude_none=True)
        return await anyio.to_thread.run_sync(pools.pool_from_loans, rows)
    return await anyio.to_thread.run_sync(pools.pool_from_columns, ref.columns or {})


async def resolve_named(
    session: Any, *, owner_id: str, body: CommercialAnalyzeIn
) -> list[NamedStress]:
    """Named stresses: inline ones as given; a saved scenario gives its name and its parallel
    rate shocks (summed, bp -> decimal) added to the refinance rate."""
    out: list[NamedStress] = []
    for k, s in enumerate(body.stress.scenarios):
        if s.scenario_id is None:
            out.append(NamedStress(str(s.name), s.noi_haircut, s.cap_rate_shift, s.refi_rate_shift))
            continue
        from app.core.errors import NotFound
        from app.services import scenarios  # the one use of the scenarios service

        try:
            row, resolved = await scenarios.read_scenario(
                session, owner_id=owner_id, scenario_id=s.scenario_id
            )
        except NotFound as exc:
            raise ValidationFailed.single(
                ["body", "stress", "scenarios", k, "scenario_id"], "no such scenario of yours"
            ) from exc
        shift = sum(r.parallel_bp for r in resolved.rate_shocks) / 10_000.0
        out.append(
            NamedStress(
                s.name or row.name,
                s.noi_haircut,
                s.cap_rate_shift,
                s.refi_rate_shift + shift,
                f"scenario:{row.id}",
            )
        )
    return out


def io_balloon_warnings(ref: CommercialPoolRef) -> list[str]:
    """Balloons sent with io_months > 0: the engine has no IO-then-balloon type (its pool
    builder keeps io_months only for interest_only loans), so they run as plain balloons."""
    if ref.loans is not None:
        ids = [
            str(ln.loan_id if ln.loan_id is not None else k)
            for k, ln in enumerate(ref.loans)
            if ln.amortization == "balloon" and (ln.io_months or 0) > 0
        ]
    elif ref.columns is not None and "io_months" in ref.columns and "amortization" in ref.columns:
        idc = ref.columns.get("loan_id") or list(range(len(ref.columns["io_months"])))
        ids = [
            str(i)
            for i, a, io_ in zip(
                idc, ref.columns["amortization"], ref.columns["io_months"], strict=False
            )
            if str(a).lower() == "balloon" and isinstance(io_, int | float) and io_ > 0
        ]
    else:
        ids = []
    if not ids:
        return []
    return [
        f"io_months ignored on {len(ids)} balloon loan(s) (e.g. loan {ids[0]}): the engine has no "
        "interest-only-then-balloon type; metrics and cash flows use the balloon schedule from now"
    ]


def draws(body: CommercialAnalyzeIn, n_loans: int) -> int:
    """Copula work of a request: paths x loans (0 without portfolio_loss)."""
    return 0 if body.portfolio_loss is None else body.portfolio_loss.n_paths * n_loans


# ---- direct run ---------------------------------------------------------------------------
def run(loans: CommercialLoans, options: AnalyzeOptions, form: str) -> dict[str, Any]:
    """The analysis (pure CPU; in a worker thread); engine errors become 422s."""
    try:
        return analyze(loans, options)
    except EngineError as exc:
        raise engine_error(exc, form) from exc


def check_portfolio(loans: CommercialLoans, options: AnalyzeOptions, form: str) -> None:
    """Refuse a copula input that cannot run (before a job is created)."""
    try:
        copula_portfolio(loans, options)
    except EngineError as exc:
        raise engine_error(exc, form) from exc


# ---- job kind -----------------------------------------------------------------------------
def job_payload(
    body: CommercialAnalyzeIn, pool: LoanPool, named: list[NamedStress]
) -> dict[str, Any]:
    """A self-contained payload: the body with the pool as inline columns and the named
    stresses resolved (a chunk needs no database)."""
    data = body.model_dump(mode="json", by_alias=True, exclude={"async_", "pool"})
    data["stress"]["scenarios"] = []
    return {
        "body": data,
        "columns": _json_columns(pool),
        "named": [vars(s) for s in named],
        "warnings": io_balloon_warnings(body.pool),
    }


def _json_columns(pool: LoanPool) -> dict[str, list[Any]]:
    """The pool as JSON columns; non-finite floats (uncapped floaters) become null, which
    `LoanPool.from_columns` reads back as the same defaults."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from app.services.columnar import pool_to_table

    table = pool_to_table(pool)
    out: dict[str, list[Any]] = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_floating(col.type):
            col = pc.if_else(pc.is_finite(col), col, pa.scalar(None, col.type))
        out[name] = col.to_pylist()
    return out


def _from_payload(payload: dict[str, Any]) -> tuple[CommercialLoans, AnalyzeOptions]:
    body = CommercialAnalyzeIn.model_validate(
        {**payload["body"], "pool": {"columns": payload["columns"]}}
    )
    named = [NamedStress(**s) for s in payload.get("named", [])]
    pool = LoanPool.from_columns(payload["columns"])
    return commercial_loans(pool), options_of(body, named)


def job_validate(payload: dict[str, Any], settings: Settings) -> None:
    """Refuse a bad payload before the job exists (422 naming the field)."""
    try:
        loans, o = _from_payload(payload)
        if o.portfolio_loss is None:
            raise ValidationFailed.single(
                ("body", "payload", "body", "portfolio_loss"),
                "a portfolio-loss job needs portfolio_loss",
            )
        copula_portfolio(loans, o)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": ["body", "payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc
    except EngineError as exc:
        raise engine_error(exc, "columns", prefix=("body", "payload")) from exc
    except (KeyError, TypeError) as exc:
        raise ValidationFailed.single(
            ("body", "payload"), f"not a commercial analyze payload: {exc!s}"
        ) from exc


def job_plan(payload: dict[str, Any], settings: Settings) -> list[int]:
    """Paths per chunk: `jobs_mc_chunks` contiguous ranges of the copula paths."""
    n_paths = int(payload["body"]["portfolio_loss"]["n_paths"])
    n_chunks = max(1, min(settings.jobs_mc_chunks, n_paths))
    return [chunk_paths(n_paths, n_chunks, k)[1] for k in range(n_chunks)]


def job_compute_chunk(
    payload: dict[str, Any], chunk_index: int, n_chunks: int, progress: Any
) -> bytes:
    """Simulate chunk `chunk_index`'s paths (per-path streams: any split gives the same losses)."""
    loans, o = _from_payload(payload)
    assert o.portfolio_loss is not None
    port = copula_portfolio(loans, o)
    start, count = chunk_paths(o.portfolio_loss.n_paths, n_chunks, chunk_index)
    parts = []
    for lo in range(0, count, PROGRESS_PATHS):
        k = min(PROGRESS_PATHS, count - lo)
        losses, _ = simulate_losses(port, k, o.portfolio_loss.seed, path_start=start + lo)
        parts.append(losses)
        progress(lo + k, count)
    buf = io.BytesIO()
    np.save(buf, np.concatenate(parts) if parts else np.zeros(0), allow_pickle=False)
    return buf.getvalue()


def job_merge(payload: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Concatenate the chunks' losses in path order and run the analysis with them."""
    loans, o = _from_payload(payload)
    losses = np.concatenate([np.load(io.BytesIO(b), allow_pickle=False) for b in blobs])
    result = analyze(loans, o, losses=losses)
    result["warnings"] = list(payload.get("warnings", [])) + result["warnings"]
    return result


async def run_or_submit(
    session: AsyncSession,
    *,
    owner_id: str,
    body: CommercialAnalyzeIn,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any] | jobs.Submitted:
    """The analyze run path: answer now, or (a copula run over COMMERCIAL_SYNC_MAX_DRAWS paths x
    loans, or `"async": true`) check it and queue a `commercial_portfolio_loss` job."""
    pool = await load_pool(session, owner_id=owner_id, ref=body.pool, settings=settings)
    form = next(k for k in ("loans", "columns", "pool_id") if getattr(body.pool, k) is not None)
    loans = await anyio.to_thread.run_sync(loans_of, pool, form)
    named = await resolve_named(session, owner_id=owner_id, body=body)
    options = options_of(body, named)
    as_job = body.portfolio_loss is not None and (
        body.async_ or draws(body, len(loans)) > settings.commercial_sync_max_draws
    )
    if as_job:  # a bad simulation is refused before a job exists
        await anyio.to_thread.run_sync(check_portfolio, loans, options, form)

    async def now() -> dict[str, Any]:
        result = await anyio.to_thread.run_sync(run, loans, options, form)
        result["warnings"] = io_balloon_warnings(body.pool) + result["warnings"]
        return result

    return await jobs.run_or_submit(
        session,
        as_job=as_job,
        run_now=now,
        owner_id=owner_id,
        kind=KIND,
        payload=lambda: job_payload(body, pool, named),
        request_id=request_id,
    )
