"""What every part of `Socket` shares: its state, the checks before each call, the in-flight
count that keeps the descriptor alive, and GLib's wait loop.

The mixins that make up `Socket` (`_socket_wait`, `_socket_messages`, `_socket_options`,
`_source`) subclass `SocketBase` and `_socket` puts them together, so no module of the
socket imports another's class: the imports go one way, from `_socket` down.

Threads
-------
Every socket may be used by several threads at once, and ``close()`` may come from any of
them while others wait inside calls. The rules that make this safe:

* A call that touches the OS socket is *in flight* from before it checks the socket until
  it returns, and on the way out tries `SocketBase._reap` if the socket was closed
  meanwhile. Most calls count themselves in and out (`in_flight`: ``next()`` on two
  ``itertools.count`` objects, atomic under the GIL). The four hot paths of datagram and
  stream loops (`hot_path`: ``send``, ``send_to``, ``receive``, ``receive_from``) cost a
  few microseconds in all, and counting would add about 10% to their Python work (measured
  with callgrind), so they are not counted: instead `SocketBase._reap` looks for them on the
  stacks of the other threads (``sys._current_frames()``), once, when a socket closes. A
  thread whose stack holds one of them for this socket keeps the descriptor open; it reaps
  when it returns.
* ``close()`` marks the socket closed and signals its wake-up descriptor, under ``_lock``.
  Every wait polls that descriptor beside the socket's (`gsocklab.core._wait.ConditionPoller`),
  so each waiting call ends at once with ``CLOSED`` "Socket is already closed".
* The OS descriptor is closed by whoever finds the socket closed with no call in flight:
  ``close()`` itself, or the last call to leave (`SocketBase._reap`). No thread ever polls,
  reads or writes a descriptor number after it was closed, when the OS may already have
  given the number to another file.

What a call spent waiting, and the ``revents`` of its last wait, are kept per thread in
`CALL` (per task in `ASYNC_WAITED` for the ``*_async`` calls) for the observer hook
(`gsocklab.core._observe`), so calls in several threads never mix their figures.
"""

from __future__ import annotations

import contextvars
import errno
import functools
import gc
import itertools
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ._args import check_cancellable
from ._enums import IOErrorEnum
from ._errors import Error, from_errno, from_oserror, new_io_error
from ._gobject import Object
from ._wait import ConditionPoller, closed_error, effective_timeout_ms, timed_out_error
from ._wakeup import Wakeup

if TYPE_CHECKING:
    import socket as _socket

    from ._address import SocketAddress
    from ._cancellable import Cancellable
    from ._enums import SocketFamily, SocketType
    from ._source import SocketSource

__all__ = ["ASYNC_WAITED", "CALL", "SocketBase", "hot_path", "in_flight", "remember"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound="SocketBase")
_F = TypeVar("_F", bound=Callable[..., Any])


class _CallState(threading.local):
    """Per thread: seconds spent waiting in socket calls so far, and the last wait's ``revents``."""

    waited = 0.0
    revents = 0


CALL = _CallState()
#: Seconds an observed ``*_async`` call has awaited readiness, per task (set by the observer hook).
ASYNC_WAITED: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("gsocklab_async_waited",
                                                                               default=None)


def in_flight(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Run ``method`` as a call in flight: the socket's descriptor stays open until it returns."""

    @functools.wraps(method)
    def call(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        next(self._entered)
        try:
            return method(self, *args, **kwargs)
        finally:
            next(self._left)
            if self._closed:
                self._reap()

    return call


_HOT_CODES: set[CodeType] = set()


def hot_path(function: _F) -> _F:
    """Mark a method of `Socket` as a hot path: in flight while its frame is on a stack.

    The method must take the socket as ``self``, must not return before its
    ``finally: if self._closed: self._reap()``, and must not look at ``self._sock`` before
    checking ``self._usable`` (or ``_check_socket``).
    """
    _HOT_CODES.add(function.__code__)
    return function


_gc_switch = threading.Lock()


def _current_frames() -> dict[int, Any]:
    """``sys._current_frames()`` with the cyclic GC off: CPython makes the frame objects while it
    holds the runtime's thread-list lock, and a collection there that frees a ``threading.local``
    waits for that same lock — the thread deadlocks itself (seen with CPython 3.11.7)."""
    with _gc_switch:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return sys._current_frames()
        finally:
            if enabled:
                gc.enable()


def _in_hot_path_elsewhere(sock: SocketBase) -> bool:
    """Whether a thread other than this one is inside a hot path of ``sock`` (see the module doc).

    Each thread's stack is walked from its current frame: a thread in a system call has
    released the GIL but keeps its frames, so one that read the descriptor number and has
    yet to enter the kernel is seen here.
    """
    me = threading.get_ident()
    for ident, frame in _current_frames().items():
        if ident == me:
            continue
        while frame is not None:
            if frame.f_code in _HOT_CODES and frame.f_locals.get("self") is sock:
                return True
            frame = frame.f_back
    return False


def _count_value(counter: itertools.count[int]) -> int:
    """The next value of an ``itertools.count`` without taking it (its repr is ``count(n)``)."""
    return int(repr(counter)[6:-1])


def remember(cache: dict[Any, Any], key: Any, value: Any, size: int = 8) -> None:
    """Put ``key`` into a small cache, evicting the oldest entries (GLib's 8-entry caches).

    Safe while other threads use the cache: an entry another thread evicted first, or a
    change meanwhile, only means another look.
    """
    while len(cache) >= size:
        try:
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):
            pass
    cache[key] = value


class SocketBase(Object):
    """The state and the shared machinery of a `Socket` (see the module doc for the threads)."""

    # Slots keep attribute access fast and let `gsocklab.core._observe` switch the class of a
    # socket without turning its attributes into a dict. The mixins have no slots, so
    # sockets still take attributes of the caller's own, as PyGObject's do.
    __slots__ = (
        "_address_cache", "_blocking", "_closed", "_connect_pending", "_connected_read", "_connected_write",
        "_construct_error", "_entered", "_family", "_fd", "_host", "_inited", "_keepalive", "_label", "_lane",
        "_last_source", "_last_to", "_left", "_listen_backlog", "_listening", "_lock", "_observers",
        "_own_observers", "_poller", "_protocol", "_raw_address_cache", "_remote_address", "_sock", "_sources",
        "_timed_out", "_timeout", "_type", "_usable", "_wake",
    )

    _sock: _socket.socket | None
    _fd: int
    _family: SocketFamily
    _type: SocketType
    _protocol: int
    _inited: bool
    _construct_error: Error | None
    _closed: bool
    _usable: bool  # inited, constructed, open and no pending source timeout: the hot paths skip the checks
    _timed_out: bool
    _blocking: bool
    _timeout: int
    _listening: bool
    _listen_backlog: int
    _keepalive: bool
    _connect_pending: bool
    _connected_read: bool
    _connected_write: bool
    _remote_address: SocketAddress | None
    _label: str
    _host: str | None
    _last_local_text: str | None  # the local address last read, kept for rows read after close()
    _entered: itertools.count[int]  # calls that came in (see the module doc)
    _left: itertools.count[int]  # calls that went out
    _lock: threading.Lock  # close, reap, wake-up creation and the timed-out flag
    _wake: Wakeup | None  # signalled by close(); made by the first wait
    _poller: ConditionPoller | None
    _sources: set[SocketSource]
    _observers: tuple[Any, ...]
    _lane: Any  # the fast lane of its only observer (gsocklab.core._observe.Lane)
    _address_cache: dict[Any, SocketAddress | None]
    _raw_address_cache: dict[bytes, SocketAddress | None]
    _last_source: tuple[Any, SocketAddress | None]  # (OS address, Gio address) of the last source
    _last_to: tuple[Any, Any]  # (Gio address, OS address) of the last destination

    def _init_state(self) -> None:
        """Every slot's starting value (`Socket.__init__` calls it first)."""
        self._sock = None
        self._fd = -1
        self._inited = False
        self._construct_error = None
        self._closed = False
        self._usable = False
        self._timed_out = False
        self._blocking = True
        self._timeout = 0
        self._listening = False
        self._listen_backlog = 10
        self._keepalive = False
        self._connect_pending = False
        self._connected_read = self._connected_write = False
        self._remote_address = None
        self._entered = itertools.count()
        self._left = itertools.count()
        self._lock = threading.Lock()
        self._wake = None
        self._poller = None
        self._sources = set()
        self._observers = ()
        self._lane = None
        self._address_cache = {}
        self._raw_address_cache = {}
        self._last_source = ((), None)  # () is never equal to an OS address
        self._last_to = (None, None)

    # -- checks ---------------------------------------------------------------------------

    def _check_socket(self) -> _socket.socket:
        """GLib's ``check_socket``: initialised, constructed and open; returns the OS socket.

        Call it from a call in flight: the OS socket it returns stays open until the call leaves.
        """
        if not self._inited:
            raise new_io_error(IOErrorEnum.NOT_INITIALIZED, "Invalid socket, not initialized")
        if self._construct_error is not None:
            raise new_io_error(
                IOErrorEnum.NOT_INITIALIZED,
                f"Invalid socket, initialization failed due to: {self._construct_error.message}")
        sock = self._sock
        if self._closed or sock is None:
            raise closed_error()
        return sock

    def _check_io(self, cancellable: Cancellable | None) -> None:
        """The checks before every I/O call: socket, pending source timeout, cancellable."""
        self._check_socket()
        if self._timed_out:
            with self._lock:
                timed_out, self._timed_out = self._timed_out, False
                self._usable = not self._closed
            if timed_out:
                raise timed_out_error()
        if cancellable is not None:
            check_cancellable(cancellable)
            cancellable.set_error_if_cancelled()

    def _mark_timed_out(self) -> None:
        """A source's ready time passed: the next I/O call fails once with ``TIMED_OUT``."""
        with self._lock:
            self._timed_out = True
            self._usable = False

    # -- lifetime -------------------------------------------------------------------------

    def _begin_close(self) -> bool:
        """Mark the socket closed and wake every wait on it; ``False`` if it already was."""
        with self._lock:
            if self._closed:
                return False
            self._check_socket()  # NOT_INITIALIZED is raised, as GLib's check_socket does
            self._closed, self._usable = True, False
            if self._wake is not None:
                self._wake.signal()
        return True

    def _reap(self) -> OSError | None:
        """Close the OS descriptor if the socket is closed and no call is in flight.

        Returns the error of the OS close, if it failed (``close()`` raises it; a call
        leaving the socket has nothing to report it to).
        """
        with self._lock:
            if not self._closed or self._sock is None:
                return None
            # Out before in: a call leaving between the two reads is still counted in, so the
            # difference never falls below the calls really in flight (it may exceed them:
            # then the last one to leave reaps).
            left = _count_value(self._left)
            if _count_value(self._entered) != left or _in_hot_path_elsewhere(self):
                return None
            sock, wake = self._sock, self._wake
            self._sock, self._fd, self._wake, self._poller = None, -1, None, None
        if wake is not None:
            wake.close()
        try:
            sock.close()
        except OSError as exc:
            return exc
        return None

    # -- waiting --------------------------------------------------------------------------

    def _make_poller(self) -> ConditionPoller:
        """The socket's poller, made at its first wait together with the close wake-up descriptor."""
        with self._lock:
            if self._closed or self._sock is None:
                raise closed_error()
            poller = self._poller
            if poller is None:
                self._wake = Wakeup()
                poller = self._poller = ConditionPoller(self._fd, self._wake.read_fd)
        return poller

    def _wait(self, condition: int, timeout_us: int, cancellable: Cancellable | None) -> int:
        """``condition_timed_wait`` without the checks: returns the ``revents`` seen.

        ``CLOSED`` when the socket is (or gets) closed, ``CANCELLED``, ``TIMED_OUT``.
        """
        poller = self._poller or self._make_poller()
        start = time.monotonic()
        try:
            revents = poller.wait(condition, effective_timeout_ms(self._timeout, timeout_us), cancellable)
        finally:
            CALL.waited += time.monotonic() - start  # what observers report as "waited"
        CALL.revents = revents
        return revents

    def _block(self, condition: int, timeout_us: int, start: float, cancellable: Cancellable | None) -> None:
        """GLib's ``block_on_timeout``: wait for ``condition`` within the call's deadline.

        ``timeout_us == 0`` means non-blocking: ``WOULD_BLOCK``. A positive ``timeout_us`` is a
        deadline for the whole call, measured from ``start``; negative waits as long as the
        socket timeout allows.
        """
        if timeout_us == 0:
            raise from_errno(errno.EWOULDBLOCK)
        if timeout_us > 0:
            left = timeout_us - int((time.monotonic() - start) * 1_000_000)
            if left <= 0:
                raise timed_out_error()
            self._wait(condition, left, cancellable)
        else:
            self._wait(condition, -1, cancellable)
        if self._closed:  # woken for readiness as close() came: the descriptor is not ours to use
            raise closed_error()

    def _io(self, condition: int, timeout_us: int, cancellable: Cancellable | None,
            prefix: str, call: Any, *args: Any) -> Any:
        """Try ``call(*args)`` once and, if the socket is not ready, wait and retry (GLib's loop)."""
        try:
            return call(*args)
        except BlockingIOError:
            return self._retry(condition, timeout_us, cancellable, prefix, call, *args)
        except OSError as exc:
            raise from_oserror(exc, prefix) from exc

    def _retry(self, condition: int, timeout_us: int, cancellable: Cancellable | None,
               prefix: str, call: Any, *args: Any) -> Any:
        """The waiting loop after a call found the socket not ready (``EAGAIN``)."""
        start = time.monotonic() if timeout_us > 0 else 0.0
        while True:
            self._block(condition, timeout_us, start, cancellable)
            try:
                return call(*args)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise from_oserror(exc, prefix) from exc

