"""`MainLoop`, timeout and idle sources, and the module functions PyGObject programs call
(``GLib.timeout_add``, ``idle_add``, ``source_remove``, …), with GLib's rules:

* a timeout's first expiry is its creation time plus the interval; after a dispatch that
  keeps it, the next is the dispatching iteration's time plus the interval (so a slow
  callback delays, but does not pile up, later calls);
* second timeouts (``timeout_add_seconds``) expire on whole seconds shifted by a per-session
  perturbation, as ``g_timeout_set_expiration`` rounds them, so that timers of a session wake
  together;
* idle sources are always ready, at `PRIORITY_DEFAULT_IDLE` unless told otherwise.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from ..core._bytes import djb_hash
from ._context import MainContext
from ._source import PRIORITY_DEFAULT, PRIORITY_DEFAULT_IDLE, SOURCE_REMOVE, Source, monotonic_us

__all__ = [
    "GLibWarning", "Idle", "MainLoop", "Timeout", "get_monotonic_time", "get_real_time", "idle_add", "idle_source_new",
    "source_remove", "timeout_add", "timeout_add_seconds", "timeout_source_new", "timeout_source_new_seconds",
]


def _timer_perturb() -> int:
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    return djb_hash(address.encode()) % 1_000_000 if address else 0


_PERTURB = _timer_perturb()


class MainLoop:
    """A ``GMainLoop``: `run` iterates its context until `quit`."""

    def __init__(self, context: MainContext | None = None) -> None:
        if context is not None and not isinstance(context, MainContext):
            raise TypeError(f"context must be a GLib.MainContext or None, not {type(context).__name__}")
        self._context = context if context is not None else MainContext.default()
        self._running = False

    def __repr__(self) -> str:
        return f"<GLib.MainLoop {'running' if self._running else 'stopped'}>"

    @classmethod
    def new(cls, context: MainContext | None, is_running: bool) -> MainLoop:
        """``g_main_loop_new``: a loop on ``context`` (``None``: the default one)."""
        loop = cls(context)
        loop._running = bool(is_running)
        return loop

    def run(self) -> None:
        """Iterate the context until `quit` (from a callback or another thread). Waits first
        while another thread owns the context. Nests: a callback may run another loop."""
        context = self._context
        context._acquire_waiting()
        self._running = True
        try:
            while self._running:
                context.iteration(True)
        finally:
            self._running = False
            context.release()

    def quit(self) -> None:
        """Make `run` return after the current dispatch (any thread)."""
        self._running = False
        self._context.wakeup()

    def is_running(self) -> bool:
        """Whether `run` is running (and `quit` was not called)."""
        return self._running

    def get_context(self) -> MainContext:
        """The loop's context."""
        return self._context


class Timeout(Source):
    """A timeout source: ready every ``interval`` milliseconds (``GLib.Timeout(interval, priority)``)."""

    def __init__(self, interval: int = 0, priority: int = PRIORITY_DEFAULT, *, seconds: bool = False) -> None:
        super().__init__()
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise TypeError(f"interval must be an int, not {type(interval).__name__}")
        if interval < 0:
            raise OverflowError(f"interval must be 0 or more, not {interval}")
        self._interval_us = interval * (1_000_000 if seconds else 1000)
        self._seconds = seconds
        self._priority = priority
        self._expire(monotonic_us())

    def _expire(self, now: int) -> None:
        expiration = now + self._interval_us
        if self._seconds:
            expiration -= _PERTURB
            remainder = expiration % 1_000_000
            if remainder >= 1_000_000 // 4:
                expiration += 1_000_000
            expiration -= remainder
            expiration += _PERTURB
        self._ready_time = expiration

    def dispatch(self, callback: Callable[..., Any] | None, args: tuple[Any, ...]) -> bool:
        """Call the callback; if kept, the next expiry is this iteration's time plus the interval."""
        if callback is None:
            return SOURCE_REMOVE
        keep = bool(callback(*args))
        if keep:
            self._expire(self.get_time())
        return keep


class Idle(Source):
    """An idle source: ready whenever the context has nothing better to do (``GLib.Idle(priority)``)."""

    def __init__(self, priority: int = PRIORITY_DEFAULT) -> None:
        super().__init__()
        # PyGObject's GLib.Idle keeps the idle priority unless told another than DEFAULT: GLib.Idle() and
        # GLib.Idle(GLib.PRIORITY_DEFAULT) both run at PRIORITY_DEFAULT_IDLE.
        self._priority = PRIORITY_DEFAULT_IDLE if priority == PRIORITY_DEFAULT else priority
        self._name = "GIdleSource"

    def prepare(self) -> tuple[bool, int]:
        """Always ready."""
        return True, 0


def timeout_source_new(interval: int) -> Timeout:
    """A timeout source of ``interval`` milliseconds, not attached."""
    return Timeout(interval)


def timeout_source_new_seconds(interval: int) -> Timeout:
    """A timeout source of ``interval`` seconds (whole-second expiries), not attached."""
    return Timeout(interval, seconds=True)


def idle_source_new() -> Idle:
    """An idle source (priority `PRIORITY_DEFAULT_IDLE`), not attached."""
    return Idle()


def _add(source: Source, function: Callable[..., Any], user_data: tuple[Any, ...]) -> int:
    source._set_callback(function, user_data)
    return source.attach(MainContext.default())


def timeout_add(interval: int, function: Callable[..., Any], *user_data: Any,
                priority: int = PRIORITY_DEFAULT) -> int:
    """Call ``function(*user_data)`` every ``interval`` ms on the default context while it
    returns true; the source's id."""
    return _add(Timeout(interval, priority), function, user_data)


def timeout_add_seconds(interval: int, function: Callable[..., Any], *user_data: Any,
                        priority: int = PRIORITY_DEFAULT) -> int:
    """Call ``function(*user_data)`` every ``interval`` seconds (whole-second expiries)."""
    return _add(Timeout(interval, priority, seconds=True), function, user_data)


def idle_add(function: Callable[..., Any], *user_data: Any, priority: int = PRIORITY_DEFAULT_IDLE) -> int:
    """Call ``function(*user_data)`` whenever the default context is idle, while it returns true."""
    idle = Idle()
    idle.set_priority(priority)
    return _add(idle, function, user_data)


def source_remove(tag: int) -> bool:
    """Destroy the default context's source with id ``tag``; ``False`` (and a warning, where
    GLib logs a CRITICAL) if there is none."""
    source = MainContext.default().find_source_by_id(tag)
    if source is None:
        warnings.warn(f"Source ID {tag} was not found when attempting to remove it", GLibWarning, stacklevel=2)
        return False
    source.destroy()
    return True


class GLibWarning(Warning):
    """``GLib.Warning``: what GLib logs as a warning or CRITICAL, as PyGObject turns it into a Python warning."""


GLibWarning.__name__ = GLibWarning.__qualname__ = "Warning"


def get_monotonic_time() -> int:
    """``g_get_monotonic_time()``: monotonic microseconds."""
    return monotonic_us()


def get_real_time() -> int:
    """``g_get_real_time()``: wall-clock microseconds since the epoch."""
    return time.time_ns() // 1000
