#!/usr/bin/env python
"""Container health, for both roles of the image (standard library only, no curl needed).

API (`api`, `api-dev`): GET http://127.0.0.1:$PORT/health must answer 200 (`ok` or `degraded`);
503 (the database is down) or no answer is unhealthy. Celery worker (`worker`: a celery worker process runs here):
its metrics endpoint on JOBS_WORKER_METRICS_PORT must answer (it is started once the worker is
ready); without that port, `celery inspect ping` must reach this worker through the broker.
"""

import os
import socket
import subprocess
import sys
import urllib.request


def _runs_celery_worker() -> bool:
    """A celery worker process in this container (PID 1, or a child of an init like tini)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"celery") for a in args) and b"worker" in args:
            return True
    return False


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=4) as resp:  # noqa: S310 - fixed loopback URL
        return int(resp.status)


def main() -> int:
    try:
        if not _runs_celery_worker():
            return 0 if _get(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health") == 200 else 1
        port = os.environ.get("JOBS_WORKER_METRICS_PORT")
        if port:
            return 0 if _get(f"http://127.0.0.1:{port}/metrics") == 200 else 1
        ping = subprocess.run(
            ["celery", "-A", "app.tasks.celery_app", "inspect", "ping", "--timeout", "5",
             "-d", f"worker@{socket.gethostname()}"],
            capture_output=True, timeout=25, check=False,
        )
        return ping.returncode
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
