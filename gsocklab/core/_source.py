"""GLib's socket sources (``g_socket_create_source``) on the main loop, and async socket calls.

A `SocketSource` is a `gsocklab.mainloop.Source` for a socket condition, with the semantics of
``gio/gsocket.c`` (``socket_source_new``, ``socket_source_prepare``/``dispatch``):

* the condition always includes ``HUP | ERR | NVAL``; the context polls the socket's
  descriptor, and the exact condition comes from ``socket.condition_check()`` at dispatch;
* the callback is called as PyGObject calls it, ``callback(user_data)``; the richer
  ``set_socket_callback(callback, *user_data)`` gives ``callback(socket, condition,
  *user_data)``, the C signature. A false result (or ``None``) removes the source;
* a socket ``timeout`` gives the source a ready time; when it passes without a dispatch the
  socket's ``timed_out`` flag is set (the *next* I/O call fails once with ``TIMED_OUT``) and
  the condition is ``IN | OUT`` (masked by the source's);
* a cancellable dispatches the source once per ``cancel()`` (GLib's child ``GCancellableSource``);
* after ``socket.close()`` an attached source fires exactly once with ``NVAL`` and is then
  inert; its descriptor is out of the context's poll before the OS closes it.

``attach()`` takes a `MainContext`, ``None`` (the global default context, which the running
asyncio loop of the attaching thread iterates if nothing else does, as in a Jupyter kernel)
or an asyncio event loop (that loop's own context: callbacks run in the loop's thread).

`AsyncSocketMixin` gives `Socket` ``create_source`` and ``*_async`` forms of its I/O calls:
each tries the non-blocking call first and, on ``WOULD_BLOCK``, awaits readiness through
a private one-shot source on the running loop, honouring the socket timeout and the
cancellable as the blocking call does.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..mainloop._source import Source, monotonic_us
from ._args import check_cancellable, int_arg, size_arg
from ._cancellable import Cancellable, cancelled_error
from ._enums import IOCondition, IOErrorEnum
from ._errors import Error, new_io_error
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
_HANDOFF_TIMEOUT = 1.0  # seconds close() waits for the context to stop polling a descriptor


class _SourceSocket(Protocol):
    """What a `SocketSource` needs of its socket."""

    _sources: set[Any]

    def get_fd(self) -> int: ...
    def get_timeout(self) -> int: ...
    def is_closed(self) -> bool: ...
    def _condition_check(self, condition: int) -> IOCondition: ...
    def _check_socket(self) -> Any: ...
    def _mark_timed_out(self) -> None: ...


class SocketSource(Source):
    """A ``GSource`` for a socket condition (``g_socket_create_source``); see the module doc.

    Made by ``socket.create_source(condition, cancellable)``. ``set_callback(fn, data)``
    calls ``fn(data)`` as PyGObject does; ``set_socket_callback(fn, *data)`` calls
    ``fn(socket, condition, *data)``. ``attach(context)`` starts it and returns its id.

    Deliberate differences from GLib: creating a source on a closed socket raises ``CLOSED``
    "Socket is already closed" (GLib warns "Socket check failed" and returns a source that
    never fires); attaching twice, or after ``destroy()``, raises ``INVALID_ARGUMENT`` (GLib
    logs a CRITICAL); a callback that returns an awaitable is an error (a coroutine function
    is not a valid callback), reported and the source destroyed.
    """

    def __init__(self, socket: _SourceSocket, condition: IOCondition | int,
                 cancellable: Cancellable | None = None) -> None:
        """A source for ``condition`` on ``socket``; use ``socket.create_source()`` instead."""
        condition = int_arg(condition, "condition")
        check_cancellable(cancellable)
        socket._check_socket()  # NOT_INITIALIZED or CLOSED
        super().__init__()
        self._name = "GSocket"
        self._socket = socket
        self._condition = IOCondition(condition) | _ALWAYS
        self._cancellable = cancellable
        self._handler_id = 0
        self._with_socket = False  # set_socket_callback: callback(socket, condition, *user_data)
        self._closing = False  # the socket is closed or closing: the next dispatch is NVAL
        self._inert = False  # NVAL was delivered; nothing will fire again
        self._cancel_pending = False
        self._poll = self.add_unix_fd(socket.get_fd(), self._condition & _POLLABLE | _ALWAYS)
        self._ready_time = self._next_ready_time()

    def __repr__(self) -> str:
        state = ("destroyed" if self._destroyed else "inert" if self._inert
                 else f"attached id={self._id}" if self._context is not None else "unattached")
        return f"<SocketSource {self._condition!s} {state}>"

    # -- public ---------------------------------------------------------------------------

    def set_socket_callback(self, callback: Callable[..., Any], *user_data: Any) -> None:
        """Call ``callback(socket, condition, *user_data)`` on dispatch (the C signature; a
        gsocklab extension: PyGObject's `set_callback` passes only the user data)."""
        self._set_callback(callback, user_data)
        self._with_socket = True

    def set_callback(self, callback: Callable[..., Any], user_data: Any = None) -> None:
        """Call ``callback(user_data)`` on dispatch, as PyGObject does (see `set_socket_callback`)."""
        self._set_callback(callback, (user_data,))
        self._with_socket = False

    def attach(self, context: Any = None) -> int:
        """Start watching in ``context`` (a `MainContext`, ``None`` for the default one, or an
        asyncio event loop) and return the source's id. Attaching twice, or a destroyed
        source, raises ``INVALID_ARGUMENT``. A source whose socket was closed in the meantime
        fires once with ``NVAL``."""
        with self._lock:
            if self._destroyed:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Source is destroyed")
            if self._context is not None:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Source is already attached")
        return super().attach(context)

    def get_name(self) -> str:
        """``"GSocket"``, GLib's name for socket sources."""
        return "GSocket"

    # -- the main loop's side -------------------------------------------------------------

    def prepare(self) -> tuple[bool, int]:
        """Ready at once when closing or cancelled; else the poll and the ready time decide."""
        return (self._closing or self._cancel_pending) and not self._inert, -1

    def check(self) -> bool:
        """Ready when the poll found something of the condition."""
        return bool(self._poll.revents & self._condition) and not self._inert

    def dispatch(self, callback: Callable[..., Any] | None, args: tuple[Any, ...]) -> bool:
        """GLib's ``socket_source_dispatch``: work out the condition and deliver it."""
        if self._inert:
            return False
        sock = self._socket
        now = monotonic_us()
        expired = 0 <= self._ready_time <= now
        cancelled, self._cancel_pending = self._cancel_pending, False
        closed = self._closing or sock.is_closed()
        if closed:
            self._inert, self._ready_time = True, -1
            self._unwatch()
            sock._sources.discard(self)
            revents = _NVAL
        else:
            revents = sock._condition_check(self._condition) & self._condition
            if not (revents or expired or cancelled):
                return True  # woken for nothing (data taken meanwhile): not a dispatch
        keep = self._deliver(callback, args, IOCondition(revents), expired, closed)
        if keep and not (self._inert or self._destroyed or self._closing):
            self._rearm()
        return keep

    def _deliver(self, callback: Callable[..., Any] | None, args: tuple[Any, ...], revents: IOCondition,
                 expired: bool, closed: bool) -> bool:
        """Run the callback; return whether the source stays."""
        condition = revents
        if expired and not closed and self._socket.get_timeout():
            self._socket._mark_timed_out()
            condition |= _IN | _OUT
        if callback is None:
            raise RuntimeError("SocketSource dispatched without a callback: call set_callback() first")
        result = (callback(self._socket, condition & self._condition, *args) if self._with_socket
                  else callback(*args))
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited, and no "was never awaited" warning
            raise TypeError(f"SocketSource callback {callback!r} returned an awaitable; it must return True "
                            "(keep) or False (remove)")
        return bool(result)

    def _rearm(self) -> None:
        """After a dispatch that keeps the source: a new ready time from the socket timeout."""
        self._ready_time = self._next_ready_time()

    def _next_ready_time(self) -> int:
        period = self._period()
        return -1 if period is None else monotonic_us() + int(period * 1_000_000)

    def _period(self) -> float | None:
        """Seconds from a dispatch to the next ready time: the socket timeout, re-read each time."""
        timeout = self._socket.get_timeout()
        return float(timeout) if timeout else None

    def _attached(self) -> None:
        self._socket._sources.add(self)
        if self._cancellable is not None:
            self._handler_id = self._cancellable.connect(self._on_cancelled)
        if self._socket.is_closed():
            self._socket_closing()

    def _detached(self) -> None:
        handler_id, self._handler_id = self._handler_id, 0
        if handler_id and self._cancellable is not None:
            self._cancellable.disconnect(handler_id)
        self._unwatch()
        self._socket._sources.discard(self)
        self._ready_time = -1

    def _unwatch(self) -> None:
        with self._lock:
            if self._poll in self._fds:
                self._fds.remove(self._poll)

    def _on_cancelled(self, cancellable: Cancellable) -> None:
        """The cancellable fired (in the cancelling thread): dispatch once; never raises."""
        self._cancel_pending = True
        context = self._context
        if context is not None:
            context.wakeup()

    # -- called by Socket.close() ---------------------------------------------------------

    def _socket_closing(self) -> None:
        """The socket is about to close its descriptor: drop it from the poll, then fire ``NVAL``.

        Called by ``Socket.close()`` before the OS close, from any thread; never raises. While
        another thread polls the context, waits (at most `_HANDOFF_TIMEOUT` s) until that poll
        has returned without the descriptor.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
        fd = self._poll.fd
        self._unwatch()
        context = self._context
        if context is None:
            return
        try:
            context.wakeup()
            context._refresh_driver()
            if not context._wait_not_polling(_HANDOFF_TIMEOUT):
                context._abandon_fd(fd)
        except Exception:  # pragma: no cover - never into close()
            sys.excepthook(*sys.exc_info())


class _Waiter(SocketSource):
    """A one-shot source behind the ``*_async`` calls: resolves a future, as ``condition_timed_wait``.

    True when the socket reports anything (ready, or only ``ERR``/``HUP``); ``CANCELLED`` when
    the cancellable fires; ``TIMED_OUT`` after ``timeout_ms`` (< 0: never); ``CLOSED`` when
    the socket is closed meanwhile. Never sets the socket's ``timed_out`` flag.
    """

    def __init__(self, socket: _SourceSocket, condition: int, cancellable: Cancellable | None,
                 timeout_ms: int, future: asyncio.Future[bool]) -> None:
        self._timeout_ms = timeout_ms
        self._future = future
        super().__init__(socket, condition, cancellable)

    def _period(self) -> float | None:
        return None if self._timeout_ms < 0 else self._timeout_ms / 1000

    def _deliver(self, callback: Callable[..., Any] | None, args: tuple[Any, ...], revents: IOCondition,
                 expired: bool, closed: bool) -> bool:
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
        """A `SocketSource` for ``condition`` (``g_socket_create_source``); ``attach()`` it to a
        main context (or an asyncio loop).

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
        waiter._set_callback(_no_callback, ())
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


def _no_callback() -> bool:  # pragma: no cover - a _Waiter delivers to its future
    return False
