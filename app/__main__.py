"""`python -m app ...` is the `cashflow-engine` command (see app/cli.py)."""

from app.cli import main

raise SystemExit(main())
