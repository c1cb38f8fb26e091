"""Scatter/gather vectors and messages: ``Gio.InputVector``, ``OutputVector``, ``InputMessage``, ``OutputMessage``.

Pure data, as GLib's structs (``giotypes.h``), but holding Python buffers instead of raw
pointers, so that — unlike with PyGObject — a vector can carry a ``bytearray`` and received
data lands in it. Every change to an existing vector or message bumps a module-wide
generation counter (`generation`), which the recorder uses to reuse what it learnt of a
message list's layout. The common constructor calls take a one-expression fast path:
building messages is on the path of every program that sends a new list per batch.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ._address import SocketAddress
from ._enums import IOErrorEnum
from ._errors import new_io_error
from ._gobject import Object

if TYPE_CHECKING:
    from ._control import SocketControlMessage

__all__ = ["CONTROLS_SEEN", "InputMessage", "InputVector", "OutputMessage", "OutputVector", "changed", "generation"]

_generation = [0]


def generation() -> int:
    """A number that changes whenever any vector or message is changed."""
    return _generation[0]


def changed() -> None:
    """Note that a vector or message changed (moves `generation` on)."""
    _generation[0] += 1


def _nbytes(buffer: object, name: str, writable: bool) -> int:
    cls = type(buffer)
    if cls is bytearray or (cls is bytes and not writable):  # the common cases, without a memoryview
        return len(buffer)  # type: ignore[arg-type]
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        kind = "a writable bytes-like object (bytearray, memoryview)" if writable else "a bytes-like object"
        raise TypeError(f"{name} must be {kind}, not {type(buffer).__name__}") from None
    if writable and view.readonly:
        raise TypeError(f"{name} must be writable (a bytearray or writable memoryview), not read-only "
                        f"{type(buffer).__name__}")
    if not view.contiguous:
        raise TypeError(f"{name} must be a contiguous buffer")
    return view.nbytes


def _size(size: object, nbytes: int) -> int:
    if size is None:
        return nbytes
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    if not 0 <= size <= nbytes:
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                           f"size {size} does not fit the vector's buffer of {nbytes} bytes")
    return size


class _Vector(Object):
    """A buffer and the number of its bytes in use; ``_WRITABLE`` says which kind of buffer."""

    __slots__ = ("_address", "_buffer", "_size")
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {}
    _WRITABLE: ClassVar[bool] = False
    _address: int | None  # set only when a raw address was given (read with getattr)

    def __init__(self, buffer: Any, size: int | None) -> None:
        self._buffer = buffer
        self._size = _size(size, _nbytes(buffer, "buffer", writable=self._WRITABLE))

    @property
    def buffer(self) -> Any:
        """The buffer (assigning one also sets ``size`` to its length)."""
        address: int | None = getattr(self, "_address", None)
        return self._buffer if address is None else address

    @buffer.setter
    def buffer(self, buffer: Any) -> None:
        if type(buffer) is int:  # a raw address, as PyGObject programs must give (ctypes.addressof)
            self._address, self._buffer, self._size = buffer, (ctypes.c_ubyte * 0).from_address(buffer), 0
            changed()
            return
        nbytes = _nbytes(buffer, "buffer", writable=self._WRITABLE)
        self._address, self._buffer, self._size = None, buffer, nbytes
        changed()

    def _memory(self) -> Any:
        """The memory behind the vector: its buffer, or the bytes at its raw address."""
        return self._buffer if getattr(self, "_address", None) is not None else self.buffer

    @property
    def size(self) -> int:
        """How many bytes of ``buffer`` are used; never more than it holds."""
        return self._size

    @size.setter
    def size(self, size: int) -> None:
        address: int | None = getattr(self, "_address", None)
        if address is not None:  # the caller vouches for `size` bytes at the address, as in C
            if type(size) is not int or size < 0:
                raise TypeError(f"size must be a non-negative int, not {size!r}")
            self._buffer, self._size = (ctypes.c_ubyte * size).from_address(address), size
            changed()
            return
        self._size = _size(size, _nbytes(self.buffer, "buffer", writable=self._WRITABLE))
        changed()

    def __repr__(self) -> str:
        return f"<Gio.{type(self).__name__} size={self._size}>"


class OutputVector(_Vector):
    """Data to send: a bytes-like ``buffer`` and the ``size`` to send from it (``GOutputVector``).

    ``size`` defaults to the whole buffer and may never exceed it.
    """

    __slots__ = ()

    def __init__(self, buffer: Any = b"", size: int | None = None) -> None:
        cls = type(buffer)
        if size is None and (cls is bytes or cls is bytearray):  # the common case, in one call
            self._buffer, self._size = buffer, len(buffer)
            return
        super().__init__(buffer, size)


class InputVector(_Vector):
    """Room to receive into: a writable ``buffer`` and the ``size`` usable of it (``GInputVector``).

    ``InputVector(buffer=b)`` receives into ``b``. ``InputVector(size=n)`` owns a room of
    ``n`` bytes: it keeps what it receives compactly and makes its ``bytearray(n)`` only when
    ``buffer`` is first read (a batch of 2 KiB rooms then costs the bytes received, not
    2 KiB a message). Either way ``buffer`` reads as a ``bytearray`` of ``size`` bytes that
    starts with the last data received.
    """

    __slots__ = ("_received",)
    _WRITABLE = True

    def __init__(self, buffer: Any = None, size: int | None = None) -> None:
        self._received: Any = None  # owned rooms: the bytes last received, until `buffer` is made
        if buffer is None:
            if size is None:
                size = 0  # PyGObject's Gio.InputVector(): an empty vector
            if type(size) is not int or size < 0:
                raise TypeError(f"size must be a non-negative int, not {size!r}")
            self._buffer, self._size = None, size  # owned: made when first read
            return
        super().__init__(buffer, size)

    @property
    def buffer(self) -> Any:
        """The buffer (assigning one also sets ``size`` to its length). A raw address (an
        ``int``, such as ``ctypes.addressof(room)``, which PyGObject programs must give)
        reads back as that address: then set ``size``, and keep the memory alive."""
        address: int | None = getattr(self, "_address", None)
        if address is not None:
            return address
        buffer = self._buffer
        if buffer is None:
            with _MAKING:  # two threads reading it first get the same buffer
                buffer = self._buffer
                if buffer is None:
                    buffer = bytearray(self._size)
                    received = self._received
                    if received:
                        buffer[:len(received)] = received
                    self._buffer, self._received = buffer, None
        return buffer

    @buffer.setter
    def buffer(self, buffer: Any) -> None:
        self._received = None
        _Vector.buffer.fset(self, buffer)  # type: ignore[attr-defined]

    def _contents(self) -> Any:
        """What the vector holds now, without making an owned room's buffer (may be shorter than ``size``)."""
        buffer = self._buffer
        if buffer is None:
            return self._received if self._received is not None else b""
        return buffer


_MAKING = threading.Lock()


_V = TypeVar("_V", OutputVector, InputVector)


def _vector_tuple(vectors: Iterable[Any] | None, name: str, kind: type[_V], items_are: str) -> tuple[_V, ...]:
    """``vectors`` as a tuple of ``kind``: other items are wrapped (``items_are`` says what they may be)."""
    if vectors is None:
        return ()
    if isinstance(vectors, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{name} must be a list of Gio.{kind.__name__} or {items_are}, not a single "
                        f"{type(vectors).__name__}")
    try:
        items = tuple(vectors)
    except TypeError:
        raise TypeError(f"{name} must be a list, not {type(vectors).__name__}") from None
    if len(items) == 1 and type(items[0]) is kind:  # the common case, checked without a loop
        return items
    return tuple(v if isinstance(v, kind) else kind(v) for v in items)


def output_vectors(vectors: Iterable[Any] | None, name: str = "vectors") -> tuple[OutputVector, ...]:
    """``vectors`` as OutputVectors: plain bytes-like objects are wrapped."""
    return _vector_tuple(vectors, name, OutputVector, "bytes-like objects")


def input_vectors(vectors: Iterable[Any] | None, name: str = "vectors") -> tuple[InputVector, ...]:
    """``vectors`` as InputVectors: plain writable buffers are wrapped."""
    return _vector_tuple(vectors, name, InputVector, "writable buffers")


#: ``[True]`` once any message has been given control messages (or a list to receive them
#: into). Until then every message's ``_control_messages`` is ``None``, and a batch need not
#: look; it never goes back to ``False``, so a batch that sees ``False`` can trust it.
CONTROLS_SEEN = [False]


def _control_list(messages: object, name: str = "control_messages") -> list[SocketControlMessage] | None:
    if messages is None:
        return None
    CONTROLS_SEEN[0] = True  # before the message holds them
    from ._control import SocketControlMessage

    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"{name} must be a list of Gio.SocketControlMessage or None")
    for item in messages:
        if not isinstance(item, SocketControlMessage):
            raise TypeError(f"{name} items must be Gio.SocketControlMessage, not {type(item).__name__}")
    return list(messages)


def _receive_list(messages: object) -> list[SocketControlMessage] | None:
    if messages is not None:
        if not isinstance(messages, list):
            raise TypeError("control_messages must be a list (to be filled in) or None")
        CONTROLS_SEEN[0] = True  # before the message holds it
    return messages


def _packed(vectors: tuple[Any, ...]) -> Any:
    """How a message holds its vectors: the vector itself when there is one, else the tuple."""
    return vectors[0] if len(vectors) == 1 else vectors


class _Message(Object):
    """What both message kinds share: vectors and control messages, checked on assignment.

    ``_vectors`` is the one vector of a message that has one (the usual case: no tuple to
    make, and one attribute to read per message in a batch), else the tuple of them; one
    slot, so a reader never sees half an assignment.
    """

    __slots__ = ("_control_messages", "_vectors")
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {}
    _make_vectors: Callable[[Any], tuple[Any, ...]]
    _make_controls: Callable[[Any], list[SocketControlMessage] | None]

    @property
    def vectors(self) -> tuple[Any, ...]:
        """The vectors, in order (assign a new list to change them)."""
        vectors = self._vectors
        return vectors if type(vectors) is tuple else (vectors,)

    @vectors.setter
    def vectors(self, vectors: Sequence[Any]) -> None:
        self._vectors = _packed(self._make_vectors(vectors))
        changed()

    @property
    def num_vectors(self) -> int:
        """``len(vectors)``."""
        return len(self.vectors)

    @property
    def control_messages(self) -> list[SocketControlMessage] | None:
        """Control messages sent, or the list received into; ``None`` for none."""
        return self._control_messages

    @control_messages.setter
    def control_messages(self, messages: Any) -> None:
        self._control_messages = self._make_controls(messages)
        changed()

    @property
    def num_control_messages(self) -> int:
        """Number of control messages."""
        return len(self._control_messages or ())


class OutputMessage(_Message):
    """One datagram for ``send_messages`` (``GOutputMessage``).

    ``address`` (``None``: the connected peer), ``vectors`` (OutputVectors or bytes-like
    objects) and ``control_messages``; ``bytes_sent`` is filled in by ``send_messages``.
    """

    __slots__ = ("_address", "bytes_sent")
    _make_vectors = staticmethod(output_vectors)
    _make_controls = staticmethod(_control_list)

    def __init__(self, address: SocketAddress | None = None, vectors: Sequence[Any] | None = None,
                 control_messages: Sequence[SocketControlMessage] | None = None,
                 num_vectors: int | None = None) -> None:
        self.bytes_sent = 0
        if (type(vectors) is list and len(vectors) == 1 and type(vectors[0]) is OutputVector
                and control_messages is None and num_vectors is None
                and (address is None or isinstance(address, SocketAddress))):
            # The common case, checked in one expression: constructing messages is on the path
            # of every sender that builds a new list per batch.
            self._address, self._vectors, self._control_messages = address, vectors[0], None
            return
        self._address = _check_address(address)
        made = output_vectors(vectors)
        _check_num_vectors(num_vectors, made)
        self._vectors = _packed(made)
        self._control_messages = _control_list(control_messages, "control_messages")

    @property
    def address(self) -> SocketAddress | None:
        """Destination, or ``None`` for the connected peer."""
        return self._address

    @address.setter
    def address(self, address: SocketAddress | None) -> None:
        self._address = _check_address(address)
        changed()

    def __repr__(self) -> str:
        return (f"<Gio.OutputMessage to {self._address} vectors={self.num_vectors} "
                f"bytes_sent={self.bytes_sent}>")

class InputMessage(_Message):
    """Room for one datagram in ``receive_messages`` (``GInputMessage``).

    ``vectors`` (InputVectors or writable buffers) receive the data. After the call,
    ``address`` is the source, ``bytes_received`` the datagram's length in the vectors,
    ``flags`` the kernel's message flags (``MSG_TRUNC`` when it did not fit) and, if
    ``control_messages`` was given as a list, the control messages received (otherwise they
    are discarded, any descriptors in them closed). ``payload`` is the data as ``bytes``.
    """

    __slots__ = ("address", "bytes_received", "flags")
    _make_vectors = staticmethod(input_vectors)
    _make_controls = staticmethod(_receive_list)

    def __init__(self, vectors: Sequence[Any] | None = None,
                 control_messages: list[SocketControlMessage] | None = None, num_vectors: int | None = None) -> None:
        self.address: SocketAddress | None = None
        self.bytes_received = 0
        self.flags = 0
        if (type(vectors) is list and len(vectors) == 1 and type(vectors[0]) is InputVector
                and control_messages is None and num_vectors is None):  # the common case, at once
            self._vectors, self._control_messages = vectors[0], None
            return
        made = input_vectors(vectors)
        _check_num_vectors(num_vectors, made)
        self._vectors = _packed(made)
        self._control_messages = _receive_list(control_messages)

    @property
    def payload(self) -> bytes:
        """The ``bytes_received`` bytes received, gathered from the vectors."""
        return gather(self.vectors, self.bytes_received)

    def __repr__(self) -> str:
        return f"<Gio.InputMessage from {self.address} bytes_received={self.bytes_received}>"

def gather(vectors: Sequence[InputVector], count: int) -> bytes:
    """The first ``count`` bytes spread over ``vectors``."""
    parts = []
    for vector in vectors:
        if count <= 0:
            break
        take = min(count, vector._size)
        parts.append(memoryview(vector._contents())[:take])
        count -= take
    return b"".join(parts)


def _check_num_vectors(num_vectors: int | None, vectors: tuple[Any, ...]) -> None:
    """PyGObject code passes ``num_vectors``; here it can only agree with ``len(vectors)``."""
    if num_vectors is not None and num_vectors != len(vectors):
        raise TypeError(f"num_vectors={num_vectors} but {len(vectors)} vectors were given; pass the vectors only")


def _check_address(address: object) -> SocketAddress | None:
    if address is not None and not isinstance(address, SocketAddress):
        raise TypeError(f"address must be a Gio.SocketAddress or None, not {type(address).__name__}")
    return address
