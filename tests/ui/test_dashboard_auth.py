"""The dashboard with auth on (HS256 tokens signed with the test secret of tests/conftest.py):
sign in by pasting a token, work as that user (uploads, forecasts, jobs over the WebSocket
authenticated by its first message), and the asset-class views on the real routes
(consumer credit, commercial loans, CLO/CDO, deals/run): each view's example is run in the
browser, and its charts must hold as many points as the API's own answer to the same body implies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import sign_token
from tests.ui._fake_supabase import EMAIL, PASSWORD, SUB
from tests.ui.conftest import Browser, LiveServer
from tests.ui.test_dashboard import TAPE, serious, upload


def on_page(driver: Any, page: str) -> bool:
    return bool(
        driver.execute_script("return document.getElementById('main').dataset.page") == page
    )


def sign_in(b: Browser, srv: LiveServer, token: str) -> None:
    b.open(srv.url, "pools")
    box = b.css("[data-testid=token]")  # not signed in: every page leads to the sign-in form
    box.clear()
    box.send_keys(token)
    b.css("[data-testid=token-form] button[type=submit]").click()


def test_sign_in_with_a_token_and_work_as_that_user(
    browser: Browser, server_auth: LiveServer, tmp_path: Path
) -> None:
    b, srv = browser, server_auth
    b.open(srv.url, "forecasts")
    assert (
        b.driver.execute_script("return document.getElementById('main').dataset.page") == "signin"
    )
    b.screenshot("auth-signin")
    assert not serious(b.axe())

    sign_in(b, srv, sign_token("someone", secret="not-the-secret-" * 4))
    err = b.css("main .field-error:not(:empty)")
    assert "invalid token" in err.text
    b.screenshot("auth-signin-refused")

    sign_in(b, srv, sign_token("ui-user"))
    b.wait(lambda d: on_page(d, "pools"))
    assert b.css("#who").text == "Signed in: ui-user"
    tape = tmp_path / "tape.csv"
    tape.write_text(TAPE)
    pool_id = upload(b, srv, tape)
    with srv.client(sign_token("ui-user")) as mine, srv.client(sign_token("other-user")) as other:
        assert mine.get(f"/api/v1/pools/{pool_id}").status_code == 200
        assert other.get(f"/api/v1/pools/{pool_id}").status_code == 404

    # a job followed over the WebSocket, authenticated by the token in its first message
    b.open(srv.url, f"forecasts?pool={pool_id}")
    b.css("[data-testid=as-job]").click()
    b.css("[data-testid=run-forecast]").click()
    b.wait(lambda d: "#/jobs/" in d.current_url)
    job_id = b.driver.current_url.rsplit("/", 1)[1]
    bar = b.css(f"[data-testid=job-progress][data-job-id='{job_id}']")
    b.wait(lambda d: bar.get_attribute("aria-valuenow") == "100", timeout=60)
    assert bar.get_attribute("data-ws-trail").split(",")[-1] == "100"
    assert b.driver.execute_script("return document.body.dataset.ws") == "ready"
    b.screenshot("auth-jobs")

    b.css("#signout").click()
    b.css("[data-testid=token]")
    assert b.css("#who").text == "Not signed in"


def test_supabase_email_sign_in(browser: Browser, server_supabase: LiveServer) -> None:
    b, srv = browser, server_supabase
    b.open(srv.url, "signin")
    email, password = b.css("[data-testid=email]"), b.css("[data-testid=password]")
    email.send_keys(EMAIL)
    password.send_keys("wrong")
    b.css("[data-testid=supabase-signin]").click()
    b.wait(lambda d: password.get_attribute("aria-invalid") == "true")
    assert "Invalid login credentials" in b.css("#" + password.get_attribute("id") + "-err").text
    b.screenshot("auth-supabase-refused")
    password.clear()
    password.send_keys(PASSWORD)
    b.css("[data-testid=supabase-signin]").click()
    b.wait(lambda d: on_page(d, "pools"))
    assert b.css("#who").text == f"Signed in: {SUB}"
    assert not serious(b.axe())


# ---- asset-class views on the real routes ------------------------------------------------------
ASSETS = "/api/v1/specialized-assets"
TOKEN_USER = "asset-user"


def points(el: Any) -> list[int]:
    return [int(x) for x in el.get_attribute("data-points").split(",") if x]


def run_example(
    b: Browser, srv: LiveServer, key: str, path: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the asset page signed in, load the view's example, run it; return the body the
    page sent and the API's own answer to that body (asked again here, over HTTP)."""
    if not (b.driver.current_url.startswith(srv.url) and on_page(b.driver, "assets")):
        sign_in(b, srv, sign_token(TOKEN_USER))
        b.wait(lambda d: on_page(d, "pools"))
        assert b.css("#nav-assets").is_displayed()  # the routes are in /openapi.json
        b.open(srv.url, "assets")
    b.css(f"[data-testid=example-{key}]").click()
    b.css(f"[data-testid=run-{key}]").click()
    b.wait(
        lambda d: (
            b.css(f"[data-testid=run-{key}]").get_attribute("aria-busy") == "false"
            and b.all(f"[data-testid=result-{key}] section")
        )
    )
    body = json.loads(b.css(f"[data-testid=request-{key}]").get_attribute("value"))
    with srv.client(sign_token(TOKEN_USER)) as api:
        res = api.post(path, json=body)
    assert res.status_code == 200, res.text
    return body, res.json()


def in_result(b: Browser, key: str, name: str) -> Any:
    return b.css(f"[data-testid=result-{key}] [data-chart={name}][data-rendered=true]", timeout=60)


def test_consumer_credit_view_on_the_real_route(browser: Browser, server_auth: LiveServer) -> None:
    b, srv = browser, server_auth
    _, r = run_example(b, srv, "consumer", f"{ASSETS}/consumer-credit/analyze")
    states = r["roll_rates"]["states"]
    assert points(in_result(b, "consumer", "roll-rates")) == [
        len(states) ** 2
    ]  # one cell per matrix entry
    mob, vintages = r["vintages"]["months_on_book"], r["vintages"]["vintages"]
    assert len(vintages) == 4
    assert points(in_result(b, "consumer", "vintages")) == [len(mob)] * (
        2 * len(vintages)
    )  # observed + completed
    pipe = r["pipeline"]
    assert points(in_result(b, "consumer", "pipeline")) == [len(pipe["months"])] * len(
        pipe["balances"]
    )
    counts = b.css(
        "[data-testid=result-consumer] table"
    ).text  # the counts table holds the API's counts
    assert all(
        f"{int(c):,}" in counts for row in r["roll_rates"]["counts"] for c in row if c is not None
    )
    b.screenshot("assets-consumer")

    # a 422 lands next to the control of the field it names
    months = b.css("[data-testid='knob-consumer-pipeline.months']")
    months.clear()
    months.send_keys("0")
    b.css("[data-testid=run-consumer]").click()
    b.wait(lambda d: months.get_attribute("aria-invalid") == "true")
    with srv.client(sign_token(TOKEN_USER)) as api:
        bad = api.post(f"{ASSETS}/consumer-credit/analyze", json={"pipeline": {"months": 0}}).json()
    msg = next(p["msg"] for p in bad["detail"] if p["loc"] == ["body", "pipeline", "months"])
    assert msg in b.css("#" + months.get_attribute("id") + "-err").text
    b.screenshot("assets-consumer-error")


def test_commercial_view_on_the_real_route(browser: Browser, server_auth: LiveServer) -> None:
    b, srv = browser, server_auth
    body, r = run_example(b, srv, "commercial", f"{ASSETS}/commercial-loans/analyze")
    loans = r["loans"]
    assert len(loans) == len(body["pool"]["loans"]) == 4
    assert points(in_result(b, "commercial", "dscr-ltv")) == [len(loans)]  # one point per loan
    pl = r["portfolio_loss"]
    assert pl["expected_loss"] > 0  # the example is risky enough to draw a distribution
    assert points(in_result(b, "commercial", "loss-distribution")) == [
        len(pl["histogram"]["counts"]),
        len(pl["vasicek"]["histogram"]["probabilities"]),
    ]
    assert points(in_result(b, "commercial", "concentration")) == [
        len(r["concentration"]["by_property_type"])
    ]
    measures = b.css("[data-testid=loss-measures]").text
    assert f"{pl['var_99']:,.0f}" in measures and f"{pl['vasicek']['var_99']:,.0f}" in measures
    b.screenshot("assets-commercial")


def test_deal_and_clo_views_on_the_real_routes(browser: Browser, server_auth: LiveServer) -> None:
    b, srv = browser, server_auth
    body, r = run_example(b, srv, "deal", "/api/v1/deals/run")
    debt = [n for n, t in r["tranches"].items() if "balance" in t]
    assert debt == ["A", "B"]  # the equity tranche has cash, no balance
    assert points(in_result(b, "deal", "tranche-paydown")) == [r["n_periods"]] * len(
        debt
    )  # one series per tranche
    assert points(in_result(b, "deal", "cushions")) == [r["n_periods"]] * len(body["deal"]["tests"])
    assert (
        "Cash in equals cash out: yes"
        in b.css("[data-testid=result-deal] [data-testid=deal-checks]").text
    )

    _, c = run_example(b, srv, "clo", f"{ASSETS}/clo-cdo/analyze")
    rows = b.all("[data-testid=result-clo] [data-testid=quality-tests] tbody tr")
    assert [row.find_element("css selector", "th").text for row in rows] == list(c["quality_tests"])
    results = {row.find_element("css selector", "th").text: row.text.split()[-1] for row in rows}
    assert results["wal"] == ("pass" if c["quality_tests"]["wal"]["passed"] else "FAIL")
    n = c["deal"]["n_periods"]
    assert points(in_result(b, "clo", "tranche-paydown")) == [n, n]
    assert points(in_result(b, "clo", "cushions")) == [n, n]
    b.screenshot("assets-deals")
    assert not serious(b.axe())
    assert not [e for e in b.console_errors() if "Content Security Policy" in e]


def test_clo_tranche_analysis_view_on_the_real_route(
    browser: Browser, server_auth: LiveServer
) -> None:
    b, srv = browser, server_auth
    body, r = run_example(b, srv, "tranches", f"{ASSETS}/clo-cdo/tranche-analysis")
    assert body["prices"]["B"] == 0.98
    rows = b.all("[data-testid=result-tranches] [data-testid=tranche-analytics] tbody tr")
    assert [row.find_element("css selector", "th").text for row in rows] == list(r["tranches"])
    debt = [n for n, t in r["tranches"].items() if t["role"] != "equity"]
    assert points(in_result(b, "tranches", "breakeven-cdr")) == [
        len(debt)
    ]  # one bar per debt tranche
    assert points(in_result(b, "tranches", "cushions")) == [len(v) for v in r["cushions"].values()]
    # not JSON: the reason next to the request editor, nothing sent
    text = b.css("[data-testid=request-tranches]")
    text.clear()
    text.send_keys("{not json")
    b.css("[data-testid=run-tranches]").click()
    b.wait(lambda d: text.get_attribute("aria-invalid") == "true")
    assert "Not valid JSON" in b.css("#" + text.get_attribute("id") + "-err").text
    b.screenshot("assets-tranches")
    assert not serious(b.axe())
