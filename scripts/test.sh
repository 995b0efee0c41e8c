#!/usr/bin/env bash
# Set up and run the whole test suite. Uses the local PostgreSQL, Redis and RabbitMQ when they
# answer (see .ci/run, which starts them); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
# The /ui browser tests (tests/ui) drive Debian's Chromium through chromedriver: install them when
# missing and we can (root with apt); otherwise those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver for the browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
      >/dev/null || echo "could not install chromium: the browser tests will skip" >&2
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m pytest "$@"
