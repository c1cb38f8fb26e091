"""What the checks share: reading a recording, checking arguments, and picking rows."""

from __future__ import annotations

import fnmatch
import math
import numbers
from collections.abc import Iterable
from typing import Any, Final

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..core._enums import IOErrorEnum
from ._failure import CheckFailed

__all__ = [
    "OpSpec", "as_bytes", "carried", "count_arg", "error_arg", "failed_with", "frame_of", "is_io", "label_arg",
    "labels", "moved", "of_socket", "ok", "op_mask", "op_text", "ops_arg", "payload_arg", "peer_text",
    "seconds_arg", "where",
]

IO_PREFIXES: Final = ("send", "receive")
OpSpec = str | Iterable[str]


def frame_of(rec: object) -> pd.DataFrame:
    """The recording as a DataFrame, ordered by ``seq`` (a `Recorder` is read now)."""
    if isinstance(rec, pd.DataFrame):
        frame = rec
    elif callable(getattr(rec, "to_dataframe", None)):
        frame = rec.to_dataframe()  # type: ignore[attr-defined]
    else:
        raise TypeError(f"rec must be a gsocklab.Recorder or its DataFrame, not {type(rec).__name__}")
    missing = [name for name in ("seq", "socket", "op", "error") if name not in frame.columns]
    if missing:
        raise TypeError(f"rec is not a gsocklab recording: it has no column {', '.join(missing)}")
    return frame.sort_values("seq", kind="stable")


def labels(frame: pd.DataFrame) -> list[str]:
    """The socket labels of ``frame``, in order of first appearance."""
    return [str(label) for label in dict.fromkeys(frame["socket"].dropna())]


def label_arg(label: object, name: str) -> str:
    """``label`` if it is a socket label (str), else a TypeError naming the parameter ``name``."""
    if not isinstance(label, str):
        raise TypeError(f"{name} must be a socket's label (str), not {type(label).__name__}")
    return label


def of_socket(frame: pd.DataFrame, socket: str | None, check: str, name: str = "socket") -> pd.DataFrame:
    """The rows of the socket labelled ``socket`` (all rows for ``None``); a `CheckFailed` when
    the recording has no socket of that label. ``name`` is the caller's parameter."""
    if socket is None:
        return frame
    if not isinstance(socket, str):
        raise TypeError(f"{name} must be a socket's label (str) or None, not {type(socket).__name__}")
    rows = frame[frame["socket"] == socket]
    if not len(rows):
        raise CheckFailed(check, f"calls of a socket labelled {socket!r}",
                          f"no socket of that label; the recording has {labels(frame) or 'no sockets'}",
                          hint="label sockets with rec.attach(sock, label=...) or sock.label = ...")
    return rows


def ops_arg(op: object, name: str = "op") -> list[str]:
    """The patterns of ``op`` (a method name, a glob, or an iterable of them), checked."""
    patterns = [op] if isinstance(op, str) else list(op) if isinstance(op, Iterable) and not isinstance(
        op, (bytes, bytearray, memoryview)) else None
    if not patterns or not all(isinstance(p, str) for p in patterns):
        raise TypeError(f"{name} must be a method name, a glob or a tuple of them, not {op!r}")
    return patterns


def op_mask(frame: pd.DataFrame, op: OpSpec) -> pd.Series[Any]:
    """Which rows are calls of ``op``."""
    patterns = ops_arg(op)
    names = frame["op"].astype(str)
    matched = {name for name in names.unique() if any(fnmatch.fnmatchcase(name, p) for p in patterns)}
    return names.isin(matched)


def op_text(op: OpSpec) -> str:
    """``op`` as a failure says it."""
    return " or ".join(ops_arg(op))


def where(socket: str | None) -> str:
    """`` on 'label'`` or nothing."""
    return f" on {socket!r}" if socket else ""


def peer_text(peer: object, name: str = "peer") -> str | None:
    """The address text of ``peer`` (a text or a `Gio.SocketAddress`) as recordings show it."""
    if peer is None or isinstance(peer, str):
        return peer
    to_string = getattr(peer, "to_string", None)
    if callable(to_string):
        text = to_string()
        return text if isinstance(text, str) else str(text)
    raise TypeError(f"{name} must be an address text or a Gio.SocketAddress, not {type(peer).__name__}")


def payload_arg(payload: object) -> bytes | None:
    """``payload`` as bytes (any bytes-like object), or ``None``."""
    if payload is None:
        return None
    if isinstance(payload, str):
        raise TypeError(f"payload must be bytes, not str: write payload={payload.encode()!r}")
    try:
        return bytes(memoryview(payload))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"payload must be bytes, not {type(payload).__name__}") from None


def as_bytes(value: object) -> bytes | None:
    """A payload cell as bytes; ``None`` where none was captured (None, NA, NaN)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return None


def count_arg(value: object, name: str) -> int:
    """``value`` as a count (an int, 0 or more)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return int(value)


def seconds_arg(value: object, name: str) -> float:
    """``value`` as a number of seconds (a real number, 0 or more)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{name} must be 0 or more seconds, not {value}")
    return seconds


def error_arg(error: object) -> str | None:
    """The code name ``error`` stands for: ``None``, ``"ok"``, or a `Gio.IOErrorEnum` name or member."""
    if error is None or error == "ok":
        return error
    if isinstance(error, IOErrorEnum):
        return error.name
    if isinstance(error, str):
        if error in IOErrorEnum.__members__:
            return error
        raise ValueError(f"error must be 'ok' or a Gio.IOErrorEnum name such as 'TIMED_OUT', not {error!r}")
    raise TypeError(f"error must be 'ok', a Gio.IOErrorEnum name or member, or None, not {type(error).__name__}")


def ok(frame: pd.DataFrame) -> pd.Series[Any]:
    """Which calls succeeded."""
    return frame["error"].isna()


def moved(frame: pd.DataFrame) -> pd.Series[Any]:
    """Which calls succeeded and moved bytes (a count is recorded)."""
    return frame["nbytes"].notna() & ok(frame)


def carried(frame: pd.DataFrame) -> pd.Series[Any]:
    """Which calls succeeded and moved at least one byte."""
    return moved(frame) & (frame["nbytes"].fillna(0) > 0)


def is_io(frame: pd.DataFrame) -> pd.Series[Any]:
    """Which rows are sends or receives."""
    return frame["op"].astype(str).str.startswith(IO_PREFIXES)


def failed_with(frame: pd.DataFrame, code: str) -> pd.Series[Any]:
    """Which calls failed with the error ``code``."""
    return frame["error"].astype(str) == code
