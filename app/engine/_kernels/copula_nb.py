"""Default months from copula latent variables, in parallel over paths.

month = ⌈12·ln(1 − Φ(x))/ln(1 − p)⌉ (at least 1) when it is within the asset's limit, else 0;
p = 1 defaults in month 1, p = 0 never. The NumPy twin is
`app.engine.deals.copula.default_months_reference`.
"""

from __future__ import annotations

import math

from numba import njit, prange

INV_SQRT2 = 1.0 / math.sqrt(2.0)


@njit(cache=True, parallel=True)
def default_months_nb(x, lam, limit, out):
    """x: (P, A) latent normals; lam: (A,) −ln(1 − p) per year (inf for p = 1); limit: (A,)
    last month an asset can default in; fills out (P, A) int64."""
    P, A = x.shape
    for p in prange(P):
        for i in range(A):
            li = lam[i]
            if li == math.inf:
                out[p, i] = 1
                continue
            if li <= 0.0:
                out[p, i] = 0
                continue
            u = 0.5 * math.erfc(-x[p, i] * INV_SQRT2)
            if u >= 1.0:
                out[p, i] = 0
                continue
            m = math.ceil(-12.0 * math.log1p(-u) / li)
            if m < 1.0:
                m = 1.0
            out[p, i] = int(m) if m <= limit[i] else 0
