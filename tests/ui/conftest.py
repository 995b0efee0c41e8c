"""Browser fixtures: a real uvicorn server on a free loopback port (temp SQLite, embedded
defaults; auth on or off) and Debian's headless Chromium driven by Selenium through
/usr/bin/chromedriver (never a downloaded browser). Tests skip, with the reason, when Chromium,
chromedriver or Selenium are missing; `scripts/test.sh` installs Chromium when it can (root + apt).
Screenshots are written to tests/ui/artifacts/ (or $UI_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS_DIR", ROOT / "tests" / "ui" / "artifacts"))
AXE_JS = ROOT / "tests" / "ui" / "vendor" / "axe.min.js"
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,900",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    auth: bool
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(tmp: Path, auth: bool, *flags: str) -> LiveServer:
    port = _free_port()
    log = tmp / "server.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "DATABASE_", "REDIS_", "CELERY_", "UPSTASH_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    args = (
        [sys.executable, "-m", "tests.ui._server", str(port), str(tmp)]
        + (["auth"] if auth else [])
        + list(flags)
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return LiveServer(url, auth, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def _stop(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def server_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("ui-local"), auth=False)
    yield srv
    _stop(srv)


@pytest.fixture(scope="module")
def server_supabase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Auth on, SUPABASE_URL at a stand-in of Supabase's sign-in (tests/ui/_fake_supabase.py)."""
    srv = start_server(tmp_path_factory.mktemp("ui-supabase"), True, "fake-supabase")
    yield srv
    _stop(srv)


@pytest.fixture(scope="module")
def server_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("ui-auth"), auth=True)
    yield srv
    _stop(srv)


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    for path, name in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")):
        if not (Path(path).is_file() or shutil.which(path)):
            return (
                f"{name} not found at {path}: `apt-get install -y chromium chromium-driver` "
                "(scripts/test.sh does it when run as root with apt)"
            )
    return None


@dataclass
class Browser:
    driver: Any
    downloads: Path

    def wait(self, condition: Any, timeout: float = 30) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)

    def css(self, selector: str, timeout: float = 30) -> Any:
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, selector), timeout)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def open(self, base: str, page: str) -> None:
        self.driver.get(f"{base}/ui/#/{page}")
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # the whole page: grow the window to the document height for the shot
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1366, max(900, min(int(height) + 40, 6000)))
        self.driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.3)  # charts resize on the window's resize event
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1366, 900)
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core violations of the current page (the vendored axe.min.js)."""
        self.driver.execute_script(AXE_JS.read_text())
        return list(
            self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {resultTypes: ['violations']})"
                ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
                " help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
                ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
            )
        )

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(60)
    try:
        yield Browser(driver, downloads)
    finally:
        driver.quit()
