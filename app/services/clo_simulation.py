"""The CLO default Monte Carlo: copula default paths → collateral flows → the deal's waterfall
on every path (Numba, both cores) → per-tranche loss distributions and the equity IRR.

Pure functions of the request, usable whole (`simulate`) or in chunks of blocks (the
`clo_monte_carlo` job kind: `mc_plan`, `mc_compute_chunk`, `mc_merge`, `mc_validate`); the
merged result equals the whole run for any chunking (blocks are seeded by their index).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.assets.clo.portfolio import project_assets
from app.core.config import Settings, get_settings
from app.core.errors import ValidationFailed
from app.engine._lazy import lazy_function
from app.engine.analytics.vectorised import irr_many
from app.engine.deals.copula import CopulaModel, block_paths, n_blocks, simulate_block
from app.engine.deals.schema import TrancheRole
from app.engine.errors import EngineError
from app.models.clo import CloAnalyzeRequest, SimulationIn
from app.services import clo, jobs

collateral_paths_nb = lazy_function("app.engine._kernels.collateral_nb", "collateral_paths_nb")
paths_nb = lazy_function("app.engine._kernels.waterfall_nb", "paths_nb")

LOSS_TOLERANCE = 1e-6  # a tranche "loses" when its loss exceeds this fraction of its balance


@dataclass(frozen=True)
class McInputs:
    """Per-asset no-default flows and pool totals the path kernel starts from."""

    a_int: np.ndarray
    a_prin: np.ndarray
    a_loss: np.ndarray
    a_start: np.ndarray
    a_bal: np.ndarray
    tot_int: np.ndarray
    tot_prin: np.ndarray
    tot_loss: np.ndarray
    tot_bal: np.ndarray
    haircut: np.ndarray
    ccc_fraction: float
    coll_balance: float
    model: CopulaModel


def mc_inputs(setup: clo.CloSetup, req: CloAnalyzeRequest) -> McInputs:
    """No-default flows at the request's CPR (defaults come from the copula), with the call
    sale per asset; totals add the start-defaulted assets' workout and the OC haircuts."""
    assert req.simulation is not None
    p = setup.portfolio
    sim = req.simulation
    flows = project_assets(p, setup.rates, req.assumptions.cpr, 0.0)
    n = setup.n_periods
    a_int, a_prin, a_bal = flows.interest.copy(), flows.principal.copy(), flows.balance.copy()
    a_loss = np.zeros_like(a_int)
    a_start = np.concatenate([np.where(p.performing, p.par, 0.0)[:, None], a_bal[:, :-1]], axis=1)
    price = req.call.price if req.call is not None else 1.0
    if setup.call_period is not None and setup.call_period <= n:
        c = setup.call_period - 1
        left = a_bal[:, c].copy()
        a_prin[:, c] += left * min(price, 1.0)
        a_loss[:, c] += left * max(0.0, 1.0 - price)
        a_int[:, c] += left * max(0.0, price - 1.0)
        a_bal[:, c] = 0.0
    base = clo.collateral(setup, req, req.assumptions.cpr, 0.0)
    perf_bal0 = float(p.par[p.performing].sum())
    ccc = clo.ccc_excess_haircut(p, req.assumptions.caa_limit) / perf_bal0
    sectors = None
    if sim.sector_correlation is not None:
        names = {s: k for k, s in enumerate(dict.fromkeys(p.industry))}
        sectors = np.array([names[s] for s in p.industry], dtype=np.int64)
    model = CopulaModel(
        pd=np.where(p.performing, p.pd, 0.0),
        maturity=p.maturity_months.astype(np.float64),
        recovery_mean=p.recovery_rate,
        horizon=n,
        correlation=sim.correlation,
        sector=sectors,
        sector_correlation=sim.sector_correlation,
        recovery_std=sim.recovery_std,
    )
    assert base.oc_haircut is not None
    return McInputs(
        a_int,
        a_prin,
        a_loss,
        a_start,
        a_bal,
        base.interest,
        base.principal,
        base.losses,
        a_bal.sum(axis=0),
        base.oc_haircut,
        ccc,
        base.balance,
        model,
    )


def block_size(sim: SimulationIn, settings: Settings) -> int:
    return sim.block_size or settings.clo_mc_block_size


def work(setup: clo.CloSetup, req: CloAnalyzeRequest) -> int:
    """Paths × assets × periods: the size that decides between a direct answer and a job."""
    assert req.simulation is not None
    return req.simulation.n_paths * setup.portfolio.n * setup.n_periods


def check(setup: clo.CloSetup, req: CloAnalyzeRequest, settings: Settings) -> None:
    assert req.simulation is not None
    if req.simulation.n_paths > settings.clo_mc_max_paths:
        raise ValidationFailed.single(
            ("body", "simulation", "n_paths"), f"at most {settings.clo_mc_max_paths} paths"
        )
    if setup.deal is None:
        raise ValidationFailed.single(("body", "deal"), "the simulation runs the deal: give it")
    try:
        mc_inputs(setup, req).model.validate()
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "simulation")) from exc


def run_blocks(
    setup: clo.CloSetup,
    req: CloAnalyzeRequest,
    inp: McInputs,
    blocks: range,
    bsize: int,
    progress: Any = None,
) -> dict[str, np.ndarray]:
    """Per-path results of the given blocks, in block order: tranche losses (P, tranches),
    equity cash (P, T) summed to IRR later, collateral loss (P,), lowest test values (P, k)."""
    assert req.simulation is not None and setup.deal is not None and setup.arrays is not None
    sim = req.simulation
    arr = setup.arrays
    n_t = setup.n_periods
    parts: dict[str, list[np.ndarray]] = {"loss": [], "equity": [], "coll_loss": [], "cushion": []}
    eq = [j for j, t in enumerate(setup.deal.tranches) if t.role is TrancheRole.EQUITY]
    total = sum(block_paths(sim.n_paths, bsize, b) for b in blocks)
    done = 0
    for b in blocks:
        n = block_paths(sim.n_paths, bsize, b)
        tau, rec = simulate_block(inp.model, sim.seed, b, n)
        shape = (n, n_t)
        p_int, p_prin, p_loss, p_bal = (np.empty(shape) for _ in range(4))
        collateral_paths_nb(
            inp.a_int,
            inp.a_prin,
            inp.a_loss,
            inp.a_start,
            inp.a_bal,
            inp.tot_int,
            inp.tot_prin,
            inp.tot_loss,
            inp.tot_bal,
            tau,
            rec,
            p_int,
            p_prin,
            p_loss,
            p_bal,
        )
        haircut = inp.haircut[None, :] - inp.ccc_fraction * (inp.tot_bal[None, :] - p_bal)
        loss = np.empty((n, arr.tr_bal0.size))
        cash = np.empty((n, n_t))
        cushion = np.empty((n, arr.test_trig.size))
        paths_nb(
            p_int,
            p_prin,
            p_loss,
            inp.coll_balance,
            haircut,
            *arr.args(),  # type: ignore[call-arg]
            eq[0] if eq else -1,
            loss,
            cash,
            cushion,
        )
        parts["loss"].append(loss)
        parts["equity"].append(cash)
        parts["coll_loss"].append(p_loss.sum(axis=1))
        parts["cushion"].append(cushion)
        done += n
        if progress is not None:
            progress(done, total)
    return {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}


def _dist(x: np.ndarray, percentiles: list[float]) -> dict[str, Any]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "std": None, "standard_error": None, "percentiles": {}, "n": 0}
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return {
        "mean": float(x.mean()),
        "std": std,
        "standard_error": std / np.sqrt(x.size),
        "percentiles": {f"{q:g}": float(np.quantile(x, q)) for q in percentiles},
        "n": int(x.size),
    }


def summarize(
    setup: clo.CloSetup, req: CloAnalyzeRequest, res: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Loss distributions (fractions of each tranche's balance), EL, P(loss), attachment and
    detachment (fractions of collateral par), and the equity IRR distribution (annual,
    monthly compounded: 12 × the monthly IRR of −equity notional then the equity's cash)."""
    assert req.simulation is not None and setup.deal is not None
    sim = req.simulation
    deal = setup.deal
    par = float(setup.portfolio.par.sum())
    out: dict[str, Any] = {"n_paths": sim.n_paths, "seed": sim.seed, "tranches": {}}
    senior = 0.0
    debt_total = sum(t.balance for t in deal.tranches if t.role is TrancheRole.DEBT)
    warnings: list[str] = []
    for j, t in enumerate(deal.tranches):
        if t.role is TrancheRole.EQUITY:
            notional = max(par - debt_total, 0.0)
            flows = np.concatenate(
                [np.full((res["equity"].shape[0], 1), -notional), res["equity"]], axis=1
            )
            irr = (
                irr_many(flows, errors="nan") * 12.0
                if notional > 0
                else np.full(flows.shape[0], np.nan)
            )
            bad = int(np.count_nonzero(~np.isfinite(irr)))
            if bad:
                warnings.append(
                    f"equity IRR not computable on {bad} path(s) (no sign change); left out"
                )
            out["tranches"][t.name] = {
                "role": "equity",
                "attachment": 0.0,
                "detachment": notional / par if par else None,
                "irr": _dist(irr, sim.percentiles),
            }
            continue
        frac = res["loss"][:, j] / t.balance if t.balance > 0 else np.zeros(res["loss"].shape[0])
        out["tranches"][t.name] = {
            "role": "debt",
            "attachment": max(0.0, (par - senior - t.balance) / par),
            "detachment": max(0.0, (par - senior) / par),
            "expected_loss": float(frac.mean()),
            "probability_of_loss": float(np.mean(frac > LOSS_TOLERANCE)),
            "loss": _dist(frac, sim.percentiles),
            "histogram": _histogram(frac),
        }
        senior += t.balance
    out["collateral_loss"] = _dist(res["coll_loss"] / par, sim.percentiles)
    out["tests"] = {
        tst.name: {"lowest_value": _dist(res["cushion"][:, k], sim.percentiles)}
        for k, tst in enumerate(deal.tests)
    }
    out["warnings"] = warnings
    return out


def _histogram(frac: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    counts, edges = np.histogram(frac, bins=bins, range=(0.0, 1.0))
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def simulate(setup: clo.CloSetup, req: CloAnalyzeRequest, settings: Settings) -> dict[str, Any]:
    assert req.simulation is not None
    check(setup, req, settings)
    bsize = block_size(req.simulation, settings)
    inp = mc_inputs(setup, req)
    res = run_blocks(setup, req, inp, range(n_blocks(req.simulation.n_paths, bsize)), bsize)
    return summarize(setup, req, res)


def analyze_with_simulation(req: CloAnalyzeRequest, settings: Settings) -> dict[str, Any]:
    out = clo.analyze(req, settings)
    if req.simulation is not None:
        setup = clo.build_setup(req, settings)
        sim = simulate(setup, req, settings)
        out["warnings"] += sim.pop("warnings")
        out["simulation"] = sim
    return out


# ---- the clo_monte_carlo job kind ------------------------------------------------------------
def _request(payload: dict[str, Any]) -> CloAnalyzeRequest:
    """The analyze body of a job payload (`n_chunks`, a job option, is not part of it)."""
    return CloAnalyzeRequest.model_validate({k: v for k, v in payload.items() if k != "n_chunks"})


def mc_validate(payload: dict[str, Any], settings: Settings) -> None:
    from pydantic import ValidationError

    try:
        req = _request(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {"loc": ["body", "payload", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
        ) from exc
    if req.simulation is None:
        raise ValidationFailed.single(("body", "payload", "simulation"), "is required")
    check(clo.build_setup(req, settings), req, settings)


def mc_plan(payload: dict[str, Any], settings: Settings) -> list[int]:
    """Paths per chunk: `jobs_mc_chunks` contiguous ranges of blocks (fewer if fewer blocks)."""
    req = _request(payload)
    assert req.simulation is not None
    bsize = block_size(req.simulation, settings)
    nb = n_blocks(req.simulation.n_paths, bsize)
    k = max(1, min(int(payload.get("n_chunks") or settings.jobs_mc_chunks), nb))
    return [
        sum(block_paths(req.simulation.n_paths, bsize, b) for b in _chunk(nb, i, k))
        for i in range(k)
    ]


def _chunk(nb: int, i: int, k: int) -> range:
    return range(i * nb // k, (i + 1) * nb // k)


def mc_compute_chunk(
    payload: dict[str, Any], chunk_index: int, n_chunks: int, progress: Any
) -> bytes:
    settings = get_settings()
    req = _request(payload)
    assert req.simulation is not None
    setup = clo.build_setup(req, settings)
    bsize = block_size(req.simulation, settings)
    blocks = _chunk(n_blocks(req.simulation.n_paths, bsize), chunk_index, n_chunks)
    res = run_blocks(setup, req, mc_inputs(setup, req), blocks, bsize, progress)
    buf = io.BytesIO()
    np.savez(buf, **res)  # type: ignore[arg-type]
    return buf.getvalue()


def mc_merge(payload: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Concatenate the chunks in block order and summarise exactly as a whole run does."""
    settings = get_settings()
    req = _request(payload)
    setup = clo.build_setup(req, settings)
    parts = []
    for b in blobs:
        with np.load(io.BytesIO(b), allow_pickle=False) as z:
            parts.append({k: z[k] for k in z.files})
    res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return summarize(setup, req, res)


async def run_or_submit(
    session: AsyncSession,
    *,
    owner_id: str,
    body: CloAnalyzeRequest,
    settings: Settings,
    request_id: str | None,
) -> dict[str, Any] | jobs.Submitted:
    """The analyze run path: answer now, or (a simulation over CLO_MC_SYNC_MAX_WORK paths x
    assets x periods, or `"async": true`) check it and queue a `clo_monte_carlo` job."""
    as_job = False
    if body.simulation is not None and body.deal is not None:
        setup = clo.build_setup(body, settings)
        check(setup, body, settings)  # a bad simulation is refused before a job exists
        as_job = body.async_ or work(setup, body) > settings.clo_mc_sync_max_work

    async def now() -> dict[str, Any]:
        return await anyio.to_thread.run_sync(analyze_with_simulation, body, settings)

    return await jobs.run_or_submit(
        session,
        as_job=as_job,
        run_now=now,
        owner_id=owner_id,
        kind="clo_monte_carlo",
        payload=lambda: body.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude={"async_"}
        ),
        request_id=request_id,
    )
