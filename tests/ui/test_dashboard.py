"""End-to-end in headless Chromium, local single user (no auth configured): upload a tape with a
column mapping, run a two-scenario forecast, check the charts' point counts against the API,
download the CSV and compare it with the API's, follow a job to 100% over the WebSocket, run the
risk views, and check each main page with axe-core (no serious or critical violations)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import Browser, LiveServer

TAPE = (
    "LoanID,CurrentBal,NoteRate,OrigTerm,age_months\n"
    "T1,250000,0.065,360,12\n"
    "T2,125000,0.055,180,24\n"
    "T3,310000,0.0725,360,3\n"
    "T4,90000,0.06,240,48\n"
)
BAD_TAPE = "LoanID,CurrentBal,NoteRate,OrigTerm\nB1,1000,0.05,360\nB2,-5,0.05,360\nB3,2000,0.05,0\n"


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def upload(b: Browser, srv: LiveServer, tape: Path) -> str:
    b.open(srv.url, "pools")
    b.css("[data-testid=tape-file]").send_keys(str(tape))
    b.wait(lambda d: len(b.all("[data-testid=preview-table] tbody tr")) == 4)
    # the mapping was guessed from the header: CurrentBal -> balance, ...
    mapped = {
        s.get_attribute("data-col"): s.get_attribute("value") for s in b.all("select[data-col]")
    }
    assert mapped["CurrentBal"] == "balance" and mapped["NoteRate"] == "rate"
    assert mapped["OrigTerm"] == "original_term_months" and mapped["LoanID"] == "loan_id"
    b.css("[data-testid=upload]").click()
    ok = b.css("[data-testid=upload-ok]")
    return str(ok.get_attribute("data-pool-id"))


def run_forecast(b: Browser, srv: LiveServer, pool_id: str, *, as_job: bool = False) -> None:
    b.open(srv.url, f"forecasts?pool={pool_id}")
    assert b.css("[data-testid=pool-select]").get_attribute("value") == pool_id
    assert len(b.all("[data-testid=scenario-name]")) == 2  # base and stress
    if as_job:
        b.css("[data-testid=as-job]").click()
    b.css("[data-testid=run-forecast]").click()


def chart(b: Browser, name: str) -> Any:
    el = b.css(f"[data-chart={name}][data-rendered=true]", timeout=60)
    return el


def test_upload_forecast_charts_and_csv(
    browser: Browser, server_local: LiveServer, tmp_path: Path
) -> None:
    b, srv = browser, server_local
    pool_id = upload(b, srv, _write(tmp_path, "tape.csv", TAPE))
    with srv.client() as api:
        pool = api.get(f"/api/v1/pools/{pool_id}").json()
    assert pool["n_loans"] == 4 and pool["total_balance"] == pytest.approx(775000)
    b.screenshot("pools")
    assert b.css("#nav-assets").is_displayed()  # the asset-class routes are in /openapi.json

    run_forecast(b, srv, pool_id)
    result = b.css("[data-testid=forecast-result][data-forecast-id]", timeout=60)
    forecast_id = result.get_attribute("data-forecast-id")
    with srv.client() as api:
        detail = api.get(f"/api/v1/forecasts/{forecast_id}").json()
        api_csv = api.get(
            f"/api/v1/forecasts/{forecast_id}/projections", params={"format": "csv"}
        ).content
    periods = [s["n_periods"] for s in detail["scenarios"]]
    assert [s["name"] for s in detail["scenarios"]] == ["base", "stress"]

    balance = chart(b, "balance")
    assert balance.get_attribute("data-series") == "2"
    assert balance.get_attribute("data-points") == ",".join(map(str, periods))
    # T3 has 360 - 3 months left; the page advances P&I by default, so no recovery-lag tail
    # (docs/methodology/projection.md, Horizon N)
    assert periods[0] == 357
    comp = chart(b, "composition")
    assert comp.get_attribute("data-points") == ",".join([str(periods[0])] * 4)
    losses = chart(b, "losses")
    assert losses.get_attribute("data-series") == "4"
    # the canvas was drawn at the element's size
    size = b.driver.execute_script(
        "const c = document.querySelector('[data-chart=balance] canvas'); return [c.width, c.height]"
    )
    assert size[0] > 300 and size[1] > 200
    rows = b.all("[data-testid=analytics-table] tbody tr")
    assert len(rows) == 2

    b.css("[data-testid=download-csv]").click()
    target = b.downloads / f"forecast-{forecast_id}.csv"
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), list(b.downloads.iterdir())
    assert target.read_bytes() == api_csv
    b.screenshot("forecast-result")
    assert not serious(b.axe())
    assert not [e for e in b.console_errors() if "Content Security Policy" in e]


def test_loan_level_parquet_download(browser: Browser, server_local: LiveServer) -> None:
    b, srv = browser, server_local
    b.open(srv.url, "forecasts")
    b.css("[data-testid=pool-select]")
    b.driver.execute_script(
        "const s = document.querySelector('[data-testid=pool-select]'); s.value = '__sample';"
        "s.dispatchEvent(new Event('change'))"
    )
    b.css("#opt-loan-level").click()
    b.css("[data-testid=run-forecast]").click()
    result = b.css("[data-testid=forecast-result][data-forecast-id]", timeout=60)
    forecast_id = result.get_attribute("data-forecast-id")
    b.css("[data-testid=download-parquet]").click()  # the first scenario's loan-level table
    target = b.downloads / f"forecast-{forecast_id}-base-loans.parquet"
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    with srv.client() as api:
        expected = api.get(
            f"/api/v1/forecasts/{forecast_id}/loans.parquet", params={"scenario": "base"}
        )
    assert target.read_bytes() == expected.content
    assert target.read_bytes()[:4] == b"PAR1"


def test_field_errors_are_shown_next_to_the_field(
    browser: Browser, server_local: LiveServer, tmp_path: Path
) -> None:
    b, srv = browser, server_local
    # row-level errors of a bad tape, as the API reports them
    b.open(srv.url, "pools")
    b.css("[data-testid=tape-file]").send_keys(str(_write(tmp_path, "bad.csv", BAD_TAPE)))
    b.wait(lambda d: len(b.all("[data-testid=preview-table] tbody tr")) == 3)
    b.css("[data-testid=upload]").click()
    cells = b.css("[data-testid=row-errors]").text
    with srv.client() as api:
        resp = api.post(
            "/api/v1/pools",
            files={"file": ("bad.csv", BAD_TAPE.encode())},
            data={
                "column_map": '{"LoanID": "loan_id", "CurrentBal": "balance", "NoteRate": "rate", "OrigTerm": "original_term_months"}'
            },
        )
    assert resp.status_code == 422
    for problem in resp.json()["detail"]:
        assert problem["msg"] in cells
    b.screenshot("pools-row-errors")

    # a 422 on an assumption lands next to that assumption's input
    b.open(srv.url, "forecasts")
    severity = b.css("input[name=severity][data-loc='assumptions.severity']")
    severity.clear()
    severity.send_keys("2")
    b.css("[data-testid=run-forecast]").click()
    b.wait(lambda d: severity.get_attribute("aria-invalid") == "true")
    err = b.driver.find_element("id", f"{severity.get_attribute('id')}-err")
    assert "less than or equal to 1" in err.text
    # inside a discriminated union (prepayment.psa.speed) and inside a scenario
    speed = b.css("input[name=prepayment_value][data-loc='assumptions.prepayment.speed']")
    speed.clear()
    speed.send_keys("-5")
    stress_rate = b.css(
        "input[name=default_value][data-loc='scenarios.1.assumptions.default.rate']"
    )
    stress_rate.clear()
    stress_rate.send_keys("7")
    b.css("[data-testid=run-forecast]").click()
    b.wait(lambda d: speed.get_attribute("aria-invalid") == "true")
    assert (
        "greater than or equal to 0"
        in b.driver.find_element("id", f"{speed.get_attribute('id')}-err").text
    )
    assert stress_rate.get_attribute("aria-invalid") == "true"
    assert (
        "less than or equal to 1"
        in b.driver.find_element("id", f"{stress_rate.get_attribute('id')}-err").text
    )
    b.screenshot("forecast-field-error")


def test_parquet_tape_with_a_json_mapping(
    browser: Browser, server_local: LiveServer, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    b, srv = browser, server_local
    path = tmp_path / "tape.parquet"
    pq.write_table(
        pa.table({"bal": [1000.0, 2000.0], "cpn": [0.05, 0.06], "term": [120, 240]}), path
    )
    b.open(srv.url, "pools")
    b.css("[data-testid=tape-file]").send_keys(str(path))
    mapping = b.css("#raw-map")
    mapping.send_keys('{"bal": "balance", "cpn": "rate", "term": "original_term_months"}')
    b.css("[data-testid=upload]").click()
    pool_id = b.css("[data-testid=upload-ok]").get_attribute("data-pool-id")
    with srv.client() as api:
        pool = api.get(f"/api/v1/pools/{pool_id}").json()
    assert pool["source_format"] == "parquet" and pool["n_loans"] == 2
    # a mapping that is not JSON: the API's 422 on column_map, next to the mapping
    b.open(srv.url, "pools")
    b.css("[data-testid=tape-file]").send_keys(str(path))
    b.css("#raw-map").send_keys("{not json")
    b.css("[data-testid=upload]").click()
    b.wait(lambda d: "not valid JSON" in b.css("#column-map-err").text)


def test_job_progress_reaches_100_over_websocket(
    browser: Browser, server_local: LiveServer, tmp_path: Path
) -> None:
    b, srv = browser, server_local
    pool_id = upload(b, srv, _write(tmp_path, "tape2.csv", TAPE))
    run_forecast(b, srv, pool_id, as_job=True)
    b.wait(lambda d: "#/jobs/" in d.current_url)
    job_id = b.driver.current_url.rsplit("/", 1)[1]
    bar = b.css(f"[data-testid=job-progress][data-job-id='{job_id}']")
    b.wait(lambda d: bar.get_attribute("aria-valuenow") == "100", timeout=60)
    assert int(bar.get_attribute("data-ws-updates") or 0) >= 1
    assert bar.get_attribute("data-ws-trail").split(",")[-1] == "100"  # 100% came over the socket
    assert b.driver.execute_script("return document.body.dataset.ws") == "ready"
    item = b.css(f"li.job[data-job-id='{job_id}']")
    assert item.get_attribute("data-state") == "succeeded"
    b.screenshot("jobs")
    item.find_element("css selector", "[data-testid=job-open]").click()
    result = b.css("[data-testid=forecast-result][data-forecast-id]", timeout=60)
    with srv.client() as api:
        job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert result.get_attribute("data-forecast-id") == job["result_id"]
    chart(b, "balance")


def test_cancel_a_queued_job(browser: Browser, server_local: LiveServer) -> None:
    b, srv = browser, server_local
    payload = {
        # 20 rep-lines x 2,000,000 paths (tens of seconds): the cancel lands long before the end
        "pool": {"balance": [1e6] * 20, "note_rate": [0.065] * 20, "remaining_term": [360] * 20},
        "curve": {"times": [1, 10], "rates": [0.04, 0.04]},
        "n_paths": 2_000_000,
        "seed": 3,
    }
    with srv.client() as api:
        job = api.post(
            "/api/v1/jobs/", json={"kind": "monte_carlo", "name": "big MC", "payload": payload}
        ).json()
    b.open(srv.url, f"jobs/{job['job_id']}")
    item = b.css(f"li.job[data-job-id='{job['job_id']}']", timeout=60)
    cancel = item.find_element("css selector", "[data-testid=job-cancel]")
    b.wait(lambda d: cancel.is_displayed(), timeout=30)
    cancel.click()
    # the row shows the DELETE answer and keeps it: a late "running" message must not undo it
    b.wait(lambda d: item.get_attribute("data-state") == "cancelled", timeout=30)
    time.sleep(1.0)  # four progress intervals (JOBS_PROGRESS_INTERVAL_SECONDS=0.25 by default)
    assert item.get_attribute("data-state") == "cancelled"
    with srv.client() as api:
        assert api.get(f"/api/v1/jobs/{job['job_id']}").json()["state"] == "cancelled"


def test_risk_views(browser: Browser, server_local: LiveServer) -> None:
    b, srv = browser, server_local
    b.open(srv.url, "risk")
    b.wait(lambda d: len(b.all("main form")) == 3)
    forms = b.all("main form")
    grid_form, stress_form, mc_form = forms[0], forms[1], forms[2]
    grid_form.find_element("css selector", "button[type=submit]").click()
    heat = chart(b, "grid")
    assert heat.get_attribute("data-points") == "16"  # 4 x 4
    stress_form.find_element("css selector", "button[type=submit]").click()
    stress = chart(b, "stress")
    with srv.client() as api:
        shocks = api.post(
            "/api/v1/scenarios/stress",
            json={
                "pool": {"loans": [{"balance": 1, "rate": 0.05, "original_term_months": 12}]},
                "valuation": {"discount_rate": 0.05},
                "standard": True,
            },
        ).json()["shocks"]
    assert stress.get_attribute("data-points") == str(len(shocks))
    mc_form.find_element("css selector", "button[type=submit]").click()
    hist = chart(b, "mc-histogram")
    assert hist.get_attribute("data-points") == "25"
    fan = chart(b, "mc-fan")
    assert fan.get_attribute("data-points") == "9,9,9"
    assert "OAS" in b.css("[data-testid=oas-table]").text
    b.screenshot("risk")
    assert not serious(b.axe())


def test_monte_carlo_job_opens_its_result(browser: Browser, server_local: LiveServer) -> None:
    b, srv = browser, server_local
    b.open(srv.url, "risk")
    b.wait(lambda d: len(b.all("main form")) == 3)
    mc_form = b.all("main form")[2]
    mc_form.find_element("css selector", "#mc-async").click()
    mc_form.find_element("css selector", "button[type=submit]").click()
    b.wait(lambda d: "#/jobs/" in d.current_url)
    job_id = b.driver.current_url.rsplit("/", 1)[1]
    bar = b.css(f"[data-testid=job-progress][data-job-id='{job_id}']")
    b.wait(lambda d: bar.get_attribute("aria-valuenow") == "100", timeout=60)
    assert bar.get_attribute("data-ws-trail").split(",")[-1] == "100"
    b.css(f"li.job[data-job-id='{job_id}'] [data-testid=job-open]").click()
    b.wait(lambda d: f"job={job_id}" in d.current_url)
    hist = chart(b, "mc-histogram")
    with srv.client() as api:
        result = api.get(f"/api/v1/jobs/{job_id}/result").json()
    assert hist.get_attribute("data-points") == str(len(result["pv"]["histogram"]["counts"]))


def test_keyboard_only(browser: Browser, server_local: LiveServer) -> None:
    """Skip link first, then the navigation; a forecast runs from the keyboard alone."""
    from selenium.webdriver.common.keys import Keys

    b, srv = browser, server_local
    b.open(srv.url, "forecasts")
    b.css("[data-testid=forecast-form]")
    # start sequential navigation at the top of the page (a click on the header text)
    from selenium.webdriver.common.action_chains import ActionChains

    b.driver.find_element("css selector", ".brand").click()
    ActionChains(b.driver).send_keys(Keys.TAB).perform()
    assert b.driver.switch_to.active_element.text == "Sign in"  # first link of the navigation
    ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    active = b.driver.switch_to.active_element
    assert active.get_attribute("class") == "skip", active.get_attribute("outerHTML")[:200]
    url = b.driver.current_url
    ActionChains(b.driver).send_keys(Keys.ENTER).perform()  # skip to the content, same page
    assert b.driver.switch_to.active_element.get_attribute("id") == "main"
    assert b.driver.current_url == url
    # from the run button, Enter submits the form
    run = b.css("[data-testid=run-forecast]")
    b.driver.execute_script("arguments[0].focus()", run)
    b.driver.switch_to.active_element.send_keys(Keys.ENTER)
    b.css("[data-testid=forecast-result][data-forecast-id]", timeout=60)


@pytest.mark.parametrize("page", ["signin", "pools", "forecasts", "risk", "jobs"])
def test_accessibility(browser: Browser, server_local: LiveServer, page: str) -> None:
    b, srv = browser, server_local
    b.open(srv.url, page)
    time.sleep(0.5)
    bad = serious(b.axe())
    assert not bad, bad
    b.screenshot(f"page-{page}")
    assert not [e for e in b.console_errors() if "Content Security Policy" in e]
