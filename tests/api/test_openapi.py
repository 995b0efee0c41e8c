"""OpenAPI: Swagger UI and ReDoc are served; every forecasts/pools/health route has a summary and
a description, and the schemas of the API contract carry examples."""

from __future__ import annotations

DOCUMENTED_TAGS = {"forecasts", "pools", "health"}
SCHEMAS_WITH_EXAMPLES = [
    "ForecastRequest",
    "ForecastResponse",
    "ForecastPage",
    "ForecastDetail",
    "ForecastSummary",
    "ProjectionsResponse",
    "LoanPage",
    "ScenarioResult",
    "LoanIn",
    "PoolRef",
    "AssumptionsIn",
    "ValuationIn",
    "PoolOut",
    "PoolPage",
    "HealthResponse",
]


async def test_docs_pages_are_served(client) -> None:
    for path in ("/docs", "/redoc"):
        resp = await client.get(path)
        assert resp.status_code == 200 and "text/html" in resp.headers["content-type"]
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Credit Cashflow Engine"


async def test_routes_and_schemas_are_documented(client) -> None:
    spec = (await client.get("/openapi.json")).json()
    ops = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if DOCUMENTED_TAGS & set(op.get("tags", []))
    ]
    paths = {p for p, _, _ in ops}
    for expected in (
        "/api/v1/cashflow/forecast",
        "/api/v1/forecasts/",
        "/api/v1/forecasts/{forecast_id}",
        "/api/v1/forecasts/{forecast_id}/projections",
        "/api/v1/forecasts/{forecast_id}/loans",
        "/api/v1/forecasts/{forecast_id}/loans.parquet",
        "/api/v1/pools",
        "/api/v1/pools/",
        "/api/v1/pools/{pool_id}",
        "/health",
    ):
        assert expected in paths, expected
    for path, method, op in ops:
        assert op.get("summary"), (path, method)
        assert op.get("description"), (path, method)
    schemas = spec["components"]["schemas"]
    for name in SCHEMAS_WITH_EXAMPLES:
        assert schemas[name].get("examples"), name
    forecast = spec["paths"]["/api/v1/cashflow/forecast"]["post"]
    assert {"401", "413", "422"} <= set(forecast["responses"])
