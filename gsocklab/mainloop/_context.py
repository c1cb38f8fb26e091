"""`MainContext`: GLib's ``GMainContext`` in Python — the sources of a loop, and one iteration.

One iteration, as ``g_main_context_iteration`` does it: **prepare** every source in priority
order (lower numbers first; equal priorities in the order they were attached) until one is
ready, noting the priority of the first ready one and the earliest timeout; **poll** the
descriptors of the sources of that priority or better (without blocking if one is ready);
**check** them in the same order, stopping after the priority of the first ready one; then
**dispatch** the ready ones in that order. A source destroyed meanwhile is skipped, and a
source whose callback is running is not dispatched again (nor prepared or polled) from a
nested loop unless it `can_recurse`.

A context is iterated by one thread at a time: its *owner* (`acquire`). Sources may be
attached and destroyed from any thread; each change wakes a blocked poll through the
context's wake-up pipe. Times are monotonic microseconds, cached per iteration.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import weakref
from typing import Any

from ..core._enums import IOCondition
from ._source import Source, monotonic_us

__all__ = ["MainContext", "context_for", "main_context_default"]

_POLL_OF = {IOCondition.IN: select.POLLIN, IOCondition.OUT: select.POLLOUT, IOCondition.PRI: select.POLLPRI,
            IOCondition.ERR: select.POLLERR, IOCondition.HUP: select.POLLHUP, IOCondition.NVAL: select.POLLNVAL}


def _poll_events(condition: int) -> int:
    return sum(bit for flag, bit in _POLL_OF.items() if condition & flag)


def _condition_of(revents: int) -> int:
    return sum(int(flag) for flag, bit in _POLL_OF.items() if revents & bit)


class MainContext:
    """A ``GMainContext``: ``MainContext()``/`new` for a private one, `default` for the global
    one, `get_thread_default`/`push_thread_default` for the thread's."""

    _default: MainContext | None = None
    _default_lock = threading.Lock()
    _thread_stacks = threading.local()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owned = threading.Condition(self._lock)
        self._owner: int | None = None
        self._owner_depth = 0
        self._sources: list[Source] = []  # priority order; equal priorities in attach order
        self._by_id: dict[int, Source] = {}
        self._next_id = 1
        self._time = monotonic_us()
        self._pipe: list[int] = []  # [read, write]: made by the first blocking poll
        self._woken = False
        self._polling = False
        self._poll_round = 0
        self._driver: Any = None  # the asyncio loop driving this context, if any
        weakref.finalize(self, _close_pipe, self._pipe)

    def __repr__(self) -> str:
        kind = "default" if self is MainContext._default else "context"
        return f"<GLib.MainContext {kind} sources={len(self._sources)}>"

    # -- making and finding contexts ------------------------------------------------------

    @classmethod
    def new(cls) -> MainContext:
        """A new private context."""
        return cls()

    @classmethod
    def default(cls) -> MainContext:
        """The global default context (``g_main_context_default``)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @classmethod
    def _stack(cls) -> list[MainContext]:
        stack: list[MainContext] | None = getattr(cls._thread_stacks, "stack", None)
        if stack is None:
            stack = cls._thread_stacks.stack = []
        return stack

    @classmethod
    def get_thread_default(cls) -> MainContext | None:
        """The context pushed last in this thread, or ``None`` (meaning the global default —
        also when the global default itself was pushed, as in GLib)."""
        stack = cls._stack()
        top = stack[-1] if stack else None
        return None if top is cls._default else top

    @classmethod
    def ref_thread_default(cls) -> MainContext:
        """The thread-default context, or the global default if none (or it) was pushed."""
        return cls.get_thread_default() or cls.default()

    def push_thread_default(self) -> None:
        """Make this the thread-default context until `pop_thread_default` (nests)."""
        self.acquire()
        MainContext._stack().append(self)

    def pop_thread_default(self) -> None:
        """Undo the last `push_thread_default` of this context in this thread."""
        stack = MainContext._stack()
        if not stack or stack[-1] is not self:
            raise RuntimeError("GLib.MainContext.pop_thread_default: this context is not the thread default")
        stack.pop()
        self.release()

    # -- ownership ------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Become the context's owner, if no other thread is; nests. Whether it worked."""
        me = threading.get_ident()
        with self._lock:
            if self._owner is None or self._owner == me:
                self._owner, self._owner_depth = me, self._owner_depth + 1
                return True
            return False

    def release(self) -> None:
        """Undo one `acquire`."""
        with self._lock:
            if self._owner != threading.get_ident():
                raise RuntimeError("GLib.MainContext.release: this thread does not own the context")
            self._owner_depth -= 1
            if not self._owner_depth:
                self._owner = None
                self._owned.notify_all()

    def is_owner(self) -> bool:
        """Whether this thread owns the context."""
        return self._owner == threading.get_ident()

    def _acquire_waiting(self) -> None:
        """`acquire`, waiting while another thread owns the context."""
        with self._lock:
            while not self.acquire():
                self._owned.wait()

    # -- sources --------------------------------------------------------------------------

    def _add(self, source: Source) -> int:
        with self._lock:
            source_id = self._next_id
            self._next_id += 1
            source._id = source_id  # before the source is visible: a dispatch may destroy it at once
            self._by_id[source_id] = source
            self._insert(source)
        self._changed()
        return source_id

    def _insert(self, source: Source) -> None:
        position = len(self._sources)
        while position and self._sources[position - 1]._priority > source._priority:
            position -= 1
        self._sources.insert(position, source)

    def _remove(self, source: Source) -> None:
        with self._lock:
            if self._by_id.get(source._id) is source:
                del self._by_id[source._id]
            with contextlib.suppress(ValueError):
                self._sources.remove(source)
        self._changed()

    def _reorder(self, source: Source) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)
                self._insert(source)
        self._changed()

    def _changed(self) -> None:
        """The sources changed: as GLib, wake the context only if another thread owns it (it may
        be polling); bring a driving asyncio loop up to date."""
        owner = self._owner
        if owner is not None and owner != threading.get_ident():
            self.wakeup()
        elif self._driver is not None:
            self._driver.kick()
        self._refresh_driver()

    def find_source_by_id(self, source_id: int) -> Source | None:
        """The attached source with this id, or ``None``."""
        with self._lock:
            return self._by_id.get(source_id)

    def wakeup(self) -> None:
        """Make a blocked poll of this context return, and a driving asyncio loop step (any thread)."""
        driver = self._driver
        if driver is not None:
            driver.kick()
        with self._lock:
            if self._woken:
                return
            self._woken = True  # a poll about to start sees this; one under way gets the byte
            if not self._pipe:
                return
            write_fd = self._pipe[1]
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(write_fd, b"\0")

    def _wakeup_fd(self) -> int:
        """The read end of the wake-up pipe, made on first use."""
        with self._lock:
            if not self._pipe:
                self._pipe.extend(os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
            return self._pipe[0]

    def _drain_wakeups(self) -> None:
        """Forget the wake-ups so far (after a poll, which they ended)."""
        with self._lock:
            self._woken = False
            if not self._pipe:
                return
            read_fd = self._pipe[0]
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(read_fd, 512):
                pass

    # -- iterating ------------------------------------------------------------------------

    def pending(self) -> bool:
        """Whether a source is ready now (prepare and a non-blocking check; nothing dispatched)."""
        if not self.acquire():
            return False
        try:
            return bool(self._collect(block=False))
        finally:
            self.release()

    def iteration(self, may_block: bool = True) -> bool:
        """Run one iteration: wait for a ready source if ``may_block``, dispatch the ready ones
        of the best priority. Whether any was dispatched. A thread that does not own the
        context waits for it if ``may_block``, else returns ``False``."""
        if may_block:
            self._acquire_waiting()
        elif not self.acquire():
            return False
        try:
            ready = self._collect(block=bool(may_block))
            self._dispatch(ready)
            return bool(ready)
        finally:
            self.release()

    def _prepare(self) -> tuple[list[Source], set[int], int]:
        """Prepare the sources: those to poll, the ids of the ready ones, and the timeout
        (ms; -1 none; 0 when one is ready)."""
        self._time = now = monotonic_us()
        with self._lock:
            sources = [s for s in self._sources if not s._destroyed and not s._blocked()]
        ready: set[int] = set()
        best: int | None = None
        timeout_ms = -1
        for source in sources:
            if best is not None and source._priority > best:
                break
            is_ready, wait_ms = source.prepare()
            if source._ready_time >= 0:
                if source._ready_time <= now:
                    is_ready = True
                else:
                    until = -(-(source._ready_time - now) // 1000)
                    wait_ms = until if wait_ms < 0 else min(wait_ms, until)
            if is_ready:
                ready.add(id(source))
                best = source._priority if best is None else best
            elif wait_ms >= 0:
                timeout_ms = wait_ms if timeout_ms < 0 else min(timeout_ms, wait_ms)
        polled = [s for s in sources if best is None or s._priority <= best]
        return polled, ready, 0 if ready else timeout_ms

    def _plan(self) -> tuple[list[tuple[int, int]], int]:
        """What the next iteration waits for: ``(fd, IOCondition events)`` pairs and a timeout (ms)."""
        polled, _, timeout_ms = self._prepare()
        return [(poll_fd.fd, poll_fd.events) for source in polled for poll_fd in source._fds], timeout_ms

    def _collect(self, block: bool) -> list[Source]:
        """Prepare, poll and check: the sources to dispatch, in order."""
        polled, ready, timeout_ms = self._prepare()
        self._poll(polled, timeout_ms if block else 0)
        self._time = now = monotonic_us()
        due: list[Source] = []
        best: int | None = None
        for source in polled:
            if best is not None and source._priority > best:
                break
            if source._destroyed:
                continue
            if (id(source) in ready or source.check()
                    or (source._ready_time >= 0 and source._ready_time <= now)):
                due.append(source)
                best = source._priority if best is None else best
        return due

    def _poll(self, sources: list[Source], timeout_ms: int) -> None:
        poller = select.poll()
        wakeup_fd = self._wakeup_fd() if timeout_ms != 0 or self._pipe else -1
        if wakeup_fd >= 0:
            poller.register(wakeup_fd, select.POLLIN)
        watched: dict[int, list[Any]] = {}
        for source in sources:
            for poll_fd in source._fds:
                poll_fd.revents = 0
                watched.setdefault(poll_fd.fd, []).append(poll_fd)
        for fd, poll_fds in watched.items():
            events = 0
            for poll_fd in poll_fds:
                events |= _poll_events(poll_fd.events)
            try:
                poller.register(fd, events)
            except (OSError, ValueError):
                for poll_fd in poll_fds:
                    poll_fd.revents = int(IOCondition.NVAL)
                timeout_ms = 0
        with self._lock:
            self._polling = True
            if self._woken:
                timeout_ms = 0
        try:
            events_found = poller.poll(timeout_ms if timeout_ms >= 0 else None)
        except InterruptedError:
            events_found = []
        finally:
            with self._lock:
                self._polling = False
                self._poll_round += 1
                self._owned.notify_all()
        self._drain_wakeups()  # a wake-up ends this iteration's wait (as in GLib), not the next one's
        for fd, revents in events_found:
            if fd == wakeup_fd:
                continue
            condition = _condition_of(revents)
            for poll_fd in watched.get(fd, ()):
                poll_fd.revents = condition & (poll_fd.events | IOCondition.ERR | IOCondition.HUP | IOCondition.NVAL)

    def _dispatch(self, due: list[Source]) -> None:
        for source in due:
            with source._lock:
                if source._destroyed or source._blocked():
                    continue
                source._in_call += 1
                callback, args = source._callback, source._user_data
            try:
                keep = source.dispatch(callback, args)
            except Exception as exc:
                self._report(exc, source)
                keep = False
            finally:
                with source._lock:
                    source._in_call -= 1
            if not keep:
                source.destroy()

    def _report(self, exc: Exception, source: Source) -> None:
        """A callback raised: the source goes, and the exception is shown — through the
        asyncio loop's exception handler when that loop drives the context from this thread,
        else printed with ``sys.excepthook``, as PyGObject prints it."""
        driver = self._driver
        if driver is not None and driver.in_loop_thread():
            driver.loop.call_exception_handler({"message": f"Exception in the callback of {source!r}",
                                                "exception": exc, "source": source})
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _refresh_driver(self) -> None:
        """If an asyncio loop drives the context from this thread, bring its registrations up
        to date now (a descriptor about to close must leave the loop before it does)."""
        driver = self._driver
        if driver is not None:
            driver.refresh()

    def _wait_not_polling(self, timeout: float = 1.0) -> bool:
        """Block until the owner's current poll (if any) has returned (after a `wakeup`);
        whether it did within ``timeout`` seconds."""
        with self._lock:
            if not self._polling or self._owner == threading.get_ident():
                return True
            round_now = self._poll_round
            return self._owned.wait_for(lambda: self._poll_round != round_now, timeout)

    def _abandon_fd(self, fd: int) -> None:
        """The owner did not let go of ``fd`` in time and it is about to close: take it out of
        the driving asyncio loop from this thread (as a last resort; see `Driver.drop`)."""
        driver = self._driver
        if driver is not None:
            driver.drop(fd)


def _close_pipe(pipe: list[int]) -> None:
    for fd in pipe:
        with contextlib.suppress(OSError):
            os.close(fd)


def main_context_default() -> MainContext:
    """``GLib.main_context_default()``."""
    return MainContext.default()


_asyncio_contexts: weakref.WeakKeyDictionary[Any, MainContext] = weakref.WeakKeyDictionary()
_asyncio_lock = threading.Lock()


def context_for(target: Any) -> MainContext:
    """The context ``attach(target)`` means: ``None`` is the global default context; attached
    to from a thread running an asyncio loop, the default context is driven by that loop if
    nothing drives it yet. An asyncio event loop is that loop's own context, iterated by it (a
    gsocklab extension: callbacks then run in the loop's thread)."""
    from ._asyncio import drive, running_loop

    if target is None or target is MainContext._default:
        context = MainContext.default()
        loop = running_loop()
        if loop is not None:
            drive(context, loop, take_over=False)
        return context
    if isinstance(target, MainContext):
        return target
    import asyncio

    if isinstance(target, asyncio.AbstractEventLoop):
        if target.is_closed():
            raise RuntimeError("Event loop is closed")
        with _asyncio_lock:
            own = _asyncio_contexts.get(target)
            if own is None:
                own = _asyncio_contexts[target] = MainContext()
        drive(own, target, take_over=True)
        return own
    raise TypeError(f"context must be a GLib.MainContext, an asyncio event loop or None, not {type(target).__name__}")
