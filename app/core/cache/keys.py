"""Stable cache keys: a content hash of arbitrary call arguments that is the same in every
process, on every machine and across restarts (no ``hash()``, no ``id()``, no ``repr`` of
objects with addresses).

The encoding is a tagged, length-prefixed walk of the value: dict entries are sorted by the
encoding of their key (so keyword order never matters), NumPy arrays are hashed by dtype, shape
and raw C-order bytes, pydantic models and dataclasses by class name and their fields' names
and values in declared order. Types with
no canonical form raise ``TypeError`` rather than produce a key that silently differs between
processes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import functools
import hashlib
import inspect
import pathlib
import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

__all__ = ["call_fingerprint", "fingerprint"]

_LEN = struct.Struct("<Q")
_F64 = struct.Struct("<d")


def _qualname(cls: type) -> bytes:
    return f"{cls.__module__}.{cls.__qualname__}".encode()


def _leaf(h: Any, tag: bytes, payload: bytes) -> None:
    h.update(tag)
    h.update(_LEN.pack(len(payload)))
    h.update(payload)


def _sub_digest(obj: Any) -> bytes:
    h = hashlib.sha256()
    _feed(h, obj)
    return h.digest()


@functools.lru_cache(maxsize=256)
def _dtype_descr(dtype: np.dtype) -> bytes:
    """NumPy's portable description of a dtype (as in .npy headers), once per dtype."""
    return repr(np.lib.format.dtype_to_descr(dtype)).encode()


def _feed_array(h: Any, arr: np.ndarray) -> None:
    h.update(b"A")
    _leaf(h, b"s", str(arr.shape).encode())
    if arr.dtype.hasobject:
        flat = arr.ravel(order="C").tolist()
        if flat and set(map(type, flat)) == {str}:
            # All strings (loan ids): hashed as one NUL-separated block, which is unambiguous
            # when no string contains a NUL (checked at C speed); otherwise lengths + block.
            joined = "\x00".join(flat)
            if joined.count("\x00") == len(flat) - 1:
                _leaf(h, b"d", b"O:strz")
            else:
                _leaf(h, b"d", b"O:str")
                lengths = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
                _leaf(h, b"l", lengths.tobytes())
                joined = "".join(flat)
            _leaf(h, b"b", joined.encode("utf-8", "surrogatepass"))
        else:
            _leaf(h, b"d", b"O")
            h.update(_LEN.pack(len(flat)))
            for item in flat:
                _feed(h, item)
        return
    _leaf(h, b"d", _dtype_descr(arr.dtype))
    data = np.ascontiguousarray(arr)
    h.update(b"b")
    h.update(_LEN.pack(data.nbytes))
    h.update(data.reshape(-1).view(np.uint8))


def _feed_fields(h: Any, fields: list[tuple[str, Any]]) -> None:
    """The fields of a model or dataclass, in their declared order (fixed by the class, whose
    name is fed before them; extras sorted by name): no per-key digest and sort, as a mapping
    of arbitrary keys needs."""
    h.update(b"F")
    h.update(_LEN.pack(len(fields)))
    for name, value in fields:
        _leaf(h, b"k", name.encode())
        _feed(h, value)


def _feed(h: Any, obj: Any) -> None:  # noqa: C901 - one branch per supported type
    if obj is None:
        h.update(b"N")
    elif obj is True or obj is False:
        h.update(b"T" if obj else b"F")
    elif isinstance(obj, enum.Enum):
        h.update(b"E")
        _leaf(h, b"c", _qualname(type(obj)))
        _feed(h, obj.value)
    elif isinstance(obj, np.ndarray):
        _feed_array(h, obj)
    elif isinstance(obj, np.generic):
        # NumPy scalars keep their dtype: np.float32(1) and 1.0 are different inputs.
        _feed_array(h, np.asarray(obj))
    elif isinstance(obj, int):
        _leaf(h, b"i", str(int(obj)).encode())
    elif isinstance(obj, float):
        _leaf(h, b"f", _F64.pack(float(obj)))
    elif isinstance(obj, str):
        _leaf(h, b"u", obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, bytes | bytearray | memoryview):
        _leaf(h, b"y", bytes(obj))
    elif isinstance(obj, BaseModel):
        h.update(b"M")
        _leaf(h, b"c", _qualname(type(obj)))
        names = list(type(obj).model_fields)
        extra = sorted(obj.model_extra.items()) if obj.model_extra else []
        _feed_fields(h, [(n, getattr(obj, n)) for n in names] + extra)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(b"D")
        _leaf(h, b"c", _qualname(type(obj)))
        _feed_fields(h, [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)])
    elif isinstance(obj, Mapping):
        entries = sorted(((_sub_digest(k), v) for k, v in obj.items()), key=lambda e: e[0])
        h.update(b"{")
        h.update(_LEN.pack(len(entries)))
        for kd, v in entries:
            h.update(kd)
            _feed(h, v)
    elif isinstance(obj, list | tuple):
        h.update(b"[" if isinstance(obj, list) else b"(")
        h.update(_LEN.pack(len(obj)))
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, set | frozenset):
        digests = sorted(_sub_digest(item) for item in obj)
        h.update(b"<")
        h.update(_LEN.pack(len(digests)))
        for d in digests:
            h.update(d)
    elif isinstance(obj, _dt.datetime | _dt.date | _dt.time):
        _leaf(h, b"t", f"{type(obj).__name__}:{obj.isoformat()}".encode())
    elif isinstance(obj, _dt.timedelta):
        _leaf(h, b"w", f"{obj.days}:{obj.seconds}:{obj.microseconds}".encode())
    elif isinstance(obj, decimal.Decimal | uuid.UUID | pathlib.PurePath):
        _leaf(h, b"x", f"{type(obj).__name__}:{obj}".encode())
    else:
        raise TypeError(f"no stable cache key for a value of type {type(obj).__qualname__}")


def fingerprint(*parts: Any) -> str:
    """Hex SHA-256 of the canonical encoding of ``parts`` (stable across processes)."""
    h = hashlib.sha256()
    _feed(h, list(parts))
    return h.hexdigest()


def call_fingerprint(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    ignore: tuple[str, ...] = (),
) -> str:
    """Fingerprint of a call of ``fn``: arguments are bound to the signature with defaults
    applied, so ``f(1, b=2)``, ``f(a=1, b=2)`` and ``f(b=2, a=1)`` give the same key.
    """
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return fingerprint(list(args), dict(kwargs))
    bound.apply_defaults()
    named = {k: v for k, v in bound.arguments.items() if k not in ignore}
    return fingerprint(named)
