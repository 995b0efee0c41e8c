"""The fused batch kernel (app/engine/_kernels/scheduled_batch_nb.py) agrees with its NumPy reference,
and its columns satisfy the balance identity of the SIFMA rules on their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.engine._kernels.scheduled_batch_nb import (
    COLUMNS,
    combine_nb,
    combine_ref,
    loss_cap_nb,
    loss_cap_ref,
    rates_ref,
)


def _inputs(seed: int, groups: int = 7, n: int = 40) -> Any:
    """Rate tables with per-group offsets (curve speeds) and cuts (the SDA tail), scheduled
    aggregates falling to zero at each group's maturity, and a loss cap with column 0 zero."""
    rng = np.random.default_rng(seed)
    smm = (
        rng.uniform(0.0, 0.3, n + 10),
        rng.integers(0, 10, groups),
        np.full(groups, n, dtype=np.int64),
    )
    mdr_table = rng.uniform(0.0, 0.05, n + 10)
    mdr_table[3] = 1.5  # capped at 1 (and the prepayment rate at 1 − d)
    mdr = (mdr_table, rng.integers(0, 10, groups), rng.integers(n // 2, n + 1, groups))
    b = np.cumprod(rng.uniform(0.9, 1.0, (groups, n + 1)), axis=1) * 1e5
    for g, m in enumerate(rng.integers(n // 2, n + 1, groups)):
        b[g, m:] = 0.0
    b_prev, b_now = b[:, :-1].copy(), b[:, 1:].copy()
    net = rng.uniform(0.03, 0.08, (groups, 1)) / 12.0
    bn_prev, bs_prev = b_prev * net, b_prev * 0.0025 / 12.0
    ml = np.zeros((groups, n - 5))  # narrower than the horizon: zero beyond
    ml[:, 1:] = 0.4 * b_prev[:, : n - 6] * rng.uniform(0.5, 1.0, (groups, n - 6))
    return (*smm, *mdr, b_prev, b_now, bn_prev, bs_prev, ml)


@pytest.mark.parametrize("advancing", [True, False])
@pytest.mark.parametrize("lag", [0, 1, 6, 60])
def test_kernel_equals_numpy_reference(advancing: bool, lag: int) -> None:
    args = _inputs(lag + 7 * advancing)
    n = args[6].shape[1]
    want = combine_ref(*args, lag, advancing, 0.4)  # type: ignore[call-arg]
    got = np.zeros((len(COLUMNS), n))
    combine_nb(*args, lag, advancing, 0.4, got)  # type: ignore[call-arg]
    for k, name in enumerate(COLUMNS):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-9, err_msg=name)


def test_rates_read_from_tables() -> None:
    table = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    got = rates_ref(table, np.array([0, 2]), np.array([3, 1]), 3)
    np.testing.assert_array_equal(got, [[0.1, 0.2, 0.3], [0.3, 0.0, 0.0]])


@pytest.mark.parametrize("advancing", [True, False])
def test_balances_roll_forward(advancing: bool) -> None:
    """PERF + FCL at the end of a period = at its start − principal paid − liquidated balance
    (DOMAIN.md §3), period by period, from the kernel's columns alone."""
    args = _inputs(3)
    b_prev = args[6]
    lag = 4
    out = np.zeros((len(COLUMNS), b_prev.shape[1]))
    combine_nb(*args, lag, advancing, 0.4, out)  # type: ignore[call-arg]
    c = dict(zip(COLUMNS, out, strict=True))
    held = c["ending_balance"] + c["foreclosure_balance"]
    start = np.concatenate([[b_prev[:, 0].sum()], held[:-1]])
    paid = (
        c["scheduled_principal"]
        + c["prepayment"]
        + c["defaulted_amortization"]
        + c["liquidated_balance"]
    )
    np.testing.assert_allclose(held, start - paid, rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("lag", [0, 3, 50])
def test_loss_cap_kernel_equals_numpy_reference(lag: int) -> None:
    rng = np.random.default_rng(lag)
    n, width, n_groups = 25, 31, 4
    paths = np.cumprod(rng.uniform(0.85, 1.0, (n, width)), axis=1) * 1e4
    paths[rng.integers(0, n, 5), -3:] = 0.0
    group = rng.integers(0, n_groups, n)
    want = loss_cap_ref(paths, group, n_groups, 0.35, lag)
    got = np.zeros((n_groups, width + lag + 1))
    loss_cap_nb(paths, group, 0.35, lag, got)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0.0)
    # by hand for one group and period: min(severity·b(i−L−1), b(i−1)) summed over its loans
    i = lag + 5
    members = group == 1
    if i <= width:
        hand = np.minimum(0.35 * paths[members, i - lag - 1], paths[members, i - 1]).sum()
        assert got[1, i] == pytest.approx(hand, rel=1e-13)
    else:  # liquidation after the last scheduled balance: nothing left to lose
        assert got[:, width + 1 :].sum() == 0.0
