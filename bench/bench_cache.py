"""Benchmark of the result cache: what a hit costs against recomputing, codec speed against
pickle (the reference we refuse to use across the network), key hashing of large pools, and the
fallback cost while the circuit breaker is open.

Plain script (no pytest): medians of several runs after a warm-up. Uses the local Redis
(TEST_REDIS_URL, default redis://127.0.0.1:6379/0) under a throwaway key prefix it deletes.

    PYTHONPATH=. .venv/bin/python bench/bench_cache.py [--loans 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
import statistics
import time
import uuid
from collections.abc import Callable

import numpy as np
import redis

from app.core.cache import CacheConfig, CacheService
from app.core.cache.codec import Codec
from app.core.cache.keys import fingerprint
from app.engine import Assumptions, LoanPool, Speed, SpeedKind, project_pool


def median_s(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up (JIT, connections, allocator)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def make_pool(n: int, seed: int = 7) -> LoanPool:
    rng = np.random.default_rng(seed)
    term = rng.choice(np.array([180, 240, 360]), size=n)
    return LoanPool.from_columns(
        {
            "loan_id": np.char.add("L", np.arange(n).astype(str)),
            "balance": np.round(rng.uniform(50_000, 800_000, n), 2),
            "rate": np.round(rng.uniform(0.03, 0.09, n), 5),
            "original_term_months": term,
            "age_months": (rng.random(n) * term * 0.5).astype(np.int64),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench-cache-{uuid.uuid4().hex[:8]}"

    pool = make_pool(args.loans)
    scenarios = [
        Assumptions(
            prepayment=Speed(SpeedKind.CPR, c),
            default=Speed(SpeedKind.CDR, 0.02),
            severity=0.35,
            recovery_lag_months=6,
        )
        for c in (0.04, 0.08, 0.16)
    ]

    def compute() -> list[dict[str, object]]:
        out = []
        for a in scenarios:
            p = project_pool(pool, a)
            out.append({"columns": p.columns, "n_periods": p.n_periods})
        return out

    result = compute()
    n_periods = result[0]["n_periods"]
    t_compute = median_s(compute, 3)

    svc = CacheService(CacheConfig(redis_url=url, key_prefix=prefix))
    payload = {"pool": pool, "scenarios": scenarios}
    key = svc.key("bench", payload)
    svc.set(key, result, ttl=300)
    blob = svc.codec.encode(result)

    t_key = median_s(lambda: svc.key("bench", payload), args.runs)
    t_mem_hit = median_s(lambda: svc.lookup(key, "bench"), args.runs)

    def redis_hit() -> None:
        svc.clear_memory()
        found, _ = svc.lookup(key, "bench")
        assert found

    t_redis_hit = median_s(redis_hit, args.runs)
    t_enc = median_s(lambda: svc.codec.encode(result), args.runs)
    t_dec = median_s(lambda: svc.codec.decode(blob), args.runs)
    plain = Codec(svc.codec.serializer, compress_threshold=None)
    t_plain_enc = median_s(lambda: plain.encode(result), args.runs)
    t_pickle_enc = median_s(lambda: pickle.dumps(result, protocol=5), args.runs)
    pblob = pickle.dumps(result, protocol=5)
    t_pickle_dec = median_s(lambda: pickle.loads(pblob), args.runs)

    big = make_pool(200_000, seed=3)
    t_big_key = median_s(lambda: fingerprint(big), 3)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = CacheService(
        CacheConfig(
            redis_url=f"redis://127.0.0.1:{dead_port}/0",
            key_prefix=prefix,
            memory_max_items=0,
            breaker_reset_seconds=600,
        )
    )
    for _ in range(6):
        dead.get_or_compute("bench", 1, lambda: 1)  # trips the breaker
    assert dead.breaker.current_state == "open"
    t_open = median_s(lambda: dead.get_or_compute("bench", {"small": 1}, lambda: None), args.runs)

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)

    print(
        f"pool: {args.loans} loans x {n_periods} periods x {len(scenarios)} scenarios; "
        f"result {sum(c.nbytes for r in result for c in r['columns'].values()) / 1e6:.2f} MB "
        f"of arrays, stored {len(blob) / 1e6:.2f} MB; runs={args.runs} (medians)"
    )
    print(f"fresh compute (engine)         {t_compute * 1e3:9.2f} ms")
    print(f"key (hash full input)          {t_key * 1e3:9.3f} ms")
    print(
        f"hit, memory layer              {t_mem_hit * 1e3:9.3f} ms   "
        f"compute / hit = {t_compute / t_mem_hit:,.0f}x"
    )
    print(
        f"hit, Redis                     {t_redis_hit * 1e3:9.3f} ms   "
        f"compute / hit = {t_compute / t_redis_hit:,.0f}x"
    )
    print(f"msgpack encode / decode        {t_enc * 1e3:9.3f} / {t_dec * 1e3:.3f} ms")
    print(f"msgpack, no zlib, encode       {t_plain_enc * 1e3:9.3f} ms")
    print(
        f"pickle  encode / decode (ref)  {t_pickle_enc * 1e3:9.3f} / {t_pickle_dec * 1e3:.3f} ms"
        f"   ratio msgpack/pickle = {(t_enc + t_dec) / (t_pickle_enc + t_pickle_dec):.2f}"
    )
    print(f"key of a 200 000-loan pool     {t_big_key * 1e3:9.2f} ms")
    print(f"miss with breaker open (small) {t_open * 1e3:9.3f} ms (no network call)")


if __name__ == "__main__":
    main()
