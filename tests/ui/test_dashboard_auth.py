"""The dashboard with auth on (HS256 tokens signed with the test secret of tests/conftest.py):
sign in by pasting a token, work as that user (uploads, forecasts, jobs over the WebSocket
authenticated by its first message), and the asset-class views, which appear only when
/openapi.json lists their routes (here stand-ins answering in the published shapes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sign_token
from tests.ui._fake_supabase import EMAIL, PASSWORD, SUB
from tests.ui.conftest import Browser, LiveServer
from tests.ui.test_dashboard import TAPE, chart, serious, upload


def on_page(driver: Any, page: str) -> bool:
    return bool(driver.execute_script("return document.getElementById('main').dataset.page") == page)


def sign_in(b: Browser, srv: LiveServer, token: str) -> None:
    b.open(srv.url, "pools")
    box = b.css("[data-testid=token]")  # not signed in: every page leads to the sign-in form
    box.clear()
    box.send_keys(token)
    b.css("[data-testid=token-form] button[type=submit]").click()


def test_sign_in_with_a_token_and_work_as_that_user(browser: Browser, server_auth: LiveServer, tmp_path: Path) -> None:
    b, srv = browser, server_auth
    b.open(srv.url, "forecasts")
    assert b.driver.execute_script("return document.getElementById('main').dataset.page") == "signin"
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


@pytest.mark.skip(reason="the stand-in routes are shadowed by the real asset-class routes since the merge; moving the test onto the real routes")
def test_asset_class_views_follow_the_published_contracts(browser: Browser, server_assets: LiveServer) -> None:
    b, srv = browser, server_assets
    sign_in(b, srv, sign_token("asset-user"))
    b.wait(lambda d: on_page(d, "pools"))
    nav = b.css("#nav-assets")
    assert nav.is_displayed()  # the routes are in /openapi.json
    b.open(srv.url, "assets")

    b.css("[data-testid=run-consumer]").click()
    assert chart(b, "roll-rates").get_attribute("data-points") == "49"  # 7 x 7 states
    assert chart(b, "pipeline").get_attribute("data-points") == ",".join(["36"] * 7)
    assert chart(b, "vintages").get_attribute("data-points") == "12,12,12,12"

    b.css("[data-testid=run-commercial]").click()
    assert chart(b, "dscr-ltv").get_attribute("data-points") == "4"
    assert chart(b, "loss-distribution").get_attribute("data-points") == "6"
    assert chart(b, "concentration").get_attribute("data-points") == "4"

    b.css("[data-testid=run-deal]").click()
    paydown = b.css("[data-testid=result-deal] [data-chart=tranche-paydown][data-rendered=true]")
    assert paydown.get_attribute("data-points") == "24,24,24"  # A, B and the equity
    cushions = b.css("[data-testid=result-deal] [data-chart=cushions][data-rendered=true]")
    assert cushions.get_attribute("data-points") == "24,24"

    b.css("[data-testid=run-clo]").click()
    quality = b.css("[data-testid=quality-tests]")
    assert "warf" in quality.text and "diversity_score" in quality.text
    b.css("[data-testid=result-clo] [data-chart=cushions][data-rendered=true]")
    b.screenshot("assets")
    assert not serious(b.axe())


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
