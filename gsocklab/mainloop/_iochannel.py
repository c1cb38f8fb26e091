"""`IOChannel` on a Unix descriptor and `io_add_watch`, with PyGObject's call shapes.

A channel reads through a buffer, as GLib's does: `read_line` and friends may read more
than they return, and a watch for ``IN`` is ready while the buffer holds data even if the
descriptor has nothing new. The encoding is UTF-8 until ``set_encoding(None)`` makes the
channel binary; line reads return ``str`` (PyGObject's ``gchar*``), `read` returns ``bytes``.
"""

from __future__ import annotations

import codecs
import contextlib
import enum
import fcntl
import os
import warnings
from collections.abc import Callable
from typing import Any

from ..core._enums import IOCondition
from ..core._errors import Error
from ._context import MainContext
from ._loop import GLibWarning
from ._source import PRIORITY_DEFAULT, SOURCE_REMOVE, Source

__all__ = ["IOChannel", "IOFlags", "IOStatus", "LineResult", "io_add_watch"]

_CHUNK = 4096


class IOStatus(enum.IntEnum):
    """``GIOStatus``."""

    ERROR = 0
    NORMAL = 1
    EOF = 2
    AGAIN = 3


class IOFlags(enum.IntFlag):
    """``GIOFlags``."""

    NONE = 0
    APPEND = 1
    NONBLOCK = 2
    IS_READABLE = 4
    IS_WRITABLE = 8
    IS_WRITEABLE = 8
    IS_SEEKABLE = 16
    MASK = 31
    GET_MASK = 31
    SET_MASK = 3


class LineResult(tuple[IOStatus, "str | None", int, int]):
    """``(status, str_return, length, terminator_pos)`` of `IOChannel.read_line`."""

    __slots__ = ()

    @property
    def str_return(self) -> str | None:
        """The line with its terminator, or ``None``."""
        return self[1]

    @property
    def length(self) -> int:
        """The line's length in bytes."""
        return self[2]

    @property
    def terminator_pos(self) -> int:
        """Where the terminator starts."""
        return self[3]

    def __repr__(self) -> str:
        return f"({self[0]!r}, str_return={self[1]!r}, length={self[2]}, terminator_pos={self[3]})"


class ReadToEndResult(tuple[IOStatus, bytes]):
    """``(status, str_return)`` of `IOChannel.read_to_end`."""

    __slots__ = ()

    @property
    def str_return(self) -> bytes:
        """What was read."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]!r}, str_return={self[1]!r})"


def _convert_error() -> Error:
    return Error("Invalid byte sequence in conversion input", "g_convert_error", 1)


class IOChannel:
    """A ``GIOChannel`` over a Unix descriptor: ``IOChannel(filedes=fd)``, `unix_new`, `new_file`."""

    def __init__(self, filedes: int | None = None, filename: str | None = None, mode: str | None = None,
                 hwnd: int | None = None) -> None:
        if filedes is not None:
            if isinstance(filedes, bool) or not isinstance(filedes, int):
                raise TypeError(f"filedes must be an int, not {type(filedes).__name__}")
            self._fd = filedes
        elif filename is not None:
            self._fd = os.open(filename, _open_flags(mode or "r"), 0o666)
        else:
            raise TypeError("either a valid file descriptor, file name, or window handle must be supplied")
        self._encoding: str | None = "UTF-8"
        self._buffer = bytearray()
        self._out = bytearray()  # written, not flushed yet
        self._validator = codecs.getincrementaldecoder("utf-8")()
        self._invalid = False  # invalid UTF-8 was read: every read fails from there
        self._buffered = True
        self._close_on_unref = filename is not None
        self._eof = False
        self._closed = False

    def __repr__(self) -> str:
        return f"<GLib.IOChannel fd={self._fd}>"

    def __del__(self) -> None:
        if getattr(self, "_close_on_unref", False) and not self._closed:
            with contextlib.suppress(OSError):
                os.close(self._fd)

    @classmethod
    def unix_new(cls, fd: int) -> IOChannel:
        """A channel on descriptor ``fd`` (not closed with the channel unless `set_close_on_unref`)."""
        return cls(filedes=fd)

    @classmethod
    def new_file(cls, filename: str, mode: str) -> IOChannel:
        """A channel on the file ``filename`` opened with ``mode`` (``"r"``, ``"w"``, ``"a"``, ``"r+"`` …)."""
        return cls(filename=filename, mode=mode)

    def unix_get_fd(self) -> int:
        """The descriptor."""
        return self._fd

    # -- settings -------------------------------------------------------------------------

    def get_encoding(self) -> str | None:
        """``"UTF-8"`` by default; ``None`` for a binary channel."""
        return self._encoding

    def set_encoding(self, encoding: str | None) -> IOStatus:
        """``None`` (binary) or ``"UTF-8"``; other encodings are converted by Python's codecs."""
        self._encoding = encoding
        return IOStatus.NORMAL

    def get_buffered(self) -> bool:
        """Whether the channel buffers."""
        return self._buffered

    def set_buffered(self, buffered: bool) -> None:
        """Turn buffering off (only for a binary channel: on a UTF-8 one GLib refuses with a
        warning, "Need to have NULL encoding to set the buffering state of the channel.") or on."""
        if self._encoding is not None:
            warnings.warn("Need to have NULL encoding to set the buffering state of the channel.", GLibWarning,
                          stacklevel=2)
            return
        if not buffered:
            self._flush_out()
        self._buffered = bool(buffered)

    def get_close_on_unref(self) -> bool:
        """Whether the descriptor is closed with the channel."""
        return self._close_on_unref

    def set_close_on_unref(self, do_close: bool) -> None:
        """Close the descriptor when the channel goes."""
        self._close_on_unref = bool(do_close)

    def get_flags(self) -> IOFlags:
        """``NONBLOCK``/``APPEND`` and whether the descriptor is readable/writable."""
        status = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        flags = IOFlags.NONE
        if status & os.O_NONBLOCK:
            flags |= IOFlags.NONBLOCK
        if status & os.O_APPEND:
            flags |= IOFlags.APPEND
        access = status & os.O_ACCMODE
        if access in (os.O_RDONLY, os.O_RDWR):
            flags |= IOFlags.IS_READABLE
        if access in (os.O_WRONLY, os.O_RDWR):
            flags |= IOFlags.IS_WRITABLE
        return flags

    def set_flags(self, flags: IOFlags | int) -> IOStatus:
        """Set ``NONBLOCK`` and ``APPEND`` (the others are read-only)."""
        status = fcntl.fcntl(self._fd, fcntl.F_GETFL) & ~(os.O_NONBLOCK | os.O_APPEND)
        if flags & IOFlags.NONBLOCK:
            status |= os.O_NONBLOCK
        if flags & IOFlags.APPEND:
            status |= os.O_APPEND
        fcntl.fcntl(self._fd, fcntl.F_SETFL, status)
        return IOStatus.NORMAL

    def get_buffer_condition(self) -> IOCondition:
        """``IN`` while the read buffer holds data."""
        return IOCondition.IN if self._buffer else IOCondition(0)

    # -- reading --------------------------------------------------------------------------

    def _fill(self) -> IOStatus:
        """Read one chunk into the buffer: ``NORMAL``, ``EOF`` or ``AGAIN``."""
        if self._invalid:
            raise _convert_error()  # as GLib, the bad bytes stay ahead: every read fails on them
        try:
            data = os.read(self._fd, _CHUNK)
        except BlockingIOError:
            return IOStatus.AGAIN
        if not data:
            self._eof = True
            return IOStatus.EOF
        if self._encoding is not None:
            try:  # GLib validates what a UTF-8 channel reads as it reads it, a whole chunk at a time
                self._validator.decode(data, final=False)
            except UnicodeDecodeError as exc:
                self._buffer += data[:exc.start]
                self._invalid = True
                raise _convert_error() from None
        self._buffer += data
        return IOStatus.NORMAL

    def _terminator(self) -> tuple[int, int]:
        """(start, length) of the first line terminator in the buffer — ``\n``, ``\r\n`` or
        ``\r``, as GLib finds them when no line terminator is set — or (-1, 0)."""
        buffer = self._buffer
        newline, cr = buffer.find(b"\n"), buffer.find(b"\r")
        if cr < 0 or (0 <= newline < cr):
            return (newline, 1) if newline >= 0 else (-1, 0)
        if cr + 1 < len(buffer):
            return (cr, 2) if buffer[cr + 1] == 0x0A else (cr, 1)
        return (cr, 1) if self._eof else (-1, 0)  # a CR last in the buffer may begin a CR LF

    def _text(self, data: bytes) -> str:
        """A line as ``str``: invalid UTF-8 is GLib's conversion error on a UTF-8 channel (on
        a binary one PyGObject's own decoding fails with ``UnicodeDecodeError``)."""
        if self._encoding is None:
            return data.decode("utf-8")
        try:
            return data.decode(self._encoding)
        except UnicodeDecodeError:
            raise _convert_error() from None

    def read(self, max_count: int = -1) -> bytes:
        """Up to ``max_count`` bytes (``-1``: to the end of the file), as PyGObject's ``read``."""
        while max_count < 0 or len(self._buffer) < max_count:
            if self._fill() != IOStatus.NORMAL:
                break
        count = len(self._buffer) if max_count < 0 else min(max_count, len(self._buffer))
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def read_chars(self, max_count: int = -1) -> tuple[IOStatus, bytes]:
        """``(status, data)``: what one read gives, at most ``max_count`` bytes."""
        if not self._buffer:
            status = self._fill()
            if status != IOStatus.NORMAL:
                return status, b""
        count = len(self._buffer) if max_count < 0 else min(max_count, len(self._buffer))
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return IOStatus.NORMAL, data

    def read_line(self) -> LineResult:
        """``(status, line, length, terminator_pos)``: a line with its terminator; at the end
        of the file ``(EOF, None, 0, 0)``; on a non-blocking channel without a whole line
        ``(AGAIN, None, 0, 0)``."""
        while True:
            end, size = self._terminator()
            if end >= 0:
                data = bytes(self._buffer[:end + size])
                del self._buffer[:end + size]
                return LineResult((IOStatus.NORMAL, self._text(data), len(data), end))
            status = self._fill()
            if status == IOStatus.EOF:
                if not self._buffer:
                    return LineResult((IOStatus.EOF, None, 0, 0))
                data = bytes(self._buffer)
                self._buffer.clear()
                return LineResult((IOStatus.NORMAL, self._text(data), len(data), len(data)))
            if status == IOStatus.AGAIN:
                return LineResult((IOStatus.AGAIN, None, 0, 0))

    def readline(self, size_hint: int = -1) -> str:
        """The next line (``""`` at the end), as PyGObject's ``readline``."""
        _status, line, _length, _end = self.read_line()
        return "" if line is None else line

    def readlines(self, size_hint: int = -1) -> list[str]:
        """Every line to the end, then ``""`` (PyGObject appends an empty line at EOF)."""
        lines = []
        status = IOStatus.NORMAL
        while status == IOStatus.NORMAL:
            status, line, _length, _end = self.read_line()
            lines.append("" if line is None else line)
        return lines

    def read_to_end(self) -> ReadToEndResult:
        """``(status, data)``: everything to the end of the file (``AGAIN`` on a non-blocking
        channel that has nothing more for now)."""
        status = IOStatus.NORMAL
        while status == IOStatus.NORMAL:
            status = self._fill()
        data = bytes(self._buffer)
        self._buffer.clear()
        return ReadToEndResult((IOStatus.AGAIN if status == IOStatus.AGAIN else IOStatus.NORMAL, data))

    def __iter__(self) -> IOChannel:
        return self

    def __next__(self) -> str:
        status, line, _length, _end = self.read_line()
        if status == IOStatus.NORMAL and line is not None:
            return line
        raise StopIteration

    # -- writing and closing --------------------------------------------------------------

    def write_chars(self, buf: bytes | str, count: int = -1) -> tuple[IOStatus, int]:
        """``(status, written)``: ``buf`` (its first ``count`` bytes) into the write buffer —
        out to the descriptor at `flush`, when the buffer passes its size, or at once on an
        unbuffered channel."""
        data = buf.encode(self._encoding or "utf-8") if isinstance(buf, str) else bytes(buf)
        if count >= 0:
            data = data[:count]
        self._out += data
        if not self._buffered or len(self._out) >= _CHUNK:
            status = self._flush_out()
            if status == IOStatus.AGAIN and len(self._out) == len(data):
                del self._out[:]
                return IOStatus.AGAIN, 0
        return IOStatus.NORMAL, len(data)

    def _flush_out(self) -> IOStatus:
        while self._out:
            try:
                written = os.write(self._fd, self._out)
            except BlockingIOError:
                return IOStatus.AGAIN
            del self._out[:written]
        return IOStatus.NORMAL

    def write(self, buf: bytes | str, buflen: int = -1) -> int:
        """Write ``buf`` (a ``str`` is UTF-8 encoded); the count written (buffered: see `flush`)."""
        return self.write_chars(buf, buflen)[1]

    def writelines(self, lines: list[str] | list[bytes]) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> IOStatus:
        """Write out what is buffered (``AGAIN`` if a non-blocking descriptor is full)."""
        return self._flush_out()

    def shutdown(self, flush: bool = True) -> IOStatus:
        """Close the descriptor, first writing out the buffer if ``flush`` (else it is dropped)."""
        status = IOStatus.NORMAL
        if not self._closed:
            if flush:
                status = self._flush_out()
            self._out.clear()
            self._closed = True
            os.close(self._fd)
        return status

    def close(self) -> None:
        """Close the descriptor (deprecated in GLib: `shutdown`)."""
        self.shutdown(True)

    def add_watch(self, condition: IOCondition | int, callback: Callable[..., Any], *user_data: Any,
                  priority: int = PRIORITY_DEFAULT) -> int:
        """Deprecated PyGObject spelling of ``GLib.io_add_watch(self, priority, condition, …)``."""
        return io_add_watch(self, priority, condition, callback, *user_data)


def _open_flags(mode: str) -> int:
    table = {"r": os.O_RDONLY, "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
             "r+": os.O_RDWR, "w+": os.O_RDWR | os.O_CREAT | os.O_TRUNC, "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND}
    try:
        return table[mode] | os.O_CLOEXEC
    except KeyError:
        raise ValueError(f"mode must be one of {', '.join(table)}, not {mode!r}") from None


class IOWatch(Source):
    """The source of `io_add_watch`: ready when the descriptor (or the read buffer) meets ``condition``."""

    def __init__(self, channel: IOChannel, condition: int) -> None:
        super().__init__()
        self._channel = channel
        self._condition = int(condition)
        self._poll_fd = self.add_unix_fd(channel.unix_get_fd(), condition)
        self._name = "GIOChannel (Unix)"

    def prepare(self) -> tuple[bool, int]:
        """Ready at once when buffered input answers ``IN``."""
        return bool(self._channel.get_buffer_condition() & self._condition), -1

    def check(self) -> bool:
        """Ready when the poll found something asked for (``HUP``/``ERR``/``NVAL`` always count)."""
        return bool(self._revents())

    def _revents(self) -> int:
        """What the watch asked for and got: GLib dispatches only those (an ``IN`` watch never sees
        ``HUP``; its poll keeps waking, as GLib's does)."""
        found = self._poll_fd.revents | int(self._channel.get_buffer_condition())
        return found & self._condition

    def dispatch(self, callback: Callable[..., Any] | None, args: tuple[Any, ...]) -> bool:
        """``callback(channel, condition, *user_data)``."""
        if callback is None:
            return SOURCE_REMOVE
        return bool(callback(self._channel, IOCondition(self._revents()), *args))


def _watch_args(channel: Any, priority: Any, condition: Any, /, *rest: Any,
                **kwargs: Any) -> tuple[IOChannel, int, int, Callable[..., Any], tuple[Any, ...]]:
    """PyGObject's ``_io_add_watch_get_args``: every historical form of ``io_add_watch``."""
    if not isinstance(priority, int) or isinstance(priority, IOCondition):
        warnings.warn("Calling io_add_watch without priority as second argument is deprecated",
                      DeprecationWarning, stacklevel=3)
        callback, user_data, condition = condition, rest, priority
        if not callable(callback):
            raise TypeError("third argument must be callable")
        if "priority" in kwargs:
            warnings.warn("Calling io_add_watch with priority keyword argument is deprecated, put it as second "
                          "positional argument", DeprecationWarning, stacklevel=3)
            priority = kwargs["priority"]
        else:
            priority = PRIORITY_DEFAULT
    else:
        if not rest or not callable(rest[0]):
            raise TypeError("expecting callback as fourth argument")
        callback, user_data = rest[0], rest[1:]
    if isinstance(channel, IOChannel):
        return channel, priority, int(condition), callback, user_data
    if isinstance(channel, int):
        fd, given = channel, channel
    elif hasattr(channel, "fileno"):
        fd, given = channel.fileno(), channel
    else:
        raise TypeError(f"channel must be a GLib.IOChannel, a descriptor or an object with fileno(), "
                        f"not {type(channel).__name__}")

    def with_given(_channel: IOChannel, cond: IOCondition, *data: Any) -> Any:
        return callback(given, cond, *data)

    return IOChannel.unix_new(fd), priority, int(condition), with_given, user_data


def io_add_watch(*args: Any, **kwargs: Any) -> int:
    """``io_add_watch(channel, priority, condition, func, *user_data)`` -> the source id, on the
    default context; ``func(channel, condition, *user_data)`` while it returns true. ``channel``
    may be a descriptor or a file object (``func`` then gets that back), and the priority may
    be left out (deprecated, as in PyGObject)."""
    channel, priority, condition, callback, user_data = _watch_args(*args, **kwargs)
    watch = IOWatch(channel, condition)
    watch.set_priority(priority)
    watch._set_callback(callback, user_data)
    return watch.attach(MainContext.default())

