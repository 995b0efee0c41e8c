"""One-dimensional root finding: bracket first, then polish with Brent's method.

Every failure is named: `UnreachablePrice` when no bracket exists in the admissible range,
`ConvergenceError` when Brent stops short of its tolerance. Nothing returns silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from app.engine._lazy import lazy_function
from app.engine.errors import ConvergenceError, UnreachablePrice

brentq = lazy_function("scipy.optimize", "brentq")  # imported at the first solve

XTOL = 1e-15
RTOL = 4.0 * 2.220446049250313e-16
MAXITER = 200
SCAN_POINTS = 2048  # grid of the fallback scan (f is evaluated this many times at most)


def find_bracket(
    f: Callable[[float], float],
    guess: float,
    lower: float,
    upper: float,
    *,
    step: float = 0.01,
    what: str = "root",
    field: str | None = None,
) -> tuple[float, float]:
    """Find [a, b] inside [lower, upper] with f(a)·f(b) <= 0, walking out from `guess`.

    Steps grow geometrically in both directions until a sign change or both limits are hit.
    Raises UnreachablePrice naming `what` when f keeps one sign over the whole range.
    """
    guess = min(max(guess, lower), upper)
    f0 = f(guess)
    if f0 == 0.0:
        return guess, guess
    left, right = guess, guess
    f_left = f_right = f0
    d = step
    while left > lower or right < upper:
        if right < upper:
            new = min(guess + d, upper)
            f_new = f(new)
            if _opposite(f_right, f_new):
                return right, new
            if math.isfinite(f_new):
                right, f_right = new, f_new
            else:
                right = upper
        if left > lower:
            new = max(guess - d, lower)
            f_new = f(new)
            if _opposite(f_left, f_new):
                return new, left
            if math.isfinite(f_new):
                left, f_left = new, f_new
            else:
                left = lower
        d *= 2.0
    raise UnreachablePrice(
        f"no {what} in [{lower:.6g}, {upper:.6g}] solves the equation (no sign change)",
        field=field,
    )


def scan_grid(lower: float, upper: float, guess: float, n: int = SCAN_POINTS) -> np.ndarray:
    """Sorted probe points over [lower, upper]: uniform over the whole range, plus geometric
    clusters around `guess` and against both limits, where roots of rate equations crowd."""
    span = upper - lower
    uniform = np.linspace(lower, upper, n // 2)
    offsets = np.geomspace(1e-9, 1.0, n // 8) * span
    points = np.concatenate(
        (uniform, lower + offsets, upper - offsets, guess + offsets, guess - offsets)
    )
    return np.unique(np.clip(points, lower, upper))


def scan_bracket(
    f: Callable[[float], float], guess: float, lower: float, upper: float
) -> tuple[float, float] | None:
    """The sign change of f on `scan_grid` nearest `guess`, or None when f never changes sign
    between two finite probes (the fallback when walking out from the guess finds nothing:
    a non-monotonic f can change sign twice between two of the walk's probes)."""
    x = scan_grid(lower, upper, guess)
    y = np.array([f(float(v)) for v in x])
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return None
    zero = np.flatnonzero(y == 0.0)
    change = np.flatnonzero(np.signbit(y[:-1]) != np.signbit(y[1:]))
    candidates = [(float(x[i]), float(x[i])) for i in zero]
    candidates += [(float(x[i]), float(x[i + 1])) for i in change]
    if not candidates:
        return None
    return min(candidates, key=lambda ab: abs(0.5 * (ab[0] + ab[1]) - guess))


def _opposite(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and (a == 0.0 or b == 0.0 or (a < 0) != (b < 0))


def solve(
    f: Callable[[float], float],
    guess: float,
    lower: float,
    upper: float,
    *,
    step: float = 0.01,
    what: str = "root",
    field: str | None = None,
) -> float:
    """Root of f in [lower, upper]: bracket from `guess`, then Brent to ~machine precision.

    When the walk out from the guess finds no sign change, a grid scan of the whole range
    (`scan_bracket`) looks again, so a root is found wherever f changes sign between two of
    its probes, whatever the shape of f. Overflow while probing extreme values is expected
    (it reads as "not finite") and silenced.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            a, b = find_bracket(f, guess, lower, upper, step=step, what=what, field=field)
        except UnreachablePrice:
            found = scan_bracket(f, guess, lower, upper)
            if found is None:
                raise
            a, b = found
        if a == b:
            return a
        root, info = brentq(
            f, a, b, xtol=XTOL, rtol=RTOL, maxiter=MAXITER, full_output=True, disp=False
        )
    if not info.converged:
        raise ConvergenceError(
            f"{what}: Brent did not converge in {MAXITER} iterations ({info.flag})", field=field
        )
    return float(root)
