"""The `stream_forecast` job end to end on the embedded pool (2 processes): a Parquet tape in
TAPE_STORE_DIR projected in chunks, merged in chunk order, loan-level results written as one
Parquet file per chunk; bad payloads are 422s naming the field and create no job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from app.engine.projection import project_pool
from app.engine.tape import read_tape
from app.engine.types import Assumptions, Speed, SpeedKind
from tests.conftest import make_settings, unique_user


def _write_tape(path: Path, n: int = 600) -> None:
    rng = np.random.default_rng(3)
    pq.write_table(
        pa.table(
            {
                "loan_id": [f"S{i}" for i in range(n)],
                "balance": rng.uniform(1e4, 3e5, n),
                "rate": rng.uniform(0.02, 0.09, n),
                "original_term_months": rng.choice([60, 120, 360], n),
                "age_months": rng.integers(0, 24, n),
            }
        ),
        path,
        row_group_size=100,
    )


def test_stream_forecast_job_merges_chunks_and_writes_a_dataset(
    tmp_path: Path, live_server
) -> None:
    store = tmp_path / "tapes"
    store.mkdir()
    _write_tape(store / "big.parquet")
    settings = make_settings(
        tmp_path, jobs_embedded_workers=2, rate_limit_enabled=False, tape_store_dir=store
    )
    server = live_server(settings)
    user = unique_user("stream")
    payload = {
        "tape_path": "big.parquet",
        "chunk_loans": 200,
        "assumptions": {
            "prepayment": {"type": "cpr", "rate": 0.1},
            "default": {"type": "cdr", "rate": 0.03},
            "severity": 0.3,
            "recovery_lag_months": 4,
            "advancing": False,
        },
        "loan_level_dir": "big",
    }
    with server.client(user) as c:
        resp = c.post("/api/v1/jobs/", json={"kind": "stream_forecast", "payload": payload})
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        job = server.wait_job(user, job_id, {"succeeded", "failed"}, timeout=120)
        assert job["state"] == "succeeded", job
        assert job["progress"] == {"done": 600, "total": 600}
        result = c.get(f"/api/v1/jobs/{job_id}/result").json()

    whole = read_tape(store / "big.parquet")
    a = Assumptions(
        prepayment=Speed(SpeedKind.CPR, rate=0.1),
        default=Speed(SpeedKind.CDR, rate=0.03),
        severity=0.3,
        recovery_lag_months=4,
        advancing=False,
    )
    ref = project_pool(whole, a, loan_level=True)
    assert result["n_loans"] == 600 and result["n_chunks"] == 3
    assert result["horizon_months"] == ref.n_periods
    for name in ("total_cashflow", "loss", "ending_balance"):
        got = np.asarray(result["columns"][name])
        assert np.abs(got - ref.columns[name]).max() <= 1e-12 * np.abs(ref.columns[name]).max()

    files = sorted(p.name for p in (store / "results" / "big").iterdir())
    assert files == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    loans = ds.dataset(store / "results" / "big", format="parquet").to_table()
    assert loans.column("loan_id").to_pylist() == whole.loan_id.tolist()
    assert ref.loan_level is not None
    np.testing.assert_allclose(
        loans.column("loss").to_numpy(), ref.loan_level.loss, rtol=1e-12, atol=1e-9
    )


def test_stream_forecast_refuses_paths_outside_the_store(tmp_path: Path, live_server) -> None:
    store = tmp_path / "tapes"
    store.mkdir()
    _write_tape(tmp_path / "outside.parquet", 10)
    server = live_server(make_settings(tmp_path, rate_limit_enabled=False, tape_store_dir=store))
    user = unique_user("stream")
    with server.client(user) as c:
        for body, field in (
            ({"tape_path": "../outside.parquet"}, "tape_path"),
            ({"tape_path": "missing.parquet"}, "tape_path"),
            ({"tape_path": "x", "chunk_loans": 0}, "chunk_loans"),
        ):
            if field == "chunk_loans":
                _write_tape(store / "x", 10)
            resp = c.post("/api/v1/jobs/", json={"kind": "stream_forecast", "payload": body})
            assert resp.status_code == 422, resp.text
            assert field in str(resp.json()), resp.text
        assert c.get("/api/v1/jobs/").json()["total"] == 0


def test_large_upload_is_kept_as_a_file_and_its_forecast_is_a_stream_job(
    tmp_path: Path, live_server
) -> None:
    store = tmp_path / "tapes"
    _write_tape(tmp_path / "up.parquet", 300)
    settings = make_settings(
        tmp_path,
        jobs_embedded_workers=2,
        rate_limit_enabled=False,
        tape_store_dir=store,
        stream_upload_bytes=1024,
        stream_chunk_loans=100,
    )
    server = live_server(settings)
    alice, bob = unique_user("alice"), unique_user("bob")
    with server.client(alice) as c:
        up = c.post(
            "/api/v1/pools", files={"file": ("up.parquet", (tmp_path / "up.parquet").read_bytes())}
        )
        assert up.status_code == 201, up.text
        pool = up.json()
        assert pool["origin"] == "tape" and pool["n_loans"] == 300
        assert (store / "pools" / f"{pool['pool_id']}.parquet").is_file()
        assert [p["pool_id"] for p in c.get("/api/v1/pools/").json()["items"]] == [pool["pool_id"]]
        body = {
            "name": "big",
            "pool": {"pool_id": pool["pool_id"]},
            "assumptions": {"prepayment": {"type": "cpr", "rate": 0.06}},
            "options": {"loan_level": True},
        }
        resp = c.post("/api/v1/cashflow/forecast", json=body)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        job = server.wait_job(alice, job_id, {"succeeded", "failed"}, timeout=120)
        assert job["state"] == "succeeded", job
        result = c.get(f"/api/v1/jobs/{job_id}/result").json()
        assert result["n_loans"] == 300 and result["n_chunks"] == 3
        # two scenarios on a streamed tape: a 422 naming the field
        two = {**body, "scenarios": [{"name": "a"}, {"name": "b"}]}
        assert c.post("/api/v1/cashflow/forecast", json=two).status_code == 422
    ref = project_pool(
        read_tape(tmp_path / "up.parquet"), Assumptions(prepayment=Speed(SpeedKind.CPR, rate=0.06))
    )
    got = np.asarray(result["columns"]["total_cashflow"])
    assert (
        np.abs(got - ref.columns["total_cashflow"]).max()
        <= 1e-12 * ref.columns["total_cashflow"].max()
    )
    assert len(list((store / "results").glob("*/part-*.parquet"))) == 3
    # another user cannot forecast it, nor reach its file through the jobs API
    with server.client(bob) as c:
        assert c.post("/api/v1/cashflow/forecast", json=body).status_code == 404
        tape = f"pools/{pool['pool_id']}.parquet"
        direct = {"kind": "stream_forecast", "payload": {"tape_path": tape}}
        assert c.post("/api/v1/jobs/", json=direct).status_code == 422
        stolen = {
            "kind": "stream_forecast",
            "payload": {"tape_path": tape, "pool": {"pool_id": pool["pool_id"]}},
        }
        assert c.post("/api/v1/jobs/", json=stolen).status_code == 404


def test_csv_upload_is_rewritten_as_parquet_chunks_and_bad_rows_are_422(
    tmp_path: Path, live_server
) -> None:
    import pyarrow.csv as pacsv

    store = tmp_path / "tapes"
    _write_tape(tmp_path / "t.parquet", 250)
    table = pq.read_table(tmp_path / "t.parquet").drop(["loan_id"])
    pacsv.write_csv(table, tmp_path / "t.csv")
    settings = make_settings(
        tmp_path,
        jobs_embedded_workers=1,
        rate_limit_enabled=False,
        tape_store_dir=store,
        stream_upload_bytes=1024,
        stream_chunk_loans=100,
    )
    server = live_server(settings)
    user = unique_user("csv")
    with server.client(user) as c:
        up = c.post("/api/v1/pools", files={"file": ("t.csv", (tmp_path / "t.csv").read_bytes())})
        assert up.status_code == 201, up.text
        pool = up.json()
        assert (
            pool["origin"] == "tape" and pool["n_loans"] == 250 and pool["source_format"] == "csv"
        )
        stored = pq.ParquetFile(store / "pools" / f"{pool['pool_id']}.parquet")
        assert [stored.metadata.row_group(g).num_rows for g in range(stored.num_row_groups)] == [
            100,
            100,
            50,
        ]
        whole = read_tape(tmp_path / "t.csv")
        assert abs(pool["total_balance"] - whole.total_balance) <= 1e-9 * whole.total_balance
        # a bad row in the third chunk is reported with its row number in the whole tape
        bal = table.column("balance").to_numpy().copy()
        bal[217] = -5.0
        pacsv.write_csv(table.set_column(0, "balance", pa.array(bal)), tmp_path / "bad.csv")
        bad = c.post(
            "/api/v1/pools", files={"file": ("bad.csv", (tmp_path / "bad.csv").read_bytes())}
        )
        assert bad.status_code == 422, bad.text
        assert 217 in bad.json()["detail"][0]["loc"], bad.text
        assert sorted(p.name for p in (store / "pools").iterdir()) == [f"{pool['pool_id']}.parquet"]
        resp = c.post(
            "/api/v1/cashflow/forecast", json={"name": "c", "pool": {"pool_id": pool["pool_id"]}}
        )
        assert resp.status_code == 202, resp.text
        job = server.wait_job(user, resp.json()["job_id"], {"succeeded", "failed"}, timeout=120)
        assert job["state"] == "succeeded", job
        result = c.get(f"/api/v1/jobs/{job['job_id']}/result").json()
    ref = project_pool(whole, Assumptions()).columns["total_cashflow"]
    got = np.asarray(result["columns"]["total_cashflow"])
    assert result["n_chunks"] == 3 and np.abs(got - ref).max() <= 1e-12 * ref.max()
