"""``Gio.Cancellable``: a thread-safe cancellation flag with a pollable wake-up descriptor.

Blocking socket calls poll the socket together with the cancellable's descriptor, so a
``cancel()`` from any thread wakes them at once (GLib's ``GWakeup``; an ``eventfd`` here,
a pipe where the OS has none).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._enums import IOErrorEnum
from ._errors import Error, new_io_error
from ._gobject import Object

__all__ = ["Cancellable", "cancelled_error"]

_CANCELLED_MESSAGE = "Operation was cancelled"


def cancelled_error() -> Error:
    """The error every cancelled operation raises: ``CANCELLED`` "Operation was cancelled"."""
    return new_io_error(IOErrorEnum.CANCELLED, _CANCELLED_MESSAGE)


class _Wakeup:
    """A descriptor that is readable while signalled (eventfd, or a pipe)."""

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
        try:
            os.write(self.write_fd, (1).to_bytes(8, "little"))
        except BlockingIOError:  # already signalled as far as it can be
            pass

    def acknowledge(self) -> None:
        try:
            while os.read(self.read_fd, 64):
                if self.read_fd == self.write_fd:
                    break
        except BlockingIOError:
            pass

    def close(self) -> None:
        os.close(self.read_fd)
        if self.write_fd != self.read_fd:
            os.close(self.write_fd)


class Cancellable(Object):
    """A cancellation flag that any thread may raise (``GCancellable``).

    Pass one to a socket call; ``cancel()`` from another thread makes the call fail with
    ``CANCELLED`` "Operation was cancelled" within a poll wake-up. A cancellable that is
    already cancelled makes a call fail before it touches the OS. ``reset()`` makes it
    reusable.
    """

    __slots__ = ("_cancelled", "_fd_users", "_finalizer", "_handlers", "_lock", "_next_id", "_wakeup")
    _current = threading.local()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cancelled = False
        self._wakeup: _Wakeup | None = None
        self._fd_users = 0
        self._handlers: dict[int, tuple[Callable[..., Any], tuple[Any, ...]]] = {}
        self._next_id = 1
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @classmethod
    def new(cls) -> Cancellable:
        """A new, not cancelled, cancellable."""
        return cls()

    def __repr__(self) -> str:
        return f"<Gio.Cancellable {'cancelled' if self._cancelled else 'active'}>"

    def is_cancelled(self) -> bool:
        """Whether ``cancel()`` was called (and ``reset()`` not since)."""
        return self._cancelled

    def set_error_if_cancelled(self) -> bool:
        """Raise ``CANCELLED`` if cancelled; otherwise return ``False`` (PyGObject's shape)."""
        if self._cancelled:
            raise cancelled_error()
        return False

    def cancel(self) -> None:
        """Cancel: wake every call waiting on this cancellable and run the handlers, once.

        Thread-safe; a no-op when already cancelled. Handlers run in the calling thread.
        """
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            if self._wakeup is not None:
                self._wakeup.signal()
            handlers = list(self._handlers.values())
        for callback, data in handlers:
            callback(self, *data)

    def reset(self) -> None:
        """Make the cancellable usable again (clears the flag and the wake-up descriptor)."""
        with self._lock:
            if not self._cancelled:
                return
            self._cancelled = False
            if self._wakeup is not None:
                self._wakeup.acknowledge()

    def connect(self, callback: Callable[..., Any], *data: Any) -> int:
        """Call ``callback(cancellable, *data)`` when cancelled; return a handler id.

        If already cancelled the callback runs at once and 0 is returned, as in GLib.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        with self._lock:
            if not self._cancelled:
                handler_id = self._next_id
                self._next_id += 1
                self._handlers[handler_id] = (callback, data)
                return handler_id
        callback(self, *data)
        return 0

    def disconnect(self, handler_id: int) -> None:
        """Remove a handler added with ``connect()``; id 0 is ignored."""
        if not isinstance(handler_id, int):
            raise TypeError(f"handler_id must be an int, not {type(handler_id).__name__}")
        with self._lock:
            self._handlers.pop(handler_id, None)

    def get_fd(self) -> int:
        """A descriptor that becomes readable when cancelled; pair with ``release_fd()``."""
        with self._lock:
            self._fd_users += 1
            return self._wakeup_fd()

    def release_fd(self) -> None:
        """Release a descriptor obtained with ``get_fd()``; the last release closes it."""
        with self._lock:
            if self._fd_users == 0:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "release_fd() called more often than get_fd()")
            self._fd_users -= 1
            if self._fd_users == 0 and self._wakeup is not None and self._finalizer is not None:
                self._finalizer()
                self._wakeup = None
                self._finalizer = None

    def _wakeup_fd(self) -> int:
        """The wake-up descriptor for internal waits (kept until the cancellable dies)."""
        with self._lock:
            if self._wakeup is None:
                self._wakeup = _Wakeup()
                self._finalizer = weakref.finalize(self, self._wakeup.close)
                if self._cancelled:
                    self._wakeup.signal()
            return self._wakeup.read_fd

    # The thread-default stack (g_cancellable_push_current & co).
    def push_current(self) -> None:
        """Make this the current cancellable of this thread (``get_current()``)."""
        stack: list[Cancellable] = self._current.__dict__.setdefault("stack", [])
        stack.append(self)

    def pop_current(self) -> None:
        """Undo ``push_current()``; it must be the top of this thread's stack."""
        stack: list[Cancellable] = self._current.__dict__.setdefault("stack", [])
        if not stack or stack[-1] is not self:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "pop_current() of a cancellable that is not current")
        stack.pop()

    @classmethod
    def get_current(cls) -> Cancellable | None:
        """The cancellable on top of this thread's stack, or ``None``."""
        stack: list[Cancellable] = cls._current.__dict__.get("stack", [])
        return stack[-1] if stack else None
