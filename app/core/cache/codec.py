"""Cache value encoding: serialisers (msgpack by default, orjson as an option; never pickle,
because cached bytes cross the network and unpickling them would execute code) and zlib
compression above a size threshold.

Stored blob layout: one header byte, then the payload. High nibble = serialiser id, low nibble =
compression (0 none, 1 zlib). Decoding reads the header, so a change of serialiser or threshold
between deploys never misreads old entries.

The msgpack serialiser round-trips exactly: NumPy arrays (any non-object dtype, shape, NaN bits),
NumPy scalars, tuples, sets, datetimes, dates, times, timedeltas, Decimals and UUIDs come back as
the same types with the same values. Enums are stored as their value and pydantic models as their
``model_dump()``; the ``cached`` decorator revalidates models from the return annotation.
"""

from __future__ import annotations

import ast
import datetime as _dt
import decimal
import enum
import uuid
import zlib
from typing import Any, Protocol

import msgpack
import numpy as np
import orjson
from pydantic import BaseModel

__all__ = [
    "Codec",
    "CodecError",
    "JsonSerializer",
    "MsgpackSerializer",
    "Serializer",
    "get_serializer",
]


class CodecError(ValueError):
    """A value could not be encoded, or stored bytes could not be decoded."""


class Serializer(Protocol):
    """Turns values into bytes and back. ``exact`` means ``loads(dumps(v)) == v`` by type."""

    name: str
    ident: int
    exact: bool

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


# msgpack extension type codes
_EXT_NDARRAY = 1
_EXT_NPSCALAR = 2
_EXT_TUPLE = 3
_EXT_SET = 4
_EXT_FROZENSET = 5
_EXT_DATETIME = 6
_EXT_DATE = 7
_EXT_TIME = 8
_EXT_TIMEDELTA = 9
_EXT_DECIMAL = 10
_EXT_UUID = 11


def _descr(dtype: np.dtype) -> str:
    # The .npy header's dtype description: covers plain, datetime and structured dtypes.
    return repr(np.lib.format.dtype_to_descr(dtype))


def _dtype(descr: str) -> np.dtype:
    # literal_eval only builds literals (strings, tuples, lists): safe on bytes from Redis.
    return np.lib.format.descr_to_dtype(ast.literal_eval(descr))


class MsgpackSerializer:
    """msgpack with extension types for NumPy and the standard library (exact round trip)."""

    name = "msgpack"
    ident = 1
    exact = True

    def _default(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise CodecError("object-dtype NumPy arrays are not cacheable; convert first")
            data = np.ascontiguousarray(obj)
            head = msgpack.packb([_descr(data.dtype), list(data.shape)])
            return msgpack.ExtType(_EXT_NDARRAY, head + data.reshape(-1).view(np.uint8).tobytes())
        if isinstance(obj, np.generic):
            arr = np.asarray(obj)
            if arr.dtype.hasobject:
                raise CodecError("object NumPy scalars are not cacheable")
            return msgpack.ExtType(
                _EXT_NPSCALAR,
                msgpack.packb(_descr(arr.dtype)) + arr.reshape(-1).view(np.uint8).tobytes(),
            )
        if isinstance(obj, tuple):
            return msgpack.ExtType(_EXT_TUPLE, self._pack(list(obj)))
        if isinstance(obj, frozenset):
            return msgpack.ExtType(_EXT_FROZENSET, self._pack(list(obj)))
        if isinstance(obj, set):
            return msgpack.ExtType(_EXT_SET, self._pack(list(obj)))
        if isinstance(obj, _dt.datetime):
            return msgpack.ExtType(_EXT_DATETIME, obj.isoformat().encode())
        if isinstance(obj, _dt.date):
            return msgpack.ExtType(_EXT_DATE, obj.isoformat().encode())
        if isinstance(obj, _dt.time):
            return msgpack.ExtType(_EXT_TIME, obj.isoformat().encode())
        if isinstance(obj, _dt.timedelta):
            return msgpack.ExtType(
                _EXT_TIMEDELTA, msgpack.packb([obj.days, obj.seconds, obj.microseconds])
            )
        if isinstance(obj, decimal.Decimal):
            return msgpack.ExtType(_EXT_DECIMAL, str(obj).encode())
        if isinstance(obj, uuid.UUID):
            return msgpack.ExtType(_EXT_UUID, obj.bytes)
        if isinstance(obj, enum.Enum):
            return obj.value
        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="python")
        # strict_types sends subclasses of the built-ins here: store them as the base type.
        if isinstance(obj, dict):
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
        for scalar in (int, float, str, bytes):
            if isinstance(obj, scalar):
                return scalar(obj)  # type: ignore[call-overload,arg-type]
        raise CodecError(f"cannot cache a value of type {type(obj).__qualname__}")

    def _ext_hook(self, code: int, data: bytes) -> Any:
        if code == _EXT_NDARRAY:
            unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
            unpacker.feed(data)
            descr, shape = unpacker.unpack()
            offset = unpacker.tell()
            arr = np.frombuffer(data, dtype=_dtype(descr), offset=offset)
            return arr.reshape(shape).copy()
        if code == _EXT_NPSCALAR:
            unpacker = msgpack.Unpacker(raw=False)
            unpacker.feed(data)
            descr = unpacker.unpack()
            return np.frombuffer(data, dtype=_dtype(descr), offset=unpacker.tell())[0]
        if code == _EXT_TUPLE:
            return tuple(self.loads_raw(data))
        if code == _EXT_SET:
            return set(self.loads_raw(data))
        if code == _EXT_FROZENSET:
            return frozenset(self.loads_raw(data))
        if code == _EXT_DATETIME:
            return _dt.datetime.fromisoformat(data.decode())
        if code == _EXT_DATE:
            return _dt.date.fromisoformat(data.decode())
        if code == _EXT_TIME:
            return _dt.time.fromisoformat(data.decode())
        if code == _EXT_TIMEDELTA:
            days, seconds, micros = msgpack.unpackb(data)
            return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)
        if code == _EXT_DECIMAL:
            return decimal.Decimal(data.decode())
        if code == _EXT_UUID:
            return uuid.UUID(bytes=data)
        raise CodecError(f"unknown msgpack extension type {code}")

    def _pack(self, value: Any) -> bytes:
        return msgpack.packb(value, default=self._default, strict_types=True, use_bin_type=True)

    def loads_raw(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=self._ext_hook, raw=False, strict_map_key=False)

    def dumps(self, value: Any) -> bytes:
        try:
            return self._pack(value)
        except CodecError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise CodecError(str(exc)) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return self.loads_raw(data)
        except CodecError:
            raise
        except Exception as exc:  # corrupt bytes can raise many msgpack/NumPy error types
            raise CodecError(f"undecodable cache value: {exc}") from exc


class JsonSerializer:
    """orjson; readable in redis-cli but lossy (arrays come back as lists, tuples as lists)."""

    name = "orjson"
    ident = 2
    exact = False
    _OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

    def dumps(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value, option=self._OPTS, default=_json_default)
        except orjson.JSONEncodeError as exc:
            raise CodecError(str(exc)) from exc

    def loads(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise CodecError(f"undecodable cache value: {exc}") from exc


def _json_default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    raise TypeError(f"cannot cache a value of type {type(obj).__qualname__}")


_SERIALIZERS: dict[str, Serializer] = {"msgpack": MsgpackSerializer(), "orjson": JsonSerializer()}
_BY_IDENT: dict[int, Serializer] = {s.ident: s for s in _SERIALIZERS.values()}


def get_serializer(name: str) -> Serializer:
    """The serialiser registered under ``name`` ("msgpack" or "orjson")."""
    try:
        return _SERIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown cache serializer {name!r}; use one of {sorted(_SERIALIZERS)}"
        ) from None


_COMPRESS_NONE = 0
_COMPRESS_ZLIB = 1
_SAMPLE_BYTES = 16_384


class Codec:
    """Serialise, then zlib-compress payloads of ``compress_threshold`` bytes or more.

    ``compress_threshold=None`` turns compression off. Compression is kept only when it saves at
    least 10 %; for payloads over 32 KiB a 16 KiB sample is compressed first and the whole is
    compressed only if the sample saves 10 % (dense float arrays barely compress, and zlib is
    slowest on exactly such bytes).
    """

    def __init__(
        self,
        serializer: Serializer,
        compress_threshold: int | None = 32_768,
        compress_level: int = 1,
    ) -> None:
        self.serializer = serializer
        self.compress_threshold = compress_threshold
        self.compress_level = compress_level

    def encode(self, value: Any) -> bytes:
        payload = self.serializer.dumps(value)
        flag = _COMPRESS_NONE
        if self.compress_threshold is not None and len(payload) >= self.compress_threshold:
            # zlib crawls through incompressible bytes (dense float64 arrays): try a sample first.
            sample = payload[:_SAMPLE_BYTES]
            if len(payload) <= 2 * _SAMPLE_BYTES or len(
                zlib.compress(sample, self.compress_level)
            ) <= 0.9 * len(sample):
                packed = zlib.compress(payload, self.compress_level)
                if len(packed) <= 0.9 * len(payload):
                    payload, flag = packed, _COMPRESS_ZLIB
        return bytes(((self.serializer.ident << 4) | flag,)) + payload

    def decode(self, blob: bytes) -> Any:
        if not blob:
            raise CodecError("empty cache value")
        header = blob[0]
        serializer = _BY_IDENT.get(header >> 4)
        if serializer is None:
            raise CodecError(f"unknown serializer id {header >> 4}")
        payload = memoryview(blob)[1:]
        flag = header & 0x0F
        if flag == _COMPRESS_ZLIB:
            try:
                data = zlib.decompress(payload)
            except zlib.error as exc:
                raise CodecError(f"corrupt compressed cache value: {exc}") from exc
        elif flag == _COMPRESS_NONE:
            data = bytes(payload)
        else:
            raise CodecError(f"unknown compression flag {flag}")
        return serializer.loads(data)

    @staticmethod
    def is_compressed(blob: bytes) -> bool:
        """Whether a stored blob carries a compressed payload."""
        return bool(blob) and (blob[0] & 0x0F) == _COMPRESS_ZLIB
