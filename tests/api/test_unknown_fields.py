"""One rule for unknown fields (issue 17, item 3): refused with a 422 naming the field, at the
top level, inside a loan, in nested objects and in the columnar pool form; the asset-class
routes have their loan fields in their schemas (so they are known, not extra); an uploaded
tape's columns that map to no field are named in the upload's answer and not stored, while
asset-class columns are kept (and reported as such) for the asset-class routes."""

from __future__ import annotations

import pytest

FORECAST = "/api/v1/cashflow/forecast"
COMMERCIAL = "/api/v1/specialized-assets/commercial-loans/analyze"
CONSUMER = "/api/v1/specialized-assets/consumer-credit/analyze"
LOAN = {"loan_id": "L1", "balance": 100000.0, "rate": 0.06, "original_term_months": 120}
CRE = {**LOAN, "property_type": "office", "noi": 9000.0, "property_value": 130000.0}


def _locs(resp) -> list[list]:
    assert resp.status_code == 422, resp.text
    return [d["loc"] for d in resp.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"pool": {"loans": [{**LOAN, "colour": "red"}]}}, ["body", "pool", "loans", 0, "colour"]),
        ({"pool": {"loans": [LOAN]}, "colour": 1}, ["body", "colour"]),
        (
            {
                "pool": {"loans": [LOAN]},
                "assumptions": {"prepayment": {"type": "cpr", "rate": 0.1, "ramp": 3}},
            },
            ["body", "assumptions", "prepayment", "cpr", "ramp"],
        ),
        (
            {"pool": {"loans": [LOAN]}, "valuation": {"discount_rate": 0.05, "spred": 1}},
            ["body", "valuation", "spred"],
        ),
    ],
)
async def test_forecast_refuses_unknown_fields_naming_them(client, auth, body, loc) -> None:
    resp = await client.post(FORECAST, json={"name": "x", **body}, headers=auth("uf"))
    assert loc in _locs(resp)


async def test_columnar_pool_refuses_an_unknown_column_naming_it(client, auth) -> None:
    cols = {k: [v] for k, v in LOAN.items()} | {"colour": ["red"]}
    resp = await client.post(
        FORECAST, json={"name": "x", "pool": {"columns": cols}}, headers=auth("uf")
    )
    assert _locs(resp) == [["body", "pool", "columns"]]
    assert "'colour'" in resp.json()["detail"][0]["msg"]


async def test_asset_class_loan_fields_are_in_their_schemas(client, auth) -> None:
    h = auth("uf")
    ok = await client.post(COMMERCIAL, json={"pool": {"loans": [CRE]}}, headers=h)
    assert ok.status_code == 200, ok.text
    typo = await client.post(
        COMMERCIAL, json={"pool": {"loans": [{**CRE, "noii": 1.0}]}}, headers=h
    )
    assert ["body", "pool", "loans", 0, "noii"] in _locs(typo)
    # a commercial field is not a field of a plain forecast loan
    plain = await client.post(FORECAST, json={"name": "x", "pool": {"loans": [CRE]}}, headers=h)
    assert ["body", "pool", "loans", 0, "noi"] in _locs(plain)

    consumer = {**LOAN, "loan_type": "auto", "credit_score": 700, "grade": "B"}
    ok = await client.post(CONSUMER, json={"pool": {"loans": [consumer]}}, headers=h)
    assert ok.status_code == 200, ok.text
    bad = await client.post(
        CONSUMER, json={"pool": {"loans": [{**consumer, "colour": 1}]}}, headers=h
    )
    assert ["body", "pool", "loans", 0, "colour"] in _locs(bad)
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert {"property_type", "noi"} <= set(schemas["CommercialLoanIn"]["properties"])
    assert {"loan_type", "credit_score"} <= set(schemas["ConsumerLoanIn"]["properties"])
    for name in ("LoanIn", "CommercialLoanIn", "ConsumerLoanIn"):
        assert schemas[name]["additionalProperties"] is False


async def test_tape_reports_unmapped_columns_and_keeps_commercial_ones(client, auth) -> None:
    h = auth("uf-tape")
    csv = (
        b"loan_id,balance,rate,original_term_months,property_type,noi,Colour\n"
        b"A,100000,0.06,120,office,9000,red\n"
        b"B,200000,0.055,120,retail,17000,blue\n"
    )
    up = await client.post("/api/v1/pools", files={"file": ("t.csv", csv, "text/csv")}, headers=h)
    assert up.status_code == 201, up.text
    out = up.json()
    assert out["unmapped_columns"] == ["Colour"]
    assert sorted(out["kept_columns"]) == ["noi", "property_type"]
    assert "Colour" not in out["columns"] and {"noi", "property_type"} <= set(out["columns"])
    kept = [w for w in out["warnings"] if "kept for asset-class analyses" in w]
    assert len(kept) == 2 and any("'Colour'" in w and "not stored" in w for w in out["warnings"])
    # the commercial columns ride along to the commercial route
    run = await client.post(COMMERCIAL, json={"pool": {"pool_id": out["pool_id"]}}, headers=h)
    assert run.status_code == 200, run.text
    assert [loan["property_type"] for loan in run.json()["loans"]] == ["office", "retail"]
