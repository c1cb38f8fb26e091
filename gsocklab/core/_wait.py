"""Waiting for a socket condition, GLib's way (``g_socket_condition_timed_wait``).

The arithmetic is pure and kept apart (`effective_timeout_ms`) so it can be
property-tested; `ConditionPoller.wait` is the one place that blocks, on ``poll()`` over
the socket, its close wake-up descriptor and the cancellable's.
"""

from __future__ import annotations

import select
import time

from ._cancellable import Cancellable, cancelled_error
from ._enums import IOCondition, IOErrorEnum
from ._errors import Error, new_io_error

__all__ = ["ConditionPoller", "closed_error", "effective_timeout_ms", "poll_now", "timed_out_error"]

USEC_PER_SEC = 1_000_000


def timed_out_error() -> Error:
    """``TIMED_OUT`` "Socket I/O timed out"."""
    return new_io_error(IOErrorEnum.TIMED_OUT, "Socket I/O timed out")


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _gint(value: int) -> int:
    """``value`` converted to a C ``int`` as the compiler does it (two's complement wrap)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def effective_timeout_ms(socket_timeout_s: int, timeout_us: int) -> int:
    """The ``poll()`` timeout GLib uses for a wait of ``timeout_us`` on a socket with ``timeout``.

    The socket timeout (whole seconds) wins when it is set and the wait is infinite or
    longer in *whole seconds*; otherwise the wait is truncated to milliseconds. ``-1`` means
    wait forever; so does any other negative result (``timeout_us <= -1000``).

    Huge values behave as in GLib, whose arithmetic this follows to the bit: the socket
    timeout is a ``guint`` multiplied by 1000 in unsigned 32-bit arithmetic, and the result
    reaches ``poll()`` as a C ``int``. So ``set_timeout(3_000_000)`` and a wait of ``2**62``
    µs both come out negative and wait until the condition holds, instead of raising
    ``OverflowError`` as a Python ``poll()`` would.
    """
    if socket_timeout_s and (timeout_us < 0 or socket_timeout_s < _c_div(timeout_us, USEC_PER_SEC)):
        return _gint((socket_timeout_s * 1000) & 0xFFFFFFFF)
    if timeout_us != -1:
        return _gint(_c_div(timeout_us, 1000))
    return -1


def closed_error() -> Error:
    """``CLOSED`` "Socket is already closed"."""
    return new_io_error(IOErrorEnum.CLOSED, "Socket is already closed")


def poll_now(fd: int, condition: int) -> IOCondition:
    """The ``revents`` of ``fd`` for ``condition`` right now (no waiting)."""
    poller = select.poll()
    poller.register(fd, condition)
    events = poller.poll(0)
    return IOCondition(events[0][1]) if events else IOCondition(0)


class ConditionPoller:
    """The waits of one socket: ``poll()`` on its descriptor and its close wake-up descriptor.

    ``close()`` signals ``wake_fd``, which ends every wait on the socket with ``CLOSED``. The
    common wait (no cancellable) reuses a ``poll()`` object per condition, since stream
    transfers wait on every short write or empty read; a wait takes the object out of the
    cache while it polls, so threads waiting at once never share one (``poll()`` objects
    are not thread-safe) and each builds its own instead.
    """

    __slots__ = ("_cache", "fd", "wake_fd")

    def __init__(self, fd: int, wake_fd: int) -> None:
        self.fd = fd
        self.wake_fd = wake_fd
        self._cache: dict[int, select.poll] = {}

    def _new(self, condition: int) -> select.poll:
        poller = select.poll()
        poller.register(self.fd, condition)
        poller.register(self.wake_fd, select.POLLIN)
        return poller

    def wait(self, condition: int, timeout_ms: int, cancellable: Cancellable | None) -> int:
        """Wait until the socket reports ``condition`` (or ERR/HUP/NVAL); return the ``revents``.

        Raises ``CLOSED`` when the socket is closed meanwhile, ``CANCELLED`` when the
        cancellable fires, ``TIMED_OUT`` when ``timeout_ms`` passes (< 0: never).
        """
        if cancellable is not None:
            return self._wait_cancellable(condition, timeout_ms, cancellable)
        poller = self._cache.pop(condition, None) or self._new(condition)
        try:
            events = poller.poll(timeout_ms)  # PEP 475: EINTR is retried by Python itself
        finally:
            self._cache[condition] = poller
        return self._outcome(events)

    def _outcome(self, events: list[tuple[int, int]]) -> int:
        revents = 0
        for event_fd, event in events:
            if event_fd == self.wake_fd:
                raise closed_error()
            if event_fd == self.fd:
                revents = event
        if not events:
            raise timed_out_error()
        return revents

    def _wait_cancellable(self, condition: int, timeout_ms: int, cancellable: Cancellable) -> int:
        poller = self._new(condition)
        cancel_fd = cancellable._acquire_fd()
        try:
            poller.register(cancel_fd, select.POLLIN)
            deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms >= 0 else None
            while True:
                events = poller.poll(timeout_ms)
                if cancellable.is_cancelled() and not any(fd == self.wake_fd for fd, _ in events):
                    raise cancelled_error()
                if not events or any(fd != cancel_fd for fd, _ in events):
                    return self._outcome([event for event in events if event[0] != cancel_fd])
                # Only a stale wake-up of a cancellable reset since: wait out the rest.
                if deadline is not None:
                    timeout_ms = max(0, int((deadline - time.monotonic()) * 1000))
        finally:
            cancellable._release_fd()
