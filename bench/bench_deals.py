"""Benchmark: the deal waterfall and the CLO model against the issue-13 speed targets.

Run: NUMBA_NUM_THREADS=2 PYTHONPATH=. .venv/bin/python bench/bench_deals.py
The example CLO (app.assets.clo.example: 200 assets, 10 notes + equity, 22 steps, 9 coverage
tests, reinvestment for 48 months, 120 months). Medians of several runs after a warm-up (JIT
compile excluded), wall and process CPU time; each target has a reference measured in the same
run: the readable Python waterfall (`engine="reference"`, the kernel's twin) — for the Monte
Carlo timed on a subset of paths and scaled per path.

1. one deterministic CLO run (asset projection + waterfall): target <= 5 ms
2. 10,000 copula paths to tranche loss distributions: target <= 2 s
3. break-even CDR for all ten notes: target <= 0.5 s
"""

from __future__ import annotations

import os
import statistics
import time

import numba
import numpy as np

from app.assets.clo.example import example_request
from app.core.config import get_settings
from app.engine.deals.run import run_deal
from app.models.clo import CloAnalyzeRequest, CloTrancheAnalysisRequest
from app.services import clo, clo_simulation, clo_tranches

N_PATHS = 10_000
REF_PATHS = 100


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median wall s, median process CPU s, last result) of `repeat` calls."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    settings = get_settings()
    print(f"numba threads {numba.get_num_threads()}, load average {os.getloadavg()}")
    body = example_request(
        simulation={"n_paths": N_PATHS, "seed": 1, "correlation": 0.25, "recovery_std": 0.1}
    )
    req = CloAnalyzeRequest.model_validate(body)
    setup = clo.build_setup(req, settings)
    assert setup.deal is not None and setup.arrays is not None

    # 1. one deterministic run
    clo.run_at(setup, req, 0.02)
    w, c, _ = timed(lambda: clo.run_at(setup, req, 0.02), 50)
    coll = clo.collateral(setup, req, req.assumptions.cpr, 0.02)
    wr, cr, _ = timed(
        lambda: run_deal(setup.deal, coll, arrays=setup.arrays, engine="reference"), 5
    )
    wk_only, _, _ = timed(lambda: run_deal(setup.deal, coll, arrays=setup.arrays), 50)
    print(
        f"1. one CLO run: {w * 1e3:.2f} ms wall ({c * 1e3:.2f} ms CPU); waterfall alone "
        f"{wk_only * 1e3:.3f} ms vs reference waterfall {wr * 1e3:.1f} ms: "
        f"{wr / wk_only:.0f}x  [target <= 5 ms]"
    )

    # 2. 10,000 copula paths
    clo_simulation.simulate(setup, req, settings)
    w, c, out = timed(lambda: clo_simulation.simulate(setup, req, settings), 3)
    inp = clo_simulation.mc_inputs(setup, req)
    t0 = time.perf_counter()
    from app.engine._kernels.collateral_nb import collateral_paths_reference
    from app.engine.deals.copula import simulate_block
    from app.engine.deals.schema import CollateralFlows

    tau, rec = simulate_block(inp.model, 1, 0, REF_PATHS)
    pi, pp, pl, pb = collateral_paths_reference(
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
    )
    for p in range(REF_PATHS):
        hc = inp.haircut - inp.ccc_fraction * (inp.tot_bal - pb[p])
        run_deal(
            setup.deal,
            CollateralFlows(inp.coll_balance, pi[p], pp[p], pl[p], hc),
            arrays=setup.arrays,
            engine="reference",
        )
    ref = (time.perf_counter() - t0) / REF_PATHS * N_PATHS
    el = {
        k: round(v["expected_loss"], 5) for k, v in out["tranches"].items() if "expected_loss" in v
    }
    print(
        f"2. {N_PATHS:,} copula paths: {w:.3f} s wall ({c:.3f} s CPU) vs reference "
        f"(NumPy collateral + Python waterfall, {REF_PATHS} paths scaled) {ref:.1f} s: "
        f"{ref / w:.0f}x  [target <= 2 s]; EL {el}"
    )

    # 3. break-even CDR for all tranches
    treq = CloTrancheAnalysisRequest.model_validate({**example_request(), "prices": {}})
    tset = clo.build_setup(treq, settings, need_deal=True)
    debt = list(tset.deal.debt) if tset.deal else []
    fn = lambda: clo_tranches.breakeven_cdrs(  # noqa: E731
        lambda cdr: clo_tranches.tranche_losses(clo.run_at(tset, treq, cdr)), debt, 1.0
    )
    fn()
    w, c, be = timed(fn, 5)
    calls = []

    def ref_losses(cdr: float) -> np.ndarray:
        calls.append(cdr)
        cf = clo.collateral(tset, treq, treq.assumptions.cpr, cdr)
        return clo_tranches.tranche_losses(
            run_deal(tset.deal, cf, arrays=tset.arrays, engine="reference")
        )

    t0 = time.perf_counter()
    clo_tranches.breakeven_cdrs(ref_losses, debt, 1.0)
    ref = time.perf_counter() - t0
    print(
        f"3. break-even CDR, {len(debt)} notes ({len(calls)} engine runs): {w:.3f} s wall "
        f"({c:.3f} s CPU) vs reference waterfall {ref:.2f} s: {ref / w:.0f}x  [target <= 0.5 s]; "
        + ", ".join(
            f"{tset.deal.tranches[j].name} {v[0]:.4f}" for j, v in be.items() if v[0] is not None
        )
    )
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
