"""Waiting on a `Socket`: the checks before every call, GLib's blocking emulation and
readiness checks, as a mixin.

Nothing here touches the socket itself: waits go through the socket's
`gsocklab._wait.ConditionPoller` (``poll()`` on its descriptor and the cancellable's),
and the timeout arithmetic is `gsocklab._wait.effective_timeout_ms`. The hooks the
sources and async calls need (`_mark_timed_out`, `_nonblocking`) live here too.
"""

from __future__ import annotations

import errno
import time
from typing import TYPE_CHECKING, Any

from ._args import check_cancellable, data_arg, int_arg
from ._enums import IOCondition, IOErrorEnum, PollableReturn
from ._errors import from_errno, new_io_error
from ._gobject import Object
from ._wait import ConditionPoller, effective_timeout_ms, poll_now, timed_out_error

if TYPE_CHECKING:
    from ._cancellable import Cancellable
    from ._errors import Error
    from ._socket import Socket

__all__ = ["SocketWaitMixin"]


class SocketWaitMixin(Object):
    """``condition_check``, ``condition_wait``, ``condition_timed_wait`` and the waits of every call."""

    if TYPE_CHECKING:
        _fd: int
        _timeout: int
        _usable: bool
        _closed: bool
        _inited: bool
        _timed_out: bool
        _construct_error: Error | None
        _poller: ConditionPoller | None
        _waited: float
        _last_revents: int

        _sock: Any

        def _accept(self, cancellable: Cancellable | None, blocking: bool) -> Socket: ...
        def send_message_with_timeout(self, address: Any, vectors: Any, messages: Any, flags: int,
                                      timeout_us: int, cancellable: Cancellable | None = None) -> Any: ...

    # -- checks ---------------------------------------------------------------------------

    def _check_socket(self) -> Any:
        """GLib's ``check_socket``: initialised, constructed and open; returns the OS socket."""
        if not self._inited:
            raise new_io_error(IOErrorEnum.NOT_INITIALIZED, "Invalid socket, not initialized")
        if self._construct_error is not None:
            raise new_io_error(
                IOErrorEnum.NOT_INITIALIZED,
                f"Invalid socket, initialization failed due to: {self._construct_error.message}")
        if self._closed or self._sock is None:
            raise new_io_error(IOErrorEnum.CLOSED, "Socket is already closed")
        return self._sock

    def _check_io(self, cancellable: Cancellable | None) -> None:
        """The checks before every I/O call: socket, pending source timeout, cancellable."""
        self._check_socket()
        if self._timed_out:
            self._timed_out = False
            self._usable = True
            raise timed_out_error()
        if cancellable is not None:
            check_cancellable(cancellable)
            cancellable.set_error_if_cancelled()

    # -- waiting --------------------------------------------------------------------------

    def _wait(self, condition: int, timeout_us: int, cancellable: Cancellable | None) -> int:
        """``condition_timed_wait`` without the checks: returns the ``revents`` seen."""
        poller = self._poller
        if poller is None:  # closed by another thread while this one waited
            raise new_io_error(IOErrorEnum.CLOSED, "Socket is already closed")
        start = time.monotonic()
        try:
            self._last_revents = poller.wait(condition, effective_timeout_ms(self._timeout, timeout_us), cancellable)
        finally:
            self._waited += time.monotonic() - start  # what observers report as "waited"
        return self._last_revents

    def _block(self, condition: int, timeout_us: int, start: float, cancellable: Cancellable | None) -> None:
        """GLib's ``block_on_timeout``: wait for ``condition`` within the call's deadline.

        ``timeout_us == 0`` means non-blocking: ``WOULD_BLOCK``. A positive ``timeout_us`` is a
        deadline for the whole call, measured from ``start``; negative waits as long as the
        socket timeout allows.
        """
        if timeout_us == 0:
            raise from_errno(errno.EWOULDBLOCK)
        if timeout_us > 0:
            left = timeout_us - int((time.monotonic() - start) * 1_000_000)
            if left <= 0:
                raise timed_out_error()
            self._wait(condition, left, cancellable)
        else:
            self._wait(condition, -1, cancellable)

    def condition_check(self, condition: IOCondition | int) -> IOCondition:
        """The subset of ``condition`` that holds now, plus any ``ERR``/``HUP``/``NVAL`` the OS reports.

        Never blocks. A closed or uninitialised socket reports ``0``.
        """
        condition = int_arg(condition, "condition")
        if not self._usable and (self._closed or not self._inited or self._construct_error is not None):
            return IOCondition(0)
        return poll_now(self._fd, condition)

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
        """Wait until ``condition`` holds; same as ``condition_timed_wait(condition, -1, …)``."""
        return self.condition_timed_wait(condition, -1, cancellable)

    def condition_timed_wait(
        self, condition: IOCondition | int, timeout_us: int, cancellable: Cancellable | None = None
    ) -> bool:
        """Wait up to ``timeout_us`` microseconds until ``condition`` holds; return ``True``.

        Millisecond resolution (``timeout_us`` is truncated; 0..999 polls once). ``-1`` waits
        forever. The socket ``timeout`` applies even to non-blocking sockets and wins when
        it is shorter in whole seconds. Fails ``TIMED_OUT`` "Socket I/O timed out" when the
        time passes and ``CANCELLED`` when ``cancellable`` is (or becomes) cancelled. Also
        returns ``True`` when only ``ERR`` or ``HUP`` fired: the next I/O call reports why.
        """
        condition, timeout_us = self._wait_arguments(condition, timeout_us, cancellable)
        self._wait(condition, timeout_us, cancellable)
        return True

    # -- hooks for the sources and async mixin ----------------------------------------------

    def _mark_timed_out(self) -> None:
        """A source's ready time passed: the next I/O call fails once with ``TIMED_OUT``."""
        self._timed_out = True
        self._usable = False

    def _nonblocking(self, name: str, *args: Any) -> Any:
        """``send_to`` or ``accept`` in non-blocking mode, whatever the socket's flag says."""
        if name == "send_to":
            address, buffer, cancellable = args
            result, sent = self.send_message_with_timeout(address, [data_arg(buffer)], None, 0, 0, cancellable)
            if result == PollableReturn.WOULD_BLOCK:
                raise from_errno(errno.EWOULDBLOCK)
            return sent
        if name == "accept":
            return self._accept(args[0], blocking=False)
        raise ValueError(f"no non-blocking form of {name!r}")

