"""Fresh-clone start-up measurement (issue 17, item 6): `scripts/serve.sh` from a fresh clone,
then three warm restarts. Usage: git clone <repo> /tmp/fresh && python3 bench/first_start.py /tmp/fresh

Times from the serve.sh process start: set-up done (uvicorn exec'd, read from /proc), /health
answered, first forecast answered; from the uvicorn start to /health and to the first forecast;
and the second forecast as the steady-state reference. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CLONE = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/fresh17")
BODY = {
    "name": "first forecast",
    "pool": {
        "loans": [
            {
                "loan_id": "L1",
                "balance": 250000.0,
                "rate": 0.065,
                "original_term_months": 360,
                "age_months": 12,
            }
        ]
    },
    "assumptions": {
        "prepayment": {"type": "psa", "speed": 150},
        "default": {"type": "cdr", "rate": 0.02},
        "severity": 0.35,
        "recovery_lag_months": 6,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(url: str, data: dict[str, Any] | None = None, timeout: float = 60) -> int:
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        resp.read()
        return int(resp.status)


def wait_for_exec(proc: subprocess.Popen[bytes]) -> float:
    """The moment serve.sh has exec'd uvicorn (its command line names uvicorn)."""
    while True:
        try:
            cmd = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        except FileNotFoundError:
            cmd = b""
        if b"uvicorn" in cmd:
            return time.perf_counter()
        if proc.poll() is not None:
            raise SystemExit(f"serve.sh exited with {proc.returncode}: see {CLONE}/serve-*.log")
        time.sleep(0.02)


def wait_for_health(port: int) -> float:
    while True:
        try:
            if request(f"http://127.0.0.1:{port}/health", timeout=5) == 200:
                return time.perf_counter()
        except OSError:
            time.sleep(0.02)


def run_once(label: str) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("PYTHONPATH", None)
    with open(CLONE / f"serve-{label}.log", "w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=CLONE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            t_exec = wait_for_exec(proc)
            t_health = wait_for_health(port)
            url = f"http://127.0.0.1:{port}/api/v1/cashflow/forecast"
            assert request(url, BODY, timeout=300) == 201
            t_first = time.perf_counter()
            assert request(url, BODY, timeout=300) == 201
            second = time.perf_counter() - t_first
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    return {
        "run": label,
        "setup_s": round(t_exec - t0, 2),
        "serve_start_to_health_s": round(t_health - t0, 2),
        "serve_start_to_first_forecast_s": round(t_first - t0, 2),
        "uvicorn_start_to_health_s": round(t_health - t_exec, 2),
        "uvicorn_start_to_first_forecast_s": round(t_first - t_exec, 2),
        "first_forecast_request_s": round(t_first - t_health, 3),
        "second_forecast_request_s": round(second, 3),
        "load_after": os.getloadavg(),
    }


def main() -> None:
    print("load before", os.getloadavg(), flush=True)
    out = []
    for label in ("fresh", "warm1", "warm2", "warm3"):
        out.append(run_once(label))
        print(json.dumps(out[-1]), flush=True)
    (CLONE / "first_start.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
