"""monitoring/: the Grafana dashboard loads and every panel's query names a metric that a
running app exports on /metrics (read from the app, not from a list); the alert rules likewise;
`promtool` checks the rules and the Prometheus config when it is installed; the engine metrics
the dashboard plots (loans, Monte Carlo paths, job queue depth and age, workers) move with the
work done."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.models.base import new_id, utcnow
from app.models.tables import Job
from tests.conftest import make_settings, running_client, sign_token
from tests.ops._promql import metric_names

ROOT = Path(__file__).resolve().parents[2]
MON = ROOT / "monitoring"
DASHBOARD = MON / "grafana" / "dashboards" / "cfe-service.json"
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def exported(text: str) -> dict[str, str]:
    """Sample names a scrape can contain (families with no sample yet included) -> type."""
    out = {}
    for family in text_string_to_metric_families(text):
        for suffix in _SUFFIXES.get(family.type, ("",)):
            out[family.name + suffix] = family.type
        for s in family.samples:
            out[s.name] = family.type
    return out


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


@pytest.fixture
async def scrape(tmp_path: Path):
    app = create_app(make_settings(tmp_path, rate_limit_enabled=False))
    async with running_client(app) as client:

        async def get() -> str:
            resp = await client.get("/metrics")
            assert resp.status_code == 200
            return resp.text

        yield app, client, get


def panels(dash: dict) -> list[dict]:
    out = []
    for p in dash["panels"]:
        out.extend(p.get("panels", []))
        if p["type"] != "row":
            out.append(p)
    return out


def test_promql_names_parser() -> None:
    """The extractor the dashboard test relies on finds metrics and only metrics."""
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{route!~"/a|/b"}[5m])))'
    ) == {"x_bucket"}
    assert metric_names(
        "sum(rate(a_total[$__rate_interval])) / clamp_min(sum(rate(b_total[1h] offset 1h)), 1e-9) > 0.5"
    ) == {"a_total", "b_total"}
    assert metric_names('(sum(w) or vector(0)) == 0 and on() sum(q{state="queued"}) > 0') == {
        "w",
        "q",
    }
    assert metric_names("up == 0") == {"up"}


async def test_dashboard_queries_name_exported_metrics(scrape) -> None:
    _, _, get = scrape
    names = exported(await get())
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "cfe-service"
    ps = panels(dash)
    assert len(ps) >= 20
    wanted = {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "engine_loans_total",
        "montecarlo_paths_total",
        "cache_requests_total",
        "jobs_queue_depth",
        "jobs_queue_oldest_age_seconds",
        "job_duration_seconds_bucket",
        "jobs_workers",
    }
    used: set[str] = set()
    for p in ps:
        assert p["targets"], f"panel {p['title']!r} has no query"
        assert p["datasource"]["uid"] == "${datasource}"
        for t in p["targets"]:
            found = metric_names(t["expr"])
            assert found, f"panel {p['title']!r}: no metric in {t['expr']!r}"
            missing = found - set(names)
            assert not missing, f"panel {p['title']!r} queries {missing}, not on /metrics"
            used |= found
    assert wanted <= used
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))


async def test_alert_rules_name_exported_metrics(scrape) -> None:
    _, _, get = scrape
    names = set(exported(await get())) | {"up"}  # up: Prometheus' own per target
    rules = [
        r for g in yaml.safe_load((MON / "alerts.yml").read_text())["groups"] for r in g["rules"]
    ]
    alerts = {r["alert"] for r in rules}
    assert {
        "CfeHighErrorRate",
        "CfeHighLatencyP95",
        "CfeJobQueueStuck",
        "CfeWorkerDown",
        "CfeRedisDown",
        "CfeCacheHitRateCollapse",
    } <= alerts
    for r in rules:
        found = metric_names(r["expr"])
        assert found and found <= names, (r["alert"], found - names)


def test_provisioning_points_at_the_dashboard_and_datasource() -> None:
    ds = yaml.safe_load((MON / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert ds["datasources"][0]["uid"] == "prometheus"
    prov = yaml.safe_load((MON / "grafana/provisioning/dashboards/cfe.yml").read_text())
    path = prov["providers"][0]["options"]["path"]
    for compose in ("docker-compose.yml", "docker-compose.prod.yml"):
        grafana = yaml.safe_load((ROOT / compose).read_text())["services"]["grafana"]
        assert f"./monitoring/grafana/dashboards:{path}:ro" in grafana["volumes"]
        assert (
            "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
        )


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian: apt-get install prometheus)",
)
def test_promtool_checks_rules_config_and_alert_unit_tests() -> None:
    for args in (
        ["check", "rules", "alerts.yml"],
        ["check", "config", "prometheus.yml"],
        ["test", "rules", "alerts_test.yml"],
    ):  # the alerts fire on synthetic series
        out = subprocess.run(
            ["promtool", *args], cwd=MON, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian: apt-get install prometheus)",
)
def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel query (as a recording rule): a syntax error fails here, not
    in front of someone reading the dashboard during an incident."""
    dash = json.loads(DASHBOARD.read_text())
    rules = [
        {"record": f"cfe:dashboard_query_{i}", "expr": t["expr"].replace("$__rate_interval", "1m")}
        for i, t in enumerate(t for p in panels(dash) for t in p["targets"])
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(rules)} rules found" in out.stdout


async def test_engine_and_job_metrics_move(scrape) -> None:
    app, client, get = scrape
    before = samples(await get())
    headers = {"Authorization": f"Bearer {sign_token('ops-user')}"}
    loans = [
        {"loan_id": f"L{i}", "balance": 100000 + i, "rate": 0.06, "original_term_months": 120}
        for i in range(3)
    ]
    body = {
        "name": "ops",
        "pool": {"loans": loans},
        "assumptions": {"prepayment": {"type": "cpr", "rate": 0.06}},
        "scenarios": [
            {"name": "a", "assumptions": {}},
            {"name": "b", "assumptions": {"severity": 0.5}},
        ],
    }
    assert (
        await client.post("/api/v1/cashflow/forecast", json=body, headers=headers)
    ).status_code == 201
    mc = {
        "pool": {
            "balance": [600000.0],
            "note_rate": [0.065],
            "net_rate": [0.06],
            "remaining_term": [120],
            "age": [12],
        },
        "curve": {"times": [1, 10], "rates": [0.04, 0.045]},
        "rate_model": {"type": "hull_white", "mean_reversion": 0.05, "volatility": 0.01},
        "n_paths": 150,
        "block_size": 50,
        "seed": 3,
    }
    for _ in range(2):  # the second is a cache hit: no new paths
        resp = await client.post("/api/v1/cashflow/monte-carlo", json=mc, headers=headers)
        assert resp.status_code == 200, resp.text
    async with app.state.database.session() as session:
        for age in (120, 30):
            session.add(
                Job(
                    id=new_id(),
                    owner_id="ops-user",
                    kind="monte_carlo",
                    state="queued",
                    payload={},
                    created_at=utcnow() - timedelta(seconds=age),
                )
            )
        session.add(
            Job(
                id=new_id(),
                owner_id="ops-user",
                kind="monte_carlo",
                state="running",
                payload={},
                created_at=utcnow(),
            )
        )
        session.add(
            Job(
                id=new_id(),
                owner_id="ops-user",
                kind="monte_carlo",
                state="succeeded",
                payload={},
                created_at=utcnow() - timedelta(hours=1),
            )
        )
        await session.commit()
    after = samples(await get())

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("engine_loans_total", kind="forecast") == 6  # 3 loans x 2 scenarios
    assert moved("montecarlo_paths_total", mode="direct") == 150
    assert after[("jobs_queue_depth", (("state", "queued"),))] == 2
    assert after[("jobs_queue_depth", (("state", "running"),))] == 1
    oldest_age = after[("jobs_queue_oldest_age_seconds", ())]
    assert 120 <= oldest_age < 180
    assert (
        after[("jobs_workers", (("pool", "embedded"),))] == app.state.settings.jobs_embedded_workers
    )
