"""docs/TUTORIAL.md runs as written: a real uvicorn on a free loopback port (temp SQLite, local
single-user mode, as `scripts/serve.sh` gives), and every ```bash block of the tutorial run in
order by bash in one working directory, with API set; each must exit 0 and print the text of
the `<!-- expect: ... -->` comment after it. A block preceded by `<!-- needs: uci -->` needs the
shipped UCI panel (../shared/data or SHARED_DATA_DIR) and is skipped when it is absent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.hardening._server import serving
from tests.real_data import DATA, UCI_LONG

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "TUTORIAL.md"
BLOCK = re.compile(
    r"(?P<needs><!-- needs: (?P<need>\w+) -->\n)?```bash\n(?P<code>.*?)```\n"
    r"(?:<!-- expect: (?P<expect>.*?) -->)?",
    re.S,
)


def blocks() -> list[tuple[str, str | None, str | None]]:
    text = TUTORIAL.read_text()
    found = [(m["code"], m["expect"], m["need"]) for m in BLOCK.finditer(text)]
    assert len(found) == text.count("```bash"), "a bash block the parser did not see"
    return found


def test_every_bash_block_states_what_it_prints() -> None:
    found = blocks()
    assert len(found) >= 10
    assert [code[:40] for code, expect, _ in found if not expect] == []


def test_tutorial_runs_against_a_real_server(tmp_path: Path) -> None:
    from app.main import create_app

    settings = make_settings(tmp_path, supabase_jwt_secret=None)  # local mode, like serve.sh
    assert not settings.auth_configured
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "SHARED_DATA_DIR": str(DATA),
    }
    ran = 0
    with serving(create_app(settings)) as base:
        env["API"] = base
        for code, expect, need in blocks():
            if need == "uci" and not UCI_LONG.exists():
                continue
            assert need in (None, "uci"), need
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            shown = f"--- block:\n{code}\n--- stdout:\n{done.stdout}\n--- stderr:\n{done.stderr}"
            assert done.returncode == 0, shown
            assert expect is not None and expect in done.stdout, shown
            ran += 1
    if not UCI_LONG.exists():
        pytest.skip(f"ran {ran} blocks; the UCI block needs {UCI_LONG}")
