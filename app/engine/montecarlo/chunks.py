"""Chunks of a Monte Carlo run: contiguous ranges of seed blocks, each a pure function of
(request, chunk index, chunk count), and the merge in block order (bit-identical for any
chunking, DOMAIN.md §8)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from app.engine.errors import FieldProblem, InvalidInput
from app.engine.montecarlo.preparation import prepare, project_block, shifted_model
from app.engine.montecarlo.request import (
    MonteCarloRequest,
    Progress,
)
from app.engine.montecarlo.results import ChunkResult, Distribution, MonteCarloResult
from app.engine.montecarlo.spreads import deterministic_cashflows, solve_oas, z_spread
from app.engine.rates.curve import shift_curve
from app.engine.rates.models import (
    CalibratedModel,
    calibrate,
)


def chunk_blocks(n_blocks: int, chunk_index: int, n_chunks: int) -> range:
    """Blocks of chunk `chunk_index` of `n_chunks`: contiguous, sizes differing by at most 1."""
    if not 1 <= n_chunks <= n_blocks:
        raise InvalidInput(
            [FieldProblem(None, "n_chunks", f"must be in 1..{n_blocks} (the number of blocks)")]
        )
    if not 0 <= chunk_index < n_chunks:
        raise InvalidInput([FieldProblem(None, "chunk_index", f"must be in 0..{n_chunks - 1}")])
    base, extra = divmod(n_blocks, n_chunks)
    start = chunk_index * base + min(chunk_index, extra)
    return range(start, start + base + (1 if chunk_index < extra else 0))


def run_chunk(
    req: MonteCarloRequest,
    chunk_index: int,
    n_chunks: int,
    progress: Progress | None = None,
    *,
    threads: int | None = None,
) -> ChunkResult:
    """Run one chunk of a request: a pure function of (request, chunk index, chunk count).

    progress(done, total) is called after each block, in block order, with the chunk's paths
    done and total. threads: worker threads over blocks (default: the CPU count).
    """
    req.validate()
    blocks = chunk_blocks(req.n_blocks, chunk_index, n_chunks)
    prep = prepare(req)
    cal = calibrate(req.rate_model, req.curve, prep.n, req.mortgage_rate)
    shifted: list[CalibratedModel] = []
    h = req.duration_bump
    if req.price is not None and h is not None:
        for dz in (h, -h):
            model = shifted_model(req.rate_model, req.curve, dz)
            shifted.append(calibrate(model, shift_curve(req.curve, dz), prep.n, req.mortgage_rate))
    sizes = [min(req.block_size, req.n_paths - b * req.block_size) for b in blocks]
    total = int(sum(sizes))
    pieces: dict[str, list[np.ndarray]] = {k: [] for k in ("pv", "wal", "loss", "yield")}
    cfd_base = np.empty((len(blocks), prep.n))
    cfd_up = np.empty((len(blocks), prep.n)) if shifted else None
    cfd_down = np.empty((len(blocks), prep.n)) if shifted else None

    def work(
        b: int, size: int, parallel: bool | None = None
    ) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        out = project_block(req, prep, cal, b, size, parallel=parallel)
        out["cfd_sum"] = out.pop("cfd").sum(axis=0)
        extra = [
            project_block(req, prep, m, b, size, parallel=parallel)["cfd"].sum(axis=0)
            for m in shifted
        ]
        return out, extra

    # Blocks run on worker threads, each block's kernels on its thread only (the kernels and
    # NumPy's generators release the GIL, so the threads share no state and need no Numba
    # threading layer); results are taken in block order, so threading never changes a
    # number. A lone block (or threads=1) runs here, with the parallel kernel when large.
    n_workers = max(1, min(threads or os.cpu_count() or 1, len(blocks)))

    def serial_work(b: int, size: int) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        return work(b, size, parallel=False)

    def results() -> Iterator[tuple[dict[str, np.ndarray], list[np.ndarray]]]:
        if n_workers > 1:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                yield from pool.map(serial_work, blocks, sizes)
        else:
            for b, size in zip(blocks, sizes, strict=True):
                yield work(b, size)

    done = 0
    for j, (size, (out, extra)) in enumerate(zip(sizes, results(), strict=True)):
        for k in pieces:
            pieces[k].append(out[k])
        cfd_base[j] = out["cfd_sum"]
        if shifted:
            cfd_up[j] = extra[0]  # type: ignore[index]
            cfd_down[j] = extra[1]  # type: ignore[index]
        done += size
        if progress is not None:
            progress(done, total)
    return ChunkResult(
        chunk_index=chunk_index,
        n_chunks=n_chunks,
        block_start=blocks.start,
        block_stop=blocks.stop,
        pv=np.concatenate(pieces["pv"]),
        wal=np.concatenate(pieces["wal"]),
        loss=np.concatenate(pieces["loss"]),
        yld=np.concatenate(pieces["yield"]),
        cfd_base=cfd_base,
        cfd_up=cfd_up,
        cfd_down=cfd_down,
    )


def _distribution(x: np.ndarray, req: MonteCarloRequest) -> Distribution:
    n = x.size
    std = float(np.std(x, ddof=1))
    if req.antithetic:
        pairs = x.reshape(-1, 2).mean(axis=1)
        se = float(np.std(pairs, ddof=1) / math.sqrt(pairs.size))
    else:
        se = std / math.sqrt(n)
    q = np.percentile(x, np.asarray(req.percentiles, dtype=np.float64))
    counts, edges = np.histogram(x, bins=req.histogram_bins)
    return Distribution(
        mean=float(np.mean(x)),
        standard_error=se,
        std=std,
        percentiles={float(k): float(v) for k, v in zip(req.percentiles, q, strict=True)},
        histogram_counts=counts,
        histogram_edges=edges,
    )


def merge_chunks(req: MonteCarloRequest, chunks: Sequence[ChunkResult]) -> MonteCarloResult:
    """Merge chunk results in block order into the run's result (bit-identical for any chunking)."""
    req.validate()
    ordered = sorted(chunks, key=lambda c: c.block_start)
    expected = 0
    for c in ordered:
        if c.block_start != expected:
            raise InvalidInput(
                [FieldProblem(None, "chunks", f"blocks from {expected} are missing or repeated")]
            )
        expected = c.block_stop
    if expected != req.n_blocks:
        raise InvalidInput(
            [FieldProblem(None, "chunks", f"cover {expected} of {req.n_blocks} blocks")]
        )
    prep = prepare(req)
    pv = np.concatenate([c.pv for c in ordered])
    wal = np.concatenate([c.wal for c in ordered])
    loss = np.concatenate([c.loss for c in ordered])
    yld = np.concatenate([c.yld for c in ordered])
    mean_cfd = np.concatenate([c.cfd_base for c in ordered]).sum(axis=0) / req.n_paths
    oas = zs = cost = dur = conv = None
    if req.price is not None:
        oas = solve_oas(mean_cfd, prep.times, req.price)
        zs = z_spread(deterministic_cashflows(req), prep.times, req.curve, req.price)
        cost = zs - oas
        if req.duration_bump is not None and ordered[0].cfd_up is not None:
            h = req.duration_bump
            growth = np.exp(-oas * prep.times)
            up = np.concatenate([c.cfd_up for c in ordered]).sum(axis=0) / req.n_paths  # type: ignore[misc]
            down = np.concatenate([c.cfd_down for c in ordered]).sum(axis=0) / req.n_paths  # type: ignore[misc]
            p0 = float(mean_cfd @ growth)
            p_up, p_down = float(up @ growth), float(down @ growth)
            dur = (p_down - p_up) / (2.0 * p0 * h)
            conv = (p_up + p_down - 2.0 * p0) / (p0 * h * h)
    return MonteCarloResult(
        n_paths=req.n_paths,
        n_months=prep.n,
        pv=_distribution(pv, req),
        wal=_distribution(wal, req),
        loss=_distribution(loss, req),
        yield_=None if not np.all(np.isfinite(yld)) else _distribution(yld, req),
        mean_discounted_cashflow=mean_cfd,
        oas=oas,
        z_spread=zs,
        option_cost=cost,
        effective_duration=dur,
        effective_convexity=conv,
        path_values={"pv": pv, "wal": wal, "loss": loss, "yield": yld},
    )


def run_monte_carlo(
    req: MonteCarloRequest,
    *,
    n_chunks: int = 1,
    progress: Progress | None = None,
    threads: int | None = None,
) -> MonteCarloResult:
    """Run every chunk here, in order, and merge; progress(done, total) counts paths."""
    req.validate()
    n_chunks = min(n_chunks, req.n_blocks)
    results = []
    done_before = 0
    for k in range(n_chunks):

        def chunk_progress(done: int, _total: int, base: int = done_before) -> None:
            if progress is not None:
                progress(base + done, req.n_paths)

        res = run_chunk(req, k, n_chunks, chunk_progress, threads=threads)
        done_before += res.pv.size
        results.append(res)
    return merge_chunks(req, results)
