"""The `monte_carlo` job kind: validate, plan, compute one chunk, merge (pure functions of the
JSON payload, so any worker can run any chunk).

A chunk is a contiguous range of seed blocks; its result is stored as an .npz blob of exact
float64 arrays, and the merge concatenates the chunks in block order, so any number of chunks
and workers gives the numbers of one run (DOMAIN.md §8). The payload is the Monte Carlo route's
body or the engine-level form `{"format": "engine", ...}` (see requests.engine_request).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.engine.errors import EngineError
from app.engine.montecarlo import ChunkResult, chunk_blocks, merge_chunks, run_chunk
from app.services.montecarlo.requests import job_request
from app.services.montecarlo.results import result_json

__all__ = ["compute_chunk", "decode_chunk", "encode_chunk", "merge", "plan", "validate"]


def plan(payload: dict[str, Any], settings: Settings) -> list[int]:
    """Paths per chunk: `jobs_mc_chunks` contiguous block ranges (fewer if there are fewer blocks),
    or the payload's own `n_chunks` when it gives one."""
    req = job_request(payload)
    req.validate()
    wanted = int(payload.get("n_chunks") or settings.jobs_mc_chunks)
    n_chunks = max(1, min(wanted, req.n_blocks))
    totals = []
    for k in range(n_chunks):
        blocks = chunk_blocks(req.n_blocks, k, n_chunks)
        totals.append(sum(min(req.block_size, req.n_paths - b * req.block_size) for b in blocks))
    return totals


def validate(payload: dict[str, Any], settings: Settings) -> None:
    """Refuse a bad Monte Carlo payload before a job is created (422 naming the field)."""
    try:
        plan(payload, settings)
    except EngineError as exc:
        raise ValidationFailed.from_engine(exc, prefix=("body", "payload")) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed.single(
            ("body", "payload"), f"not a valid Monte Carlo request: {exc!s}"
        ) from exc


def encode_chunk(res: ChunkResult) -> bytes:
    """A ChunkResult as an .npz blob (exact float64 arrays, no pickle)."""
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(
            [res.chunk_index, res.n_chunks, res.block_start, res.block_stop], dtype=np.int64
        ),
        "pv": res.pv,
        "wal": res.wal,
        "loss": res.loss,
        "yld": res.yld,
        "cfd_base": res.cfd_base,
    }
    if res.cfd_up is not None and res.cfd_down is not None:
        arrays["cfd_up"] = res.cfd_up
        arrays["cfd_down"] = res.cfd_down
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def decode_chunk(data: bytes) -> ChunkResult:
    """The ChunkResult of an `encode_chunk` blob."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = z["meta"]
        return ChunkResult(
            chunk_index=int(meta[0]),
            n_chunks=int(meta[1]),
            block_start=int(meta[2]),
            block_stop=int(meta[3]),
            pv=z["pv"],
            wal=z["wal"],
            loss=z["loss"],
            yld=z["yld"],
            cfd_base=z["cfd_base"],
            cfd_up=z["cfd_up"] if "cfd_up" in z.files else None,
            cfd_down=z["cfd_down"] if "cfd_down" in z.files else None,
        )


def compute_chunk(
    payload: dict[str, Any], chunk_index: int, n_chunks: int, progress: Callable[[int, int], None]
) -> bytes:
    """Run one chunk (pure CPU; called in a worker thread or pool process)."""
    return encode_chunk(run_chunk(job_request(payload), chunk_index, n_chunks, progress))


def merge(payload: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Merge the stored chunks in block order and shape the result as the route does."""
    req = job_request(payload)
    return result_json(req, merge_chunks(req, [decode_chunk(b) for b in blobs]))
