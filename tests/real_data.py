"""Where the shipped real panels live: ../shared/data beside the repository root (CI keeps a copy
of shared/ there); SHARED_DATA_DIR overrides it. Tests skip with this reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(
    os.environ.get("SHARED_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
UCI_LONG = DATA / "uci_credit_card_default" / "uci_credit_card_panel_long.csv.gz"
SBA = DATA / "sba_7a_sample" / "sba_7a_sample.csv.gz"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data folder absent: {path} (CI keeps shared/ beside the clone)")
    return path
