"""Monte Carlo projection of a loan pool over short-rate paths: distributions, OAS, option cost.

A run of P paths is split into fixed blocks of `block_size` paths; block b draws its random
numbers only from SeedSequence(seed, spawn_key=(b, stream)), and a chunk is a contiguous range
of blocks. Each block keeps its per-path results and its own path-ordered sums, and the merge
concatenates blocks in block order, so a run gives bit-identical numbers for any number of
chunks or workers (DOMAIN.md §8).

Conventions: months i = 1..N end at t_i = i/12 years (cash flows at period end, DOMAIN.md §1);
path discounting is continuous on the short rate held over each month; the OAS is a constant,
continuously compounded spread s added to every short rate, so PV_p(s) = Σ_i CF_pi·D_pi·e^{−s·t_i}
and the mean PV over paths is Σ_i e^{−s·t_i}·(mean_p CF_pi·D_pi): each solver iteration is one
N-term reduction, cash flows are never re-projected. The Z-spread is the constant continuously
compounded spread over the curve's zero rates that prices the zero-volatility cash flows
(DOMAIN.md §5); option cost = Z-spread − OAS.
"""

from app.engine.montecarlo.chunks import chunk_blocks, merge_chunks, run_chunk, run_monte_carlo
from app.engine.montecarlo.preparation import macro_multipliers, prepare, project_paths
from app.engine.montecarlo.request import (
    PARALLEL_MIN_CELLS,
    MacroFactor,
    MonteCarloRequest,
    Progress,
    RepLines,
)
from app.engine.montecarlo.results import ChunkResult, Distribution, MonteCarloResult
from app.engine.montecarlo.spreads import deterministic_cashflows, solve_oas, solve_spread, z_spread

__all__ = [
    "PARALLEL_MIN_CELLS",
    "ChunkResult",
    "Distribution",
    "MacroFactor",
    "MonteCarloRequest",
    "MonteCarloResult",
    "Progress",
    "RepLines",
    "chunk_blocks",
    "deterministic_cashflows",
    "macro_multipliers",
    "merge_chunks",
    "prepare",
    "project_paths",
    "run_chunk",
    "run_monte_carlo",
    "solve_oas",
    "solve_spread",
    "z_spread",
]
