"""The `cashflow-engine` command: tapes in, pool cash flows out, errors that name the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from app.cli import main
from app.engine.pool import LoanPool
from app.engine.projection import project_pool
from app.engine.types import CASHFLOW_COLUMNS, Assumptions, Speed, SpeedKind

TAPE = (
    "loan_id,balance,rate,term,age_months\n"
    "A1,300000,0.065,360,0\n"
    "A2,150000,0.055,180,24\n"
    "A3,90000,0.07,240,12\n"
)


def _tape(tmp_path: Path, text: str = TAPE) -> Path:
    path = tmp_path / "tape.csv"
    path.write_text(text)
    return path


def test_level_loan_pays_the_closed_form_annuity(tmp_path: Path) -> None:
    # 30y 6.5% $300,000, no prepayment or default: payment = B r / (1 - (1 + r)^-360) = 1,896.20.
    tape = _tape(tmp_path, "balance,rate,original_term_months\n300000,0.065,360\n")
    out = tmp_path / "flows.csv"
    assert main(["forecast", str(tape), "--out", str(out), "--quiet"]) == 0
    table = pacsv.read_csv(out)
    r = 0.065 / 12
    annuity = 300000 * r / (1 - (1 + r) ** -360)
    assert table.num_rows == 360
    assert table.column("total_cashflow").to_numpy() == pytest.approx(
        np.full(360, annuity), rel=1e-12
    )
    assert table.column("period").to_pylist() == list(range(1, 361))


def test_chunked_run_equals_one_engine_call(tmp_path: Path) -> None:
    tape = _tape(tmp_path)
    out = tmp_path / "flows.parquet"
    args = [
        "forecast",
        str(tape),
        "--map",
        "term=original_term_months",
        "--psa",
        "150",
        "--sda",
        "200",
        "--severity",
        "0.35",
        "--lag",
        "6",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main([*args, "--chunk-loans", "1"]) == 0  # three chunks of one loan each
    chunked = pq.read_table(out)
    pool = LoanPool.from_columns(
        {
            "loan_id": ["A1", "A2", "A3"],
            "balance": [300000.0, 150000.0, 90000.0],
            "rate": [0.065, 0.055, 0.07],
            "original_term_months": [360, 180, 240],
            "age_months": [0, 24, 12],
        }
    )
    whole = project_pool(
        pool,
        Assumptions(
            prepayment=Speed(SpeedKind.PSA, speed=150),
            default=Speed(SpeedKind.SDA, speed=200),
            severity=0.35,
            recovery_lag_months=6,
        ),
    )
    assert chunked.column_names == list(CASHFLOW_COLUMNS)
    assert chunked.num_rows == whole.n_periods
    for name in CASHFLOW_COLUMNS:
        assert chunked.column(name).to_numpy() == pytest.approx(
            whole.columns[name], rel=1e-12, abs=1e-9
        )


def test_bad_rows_are_listed_by_row_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = _tape(tmp_path, "balance,rate,original_term_months\n-5,65,360\n100,0.05,12\n")
    assert main(["forecast", str(tape), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "row 0, balance: must be > 0" in err
    assert "row 0, rate:" in err and "0.065 for 6.5%" in err


def test_missing_file_and_bad_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forecast", str(tmp_path / "nope.csv"), "--quiet"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="COLUMN=FIELD"):
        main(["forecast", str(_tape(tmp_path)), "--map", "term"])


def test_python_dash_m_app_runs_the_command(tmp_path: Path) -> None:
    tape = _tape(tmp_path, "balance,rate,original_term_months\n1000,0.05,12\n")
    done = subprocess.run(
        [sys.executable, "-m", "app", "forecast", str(tape), "--cpr", "0.1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 loans, balance 1,000.00, 12 months" in done.stdout


def test_columns_the_projection_does_not_use_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = _tape(tmp_path, "balance,rate,term,noi,Colour\n1000,0.05,12,90,red\n")
    assert main(["forecast", str(tape), "--map", "term=original_term_months"]) == 0
    err = capsys.readouterr().err
    assert "noi are asset-class fields" in err
    assert "Colour map to no loan field" in err
