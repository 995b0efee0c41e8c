"""Concentration of a commercial book by balance: shares by group, top-10 loans, HHI.

Shares are of current balance. HHI = sum of squared loan balance shares (a decimal in (0, 1];
1 / HHI is the effective number of equal loans); the same index is given for each grouping
(sum of squared group shares).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.assets.commercial.loans import CommercialLoans
from app.assets.commercial.property_types import PROPERTY_TYPES


def group_shares(keys: np.ndarray, balance: np.ndarray) -> tuple[list[dict[str, object]], float]:
    """Balance, share and loan count per distinct key (largest share first), and the group HHI."""
    uniq, inv = np.unique(keys.astype(str), return_inverse=True)
    bal = np.bincount(inv, weights=balance, minlength=uniq.size)
    cnt = np.bincount(inv, minlength=uniq.size)
    total = float(balance.sum())
    share = bal / total
    order = np.argsort(-share, kind="stable")
    rows = [
        {
            "key": str(uniq[k]),
            "balance": float(bal[k]),
            "share": float(share[k]),
            "n_loans": int(cnt[k]),
        }
        for k in order.tolist()
    ]
    return rows, float(np.sum(share**2))


def concentration(loans: CommercialLoans, top: int = 10) -> dict[str, Any]:
    """hhi, effective_number, top10_share, and by_property_type/by_state/by_msa/by_sponsor."""
    bal = loans.pool.balance
    total = float(bal.sum())
    share = bal / total
    hhi = float(np.sum(share**2))
    k = min(top, bal.size)
    top_idx = np.argsort(-bal, kind="stable")[:k]
    names = np.array([p.value for p in PROPERTY_TYPES], dtype=object)[loans.property_type]
    out: dict[str, Any] = {
        "total_balance": total,
        "n_loans": int(bal.size),
        "hhi": hhi,
        "effective_number": 1.0 / hhi,
        "top10_share": float(share[top_idx].sum()),
        "top10_loans": [
            {
                "loan_id": str(loans.pool.loan_id[i]),
                "balance": float(bal[i]),
                "share": float(share[i]),
            }
            for i in top_idx.tolist()
        ],
    }
    for label, keys in (
        ("property_type", names),
        ("state", loans.state),
        ("msa", loans.msa),
        ("sponsor", loans.sponsor),
    ):
        rows, g_hhi = group_shares(keys, bal)
        out[f"by_{label}"] = rows
        out[f"hhi_{label}"] = g_hhi
    return out
