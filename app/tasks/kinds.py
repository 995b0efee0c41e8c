"""The kinds of job: how each one is split into chunks, computed and merged.

A chunked kind (Monte Carlo) is a pure function of (payload, chunk index, chunk count) whose
chunk results are stored and merged in chunk order, so any number of workers gives the same
numbers as one. A whole kind (forecast) runs in one unit and stores its result in the same
transaction that marks the job succeeded, so a repeated delivery cannot store it twice.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.jobs import Job
from app.services import commercial

ProgressFn = Callable[[int, int], None]


class UnknownJobKind(ValueError):
    pass


# --- Monte Carlo ---------------------------------------------------------------------------
def _mc_hooks(
    payload: dict[str, Any],
) -> tuple[Callable[[dict[str, Any]], Any], Callable[[Any, Any], dict[str, Any]]]:
    """(payload -> MonteCarloRequest, (request, result) -> JSON) for a payload: the Monte Carlo
    route's body (its service's `build_request` / `result_json`), or the engine-level form
    `{"format": "engine", ...}` of `engine_request` (used by clients of the engine directly)."""
    if payload.get("format") == "engine":
        return engine_request, engine_result_json
    module = importlib.import_module("app.services.montecarlo")
    return module.build_request, module.result_json


def engine_request(payload: dict[str, Any]) -> Any:
    """A MonteCarloRequest from the engine-level payload: `pool` columns of RepLines
    (balance, note_rate, net_rate, remaining_term, age), `curve` {"flat": rate} (continuously
    compounded, decimal), `rate_model` {"type": "hull_white", "mean_reversion", "volatility"},
    and the request's scalar fields (n_paths, seed, block_size, n_months, price, antithetic,
    percentiles, default_cdr, severity, recovery_lag_months, duration_bump)."""
    from app.engine.montecarlo import MonteCarloRequest, RepLines
    from app.engine.rates.curve import FlatCurve
    from app.engine.rates.models import HullWhite

    model = dict(payload.get("rate_model") or {})
    model.pop("type", None)
    scalars: dict[str, Any] = {
        k: payload[k]
        for k in (
            "n_paths", "seed", "block_size", "n_months", "price", "antithetic",
            "default_cdr", "severity", "recovery_lag_months", "duration_bump", "histogram_bins",
        )
        if k in payload
    }
    if "percentiles" in payload:
        scalars["percentiles"] = tuple(float(q) for q in payload["percentiles"])
    return MonteCarloRequest(
        pool=RepLines.from_columns(**payload["pool"]),
        curve=FlatCurve(float(payload["curve"]["flat"])),
        rate_model=HullWhite(**model),
        **scalars,
    )


def _num(x: Any) -> float | None:
    f = float(x)
    return f if np.isfinite(f) else None


def _dist_json(d: Any) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "mean": _num(d.mean),
        "standard_error": _num(d.standard_error),
        "std": _num(d.std),
        "percentiles": {f"{q:g}": _num(v) for q, v in d.percentiles.items()},
        "histogram": {
            "counts": [int(c) for c in d.histogram_counts],
            "edges": [_num(e) for e in d.histogram_edges],
        },
    }


def engine_result_json(req: Any, res: Any) -> dict[str, Any]:
    """A MonteCarloResult as JSON (floats exact: JSON round-trips float64; NaN/inf -> null)."""
    return {
        "n_paths": res.n_paths,
        "n_months": res.n_months,
        "pv": _dist_json(res.pv),
        "wal": _dist_json(res.wal),
        "loss": _dist_json(res.loss),
        "yield": _dist_json(res.yield_),
        "oas": None if res.oas is None else _num(res.oas),
        "z_spread": None if res.z_spread is None else _num(res.z_spread),
        "option_cost": None if res.option_cost is None else _num(res.option_cost),
        "effective_duration": None
        if res.effective_duration is None
        else _num(res.effective_duration),
        "effective_convexity": None
        if res.effective_convexity is None
        else _num(res.effective_convexity),
        "mean_discounted_cashflow": [_num(v) for v in res.mean_discounted_cashflow],
    }


def mc_request(payload: dict[str, Any]) -> Any:
    """The engine request of a Monte Carlo job payload (the body of the Monte Carlo route)."""
    build, _ = _mc_hooks(payload)
    return build(payload)


def mc_plan(payload: dict[str, Any], settings: Settings) -> list[int]:
    """Paths per chunk: `jobs_mc_chunks` contiguous block ranges (fewer if there are fewer blocks),
    or the payload's own `n_chunks` when it gives one."""
    from app.engine.montecarlo import chunk_blocks

    req = mc_request(payload)
    req.validate()
    wanted = int(payload.get("n_chunks") or settings.jobs_mc_chunks)
    n_chunks = max(1, min(wanted, req.n_blocks))
    totals = []
    for k in range(n_chunks):
        blocks = chunk_blocks(req.n_blocks, k, n_chunks)
        totals.append(
            sum(min(req.block_size, req.n_paths - b * req.block_size) for b in blocks)
        )
    return totals


def encode_chunk(res: Any) -> bytes:
    """A ChunkResult as an .npz blob (exact float64 arrays, no pickle)."""
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(
            [res.chunk_index, res.n_chunks, res.block_start, res.block_stop], dtype=np.int64
        ),
        "pv": res.pv,
        "wal": res.wal,
        "loss": res.loss,
        "yld": res.yld,
        "cfd_base": res.cfd_base,
    }
    if res.cfd_up is not None:
        arrays["cfd_up"] = res.cfd_up
        arrays["cfd_down"] = res.cfd_down
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def decode_chunk(data: bytes) -> Any:
    from app.engine.montecarlo import ChunkResult

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = z["meta"]
        return ChunkResult(
            chunk_index=int(meta[0]),
            n_chunks=int(meta[1]),
            block_start=int(meta[2]),
            block_stop=int(meta[3]),
            pv=z["pv"],
            wal=z["wal"],
            loss=z["loss"],
            yld=z["yld"],
            cfd_base=z["cfd_base"],
            cfd_up=z["cfd_up"] if "cfd_up" in z.files else None,
            cfd_down=z["cfd_down"] if "cfd_down" in z.files else None,
        )


def mc_compute_chunk(
    payload: dict[str, Any], chunk_index: int, n_chunks: int, progress: ProgressFn
) -> bytes:
    """Run one chunk (pure CPU; called in a worker thread or pool process)."""
    from app.engine.montecarlo import run_chunk

    return encode_chunk(run_chunk(mc_request(payload), chunk_index, n_chunks, progress))


def mc_merge(payload: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Merge the stored chunks in block order and shape the result as the route does."""
    from app.engine.montecarlo import merge_chunks

    _, to_json = _mc_hooks(payload)
    req = mc_request(payload)
    result = merge_chunks(req, [decode_chunk(b) for b in blobs])
    return to_json(req, result)


# --- forecast ------------------------------------------------------------------------------
async def forecast_run_whole(
    session: AsyncSession, job: Job, settings: Settings
) -> tuple[dict[str, Any] | None, str | None]:
    """Run and store the forecast in the caller's transaction; the forecast id is the result."""
    from app.models.forecasts import ForecastRequest
    from app.services import forecasts

    request = ForecastRequest.model_validate(job.payload)
    run, _ = await forecasts.create_forecast(
        session,
        owner_id=job.owner_id,
        request=request,
        settings=settings,
        request_id=job.request_id,
    )
    return None, run.id


def mc_validate(payload: dict[str, Any], settings: Settings) -> None:
    """Refuse a bad Monte Carlo payload before a job is created (422 naming the field)."""
    from app.core.errors import ValidationFailed
    from app.engine.errors import EngineError

    try:
        mc_plan(payload, settings)
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "payload")) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed.single(
            ("body", "payload"), f"not a valid Monte Carlo request: {exc!s}"
        ) from exc


def forecast_validate(payload: dict[str, Any], settings: Settings) -> None:
    """Parse the forecast request and check its size limits (422 naming the field)."""
    from pydantic import ValidationError

    from app.core.errors import ValidationFailed
    from app.models.forecasts import ForecastRequest
    from app.services import forecasts

    try:
        request = ForecastRequest.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": ["body", "payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc
    forecasts.check_limits(request, settings)


@dataclass(frozen=True)
class JobKind:
    """How a kind of job runs. Chunked kinds give plan/compute/merge, whole kinds run_whole."""

    name: str
    unit: str  # what progress counts
    result_path: str | None  # result URL template, {id} = result_id (None: the job's result)
    plan: Callable[[dict[str, Any], Settings], list[int]] | None = None
    compute_chunk: Callable[[dict[str, Any], int, int, ProgressFn], bytes] | None = None
    merge: Callable[[dict[str, Any], list[bytes]], dict[str, Any]] | None = None
    run_whole: Any = None
    validate: Callable[[dict[str, Any], Settings], None] | None = None

    @property
    def chunked(self) -> bool:
        return self.plan is not None


KINDS: dict[str, JobKind] = {
    "monte_carlo": JobKind(
        "monte_carlo",
        unit="paths",
        result_path=None,
        plan=mc_plan,
        compute_chunk=mc_compute_chunk,
        merge=mc_merge,
        validate=mc_validate,
    ),
    "commercial_portfolio_loss": JobKind("commercial_portfolio_loss", unit="paths", result_path=None, plan=commercial.job_plan, compute_chunk=commercial.job_compute_chunk, merge=commercial.job_merge, validate=commercial.job_validate),
    "forecast": JobKind(
        "forecast",
        unit="runs",
        result_path="/api/v1/forecasts/{id}",
        run_whole=forecast_run_whole,
        validate=forecast_validate,
    ),
}


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError as exc:
        raise UnknownJobKind(f"unknown job kind {name!r}") from exc
