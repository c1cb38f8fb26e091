"""The tuples socket calls return, shaped like PyGObject's result tuples.

``receive()`` returns ``(count, buffer)`` whose items are also reachable by name
(``result.buffer``), as PyGObject's ``(11, buffer=b'…')`` are.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OptionResult", "ReceiveFromResult", "ReceiveMessageResult", "ReceiveResult"]


class ReceiveResult(tuple[int, Any]):
    """``(count, buffer)`` of ``receive()``; ``buffer`` holds exactly the bytes received."""

    __slots__ = ()

    @property
    def buffer(self) -> Any:
        """The received bytes (or the caller's buffer, filled)."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]}, buffer={self[1]!r})"


class ReceiveFromResult(tuple[int, Any, Any]):
    """``(count, address, buffer)`` of ``receive_from()``."""

    __slots__ = ()

    @property
    def address(self) -> Any:
        """Source address (``None`` on connection-oriented sockets)."""
        return self[1]

    @property
    def buffer(self) -> Any:
        """The received bytes."""
        return self[2]

    def __repr__(self) -> str:
        return f"({self[0]}, address={self[1]!r}, buffer={self[2]!r})"


class OptionResult(tuple[bool, int]):
    """``(True, value)`` of ``get_option()``."""

    __slots__ = ()

    @property
    def value(self) -> int:
        """The option's value."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]}, value={self[1]})"


class ReceiveMessageResult(tuple[int, Any, list[Any], int]):
    """``(count, address, messages, flags)`` of ``receive_message()``."""

    __slots__ = ()

    @property
    def address(self) -> Any:
        """Source address (``None`` on connection-oriented sockets)."""
        return self[1]

    @property
    def messages(self) -> list[Any]:
        """The control messages received."""
        return self[2]

    @property
    def flags(self) -> int:
        """The kernel's message flags (``MSG_TRUNC``, ``MSG_CTRUNC``, …)."""
        return self[3]

    def __repr__(self) -> str:
        return f"({self[0]}, address={self[1]!r}, messages={self[2]!r}, flags={self[3]:#x})"
