"""The Parquet blobs the service stores: float columns round-trip bit for bit and are written
without a dictionary (it only costs time there); text columns keep theirs."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.services import columnar


def _encodings(blob: bytes) -> dict[str, set[str]]:
    meta = pq.ParquetFile(io.BytesIO(blob)).metadata
    out: dict[str, set[str]] = {}
    for rg in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            col = meta.row_group(rg).column(c)
            out.setdefault(col.path_in_schema, set()).update(col.encodings)
    return out


def test_floats_plain_text_dictionary_values_exact() -> None:
    rng = np.random.default_rng(5)
    values = rng.standard_normal(1000) * 1e6
    table = pa.table(
        {"balance": values, "state": pa.array(["CA", "TX", "NY", "CA"] * 250), "n": np.arange(1000)}
    )
    blob = columnar.table_to_parquet(table)
    enc = _encodings(blob)
    assert not any("DICTIONARY" in e for e in enc["balance"]), enc["balance"]
    assert any("DICTIONARY" in e for e in enc["state"]), enc["state"]
    back = columnar.parquet_to_table(blob)
    assert np.array_equal(back.column("balance").to_numpy(), values)  # bit for bit
    assert back.column("state").to_pylist() == table.column("state").to_pylist()
    assert pq.ParquetFile(io.BytesIO(blob)).metadata.row_group(0).column(0).compression == "ZSTD"
