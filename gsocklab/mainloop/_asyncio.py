"""Iterating a `MainContext` from a running asyncio event loop, so a Jupyter kernel never blocks.

A *driver* belongs to one context and one asyncio loop. Each step, in the loop's thread, it
acquires the context, dispatches what is ready (a non-blocking iteration), then asks the
context what to wait for next — its descriptors and its earliest timeout — and hands them to
the loop (``add_reader``/``add_writer``, ``call_later``) together with the context's wake-up
pipe, so that whatever happens next (data, a timer, a source attached from another thread)
schedules the next step. While another thread owns the context (a `MainLoop.run` there), the
driver waits for it and tries again. A driver stops when its loop stops or closes, or when
another loop takes the context over.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from typing import TYPE_CHECKING, Any

from ..core._enums import IOCondition

if TYPE_CHECKING:
    from ._context import MainContext

__all__ = ["Driver", "drive", "running_loop"]

_READS = IOCondition.IN | IOCondition.PRI | IOCondition.HUP | IOCondition.ERR | IOCondition.NVAL
_BUSY_RETRY = 0.02  # seconds between tries while another thread owns the context


def running_loop() -> asyncio.AbstractEventLoop | None:
    """This thread's running asyncio loop, or ``None``."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Driver:
    """Iterates ``context`` from ``loop`` (see the module doc)."""

    def __init__(self, context: MainContext, loop: asyncio.AbstractEventLoop) -> None:
        self.context = context
        self._loop_ref = weakref.ref(loop)  # weak: a loop's own context must not keep the loop alive
        self._readers: set[int] = set()
        self._writers: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._queued = False
        self._lock = threading.Lock()
        self.stopped = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The driving loop (``RuntimeError`` once it is gone)."""
        loop = self._loop_ref()
        if loop is None:
            self.stopped = True
            raise RuntimeError("the event loop driving this GLib.MainContext is gone")
        return loop

    def alive(self) -> bool:
        """Whether this driver still iterates its context."""
        loop = self._loop_ref()
        return not self.stopped and loop is not None and not loop.is_closed() and loop.is_running()

    def in_loop_thread(self) -> bool:
        """Whether this thread runs the driving loop."""
        loop = self._loop_ref()
        return loop is not None and running_loop() is loop

    def kick(self) -> None:
        """Queue a step (any thread)."""
        with self._lock:
            if self._queued or self.stopped:
                return
            self._queued = True
        try:
            loop = self.loop
            if running_loop() is loop:
                loop.call_soon(self._step)
            else:
                loop.call_soon_threadsafe(self._step)
        except RuntimeError:  # the loop closed (or went) meanwhile
            self.stopped = True

    def stop(self) -> None:
        """Stop driving; registrations are dropped in the loop's thread (or here if it is not running)."""
        self.stopped = True
        loop = self._loop_ref()
        if loop is None:
            return
        if running_loop() is loop or not loop.is_running():
            self._unregister()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._unregister)

    def refresh(self) -> None:
        """Re-register what the context waits for now, without dispatching — at once when
        called in the loop's thread or while the loop is not running (a source attached,
        destroyed or closing there takes effect before the call returns); else the wake-up
        pipe makes the loop do it."""
        loop = self._loop_ref()
        if self.stopped or loop is None or (running_loop() is not loop and loop.is_running()):
            return
        context = self.context
        if not context.acquire():
            return
        try:
            fds, timeout_ms = context._plan()
            self._watch(fds)
            self._arm(timeout_ms)
        finally:
            context.release()

    def drop(self, fd: int) -> None:
        """Stop watching ``fd`` now, from any thread: the last resort of a close that could
        not wait for the loop (a closed descriptor must not stay registered)."""
        for kind, remove in ((self._readers, self.loop.remove_reader), (self._writers, self.loop.remove_writer)):
            if fd in kind:
                kind.discard(fd)
                with contextlib.suppress(OSError, ValueError, RuntimeError):
                    remove(fd)

    def _step(self) -> None:
        with self._lock:
            self._queued = False
        context = self.context
        if self.stopped or context._driver is not self:
            self._unregister()
            return
        if not context.acquire():
            self._unregister()
            self._arm(_BUSY_RETRY * 1000)
            return
        try:
            self._watch(context._plan()[0])  # what left the context leaves the loop before any callback runs
            context.iteration(False)
            fds, timeout_ms = context._plan()
            self._watch(fds)
            self._arm(timeout_ms)
        finally:
            with context._lock:
                context._poll_round += 1
                context._owned.notify_all()
            context.release()

    def _watch(self, fds: list[tuple[int, int]]) -> None:
        reads = {fd for fd, events in fds if events & _READS}
        writes = {fd for fd, events in fds if events & IOCondition.OUT}
        for fd in self._readers - reads:
            self.loop.remove_reader(fd)
        for fd in self._writers - writes:
            self.loop.remove_writer(fd)
        for fd in reads - self._readers:
            self._add(self.loop.add_reader, fd)
        for fd in writes - self._writers:
            self._add(self.loop.add_writer, fd)
        self._readers, self._writers = reads, writes
        with self.context._lock:
            self.context._polling = bool(self._readers or self._writers)

    def _add(self, register: Any, fd: int) -> None:
        try:
            register(fd, self.kick)
        except (OSError, ValueError):  # closed under us: the next step sees the source's NVAL
            self.loop.call_soon(self.kick)

    def _arm(self, timeout_ms: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timeout_ms == 0:
            self.kick()
        elif timeout_ms > 0:
            self._timer = self.loop.call_later(timeout_ms / 1000, self.kick)

    def _unregister(self) -> None:
        for fd in self._readers:
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                self.loop.remove_reader(fd)
        for fd in self._writers:
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                self.loop.remove_writer(fd)
        self._readers, self._writers = set(), set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self.context._lock:
            self.context._polling = False
            self.context._poll_round += 1
            self.context._owned.notify_all()


def drive(context: MainContext, loop: asyncio.AbstractEventLoop, *, take_over: bool) -> Driver:
    """Have ``loop`` iterate ``context`` (see the module doc) and return its driver.

    If another loop already drives the context, it keeps it unless ``take_over`` or that loop
    has stopped or closed. Idempotent for the same loop.
    """
    with context._lock:
        current: Driver | None = context._driver
        if current is not None and current._loop_ref() is loop and not current.stopped:
            return current
        if current is not None and current.alive() and not take_over:
            return current
        driver = Driver(context, loop)
        context._driver = driver
    if current is not None:
        current.stop()
    driver.refresh()
    driver.kick()
    return driver
