"""Property tests on random deals: cash is conserved every period (run_deal asserts it from the
ledgers), no balance goes negative, and the Numba kernel agrees with the readable reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.deals import parse_collateral, parse_deal, run_deal

N_PERIODS = 18


@st.composite
def deals(draw):
    n_notes = draw(st.integers(1, 4))
    names = [f"T{i}" for i in range(n_notes)]
    tranches = [
        {
            "name": nm,
            "balance": draw(st.floats(1.0, 60.0)),
            "coupon": {"type": "fixed", "rate": draw(st.floats(0.0, 0.2))},
            "deferrable": draw(st.booleans()),
            "compound_shortfall": draw(st.booleans()),
        }
        for nm in names
    ]
    tranches.append({"name": "E", "role": "equity"})
    tests = [
        {
            "name": f"t{k}",
            "type": draw(st.sampled_from(["oc", "ic"])),
            "tranches": [draw(st.sampled_from(names))],
            "trigger": draw(st.floats(0.5, 1.6)),
        }
        for k in range(draw(st.integers(0, 3)))
    ]
    subset = st.lists(st.sampled_from(names), min_size=1, max_size=n_notes, unique=True)
    src = st.sampled_from(["interest", "principal"])
    step = st.one_of(
        st.builds(lambda s, t: {"source": s, "pay": "interest", "tranches": t}, src, subset),
        st.builds(
            lambda s, t, m: {
                "source": s,
                "pay": "principal",
                "tranches": t,
                "mode": m,
                "target": {"percent_of_collateral": 0.5},
            },
            src,
            subset,
            st.sampled_from(["sequential", "pro_rata", "to_target"]),
        ),
        st.builds(lambda s: {"source": s, "pay": "fees", "fees": ["fx", "fr"]}, src),
        st.builds(lambda s: {"source": s, "pay": "deposit", "account": "r"}, src),
        st.builds(
            lambda s, t: {"source": s, "pay": "withdraw", "account": "r", "tranches": t},
            src,
            st.one_of(st.just([]), subset),
        ),
        st.builds(lambda s: {"source": s, "pay": "reinvest"}, src),
        st.builds(lambda s: {"source": s, "pay": "residual", "to": "E"}, src),
    )
    steps = draw(st.lists(step, min_size=1, max_size=10))
    for k in range(len(tests)):
        if draw(st.booleans()):
            steps.insert(
                draw(st.integers(0, len(steps))),
                {
                    "source": draw(src),
                    "pay": "cure",
                    "test": f"t{k}",
                    "mode": draw(st.sampled_from(["full", "cure"])),
                    "action": draw(st.sampled_from(["paydown", "reinvest"])),
                    "share": draw(st.floats(0.0, 1.0)),
                    "tranches": draw(subset),
                },
            )
    return {
        "name": "random",
        "tranches": tranches,
        "tests": tests,
        "waterfall": steps,
        "fees": [
            {"name": "fx", "amount": draw(st.floats(0.0, 0.5))},
            {"name": "fr", "rate": draw(st.floats(0.0, 0.02))},
        ],
        "accounts": [
            {
                "name": "r",
                "initial": draw(st.floats(0.0, 3.0)),
                "target": {"percent_of_collateral": draw(st.floats(0.0, 0.05))},
            }
        ],
        "reinvestment": {
            "end_period": draw(st.integers(0, 10)),
            "price": draw(st.floats(0.5, 1.1)),
            "spread": 0.04,
            "cpr": 0.2,
            "cdr": 0.05,
            "recovery_rate": 0.5,
            "maturity_period": 14,
        },
        "loss_allocation": draw(st.sampled_from(["writedown", "none"])),
    }


@st.composite
def collateral(draw):
    bal = 100.0
    prin = np.array(draw(st.lists(st.floats(0.0, 6.0), min_size=N_PERIODS, max_size=N_PERIODS)))
    loss = np.array(draw(st.lists(st.floats(0.0, 2.0), min_size=N_PERIODS, max_size=N_PERIODS)))
    intr = draw(st.lists(st.floats(0.0, 1.5), min_size=N_PERIODS, max_size=N_PERIODS))
    haircut = draw(st.lists(st.floats(0.0, 5.0), min_size=N_PERIODS, max_size=N_PERIODS))
    return {
        "balance": bal,
        "interest": intr,
        "principal": prin.tolist(),
        "losses": loss.tolist(),
        "haircut": haircut,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals(), collateral())
def test_cash_is_conserved_and_kernel_matches_reference(deal, coll) -> None:
    d = parse_deal(deal)
    haircut = np.array(coll.pop("haircut"))
    c = replace(parse_collateral(coll), oc_haircut=haircut)
    fast = run_deal(d, c)  # raises ConservationError if any period leaks cash
    slow = run_deal(d, c, engine="reference")
    assert fast.max_abs_difference < 1e-9
    for name in ("tranches", "tests", "fees", "accounts", "collateral"):
        a, b = getattr(fast.ledgers, name), getattr(slow.ledgers, name)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-10, err_msg=name)
    led = fast.ledgers
    assert led.tranches[0].min() >= -1e-9  # balances
    assert led.accounts.min(initial=0.0) >= -1e-9
    assert led.collateral[0].min() >= -1e-9


def test_conservation_check_sees_a_leak() -> None:
    """The check is computed from the ledgers: a dollar paid that was never collected shows."""
    from app.engine._kernels import waterfall_nb as wk
    from app.engine.deals.compile import compile_deal
    from app.engine.deals.run import conservation_difference

    deal = parse_deal(
        {
            "tranches": [
                {"name": "A", "balance": 50, "coupon": {"rate": 0.05}},
                {"name": "E", "role": "equity"},
            ],
            "waterfall": [
                {"source": "interest", "pay": "interest", "tranches": ["A"]},
                {"source": "interest", "pay": "residual", "to": "E"},
                {"source": "principal", "pay": "principal", "tranches": ["A"]},
            ],
        }
    )
    coll = parse_collateral({"balance": 100, "interest": [1.0] * 4, "principal": [2.0] * 4})
    res = run_deal(deal, coll)
    arr = compile_deal(deal, 4)
    assert np.abs(conservation_difference(arr, res.ledgers)).max() < 1e-12
    res.ledgers.tranches[wk.T_RESID, 1, 2] += 1.0
    diff = conservation_difference(arr, res.ledgers)
    assert diff[2] == -1.0 and np.abs(diff[[0, 1, 3]]).max() < 1e-12
