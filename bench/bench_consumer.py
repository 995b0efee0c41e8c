"""Benchmark: consumer-credit cohort estimation over a 10M-row panel (1M loans x 10 months) in
memory, against plain pandas on the same panel in the same run; pipeline + cash flows for 360
months against the NumPy reference.

Run: PYTHONPATH=. .venv/bin/python bench/bench_consumer.py [--loans N] [--months M] [--repeat R]
Medians of R runs after one warm-up call (JIT compile excluded). Peak RSS is the process's
high-water mark (ru_maxrss) measured before the pandas reference runs, then after it.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import pyarrow as pa

from app.assets.consumer_credit.panel import Panel
from app.assets.consumer_credit.pipeline import cashflows, project, start_vector
from app.assets.consumer_credit.roll_rates import estimate
from app.assets.consumer_credit.states import DEFAULT_STATES, StateSpace
from app.engine.markov import Interval, cohort_matrix, interval, panel_counts, sorted_and_checked
from app.engine.pool import LoanPool
from app.engine.types import Assumptions

P = np.array(
    [
        [0.90, 0.05, 0.00, 0.00, 0.00, 0.01, 0.04],
        [0.40, 0.30, 0.30, 0.00, 0.00, 0.00, 0.00],
        [0.15, 0.10, 0.25, 0.50, 0.00, 0.00, 0.00],
        [0.05, 0.00, 0.10, 0.25, 0.60, 0.00, 0.00],
        [0.02, 0.00, 0.00, 0.08, 0.30, 0.60, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00],
    ]
)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up (JIT, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def simulate(
    n_loans: int, months: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer-coded panel sorted by (loan, period): loan, period, state code (int8), balance."""
    rng = np.random.default_rng(seed)
    cum = np.cumsum(P, axis=1)
    st = np.zeros((n_loans, months), dtype=np.int8)
    s = np.zeros(n_loans, dtype=np.int64)
    for t in range(1, months):  # over months (10), vectorised over loans
        s = np.minimum((rng.random(n_loans)[:, None] > cum[s]).sum(axis=1), 6)
        st[:, t] = s
    loan = np.repeat(np.arange(n_loans, dtype=np.int64), months)
    period = np.tile(np.arange(months, dtype=np.int64), n_loans)
    bal = np.repeat(rng.uniform(1_000, 20_000, n_loans), months)
    return loan, period, st.ravel(), bal


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    loan64, period64, state8, bal = simulate(a.loans, a.months)
    # integer-coded and compact, as a panel is held for estimation: int32 loan codes, int16
    # month indices, int8 state codes (the kernels keep the dtypes)
    loan, period, state = loan64.astype(np.int32), period64.astype(np.int16), state8
    n = loan.size
    space = StateSpace.build()
    absorbing = space.absorbing
    seg = np.zeros(n, dtype=np.int8)
    print(
        f"panel: {a.loans:,} loans x {a.months} months = {n:,} rows; RSS after building it {rss_mb():,.0f} MB"
    )

    def estimator() -> np.ndarray:
        order, problems = sorted_and_checked(loan, period, state, absorbing)
        assert order is None and not problems
        c = panel_counts(loan, period, state, None, seg, absorbing, 7, 1)
        p, totals = cohort_matrix(c.counts[0], absorbing)
        interval(p, c.n_obs[0].sum(axis=1)[:, None].astype(float), Interval.WILSON)
        return c.counts[0]

    t_est, counts = timed(estimator, a.repeat)

    def counts_only() -> np.ndarray:
        return panel_counts(loan, period, state, None, seg, absorbing, 7, 1).counts[0]

    t_kernel, _ = timed(counts_only, a.repeat)
    t_twin, twin = timed(
        lambda: panel_counts(
            loan, period, state, None, seg, absorbing, 7, 1, engine="reference"
        ).counts[0],
        max(1, a.repeat // 2),
    )
    assert np.array_equal(twin, counts)

    # the full path from columns: Arrow-coded loan ids and dictionary-coded state names
    cols = {
        "loan_id": loan64,
        "period": period64,
        "state": pa.DictionaryArray.from_arrays(pa.array(state8), pa.array(list(DEFAULT_STATES))),
        "balance": bal,
    }

    def from_columns() -> np.ndarray:
        return estimate(Panel.from_columns(cols, space)).overall.counts

    t_full, full = timed(from_columns, max(1, a.repeat // 2))
    assert np.array_equal(full, counts)
    rss_numpy = rss_mb()

    import pandas as pd

    df = pd.DataFrame({"loan_id": loan64, "period": period64, "state": state8})

    def pandas_crosstab() -> np.ndarray:
        nxt = df.groupby("loan_id", sort=False)["state"].shift(-1)
        ok = nxt.notna()
        return pd.crosstab(df["state"][ok], nxt[ok].astype(np.int8)).to_numpy()

    def pandas_groupby() -> np.ndarray:
        nxt = df.groupby("loan_id", sort=False)["state"].shift(-1)
        ok = nxt.notna()
        return df.assign(to=nxt)[ok].groupby(["state", "to"]).size().to_numpy()

    t_ct, ct = timed(pandas_crosstab, max(1, a.repeat // 2))
    t_gb, _ = timed(pandas_groupby, max(1, a.repeat // 2))
    seen = counts.sum(axis=1) > 0
    assert np.array_equal(np.asarray(ct).sum(), counts.sum()) and seen.any()
    rss_all = rss_mb()

    # pipeline + cash flows, 360 months
    v0 = start_vector(space, {"current": 9e8, "dpd30": 6e7, "dpd60": 4e7})
    pool = LoanPool.from_columns({"balance": [1e9], "rate": [0.12], "original_term_months": [360]})
    asm = Assumptions(severity=0.85, recovery_lag_months=4)

    t_bal, _ = timed(lambda: panel_counts(loan, period, state, bal, seg, absorbing, 7, 1), a.repeat)

    def pipe_cash() -> object:
        res = project(space, P, v0, 360, rate=0.12, term_months=360)
        return cashflows(pool, res, asm)

    def pipe_cash_ref() -> object:
        res = project(space, P, v0, 360, rate=0.12, term_months=360, engine="reference")
        from app.engine.projection import project_with_rates

        shape = (1, 360)
        return project_with_rates(
            pool,
            np.broadcast_to(res.smm, shape),
            np.broadcast_to(res.mdr, shape),
            asm,
            engine="reference",
        )

    t_pipe, _ = timed(pipe_cash, max(a.repeat, 20))
    t_pipe_ref, _ = timed(pipe_cash_ref, max(a.repeat, 20))

    print(
        f"cohort estimation (sortedness check, panel checks, Numba count pass, matrix, Wilson CI): "
        f"{t_est * 1e3:,.0f} ms"
    )
    print(
        f"  Numba count pass alone: {t_kernel * 1e3:,.0f} ms; NumPy bincount twin: {t_twin * 1e3:,.0f} ms"
    )
    print(f"  balance-weighted count pass (float sums, Σw², exposure): {t_bal * 1e3:,.0f} ms")
    print(
        f"  from columns (Arrow coding of 1M loan ids + state names, validation, estimate): {t_full * 1e3:,.0f} ms"
    )
    print(f"pandas groupby.shift + crosstab: {t_ct * 1e3:,.0f} ms  -> ratio {t_ct / t_est:,.1f}x")
    print(
        f"pandas groupby.shift + groupby.size: {t_gb * 1e3:,.0f} ms  -> ratio {t_gb / t_est:,.1f}x"
    )
    print(f"peak RSS: {rss_numpy:,.0f} MB before pandas, {rss_all:,.0f} MB after")
    print(
        f"pipeline + cash flows, 360 months: {t_pipe * 1e3:.2f} ms; NumPy reference {t_pipe_ref * 1e3:.2f} ms "
        f"-> ratio {t_pipe_ref / t_pipe:,.1f}x"
    )


if __name__ == "__main__":
    main()
