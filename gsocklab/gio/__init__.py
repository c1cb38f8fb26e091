"""The Gio layer above `Gio.Socket`: streams, data streams, `SocketClient`, `SocketListener`,
`SocketService`, `NetworkAddress`, and ``*_async``/``*_finish`` pairs with `Task` results —
what PyGObject programs use besides sockets. ``from gsocklab import Gio`` exports them."""

from ._addresses import NetworkAddress, SocketAddressEnumerator
from ._client import SocketClient, SocketClientEvent
from ._data_streams import (
    BufferedInputStream,
    DataInputStream,
    DataOutputStream,
    DataStreamByteOrder,
    DataStreamNewlineType,
)
from ._listener import SocketListener, SocketListenerEvent, SocketService, ThreadedSocketService
from ._signals import SignalObject
from ._streams import (
    InputStream,
    MemoryInputStream,
    MemoryOutputStream,
    OutputStream,
    OutputStreamSpliceFlags,
    UnixInputStream,
    UnixOutputStream,
)
from ._task import Task

__all__ = [
    "BufferedInputStream", "DataInputStream", "DataOutputStream", "DataStreamByteOrder", "DataStreamNewlineType",
    "InputStream", "MemoryInputStream", "MemoryOutputStream", "NetworkAddress", "OutputStream",
    "OutputStreamSpliceFlags", "SignalObject", "SocketAddressEnumerator", "SocketClient", "SocketClientEvent",
    "SocketListener", "SocketListenerEvent", "SocketService", "Task", "ThreadedSocketService", "UnixInputStream",
    "UnixOutputStream",
]
