"""Waiting for a socket condition, GLib's way (``g_socket_condition_timed_wait``).

The arithmetic is pure and kept apart (`effective_timeout_ms`) so it can be
property-tested; `poll_condition` is the one place that blocks, on ``poll()`` over the
socket and the cancellable's wake-up descriptor.
"""

from __future__ import annotations

import select
import time

from ._cancellable import Cancellable, cancelled_error
from ._enums import IOCondition, IOErrorEnum
from ._errors import Error, new_io_error

__all__ = [
    "ConditionPoller", "effective_timeout_ms", "poll_condition", "poll_now", "timed_out_error",
]

USEC_PER_SEC = 1_000_000


def timed_out_error() -> Error:
    """``TIMED_OUT`` "Socket I/O timed out"."""
    return new_io_error(IOErrorEnum.TIMED_OUT, "Socket I/O timed out")


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def effective_timeout_ms(socket_timeout_s: int, timeout_us: int) -> int:
    """The ``poll()`` timeout GLib uses for a wait of ``timeout_us`` on a socket with ``timeout``.

    The socket timeout (whole seconds) wins when it is set and the wait is infinite or
    longer in *whole seconds*; otherwise the wait is truncated to milliseconds. ``-1`` means
    wait forever; so does any other negative result (``timeout_us <= -1000``).
    """
    if socket_timeout_s and (timeout_us < 0 or socket_timeout_s < _c_div(timeout_us, USEC_PER_SEC)):
        return socket_timeout_s * 1000
    if timeout_us != -1:
        return _c_div(timeout_us, 1000)
    return -1


def poll_condition(fd: int, condition: int, timeout_ms: int, cancellable: Cancellable | None) -> int:
    """Wait until ``fd`` reports ``condition`` (or ERR/HUP/NVAL), the timeout, or a cancel.

    Returns the ``revents`` seen; raises ``TIMED_OUT`` when ``timeout_ms`` passes and
    ``CANCELLED`` when the cancellable fires. ``timeout_ms < 0`` waits forever.
    """
    poller = select.poll()
    poller.register(fd, condition)
    if cancellable is not None:
        poller.register(cancellable._wakeup_fd(), select.POLLIN)
    deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms >= 0 else None
    while True:
        events = poller.poll(timeout_ms)  # PEP 475: EINTR is retried by Python itself
        if cancellable is not None and cancellable.is_cancelled():
            raise cancelled_error()
        for event_fd, revents in events:
            if event_fd == fd:
                return revents
        if not events:
            raise timed_out_error()
        # Only a stale wake-up of a reset cancellable: wait out the rest.
        if deadline is not None:
            timeout_ms = max(0, int((deadline - time.monotonic()) * 1000))


def poll_now(fd: int, condition: int) -> IOCondition:
    """The ``revents`` of ``fd`` for ``condition`` right now (no waiting)."""
    poller = select.poll()
    poller.register(fd, condition)
    events = poller.poll(0)
    return IOCondition(events[0][1]) if events else IOCondition(0)


class ConditionPoller:
    """The waits of one socket: a ``poll()`` object per condition, registered once.

    Stream transfers wait on every short write or empty read, so the common wait (no
    cancellable) reuses its poll object instead of building one each time.
    """

    __slots__ = ("_pollers", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pollers: dict[int, select.poll] = {}

    def wait(self, condition: int, timeout_ms: int, cancellable: Cancellable | None) -> int:
        """As `poll_condition`, for this socket."""
        if cancellable is not None:
            return poll_condition(self.fd, condition, timeout_ms, cancellable)
        poller = self._pollers.get(condition)
        if poller is None:
            poller = self._pollers[condition] = select.poll()
            poller.register(self.fd, condition)
        events = poller.poll(timeout_ms)
        if not events:
            raise timed_out_error()
        return int(events[0][1])
