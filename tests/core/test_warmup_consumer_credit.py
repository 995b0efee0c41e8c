"""The warm-up list has a consumer-credit step, and it reaches every Markov kernel (each has a
compiled signature afterwards), so a first consumer-credit request does not compile."""

from __future__ import annotations

import numba

from app.engine._kernels import markov_nb
from app.services import consumer_credit
from app.services.warmup import STEPS


def test_consumer_credit_step_compiles_every_markov_kernel() -> None:
    assert "consumer credit" in dict(STEPS)
    consumer_credit.warm_up()
    kernels = {
        name: obj
        for name, obj in vars(markov_nb).items()
        if isinstance(obj, numba.core.registry.CPUDispatcher)
    }
    assert kernels, "no Numba kernels found in markov_nb"
    assert {name: len(k.signatures) > 0 for name, k in kernels.items()} == dict.fromkeys(
        kernels, True
    )
