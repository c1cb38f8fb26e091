"""Gio streams: `InputStream`/`OutputStream` and the ones on sockets, descriptors and memory.

The base classes give every public call — blocking, ``*_async``/``*_finish`` (`gsocklab.gio._task`)
— with GLib's checks: a closed stream fails ``CLOSED`` "Stream is already closed"; a stream
with an operation under way fails ``PENDING`` "Stream has outstanding operation"; a
cancelled cancellable fails ``CANCELLED`` first. A subclass reads with ``_read(count,
cancellable)`` (``b""`` at the end) and writes with ``_write(data, cancellable)``.

On a `SocketConnection`, ``get_input_stream()`` reads with the socket's ``receive`` and
``get_output_stream()`` writes with its ``send``, both blocking (bounded by the socket
``timeout``), so every byte a stream moves is a recorded socket call. Closing a socket stream
closes nothing below it; closing the connection closes both streams and the socket.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..core._args import check_cancellable, data_arg, int_arg, user_data_keyword
from ..core._bytes import Bytes
from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum
from ..core._errors import Error, from_oserror, new_io_error
from ..core._gobject import Object
from ..core._messages import OutputVector
from ..core._observe import via
from ._task import fail_async, finish, run_async

__all__ = [
    "BoolCountResult", "InputStream", "MemoryInputStream", "MemoryOutputStream", "OutputStream",
    "OutputStreamSpliceFlags", "SocketInputStream", "SocketOutputStream", "UnixInputStream", "UnixOutputStream",
]

_GSIZE_MAX = 2**64 - 1
_GSSIZE_MAX = 2**63 - 1


def _joined(vectors: Any) -> bytes:
    """The bytes of ``vectors``: each a `Gio.OutputVector` (``size`` bytes of its buffer) or bytes-like."""
    if isinstance(vectors, (bytes, bytearray, memoryview, str)) or not hasattr(vectors, "__iter__"):
        raise TypeError(f"vectors must be a list of Gio.OutputVector, not {type(vectors).__name__}")
    parts = []
    for index, vector in enumerate(vectors):
        if isinstance(vector, OutputVector):
            parts.append(memoryview(vector._memory()).cast("B")[:vector.size])
        else:
            parts.append(memoryview(data_arg(vector, f"vectors[{index}]")).cast("B"))
    return b"".join(parts)


class OutputStreamSpliceFlags(enum.IntFlag):
    """``GOutputStreamSpliceFlags`` of `OutputStream.splice`."""

    NONE = 0
    CLOSE_SOURCE = 1
    CLOSE_TARGET = 2


class BoolCountResult(tuple[bool, int]):
    """``(True, bytes_written)`` of ``write_all`` (``bytes_read`` of ``read_all``)."""

    __slots__ = ()
    _name = "bytes_written"

    def __getattr__(self, name: str) -> int:
        if name in ("bytes_written", "bytes_read"):
            return self[1]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"({self[0]}, {self._name}={self[1]})"


class _ReadAllResult(BoolCountResult):
    __slots__ = ()
    _name = "bytes_read"


class _Stream(Object):
    """What input and output streams share: closed and pending states."""

    __slots__ = ("_closed", "_pending", "_state_lock")

    def __init__(self) -> None:
        self._closed = False
        self._pending = False
        self._state_lock = threading.Lock()

    def is_closed(self) -> bool:
        """Whether the stream is closed."""
        return self._closed

    def has_pending(self) -> bool:
        """Whether an operation is under way."""
        return self._pending

    def set_pending(self) -> bool:
        """Mark an operation under way; ``CLOSED`` or ``PENDING`` if it cannot start."""
        with self._state_lock:
            if self._closed:
                raise new_io_error(IOErrorEnum.CLOSED, "Stream is already closed")
            if self._pending:
                raise new_io_error(IOErrorEnum.PENDING, "Stream has outstanding operation")
            self._pending = True
        return True

    def clear_pending(self) -> None:
        """End the operation under way."""
        self._pending = False

    def _begin(self, cancellable: Cancellable | None) -> None:
        check_cancellable(cancellable)  # a cancelled one is the layer below's to check, as in GLib
        self.set_pending()

    def _blocking(self, cancellable: Cancellable | None, work: Callable[[], Any]) -> Any:
        self._begin(cancellable)
        try:
            with via(self._call_name()):
                return work()
        finally:
            self.clear_pending()

    def _call_name(self) -> str:
        """``Class.method`` of the outermost public method of this stream on the stack (the
        call the user made: ``put_int16``, not the ``write_all`` it uses)."""
        frame = sys._getframe(2)
        name = "call"
        while frame is not None and frame.f_locals.get("self") is self:
            if not frame.f_code.co_name.startswith("_") and frame.f_code.co_name != "<lambda>":
                name = frame.f_code.co_name
            frame = frame.f_back  # type: ignore[assignment]
        return f"{type(self).__name__}.{name}"

    def _async(self, tag: str, cancellable: Cancellable | None, work: Callable[[], Any],
               callback: Callable[..., Any] | None, user_data: tuple[Any, ...]) -> None:
        try:
            self._begin(cancellable)
        except Error as error:  # CLOSED or PENDING: to the callback's _finish, as GLib does
            fail_async(self, tag, error, callback, user_data)
            return
        run_async(self, tag, work, cancellable, callback, user_data, done=self.clear_pending)

    def _close(self, cancellable: Cancellable | None) -> None:
        """Release what the stream holds (subclasses)."""

    def close(self, cancellable: Cancellable | None = None) -> bool:
        """Close the stream; closing again returns ``True``."""
        if self._closed:
            return True
        self._blocking(cancellable, lambda: self._close(cancellable))
        self._closed = True
        return True

    @user_data_keyword
    def close_async(self, io_priority: int, cancellable: Cancellable | None = None,
                    callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`close` in a thread; then ``callback(stream, result, *user_data)``."""
        def work() -> bool:
            self._close(cancellable)
            self._closed = True
            return True

        if self._closed:
            run_async(self, "close_async", lambda: True, cancellable, callback, user_data)
            return
        self._async("close_async", cancellable, work, callback, user_data)

    def close_finish(self, result: Any) -> bool:
        """``True``, or the error of `close_async`."""
        return bool(finish(self, result, "close_async"))


class InputStream(_Stream):
    """A ``GInputStream``: bytes from somewhere, read in order."""

    __slots__ = ()

    def _read(self, count: int, cancellable: Cancellable | None) -> bytes:
        raise NotImplementedError

    def _count(self, count: object) -> int:
        count = int_arg(count, "count")
        if not 0 <= count <= _GSIZE_MAX:  # PyGObject's check of a gsize argument
            raise OverflowError(f"{count} not in range 0 to {_GSIZE_MAX}")
        if count > _GSSIZE_MAX:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Too large count value passed to g_input_stream_read")
        return count

    def read_bytes(self, count: int, cancellable: Cancellable | None = None) -> Bytes:
        """Up to ``count`` bytes as `GLib.Bytes` (what one read gives; empty at the end)."""
        count = self._count(count)
        return Bytes(self._blocking(cancellable, lambda: self._read(count, cancellable) if count else b""))

    def read(self, count: int = 8192, cancellable: Cancellable | None = None) -> bytes:
        """Up to ``count`` bytes (one read; ``b""`` at the end)."""
        return bytes(self.read_bytes(count, cancellable))

    def _read_all(self, count: int, cancellable: Cancellable | None) -> bytes:
        chunks: list[bytes] = []
        got = 0
        while got < count:
            data = self._read(count - got, cancellable)
            if not data:
                break
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    def read_all(self, count: int, cancellable: Cancellable | None = None) -> tuple[bool, bytes]:
        """``(True, data)``: ``count`` bytes, fewer only at the end of the stream."""
        count = self._count(count)
        return True, self._blocking(cancellable, lambda: self._read_all(count, cancellable))

    def skip(self, count: int, cancellable: Cancellable | None = None) -> int:
        """Read and drop up to ``count`` bytes; how many."""
        count = self._count(count)
        return len(self._blocking(cancellable, lambda: self._read(count, cancellable) if count else b""))

    @user_data_keyword
    def read_bytes_async(self, count: int, io_priority: int, cancellable: Cancellable | None = None,
                         callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`read_bytes` in a thread; then ``callback(stream, result, *user_data)``."""
        count = self._count(count)
        self._async("read_bytes_async", cancellable,
                    lambda: Bytes(self._read(count, cancellable) if count else b""), callback, user_data)

    def read_bytes_finish(self, result: Any) -> Bytes:
        """The `GLib.Bytes` `read_bytes_async` read, or its error."""
        return finish(self, result, "read_bytes_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def read_async(self, count: int, io_priority: int, cancellable: Cancellable | None = None,
                   callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`read` in a thread; ``read_finish`` gives the bytes."""
        count = self._count(count)
        self._async("read_async", cancellable, lambda: self._read(count, cancellable) if count else b"",
                    callback, user_data)

    def read_finish(self, result: Any) -> bytes:
        """The bytes `read_async` read, or its error."""
        return finish(self, result, "read_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def read_all_async(self, count: int, io_priority: int, cancellable: Cancellable | None = None,
                       callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`read_all` in a thread; ``read_all_finish`` gives ``(True, data)``."""
        count = self._count(count)
        self._async("read_all_async", cancellable, lambda: (True, self._read_all(count, cancellable)),
                    callback, user_data)

    def read_all_finish(self, result: Any) -> tuple[bool, bytes]:
        """``(True, data)`` of `read_all_async`, or its error."""
        return finish(self, result, "read_all_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def skip_async(self, count: int, io_priority: int, cancellable: Cancellable | None = None,
                   callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`skip` in a thread; ``skip_finish`` gives the count."""
        count = self._count(count)
        self._async("skip_async", cancellable, lambda: len(self._read(count, cancellable) if count else b""),
                    callback, user_data)

    def skip_finish(self, result: Any) -> int:
        """The count `skip_async` skipped, or its error."""
        return finish(self, result, "skip_async")  # type: ignore[no-any-return]


class OutputStream(_Stream):
    """A ``GOutputStream``: bytes to somewhere, written in order."""

    __slots__ = ()

    def _write(self, data: memoryview, cancellable: Cancellable | None) -> int:
        raise NotImplementedError

    def _flush(self, cancellable: Cancellable | None) -> None:
        """Push buffered bytes on (subclasses)."""

    def _write_all(self, data: memoryview, cancellable: Cancellable | None) -> int:
        done = 0
        while done < len(data):
            done += self._write(data[done:], cancellable)
        return done

    def write(self, buffer: Any, cancellable: Cancellable | None = None) -> int:
        """Write some of ``buffer`` (one write; a socket may take fewer bytes); the count."""
        data = memoryview(data_arg(buffer, "buffer")).cast("B")
        return int(self._blocking(cancellable, lambda: self._write(data, cancellable) if len(data) else 0))

    def write_all(self, buffer: Any, cancellable: Cancellable | None = None) -> BoolCountResult:
        """Write all of ``buffer``: ``(True, bytes_written)``. On an error the bytes written so far are lost
        with it, as in GLib (write them one by one with `write` to know)."""
        data = memoryview(data_arg(buffer, "buffer")).cast("B")
        return BoolCountResult((True, self._blocking(cancellable, lambda: self._write_all(data, cancellable))))

    def write_bytes(self, bytes: Any, cancellable: Cancellable | None = None) -> int:
        """`write` of a `GLib.Bytes` (or any bytes-like object)."""
        return self.write(bytes, cancellable)

    def writev(self, vectors: Any, cancellable: Cancellable | None = None) -> BoolCountResult:
        """Write some of the vectors (`Gio.OutputVector`, as PyGObject takes them, or bytes-like objects)
        with one write: ``(True, bytes_written)``."""
        return BoolCountResult((True, self.write(_joined(vectors), cancellable)))

    def writev_all(self, vectors: Any, cancellable: Cancellable | None = None) -> BoolCountResult:
        """Write all of the vectors (as for `writev`): ``(True, bytes_written)``."""
        return self.write_all(_joined(vectors), cancellable)

    def flush(self, cancellable: Cancellable | None = None) -> bool:
        """Push buffered bytes on; ``True``."""
        self._blocking(cancellable, lambda: self._flush(cancellable))
        return True

    def is_closing(self) -> bool:
        """Whether a close is under way (closes here finish before returning: ``False``)."""
        return False

    @user_data_keyword
    def write_async(self, buffer: Any, io_priority: int, cancellable: Cancellable | None = None,
                    callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`write` in a thread; ``write_finish`` gives the count."""
        data = memoryview(bytes(data_arg(buffer, "buffer"))).cast("B")
        self._async("write_async", cancellable, lambda: self._write(data, cancellable) if len(data) else 0,
                    callback, user_data)

    def write_finish(self, result: Any) -> int:
        """The count `write_async` wrote, or its error."""
        return finish(self, result, "write_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def write_all_async(self, buffer: Any, io_priority: int, cancellable: Cancellable | None = None,
                        callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`write_all` in a thread; ``write_all_finish`` gives ``(True, bytes_written)``."""
        data = memoryview(bytes(data_arg(buffer, "buffer"))).cast("B")
        self._async("write_all_async", cancellable,
                    lambda: BoolCountResult((True, self._write_all(data, cancellable))), callback, user_data)

    def write_all_finish(self, result: Any) -> BoolCountResult:
        """``(True, bytes_written)`` of `write_all_async`, or its error."""
        return finish(self, result, "write_all_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def write_bytes_async(self, bytes: Any, io_priority: int, cancellable: Cancellable | None = None,
                          callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`write_bytes` in a thread; ``write_bytes_finish`` gives the count."""
        data = memoryview(Bytes(bytes)).cast("B")
        self._async("write_bytes_async", cancellable, lambda: self._write(data, cancellable) if len(data) else 0,
                    callback, user_data)

    def write_bytes_finish(self, result: Any) -> int:
        """The count `write_bytes_async` wrote, or its error."""
        return finish(self, result, "write_bytes_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def flush_async(self, io_priority: int, cancellable: Cancellable | None = None,
                    callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`flush` in a thread; ``flush_finish`` gives ``True``."""
        def work() -> bool:
            self._flush(cancellable)
            return True

        self._async("flush_async", cancellable, work, callback, user_data)

    def flush_finish(self, result: Any) -> bool:
        """``True``, or the error of `flush_async`."""
        return bool(finish(self, result, "flush_async"))

    def splice(self, source: InputStream, flags: int = 0, cancellable: Cancellable | None = None) -> int:
        """Copy everything ``source`` gives into this stream; the count. ``flags`` 1 closes
        the source afterwards, 2 this stream (``OutputStreamSpliceFlags``)."""
        total = 0
        with via(f"{type(self).__name__}.splice"):  # the source's reads too are the splice's
            while True:
                chunk = source.read_bytes(8192, cancellable)
                if not chunk:
                    break
                self.write_all(chunk, cancellable)
                total += len(chunk)
            if flags & 1:
                source.close(cancellable)
            if flags & 2:
                self.close(cancellable)
        return total


class SocketInputStream(InputStream):
    """The input stream of a `SocketConnection`: blocking ``receive`` on its socket."""

    __slots__ = ("_socket",)

    def __init__(self, socket: Any) -> None:
        super().__init__()
        self._socket = socket

    def _read(self, count: int, cancellable: Cancellable | None) -> bytes:
        return bytes(self._socket.receive_with_blocking(True, cancellable, count)[1])

    def get_socket(self) -> Any:
        """The socket read from."""
        return self._socket


class SocketOutputStream(OutputStream):
    """The output stream of a `SocketConnection`: blocking ``send`` on its socket."""

    __slots__ = ("_socket",)

    def __init__(self, socket: Any) -> None:
        super().__init__()
        self._socket = socket

    def _write(self, data: memoryview, cancellable: Cancellable | None) -> int:
        return int(self._socket.send_with_blocking(data, True, cancellable))

    def get_socket(self) -> Any:
        """The socket written to."""
        return self._socket


class _FdStream:
    """What the Unix streams share: the descriptor and whether closing the stream closes it."""

    _fd: int
    _close_fd: bool

    def get_fd(self) -> int:
        """The descriptor."""
        return self._fd

    def get_close_fd(self) -> bool:
        """Whether closing the stream closes the descriptor."""
        return self._close_fd

    def set_close_fd(self, close_fd: bool) -> None:
        """Close the descriptor with the stream, or not."""
        self._close_fd = bool(close_fd)

    def _close(self, cancellable: Cancellable | None) -> None:
        if self._close_fd:
            try:
                os.close(self._fd)
            except OSError as exc:
                raise from_oserror(exc, "Error closing file descriptor: ") from exc

    def _wait(self, writable: bool, cancellable: Cancellable | None) -> None:
        """Wait for the descriptor (which may be non-blocking) or the cancellable."""
        import select

        poller = select.poll()
        poller.register(self._fd, select.POLLOUT if writable else select.POLLIN)
        cancel_fd = cancellable.get_fd() if cancellable is not None else -1
        try:
            if cancel_fd >= 0:
                poller.register(cancel_fd, select.POLLIN)
            poller.poll()
        finally:
            if cancellable is not None and cancel_fd >= 0:
                cancellable.release_fd()
        if cancellable is not None and cancellable.is_cancelled():
            raise new_io_error(IOErrorEnum.CANCELLED, "Operation was cancelled")


class UnixInputStream(_FdStream, InputStream):
    """A ``GUnixInputStream``: ``UnixInputStream.new(fd, close_fd)``."""

    __slots__ = ("_close_fd", "_fd")

    def __init__(self, fd: int, close_fd: bool = True) -> None:
        super().__init__()
        self._fd, self._close_fd = int_arg(fd, "fd"), bool(close_fd)

    @classmethod
    def new(cls, fd: int, close_fd: bool) -> UnixInputStream:
        """A stream reading ``fd``; ``close_fd``: close it with the stream."""
        return cls(fd, close_fd)

    def _read(self, count: int, cancellable: Cancellable | None) -> bytes:
        while True:
            self._wait(False, cancellable)
            try:
                return os.read(self._fd, count)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise from_oserror(exc, "Error reading from file descriptor: ") from exc


class UnixOutputStream(_FdStream, OutputStream):
    """A ``GUnixOutputStream``: ``UnixOutputStream.new(fd, close_fd)``."""

    __slots__ = ("_close_fd", "_fd")

    def __init__(self, fd: int, close_fd: bool = True) -> None:
        super().__init__()
        self._fd, self._close_fd = int_arg(fd, "fd"), bool(close_fd)

    @classmethod
    def new(cls, fd: int, close_fd: bool) -> UnixOutputStream:
        """A stream writing ``fd``; ``close_fd``: close it with the stream."""
        return cls(fd, close_fd)

    def _write(self, data: memoryview, cancellable: Cancellable | None) -> int:
        while True:
            self._wait(True, cancellable)
            try:
                return os.write(self._fd, data)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise from_oserror(exc, "Error writing to file descriptor: ") from exc


class MemoryInputStream(InputStream):
    """A ``GMemoryInputStream``: reads bytes given to it."""

    __slots__ = ("_data", "_offset")

    def __init__(self) -> None:
        super().__init__()
        self._data = bytearray()
        self._offset = 0

    @classmethod
    def new(cls) -> MemoryInputStream:
        """An empty stream (add data with `add_data`/`add_bytes`)."""
        return cls()

    @classmethod
    def new_from_data(cls, data: Any, destroy: Any = None) -> MemoryInputStream:
        """A stream that reads ``data``."""
        stream = cls()
        stream.add_data(data)
        return stream

    @classmethod
    def new_from_bytes(cls, bytes: Any) -> MemoryInputStream:
        """A stream that reads a `GLib.Bytes`."""
        return cls.new_from_data(bytes)

    def add_data(self, data: Any, destroy: Any = None) -> None:
        """Append ``data`` to what the stream will read."""
        self._data += bytes(data_arg(data, "data"))

    add_bytes = add_data

    def _read(self, count: int, cancellable: Cancellable | None) -> bytes:
        data = bytes(self._data[self._offset:self._offset + count])
        self._offset += len(data)
        return data


class MemoryOutputStream(OutputStream):
    """A ``GMemoryOutputStream`` that grows: `new_resizable`, then `get_data`/`steal_as_bytes`."""

    __slots__ = ("_allocated", "_data")

    def __init__(self) -> None:
        super().__init__()
        self._data = bytearray()
        self._allocated = 0

    @classmethod
    def new_resizable(cls) -> MemoryOutputStream:
        """A stream that keeps everything written."""
        return cls()

    def _write(self, data: memoryview, cancellable: Cancellable | None) -> int:
        self._data += data
        if len(self._data) > self._allocated:  # GLib grows to the next power of two, at least 16 bytes
            self._allocated = max(16, 1 << (len(self._data) - 1).bit_length())
        return len(data)

    def get_data(self) -> bytes:
        """What was written."""
        return bytes(self._data)

    def get_data_size(self) -> int:
        """How many bytes were written."""
        return len(self._data)

    def get_size(self) -> int:
        """How many bytes the stream has allocated: GLib's growth, to the next power of two (at least 16)."""
        return self._allocated

    def steal_as_bytes(self) -> Bytes:
        """What was written, as `GLib.Bytes` (the stream must be closed)."""
        if not self._closed:
            raise new_io_error(IOErrorEnum.FAILED, "the stream must be closed before steal_as_bytes")
        return Bytes(self._data)


