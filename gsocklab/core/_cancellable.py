"""``Gio.Cancellable``: a thread-safe cancellation flag with a pollable wake-up descriptor.

Blocking socket calls poll the socket together with the cancellable's descriptor, so a
``cancel()`` from any thread wakes them at once (GLib's ``GWakeup``; an ``eventfd`` here,
a pipe where the OS has none). As in GLib the descriptor is reference-counted: every
``get_fd()`` and every wait holds it, and the last release closes it, so a caller's
``release_fd()`` never closes it under a waiting call. It is never closed at interpreter
exit by a finalizer (a later ``cancel()`` would write into whatever file reused the number).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._enums import IOErrorEnum
from ._errors import Error, new_io_error
from ._gobject import Object
from ._wakeup import Wakeup

__all__ = ["Cancellable", "cancelled_error"]

_CANCELLED_MESSAGE = "Operation was cancelled"


def cancelled_error() -> Error:
    """The error every cancelled operation raises: ``CANCELLED`` "Operation was cancelled"."""
    return new_io_error(IOErrorEnum.CANCELLED, _CANCELLED_MESSAGE)


class Cancellable(Object):
    """A cancellation flag that any thread may raise (``GCancellable``).

    Pass one to a socket call; ``cancel()`` from another thread makes the call fail with
    ``CANCELLED`` "Operation was cancelled" within a poll wake-up. A cancellable that is
    already cancelled makes a call fail before it touches the OS. ``reset()`` makes it
    reusable.
    """

    __slots__ = ("_cancelled", "_fd_handouts", "_fd_users", "_finalizer", "_handlers", "_lock", "_next_id", "_wakeup")
    _current = threading.local()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cancelled = False
        self._wakeup: Wakeup | None = None
        self._fd_users = 0  # get_fd() handouts and waits holding the wake-up descriptor
        self._fd_handouts = 0  # get_fd() calls not yet released
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
            self._fd_handouts += 1
            return self._acquire_fd()

    def release_fd(self) -> None:
        """Release a descriptor obtained with ``get_fd()``; the last user closes it.

        Calls waiting on this cancellable hold the descriptor too, so releasing it here never
        stops a later ``cancel()`` from waking them.
        """
        with self._lock:
            if self._fd_handouts == 0:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "release_fd() called more often than get_fd()")
            self._fd_handouts -= 1
            self._release_fd()

    def _acquire_fd(self) -> int:
        """The wake-up descriptor, held until `_release_fd` (``g_cancellable_make_pollfd``)."""
        with self._lock:
            if self._wakeup is None:
                wakeup = self._wakeup = Wakeup()
                # Closes a descriptor leaked by a get_fd() without release_fd() when the
                # cancellable is collected; never at interpreter exit (see the module doc).
                self._finalizer = weakref.finalize(self, wakeup.close)
                self._finalizer.atexit = False
                if self._cancelled:
                    wakeup.signal()
            self._fd_users += 1
            return self._wakeup.read_fd

    def _release_fd(self) -> None:
        """Drop one hold on the wake-up descriptor; the last one closes it."""
        with self._lock:
            self._fd_users -= 1
            if self._fd_users == 0 and self._wakeup is not None:
                if self._finalizer is not None:
                    self._finalizer()  # closes the descriptors, once
                self._wakeup = self._finalizer = None

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
