"""`Bytes`: GLib's immutable ``GBytes``, as PyGObject shows it, that is also a Python ``bytes``.

PyGObject's ``GLib.Bytes`` has ``get_data()``/``get_size()`` and nothing of ``bytes``
(``len()`` and ``bytes()`` raise ``TypeError``). gsocklab's is a ``bytes`` subclass with the
same methods, so code written for PyGObject (``data.get_data()``) and code that treats the
result as bytes both work; ``==`` compares contents (PyGObject compares identity).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Bytes", "djb_hash"]


def djb_hash(data: bytes) -> int:
    """GLib's ``g_str_hash``/``g_bytes_hash``: djb2 over the bytes as signed chars, 32 bits."""
    value = 5381
    for byte in data:
        value = (value * 33 + (byte if byte < 128 else byte - 256)) & 0xFFFFFFFF
    return value


def _contents(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (Item 0: Must be number, not str)")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"data must be bytes-like or None, not {type(data).__name__}") from None


class Bytes(bytes):
    """An immutable byte sequence (``GLib.Bytes``): ``GLib.Bytes.new(data)`` or ``GLib.Bytes(data)``."""

    __slots__ = ()

    def __new__(cls, data: Any = None) -> Bytes:
        return super().__new__(cls, _contents(data))

    def __repr__(self) -> str:
        return f"GLib.Bytes({bytes(self)!r})"

    @classmethod
    def new(cls, data: Any = None) -> Bytes:
        """``g_bytes_new``: a copy of ``data`` (bytes-like; ``None`` is empty)."""
        return cls(data)

    @classmethod
    def new_take(cls, data: Any = None) -> Bytes:
        """``g_bytes_new_take``: the same as `new` in Python."""
        return cls(data)

    @classmethod
    def new_from_bytes(cls, bytes_: Bytes, offset: int, length: int) -> Bytes:
        """``g_bytes_new_from_bytes``: ``length`` bytes of ``bytes_`` from ``offset``."""
        for value, name in ((offset, "offset"), (length, "length")):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if offset < 0 or length < 0 or offset + length > len(bytes_):
            raise ValueError(f"offset {offset} and length {length} are outside the {len(bytes_)} bytes")
        return cls(bytes_[offset:offset + length])

    def get_data(self) -> bytes:
        """The contents as plain ``bytes``."""
        return bytes(self)

    def get_size(self) -> int:
        """The number of bytes."""
        return len(self)

    def equal(self, other: Bytes) -> bool:
        """Whether ``other`` holds the same bytes."""
        return bytes(self) == bytes(other)

    def compare(self, other: Bytes) -> int:
        """-1, 0 or 1, comparing the bytes as ``memcmp`` then the lengths (``g_bytes_compare``)."""
        mine, theirs = bytes(self), bytes(other)
        return (mine > theirs) - (mine < theirs)

    def hash(self) -> int:
        """``g_bytes_hash``: the 32-bit djb2 hash of the bytes (as signed chars)."""
        return djb_hash(bytes(self))

    def unref_to_data(self) -> bytes:
        """The contents as plain ``bytes``."""
        return bytes(self)

    def unref_to_array(self) -> bytearray:
        """The contents as a ``bytearray`` (a ``GByteArray``)."""
        return bytearray(self)

    def ref(self) -> Bytes:
        """Reference counting is Python's: returns itself."""
        return self

    def unref(self) -> None:
        """Reference counting is Python's: does nothing."""
