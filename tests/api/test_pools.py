"""Loan tapes: CSV and Parquet uploads with a column mapping, validated by the engine (every bad
row reported), stored per user, and usable in a forecast as {"pool_id": ...}."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.main import create_app
from tests.conftest import make_settings, running_client, unique_user
from tests.factories import bearer as H

POOLS = "/api/v1/pools"
FORECAST = "/api/v1/cashflow/forecast"
MAPPING = {
    "Id": "loan_id",
    "CurrentBal": "balance",
    "NoteRate": "rate",
    "OrigTerm": "original_term_months",
    "Age": "age_months",
}
TAPE_ROWS = [
    ("L1", 300000.0, 0.065, 360, 0, "CA"),
    ("L2", 150000.0, 0.055, 180, 24, "NY"),
    ("L3", 80000.0, 0.07, 120, 6, "TX"),
]


def tape_csv(rows=TAPE_ROWS) -> bytes:
    lines = ["Id,CurrentBal,NoteRate,OrigTerm,Age,State"]
    lines += [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def tape_parquet(rows=TAPE_ROWS) -> bytes:
    cols = list(zip(*rows, strict=True))
    table = pa.table(
        {
            name: list(col)
            for name, col in zip(
                ["Id", "CurrentBal", "NoteRate", "OrigTerm", "Age", "State"], cols, strict=True
            )
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def inline_loans() -> list[dict]:
    return [
        {"loan_id": i, "balance": b, "rate": r, "original_term_months": t, "age_months": a}
        for i, b, r, t, a, _ in TAPE_ROWS
    ]


ASSUMPTIONS = {
    "prepayment": {"type": "cpr", "rate": 0.08},
    "default": {"type": "cdr", "rate": 0.01},
    "severity": 0.4,
    "recovery_lag_months": 3,
}


async def _upload(c, user, data: bytes, filename: str, mapping=MAPPING, **form):
    files = {"file": (filename, data, "application/octet-stream")}
    fields = {"column_map": json.dumps(mapping), **form}
    return await c.post(POOLS, files=files, data=fields, headers=H(user))


@pytest.mark.parametrize(("fmt", "filename"), [("csv", "tape.csv"), ("parquet", "tape.bin")])
async def test_upload_then_forecast_by_pool_id(client, fmt, filename) -> None:
    user = unique_user()
    data = tape_csv() if fmt == "csv" else tape_parquet()
    resp = await _upload(client, user, data, filename, name="September tape")
    assert resp.status_code == 201, resp.text
    pool = resp.json()
    assert pool["source_format"] == fmt and pool["origin"] == "upload"
    assert pool["n_loans"] == 3 and pool["total_balance"] == pytest.approx(530000.0)
    # "State" maps to no loan field: named in the answer, not stored (issue 17, item 3)
    assert "State" not in pool["columns"] and pool["column_map"] == MAPPING
    assert pool["unmapped_columns"] == ["State"] and pool["kept_columns"] == []
    assert any("'State'" in w for w in pool["warnings"])
    stored = (await client.get(f"{POOLS}/{pool['pool_id']}", headers=H(user))).json()
    assert stored == {**pool, "unmapped_columns": [], "kept_columns": [], "warnings": []}
    listed = (await client.get(f"{POOLS}/", headers=H(user))).json()
    assert [p["pool_id"] for p in listed["items"]] == [pool["pool_id"]]

    by_id = await client.post(
        FORECAST,
        headers=H(user),
        json={"name": "by id", "pool": {"pool_id": pool["pool_id"]}, "assumptions": ASSUMPTIONS},
    )
    inline = await client.post(
        FORECAST,
        headers=H(user),
        json={"name": "inline", "pool": {"loans": inline_loans()}, "assumptions": ASSUMPTIONS},
    )
    assert by_id.status_code == inline.status_code == 201
    assert by_id.json()["pool_id"] == pool["pool_id"]
    assert by_id.json()["scenarios"] == inline.json()["scenarios"]
    # inline pools are stored too, but only uploads are listed
    assert (await client.get(f"{POOLS}/", headers=H(user))).json()["total"] == 1


async def test_every_bad_row_is_reported(client) -> None:
    rows = list(TAPE_ROWS) + [
        ("B1", -5.0, 0.05, 360, 0, "CA"),
        ("B2", 1000.0, 0.05, 360, 400, "CA"),
        ("B3", 1000.0, 1.7, 360, 0, "CA"),
    ]
    resp = await _upload(client, unique_user(), tape_csv(rows), "bad.csv")
    assert resp.status_code == 422, resp.text
    locs = [p["loc"] for p in resp.json()["detail"]]
    for row, field in ((3, "balance"), (4, "age_months"), (5, "rate")):
        assert any(loc[:2] == ["body", "file"] and row in loc and field in loc for loc in locs), (
            row,
            field,
            locs,
        )


async def test_other_users_pool_is_404(client) -> None:
    alice, bob = unique_user("alice"), unique_user("bob")
    pool_id = (await _upload(client, alice, tape_csv(), "t.csv")).json()["pool_id"]
    assert (await client.get(f"{POOLS}/{pool_id}", headers=H(bob))).status_code == 404
    assert (await client.get(f"{POOLS}/", headers=H(bob))).json()["total"] == 0
    run = await client.post(
        FORECAST, headers=H(bob), json={"name": "x", "pool": {"pool_id": pool_id}}
    )
    assert run.status_code == 404


async def test_upload_errors(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, max_upload_bytes=2048, max_pool_loans=2))
    user = unique_user()
    async with running_client(app) as c:
        big = tape_csv([("L", 1.0, 0.05, 12, 0, "x" * 50)] * 60)
        r = await _upload(c, user, big, "big.csv")
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        r = await _upload(c, user, tape_csv(), "t.csv")  # 3 loans > MAX_POOL_LOANS=2
        assert r.status_code == 422 and "MAX_POOL_LOANS" in r.json()["detail"][0]["msg"]
        r = await c.post(
            POOLS,
            files={"file": ("t.csv", tape_csv())},
            data={"column_map": "{not json"},
            headers=H(user),
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "column_map"]
        r = await c.post(POOLS, files={"file": ("t.csv", b"")}, headers=H(user))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
        r = await c.post(POOLS, data={"name": "no file"}, headers=H(user))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
        r = await c.post(POOLS, files={"file": ("t.csv", tape_csv())})
        assert r.status_code == 401
