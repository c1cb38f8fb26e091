"""`Source`: GLib's ``GSource`` — something a `MainContext` polls, checks and dispatches.

A source is ready when its `prepare` or `check` says so, when its ready time (monotonic
microseconds, ``-1`` for none) has come, or when one of its file descriptors shows an event it
asked for. Subclasses override `prepare`/`check`/`dispatch` as PyGObject's custom sources do:
``prepare()`` returns ``(ready, timeout_ms)``, ``check()`` a bool, ``dispatch(callback, args)``
whether to keep the source. Its callback's result decides the same: true keeps it
(``SOURCE_CONTINUE``), false or ``None`` removes it (``SOURCE_REMOVE``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..core._enums import IOCondition

if TYPE_CHECKING:
    from ._context import MainContext

__all__ = [
    "PRIORITY_DEFAULT", "PRIORITY_DEFAULT_IDLE", "PRIORITY_HIGH", "PRIORITY_HIGH_IDLE", "PRIORITY_LOW",
    "SOURCE_CONTINUE", "SOURCE_REMOVE", "PollFD", "Source", "monotonic_us",
]

PRIORITY_HIGH: Final = -100
PRIORITY_DEFAULT: Final = 0
PRIORITY_HIGH_IDLE: Final = 100
PRIORITY_DEFAULT_IDLE: Final = 200
PRIORITY_LOW: Final = 300
SOURCE_CONTINUE: Final = True
SOURCE_REMOVE: Final = False


def monotonic_us() -> int:
    """``g_get_monotonic_time()``: monotonic microseconds."""
    return time.monotonic_ns() // 1000


class PollFD:
    """A descriptor a source polls (``GPollFD``): ``fd``, the ``events`` it waits for and the
    ``revents`` the last poll found (`IOCondition` bits)."""

    __slots__ = ("events", "fd", "revents")

    def __init__(self, fd: int, events: IOCondition | int) -> None:
        self.fd, self.events, self.revents = int(fd), int(events), 0

    def __repr__(self) -> str:
        return f"<PollFD fd={self.fd} events={self.events:#x} revents={self.revents:#x}>"


class Source:
    """A ``GSource``. Attach it to a context (`attach`), give it a callback (`set_callback`);
    the context calls ``dispatch`` when it is ready, in the thread iterating the context.

    Every method may be called from any thread; `destroy` from another thread wakes the
    context, and a source destroyed while others dispatch in the same iteration is not
    dispatched.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._context: MainContext | None = None
        self._id = 0
        self._priority = PRIORITY_DEFAULT
        self._destroyed = False
        self._callback: Callable[..., Any] | None = None
        self._user_data: tuple[Any, ...] = ()
        self._name: str | None = None
        self._ready_time = -1
        self._can_recurse = False
        self._in_call = 0
        self._fds: list[PollFD] = []

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else f"id={self._id}" if self._id else "unattached"
        return f"<{type(self).__name__} {self._name or ''} {state} priority={self._priority}>".replace("  ", " ")

    # -- what subclasses override ---------------------------------------------------------

    def prepare(self) -> tuple[bool, int]:
        """Before polling: ``(ready, timeout_ms)``; ``-1`` means no timeout of its own."""
        return False, -1

    def check(self) -> bool:
        """After polling: whether the source is ready (its fds' ``revents`` are set)."""
        return any(fd.revents & fd.events for fd in self._fds)

    def dispatch(self, callback: Callable[..., Any] | None, args: tuple[Any, ...]) -> bool:
        """Call ``callback(*args)``; its result says whether to keep the source."""
        if callback is None:
            return SOURCE_REMOVE
        return bool(callback(*args))

    def finalize(self) -> None:
        """Called once when the source is destroyed."""

    # -- public ---------------------------------------------------------------------------

    def attach(self, context: Any = None) -> int:
        """Attach to ``context`` (``None``: the global default context) and return the source's
        id, unique in that context. Attaching twice or after `destroy` raises ``RuntimeError``
        (GLib logs a CRITICAL)."""
        from ._context import context_for

        target = context_for(context)
        with self._lock:
            if self._destroyed:
                raise RuntimeError("GLib.Source.attach: the source is destroyed")
            if self._context is not None:
                raise RuntimeError("GLib.Source.attach: the source is already attached to a context")
            self._context = target
        self._id = target._add(self)
        self._attached()
        return self._id

    def destroy(self) -> None:
        """Remove the source from its context for good (idempotent; any thread)."""
        with self._lock:
            if self._destroyed:
                return
            self._destroyed = True
            context = self._context
        if context is not None:
            context._remove(self)
        self._detached()
        self.finalize()

    def is_destroyed(self) -> bool:
        """Whether `destroy` was called (or the callback removed the source)."""
        return self._destroyed

    def set_callback(self, callback: Callable[..., Any], user_data: Any = None) -> None:
        """Call ``callback(user_data)`` on dispatch — one argument, ``None`` if none was given,
        as PyGObject calls a source's callback (``def on_ready(self, data=None)`` fits)."""
        self._set_callback(callback, (user_data,))

    def _set_callback(self, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        self._callback, self._user_data = callback, args

    def get_id(self) -> int:
        """The id `attach` returned (0 before)."""
        return self._id

    def get_context(self) -> MainContext | None:
        """The context the source is attached to, or ``None``."""
        return self._context

    def get_priority(self) -> int:
        """The priority: lower runs first (`PRIORITY_DEFAULT` 0)."""
        return self._priority

    def set_priority(self, priority: int) -> None:
        """Change the priority (effective from the context's next iteration)."""
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise TypeError(f"priority must be an int, not {type(priority).__name__}")
        self._priority = priority
        if self._context is not None:
            self._context._reorder(self)

    priority = property(get_priority, set_priority)

    def get_can_recurse(self) -> bool:
        """Whether the source may be dispatched again while its callback runs (nested loops)."""
        return self._can_recurse

    def set_can_recurse(self, can_recurse: bool) -> None:
        """Let the source be dispatched from a nested loop while its callback runs."""
        self._can_recurse = bool(can_recurse)

    can_recurse = property(get_can_recurse, set_can_recurse)

    def get_name(self) -> str | None:
        """The name given with `set_name`, or ``None``."""
        return self._name

    def set_name(self, name: str | None) -> None:
        """A name for debugging."""
        self._name = name

    def get_ready_time(self) -> int:
        """When the source becomes ready, in monotonic microseconds; ``-1`` for never."""
        return self._ready_time

    def set_ready_time(self, ready_time: int) -> None:
        """Become ready at ``ready_time`` (monotonic µs; 0 at once; -1 never); any thread."""
        self._ready_time = int(ready_time)
        if self._context is not None:
            self._context.wakeup()

    def get_time(self) -> int:
        """The context's cached time of the current iteration (monotonic µs)."""
        return self._context._time if self._context is not None else monotonic_us()

    def add_unix_fd(self, fd: int, events: IOCondition | int) -> PollFD:
        """Also poll ``fd`` for ``events``; returns the tag for `remove_unix_fd`/`query_unix_fd`."""
        poll_fd = PollFD(fd, events)
        self._fds.append(poll_fd)
        if self._context is not None:
            self._context.wakeup()
        return poll_fd

    def remove_unix_fd(self, tag: PollFD) -> None:
        """Stop polling the descriptor of ``tag``."""
        self._fds.remove(tag)
        if self._context is not None:
            self._context.wakeup()

    def query_unix_fd(self, tag: PollFD) -> IOCondition:
        """The events the last poll found on ``tag``'s descriptor."""
        return IOCondition(tag.revents)

    # -- hooks for gsocklab's own sources -------------------------------------------------

    def _attached(self) -> None:
        """Called after `attach`, outside the context's lock."""

    def _detached(self) -> None:
        """Called once after `destroy`, outside the context's lock."""

    def _blocked(self) -> bool:
        return self._in_call > 0 and not self._can_recurse
