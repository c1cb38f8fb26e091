"""What `Recorder.on_call` copies while the socket call returns: payloads and message batches.

Everything here runs in the thread that made the socket call, so it copies only what must
be copied now (buffers the caller may reuse, message lists that the next call overwrites)
and leaves every conversion to `gsocklab.record._store` and `gsocklab.record._frame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._messages import InputMessage, OutputMessage
from ._store import Batch

__all__ = ["capture_batch", "capture_extra", "copy_payload", "gather"]




def copy_payload(payload: Any, cap: int) -> bytes | None:
    """At most ``cap`` bytes of a bytes-like object, as ``bytes`` nobody can change afterwards.

    ``bytes`` is kept as it is (or sliced); any other buffer is copied.
    """
    kind = type(payload)
    if kind is bytes:
        data: bytes = payload
        return data if len(data) <= cap else data[:cap]
    if kind is bytearray:
        return bytes(payload[:cap])
    try:
        view = memoryview(payload)
    except TypeError:
        return None
    if view.ndim != 1 or view.itemsize != 1:
        try:
            view = view.cast("B")
        except TypeError:  # not C-contiguous
            return view.tobytes()[:cap]
    return bytes(view[:cap])


def gather(vectors: Any, nbytes: int, cap: int) -> bytes | bytearray:
    """The first ``min(nbytes, cap)`` bytes spread over ``vectors`` (Gio vectors or plain buffers).

    From a single ``bytearray`` the copy is a private ``bytearray`` (cheaper to make here;
    the store turns it into ``bytes``).
    """
    want = nbytes if nbytes < cap else cap
    if want <= 0:
        return b""
    if len(vectors) == 1:
        buffer = getattr(vectors[0], "buffer", vectors[0])
        if type(buffer) is bytearray:
            copy: bytearray = buffer[:want]
            return copy
        return copy_payload(buffer, want) or b""
    parts: list[bytes] = []
    for vector in vectors:
        if want <= 0:
            break
        view = memoryview(getattr(vector, "buffer", vector)).cast("B")
        size = getattr(vector, "size", len(view))
        take = min(want, size, len(view))
        parts.append(bytes(view[:take]))
        want -= take
    return b"".join(parts)


def capture_extra(extra: dict[str, Any], nbytes: int | None, payload: Any, cap: int,
                  peer: Any) -> tuple[Any, Any]:
    """``extra`` as it can be kept (a `Batch` for batched calls), and the payload to keep.

    The hook's dict is shared with other observers and must not be changed; message lists
    and vectors are read now, because the caller reuses them.
    """
    if "messages" in extra:
        return capture_batch(extra, cap, peer), None
    if "vectors" in extra:
        kept = {key: value for key, value in extra.items() if key != "vectors"}
        if payload is None and cap and nbytes is not None and extra["vectors"] is not None:
            payload = gather(extra["vectors"], nbytes, cap)
            if type(payload) is bytearray:
                payload = bytes(payload)
        return kept or None, payload
    return extra, payload


def capture_batch(extra: dict[str, Any], cap: int, peer: Any) -> Batch:
    """Copy what a ``send_messages``/``receive_messages`` call moved, one entry per message.

    One pass over the messages extends a flat list by (bytes, address, flags, payload) per
    message; gsocklab's own messages are read through their slots, and a single-vector
    message's payload is one slice (a copy for ``bytearray``; ``bytes`` is kept as is).
    """
    messages: Sequence[Any] = extra["messages"] or ()
    count: int = extra.get("count") or 0
    call_flags = extra.get("flags")
    fields: list[Any] = []
    add = fields.extend
    moved = messages[:count]
    if not count:
        pass
    elif type(moved[0]) is InputMessage:
        for m in moved:
            n = m.bytes_received
            vectors = m._vectors
            buffer = vectors[0]._buffer if len(vectors) == 1 else None
            add((n, m.address, m.flags,
                 None if not cap else buffer[:n if n < cap else cap] if type(buffer) is bytearray
                 else gather(vectors, n, cap)))
    elif type(moved[0]) is OutputMessage:
        call_flags_or_none = call_flags
        for m in moved:
            n = m.bytes_sent
            vectors = m._vectors
            buffer = vectors[0]._buffer if len(vectors) == 1 else None
            add((n, m.address if m.address is not None else peer, call_flags_or_none,
                 None if not cap else buffer if type(buffer) is bytes and len(buffer) <= n and len(buffer) <= cap
                 else gather(vectors, n, cap)))
    else:  # objects with the public attributes of Gio messages
        for m in moved:
            received = hasattr(m, "bytes_received")
            n = m.bytes_received if received else m.bytes_sent
            address = m.address if m.address is not None or received else peer
            add((n, address, m.flags if received else call_flags, gather(m.vectors, n, cap) if cap else None))
    return Batch(count, fields, call_flags, len(messages))
