#!/usr/bin/env bash
# Rebuild the /ui dashboard from ui/ into app/ui/static (committed, so running the service needs
# no Node). Needs Node 20+ and npm; installs the exact versions of ui/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../ui"
npm ci --no-audit --no-fund
npm run build
# axe-core for the browser accessibility test, vendored so a fresh clone needs no npm
cp node_modules/axe-core/axe.min.js ../tests/ui/vendor/axe.min.js
echo "built: app/ui/static (and tests/ui/vendor/axe.min.js)"
