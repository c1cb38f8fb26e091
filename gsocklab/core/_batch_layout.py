"""The ``sendmmsg``/``recvmmsg`` headers of one batched call, laid out from what the messages hold now.

Every call reads its messages afresh, so nothing depends on what they held before, and a
real program's new message lists cost what reused ones cost. No caller's buffer is
handed to the kernel: a send gathers the data into memory of this module's own, a
receive lands there and is copied out. So a ``bytearray`` is resizable again as soon as
the call returns, and none is read or written past its length at that moment.

**Where the native memory lives.** Each thread has two arenas (`_Arena`), one for sends and
one for receives, which it checks out for the length of a call (a call made re-entrantly,
from a signal handler or a finalizer, gets a fresh one). An arena's arrays never move: the
``mmsghdr`` array (``IOV_MAX`` headers as ``array('Q')`` words), the ``iovec`` array, the
source-address rooms and the data. Most header and iovec columns depend only on those
addresses and on the shape of the batch, not on the messages: which iovec a header points
at, where each room of a receive starts. The arena remembers what those columns hold and a
call rewrites only what differs, a check of a few integers. What it never remembers is
anything read from a message: lengths, buffers and destinations are read at every call.

**How a batch is read.** The common batch — one vector per message, plain ``bytes`` or
``bytearray`` buffers used whole, no control messages — is read column by column with list
comprehensions (the interpreter's specialised slot loads), and the data gathered with one
``b"".join``. Anything else (several vectors, other buffer types, a buffer shrunk since its
vector was made) takes the general path, which clamps every vector to its buffer's length
now. Batches with control messages are laid out by `gsocklab.core._mmsg` instead.

**Received data.** An `InputVector` made with ``InputVector(size=n)`` owns its room: it gets
the received bytes as one compact ``bytearray`` slice of the arena (its full-size buffer is
only made if someone asks for ``vector.buffer``). A caller's own ``bytearray`` gets the
bytes copied in, never past its length at the moment of the copy.

This needs the x86-64/aarch64 Linux layout of ``struct mmsghdr`` (8 words of 8 bytes),
checked against ctypes at import (`AVAILABLE`); elsewhere `gsocklab.core._mmsg` lays out
every batch.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading
from array import array
from collections.abc import Callable
from itertools import accumulate, chain, repeat
from typing import Any, Final

from ._enums import SocketFamily
from ._messages import InputMessage, changed
from ._mmsg import IOV_MAX, MMSGHDR_SIZE, SOCKADDR_STORAGE, encode_sockaddr, iovec, mmsghdr, msghdr

__all__ = ["AVAILABLE", "ReceiveBatch", "SendBatch"]

_WORDS: Final = 8  # 8-byte words per mmsghdr
_ROOM_WORDS: Final = SOCKADDR_STORAGE // 8  # words per source-address room
AVAILABLE: Final = (
    sys.byteorder == "little" and array("Q").itemsize == 8 and MMSGHDR_SIZE == 64 and ctypes.sizeof(iovec) == 16
    and (msghdr.msg_name.offset, msghdr.msg_namelen.offset, msghdr.msg_iov.offset, msghdr.msg_iovlen.offset,
         msghdr.msg_control.offset, msghdr.msg_controllen.offset, msghdr.msg_flags.offset,
         mmsghdr.msg_len.offset) == (0, 8, 16, 24, 32, 40, 48, 56)
    and ctypes.sizeof(ctypes.c_void_p) == 8
)
_KEEP_BYTES: Final = 16 << 20  # data an arena keeps between calls; bigger batches get memory of their own
_MAX_HEADERS: Final = max(IOV_MAX, 1)
_NONE = type(None)  # the buffer of an InputVector that owns its room (made when read)
_BYTEARRAY = frozenset({bytearray})


def _byte_view(buffer: Any, size: int) -> Any:
    """At most ``size`` bytes of any bytes-like ``buffer``, as it is now (a ``bytearray`` is cut
    by copying, so that it is never exported while another thread may resize it)."""
    if type(buffer) is bytearray:
        return buffer if len(buffer) <= size else buffer[:size]
    if type(buffer) is not bytes:
        buffer = memoryview(buffer).cast("B")
    return buffer if len(buffer) <= size else memoryview(buffer)[:size]


class _Data:
    """Memory a batch's data goes to or comes from, at a fixed address while this object lives."""

    __slots__ = ("base", "buffer", "pin", "size")

    def __init__(self, size: int, temporary: bool) -> None:
        # A temporary one is an anonymous mapping, so that its untouched pages cost nothing;
        # a kept one a bytearray, whose slices are quicker to make and to copy from.
        size = max(size, 1)
        self.buffer: Any = mmap.mmap(-1, size) if temporary else bytearray(size)
        self.pin = (ctypes.c_char * size).from_buffer(self.buffer)  # exported: never resized
        self.base = ctypes.addressof(self.pin)
        self.size = size


class _Arena:
    """One thread's native memory for its send or receive batches (see the module doc).

    The remembered columns: ``single`` headers from the first point at iovec ``i`` with
    ``msg_iovlen`` 1; ``rooms`` is ``(size, count, data)``: the first ``count`` iovecs are
    rooms of ``size`` bytes, one after the other, from the start of ``data``; ``names``
    (sends) is ``(pointer, length, count)``: the first ``count`` headers have that
    destination. Receive headers always point at their own source-address room.
    """

    __slots__ = ("data", "headers", "iovs", "iovs_base", "names", "names_base", "rooms", "single", "sources")

    def __init__(self, receive: bool) -> None:
        n = _MAX_HEADERS
        self.headers = array("Q", bytes(MMSGHDR_SIZE * n))
        self.iovs = array("Q", bytes(16 * n))
        self.iovs_base = self.iovs.buffer_info()[0]
        self.data = _Data(64 << 10, temporary=False)
        self.rooms: tuple[int, int, _Data] | None = None
        self.names: tuple[int, int, int] | None = None
        self.single = 0
        self.sources = array("Q", bytes(SOCKADDR_STORAGE * n if receive else 8))
        self.names_base = self.sources.buffer_info()[0]
        if receive:
            self.headers[0::_WORDS] = array("Q", range(self.names_base, self.names_base + SOCKADDR_STORAGE * n,
                                                       SOCKADDR_STORAGE))

    def room_for(self, nbytes: int) -> _Data:
        """Data memory for ``nbytes``: the arena's own (grown if need be) or, past the limit, a temporary one."""
        data = self.data
        if nbytes <= data.size:
            return data
        if nbytes > _KEEP_BYTES:
            return _Data(nbytes, temporary=True)
        self.data = data = _Data(max(nbytes, 2 * data.size), temporary=False)
        return data

    def point_single(self, n: int) -> None:
        """Headers ``[0, n)``: one iovec each, the ``i``-th."""
        if self.single < n:
            words = self.headers
            words[2:_WORDS * n:_WORDS] = array("Q", range(self.iovs_base, self.iovs_base + 16 * n, 16))
            words[3:_WORDS * n:_WORDS] = array("Q", [1]) * n
            self.single = n

    def point_many(self, counts: list[int], iovs_base: int) -> None:
        """Headers ``[0, len(counts))``: ``counts[i]`` iovecs each, consecutive from ``iovs_base``."""
        words, n = self.headers, len(counts)
        words[2:_WORDS * n:_WORDS] = array("Q", accumulate((16 * c for c in counts[:-1]), initial=iovs_base))
        words[3:_WORDS * n:_WORDS] = array("Q", counts)
        self.single = 0

    def fill_iovs(self, sizes: list[int], data: _Data) -> array[int]:
        """Point iovecs at consecutive pieces of ``data``, ``sizes`` bytes each; return the iovec array.

        That is the arena's own unless there are more vectors than it has iovecs.
        """
        nv = len(sizes)
        if nv > _MAX_HEADERS:  # an array for this call alone
            iovs = array("Q", bytes(16 * nv))
            _fill(iovs, sizes, data.base)
            return iovs
        size = sizes[0] if nv else 0
        if nv and sizes.count(size) == nv:  # rooms of one size, the usual case
            rooms = self.rooms
            if rooms is None or rooms[0] != size or rooms[1] < nv or rooms[2] is not data:
                self.iovs[0:2 * nv:2] = array("Q", range(data.base, data.base + size * nv, size)) if size else (
                    array("Q", [data.base]) * nv)
                self.iovs[1:2 * nv:2] = array("Q", [size]) * nv
                self.rooms = (size, nv, data) if data is self.data else None
            return self.iovs
        _fill(self.iovs, sizes, data.base)
        self.rooms = None
        return self.iovs


def _fill(iovs: array[int], sizes: list[int], base: int) -> None:
    nv = len(sizes)
    if nv:
        iovs[0:2 * nv:2] = array("Q", accumulate(sizes[:-1], initial=base))
        iovs[1:2 * nv:2] = array("Q", sizes)


def _offsets(sizes: list[int]) -> range | list[int]:
    """Where each of consecutive pieces of ``sizes`` bytes starts."""
    size = sizes[0] if sizes else 0
    if size and sizes.count(size) == len(sizes):
        return range(0, size * len(sizes), size)
    return list(accumulate(sizes[:-1], initial=0)) if sizes else []


_ARENAS = threading.local()  # per thread: "send" and "receive" arenas not in use


def _checkout(kind: str) -> _Arena:
    arena: _Arena | None = _ARENAS.__dict__.pop(kind, None)
    return arena if arena is not None else _Arena(kind == "receive")


# -- destinations ----------------------------------------------------------------------------------

_ENCODED: dict[tuple[int, SocketFamily, bool], tuple[Any, array[int], int, int]] = {}
_ENCODED_KEEP: Final = 64


def _encoded(address: Any, family: SocketFamily, mapped_ok: bool) -> tuple[Any, array[int], int, int]:
    """``(address, raw, pointer, length)``: ``address`` as a native sockaddr, at a stable address.

    Addresses are immutable, so an encoding is kept per address object (the entry holds the
    object, so its ``id`` cannot be reused while the entry lives).
    """
    key = (id(address), family, mapped_ok)
    entry = _ENCODED.get(key)
    if entry is not None and entry[0] is address:
        return entry
    raw = encode_sockaddr(family, address, mapped_ok)
    words = array("Q", raw + bytes(-len(raw) % 8))
    entry = (address, words, words.buffer_info()[0], len(raw))
    while len(_ENCODED) >= _ENCODED_KEEP:
        try:
            del _ENCODED[next(iter(_ENCODED))]
        except (KeyError, RuntimeError, StopIteration):
            pass
    _ENCODED[key] = entry
    return entry


# -- sends -----------------------------------------------------------------------------------------


class SendBatch:
    """The native headers and data of one ``send_messages`` call; `release` when it is over."""

    __slots__ = ("arena", "base", "data", "iovs", "keep")
    keep: Any  # the encoded destinations, alive until the call is over

    def __init__(self, messages: list[Any], socket_family: SocketFamily, mapped_ok: bool) -> None:
        n = len(messages)
        addresses = [m._address for m in messages]  # first: anything but an OutputMessage fails here
        arena = self.arena = _checkout("send")
        try:
            self._lay_out(arena, messages, n)
            self._address(arena, addresses, n, socket_family, mapped_ok)
        except BaseException:
            self.release()
            raise
        self.base = arena.headers.buffer_info()[0]

    def _lay_out(self, arena: _Arena, messages: list[Any], n: int) -> None:
        vectors = [m._vectors for m in messages]  # each message's one vector, or a tuple of several
        try:
            buffers = [v._buffer for v in vectors]
        except AttributeError:  # a message without exactly one vector
            buffers = None
        if buffers is not None:
            sizes = list(map(len, buffers))
            if sizes == [v._size for v in vectors]:  # every buffer used whole, as it is now
                try:
                    joined = b"".join(buffers)
                except TypeError:
                    joined = b""
                if len(joined) == sum(sizes):  # (not so for buffers with items wider than a byte)
                    self._put(arena, joined, sizes)
                    arena.point_single(n)
                    return
        vector_lists = [v if type(v) is tuple else (v,) for v in vectors]
        parts = [_byte_view(v._buffer, v._size) for v in chain.from_iterable(vector_lists)]
        sizes = list(map(len, parts))
        self._put(arena, b"".join(parts), sizes)
        counts = list(map(len, vector_lists))
        if counts.count(1) == n:
            arena.point_single(n)
        else:
            arena.point_many(counts, self.iovs.buffer_info()[0])

    def _put(self, arena: _Arena, joined: bytes, sizes: list[int]) -> None:
        """Copy ``joined`` into the arena's data and point iovecs at its pieces."""
        data = self.data = arena.room_for(len(joined))
        if joined:
            data.buffer[:len(joined)] = joined  # same length: nothing is resized
        self.iovs = arena.fill_iovs(sizes, data)

    def _address(self, arena: _Arena, addresses: list[Any], n: int, family: SocketFamily, mapped_ok: bool) -> None:
        first = addresses[0] if n else None
        words = arena.headers
        if addresses == [first] * n:  # one destination for the whole batch (identity; stops at the first other)
            if first is None:
                pointer, length, self.keep = 0, 0, None
            else:
                self.keep = entry = _encoded(first, family, mapped_ok)
                pointer, length = entry[2], entry[3]
            names = arena.names
            if names is None or names[0] != pointer or names[1] != length or names[2] < n:
                words[0:_WORDS * n:_WORDS] = array("Q", [pointer]) * n
                words[1:_WORDS * n:_WORDS] = array("Q", [length]) * n
                arena.names = (pointer, length, n)
            return
        entries = {id(a): (a, 0, 0, 0) if a is None else _encoded(a, family, mapped_ok) for a in addresses}
        self.keep = list(entries.values())
        chosen = [entries[id(a)] for a in addresses]
        words[0:_WORDS * n:_WORDS] = array("Q", [entry[2] for entry in chosen])
        words[1:_WORDS * n:_WORDS] = array("Q", [entry[3] for entry in chosen])
        arena.names = None

    def sent(self, count: int) -> list[int]:
        """``msg_len`` of the first ``count`` headers: the bytes each message sent."""
        return self.arena.headers[7:count * _WORDS:_WORDS].tolist()

    def release(self) -> None:
        """Give the arena back to this thread (after `sent`)."""
        _ARENAS.__dict__["send"] = self.arena


# -- receives --------------------------------------------------------------------------------------


class ReceiveBatch:
    """One ``receive_messages`` call: headers, the arena's data rooms, and the copy-out (`finish`)."""

    __slots__ = ("arena", "base", "buffers", "data", "iovs", "offsets", "owned", "sizes", "vector_lists", "vectors")

    def __init__(self, messages: list[Any]) -> None:
        n = len(messages)
        arena = self.arena = _checkout("receive")
        try:
            self._lay_out(arena, messages, n)
        except BaseException:
            self.release()
            raise
        words = arena.headers
        words[1:_WORDS * n:_WORDS] = array("Q", [SOCKADDR_STORAGE]) * n  # msg_namelen: in, then out
        self.base = words.buffer_info()[0]

    def _lay_out(self, arena: _Arena, messages: list[Any], n: int) -> None:
        vectors = [m._vectors for m in messages]  # each message's one vector, or a tuple of several
        vector_lists: list[Any] | None = None
        try:
            buffers = [v._buffer for v in vectors]
        except AttributeError:  # a message without exactly one vector
            vector_lists = [v if type(v) is tuple else (v,) for v in vectors]
            vectors = list(chain.from_iterable(vector_lists))
            buffers = [v._buffer for v in vectors]
        self.vector_lists, self.vectors, self.buffers = vector_lists, vectors, buffers
        self.owned = (vector_lists is None and buffers[0] is None  # (only InputVectors own rooms)
                      and buffers.count(None) == n)
        if self.owned:  # rooms the vectors own: no caller buffer at all
            sizes = [v._size for v in vectors]
        else:
            kinds = {type(b) for b in buffers}
            if {type(m) for m in messages} != {InputMessage}:  # an OutputMessage's bytearray is no room
                for message in messages:
                    if not isinstance(message, InputMessage):
                        raise TypeError(f"messages must be Gio.InputMessage items, not {type(message).__name__}")
            if _NONE in kinds:  # some own their room, some not: make those, as the caller would see them
                buffers = self.buffers = [v._memory() for v in vectors]
                kinds = {type(b) for b in buffers}
            if kinds == _BYTEARRAY:
                sizes = list(map(min, [v._size for v in vectors], map(len, buffers)))  # a shrunk buffer: its length
            else:
                sizes = [min(v._size, memoryview(b).nbytes) for v, b in zip(vectors, buffers)]
        self.sizes = sizes
        self.offsets = _offsets(sizes)
        data = self.data = arena.room_for(sum(sizes))
        self.iovs = arena.fill_iovs(sizes, data)
        if vector_lists is None:
            arena.point_single(n)
        else:
            arena.point_many(list(map(len, vector_lists)), self.iovs.buffer_info()[0])

    def finish(self, messages: list[Any], got: int, source_of: Callable[[bytes], Any]) -> None:
        """Copy the ``got`` messages received out of the arena and fill in their results.

        ``source_of`` turns a raw source sockaddr into the address a message reports.
        """
        if not got:
            return
        words = self.arena.headers
        lengths = words[7:_WORDS * got:_WORDS].tolist()
        flags = words[6:_WORDS * got:_WORDS].tolist()
        namelens = words[1:_WORDS * got:_WORDS]
        rooms = self.arena.sources
        namelen = namelens[0]
        single = namelens.count(namelen) == got and namelen <= 32
        if single and got > 1:  # the same bytes in every room? compared a word column at a time
            for k in range((namelen + 7) // 8):
                if rooms[k:_ROOM_WORDS * got:_ROOM_WORDS].count(rooms[k]) != got:
                    single = False
                    break
        if single:  # one source for the whole batch, the common case
            address = source_of(rooms[:4].tobytes()[:namelen]) if namelen else None
            sources: Any = repeat(address)
        else:
            raw = rooms[:_ROOM_WORDS * got].tobytes()
            sources = [source_of(raw[i * SOCKADDR_STORAGE:i * SOCKADDR_STORAGE + min(length, SOCKADDR_STORAGE)])
                       if length else None for i, length in enumerate(namelens)]
        data = self.data.buffer
        if self.owned:
            for message, vector, offset, length, flag, source in zip(
                    messages, self.vectors, self.offsets, lengths, flags, sources):
                vector._received = data[offset:offset + length]
                message.bytes_received = length
                message.flags = flag
                message.address = source
            changed()
            return
        if self.vector_lists is None and {type(b) for b in self.buffers} == _BYTEARRAY:
            for message, buffer, offset, length, flag, source in zip(
                    messages, self.buffers, self.offsets, lengths, flags, sources):
                if length <= len(buffer):
                    buffer[:length] = data[offset:offset + length]
                else:  # shrunk by another thread during the call: as much as it holds now
                    buffer[:] = data[offset:offset + len(buffer)]
                message.bytes_received = length
                message.flags = flag
                message.address = source
            return
        self._scatter(lengths)
        for message, length, flag, source in zip(messages, lengths, flags, sources):
            message.bytes_received = length
            message.flags = flag
            message.address = source

    def _scatter(self, lengths: list[int]) -> None:
        """The general copy-out: each message over its vectors, each at most at its length now."""
        data = memoryview(self.data.buffer)
        counts = list(map(len, self.vector_lists)) if self.vector_lists is not None else [1] * len(lengths)
        index = 0
        for count, length in zip(counts, lengths):
            for buffer, offset, size in zip(self.buffers[index:index + count], self.offsets[index:index + count],
                                            self.sizes[index:index + count]):
                take = size if size < length else length
                if take > 0:
                    _copy_into(buffer, data[offset:offset + take])
                length -= take
            index += count

    def release(self) -> None:
        """Give the arena back to this thread (after `finish`)."""
        _ARENAS.__dict__["receive"] = self.arena


def _copy_into(buffer: Any, chunk: memoryview) -> None:
    """Write ``chunk`` at the start of ``buffer``, never past its end as it is now."""
    if type(buffer) is bytearray:
        if len(chunk) > len(buffer):
            chunk = chunk[:len(buffer)]
        buffer[:len(chunk)] = chunk  # same length: the bytearray is not resized
        return
    view = memoryview(buffer).cast("B")
    n = min(len(chunk), len(view))
    view[:n] = chunk[:n]
