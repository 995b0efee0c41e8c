"""The lane-grouped kernels agree bit for bit with their one-path forms."""

from __future__ import annotations

import numpy as np

from app.engine._kernels.path_projection_nb import _yields_nb, mortgage_yield_nb


def test_lane_yields_equal_scalar_solver_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    n, w = 120, 7
    cf = rng.uniform(500.0, 2_000.0, (n, w))
    cf[:, 3] = 0.0  # no cash flow: NaN
    cf[60:, 5] = 0.0  # short path
    price = float(cf[:, 0].sum() * 0.8)
    out = np.empty(w)
    _yields_nb(cf, price, 0.05, out)
    for q in range(w):
        want = mortgage_yield_nb(np.ascontiguousarray(cf[:, q]), price, 0.05)
        if np.isnan(want):
            assert np.isnan(out[q])
        else:
            assert out[q] == want
    # independent check: each yield reprices its column
    k = np.arange(1, n + 1)
    for q in (0, 1, 5):
        pv = float(cf[:, q] @ (1 + out[q] / 12) ** -k)
        assert abs(pv / price - 1) < 1e-12
