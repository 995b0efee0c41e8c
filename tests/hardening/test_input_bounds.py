"""Hostile input at the edge answers a 422/415 naming the field, never a 500 (issue 12 items
1, 3, 6): huge offsets, huge terms and balances, compressed or binary uploads, tapes over the
row/size/text limits, empty tapes and uploads declared as images."""

from __future__ import annotations

import gzip
import io
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.engine.errors import InvalidInput
from app.engine.pool import MAX_PROBLEMS_PER_CHECK, LoanPool
from app.engine.tape import TapeLimits, read_tape
from app.main import create_app
from tests.conftest import make_settings, running_client, sign_token, unique_user

POOLS = "/api/v1/pools"
CSV = b"balance,rate,original_term_months\n1000,0.05,360\n2000,0.06,180\n"


def H(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sign_token(sub)}"}


def _locs(resp) -> list[list]:
    return [p["loc"] for p in resp.json()["detail"]]


@pytest.mark.parametrize(
    "path", ["/api/v1/pools/", "/api/v1/jobs/", "/api/v1/scenarios/", "/api/v1/forecasts/"]
)
async def test_huge_offset_is_422_naming_offset(client, path) -> None:
    r = await client.get(path, params={"offset": 2**63}, headers=H(unique_user()))
    assert r.status_code == 422, r.text
    assert ["query", "offset"] in _locs(r)


async def test_huge_offset_on_scenario_runs(client) -> None:
    r = await client.get(
        "/api/v1/scenarios/nope/runs", params={"offset": 2**64}, headers=H(unique_user())
    )
    assert r.status_code == 422
    assert ["query", "offset"] in _locs(r)


@pytest.mark.parametrize(
    ("field", "value"),
    [("original_term_months", 1e30), ("balance", 1e308), ("age_months", 1e19)],
)
def test_pool_bounds_name_the_field(field, value) -> None:
    cols = {"balance": [1000.0], "rate": [0.05], "original_term_months": [360.0]}
    cols[field] = [value]
    with pytest.raises(InvalidInput) as info:
        LoanPool.from_columns(cols)
    assert field in {p.column for p in info.value.problems}


def test_empty_pool_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no loans"):
        read_tape(b"balance,rate,original_term_months\n", format="csv")


def test_problem_list_is_bounded() -> None:
    n = 50_000
    with pytest.raises(InvalidInput) as info:
        LoanPool.from_columns(
            {"balance": ["x"] * n, "rate": [0.05] * n, "original_term_months": [360] * n}
        )
    problems = info.value.problems
    assert len(problems) == MAX_PROBLEMS_PER_CHECK + 1
    summary = [p for p in problems if p.row is None]
    assert summary and f"{n - MAX_PROBLEMS_PER_CHECK} more rows" in summary[0].reason


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("tape.csv", data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (gzip.compress(CSV), "gzip"),
        (_zip(CSV), "zip"),
        (b"balance,rate\n\xff\xfe\x00\x01garbage", "NUL"),
        (b"bal\xe9ance,rate,original_term_months\n1,0.05,360\n", "UTF-8"),
    ],
)
def test_compressed_or_binary_csv_is_refused(data, reason) -> None:
    with pytest.raises(InvalidInput) as info:
        read_tape(data, format="csv")
    assert info.value.problems[0].column == "tape"
    assert reason in info.value.problems[0].reason


def test_csv_row_limit_stops_early() -> None:
    body = b"balance,rate,original_term_months\n" + b"1000,0.05,360\n" * 300_000
    with pytest.raises(InvalidInput, match="more than 1000 rows"):
        read_tape(body, format="csv", limits=TapeLimits(max_rows=1000))


def test_long_text_cell_is_refused() -> None:
    body = b"loan_id,balance,rate,original_term_months\n" + b"x" * 5000 + b",1000,0.05,360\n"
    with pytest.raises(InvalidInput) as info:
        read_tape(body, format="csv", limits=TapeLimits(max_string_bytes=1024))
    assert info.value.problems[0].column == "loan_id"


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def test_parquet_rows_checked_from_metadata_before_decoding(monkeypatch) -> None:
    n = 3_000_000
    data = _parquet(pa.table({"balance": pa.array([1.0] * 10).take([0] * n)}))
    assert len(data) < 200_000  # tiny file, many rows

    def no_decode(*_a, **_k):
        raise AssertionError("decoded before the row count was checked")

    monkeypatch.setattr(pq.ParquetFile, "read", no_decode)
    with pytest.raises(InvalidInput, match="3000000 rows is more than the limit of 1000000"):
        read_tape(data, format="parquet", limits=TapeLimits(max_rows=1_000_000))


def test_parquet_decoded_size_is_capped() -> None:
    n = 20_000
    table = pa.table({"balance": [1000.0] * n, "note": ["y" * 900] * n})
    with pytest.raises(InvalidInput, match="decodes to"):
        read_tape(_parquet(table), format="parquet", limits=TapeLimits(max_decoded_bytes=1 << 20))


async def test_upload_edges_over_http(tmp_path) -> None:
    app = create_app(make_settings(tmp_path, max_pool_loans=10))
    user = H(unique_user())
    async with running_client(app) as client:
        png = await client.post(POOLS, files={"file": ("t.csv", CSV, "image/png")}, headers=user)
        assert png.status_code == 415, png.text
        empty = await client.post(
            POOLS,
            files={"file": ("t.csv", b"balance,rate,original_term_months\n", "text/csv")},
            headers=user,
        )
        assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][:2] == ["body", "file"]
        gz = await client.post(
            POOLS, files={"file": ("t.csv", gzip.compress(CSV), "text/csv")}, headers=user
        )
        assert gz.status_code == 422 and "gzip" in gz.text
        many = b"balance,rate,original_term_months\n" + b"1,0.05,12\n" * 11
        big = await client.post(POOLS, files={"file": ("t.csv", many, "text/csv")}, headers=user)
        assert big.status_code == 422 and "more than 10 rows" in big.text
        rich = b"balance,rate,original_term_months\n1e308,0.05,360\n1000,0.05,1e30\n"
        bounded = await client.post(
            POOLS, files={"file": ("t.csv", rich, "text/csv")}, headers=user
        )
        assert bounded.status_code == 422, bounded.text
        locs = _locs(bounded)
        assert ["body", "file", 0, "balance"] in locs
        assert ["body", "file", 1, "original_term_months"] in locs
        ok = await client.post(POOLS, files={"file": ("t.csv", CSV, "text/csv")}, headers=user)
        assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-3"])
async def test_created_filters_take_iso_8601_only(client, value) -> None:
    r = await client.get(
        "/api/v1/forecasts/", params={"created_before": value}, headers=H(unique_user())
    )
    assert r.status_code == 422
    assert ["query", "created_before"] in [p["loc"][:2] for p in r.json()["detail"]]
    ok = await client.get(
        "/api/v1/forecasts/",
        params={"created_before": "2030-01-01T00:00:00Z"},
        headers=H(unique_user()),
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("pool", "loc"),
    [
        (
            {"loans": [{"balance": 1000, "rate": 0.05, "original_term_months": 10**30}]},
            ["body", "pool", "loans", 0, "original_term_months"],
        ),
        (
            {
                "loans": [
                    {
                        "balance": 1000,
                        "rate": 0.05,
                        "original_term_months": 360,
                        "age_months": 2**63,
                    }
                ]
            },
            ["body", "pool", "loans", 0, "age_months"],
        ),
        (
            {
                "loans": [
                    {
                        "balance": 1000,
                        "rate": 0.05,
                        "original_term_months": 360,
                        "extra_field": 10**40,
                    }
                ]
            },
            ["body", "pool", "loans"],
        ),
        (
            {"columns": {"balance": [1000], "rate": [0.05], "original_term_months": [10**30]}},
            ["body", "pool", "columns", "original_term_months"],
        ),
    ],
)
async def test_huge_json_integers_in_a_forecast_are_422(client, pool, loc) -> None:
    r = await client.post(
        "/api/v1/cashflow/forecast", json={"name": "big", "pool": pool}, headers=H(unique_user())
    )
    assert r.status_code == 422, r.text
    assert loc in [p["loc"][: len(loc)] for p in r.json()["detail"]]


def test_integers_beyond_2_53_are_located_problems_not_arrow_errors() -> None:
    with pytest.raises(InvalidInput) as info:
        LoanPool.from_columns(
            {
                "balance": [2**60],
                "rate": [0.05],
                "original_term_months": [360],
                "payment_frequency": [2**62],
            }
        )
    columns = {p.column for p in info.value.problems}
    assert {"balance", "payment_frequency"} <= columns
