"""Readiness of a `Socket`: ``condition_check`` and the condition waits, as a mixin.

The waits themselves are `SocketBase._wait <gsocklab.core._socket_base.SocketBase._wait>`
(``poll()`` on the descriptor, the close wake-up and the cancellable) with GLib's
timeout arithmetic (`gsocklab.core._wait.effective_timeout_ms`). The hook the async calls
need (`_nonblocking`) lives here too.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from ._args import check_cancellable, data_arg, int_arg
from ._enums import IOCondition, PollableReturn
from ._errors import from_errno
from ._socket_base import SocketBase, in_flight
from ._wait import poll_now

if TYPE_CHECKING:
    from ._cancellable import Cancellable

__all__ = ["SocketWaitMixin"]


class SocketWaitMixin(SocketBase):
    """``condition_check``, ``condition_wait``, ``condition_timed_wait`` and the non-blocking hooks."""

    if TYPE_CHECKING:
        def _accept(self, cancellable: Cancellable | None, blocking: bool) -> SocketBase: ...
        def _send_message_with_timeout(self, address: Any, vectors: Any, messages: Any, flags: int,
                                       timeout_us: int, cancellable: Cancellable | None = None) -> Any: ...

    def condition_check(self, condition: IOCondition | int) -> IOCondition:
        """The subset of ``condition`` that holds now, plus any ``ERR``/``HUP``/``NVAL`` the OS reports.

        Never blocks. A closed or uninitialised socket reports ``0``.
        """
        return self._condition_check(int_arg(condition, "condition"))

    def _condition_check(self, condition: int) -> IOCondition:
        next(self._entered)
        try:
            if not self._usable and (self._closed or not self._inited or self._construct_error is not None):
                return IOCondition(0)
            return poll_now(self._fd, condition)
        finally:
            next(self._left)
            if self._closed:
                self._reap()

    def _wait_arguments(self, condition: object, timeout_us: object,
                        cancellable: Cancellable | None) -> tuple[int, int]:
        """The checks of every condition wait, sync or async: types, socket, cancellable."""
        condition, timeout_us = int_arg(condition, "condition"), int_arg(timeout_us, "timeout_us")
        check_cancellable(cancellable)
        self._check_socket()
        if cancellable is not None:
            cancellable.set_error_if_cancelled()
        return condition, timeout_us

    def condition_wait(
        self, condition: IOCondition | int, cancellable: Cancellable | None = None
    ) -> bool:
        """Wait until ``condition`` holds; same as ``condition_timed_wait(condition, -1, …)``.

        No socket timeout: waits until the condition holds. Socket ``timeout`` T:
        ``TIMED_OUT`` after T seconds. Cancelled: ``CANCELLED``. Closed meanwhile, from any
        thread: ``CLOSED`` (GLib keeps waiting on a closed descriptor).
        """
        return self._condition_timed_wait(condition, -1, cancellable)

    def condition_timed_wait(
        self, condition: IOCondition | int, timeout_us: int, cancellable: Cancellable | None = None
    ) -> bool:
        """Wait up to ``timeout_us`` microseconds until ``condition`` holds; return ``True``.

        Millisecond resolution (``timeout_us`` is truncated; 0..999 polls once). ``-1`` waits
        forever, as does any value whose milliseconds do not fit a C ``int`` and wrap to a
        negative number (``2**62``), as in GLib. The socket ``timeout`` applies even to
        non-blocking sockets and wins when it is shorter in whole seconds. Fails ``TIMED_OUT``
        "Socket I/O timed out" when the time passes, ``CANCELLED`` when ``cancellable`` is
        (or becomes) cancelled and ``CLOSED`` when the socket is closed meanwhile. Also
        returns ``True`` when only ``ERR`` or ``HUP`` fired: the next I/O call reports why.
        """
        return self._condition_timed_wait(condition, timeout_us, cancellable)

    @in_flight
    def _condition_timed_wait(self, condition: object, timeout_us: object, cancellable: Cancellable | None) -> bool:
        condition, timeout_us = self._wait_arguments(condition, timeout_us, cancellable)
        self._wait(condition, timeout_us, cancellable)
        return True

    # -- hooks for the sources and async mixin ----------------------------------------------

    def _nonblocking(self, name: str, *args: Any) -> Any:
        """``send_to`` or ``accept`` in non-blocking mode, whatever the socket's flag says."""
        if name == "send_to":
            address, buffer, cancellable = args
            result, sent = self._send_message_with_timeout(address, [data_arg(buffer)], None, 0, 0, cancellable)
            if result == PollableReturn.WOULD_BLOCK:
                raise from_errno(errno.EWOULDBLOCK)
            return sent
        if name == "accept":
            return self._accept(args[0], blocking=False)
        raise ValueError(f"no non-blocking form of {name!r}")
