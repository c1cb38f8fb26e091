"""``GLib.Error`` and the single place where ``errno`` becomes a ``Gio.IOErrorEnum``.

Hierarchy (every class is a ``GLib.Error`` in the ``g-io-error-quark`` domain)::

    RuntimeError
    └── Error                              GLib.Error, as in PyGObject
        ├── WouldBlockError    (+ BlockingIOError)        WOULD_BLOCK
        ├── TimedOutError      (+ TimeoutError)           TIMED_OUT
        ├── CancelledError                                 CANCELLED
        ├── ClosedError                                    CLOSED
        ├── ConnectionRefusedIOError (+ ConnectionRefusedError)  CONNECTION_REFUSED
        ├── BrokenPipeIOError  (+ BrokenPipeError)         BROKEN_PIPE / CONNECTION_CLOSED
        ├── NotConnectedError  (+ ConnectionError)         NOT_CONNECTED
        ├── NotFoundError      (+ FileNotFoundError)       NOT_FOUND
        ├── ExistsError        (+ FileExistsError)         EXISTS
        ├── PermissionDeniedError (+ PermissionError)      PERMISSION_DENIED
        ├── AddressInUseError  (+ OSError)                 ADDRESS_IN_USE
        ├── InvalidArgumentError (+ ValueError)            INVALID_ARGUMENT
        └── NotSupportedError                              NOT_SUPPORTED

So ``except TimeoutError:`` and ``err.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)``
both work. `new_io_error` picks the class for a code; `from_errno` and `from_oserror` are the
only translation from the OS (GLib HEAD's ``g_io_error_from_errno`` table).
"""

from __future__ import annotations

import errno as _errno
import os
from typing import Final

from ._enums import IOErrorEnum

__all__ = [
    "IO_ERROR_QUARK",
    "Error",
    "from_errno",
    "from_oserror",
    "io_error_from_errno",
    "io_error_quark",
    "new_io_error",
]

IO_ERROR_QUARK: Final = "g-io-error-quark"


def io_error_quark() -> str:
    """Return the error domain of every gsocklab error: ``"g-io-error-quark"``."""
    return IO_ERROR_QUARK


class Error(RuntimeError):
    """A GLib error: ``domain``, ``code`` and ``message``, as PyGObject's ``GLib.Error``."""

    def __init__(
        self, message: str = "unknown error", domain: str = IO_ERROR_QUARK, code: int = 0
    ) -> None:
        super().__init__(message)
        self.errno: int | None = None  # the OS error number, when the error came from one
        self.message = message
        self.domain = domain
        self.code: int = IOErrorEnum(code) if domain == IO_ERROR_QUARK and _is_io_code(code) else code

    @classmethod
    def new_literal(cls, domain: str, message: str, code: int) -> Error:
        """Build an error as ``GLib.Error.new_literal`` does (the right subclass for I/O codes)."""
        if domain == IO_ERROR_QUARK:
            return new_io_error(code, message)
        return cls(message, domain, code)

    def matches(self, domain: str, code: int) -> bool:
        """Whether this error has the given domain and code."""
        return self.domain == domain and self.code == code

    def copy(self) -> Error:
        """A new error of the same class, domain, code and message."""
        return new_io_error(self.code, self.message) if self.domain == IO_ERROR_QUARK else (
            Error(self.message, self.domain, self.code)
        )

    def __str__(self) -> str:
        return f"{self.domain}: {self.message} ({int(self.code)})"

    def __repr__(self) -> str:
        code = self.code.name if isinstance(self.code, IOErrorEnum) else self.code
        return f"GLib.Error({self.message!r}, {self.domain!r}, {code})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Error.new_literal, (self.domain, self.message, int(self.code)))


def _is_io_code(code: int) -> bool:
    return code in IOErrorEnum._value2member_map_


class WouldBlockError(Error, BlockingIOError):
    """``WOULD_BLOCK``: a non-blocking call found nothing to do."""


class TimedOutError(Error, TimeoutError):
    """``TIMED_OUT``: the socket timeout or a call's timeout expired."""


class CancelledError(Error):
    """``CANCELLED``: the call's ``Gio.Cancellable`` was cancelled."""


class ClosedError(Error):
    """``CLOSED``: the socket is already closed."""


class ConnectionRefusedIOError(Error, ConnectionRefusedError):
    """``CONNECTION_REFUSED``."""


class BrokenPipeIOError(Error, BrokenPipeError):
    """``BROKEN_PIPE`` (= ``CONNECTION_CLOSED``): the peer is gone."""


class NotConnectedError(Error, ConnectionError):
    """``NOT_CONNECTED``."""


class NotFoundError(Error, FileNotFoundError):
    """``NOT_FOUND``."""


class ExistsError(Error, FileExistsError):
    """``EXISTS``."""


class PermissionDeniedError(Error, PermissionError):
    """``PERMISSION_DENIED``."""


class AddressInUseError(Error, OSError):
    """``ADDRESS_IN_USE``."""


class InvalidArgumentError(Error, ValueError):
    """``INVALID_ARGUMENT``."""


class NotSupportedError(Error):
    """``NOT_SUPPORTED``."""


_CODE_TO_CLASS: Final[dict[int, type[Error]]] = {
    IOErrorEnum.WOULD_BLOCK: WouldBlockError,
    IOErrorEnum.TIMED_OUT: TimedOutError,
    IOErrorEnum.CANCELLED: CancelledError,
    IOErrorEnum.CLOSED: ClosedError,
    IOErrorEnum.CONNECTION_REFUSED: ConnectionRefusedIOError,
    IOErrorEnum.BROKEN_PIPE: BrokenPipeIOError,
    IOErrorEnum.NOT_CONNECTED: NotConnectedError,
    IOErrorEnum.NOT_FOUND: NotFoundError,
    IOErrorEnum.EXISTS: ExistsError,
    IOErrorEnum.PERMISSION_DENIED: PermissionDeniedError,
    IOErrorEnum.ADDRESS_IN_USE: AddressInUseError,
    IOErrorEnum.INVALID_ARGUMENT: InvalidArgumentError,
    IOErrorEnum.NOT_SUPPORTED: NotSupportedError,
}


def new_io_error(code: int, message: str) -> Error:
    """An error of the ``g-io-error-quark`` domain, of the subclass that fits ``code``."""
    return _CODE_TO_CLASS.get(code, Error)(message, IO_ERROR_QUARK, code)


def _table() -> dict[int, IOErrorEnum]:
    """GLib HEAD's ``g_io_error_from_errno``: ``g_file_error_from_errno`` first, then the switch."""
    E, C = _errno, IOErrorEnum
    rows: list[tuple[str, IOErrorEnum]] = [
        # g_file_error_from_errno -> g_io_error_from_file_error
        ("EEXIST", C.EXISTS), ("EISDIR", C.IS_DIRECTORY), ("EACCES", C.PERMISSION_DENIED),
        ("ENAMETOOLONG", C.FILENAME_TOO_LONG), ("ENOENT", C.NOT_FOUND), ("ENOTDIR", C.NOT_DIRECTORY),
        ("ENXIO", C.NOT_REGULAR_FILE), ("ENODEV", C.NO_SUCH_DEVICE), ("EROFS", C.READ_ONLY),
        ("ETXTBSY", C.BUSY), ("ELOOP", C.TOO_MANY_LINKS), ("ENOSPC", C.NO_SPACE), ("ENOMEM", C.NO_SPACE),
        ("EMFILE", C.TOO_MANY_OPEN_FILES), ("ENFILE", C.TOO_MANY_OPEN_FILES), ("EINVAL", C.INVALID_ARGUMENT),
        ("EPIPE", C.BROKEN_PIPE), ("EAGAIN", C.WOULD_BLOCK), ("EPERM", C.PERMISSION_DENIED),
        ("ENOSYS", C.NOT_SUPPORTED),
        # the switch in g_io_error_from_errno
        ("EMLINK", C.TOO_MANY_LINKS), ("ENOMSG", C.INVALID_DATA), ("ENODATA", C.INVALID_DATA),
        ("EBADMSG", C.INVALID_DATA), ("ECANCELED", C.CANCELLED), ("ENOTEMPTY", C.NOT_EMPTY),
        ("ENOTSUP", C.NOT_SUPPORTED), ("EOPNOTSUPP", C.NOT_SUPPORTED), ("EPROTONOSUPPORT", C.NOT_SUPPORTED),
        ("ESOCKTNOSUPPORT", C.NOT_SUPPORTED), ("EPFNOSUPPORT", C.NOT_SUPPORTED),
        ("EAFNOSUPPORT", C.NOT_SUPPORTED), ("ETIMEDOUT", C.TIMED_OUT), ("EBUSY", C.BUSY),
        ("EWOULDBLOCK", C.WOULD_BLOCK), ("EADDRINUSE", C.ADDRESS_IN_USE),
        ("EHOSTUNREACH", C.HOST_UNREACHABLE), ("ENETUNREACH", C.NETWORK_UNREACHABLE),
        ("ENETDOWN", C.NETWORK_UNREACHABLE), ("ECONNREFUSED", C.CONNECTION_REFUSED),
        ("EADDRNOTAVAIL", C.CONNECTION_REFUSED),  # GLib >= 2.81 (2.74: FAILED)
        ("ECONNRESET", C.CONNECTION_CLOSED), ("ENOTCONN", C.NOT_CONNECTED),
        ("EDESTADDRREQ", C.DESTINATION_UNSET),  # GLib >= 2.80 (2.74: FAILED)
        ("EMSGSIZE", C.MESSAGE_TOO_LARGE), ("ENOTSOCK", C.INVALID_ARGUMENT),
    ]
    table: dict[int, IOErrorEnum] = {}
    for name, code in rows:
        number = getattr(E, name, None)
        if number is not None:
            table.setdefault(number, code)  # the first rule that matches wins, as in C
    return table


ERRNO_TO_CODE: Final[dict[int, IOErrorEnum]] = _table()


def io_error_from_errno(err_no: int) -> IOErrorEnum:
    """The ``IOErrorEnum`` GLib HEAD gives ``err_no``; unknown numbers are ``FAILED``."""
    if not isinstance(err_no, int):
        raise TypeError(f"err_no must be an int, not {type(err_no).__name__}")
    return ERRNO_TO_CODE.get(err_no, IOErrorEnum.FAILED)


def from_errno(err_no: int, prefix: str = "") -> Error:
    """The error GLib raises for ``err_no``: ``prefix`` + ``strerror``, bare for WOULD_BLOCK."""
    code = ERRNO_TO_CODE.get(err_no, IOErrorEnum.FAILED)
    text = os.strerror(err_no)
    if code is not IOErrorEnum.WOULD_BLOCK:
        text = prefix + text
    error = new_io_error(code, text)
    error.errno = err_no
    return error


def from_oserror(exc: OSError, prefix: str = "") -> Error:
    """Translate ``exc`` as GLib's ``socket_set_error_lazy`` does, keeping it as ``__cause__``."""
    err_no = exc.errno if exc.errno is not None else 0
    error = from_errno(err_no, prefix) if err_no else new_io_error(IOErrorEnum.FAILED, prefix + str(exc))
    error.__cause__ = exc
    return error
