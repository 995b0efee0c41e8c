"""Dump the served /openapi.json of this tree, or prove it byte-identical to another git ref's.

    PYTHONPATH=. .venv/bin/python scripts/openapi_diff.py --write /tmp/openapi.json
    PYTHONPATH=. .venv/bin/python scripts/openapi_diff.py --against /tmp/openapi.json
    PYTHONPATH=. .venv/bin/python scripts/openapi_diff.py --ref main

The bytes are those the app serves (FastAPI's JSON encoding), built with the default settings.
`--ref` exports that commit's tree with `git archive` into a temporary folder and dumps it
there with the same interpreter. Exit status 0 when identical, 1 with a unified diff of the
pretty-printed documents otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUMP = (
    "import logging, sys\n"
    "logging.disable(logging.CRITICAL)\n"
    "from fastapi.testclient import TestClient\n"
    "from app.main import create_app\n"
    "sys.stdout.buffer.write(TestClient(create_app()).get('/openapi.json').content)\n"
)


def dump(tree: Path) -> bytes:
    """The /openapi.json bytes of the app in `tree` (run in a fresh interpreter)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", DUMP], cwd=tree, env=env, capture_output=True, check=True
    )
    return out.stdout


def dump_ref(ref: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", ref], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        return dump(Path(tmp))


def _pretty(data: bytes) -> list[str]:
    return json.dumps(json.loads(data), indent=1, sort_keys=True).splitlines(keepends=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write this tree's document to a file")
    group.add_argument("--against", type=Path, help="compare with a document written before")
    group.add_argument("--ref", help="compare with the document of a git ref (e.g. main)")
    args = parser.parse_args(argv)
    mine = dump(ROOT)
    if args.write:
        args.write.write_bytes(mine)
        print(f"wrote {len(mine)} bytes to {args.write}")
        return 0
    theirs = args.against.read_bytes() if args.against else dump_ref(args.ref)
    if mine == theirs:
        print(f"identical: {len(mine)} bytes")
        return 0
    sys.stdout.writelines(difflib.unified_diff(_pretty(theirs), _pretty(mine), "before", "after"))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
