#!/usr/bin/env python
"""Container health: GET http://127.0.0.1:$PORT/health must answer 200 (`ok` or `degraded`);
503 (the database is down) or no answer is unhealthy. Standard library only, no curl needed."""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
try:
    with urllib.request.urlopen(url, timeout=4) as resp:  # noqa: S310 - fixed loopback URL
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
