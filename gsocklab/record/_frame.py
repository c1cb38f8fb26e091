"""Recorded rows (`gsocklab.record._store.Columns`) to a DataFrame, column by column.

Every column is made from a typed array with numpy, never row by row: codes become
categoricals through their tables, nullable columns get a mask from their sentinel
(``nbytes`` -1, ``flags`` `NO_FLAGS`, …), string columns are taken from their tables with
pyarrow (when pandas' strings are pyarrow-backed) or numpy. The result has exactly the
columns and dtypes of `TRAFFIC_SCHEMA`, also when empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..core._enums import IOCondition, SocketFamily, SocketType
from ._schema import DIRECTIONS, ERRORS, FAMILIES, OP_NAMES, OPS, STRING, TRAFFIC_SCHEMA, TYPES, direction_of
from ._store import FOREVER, NO_FLAGS, Columns

__all__ = ["build_frame", "concat_frames", "condition_text", "strings", "value_text"]

_FAMILY_CODE: Final = {name: code for code, name in enumerate(FAMILIES.categories)}
_TYPE_CODE: Final = {name: code for code, name in enumerate(TYPES.categories)}
_ERROR_CODE: Final = {name: code for code, name in enumerate(ERRORS.categories)}
_OP_CODE: Final = {name: code for code, name in enumerate(OP_NAMES)}
_DIRECTION_CODE: Final = {name: code for code, name in enumerate(DIRECTIONS.categories)}


def condition_text(value: int) -> str:
    """``IN|OUT`` for a condition; ``0`` for none."""
    names = [member.name for member in IOCondition if member.value and value & member.value and member.name]
    return "|".join(names) if names else "0"


_CONDITIONS: Final = [condition_text(value) for value in range(64)]


def value_text(value: Any) -> str:
    """How the ``message`` column shows the value a setter set."""
    if isinstance(value, (SocketFamily, SocketType)):
        return value.name
    return str(value)


def strings(table: Sequence[str | None], codes: np.ndarray[Any, Any]) -> Any:
    """A ``string`` array of ``table[code]`` for every code; code -1 and ``None`` entries are missing.

    With pandas' pyarrow-backed strings this is one ``take`` in Arrow (no Python object per
    row); otherwise numpy picks the objects and pandas checks them.
    """
    indices = codes.astype(np.int64) + 1
    if STRING.storage == "pyarrow":
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        taken = pa.array([None, *table], type=pa.large_string()).take(pa.array(indices))
        return pd.arrays.ArrowStringArray(taken)
    return pd.array(np.array([None, *table], dtype=object)[indices], dtype=STRING)


def _lookup(table: Sequence[int], codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(table, dtype=np.int16)[codes] if len(table) else np.zeros(len(codes), dtype=np.int16)


def _masked_ints(values: np.ndarray[Any, Any], missing: np.ndarray[Any, Any]) -> Any:
    return pd.arrays.IntegerArray(values.astype(np.int64, copy=False), missing)


def build_frame(columns: Columns, start_ns: int, wall_offset_ns: int) -> pd.DataFrame:
    """The rows of ``columns``; ``time`` is ``t0 + wall_offset_ns``, ``elapsed`` counts from ``start_ns``."""
    n = len(columns)
    a = columns.arrays
    tables = columns.tables
    t0 = a["t0"]

    sock = a["sock"]
    sockets = tables.sockets
    family = _lookup([_FAMILY_CODE.get(s[1], -1) for s in sockets], sock)
    kind = _lookup([_TYPE_CODE.get(s[2], -1) for s in sockets], sock)

    op_names = list(OP_NAMES) + [name for name in tables.ops if name not in _OP_CODE]
    op_codes = {name: code for code, name in enumerate(op_names)}
    ops = pd.CategoricalDtype(op_names) if len(op_names) > len(OP_NAMES) else OPS
    op = a["op"]
    op_cat = _lookup([op_codes[name] for name in tables.ops], op)
    direction = _lookup([_DIRECTION_CODE.get(direction_of(name) or "", -1) for name in tables.ops], op)

    error = a["error"]
    error_cat = _lookup([-1 if name is None else _ERROR_CODE.get(name, _ERROR_CODE["FAILED"])
                         for name, _ in tables.errors], error)
    texts = [message for _, message in tables.errors]  # code 0 (no error): None
    message_codes = error.astype(np.int32)
    if columns.values:  # a setter's value, where it succeeded
        message_codes = message_codes.copy()
        for seq, value in columns.values.items():
            row = seq - columns.seq0
            if 0 <= row < n and not error[row]:
                message_codes[row] = len(texts)
                texts.append(value_text(value))

    nbytes, flags, batch, index = a["nbytes"], a["flags"], a["batch"], a["index"]
    # blocking and timeout: the call's own, where it had one, else the socket's
    blocking = a["blocking"]
    blocking = np.where(blocking >= 0, blocking, np.asarray([s.blocking for s in sockets] or [True])[sock]) != 0
    timeout = a["timeout"]
    socket_timeout = np.asarray([float(s.timeout) if s.timeout else np.nan for s in sockets] or [np.nan])
    timeout = np.where(np.isnan(timeout), socket_timeout[sock], timeout)
    no_timeout = np.isnan(timeout) | (timeout == FOREVER)
    payload = np.empty(n, dtype=object)
    payload[:] = columns.payload

    data: dict[str, Any] = {
        "seq": np.arange(columns.seq0, columns.seq0 + n, dtype=np.int64),
        "time": pd.DatetimeIndex((t0 + wall_offset_ns).view("M8[ns]")).tz_localize("UTC").array,
        "elapsed": (t0 - start_ns) / 1e9,
        "socket": strings([s[0] for s in sockets], sock),
        "host": strings([s.host for s in sockets], sock),
        "thread": strings(tables.threads, a["thread"]),
        "op": pd.Categorical.from_codes(op_cat, dtype=ops),
        "direction": pd.Categorical.from_codes(direction, dtype=DIRECTIONS),
        "family": pd.Categorical.from_codes(family, dtype=FAMILIES),
        "type": pd.Categorical.from_codes(kind, dtype=TYPES),
        "local": strings([s[3] for s in sockets], sock),
        "peer": strings(tables.peers, a["peer"]),
        "nbytes": _masked_ints(nbytes, nbytes < 0),
        "payload": payload,
        "condition": strings(_CONDITIONS, a["condition"]),
        "ready": strings(_CONDITIONS, a["ready"]),
        "blocking": pd.arrays.BooleanArray(blocking, np.zeros(n, dtype=bool)),
        "timeout": pd.arrays.FloatingArray(np.where(no_timeout, 0.0, timeout), no_timeout),
        "waited": a["waited"] / 1e9,
        "duration": a["duration"] / 1e9,
        "error": pd.Categorical.from_codes(error_cat, dtype=ERRORS),
        "message": strings(texts, message_codes),
        "hint": strings([], np.full(n, -1, dtype=np.int8)),
        "batch": _masked_ints(batch, batch < 0),
        "index": _masked_ints(index, index < 0),
        "flags": _masked_ints(flags, flags == NO_FLAGS),
        "via": strings([], np.full(n, -1, dtype=np.int8)),
    }
    return pd.DataFrame(data, columns=list(TRAFFIC_SCHEMA), copy=False)


def concat_frames(older: pd.DataFrame, newer: pd.DataFrame) -> pd.DataFrame:
    """``older`` then ``newer``, keeping the schema's dtypes (categories are united if they differ)."""
    if not len(newer):
        return older.reset_index(drop=True)
    if not len(older):
        return newer
    ops = older["op"].dtype
    if ops != newer["op"].dtype:
        union = list(ops.categories) + [c for c in newer["op"].dtype.categories if c not in ops.categories]
        dtype = pd.CategoricalDtype(union)
        older = older.assign(op=older["op"].astype(dtype))
        newer = newer.assign(op=newer["op"].astype(dtype))
    return pd.concat([older, newer], ignore_index=True)
