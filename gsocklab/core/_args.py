"""Argument checks and conversions shared by the socket classes.

Wrong types are ``TypeError``s naming the parameter.
"""

from __future__ import annotations

import errno
import functools
import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

from ._address import SocketAddress
from ._cancellable import Cancellable
from ._enums import IOErrorEnum, SocketFamily
from ._errors import new_io_error

__all__ = [
    "INT_MAX", "INT_MIN", "UINT_MAX", "bool_arg", "check_cancellable", "cint_arg", "data_arg", "enum_arg",
    "int_arg", "os_sockaddr", "size_arg", "uint_arg", "user_data_keyword", "writable_view",
]

_F = TypeVar("_F", bound=Callable[..., Any])

UINT_MAX = 0xFFFFFFFF
INT_MAX = 0x7FFFFFFF
INT_MIN = -0x80000000


def enum_arg(enum_type: Any, value: object, name: str) -> Any:
    """``value`` as a member of ``enum_type``; anything else is a TypeError naming ``name``."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum_type(value)
        except ValueError:
            pass
    raise TypeError(f"{name} must be a Gio.{enum_type.__name__}, not {value!r}")


def check_cancellable(cancellable: object) -> None:
    """A ``TypeError`` unless ``cancellable`` is a ``Gio.Cancellable`` or ``None``."""
    if cancellable is not None and not isinstance(cancellable, Cancellable):
        raise TypeError(f"cancellable must be a Gio.Cancellable or None, not {type(cancellable).__name__}")


def int_arg(value: object, name: str) -> int:
    """``value`` if it is an int (not a bool); else a TypeError naming ``name``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{name} must be an int, not {type(value).__name__}")


def cint_arg(value: object, name: str) -> int:
    """``value`` as a C ``int`` (GLib's ``gint``, e.g. message flags).

    Not an int: ``TypeError`` naming ``name``; out of range: ``OverflowError`` with
    PyGObject's text ("4294967298 not in range -2147483648 to 2147483647").
    """
    value = int_arg(value, name)
    if not INT_MIN <= value <= INT_MAX:
        raise OverflowError(f"{value} not in range {INT_MIN} to {INT_MAX}")
    return value


def size_arg(size: object) -> int:
    """A non-negative ``size``; negative sizes are ``INVALID_ARGUMENT``."""
    size = int_arg(size, "size")
    if size < 0:
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"size must not be negative, got {size}")
    return size


def data_arg(buffer: object, name: str = "buffer") -> Any:
    """A bytes-like object for sending: bytes-likes as they are, a list of ints as bytes."""
    if isinstance(buffer, (bytes, bytearray)):
        return buffer
    if isinstance(buffer, memoryview):
        if not buffer.c_contiguous:
            raise TypeError(f"{name} must be a C-contiguous bytes-like object, not a non-contiguous memoryview")
        return buffer
    if isinstance(buffer, (list, tuple)):
        try:
            return bytes(buffer)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be bytes-like or a list of ints 0..255: {exc}") from None
    if isinstance(buffer, str):
        raise TypeError(f"{name} must be bytes-like or a list of ints, not str (encode it first)")
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be bytes-like or a list of ints, not {type(buffer).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous bytes-like object, not a non-contiguous "
                        f"{type(buffer).__name__}")
    return view


def bool_arg(value: object, name: str) -> bool:
    if isinstance(value, int):  # bool is an int
        return bool(value)
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def uint_arg(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= UINT_MAX:
        raise OverflowError(f"{name} {value} is out of range for an unsigned int (0..{UINT_MAX})")
    return value


def os_sockaddr(socket_family: SocketFamily, address: object, mapped_ok: bool) -> Any:
    """The OS form of ``address`` for a socket of ``socket_family`` (`_address` computes it).

    Python cannot hand the kernel a sockaddr of another family, so a mismatch fails with
    the errno Linux gives GLib for it: ``EAFNOSUPPORT`` on inet sockets, ``EINVAL`` on
    unix ones and for an IPv4 address on an IPv6 socket — except where Linux accepts
    that (``mapped_ok``: datagram destinations), which is sent v4-mapped.
    """
    if not isinstance(address, SocketAddress):
        raise TypeError(f"address must be a Gio.SocketAddress, not {type(address).__name__}")
    family = address._family
    if family == socket_family:
        return address._sockaddr
    if socket_family == SocketFamily.IPV6 and family == SocketFamily.IPV4:
        if not mapped_ok:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        inet: tuple[str, int] = address._sockaddr  # type: ignore[assignment]
        return (f"::ffff:{inet[0]}", inet[1], 0, 0)
    code = errno.EINVAL if socket_family == SocketFamily.UNIX else errno.EAFNOSUPPORT
    raise OSError(code, os.strerror(code))


def writable_view(buffer: object) -> memoryview:
    """A memoryview of a writable buffer, or a TypeError naming the ``buffer`` parameter."""
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"buffer must be a writable bytes-like object, not {type(buffer).__name__}") from None
    if view.readonly:
        raise TypeError(f"buffer must be writable, not a read-only {type(buffer).__name__}")
    return view


def user_data_keyword(method: _F) -> _F:
    """Let ``method(…, callback, *user_data)`` also take ``user_data=value`` as a keyword, as
    PyGObject's async calls do: the value is passed on as the one extra callback argument."""
    signature = inspect.signature(method)
    names = [name for name, parameter in signature.parameters.items()
             if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)]

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if "user_data" not in kwargs:
            return method(*args, **kwargs)
        user_data = kwargs.pop("user_data")
        bound = signature.bind(*args, **kwargs)
        if bound.arguments.get("user_data"):
            raise TypeError(f"{method.__qualname__}() got user data both by position and as user_data=")
        bound.apply_defaults()
        return method(*(bound.arguments[name] for name in names), user_data)

    return call  # type: ignore[return-value]
