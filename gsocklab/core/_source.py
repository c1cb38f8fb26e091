"""GLib's socket sources (``g_socket_create_source``) and async socket calls, on asyncio.

GLib runs a ``GSocket`` source on a ``GMainContext``; here a `SocketSource` runs on an
asyncio event loop, normally the running one (a Jupyter kernel runs one), so a notebook
can react to traffic without blocking the kernel. The semantics are ``gio/gsocket.c``'s
(``socket_source_new``, ``socket_source_prepare``/``dispatch``):

* the condition always includes ``HUP | ERR | NVAL``; the callback is called as
  ``callback(socket, condition, *user_data)`` and a false result removes the source;
* readiness comes from ``loop.add_reader``/``add_writer`` on the socket's descriptor (``IN``
  and ``OUT``), and the exact condition from ``socket.condition_check()`` at dispatch;
* a socket ``timeout`` gives the source a ready time; when it passes without a dispatch the
  socket's ``timed_out`` flag is set (the *next* I/O call fails once with ``TIMED_OUT``) and
  the callback sees ``IN | OUT`` (masked by the condition);
* a cancellable dispatches the source when cancelled (GLib's child ``GCancellableSource``);
* after ``socket.close()`` an attached source fires exactly once with ``NVAL`` and is then
  inert; its descriptor is out of the loop before the OS closes it.

`AsyncSocketMixin` gives `Socket` ``create_source`` and ``*_async`` forms of its I/O calls:
each tries the non-blocking call first and, on ``WOULD_BLOCK``, awaits readiness through
a private one-shot source, honouring the socket timeout and the cancellable as the
blocking call does.

Threads: the loop's own thread owns the registrations. ``destroy()``, a cancellation and
``socket.close()`` may come from any thread; they hand the work to the loop thread
(``call_soon_threadsafe``), and ``close()`` waits for it (at most `_HANDOFF_TIMEOUT`
seconds) so that a closed descriptor is never left registered in the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import select
import threading
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._args import check_cancellable, int_arg, size_arg
from ._cancellable import Cancellable, cancelled_error
from ._enums import IOCondition, IOErrorEnum
from ._errors import Error, new_io_error
from ._gobject import Object
from ._results import ReceiveFromResult
from ._socket_base import ASYNC_WAITED, SocketBase
from ._wait import effective_timeout_ms, timed_out_error

if TYPE_CHECKING:
    from ._address import SocketAddress
    from ._results import ReceiveResult

__all__ = ["AsyncSocketMixin", "SocketSource"]

_T = TypeVar("_T")
_IN, _OUT, _NVAL = IOCondition.IN, IOCondition.OUT, IOCondition.NVAL
_ALWAYS = IOCondition.HUP | IOCondition.ERR | IOCondition.NVAL  # added to every source's condition
_POLLABLE = IOCondition.IN | IOCondition.PRI | IOCondition.OUT  # what a poll() can be asked for
_HANDOFF_TIMEOUT = 1.0  # seconds close() waits for the loop thread to drop a descriptor
_ids = itertools.count(1)


class _SourceSocket(Protocol):
    """What a source needs of its socket (`Socket` with `AsyncSocketMixin`)."""

    _sources: set[SocketSource]

    def get_fd(self) -> int: ...
    def get_timeout(self) -> int: ...
    def is_closed(self) -> bool: ...
    def _condition_check(self, condition: int) -> IOCondition: ...
    def _check_socket(self) -> Any: ...
    def _mark_timed_out(self) -> None: ...


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _default_loop() -> asyncio.AbstractEventLoop:
    """The running loop, else this thread's current loop (``asyncio.get_event_loop()``)."""
    loop = _running_loop()
    if loop is not None:
        return loop
    with warnings.catch_warnings():  # "There is no current event loop" (3.12+): a choice made here
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop()


class SocketSource(Object):
    """A ``GSource`` for a socket condition, run by an asyncio event loop (``g_socket_create_source``).

    Made by ``socket.create_source(condition, cancellable)``. Give it a callback with
    ``set_callback(callback, *user_data)`` and start it with ``attach()``; the callback runs
    in the loop's thread as ``callback(socket, condition, *user_data)`` whenever the socket
    meets ``condition`` (always widened by ``HUP | ERR | NVAL``). Its result decides: true
    keeps the source (``GLib.SOURCE_CONTINUE``), false **or None** removes it
    (``GLib.SOURCE_REMOVE``; None as in PyGObject, where a callback that returns nothing runs
    once).

    Socket timeout: a socket with ``timeout`` T makes the source fire with ``IN | OUT``
    (masked by ``condition``) when T seconds pass without a dispatch; the next I/O call on the
    socket then fails once with ``TIMED_OUT`` "Socket I/O timed out". The ready time is
    re-armed after every dispatch. Cancelled: each ``cancel()`` of ``cancellable`` dispatches
    the source once, with whatever condition holds (usually 0). Closed: after
    ``socket.close()`` the source fires exactly once with ``NVAL`` and is then inert.

    A callback that raises is reported through the loop's exception handler
    (``loop.call_exception_handler``) and the source is destroyed; so is one that returns an
    awaitable (a coroutine function is not a valid callback).

    Deliberate differences from GLib: creating a source on a closed socket raises ``CLOSED``
    "Socket is already closed" (GLib warns "Socket check failed" and returns a source that
    never fires); the callback gets the socket and the condition (PyGObject loses both,
    passing only the user data); attaching twice, or after ``destroy()``, raises
    ``INVALID_ARGUMENT`` (GLib logs a CRITICAL).
    """

    __slots__ = (
        "_callback", "_cancel_pending", "_cancellable", "_closing", "_condition", "_destroyed", "_epoll",
        "_expired", "_fd", "_handler_id", "_id", "_inert", "_lock", "_loop", "_reading", "_ready_time",
        "_scheduled", "_socket", "_timer", "_user_data", "_writing",
    )

    def __init__(self, socket: _SourceSocket, condition: IOCondition | int,
                 cancellable: Cancellable | None = None) -> None:
        """A source for ``condition`` on ``socket``; use ``socket.create_source()`` instead."""
        condition = int_arg(condition, "condition")
        check_cancellable(cancellable)
        socket._check_socket()  # NOT_INITIALIZED or CLOSED
        self._socket = socket
        self._condition = IOCondition(condition) | _ALWAYS
        self._cancellable = cancellable
        self._callback: Callable[..., Any] | None = None
        self._user_data: tuple[Any, ...] = ()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._id = 0
        self._handler_id = 0
        self._destroyed = False  # destroy() was called (or the callback said so)
        self._closing = False  # the socket is closed or closing: the next dispatch is NVAL
        self._inert = False  # NVAL was delivered; nothing will fire again
        self._scheduled = False  # a dispatch is queued on the loop
        self._expired = False  # the ready time passed (the timer fired)
        self._cancel_pending = False
        # Registrations, owned by the loop thread:
        self._fd = -1
        self._reading = self._writing = False
        self._epoll: Any = None  # select.epoll, for a condition without IN and OUT
        self._timer: asyncio.TimerHandle | None = None
        self._ready_time = self._next_ready_time()

    def __repr__(self) -> str:
        state = ("destroyed" if self._destroyed else "inert" if self._inert
                 else f"attached id={self._id}" if self._loop is not None else "unattached")
        return f"<SocketSource {self._condition!s} {state}>"

    # -- public ---------------------------------------------------------------------------

    def set_callback(self, callback: Callable[..., Any], *user_data: Any) -> None:
        """Call ``callback(socket, condition, *user_data)`` on dispatch; may be changed at any time."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        self._callback, self._user_data = callback, user_data

    def attach(self, loop: asyncio.AbstractEventLoop | None = None) -> int:
        """Start watching on ``loop`` and return the source's id (> 0).

        ``loop=None``: the running loop, else the thread's current event loop. May be called
        from any thread. Attaching twice, or a destroyed source, raises ``INVALID_ARGUMENT``;
        a closed loop raises ``RuntimeError``. A source whose socket was closed in the
        meantime fires once with ``NVAL``.
        """
        if loop is None:
            loop = _default_loop()
        elif not isinstance(loop, asyncio.AbstractEventLoop):
            raise TypeError(f"loop must be an asyncio event loop or None, not {type(loop).__name__}")
        if loop.is_closed():
            raise RuntimeError("Event loop is closed")
        with self._lock:
            if self._destroyed:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Source is destroyed")
            if self._loop is not None:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Source is already attached")
            self._loop, self._id = loop, next(_ids)
        self._socket._sources.add(self)
        if self._cancellable is not None:
            self._handler_id = self._cancellable.connect(self._on_cancelled)
        self._in_loop(self._register, wait=False)
        return self._id

    def destroy(self) -> None:
        """Stop the source for good; idempotent, and callable from any thread (``g_source_destroy``)."""
        with self._lock:
            if self._destroyed:
                return
            self._destroyed = True
            loop = self._loop
        self._disconnect()
        if loop is not None:
            self._in_loop(self._teardown, wait=False)

    def is_destroyed(self) -> bool:
        """Whether ``destroy()`` was called or the callback removed the source."""
        return self._destroyed

    def get_name(self) -> str:
        """``"GSocket"``, GLib's name for socket sources."""
        return "GSocket"

    def get_id(self) -> int:
        """The id ``attach()`` returned; 0 before."""
        return self._id

    def get_ready_time(self) -> int:
        """When the socket timeout fires: ``time.monotonic()`` in microseconds, or -1 (no timeout).

        Set from the socket ``timeout`` at creation and re-armed after every dispatch (GLib's
        ``g_source_get_ready_time`` on the ``g_get_monotonic_time()`` clock).
        """
        return self._ready_time

    # -- called by Socket.close() ---------------------------------------------------------

    def _socket_closing(self) -> None:
        """The socket is about to close its descriptor: drop it from the loop, then fire ``NVAL``.

        Called by ``Socket.close()`` before the OS close, from any thread; never raises. From
        another thread while the loop runs, waits (at most `_HANDOFF_TIMEOUT` s) until the loop
        thread has removed the descriptor.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
            loop = self._loop
        if loop is not None:
            self._in_loop(self._closed_in_loop, wait=True)

    # -- internals (loop thread unless said otherwise) ---------------------------------------

    def _period(self) -> float | None:
        """Seconds from a dispatch to the next ready time: the socket timeout, re-read each time."""
        timeout = self._socket.get_timeout()
        return float(timeout) if timeout else None

    def _next_ready_time(self) -> int:
        period = self._period()
        return -1 if period is None else int((time.monotonic() + period) * 1_000_000)

    def _in_loop(self, function: Callable[[], None], *, wait: bool) -> None:
        """Run ``function`` in the loop's thread (any thread may call); with ``wait``, until done.

        Runs it here when this is the loop's thread or when the loop is not running (nothing
        polls its selector then). Never raises: a failure goes to the loop's exception handler.
        """
        loop = self._loop
        assert loop is not None
        try:
            if _running_loop() is loop or not loop.is_running() or loop.is_closed():
                function()
                return
            done = threading.Event()

            def run() -> None:
                try:
                    function()
                finally:
                    done.set()

            try:
                loop.call_soon_threadsafe(run)
            except RuntimeError:  # closed meanwhile: nothing will poll it again
                function()
                return
            if wait and not done.wait(_HANDOFF_TIMEOUT):
                # The loop thread is busy (not polling): drop the descriptor from here rather
                # than let the OS close it while registered. The functions are idempotent.
                function()
        except Exception as exc:
            self._report(exc, "SocketSource could not update its event loop")

    def _register(self) -> None:
        """Watch the descriptor and arm the timer (or fire ``NVAL`` if the socket is closed)."""
        loop = self._loop
        if self._destroyed or loop is None:
            return
        sock = self._socket
        fd = sock.get_fd()
        if self._closing or fd < 0 or sock.is_closed():
            self._closing = True
            self._schedule()
            return
        condition = self._condition
        with self._lock:
            if condition & (_IN | _OUT):
                if condition & _IN:
                    loop.add_reader(fd, self._on_ready)
                    self._reading = True
                if condition & _OUT:  # HUP and ERR wake readers and writers alike
                    loop.add_writer(fd, self._on_ready)
                    self._writing = True
            elif hasattr(select, "epoll"):
                # Neither IN nor OUT (HUP, ERR, PRI): a reader on the socket would wake for
                # every byte queued. An epoll set asked for exactly this condition does not.
                self._epoll = select.epoll()
                self._epoll.register(fd, int(condition & _POLLABLE))
                fd = self._epoll.fileno()
                loop.add_reader(fd, self._on_ready)
                self._reading = True
            else:  # pragma: no cover - no epoll: wakes (and re-checks) on input too
                loop.add_reader(fd, self._on_ready)
                self._reading = True
            self._fd = fd
        self._arm_timer()

    def _unregister(self) -> None:
        """Remove the descriptor and the timer from the loop; idempotent."""
        loop = self._loop
        with self._lock:
            fd, reading, writing, epoll, timer = self._fd, self._reading, self._writing, self._epoll, self._timer
            self._fd, self._reading, self._writing, self._epoll, self._timer = -1, False, False, None, None
        if loop is None:
            return
        if fd >= 0:
            if reading:
                loop.remove_reader(fd)
            if writing:
                loop.remove_writer(fd)
        if epoll is not None:
            epoll.close()
        if timer is not None:
            timer.cancel()

    def _teardown(self) -> None:
        """The loop side of `destroy`."""
        self._unregister()
        self._socket._sources.discard(self)
        self._ready_time = -1

    def _closed_in_loop(self) -> None:
        """The loop side of `_socket_closing`."""
        self._unregister()
        loop = self._loop
        if self._destroyed or loop is None or loop.is_closed():  # nothing left to fire on
            self._socket._sources.discard(self)
        else:
            self._schedule()

    def _disconnect(self) -> None:
        handler_id, self._handler_id = self._handler_id, 0
        if handler_id and self._cancellable is not None:
            self._cancellable.disconnect(handler_id)

    def _arm_timer(self) -> None:
        loop = self._loop
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._ready_time < 0 or loop is None or self._destroyed or self._inert:
            return
        delay = max(0.0, self._ready_time / 1_000_000 - time.monotonic())
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_ready(self) -> None:
        self._schedule()

    def _on_timer(self) -> None:
        self._timer = None
        self._expired = True
        self._schedule()

    def _on_cancelled(self, cancellable: Cancellable) -> None:
        """The cancellable fired (in the cancelling thread); must not raise into ``cancel()``."""
        self._cancel_pending = True
        loop = self._loop
        if loop is None:
            return
        if _running_loop() is loop:
            self._schedule()
            return
        try:
            loop.call_soon_threadsafe(self._schedule)
        except RuntimeError:  # the loop is closed: the source can never fire again
            pass

    def _schedule(self) -> None:
        """Queue one dispatch (readers, writers, the timer and a cancel coalesce into it)."""
        loop = self._loop
        if self._scheduled or self._destroyed or self._inert or loop is None or loop.is_closed():
            return
        self._scheduled = True
        if _running_loop() is loop:
            loop.call_soon(self._dispatch)
        else:
            loop.call_soon_threadsafe(self._dispatch)

    def _dispatch(self) -> None:
        """GLib's ``socket_source_dispatch``: work out the condition and deliver it."""
        self._scheduled = False
        if self._destroyed or self._inert:
            return
        sock = self._socket
        expired, self._expired = self._expired, False
        cancelled, self._cancel_pending = self._cancel_pending, False
        closed = self._closing or sock.is_closed()
        if closed:
            self._inert, self._ready_time = True, -1
            self._unregister()
            self._disconnect()
            sock._sources.discard(self)
            revents = _NVAL
        else:
            revents = sock._condition_check(self._condition) & self._condition
            if not expired and 0 <= self._ready_time <= time.monotonic() * 1_000_000:
                expired = True
            if not (revents or expired or cancelled):
                return  # woken for nothing (data taken meanwhile): not a dispatch
        if not self._deliver(IOCondition(revents), expired, closed):
            self.destroy()
        elif not (self._inert or self._destroyed or self._closing):
            self._rearm()

    def _deliver(self, revents: IOCondition, expired: bool, closed: bool) -> bool:
        """Run the callback; return whether the source stays."""
        condition = revents
        if expired and not closed and self._socket.get_timeout():
            self._socket._mark_timed_out()
            condition |= _IN | _OUT
        callback = self._callback
        if callback is None:
            self._report(None, "SocketSource dispatched without a callback: call set_callback() first")
            return False
        try:
            result = callback(self._socket, condition & self._condition, *self._user_data)
        except Exception as exc:
            self._report(exc, f"Exception in SocketSource callback {callback!r}")
            return False
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited, and no "was never awaited" warning
            self._report(TypeError(f"SocketSource callback {callback!r} returned an awaitable; it must "
                                   "return True (keep) or False (remove)"), "Invalid SocketSource callback")
            return False
        return bool(result)

    def _rearm(self) -> None:
        """After a dispatch that keeps the source: a new ready time from the socket timeout."""
        self._ready_time = self._next_ready_time()
        self._arm_timer()

    def _report(self, exc: BaseException | None, message: str) -> None:
        context: dict[str, Any] = {"message": message, "source": self, "socket": self._socket}
        if exc is not None:
            context["exception"] = exc
        loop = self._loop or _running_loop()
        if loop is not None:
            loop.call_exception_handler(context)


class _Waiter(SocketSource):
    """A one-shot source behind the ``*_async`` calls: resolves a future, as ``condition_timed_wait``.

    True when the socket reports anything (ready, or only ``ERR``/``HUP``); ``CANCELLED`` when
    the cancellable fires; ``TIMED_OUT`` after ``timeout_ms`` (< 0: never); ``CLOSED`` when
    the socket is closed meanwhile. Never sets the socket's ``timed_out`` flag.
    """

    __slots__ = ("_future", "_timeout_ms")

    def __init__(self, socket: _SourceSocket, condition: int, cancellable: Cancellable | None,
                 timeout_ms: int, future: asyncio.Future[bool]) -> None:
        self._timeout_ms = timeout_ms
        self._future = future
        super().__init__(socket, condition, cancellable)

    def _period(self) -> float | None:
        return None if self._timeout_ms < 0 else self._timeout_ms / 1000

    def _deliver(self, revents: IOCondition, expired: bool, closed: bool) -> bool:
        future = self._future
        if future.done():
            return False
        cancellable = self._cancellable
        if closed:
            future.set_exception(new_io_error(IOErrorEnum.CLOSED, "Socket is already closed"))
        elif cancellable is not None and cancellable.is_cancelled():
            future.set_exception(cancelled_error())
        elif revents:
            future.set_result(True)
        elif expired:
            future.set_exception(timed_out_error())
        else:
            return True  # a stale wake-up of a cancellable reset since: keep waiting
        return False

    def _rearm(self) -> None:
        """The deadline is for the whole wait: not moved by a stale wake-up."""


class AsyncSocketMixin(SocketBase):
    """`Socket`'s ``create_source`` and its asyncio forms of the I/O calls.

    Every ``*_async`` call must run in an asyncio event loop. It tries the non-blocking
    call first and, only on ``WOULD_BLOCK``, awaits readiness without blocking the loop; the
    socket's own ``blocking`` flag is ignored. Modes, as GLib's blocking calls:

    * socket ``timeout`` T: ``TIMED_OUT`` "Socket I/O timed out" after T seconds without
      readiness (an inactivity timeout, re-armed on every wake-up);
    * cancelled: a cancellable cancelled before the call fails it with ``CANCELLED``
      "Operation was cancelled" before any system call; one cancelled (from any thread)
      while the call waits wakes it with ``CANCELLED``;
    * asyncio task cancelled: ``asyncio.CancelledError``; nothing stays registered in the
      loop, and nothing was transferred by the interrupted wait;
    * closed while waiting: ``CLOSED`` "Socket is already closed".
    """

    __slots__ = ()

    if TYPE_CHECKING:
        def _condition_check(self, condition: int) -> IOCondition: ...
        def _wait_arguments(self, condition: object, timeout_us: object,
                            cancellable: Cancellable | None) -> tuple[int, int]: ...
        def _nonblocking(self, name: str, *args: Any) -> Any: ...
        def _receive(self, size: int, buffer: Any, timeout_us: int | None,
                     cancellable: Cancellable | None) -> Any: ...
        def _receive_bytes_from(self, size: int, timeout_us: int,
                                cancellable: Cancellable | None) -> tuple[bytes, SocketAddress | None]: ...
        def _send(self, buffer: Any, timeout_us: int | None, cancellable: Cancellable | None) -> int: ...
        def _receive_messages(self, messages: Any, flags: int, timeout_us: int,
                              cancellable: Cancellable | None) -> int: ...
        def _send_messages(self, messages: Any, flags: int, timeout_us: int,
                           cancellable: Cancellable | None) -> int: ...
        def get_timeout(self) -> int: ...
        def get_fd(self) -> int: ...
        def is_closed(self) -> bool: ...

    def create_source(self, condition: IOCondition | int, cancellable: Cancellable | None = None) -> SocketSource:
        """A `SocketSource` for ``condition`` (``g_socket_create_source``); ``attach()`` it to a loop.

        ``condition`` is widened by ``HUP | ERR | NVAL``. ``cancellable`` dispatches the source
        when cancelled. Raises ``CLOSED`` "Socket is already closed" on a closed socket (GLib
        returns a source that never fires).
        """
        return SocketSource(self, condition, cancellable)

    # -- waiting --------------------------------------------------------------------------

    async def _wait_async(self, condition: int, timeout_ms: int, cancellable: Cancellable | None) -> None:
        """Await ``condition`` (no checks): the async ``condition_timed_wait`` core."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiter = _Waiter(self, condition, cancellable, timeout_ms, future)
        waiter.attach(loop)
        start = time.monotonic()
        try:
            await future
        finally:
            waiter.destroy()
            waits = ASYNC_WAITED.get()
            if waits is not None:  # an observed call: what it waited is reported
                waits[0] += time.monotonic() - start

    async def condition_timed_wait_async(self, condition: IOCondition | int, timeout_us: int,
                                         cancellable: Cancellable | None = None) -> bool:
        """Await ``condition`` for up to ``timeout_us`` microseconds; return ``True``.

        The waiting rules of ``condition_timed_wait``: millisecond resolution, ``-1`` waits
        forever, and the socket ``timeout`` wins when it is shorter in whole seconds.
        ``TIMED_OUT`` "Socket I/O timed out" when the time passes; ``CANCELLED`` when
        ``cancellable`` is, or becomes, cancelled (from any thread); ``CLOSED`` when the socket
        is closed meanwhile. Also returns ``True`` when only ``ERR`` or ``HUP`` fired.
        """
        return await self._condition_timed_wait_async(condition, timeout_us, cancellable)

    async def _condition_timed_wait_async(self, condition: object, timeout_us: object,
                                          cancellable: Cancellable | None) -> bool:
        condition, timeout_us = self._wait_arguments(condition, timeout_us, cancellable)
        if self._condition_check(condition):
            return True
        timeout_ms = effective_timeout_ms(self.get_timeout(), timeout_us)
        if timeout_ms == 0:
            raise timed_out_error()
        await self._wait_async(condition, timeout_ms, cancellable)
        return True

    async def condition_wait_async(self, condition: IOCondition | int,
                                   cancellable: Cancellable | None = None) -> bool:
        """Await ``condition``; ``condition_timed_wait_async(condition, -1, cancellable)``.

        No socket timeout: waits until the condition holds. Socket ``timeout`` T: ``TIMED_OUT``
        after T seconds. Cancelled: ``CANCELLED``. Closed meanwhile: ``CLOSED``.
        """
        return await self._condition_timed_wait_async(condition, -1, cancellable)

    async def _retry_async(self, condition: int, cancellable: Cancellable | None,
                     call: Callable[..., _T], *args: Any) -> _T:
        """Try ``call(*args)`` (non-blocking) until it stops failing ``WOULD_BLOCK``."""
        while True:
            try:
                return call(*args)
            except Error as exc:
                if exc.code != IOErrorEnum.WOULD_BLOCK:
                    raise
            await self._wait_async(condition, effective_timeout_ms(self.get_timeout(), -1), cancellable)

    def _nonblocking_hook(self, name: str) -> Callable[..., Any]:
        hook: Callable[..., Any] | None = getattr(self, "_nonblocking", None)
        if hook is None:
            raise NotImplementedError(f"{name}_async needs Socket._nonblocking(), which this Socket lacks")
        return hook

    # -- receiving ------------------------------------------------------------------------

    async def receive_async(self, cancellable: Cancellable | None = None, size: int = 65536,
                            buffer: Any = None) -> ReceiveResult:
        """``receive()`` without blocking the loop; return ``(count, buffer)``.

        Data queued: returns at once. None: awaits ``IN``; ``TIMED_OUT`` after the socket
        timeout. Cancelled: ``CANCELLED``. ``count`` 0 is the end of the stream. Errors as
        ``receive()`` ("Error receiving data: …").
        """
        return await self._retry_async(_IN, cancellable, self._receive, size, buffer, 0, cancellable)

    async def receive_from_async(self, cancellable: Cancellable | None = None,
                                 size: int = 65536) -> ReceiveFromResult:
        """``receive_from()`` without blocking the loop; return ``(count, address, buffer)``.

        Modes as ``receive_async()``; errors as ``receive_from()`` ("Error receiving message: …").
        """
        data, address = await self._retry_async(_IN, cancellable, self._receive_bytes_from, size_arg(size), 0,
                                                 cancellable)
        return ReceiveFromResult((len(data), address, data))

    async def receive_messages_async(self, messages: Any, flags: int = 0,
                                     cancellable: Cancellable | None = None) -> int:
        """``receive_messages()`` without blocking the loop; return how many messages arrived.

        Returns as soon as at least one message is in (what was queued, up to
        ``len(messages)``): ``MSG_WAITFORONE``, unlike GLib's blocking call without a timeout,
        which waits for all. None queued: awaits ``IN``; ``TIMED_OUT`` after the socket
        timeout. Cancelled: ``CANCELLED``. An empty list returns 0 at once.
        """
        return await self._retry_async(_IN, cancellable, self._receive_messages, messages, flags, 0, cancellable)

    # -- sending --------------------------------------------------------------------------

    async def send_async(self, buffer: Any, cancellable: Cancellable | None = None) -> int:
        """``send()`` without blocking the loop; return the count sent.

        Room in the send buffer: returns after one system call (a stream may take less than
        all of ``buffer``; send the rest). None: awaits ``OUT``; ``TIMED_OUT`` after the socket
        timeout. Cancelled: ``CANCELLED``. Errors as ``send()`` ("Error sending data: …").
        """
        return await self._retry_async(_OUT, cancellable, self._send, buffer, 0, cancellable)

    async def send_to_async(self, address: SocketAddress | None, buffer: Any,
                            cancellable: Cancellable | None = None) -> int:
        """``send_to()`` without blocking the loop; return the count sent.

        Modes as ``send_async()``; errors as ``send_to()`` ("Error sending message: …").
        """
        call = self._nonblocking_hook("send_to")
        return await self._retry_async(_OUT, cancellable, call, "send_to", address, buffer, cancellable)

    async def send_messages_async(self, messages: Any, flags: int = 0,
                                  cancellable: Cancellable | None = None) -> int:
        """``send_messages()`` without blocking the loop; return how many messages were sent.

        Sends them all, awaiting ``OUT`` whenever the socket is full (each message's
        ``bytes_sent`` is set). A timeout (the socket's), a cancel or an error once at least
        one message has gone returns the count so far; with none sent it is raised
        (``TIMED_OUT``, ``CANCELLED``, "Error sending message: …"). An asyncio cancellation
        loses the count: check ``bytes_sent``.
        """
        messages = list(messages)
        sent = 0
        while True:
            try:
                sent += self._send_messages(messages[sent:], flags, 0, cancellable)
            except Error as exc:
                if exc.code != IOErrorEnum.WOULD_BLOCK:
                    if sent:
                        return sent
                    raise
            if sent >= len(messages):
                return sent
            try:
                await self._wait_async(_OUT, effective_timeout_ms(self.get_timeout(), -1), cancellable)
            except Error:
                if sent:
                    return sent
                raise

    # -- connections ----------------------------------------------------------------------

    async def accept_async(self, cancellable: Cancellable | None = None) -> SocketBase:
        """``accept()`` without blocking the loop; return the new (blocking) connected socket.

        A connection pending: returns at once. None: awaits ``IN``; ``TIMED_OUT`` after the
        socket timeout. Cancelled: ``CANCELLED``, checked first. Errors as ``accept()``.
        """
        call = self._nonblocking_hook("accept")
        return await self._retry_async(_IN, cancellable, call, "accept", cancellable)
