"""The ``sendmmsg``/``recvmmsg`` headers of one batched call, laid out from what the messages hold now.

Every call lays its batch out afresh, so nothing depends on a cache, and a real program's
new message lists cost what reused ones cost. No caller's buffer is exported to the
kernel: sends gather the data into one copy, receives land in one scratch buffer and are
copied out, so a ``bytearray`` is resizable again as soon as the call returns, and none is
ever read or written past its length at that moment. The layout avoids a Python object
per message (`SendBatch`; `ReceiveBatch` works the same way):

* The data of every vector is **copied** into one ``bytes`` (``b"".join``, one C loop), each
  vector at its length at the call (a buffer shrunk after its vector was made is sent as it
  is now, never past its end). No caller's buffer is exported, so a ``bytearray`` stays
  resizable, and one changed by another thread during the call cannot make the kernel
  read freed memory: the kernel reads the copy.
* The ``iovec`` and ``mmsghdr`` arrays are ``array('Q')`` words filled by strided slice
  assignment (``words[2::8] = …``), C loops over columns: the pointers are the copy's
  address plus running offsets (``itertools.accumulate``), and each destination is encoded
  once per distinct address object.

This needs the x86-64/aarch64 Linux layout of ``struct mmsghdr`` (8 words of 8 bytes),
checked against ctypes at import (`AVAILABLE`); elsewhere, and for messages with control
messages, `gsocklab.core._mmsg.OutputBatch` lays the batch out instead.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from array import array
from itertools import accumulate, chain
from operator import attrgetter, itemgetter
from typing import Any, Final

from ._enums import SocketFamily
from ._mmsg import MMSGHDR_SIZE, SOCKADDR_STORAGE, encode_sockaddr, iovec, mmsghdr, msghdr

__all__ = ["AVAILABLE", "ReceiveBatch", "SendBatch"]

_WORDS: Final = 8  # 8-byte words per mmsghdr
AVAILABLE: Final = (
    sys.byteorder == "little" and array("Q").itemsize == 8 and MMSGHDR_SIZE == 64 and ctypes.sizeof(iovec) == 16
    and (msghdr.msg_name.offset, msghdr.msg_namelen.offset, msghdr.msg_iov.offset, msghdr.msg_iovlen.offset,
         msghdr.msg_control.offset, msghdr.msg_controllen.offset, msghdr.msg_flags.offset,
         mmsghdr.msg_len.offset) == (0, 8, 16, 24, 32, 40, 48, 56)
    and ctypes.sizeof(ctypes.c_void_p) == 8
)
_VECTORS = attrgetter("_vectors")
_ADDRESS = attrgetter("_address")
_BUFFER = attrgetter("_buffer")
_SIZE = attrgetter("_size")
_FIRST = itemgetter(0)
_PLAIN = frozenset({bytes, bytearray})


def _address_of(data: bytes) -> int:
    """The address of a ``bytes`` object's data (kept alive by whoever holds ``data``)."""
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0


def _as_bytes_view(buffer: Any, size: int) -> Any:
    """At most ``size`` bytes of any bytes-like ``buffer``, as it is now."""
    if type(buffer) not in _PLAIN:
        buffer = memoryview(buffer).cast("B")
    return buffer if len(buffer) <= size else memoryview(buffer)[:size]


def _point_at_iovecs(words: array[int], counts: list[int], iov_base: int, single: bool) -> None:
    """Fill ``msg_iov``/``msg_iovlen`` of every header: each message's first iovec and their count."""
    n = len(counts)
    if single:  # one vector each: evenly spaced
        words[2::_WORDS] = array("Q", range(iov_base, iov_base + 16 * n, 16))
        words[3::_WORDS] = array("Q", [1]) * n
    else:
        words[2::_WORDS] = array("Q", accumulate((16 * c for c in counts[:-1]), initial=iov_base))
        words[3::_WORDS] = array("Q", counts)


class SendBatch:
    """The native headers and data of one call's messages (see the module doc)."""

    __slots__ = ("base", "data", "headers", "iovs", "names")

    def __init__(self, messages: list[Any], socket_family: SocketFamily, mapped_ok: bool) -> None:
        n = len(messages)
        vector_lists = list(map(_VECTORS, messages))
        counts = list(map(len, vector_lists))
        if counts.count(1) == n:
            vectors: list[Any] = list(map(_FIRST, vector_lists))
        else:
            vectors = list(chain.from_iterable(vector_lists))
        buffers = list(map(_BUFFER, vectors))
        sizes = list(map(_SIZE, vectors))
        if set(map(type, buffers)) <= _PLAIN and list(map(len, buffers)) == sizes:
            self.data = b"".join(buffers)  # the common case: whole bytes/bytearray buffers
        else:
            parts = list(map(_as_bytes_view, buffers, sizes))
            sizes = list(map(len, parts))
            self.data = b"".join(parts)
        base = _address_of(self.data)
        nv = len(sizes)
        iovs = self.iovs = array("Q", bytes(16 * nv))
        if nv:
            iovs[0::2] = array("Q", accumulate(sizes[:-1], initial=base))
            iovs[1::2] = array("Q", sizes)
        iov_base = iovs.buffer_info()[0]
        words = self.headers = array("Q", bytes(MMSGHDR_SIZE * n))
        _point_at_iovecs(words, counts, iov_base, counts.count(1) == n)
        addresses = list(map(_ADDRESS, messages))
        first = addresses[0] if n else None
        self.names: list[bytes] = []
        if addresses.count(first) == n:  # one destination for the whole batch (identity or equality)
            if first is not None:
                raw = encode_sockaddr(socket_family, first, mapped_ok)
                self.names.append(raw)
                words[0::_WORDS] = array("Q", [_address_of(raw)]) * n
                words[1::_WORDS] = array("Q", [len(raw)]) * n
        else:
            pointers: dict[int, tuple[int, int]] = {id(None): (0, 0)}
            for address in {id(a): a for a in addresses}.values():
                if address is not None:
                    raw = encode_sockaddr(socket_family, address, mapped_ok)
                    self.names.append(raw)
                    pointers[id(address)] = (_address_of(raw), len(raw))
            names = list(map(pointers.__getitem__, map(id, addresses)))
            words[0::_WORDS] = array("Q", map(_FIRST, names))
            words[1::_WORDS] = array("Q", map(itemgetter(1), names))
        self.base = words.buffer_info()[0]

    def sent(self, count: int) -> list[int]:
        """``msg_len`` of the first ``count`` headers: the bytes each message sent."""
        return self.headers[7:count * _WORDS:_WORDS].tolist()


_SCRATCH = threading.local()  # per thread: the receive buffers of its last batches, reused
_SCRATCH_KEEP = 8 << 20  # bytes of scratch a thread keeps between calls


def _scratch(kind: str, nbytes: int) -> array[int]:
    """At least ``nbytes`` bytes of this thread's ``kind`` scratch, an ``array('B')``.

    Its address needs no export (``buffer_info``), and reusing it spares each call the page
    faults of fresh memory (about 0.7 µs a message for 2 KiB rooms). Only this thread uses
    it, and only between a ``recvmmsg`` and the copy-out that follows it, with no caller code
    in between. The kernel writes what a call reads back, so old contents never show.
    """
    buffer: array[int] | None = getattr(_SCRATCH, kind, None)
    if buffer is None or len(buffer) < nbytes:
        buffer = array("B", bytes(nbytes))
        if nbytes <= _SCRATCH_KEEP:
            setattr(_SCRATCH, kind, buffer)
    return buffer


class ReceiveBatch:
    """One ``receive_messages`` call: headers, one scratch buffer for the data, and the copy-out.

    The kernel writes into ``data`` (each vector's room at its running offset) and the
    source addresses into ``names``; `deliver` then copies each message's bytes into its
    vectors' buffers, each at most at its length at that moment.
    """

    __slots__ = ("base", "counts", "data", "headers", "iovs", "names", "offsets", "single", "sizes", "vectors")

    def __init__(self, messages: list[Any]) -> None:
        n = len(messages)
        vector_lists = list(map(_VECTORS, messages))
        counts = self.counts = list(map(len, vector_lists))
        single = self.single = counts.count(1) == n
        vectors = self.vectors = list(map(_FIRST, vector_lists)) if single else list(chain.from_iterable(vector_lists))
        buffers = list(map(_BUFFER, vectors))
        if set(map(type, buffers)) <= {bytearray}:
            lengths = list(map(len, buffers))
        else:
            lengths = [memoryview(buffer).nbytes for buffer in buffers]
        sizes = self.sizes = list(map(min, map(_SIZE, vectors), lengths))  # a buffer shrunk since: its length now
        self.offsets = list(accumulate(sizes[:-1], initial=0)) if sizes else []
        data = self.data = _scratch("data", sum(sizes))
        names = self.names = _scratch("names", SOCKADDR_STORAGE * n)
        base = data.buffer_info()[0]
        nv = len(sizes)
        iovs = self.iovs = array("Q", bytes(16 * nv))
        if nv:
            iovs[0::2] = array("Q", map(base.__add__, self.offsets))
            iovs[1::2] = array("Q", sizes)
        iov_base = iovs.buffer_info()[0]
        words = self.headers = array("Q", bytes(MMSGHDR_SIZE * n))
        names_base = names.buffer_info()[0]
        words[0::_WORDS] = array("Q", range(names_base, names_base + SOCKADDR_STORAGE * n, SOCKADDR_STORAGE))
        words[1::_WORDS] = array("Q", [SOCKADDR_STORAGE]) * n
        _point_at_iovecs(words, counts, iov_base, single)
        self.base = words.buffer_info()[0]

    def column(self, offset: int, count: int) -> list[int]:
        """One 32-bit field (at byte ``offset`` of each header) of the first ``count`` headers."""
        step = MMSGHDR_SIZE // 4
        return memoryview(self.headers).cast("B").cast("I")[offset // 4:count * step:step].tolist()

    def names_bytes(self, count: int) -> bytes:
        """The raw source addresses of the first ``count`` messages, ``SOCKADDR_STORAGE`` apart."""
        return self.names[:count * SOCKADDR_STORAGE].tobytes()

    def deliver(self, lengths: list[int]) -> None:
        """Copy each received message (``lengths[i]`` bytes) into its vectors' buffers."""
        data = memoryview(self.data)
        if self.single:  # one vector per message
            for vector, offset, length in zip(self.vectors, self.offsets, lengths):
                buffer = vector._buffer
                if type(buffer) is bytearray and length <= len(buffer):  # the common case, inline
                    buffer[:length] = data[offset:offset + length]
                else:
                    _copy_into(buffer, data[offset:offset + length])
            return
        index = 0
        for count, length in zip(self.counts, lengths):
            for vector, offset, size in zip(self.vectors[index:index + count], self.offsets[index:index + count],
                                            self.sizes[index:index + count]):
                take = size if size < length else length
                if take > 0:
                    _copy_into(vector._buffer, data[offset:offset + take])
                length -= take
            index += count


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
