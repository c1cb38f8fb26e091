"""Native message headers for ``sendmmsg``/``recvmmsg`` (Linux), through ctypes.

Python's ``socket`` has no batched calls, so the batch is laid out as the C library wants
it: an array of ``struct mmsghdr``. The common batches are laid out by
`gsocklab.core._batch_layout` (array columns, data copied); the batches here, through
ctypes structures whose ``iovec``s point straight into the messages' Python buffers
(writable buffers through ``ctypes.from_buffer``, which locks a ``bytearray`` against
resizing while the batch exists; ``bytes`` through its read-only data pointer), serve the
messages that carry control messages, for one call each. Nothing depends on CPython's
object layout. This module also holds the sockaddr and control-message codecs.

The system calls themselves are made by `gsocklab._socket` (`SENDMMSG`, `RECVMMSG`).
"""

from __future__ import annotations

import ctypes
import os
import socket as _socket
import struct
from collections.abc import Sequence
from typing import Any, Final

from ._address import SocketAddress
from ._args import os_sockaddr
from ._enums import SocketFamily
from ._messages import InputMessage, OutputMessage

__all__ = [
    "IOV_MAX",
    "MMSGHDR_SIZE",
    "RECVMMSG",
    "SENDMMSG",
    "InputBatch",
    "OutputBatch",
    "decode_sockaddr",
    "encode_sockaddr",
    "pack_cmsgs",
    "parse_cmsgs",
]

SOCKADDR_STORAGE: Final = 128
CONTROL_BUFFER: Final = 2048  # GLib's control buffer per received message
_SIZE_T: Final = ctypes.sizeof(ctypes.c_size_t)


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.c_void_p),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]


MMSGHDR_SIZE: Final = ctypes.sizeof(mmsghdr)
IOVEC_SIZE: Final = ctypes.sizeof(iovec)


def _results_struct() -> struct.Struct:
    """Reads ``(msg_namelen, msg_controllen, msg_flags, msg_len)`` from one ``mmsghdr``."""
    fields = [
        (msghdr.msg_namelen.offset, "I"),
        (msghdr.msg_controllen.offset, "Q" if _SIZE_T == 8 else "I"),
        (msghdr.msg_flags.offset, "i"),
        (mmsghdr.msg_len.offset, "I"),
    ]
    fmt, position = "=", 0
    for offset, code in fields:
        fmt += f"{offset - position}x{code}" if offset > position else code
        position = offset + struct.calcsize("=" + code)
    fmt += f"{MMSGHDR_SIZE - position}x"
    return struct.Struct(fmt)


_RESULTS: Final = _results_struct()
MSG_LEN_OFFSET: Final = mmsghdr.msg_len.offset
MSG_FLAGS_OFFSET: Final = msghdr.msg_flags.offset
MSG_NAMELEN_OFFSET: Final = msghdr.msg_namelen.offset


def _libc_function(name: str) -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    # No argtypes: ctypes converts declared arguments slowly, and the callers pass a
    # ``c_void_p`` for the headers, ints that fit a C int, and ``None`` for the timeout.
    function.restype = ctypes.c_int
    return function


SENDMMSG: Final = _libc_function("sendmmsg")  # None where the C library lacks it
RECVMMSG: Final = _libc_function("recvmmsg")


def _iov_max() -> int:
    try:
        value = os.sysconf("SC_IOV_MAX")
    except (ValueError, OSError):
        value = -1
    return value if value > 0 else 1024


IOV_MAX: Final = _iov_max()  # GLib's G_IOV_MAX clamp on batch sizes


# -- socket addresses ------------------------------------------------------------------------

def encode_sockaddr(socket_family: SocketFamily, address: SocketAddress, mapped_ok: bool) -> bytes:
    """The raw ``struct sockaddr`` bytes of ``address`` for a socket of ``socket_family``."""
    native = os_sockaddr(socket_family, address, mapped_ok)
    if socket_family == SocketFamily.IPV4:
        host, port = native
        return struct.pack("=H", _socket.AF_INET) + struct.pack("!H", port) + _socket.inet_pton(
            _socket.AF_INET, host) + bytes(8)
    if socket_family == SocketFamily.IPV6:
        host, port, flowinfo, scope_id = native
        return (struct.pack("=H", _socket.AF_INET6) + struct.pack("!HI", port, flowinfo)
                + _socket.inet_pton(_socket.AF_INET6, host) + struct.pack("=I", scope_id))
    path = native if isinstance(native, bytes) else os.fsencode(native) + b"\0"
    return struct.pack("=H", _socket.AF_UNIX) + path


def decode_sockaddr(raw: bytes) -> Any:
    """Raw ``struct sockaddr`` bytes as Python's ``socket`` module returns addresses."""
    if len(raw) < 2:
        return None
    family = struct.unpack_from("=H", raw)[0]
    if family == _socket.AF_INET and len(raw) >= 8:
        return (_socket.inet_ntop(_socket.AF_INET, raw[4:8]), struct.unpack_from("!H", raw, 2)[0])
    if family == _socket.AF_INET6 and len(raw) >= 28:
        port, flowinfo = struct.unpack_from("!HI", raw, 2)
        return (_socket.inet_ntop(_socket.AF_INET6, raw[8:24]), port, flowinfo, struct.unpack_from("=I", raw, 24)[0])
    if family == _socket.AF_UNIX:
        path = raw[2:]
        if not path:
            return ""
        if path[0] == 0:
            return bytes(path)
        return os.fsdecode(path.split(b"\0", 1)[0])
    return None


# -- control messages --------------------------------------------------------------------------

def pack_cmsgs(items: Sequence[tuple[int, int, bytes]]) -> bytes:
    """``(level, type, data)`` items as a native control buffer (``CMSG_SPACE`` aligned)."""
    out = bytearray()
    for level, kind, data in items:
        header = struct.pack("=" + ("Q" if _SIZE_T == 8 else "I") + "ii", _socket.CMSG_LEN(len(data)), level, kind)
        out += header + data
        out += bytes(_socket.CMSG_SPACE(len(data)) - len(header) - len(data))
    return bytes(out)


def parse_cmsgs(raw: bytes) -> list[tuple[int, int, bytes]]:
    """A native control buffer as ``(level, type, data)`` items, as ``socket.recvmsg`` gives them."""
    header = struct.Struct("=" + ("Q" if _SIZE_T == 8 else "I") + "ii")
    items, offset = [], 0
    while offset + header.size <= len(raw):
        length, level, kind = header.unpack_from(raw, offset)
        if length < header.size:
            break
        items.append((level, kind, bytes(raw[offset + header.size:offset + min(length, len(raw) - offset)])))
        offset += _socket.CMSG_SPACE(length - header.size)
    return items


# -- batches -------------------------------------------------------------------------------------

def _exported(buffer: Any, keep: list[Any]) -> tuple[int, int]:
    """The address and the length *now* of ``buffer``'s data; ``keep`` holds it until the batch goes.

    The length is read here, at the call, never taken from a vector's ``size``: a
    ``bytearray`` shrunk after its vector was made must not be read or written past its
    new end. From here on the export (``from_buffer``) keeps it from being resized. A
    read-only view of something other than ``bytes`` has no pointer ctypes can take: it is
    copied, and ``keep`` holds the copy.
    """
    if isinstance(buffer, bytes):
        pointer = ctypes.c_char_p(buffer)
        keep.append(pointer)
        return ctypes.cast(pointer, ctypes.c_void_p).value or 0, len(buffer)
    view = memoryview(buffer)
    if view.readonly:
        return _exported(view.tobytes(), keep)
    if view.nbytes == 0:
        return 0, 0
    exported = (ctypes.c_char * view.nbytes).from_buffer(view)
    keep.append(exported)
    return ctypes.addressof(exported), view.nbytes


def _pointer(buffer: Any, keep: list[Any]) -> int:
    """The address of ``buffer``'s data, kept alive by ``keep`` (see `_exported`)."""
    return _exported(buffer, keep)[0]


class _Batch:
    """An ``mmsghdr`` array for one list of messages, valid while nothing changes."""

    __slots__ = ("array", "base", "keep", "messages", "words")

    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages
        self.array = (mmsghdr * max(len(messages), 1))()
        self.base = ctypes.addressof(self.array)
        self.keep: list[Any] = []
        self.words: memoryview | None = None

    def _iovecs(self, vectors: Sequence[Any]) -> tuple[int, int]:
        if not vectors:
            return 0, 0
        iovs = (iovec * len(vectors))()
        self.keep.append(iovs)
        for iov, vector in zip(iovs, vectors):
            iov.iov_base, nbytes = _exported(vector._memory(), self.keep)
            size = vector.size
            iov.iov_len = size if size <= nbytes else nbytes  # a buffer shrunk since: its length now
        return ctypes.addressof(iovs), len(vectors)

    def results(self, count: int) -> Any:
        """``(namelen, controllen, flags, msg_len)`` for the first ``count`` messages."""
        return _RESULTS.iter_unpack(memoryview(self.array).cast("B")[:count * MMSGHDR_SIZE])

    def sent(self, count: int) -> list[int]:
        """``msg_len`` of the first ``count`` headers."""
        return self.column(MSG_LEN_OFFSET, count)

    def column(self, offset: int, count: int) -> list[int]:
        """One 32-bit field (at byte ``offset`` of each header) of the first ``count`` headers."""
        words = self.words
        if words is None:
            words = self.words = memoryview(self.array).cast("B").cast("I")
        step = MMSGHDR_SIZE // 4
        return words[offset // 4:count * step:step].tolist()


class OutputBatch(_Batch):
    """The native batch of ``send_messages``."""

    __slots__ = ()

    def __init__(self, messages: Sequence[OutputMessage], socket_family: SocketFamily, mapped_ok: bool) -> None:
        super().__init__(list(messages))
        last_address: object = self
        name, namelen = 0, 0
        for header, message in zip(self.array, self.messages):
            if not isinstance(message, OutputMessage):
                raise TypeError(f"messages must be Gio.OutputMessage items, not {type(message).__name__}")
            hdr = header.msg_hdr
            if message.address is not last_address:  # consecutive messages share the native address
                last_address = message.address
                if message.address is None:
                    name, namelen = 0, 0
                else:
                    raw = encode_sockaddr(socket_family, message.address, mapped_ok)
                    name, namelen = _pointer(raw, self.keep), len(raw)
            hdr.msg_name, hdr.msg_namelen = name, namelen
            hdr.msg_iov, hdr.msg_iovlen = self._iovecs(message.vectors)
            if message.control_messages:
                from ._control import serialize_control_messages

                # Serialized now: a later change to the messages (fds appended or closed)
                # cannot be seen, so this batch is never reused.
                control = pack_cmsgs(serialize_control_messages(message.control_messages))
                hdr.msg_control, hdr.msg_controllen = _pointer(control, self.keep), len(control)


class InputBatch(_Batch):
    """The native batch of ``receive_messages``: source addresses and, where asked, control data."""

    __slots__ = ("controls", "names")

    def __init__(self, messages: Sequence[InputMessage]) -> None:
        super().__init__(list(messages))
        self.names = (ctypes.c_char * (SOCKADDR_STORAGE * max(len(messages), 1)))()
        names_base = ctypes.addressof(self.names)
        self.controls: dict[int, Any] = {}
        for index, (header, message) in enumerate(zip(self.array, self.messages)):
            if not isinstance(message, InputMessage):
                raise TypeError(f"messages must be Gio.InputMessage items, not {type(message).__name__}")
            hdr = header.msg_hdr
            hdr.msg_name = names_base + index * SOCKADDR_STORAGE
            hdr.msg_iov, hdr.msg_iovlen = self._iovecs(message.vectors)
            hdr.msg_namelen = SOCKADDR_STORAGE
            if message.control_messages is not None:
                control = (ctypes.c_char * CONTROL_BUFFER)()
                self.controls[index] = control
                hdr.msg_control, hdr.msg_controllen = ctypes.addressof(control), CONTROL_BUFFER

    def names_bytes(self, count: int) -> bytes:
        """The raw source addresses of the first ``count`` messages, ``SOCKADDR_STORAGE`` apart."""
        return ctypes.string_at(ctypes.addressof(self.names), count * SOCKADDR_STORAGE)

    def control(self, index: int, length: int) -> bytes:
        """The raw control data of message ``index``."""
        return ctypes.string_at(ctypes.addressof(self.controls[index]), length)
