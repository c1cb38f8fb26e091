"""`BufferedInputStream`, `DataInputStream` and `DataOutputStream`: lines, integers, byte order.

A `DataInputStream` reads its base stream through a buffer (4096 bytes by default), so a
line read may read more than the line: the rest stays for the next call. Lines end as
``set_newline_type`` says — ``LF`` by default (a ``\\r`` before it stays in the line), ``CR``,
``CR_LF`` or ``ANY`` — and come without their terminator. At the end of the stream a line
read returns ``(None, 0)``, as GLib does (PyGObject turns that ``None`` into ``b""`` for
`read_line`, the same as an empty line; gsocklab keeps them apart). Integers read in the
stream's byte order (``BIG_ENDIAN`` by default); a stream that ends before the integer fails
``FAILED`` "Unexpected early end-of-stream".
"""

from __future__ import annotations

import builtins
import enum
import struct
from collections.abc import Callable
from typing import Any

from ..core._args import int_arg, user_data_keyword
from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum
from ..core._errors import Error, new_io_error
from ._streams import InputStream, OutputStream
from ._task import finish

__all__ = ["BufferedInputStream", "DataInputStream", "DataOutputStream", "DataStreamByteOrder",
           "DataStreamNewlineType", "LineResult"]

CONVERT_ERROR_QUARK = "g_convert_error"  # the quark's string, as PyGObject shows it


class DataStreamByteOrder(enum.IntEnum):
    """``GDataStreamByteOrder``."""

    BIG_ENDIAN = 0
    LITTLE_ENDIAN = 1
    HOST_ENDIAN = 2


class DataStreamNewlineType(enum.IntEnum):
    """``GDataStreamNewlineType``."""

    LF = 0
    CR = 1
    CR_LF = 2
    ANY = 3


class LineResult(tuple[Any, int]):
    """``(line, length)`` of the line reads."""

    __slots__ = ()

    @property
    def length(self) -> int:
        """The line's length in bytes, without its terminator."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]!r}, length={self[1]})"


def _early_end() -> Error:
    return new_io_error(IOErrorEnum.FAILED, "Unexpected early end-of-stream")


class BufferedInputStream(InputStream):
    """A ``GBufferedInputStream`` over ``base_stream``."""

    __slots__ = ("_base", "_buffer", "_buffer_size", "_close_base")

    def __init__(self, base_stream: InputStream) -> None:
        if not isinstance(base_stream, InputStream):
            raise TypeError(f"base_stream must be a Gio.InputStream, not {type(base_stream).__name__}")
        super().__init__()
        self._base = base_stream
        self._buffer = bytearray()
        self._buffer_size = 4096
        self._close_base = True

    @classmethod
    def new(cls, base_stream: InputStream) -> BufferedInputStream:
        """A buffered stream reading ``base_stream``."""
        return cls(base_stream)

    def get_base_stream(self) -> InputStream:
        """The stream read from."""
        return self._base

    def get_close_base_stream(self) -> bool:
        """Whether closing this stream closes the base stream (``True``)."""
        return self._close_base

    def set_close_base_stream(self, close_base: bool) -> None:
        """Close the base stream with this one, or not."""
        self._close_base = bool(close_base)

    def get_buffer_size(self) -> int:
        """The buffer's size (4096)."""
        return self._buffer_size

    def set_buffer_size(self, size: int) -> None:
        """Read up to ``size`` bytes at a time from the base stream."""
        self._buffer_size = max(1, int_arg(size, "size"))

    def get_available(self) -> int:
        """How many bytes the buffer holds."""
        return len(self._buffer)

    def peek_buffer(self) -> bytes:
        """The buffered bytes, not consumed."""
        return bytes(self._buffer)

    def _fill_once(self, cancellable: Cancellable | None, count: int = -1) -> int:
        room = max(1, self._buffer_size - len(self._buffer))
        data = self._base._read(room if count < 0 else max(1, min(count, room)), cancellable)
        self._buffer += data
        return len(data)

    def fill(self, count: int = -1, cancellable: Cancellable | None = None) -> int:
        """Read up to ``count`` bytes (-1: as many as the buffer has room for) into the buffer,
        in one read of the base stream; how many came."""
        count = int_arg(count, "count")
        return int(self._blocking(cancellable, lambda: self._fill_once(cancellable, count)))

    def _read(self, count: int, cancellable: Cancellable | None) -> bytes:
        if not self._buffer:
            if count >= self._buffer_size:
                return self._base._read(count, cancellable)
            self._fill_once(cancellable)
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _need(self, count: int, cancellable: Cancellable | None) -> bytes:
        """Exactly ``count`` bytes, or ``Unexpected early end-of-stream``."""
        while len(self._buffer) < count:
            if not self._fill_once(cancellable):
                raise _early_end()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def read_byte(self, cancellable: Cancellable | None = None) -> int:
        """One byte (0–255)."""
        return int(self._blocking(cancellable, lambda: self._need(1, cancellable)[0]))

    def _close(self, cancellable: Cancellable | None) -> None:
        if self._close_base:
            self._base.close(cancellable)


class DataInputStream(BufferedInputStream):
    """A ``GDataInputStream``: ``Gio.DataInputStream.new(base_stream)`` (see the module doc)."""

    __slots__ = ("_byte_order", "_newline")

    def __init__(self, base_stream: InputStream) -> None:
        super().__init__(base_stream)
        self._byte_order = DataStreamByteOrder.BIG_ENDIAN
        self._newline = DataStreamNewlineType.LF

    @classmethod
    def new(cls, base_stream: InputStream) -> DataInputStream:
        """A data stream reading ``base_stream``."""
        return cls(base_stream)

    def get_byte_order(self) -> DataStreamByteOrder:
        """The byte order of the integer reads."""
        return self._byte_order

    def set_byte_order(self, order: DataStreamByteOrder | int) -> None:
        """``BIG_ENDIAN``, ``LITTLE_ENDIAN`` or ``HOST_ENDIAN``."""
        self._byte_order = DataStreamByteOrder(order)

    def get_newline_type(self) -> DataStreamNewlineType:
        """What ends a line."""
        return self._newline

    def set_newline_type(self, type: DataStreamNewlineType | int) -> None:
        """``LF``, ``CR``, ``CR_LF`` or ``ANY``."""
        self._newline = DataStreamNewlineType(type)

    # -- lines ----------------------------------------------------------------------------

    def _line_end(self, start: int) -> tuple[int, int]:
        """(end of the line, length of its terminator) in the buffer, or (-1, 0)."""
        buffer = self._buffer
        if self._newline == DataStreamNewlineType.LF:
            end = buffer.find(b"\n", start)
            return (end, 1) if end >= 0 else (-1, 0)
        if self._newline == DataStreamNewlineType.CR:
            end = buffer.find(b"\r", start)
            return (end, 1) if end >= 0 else (-1, 0)
        if self._newline == DataStreamNewlineType.CR_LF:
            end = buffer.find(b"\r\n", start)
            return (end, 2) if end >= 0 else (-1, 0)
        for index in range(start, len(buffer)):
            if buffer[index] == 0x0A:
                return index, 1
            if buffer[index] == 0x0D:
                if index + 1 == len(buffer):
                    return -1, 0  # wait: it may be CR LF
                return index, 2 if buffer[index + 1] == 0x0A else 1
        return -1, 0

    def _line(self, cancellable: Cancellable | None) -> bytes | None:
        scanned = 0
        while True:
            end, terminator = self._line_end(scanned)
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[:end + terminator]
                return line
            scanned = max(0, len(self._buffer) - 1)
            if not self._fill_once(cancellable):
                if not self._buffer:
                    return None
                line = bytes(self._buffer)  # as GLib: a CR that ends the stream stays (it waited for an LF)
                self._buffer.clear()
                return line

    @staticmethod
    def _utf8(line: bytes | None) -> str | None:
        if line is None:
            return None
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            raise Error("Invalid byte sequence in conversion input", CONVERT_ERROR_QUARK, 1) from None

    def read_line(self, cancellable: Cancellable | None = None) -> LineResult:
        """``(line, length)``: the next line as ``bytes`` without its terminator; ``(None, 0)`` at the end."""
        line = self._blocking(cancellable, lambda: self._line(cancellable))
        return LineResult((line, len(line) if line is not None else 0))

    def read_line_utf8(self, cancellable: Cancellable | None = None) -> LineResult:
        """`read_line` as ``str``; invalid UTF-8 fails ``g_convert_error`` 1."""
        line = self._blocking(cancellable, lambda: self._line(cancellable))
        return LineResult((self._utf8(line), len(line) if line is not None else 0))

    @user_data_keyword
    def read_line_async(self, io_priority: int, cancellable: Cancellable | None = None,
                        callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`read_line` in a thread; ``read_line_finish`` (or ``_finish_utf8``) gives the line."""
        self._async("read_line_async", cancellable, lambda: self._line(cancellable), callback, user_data)

    def read_line_finish(self, result: Any) -> LineResult:
        """``(line, length)`` of `read_line_async`, or its error."""
        line = finish(self, result, "read_line_async")
        return LineResult((line, len(line) if line is not None else 0))

    def read_line_finish_utf8(self, result: Any) -> LineResult:
        """``(str line, length)`` of `read_line_async`, or its error."""
        line = finish(self, result, "read_line_async")
        return LineResult((self._utf8(line), len(line) if line is not None else 0))

    def _upto(self, stop_chars: bytes, cancellable: Cancellable | None) -> bytes | None:
        scanned = 0
        while True:
            for index in range(scanned, len(self._buffer)):
                if self._buffer[index] in stop_chars:
                    data = bytes(self._buffer[:index])
                    del self._buffer[:index]
                    return data
            scanned = len(self._buffer)
            if not self._fill_once(cancellable):
                if not self._buffer:
                    return None
                data = bytes(self._buffer)
                self._buffer.clear()
                return data

    @staticmethod
    def _stops(stop_chars: object, stop_chars_len: int = -1) -> bytes:
        if not isinstance(stop_chars, str):
            raise TypeError(f"stop_chars must be a str, not {type(stop_chars).__name__}")
        data = stop_chars.encode()
        return data if stop_chars_len < 0 else data[:stop_chars_len]

    def read_upto(self, stop_chars: str, stop_chars_len: int = -1,
                  cancellable: Cancellable | None = None) -> LineResult:
        """``(text, length)`` up to (not including) any of ``stop_chars``, which stays in the
        stream; ``(None, 0)`` at the end."""
        stops = self._stops(stop_chars, stop_chars_len)
        data = self._blocking(cancellable, lambda: self._upto(stops, cancellable))
        return LineResult((self._utf8(data), len(data) if data is not None else 0))

    def read_until(self, stop_chars: str, cancellable: Cancellable | None = None) -> LineResult:
        """As `read_upto`, but the stop character is read too (deprecated in GLib)."""
        stops = self._stops(stop_chars)

        def work() -> bytes | None:
            data = self._upto(stops, cancellable)
            if data is not None and self._buffer:
                del self._buffer[:1]
            return data

        data = self._blocking(cancellable, work)
        return LineResult((self._utf8(data), len(data) if data is not None else 0))

    @user_data_keyword
    def read_upto_async(self, stop_chars: str, stop_chars_len: int, io_priority: int,
                        cancellable: Cancellable | None = None, callback: Callable[..., Any] | None = None,
                        *user_data: Any) -> None:
        """`read_upto` in a thread; ``read_upto_finish`` gives ``(text, length)``."""
        stops = self._stops(stop_chars, stop_chars_len)
        self._async("read_upto_async", cancellable, lambda: self._upto(stops, cancellable), callback, user_data)

    def read_upto_finish(self, result: Any) -> LineResult:
        """``(text, length)`` of `read_upto_async`, or its error."""
        data = finish(self, result, "read_upto_async")
        return LineResult((self._utf8(data), len(data) if data is not None else 0))

    # -- integers -------------------------------------------------------------------------

    def _number(self, code: str, cancellable: Cancellable | None) -> int:
        order = {DataStreamByteOrder.BIG_ENDIAN: ">", DataStreamByteOrder.LITTLE_ENDIAN: "<"}.get(
            self._byte_order, "=")
        size = struct.calcsize(code)
        raw = self._blocking(cancellable, lambda: self._need(size, cancellable))
        return int(struct.unpack(order + code, raw)[0])

    def read_int16(self, cancellable: Cancellable | None = None) -> int:
        """A signed 16-bit integer."""
        return self._number("h", cancellable)

    def read_uint16(self, cancellable: Cancellable | None = None) -> int:
        """An unsigned 16-bit integer."""
        return self._number("H", cancellable)

    def read_int32(self, cancellable: Cancellable | None = None) -> int:
        """A signed 32-bit integer."""
        return self._number("i", cancellable)

    def read_uint32(self, cancellable: Cancellable | None = None) -> int:
        """An unsigned 32-bit integer."""
        return self._number("I", cancellable)

    def read_int64(self, cancellable: Cancellable | None = None) -> int:
        """A signed 64-bit integer."""
        return self._number("q", cancellable)

    def read_uint64(self, cancellable: Cancellable | None = None) -> int:
        """An unsigned 64-bit integer."""
        return self._number("Q", cancellable)


class DataOutputStream(OutputStream):
    """A ``GDataOutputStream``: ``Gio.DataOutputStream.new(base_stream)``; integers in its byte order."""

    __slots__ = ("_base", "_byte_order", "_close_base")

    def __init__(self, base_stream: OutputStream) -> None:
        if not isinstance(base_stream, OutputStream):
            raise TypeError(f"base_stream must be a Gio.OutputStream, not {type(base_stream).__name__}")
        super().__init__()
        self._base = base_stream
        self._byte_order = DataStreamByteOrder.BIG_ENDIAN
        self._close_base = True

    @classmethod
    def new(cls, base_stream: OutputStream) -> DataOutputStream:
        """A data stream writing to ``base_stream``."""
        return cls(base_stream)

    def get_base_stream(self) -> OutputStream:
        """The stream written to."""
        return self._base

    def get_byte_order(self) -> DataStreamByteOrder:
        """The byte order of the integer writes."""
        return self._byte_order

    def set_byte_order(self, order: DataStreamByteOrder | int) -> None:
        """``BIG_ENDIAN``, ``LITTLE_ENDIAN`` or ``HOST_ENDIAN``."""
        self._byte_order = DataStreamByteOrder(order)

    def set_close_base_stream(self, close_base: bool) -> None:
        """Close the base stream with this one, or not."""
        self._close_base = bool(close_base)

    def _write(self, data: memoryview, cancellable: Cancellable | None) -> int:
        return self._base._write(data, cancellable)

    def _flush(self, cancellable: Cancellable | None) -> None:
        self._base._flush(cancellable)

    def _close(self, cancellable: Cancellable | None) -> None:
        if self._close_base:
            self._base.close(cancellable)

    def _put(self, code: str, value: int, cancellable: Cancellable | None) -> bool:
        order = {DataStreamByteOrder.BIG_ENDIAN: ">", DataStreamByteOrder.LITTLE_ENDIAN: "<"}.get(
            self._byte_order, "=")
        try:
            data = struct.pack(order + code, int_arg(value, "data"))
        except struct.error as exc:
            raise OverflowError(f"data {value} does not fit: {exc}") from None
        self.write_all(data, cancellable)
        return True

    def put_byte(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write one byte (0–255)."""
        return self._put("B", data, cancellable)

    def put_int16(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write a signed 16-bit integer."""
        return self._put("h", data, cancellable)

    def put_uint16(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write an unsigned 16-bit integer."""
        return self._put("H", data, cancellable)

    def put_int32(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write a signed 32-bit integer."""
        return self._put("i", data, cancellable)

    def put_uint32(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write an unsigned 32-bit integer."""
        return self._put("I", data, cancellable)

    def put_int64(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write a signed 64-bit integer."""
        return self._put("q", data, cancellable)

    def put_uint64(self, data: int, cancellable: Cancellable | None = None) -> bool:
        """Write an unsigned 64-bit integer."""
        return self._put("Q", data, cancellable)

    def put_string(self, str: str, cancellable: Cancellable | None = None) -> bool:
        """Write ``str`` as UTF-8 (no terminator)."""
        if not isinstance(str, builtins.str):
            raise TypeError(f"str must be a str, not {type(str).__name__}")
        self.write_all(str.encode(), cancellable)
        return True
