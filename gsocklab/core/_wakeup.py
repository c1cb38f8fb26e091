"""A descriptor that is readable while signalled (GLib's ``GWakeup``): an eventfd, or a pipe.

Used by `gsocklab.core._cancellable.Cancellable` (a ``cancel()`` wakes the calls waiting on
it) and by every socket (a ``close()`` wakes the calls waiting on it). `Wakeup.close` marks
the object closed before it closes the descriptors, so a late `Wakeup.signal` is a no-op
instead of a write into whatever file reused the number; callers serialise the two with a
lock of their own.
"""

from __future__ import annotations

import os

__all__ = ["Wakeup"]

_ONE = (1).to_bytes(8, "little")


class Wakeup:
    """An eventfd (or a pipe where the OS has none), non-blocking and close-on-exec."""

    __slots__ = ("read_fd", "write_fd")

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            self.read_fd = self.write_fd = fd
        else:  # pragma: no cover - platforms without eventfd
            self.read_fd, self.write_fd = os.pipe()
            for end in (self.read_fd, self.write_fd):
                os.set_blocking(end, False)

    def signal(self) -> None:
        """Make the descriptor readable (no-op once closed)."""
        if self.write_fd < 0:
            return
        try:
            os.write(self.write_fd, _ONE)
        except BlockingIOError:  # already signalled as far as it can be
            pass

    def acknowledge(self) -> None:
        """Make the descriptor unreadable again."""
        if self.read_fd < 0:
            return
        try:
            while os.read(self.read_fd, 64):
                if self.read_fd == self.write_fd:
                    break
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Close the descriptors; idempotent, and later calls to the other methods do nothing."""
        read_fd, write_fd = self.read_fd, self.write_fd
        self.read_fd = self.write_fd = -1
        for fd in {read_fd, write_fd}:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
