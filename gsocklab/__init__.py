"""gsocklab: GLib's ``Gio.Socket`` API in pure Python.

``from gsocklab import Gio, GLib`` runs code written for ``from gi.repository import Gio, GLib``;
the same names are also available directly as ``gsocklab.<Name>``. The core needs only the
standard library.
"""

from . import Gio, GLib
from .core._errors import Error
from .Gio import (
    Cancellable,
    Credentials,
    CredentialsType,
    DatagramBased,
    InetAddress,
    InetSocketAddress,
    InputMessage,
    InputVector,
    IOErrorEnum,
    OutputMessage,
    OutputVector,
    PollableReturn,
    Socket,
    SocketAddress,
    SocketConnection,
    SocketControlMessage,
    SocketFamily,
    SocketMsgFlags,
    SocketProtocol,
    SocketType,
    TcpConnection,
    UnixConnection,
    UnixCredentialsMessage,
    UnixFDList,
    UnixFDMessage,
    UnixSocketAddress,
    UnixSocketAddressType,
    io_error_from_errno,
    io_error_quark,
)
from .GLib import IOCondition

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``gsocklab.Recorder`` and ``gsocklab.TRAFFIC_SCHEMA``, imported on first use (they need pandas)."""
    if name in ("Recorder", "TRAFFIC_SCHEMA"):
        from . import record

        return getattr(record, name)
    raise AttributeError(f"module 'gsocklab' has no attribute {name!r}")

__all__ = [
    "Cancellable",
    "Credentials",
    "CredentialsType",
    "DatagramBased",
    "Error",
    "GLib",
    "Gio",
    "IOCondition",
    "IOErrorEnum",
    "InetAddress",
    "InetSocketAddress",
    "InputMessage",
    "InputVector",
    "OutputMessage",
    "OutputVector",
    "PollableReturn",
    "Recorder",
    "Socket",
    "SocketAddress",
    "SocketConnection",
    "SocketControlMessage",
    "SocketFamily",
    "SocketMsgFlags",
    "SocketProtocol",
    "SocketType",
    "TRAFFIC_SCHEMA",
    "TcpConnection",
    "UnixConnection",
    "UnixCredentialsMessage",
    "UnixFDList",
    "UnixFDMessage",
    "UnixSocketAddress",
    "UnixSocketAddressType",
    "io_error_from_errno",
    "io_error_quark",
]
