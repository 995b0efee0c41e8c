"""The blobs the service stores: small tables as uncompressed Arrow IPC, larger ones as Parquet
(zstd, float columns without a dictionary, text columns with one); either form reads back bit
for bit, and Parquet blobs written before the IPC form still read."""

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


def _table(n: int) -> pa.Table:
    rng = np.random.default_rng(5)
    return pa.table(
        {
            "balance": rng.standard_normal(n) * 1e6,
            "state": pa.array(["CA", "TX", "NY", "CA"] * (n // 4)),
            "n": np.arange(n),
        }
    )


def test_large_table_is_parquet_floats_plain_text_dictionary_values_exact() -> None:
    table = _table(40_000)  # 40,000 x (8 + 8 + text) bytes: over SMALL_BLOB_BYTES
    assert table.get_total_buffer_size() > columnar.SMALL_BLOB_BYTES
    blob = columnar.table_to_blob(table)
    assert blob[:4] == b"PAR1" and columnar.blob_format(table) == "parquet"
    enc = _encodings(blob)
    assert not any("DICTIONARY" in e for e in enc["balance"]), enc["balance"]
    assert any("DICTIONARY" in e for e in enc["state"]), enc["state"]
    back = columnar.blob_to_table(blob)
    assert np.array_equal(back.column("balance").to_numpy(), table.column("balance").to_numpy())
    assert back.column("state").to_pylist() == table.column("state").to_pylist()
    assert pq.ParquetFile(io.BytesIO(blob)).metadata.row_group(0).column(0).compression == "ZSTD"


def test_small_table_is_arrow_ipc_and_round_trips_exactly() -> None:
    table = _table(1000)
    assert table.get_total_buffer_size() <= columnar.SMALL_BLOB_BYTES
    blob = columnar.table_to_blob(table)
    assert blob[:4] != b"PAR1" and columnar.blob_format(table) == "arrow"
    back = columnar.blob_to_table(blob)
    assert back.equals(table)
    values = np.array([0.1, 1 / 3, -0.0, 5e-324, 1.7976931348623157e308])
    fmt, data = columnar.columns_to_blob({"x": values})
    assert fmt == "arrow"
    assert columnar.blob_to_columns(data)["x"].tobytes() == values.tobytes()  # bit for bit


def test_parquet_blob_of_a_small_table_still_reads() -> None:
    """Rows stored before the IPC form hold Parquet even for small tables."""
    table = _table(8)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    assert columnar.blob_to_table(buf.getvalue()).equals(table)
