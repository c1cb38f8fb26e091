"""The ``sendmmsg`` headers of one ``send_messages`` call, laid out from what the messages hold now.

Every call lays its batch out afresh, so nothing depends on a cache, and a real sender's
new message lists cost what reused ones cost. The layout avoids a Python object per
message:

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
from array import array
from itertools import accumulate, chain
from operator import attrgetter, itemgetter
from typing import Any, Final

from ._enums import SocketFamily
from ._mmsg import MMSGHDR_SIZE, encode_sockaddr, iovec, mmsghdr, msghdr

__all__ = ["AVAILABLE", "SendBatch"]

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
        if counts.count(1) == n:
            words[2::_WORDS] = array("Q", range(iov_base, iov_base + 16 * n, 16))
            words[3::_WORDS] = array("Q", [1]) * n
        else:
            words[2::_WORDS] = array("Q", accumulate((16 * c for c in counts[:-1]), initial=iov_base))
            words[3::_WORDS] = array("Q", counts)
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
