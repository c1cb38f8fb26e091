"""Socket control messages (``GSocketControlMessage``) and the Unix file-descriptor list.

Ancillary data travels through Python's ``socket.sendmsg``/``socket.recvmsg`` as
``(level, type, data)`` tuples. This module turns messages into such tuples
(`serialize_control_messages`) and tuples back into messages (`deserialize_ancdata`); it
makes no socket call itself. The only system calls here duplicate, flag and close file
descriptors (``os.dup``, ``os.set_inheritable``, ``os.close``).

Ownership of descriptors, the one rule to remember:

* a `UnixFDList` owns its descriptors and closes them when it is garbage-collected (or on
  `UnixFDList.close`); ``get()`` returns a new duplicate, ``peek*()``/``lookup()`` lend one,
  ``steal_fds()`` hands them all over;
* `SocketControlMessage.deserialize` and `deserialize_ancdata` take ownership of the
  descriptors in every ``SCM_RIGHTS`` payload they are given: the message that recognises
  the payload owns them, and if none does (truncated payload, failure to set close-on-exec)
  they are **closed**. GLib only logs a warning there and leaks them;
* `close_fds_in_ancdata` closes the descriptors of received ancillary data that nobody
  asked for, so that a receive never leaks a descriptor.

Deserialisation order follows GLib >= 2.87.3 (reference §5.8): application subclasses first,
in the order they were defined, then the built-ins (`UnixCredentialsMessage`,
`UnixFDMessage`). A subclass takes part by defining the classmethod ``_deserialize``.
Where GLib only logs a warning and drops a message, the same text is logged here on the
``gsocklab._control`` logger.
"""

from __future__ import annotations

import logging
import os
import socket as _socket
import weakref
from array import array
from collections.abc import Iterable
from types import TracebackType
from typing import Any, ClassVar, Final, TypeVar

from ._args import int_arg
from ._credentials import UCRED, Credentials
from ._enums import CredentialsType, IOErrorEnum
from ._errors import Error, from_oserror, new_io_error
from ._gobject import Object

__all__ = [
    "CONTROL_BUFFER_SIZE",
    "SocketControlMessage",
    "UnixCredentialsMessage",
    "UnixFDList",
    "UnixFDMessage",
    "close_fds_in_ancdata",
    "deserialize_ancdata",
    "serialize_control_messages",
]

_log = logging.getLogger(__name__)

SOL_SOCKET: Final = _socket.SOL_SOCKET
SCM_RIGHTS: Final[int] = getattr(_socket, "SCM_RIGHTS", 1)
SCM_CREDENTIALS: Final[int] = getattr(_socket, "SCM_CREDENTIALS", 2)
CONTROL_BUFFER_SIZE: Final = 2048
"""Bytes of control buffer GLib gives ``recvmsg`` when the caller asked for control messages."""

_INT_SIZE: Final = array("i").itemsize  # sizeof (int): one descriptor in an SCM_RIGHTS payload

Ancdata = Iterable[tuple[int, int, bytes]]
_M = TypeVar("_M", bound="SocketControlMessage")


# ---------------------------------------------------------------------------------------------
# Descriptor helpers
# ---------------------------------------------------------------------------------------------


def _fds_in(data: bytes) -> list[int]:
    """The complete descriptors in an ``SCM_RIGHTS`` payload (a trailing partial int is ignored)."""
    usable = len(data) - len(data) % _INT_SIZE
    return array("i", data[:usable]).tolist()


def _close_all(fds: Iterable[int]) -> int:
    """Close every descriptor in ``fds``, ignoring errors; return how many closed cleanly."""
    closed = 0
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            continue
        closed += 1
    return closed


def _drain_and_close(fds: list[int]) -> None:
    """Empty the list ``fds`` and close what it held (the `UnixFDList` finalizer)."""
    taken = fds[:]
    fds.clear()
    _close_all(taken)


def _fd_arg(fd: object, name: str = "fd") -> int:
    """A file descriptor argument: an int (TypeError otherwise), non-negative (INVALID_ARGUMENT)."""
    value = int_arg(fd, name)
    if value < 0:
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"{name} must be an open file descriptor (>= 0), got {value}")
    return value


def _dup(fd: int) -> int:
    """A close-on-exec duplicate of ``fd`` (``os.dup`` uses ``F_DUPFD_CLOEXEC``); GLib's "dup: …" error."""
    try:
        return os.dup(fd)
    except OSError as exc:
        raise from_oserror(exc, "dup: ") from exc


def _iterable_arg(value: object, name: str) -> Iterable[object]:
    """``value`` if it is a list-like iterable (not a string or bytes); else a TypeError naming ``name``."""
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _bytes_arg(data: object, name: str) -> bytes:
    """``data`` as bytes: any bytes-like object, or a list/tuple of ints 0..255."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview, array)):
        return bytes(data)
    if isinstance(data, (list, tuple)):
        try:
            return bytes(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be bytes-like or a list of ints 0..255: {exc}") from None
    raise TypeError(f"{name} must be bytes-like, not {type(data).__name__}")


# ---------------------------------------------------------------------------------------------
# GSocketControlMessage
# ---------------------------------------------------------------------------------------------

_APP_TYPES: list[type[SocketControlMessage]] = []
_BUILTIN_TYPES: list[type[SocketControlMessage]] = []


class SocketControlMessage(Object):
    """Abstract base of control messages (``GSocketControlMessage``).

    A subclass describes one kind of ancillary data. It overrides ``get_level()``,
    ``get_msg_type()`` and ``serialize()`` (``get_size()`` defaults to the length of what
    ``serialize()`` returns), and, to be produced when such data is received, the classmethod
    ``_deserialize(level, type, data)`` returning an instance, or ``None`` for data it does
    not recognise. Defining ``_deserialize`` registers the class: no other step is needed.

    Example (reference §6.1 row 32)::

        class AppMessage(Gio.SocketControlMessage):
            def __init__(self, payload: bytes) -> None:
                self.payload = payload
            def get_level(self) -> int:
                return socket.SOL_SOCKET
            def get_msg_type(self) -> int:
                return socket.SCM_RIGHTS
            def serialize(self) -> bytes:
                return self.payload
            @classmethod
            def _deserialize(cls, level: int, type: int, data: bytes) -> AppMessage | None:
                return cls(data) if (level, type) == (socket.SOL_SOCKET, socket.SCM_RIGHTS) else None
    """

    __slots__ = ()

    def __new__(cls: type[_M], *args: Any, **kwargs: Any) -> _M:
        if cls is SocketControlMessage:
            raise TypeError("cannot create instance of abstract (non-instantiable) type `GSocketControlMessage'")
        return super().__new__(cls)

    def __init_subclass__(cls, *, _builtin: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hook = cls.__dict__.get("_deserialize")
        if hook is None:
            return  # inherits its parent's parser (if any): GLib asks only classes with their own
        if not isinstance(hook, (classmethod, staticmethod)):
            raise TypeError(f"{cls.__qualname__}._deserialize must be a classmethod or staticmethod")
        (_BUILTIN_TYPES if _builtin else _APP_TYPES).append(cls)

    @classmethod
    def _unregister(cls) -> None:
        """Stop offering received data to this application class (GLib cannot; for tests)."""
        if cls in _APP_TYPES:
            _APP_TYPES.remove(cls)

    def get_level(self) -> int:
        """The protocol level (``cmsg_level``), e.g. ``socket.SOL_SOCKET``."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement get_level()")

    def get_msg_type(self) -> int:
        """The message type within the level (``cmsg_type``), e.g. ``socket.SCM_RIGHTS``."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement get_msg_type()")

    def get_size(self) -> int:
        """Bytes of payload ``serialize()`` produces (by default, the length of that payload)."""
        return len(self.serialize())

    def serialize(self) -> bytes:
        """The payload (``CMSG_DATA``), exactly ``get_size()`` bytes long."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement serialize()")

    @classmethod
    def _deserialize(cls, level: int, type: int, data: bytes) -> SocketControlMessage | None:
        """This class's parser: an instance for data it recognises, else ``None``."""
        return None

    @classmethod
    def deserialize(cls, level: int, type: int, data: bytes) -> SocketControlMessage | None:
        """A message for received ancillary data, or ``None`` if no class recognises it.

        Mirrors ``g_socket_control_message_deserialize()`` of GLib >= 2.87.3: application
        subclasses are asked first, in definition order, then the built-ins. (GLib 2.74 asks
        every subclass in type-registration order, so there a built-in can win over an
        application class for the same level and type.) Called on any class, it consults
        them all. Unrecognised data yields ``None`` (GLib drops it silently).

        Descriptors in an ``SCM_RIGHTS`` payload become the property of the returned message;
        if there is none (e.g. the payload is not a whole number of ints) they are closed,
        where GLib would leak them. A parser that raises is logged and skipped.
        """
        level = int_arg(level, "level")
        msg_type = int_arg(type, "type")
        return _deserialize_owned(level, msg_type, _bytes_arg(data, "data"))

    def __repr__(self) -> str:
        try:
            detail = f"level={self.get_level()} type={self.get_msg_type()} size={self.get_size()}"
        except Exception:  # repr must work even for a half-written subclass
            detail = "(incomplete)"
        return f"<{type(self).__qualname__} {detail}>"


def _try_types(level: int, msg_type: int, data: bytes) -> SocketControlMessage | None:
    """Ask the application classes, then the built-ins; the first message wins."""
    for kind in (*_APP_TYPES, *_BUILTIN_TYPES):
        try:
            message: object = kind._deserialize(level, msg_type, data)  # user code: any result
        except Exception:
            _log.exception("%s._deserialize(%d, %d, <%d bytes>) raised; asking the next control-message type",
                           kind.__qualname__, level, msg_type, len(data))
            continue
        if message is None:
            continue
        if not isinstance(message, SocketControlMessage):
            _log.error("%s._deserialize returned a %s, not a Gio.SocketControlMessage; ignored",
                       kind.__qualname__, type(message).__name__)
            continue
        return message
    return None


def _deserialize_owned(level: int, msg_type: int, data: bytes) -> SocketControlMessage | None:
    """`_try_types`, closing the descriptors of an ``SCM_RIGHTS`` payload nobody took."""
    message = _try_types(level, msg_type, data)
    if message is None and level == SOL_SOCKET and msg_type == SCM_RIGHTS:
        _close_all(_fds_in(data))
    return message


# ---------------------------------------------------------------------------------------------
# GUnixFDList
# ---------------------------------------------------------------------------------------------


class UnixFDList(Object):
    """A list of file descriptors that it owns (``GUnixFDList``).

    The descriptors are closed when the list is garbage-collected, or at once by `close`
    (a gsocklab extra; the list is also a context manager that closes on exit). Indices are
    positions in the list: ``append`` returns the new one.
    """

    __slots__ = ("_fds", "_finalizer")

    def __init__(self) -> None:
        self._fds: list[int] = []
        # The finalizer holds the list of numbers, not `self`: it runs when `self` is collected.
        self._finalizer = weakref.finalize(self, _drain_and_close, self._fds)

    @classmethod
    def new(cls) -> UnixFDList:
        """An empty list."""
        return cls()

    @classmethod
    def new_from_array(cls, fds: Iterable[int]) -> UnixFDList:
        """A list that takes ownership of ``fds`` (they should be close-on-exec), as GLib does.

        Every element is checked before any is taken: a bad one raises and leaves all of
        them with the caller.
        """
        checked = [_fd_arg(fd, f"fds[{i}]") for i, fd in enumerate(_iterable_arg(fds, "fds"))]
        fd_list = cls()
        fd_list._fds.extend(checked)
        return fd_list

    def append(self, fd: int) -> int:
        """Add a close-on-exec duplicate of ``fd`` (the caller keeps ``fd``); return its index.

        Fails as GLib does when ``dup`` fails: "dup: <strerror>", code from the errno
        (``TOO_MANY_OPEN_FILES`` at the descriptor limit, ``FAILED`` for a closed ``fd``).
        """
        self._fds.append(_dup(_fd_arg(fd)))
        return len(self._fds) - 1

    def append_take(self, fd: int) -> int:
        """Add ``fd`` itself: the list now owns it and closes it (GLib 2.90); return its index.

        Unlike GLib, a descriptor that is not open is refused ("append_take: Bad file
        descriptor") rather than stored, so that the list never closes a stranger's descriptor.
        """
        fd = _fd_arg(fd)
        try:
            os.get_inheritable(fd)  # a cheap fcntl(F_GETFD): is it open?
        except OSError as exc:
            raise from_oserror(exc, "append_take: ") from exc
        self._fds.append(fd)
        return len(self._fds) - 1

    def _check_index(self, index: object) -> int:
        value = int_arg(index, "index")
        if not 0 <= value < len(self._fds):
            raise new_io_error(
                IOErrorEnum.INVALID_ARGUMENT,
                f"index {value} is out of range for a Gio.UnixFDList of length {len(self._fds)}"
                " (check get_length(), or use lookup())",
            )
        return value

    def get(self, index: int) -> int:
        """A new close-on-exec duplicate of descriptor ``index``; the caller must close it.

        An index out of range raises ``INVALID_ARGUMENT`` (GLib logs a CRITICAL and returns -1).
        """
        return _dup(self._fds[self._check_index(index)])

    def peek(self, index: int) -> int:
        """Descriptor ``index`` itself, still owned by the list (GLib 2.90); range-checked as `get`."""
        return self._fds[self._check_index(index)]

    def lookup(self, index: int) -> int:
        """Descriptor ``index`` still owned by the list, or -1 if there is none (GLib 2.90)."""
        value = int_arg(index, "index")
        return self._fds[value] if 0 <= value < len(self._fds) else -1

    def peek_fds(self) -> list[int]:
        """The descriptors, still owned by the list (do not close them)."""
        return self._fds[:]

    def steal_fds(self) -> list[int]:
        """The descriptors, now owned by the caller; the list is left empty."""
        stolen = self._fds[:]
        self._fds.clear()
        return stolen

    def get_length(self) -> int:
        """How many descriptors the list holds."""
        return len(self._fds)

    def close(self) -> None:
        """Close every descriptor now and empty the list (idempotent; not in GLib)."""
        _drain_and_close(self._fds)

    def __len__(self) -> int:
        return len(self._fds)

    def __enter__(self) -> UnixFDList:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Gio.UnixFDList fds={self._fds!r}>"


# ---------------------------------------------------------------------------------------------
# GUnixCredentialsMessage and GUnixFDMessage
# ---------------------------------------------------------------------------------------------


class UnixCredentialsMessage(SocketControlMessage, _builtin=True):
    """``SCM_CREDENTIALS``: a process's pid, uid and gid (``GUnixCredentialsMessage``).

    The kernel attaches one to every message received on a socket with ``SO_PASSCRED`` set,
    whether or not the sender sent one.
    """

    __slots__ = ("_credentials",)
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {"credentials": ("get_credentials", None)}

    def __init__(self, credentials: Credentials | None = None) -> None:
        if credentials is None:
            credentials = Credentials()
        elif not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be a Gio.Credentials or None, not {type(credentials).__name__}")
        self._credentials = credentials

    @classmethod
    def new(cls) -> UnixCredentialsMessage:
        """A message carrying the credentials of this process."""
        return cls()

    @classmethod
    def new_with_credentials(cls, credentials: Credentials) -> UnixCredentialsMessage:
        """A message carrying ``credentials`` (the same object, not a copy)."""
        if not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be a Gio.Credentials, not {type(credentials).__name__}")
        return cls(credentials)

    @staticmethod
    def is_supported() -> bool:
        """Whether the platform can pass credentials (Linux: yes)."""
        return hasattr(_socket, "SCM_CREDENTIALS")

    def get_credentials(self) -> Credentials:
        """The credentials carried."""
        return self._credentials

    def get_level(self) -> int:
        return SOL_SOCKET

    def get_msg_type(self) -> int:
        return SCM_CREDENTIALS

    def get_size(self) -> int:
        return UCRED.size

    def serialize(self) -> bytes:
        """The native ``struct ucred`` (pid, uid, gid)."""
        return self._credentials.get_native(CredentialsType.LINUX_UCRED)

    @classmethod
    def _deserialize(cls, level: int, type: int, data: bytes) -> UnixCredentialsMessage | None:
        if level != SOL_SOCKET or type != SCM_CREDENTIALS:
            return None
        if len(data) != UCRED.size:
            _log.warning("Expected a credentials struct of %d bytes but got %d bytes of data", UCRED.size, len(data))
            return None
        credentials = Credentials._from_ucred(data)
        try:
            credentials.get_unix_user()  # GLib: a peer that passed nothing has uid -1 (also pid 0, gid -1)
        except Error:
            return None
        return cls(credentials)

    def __repr__(self) -> str:
        return f"<Gio.UnixCredentialsMessage {self._credentials.to_string()}>"


class UnixFDMessage(SocketControlMessage, _builtin=True):
    """``SCM_RIGHTS``: file descriptors passed over a Unix socket (``GUnixFDMessage``).

    The message holds a `UnixFDList` (property ``fd-list``), shared, not copied, with
    ``new_with_fd_list``. Received descriptors are close-on-exec.
    """

    __slots__ = ("_fd_list",)
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {"fd_list": ("get_fd_list", None)}

    def __init__(self, fd_list: UnixFDList | None = None) -> None:
        if fd_list is None:
            fd_list = UnixFDList()
        elif not isinstance(fd_list, UnixFDList):
            raise TypeError(f"fd_list must be a Gio.UnixFDList or None, not {type(fd_list).__name__}")
        self._fd_list = fd_list

    @classmethod
    def new(cls) -> UnixFDMessage:
        """A message with a new, empty list."""
        return cls()

    @classmethod
    def new_with_fd_list(cls, fd_list: UnixFDList) -> UnixFDMessage:
        """A message around ``fd_list`` (the same object: changes to it show in the message)."""
        if not isinstance(fd_list, UnixFDList):
            raise TypeError(f"fd_list must be a Gio.UnixFDList, not {type(fd_list).__name__}")
        return cls(fd_list)

    def get_fd_list(self) -> UnixFDList:
        """The list of descriptors this message carries."""
        return self._fd_list

    def append_fd(self, fd: int) -> bool:
        """Add a duplicate of ``fd`` (the caller keeps ``fd``); ``True``, or "dup: …" on failure."""
        self._fd_list.append(fd)
        return True

    def steal_fds(self) -> list[int]:
        """The descriptors, now owned by the caller; the message's list is left empty."""
        return self._fd_list.steal_fds()

    def get_level(self) -> int:
        return SOL_SOCKET

    def get_msg_type(self) -> int:
        return SCM_RIGHTS

    def get_size(self) -> int:
        return _INT_SIZE * self._fd_list.get_length()

    def serialize(self) -> bytes:
        """The descriptors as native ints."""
        return array("i", self._fd_list.peek_fds()).tobytes()

    @classmethod
    def _deserialize(cls, level: int, type: int, data: bytes) -> UnixFDMessage | None:
        if level != SOL_SOCKET or type != SCM_RIGHTS:
            return None
        if len(data) % _INT_SIZE:
            # GLib warns and leaks the descriptors; `deserialize` closes the complete ones.
            _log.warning("Kernel returned non-integral number of fds")
            return None
        fds = array("i", data).tolist()
        for fd in fds:
            try:
                os.set_inheritable(fd, False)  # FD_CLOEXEC, as GLib sets it (§1.7)
            except OSError as exc:
                _log.warning("Error setting close-on-exec flag on incoming fd: %s", exc.strerror)
                return None  # `deserialize` closes them all
        fd_list = UnixFDList()
        fd_list._fds.extend(fds)
        return cls(fd_list)

    def __repr__(self) -> str:
        return f"<Gio.UnixFDMessage fds={self._fd_list._fds!r}>"


# ---------------------------------------------------------------------------------------------
# The socket layer's entry points
# ---------------------------------------------------------------------------------------------


def serialize_control_messages(messages: Iterable[SocketControlMessage] | None) -> list[tuple[int, int, bytes]]:
    """The ``ancdata`` argument of ``socket.sendmsg`` for ``messages`` (``None``: no messages).

    Each message must be a `SocketControlMessage` (``TypeError`` naming ``messages[i]``
    otherwise) whose ``serialize()`` returns exactly ``get_size()`` bytes (``INVALID_ARGUMENT``
    otherwise: GLib would send a buffer of ``get_size()`` bytes whatever was written).
    The messages keep their descriptors: sending passes duplicates to the peer.
    """
    if messages is None:
        return []
    ancdata: list[tuple[int, int, bytes]] = []
    for i, message in enumerate(_iterable_arg(messages, "messages")):
        name = f"messages[{i}]"
        if not isinstance(message, SocketControlMessage):
            raise TypeError(f"{name} must be a Gio.SocketControlMessage, not {type(message).__name__}")
        level = int_arg(message.get_level(), f"{name}.get_level()")
        msg_type = int_arg(message.get_msg_type(), f"{name}.get_msg_type()")
        payload = _bytes_arg(message.serialize(), f"{name}.serialize()")
        size = int_arg(message.get_size(), f"{name}.get_size()")
        if len(payload) != size:
            raise new_io_error(
                IOErrorEnum.INVALID_ARGUMENT,
                f"{name} ({type(message).__qualname__}): serialize() returned {len(payload)} bytes"
                f" but get_size() is {size}",
            )
        ancdata.append((level, msg_type, payload))
    return ancdata


def deserialize_ancdata(ancdata: Ancdata) -> list[SocketControlMessage]:
    """The messages for the ``ancdata`` that ``socket.recvmsg`` returned, in order.

    Items no class recognises are dropped; the descriptors of a dropped ``SCM_RIGHTS`` item
    (including a truncated one whose length is not a multiple of 4) are closed. Received
    descriptors are never leaked: the returned messages own the rest. A parser that raises
    is logged and skipped; should something still escape (``KeyboardInterrupt``), the
    descriptors of the items not yet handed to any message are closed before it propagates.
    """
    items = list(ancdata)
    messages: list[SocketControlMessage] = []
    done = 0
    try:
        for level, msg_type, data in items:
            done += 1  # from here on this item's descriptors are owned by _deserialize_owned
            message = _deserialize_owned(level, msg_type, bytes(data))
            if message is not None:
                messages.append(message)
    except BaseException:
        close_fds_in_ancdata(items[done:])
        raise
    return messages


def close_fds_in_ancdata(ancdata: Ancdata) -> int:
    """Close the descriptors of every ``SCM_RIGHTS`` item in ``ancdata``; return how many.

    For received control data that will not become messages (the caller did not ask for
    any, or the receive failed after ``recvmsg`` returned). Never raises for closed or
    invalid descriptors.
    """
    closed = 0
    for level, msg_type, data in ancdata:
        if level == SOL_SOCKET and msg_type == SCM_RIGHTS:
            closed += _close_all(_fds_in(bytes(data)))
    return closed
