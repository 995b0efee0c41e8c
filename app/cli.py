"""The `cashflow-engine` command (also `python -m app`): serve the API, compile the engine's
kernels, or project a loan tape from the shell without writing JSON.

    cashflow-engine serve                      # the service on its embedded defaults
    cashflow-engine warm-up                    # compile the Numba kernels into their cache
    cashflow-engine forecast tape.csv --psa 150 --sda 100 --severity 0.35 --lag 12 \\
        --out flows.parquet

Units are the API's (DOMAIN.md §1): rates and CPR/CDR are decimals per year (0.06 = 6%),
SMM/MDR/ABS decimals per month, PSA/SDA percents of the standard curve (150), lags in months.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

PREPAY_FLAGS = ("psa", "cpr", "smm", "abs")
DEFAULT_FLAGS = ("sda", "cdr", "mdr")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cashflow-engine", description="Credit cash-flow engine: service and command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (embedded defaults unless configured)")
    serve.add_argument("--host", help="bind address (default: HOST from the environment/.env)")
    serve.add_argument("--port", type=int, help="port (default: PORT from the environment/.env)")
    serve.add_argument("--reload", action="store_true", help="restart on source changes (dev)")

    sub.add_parser("warm-up", help="compile the engine's kernels into Numba's on-disk cache")

    fc = sub.add_parser(
        "forecast",
        help="project a CSV/Parquet loan tape and write the pool cash flows",
        description="Project a loan tape with the SIFMA standard formulas (DOMAIN.md §3) and "
        "write the pool's monthly cash-flow columns (the API's forecast columns).",
    )
    fc.add_argument("tape", type=Path, help="CSV (header row) or Parquet loan tape")
    fc.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="rename a tape column to an engine field (repeatable), e.g. --map term=original_term_months",
    )
    pre = fc.add_mutually_exclusive_group()
    pre.add_argument("--psa", type=float, help="prepayment: percent of the PSA curve (150)")
    pre.add_argument("--cpr", type=float, help="prepayment: constant CPR, annual decimal (0.06)")
    pre.add_argument("--smm", type=float, help="prepayment: constant SMM, monthly decimal")
    pre.add_argument(
        "--abs", type=float, help="prepayment: ABS speed, monthly decimal (auto loans)"
    )
    dft = fc.add_mutually_exclusive_group()
    dft.add_argument("--sda", type=float, help="default: percent of the SDA curve (100)")
    dft.add_argument("--cdr", type=float, help="default: constant CDR, annual decimal (0.02)")
    dft.add_argument("--mdr", type=float, help="default: constant MDR, monthly decimal")
    fc.add_argument("--severity", type=float, default=0.0, help="loss / balance at default (0..1)")
    fc.add_argument("--lag", type=int, default=0, help="recovery lag in months")
    fc.add_argument("--no-advancing", action="store_true", help="servicer does not advance P&I")
    fc.add_argument(
        "--periods", type=int, help="projection horizon in months (default: the pool's)"
    )
    fc.add_argument(
        "--out", type=Path, help="write the columns to .parquet or .csv (default: none)"
    )
    fc.add_argument(
        "--chunk-loans",
        type=int,
        default=250_000,
        help="loans projected per step of the progress bar (default 250,000)",
    )
    fc.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return parser


def _speeds(args: argparse.Namespace) -> tuple[object, object]:
    from app.engine.types import Speed, SpeedKind

    prepay = Speed(SpeedKind.CPR, 0.0)
    for flag in PREPAY_FLAGS:
        value = getattr(args, flag)
        if value is not None:
            kind = SpeedKind(flag)
            prepay = Speed(kind, speed=value) if kind is SpeedKind.PSA else Speed(kind, rate=value)
    default = Speed(SpeedKind.CDR, 0.0)
    for flag in DEFAULT_FLAGS:
        value = getattr(args, flag)
        if value is not None:
            kind = SpeedKind(flag)
            default = Speed(kind, speed=value) if kind is SpeedKind.SDA else Speed(kind, rate=value)
    return prepay, default


def _column_map(pairs: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column or not field:
            raise SystemExit(f"--map {pair!r}: expected COLUMN=FIELD")
        mapping[column] = field
    return mapping


def _progress(total: int, quiet: bool) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(advance(n), close()) of a loans progress bar on stderr; no-ops when quiet."""
    if quiet:
        return (lambda n: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="loans", unit_scale=True, file=sys.stderr, leave=False)
    return bar.update, bar.close


def forecast(args: argparse.Namespace) -> int:
    """Project the tape; the pool columns are the sum of the loan chunks' columns (each chunk
    projected on the whole pool's horizon), which equals one whole-pool run to rounding."""
    import numpy as np

    from app.engine.errors import EngineError
    from app.engine.projection import horizon, project_pool
    from app.engine.tape import read_tape
    from app.engine.types import CASHFLOW_COLUMNS, Assumptions

    prepay, default = _speeds(args)
    start = time.perf_counter()
    if not args.tape.is_file():
        print(f"error: {args.tape}: no such file", file=sys.stderr)
        return 2
    try:
        pool = read_tape(args.tape, column_map=_column_map(args.map))
        if not args.quiet:
            _note_unmapped(pool.extra, _column_map(args.map))
        assumptions = Assumptions(
            prepayment=prepay,  # type: ignore[arg-type]
            default=default,  # type: ignore[arg-type]
            severity=args.severity,
            recovery_lag_months=args.lag,
            advancing=not args.no_advancing,
            n_periods=args.periods,
        )
        n_periods = horizon(pool, assumptions)
        fixed = Assumptions(**{**assumptions.__dict__, "n_periods": n_periods})
        step = max(1, int(args.chunk_loans))
        advance, close = _progress(len(pool), args.quiet)
        totals = {name: np.zeros(n_periods) for name in CASHFLOW_COLUMNS}
        try:
            for lo in range(0, len(pool), step):
                part = (
                    pool
                    if step >= len(pool)
                    else pool.take(np.arange(lo, min(lo + step, len(pool))))
                )
                cols = project_pool(part, fixed).columns
                for name in CASHFLOW_COLUMNS:
                    totals[name] += cols[name]
                advance(len(part))
        finally:
            close()
    except EngineError as exc:
        _report(exc)
        return 2
    totals["period"] = np.arange(1, n_periods + 1, dtype=np.float64)
    if args.out is not None:
        _write(args.out, totals)
    if not args.quiet:
        seconds = time.perf_counter() - start
        print(
            f"{len(pool):,} loans, balance {pool.total_balance:,.2f}, {n_periods} months, "
            f"total cash flow {totals['total_cashflow'].sum():,.2f}, loss {totals['loss'].sum():,.2f} "
            f"({seconds:.2f} s)" + (f" -> {args.out}" if args.out else "")
        )
    return 0


def _note_unmapped(extra: Mapping[str, object], column_map: Mapping[str, str] | None) -> None:
    """Name the tape columns the projection does not use (on stderr): asset-class fields
    (kept by an upload for those routes) and columns that map to no loan field."""
    if not extra:
        return
    from app.services.tape_columns import ASSET_CLASS_FIELDS

    source_of = {target: source for source, target in (column_map or {}).items()}
    kept = [source_of.get(n, n) for n in extra if n in ASSET_CLASS_FIELDS]
    unmapped = [source_of.get(n, n) for n in extra if n not in ASSET_CLASS_FIELDS]
    if kept:
        print(
            f"note: column(s) {', '.join(kept)} are asset-class fields, not used by the projection",
            file=sys.stderr,
        )
    if unmapped:
        print(
            f"note: column(s) {', '.join(unmapped)} map to no loan field and are ignored "
            "(--map COLUMN=FIELD if one is a field under another name)",
            file=sys.stderr,
        )


def _report(exc: Exception) -> None:
    problems = getattr(exc, "problems", None)
    if not problems:
        print(f"error: {exc}", file=sys.stderr)
        return
    print(f"error: {len(problems)} problem(s) in the input:", file=sys.stderr)
    for p in problems[:20]:
        where = f"row {p.row}, " if p.row is not None else ""
        print(f"  {where}{p.column}: {p.reason}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more", file=sys.stderr)


def _write(path: Path, columns: Mapping[str, object]) -> None:
    import pyarrow as pa

    from app.engine.types import CASHFLOW_COLUMNS

    table = pa.table({name: columns[name] for name in CASHFLOW_COLUMNS})
    table = table.set_column(0, "period", table.column("period").cast(pa.int32()))
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)


def warm_up() -> int:
    """Compile (or load from Numba's cache) every kernel a first request would need."""
    from app.services.warmup import warm_up_all

    start = time.perf_counter()
    warm_up_all()
    print(f"engine kernels compiled and cached in {time.perf_counter() - start:.1f} s")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.core.config import get_settings

    # The app checks its bind policy against Settings, so the flags go through the environment.
    if args.host:
        os.environ["HOST"] = args.host
    if args.port:
        os.environ["PORT"] = str(args.port)
    get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run("app.main:app", host=settings.host, port=settings.port, reload=args.reload)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "warm-up":
        return warm_up()
    return forecast(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
