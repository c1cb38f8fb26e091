"""The one declaration of the recording's columns: names, dtypes and fixed categories.

`TRAFFIC_SCHEMA` maps every column of `Recorder.to_dataframe()` to its dtype, in order.
Categorical columns have *fixed* categories, so that frames from different recordings
concatenate without turning into ``object`` and an empty frame has the same dtypes as a
full one (house style C9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..core._enums import IOErrorEnum, SocketFamily, SocketType

__all__ = ["DIRECTIONS", "ERRORS", "FAMILIES", "OPS", "STRING", "TRAFFIC_SCHEMA", "TYPES", "direction_of"]

#: Every ``Gio.Socket`` method name a recording can show (the public methods of ``Gio.Socket``;
#: ``tests/test_recorder.py`` checks that the list stays complete). An op outside the list
#: (a future method) is appended to the categories of that one frame rather than lost.
OP_NAMES: Final[tuple[str, ...]] = (
    "accept", "accept_async", "bind", "check_connect_result", "close", "condition_check",
    "condition_timed_wait", "condition_timed_wait_async", "condition_wait", "condition_wait_async",
    "connect", "connection_factory_create_connection", "create_source", "get_available_bytes",
    "get_blocking", "get_broadcast", "get_credentials", "get_family", "get_fd", "get_keepalive",
    "get_listen_backlog", "get_local_address", "get_multicast_loopback", "get_multicast_ttl",
    "get_option", "get_property", "get_protocol", "get_remote_address", "get_socket_type",
    "get_timeout", "get_ttl", "init", "is_closed", "is_connected", "join_multicast_group",
    "join_multicast_group_ssm", "leave_multicast_group", "leave_multicast_group_ssm",
    "list_property_names", "listen", "new", "new_from_fd", "receive", "receive_async",
    "receive_bytes", "receive_bytes_from", "receive_from", "receive_from_async", "receive_message",
    "receive_messages", "receive_messages_async", "receive_with_blocking", "send", "send_async",
    "send_message", "send_message_with_timeout", "send_messages", "send_messages_async", "send_to",
    "send_to_async", "send_with_blocking", "set_blocking", "set_broadcast", "set_keepalive",
    "set_listen_backlog", "set_multicast_loopback", "set_multicast_ttl", "set_option",
    "set_property", "set_timeout", "set_ttl", "shutdown", "speaks_ipv4",
)

STRING: Final = pd.StringDtype()  # pandas' default storage (pyarrow where installed), NA = pd.NA
OPS: Final = pd.CategoricalDtype(list(OP_NAMES))
DIRECTIONS: Final = pd.CategoricalDtype(["out", "in"])
FAMILIES: Final = pd.CategoricalDtype([member.name for member in SocketFamily])
TYPES: Final = pd.CategoricalDtype([member.name for member in SocketType])
ERRORS: Final = pd.CategoricalDtype([member.name for member in IOErrorEnum])  # aliases excluded

#: Column name -> dtype, in column order: the whole contract of `Recorder.to_dataframe()`.
TRAFFIC_SCHEMA: Final[Mapping[str, object]] = {
    "seq": "int64",                    # order of the row in this recording (0, 1, …; gaps only where dropped)
    "time": "datetime64[ns, UTC]",     # wall clock when the call started
    "elapsed": "float64",              # seconds from the recorder's start (monotonic clock) to the call's start
    "socket": STRING,                  # the socket's label (``udp4#3``, or what ``attach(label=…)`` set)
    "host": STRING,                    # the lab host of the socket (gsocklab.netlab), <NA> for this machine
    "thread": STRING,                  # name of the thread that made the call (at its first recorded call)
    "op": OPS,                         # the Gio method called
    "direction": DIRECTIONS,           # "out" for send*, "in" for receive*, <NA> otherwise
    "family": FAMILIES,                # IPV4 / IPV6 / UNIX
    "type": TYPES,                     # STREAM / DATAGRAM / SEQPACKET
    "local": STRING,                   # 127.0.0.1:5000, [::1]:5000, a unix path (0.0.0.0:0 before bind); or <NA>
    "peer": STRING,                    # destination (out), source (in), or remote (connect, accept)
    "nbytes": "Int64",                 # bytes moved; <NA> for calls that move none (and failed calls)
    "payload": "object",               # bytes: the first capture_bytes bytes moved, or None
    "condition": STRING,               # condition asked for, "IN|OUT" (condition_* calls)
    "ready": STRING,                   # condition found, "IN" (condition_* calls)
    "blocking": "boolean",             # the mode the call ran in (explicit *_with_blocking mode, else the socket's)
    "timeout": "Float64",              # timeout in force, seconds; <NA> = none (waits forever if blocking)
    "waited": "float64",               # seconds spent waiting (poll) inside the call
    "duration": "float64",             # seconds for the whole call
    "error": ERRORS,                   # IOErrorEnum name, <NA> when the call succeeded
    "message": STRING,                 # the error's message; for a successful set_* or join/leave: the value
    "hint": STRING,                    # for common mistakes, what to do (see gsocklab.record._hints)
    "batch": "Int64",                  # send_messages / receive_messages: the call's number in this recording
    "index": "Int64",                  # … and the message's position in that call (0 … count-1)
    "flags": "Int64",                  # message flags: those passed in, or those received
    "via": STRING,                     # the Gio call that made this socket call (DataInputStream.read_line), or <NA>
}


def direction_of(op: str) -> str | None:
    """``out`` for the send calls, ``in`` for the receive calls, ``None`` for all others.

    ``accept`` and ``connect`` move no data, so they have no direction.
    """
    if op.startswith("send"):
        return "out"
    if op.startswith("receive"):
        return "in"
    return None
