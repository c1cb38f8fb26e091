"""What `Recorder.on_call` copies while the socket call returns: payloads and message batches.

Everything here runs in the thread that made the socket call, so it copies only what must
be copied now (buffers the caller may reuse, message lists that the next call overwrites)
and leaves every conversion to `gsocklab.record._store` and `gsocklab.record._frame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter, getitem
from typing import Any, NamedTuple

from ..core._messages import InputMessage, OutputMessage, generation
from ._store import Batch

__all__ = ["BatchCache", "capture_batch", "capture_extra", "copy_payload", "gather"]


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


def _contents(vector: Any) -> Any:
    """What a vector (or a plain buffer) holds now; an `InputVector`'s owned room is not made for it."""
    contents = getattr(vector, "_contents", None)
    if contents is not None:
        return contents()
    return getattr(vector, "buffer", vector)


def gather(vectors: Any, nbytes: int, cap: int) -> bytes | bytearray:
    """The first ``min(nbytes, cap)`` bytes spread over ``vectors`` (Gio vectors or plain buffers).

    From a single ``bytearray`` the copy is a private ``bytearray`` (cheaper to make here;
    the store turns it into ``bytes``).
    """
    want = nbytes if nbytes < cap else cap
    if want <= 0:
        return b""
    if len(vectors) == 1:
        buffer = _contents(vectors[0])
        if type(buffer) is bytearray:
            copy: bytearray = buffer[:want]
            return copy
        return copy_payload(buffer, want) or b""
    parts: list[bytes] = []
    for vector in vectors:
        if want <= 0:
            break
        view = memoryview(_contents(vector)).cast("B")
        size = getattr(vector, "size", len(view))
        take = min(want, size, len(view))
        parts.append(bytes(view[:take]))
        want -= take
    return b"".join(parts)


def capture_extra(extra: dict[str, Any], nbytes: int | None, payload: Any, cap: int,
                  peer: Any, batches: BatchCache) -> tuple[Any, Any]:
    """``extra`` as it can be kept (a `Batch` for batched calls), and the payload to keep.

    The hook's dict is shared with other observers and must not be changed; message lists
    and vectors are read now, because the caller reuses them.
    """
    if "messages" in extra:
        return capture_batch(extra, cap, peer, batches), None
    if "vectors" in extra:
        kept = {key: value for key, value in extra.items() if key != "vectors"}
        if payload is None and cap and nbytes is not None and extra["vectors"] is not None:
            payload = gather(extra["vectors"], nbytes, cap)
            if type(payload) is bytearray:
                payload = bytes(payload)
        return kept or None, payload
    return extra, payload


class _Layout(NamedTuple):
    """What stays the same between batched calls on the same messages (see `BatchCache`)."""

    messages: list[Any]
    generation: int
    buffers: list[Any]          # each message's one buffer
    lengths: list[int]          # their lengths
    immutable: bool             # all ``bytes``
    destinations: list[Any] | None  # output messages: their addresses (None: the connected peer)


class BatchCache:
    """The layout of the message lists a recorder has seen, while ``generation()`` stays.

    Loops pass the same messages (or a prefix of them) call after call; their vectors,
    buffers and destinations change only through setters, which move ``generation()`` on
    (as does a receive into vectors that own their rooms).
    Only gsocklab's own messages with one vector each are kept here.
    """

    def __init__(self) -> None:
        self._layouts: dict[int, _Layout] = {}

    def layout(self, moved: list[Any]) -> _Layout | None:
        """The layout of ``moved`` (``None``: not messages this cache handles)."""
        kind = type(moved[0])
        if kind is not InputMessage and kind is not OutputMessage:
            return None
        known = self._layouts.get(id(moved[0]))
        if known is not None and known.generation == generation() and known.messages[:len(moved)] == moved:
            return known
        firsts = list(map(_VECTORS, moved))  # a message's one vector, or a tuple of several
        if set(map(type, moved)) != {kind} or tuple in set(map(type, firsts)):
            return None
        buffers = list(map(_BUFFER, firsts))
        if kind is InputMessage and None in buffers:  # rooms the vectors own: what they received
            buffers = [vector._buffer if vector._buffer is not None else vector._received or b""
                       for vector in firsts]
        layout = _Layout(list(moved), generation(), buffers, list(map(len, buffers)),
                         set(map(type, buffers)) == {bytes},
                         list(map(_DESTINATION, moved)) if kind is OutputMessage else None)
        if len(self._layouts) >= 8:
            self._layouts.clear()
        self._layouts[id(moved[0])] = layout
        return layout


def capture_batch(extra: dict[str, Any], cap: int, peer: Any, batches: BatchCache) -> Batch:
    """Copy what a ``send_messages``/``receive_messages`` call moved, one entry per message.

    gsocklab's own messages with one vector each (the usual case) are read column by column
    with ``map`` over C-level getters, their layout taken from ``batches``, and their
    payloads cut the same way: no Python code runs per message. Anything else takes
    `_capture_each`.
    """
    messages: Any = extra["messages"] or ()  # a sequence, or an iterator the call consumed
    count: int = extra.get("count") or 0
    call_flags = extra.get("flags")
    if not isinstance(messages, Sequence) and not hasattr(messages, "__getitem__"):
        # An iterator, which the call consumed: only the count is known (the bytes are missing).
        return Batch(count, [-1] * count, [peer] * count, None, [None] * count, call_flags, count)
    moved = list(messages[:count])
    if not count:
        return Batch(0, [], [], None, [], call_flags, len(messages))
    layout = batches.layout(moved)
    if layout is None:
        return _capture_each(moved, call_flags, cap, peer, len(messages))
    whole = count == len(layout.buffers)
    buffers = layout.buffers if whole else layout.buffers[:count]
    flags: list[int] | None = None  # output messages: the call's flags
    if layout.destinations is None:
        nbytes = list(map(_RECEIVED, moved))
        peers = list(map(_SOURCE, moved))
        flags = list(map(_FLAGS, moved))
    else:
        nbytes = list(map(_SENT, moved))
        peers = layout.destinations if whole else layout.destinations[:count]
        if type(None) in set(map(type, peers)):  # (`None in peers` would call every address's __eq__)
            peers = [peer if address is None else address for address in peers]
        if layout.immutable and max(nbytes) <= cap and (layout.lengths if whole else layout.lengths[:count]) == nbytes:
            return Batch(count, nbytes, peers, flags, buffers, call_flags, len(messages))  # nothing to copy
    return Batch(count, nbytes, peers, flags, _cut(buffers, nbytes, cap), call_flags, len(messages))


_VECTORS = attrgetter("_vectors")
_BUFFER = attrgetter("_buffer")
_RECEIVED = attrgetter("bytes_received")
_SOURCE = attrgetter("address")
_FLAGS = attrgetter("flags")
_SENT = attrgetter("bytes_sent")
_DESTINATION = attrgetter("_address")


def _cut(buffers: list[Any], nbytes: list[int], cap: int) -> list[Any]:
    """The first ``min(n, cap)`` bytes of each buffer, copied now (``bytearray`` copies stay
    ``bytearray``: the store makes them ``bytes``, off the socket call path)."""
    if not cap:
        return [None] * len(buffers)
    kinds = set(map(type, buffers))
    if not kinds <= {bytes, bytearray}:
        return [copy_payload(buffer, min(n, cap)) for buffer, n in zip(buffers, nbytes)]
    longest, shortest = max(nbytes), min(nbytes)
    if shortest == longest or cap <= shortest:  # one slice for all: the usual fixed-size datagrams
        return list(map(getitem, buffers, repeat(slice(min(longest, cap)))))
    return list(map(getitem, buffers, map(slice, nbytes if longest <= cap else map(min, nbytes, repeat(cap)))))


def _capture_each(moved: list[Any], call_flags: int | None, cap: int, peer: Any, asked: int) -> Batch:
    """`capture_batch` for any messages with the public attributes of Gio messages, one at a time."""
    nbytes: list[int] = []
    peers: list[Any] = []
    flags: list[int] = []
    payloads: list[Any] = []
    received = hasattr(moved[0], "bytes_received")
    for message in moved:
        n = message.bytes_received if received else message.bytes_sent
        nbytes.append(n)
        address = message.address
        peers.append(address if address is not None or received else peer)
        flags.append(message.flags if received else 0)
        payloads.append(gather(message.vectors, n, cap) if cap else None)
    return Batch(len(moved), nbytes, peers, flags if received else None, payloads, call_flags, asked)
