"""The observer hook: socket calls reported to observers, at no cost when nobody listens.

An unobserved socket is a plain `Socket`: its methods are not wrapped, and the only check
added to any of them is one attribute test in ``send_to`` and ``receive_from`` (see the
lane below). When an observer is attached to a socket (`attach`), or to every socket in the
process (`add_global`), the socket's class is switched to an observed subclass
(`observed_class`; `Socket` has slots, so the switch keeps attribute access fast), whose
methods time the call, let it run unchanged, and report it with
``observer.on_call(sock, op, t0, duration, waited, nbytes, peer, payload, error, extra)``
(see `SocketObserver`). When the last observer goes, the socket becomes a plain `Socket`
again. An observer that raises is detached everywhere and the error logged on logger
``gsocklab``: it can never make a socket call fail.

An observer may also offer a `Lane`: when it is a socket's only observer, the plain sends
and receives (``send_to``, ``send``, ``receive_from``, ``receive`` with ``bytes`` payloads
and no error) are staged straight into the lane, without a call to ``on_call``.
``send_to`` and ``receive_from``, the calls of datagram loops, do it inside `Socket` itself
(the socket's ``_lane`` is set only then), which saves the wrapper's Python call.

`CALLS` counts the reports delivered through ``on_call`` (a lane's owner counts what was
staged into it), so tests can check that no observer work happens when none is attached.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from ._errors import Error
from ._socket_base import ASYNC_WAITED, CALL

if TYPE_CHECKING:
    from ._address import SocketAddress
    from ._socket_base import SocketBase as Socket

__all__ = [
    "CALLS",
    "LANE_FIELDS",
    "Lane",
    "SocketObserver",
    "add_global",
    "address_text",
    "attach",
    "detach",
    "lane_failed",
    "observed_class",
    "observers_of",
    "peer_of",
    "plain_class",
    "remove_global",
    "report",
    "via",
    "watch_new",
]

_log = logging.getLogger("gsocklab")
_lock = threading.RLock()
_global: list[SocketObserver] = []
_live: weakref.WeakSet[Socket] = weakref.WeakSet()
CALLS = [0]  # reports delivered through on_call (a list so the count can be read through the module)
_span_listeners: list[Any] = []  # recorders that record now: they want to know which API call made a socket call
_span_state = threading.local()


def listen_to_spans(listener: Any, listening: bool) -> None:
    """Start (or stop) telling ``listener.on_span(name, thread, t0, t1)`` about `via` spans."""
    with _lock:
        if listening and listener not in _span_listeners:
            _span_listeners.append(listener)
        elif not listening and listener in _span_listeners:
            _span_listeners.remove(listener)


class via:
    """Attribute the socket calls made inside to the user-visible call ``name``.

    The Gio layers (streams, clients, listeners) wrap each public call in it. Only the
    outermost span of a thread counts, and only while a recorder records: otherwise entering
    and leaving cost one list test. Span listeners never break the call: their errors are logged.
    """

    __slots__ = ("_counted", "_name", "_outer", "_t0")

    def __init__(self, name: str) -> None:
        self._name = name
        self._counted = self._outer = False
        self._t0 = 0.0

    def __enter__(self) -> via:
        if _span_listeners:
            depth = getattr(_span_state, "depth", 0)
            _span_state.depth = depth + 1
            self._counted, self._outer = True, depth == 0
            self._t0 = monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._counted:
            return
        _span_state.depth -= 1
        if self._outer:
            t1 = monotonic()
            thread = threading.current_thread().name
            for listener in list(_span_listeners):
                try:
                    listener.on_span(self._name, thread, self._t0, t1)
                except Exception:  # never into the caller's I/O
                    _log.exception("gsocklab: a span listener failed")


class SocketObserver(Protocol):
    """What an observer provides: one method, called after every socket call.

    ``op`` is the Gio method name; ``t0`` is ``time.monotonic()`` at the start; ``duration``
    and ``waited`` (the time spent waiting inside the call) are seconds too (floats: they
    are cheaper to make than nanosecond ints); ``nbytes``, ``peer`` (an address)
    and ``payload`` (a bytes-like object — copy what you keep) may be ``None``; ``error`` is
    the ``GLib.Error`` the call raised, if any; ``extra`` is ``None`` or a dict with any of
    ``blocking``, ``timeout``, ``condition``, ``ready``, ``flags``, ``value``,
    ``messages`` + ``count`` (batched calls) and ``vectors`` (message calls).
    """

    def on_call(self, sock: Socket, op: str, t0: float, duration: float, waited: float, nbytes: int | None,
                peer: SocketAddress | None, payload: Any, error: Error | None,
                extra: dict[str, Any] | None) -> None: ...


# What a lane's ``stage`` receives for one call: a tuple of these fields, in this order.
LANE_FIELDS: Final = ("t0", "end", "waited", "nbytes", "sock", "op", "thread", "peer", "payload", "more")


class Lane(NamedTuple):
    """An observer's fast lane: where the hook stages plain sends and receives itself.

    ``stage`` takes one tuple of `LANE_FIELDS` per call (``more`` is ``None``: no error,
    no extra values; ``payload`` is ``bytes`` cut to ``cap`` bytes, or ``None`` when ``cap`` is 0)
    and must not raise (``list.extend`` is the intended one). ``thread`` is
    ``threads.code`` in the calling thread, or ``thread_code()`` when it has none yet.
    """

    stage: Callable[[tuple[Any, ...]], object]
    threads: threading.local
    thread_code: Callable[[], Any]
    cap: int


def address_text(address: SocketAddress | None) -> str | None:
    """How the log shows an address: ``127.0.0.1:5000``, ``[::1]:5000``, a unix path."""
    if address is None:
        return None
    from ._address import InetSocketAddress, UnixSocketAddress

    if isinstance(address, InetSocketAddress):
        host = address.get_address().to_string()
        return f"[{host}]:{address.get_port()}" if ":" in host else f"{host}:{address.get_port()}"
    if isinstance(address, UnixSocketAddress):
        return address.to_string()
    return str(address)


# -- the registry ---------------------------------------------------------------------------------

def observers_of(sock: Socket) -> tuple[SocketObserver, ...]:
    """The observers a socket reports to (global ones first)."""
    own: tuple[SocketObserver, ...] = getattr(sock, "_own_observers", ())
    return tuple(_global) + tuple(o for o in own if o not in _global)


def _refresh(sock: Socket) -> None:
    """Switch ``sock`` to its observed class or back, to match its observers."""
    observers = observers_of(sock)
    lane = getattr(observers[0], "lane", None) if len(observers) == 1 else None
    plain = plain_class(type(sock))
    sock._observers, sock._lane = observers, None
    sock.__class__ = observed_class(plain, lane is not None) if observers else plain
    sock._lane = None if lane is None else tuple(lane)  # a plain tuple unpacks faster than a NamedTuple


def watch_new(sock: Socket) -> None:
    """Called for every new socket: remember it, and observe it if global observers exist."""
    _live.add(sock)
    if _global:
        with _lock:
            _refresh(sock)


def add_global(observer: SocketObserver) -> None:
    """Report every call of every socket in the process, existing and future, to ``observer``."""
    with _lock:
        if observer not in _global:
            _global.append(observer)
        for sock in list(_live):
            _refresh(sock)


def remove_global(observer: SocketObserver) -> None:
    """Stop reporting to ``observer`` as a global observer."""
    with _lock:
        if observer in _global:
            _global.remove(observer)
        for sock in list(_live):
            _refresh(sock)


def attach(sock: Socket, observer: SocketObserver) -> None:
    """Report the calls of ``sock`` to ``observer``."""
    with _lock:
        own = getattr(sock, "_own_observers", ())
        if observer not in own:
            sock._own_observers = (*own, observer)  # type: ignore[attr-defined]
        _refresh(sock)


def detach(sock: Socket, observer: SocketObserver) -> None:
    """Stop reporting the calls of ``sock`` to ``observer`` (global observation aside)."""
    with _lock:
        sock._own_observers = tuple(  # type: ignore[attr-defined]
            o for o in getattr(sock, "_own_observers", ()) if o is not observer)
        _refresh(sock)


def _drop(observer: SocketObserver) -> None:
    """Detach an observer that raised, from everything."""
    with _lock:
        for sock in list(_live):
            own = getattr(sock, "_own_observers", ())
            if observer in own:
                sock._own_observers = tuple(o for o in own if o is not observer)  # type: ignore[attr-defined]
        remove_global(observer)  # and every socket switched to match


def report(sock: Any, op: str, t0: float, waited: float, nbytes: int | None, peer: Any, payload: Any,
            error: Error | None, extra: dict[str, Any] | None) -> None:
    """Deliver one call to the socket's observers; an observer that raises is dropped."""
    duration = monotonic() - t0
    if type(payload) is list or type(payload) is tuple:  # the ints PyGObject code sends: observers get bytes
        try:
            payload = bytes(payload)
        except (TypeError, ValueError):
            payload = None
    for observer in sock._observers:
        CALLS[0] += 1
        try:
            observer.on_call(sock, op, t0, duration, waited, nbytes, peer, payload, error, extra)
        except Exception:
            _log.exception("socket observer %r raised and was detached", observer)
            _drop(observer)


# -- the observed class ------------------------------------------------------------------------------

def peer_of(sock: Any) -> Any:
    """The connected peer of ``sock`` for the log, or ``None``."""
    if sock._remote_address is None and (sock._connected_read or sock._connected_write):
        try:
            sock.get_remote_address()
        except Error:
            return None
    return sock._remote_address


Extract = Callable[[Any, tuple[Any, ...], dict[str, Any], Any], tuple[Any, Any, Any, Any]]


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _wrap(plain: type, name: str, extract: Extract) -> Callable[..., Any]:
    """An observed version of ``plain.<name>``: ``extract`` gives (nbytes, peer, payload, extra)."""
    base = getattr(plain, name)

    @functools.wraps(base)
    def observed(self: Any, *args: Any, **kwargs: Any) -> Any:
        waited = CALL.waited
        t0 = monotonic()
        try:
            result = base(self, *args, **kwargs)
        except Error as error:
            try:
                nbytes, peer, payload, extra = extract(self, args, kwargs, None)
            except Exception:
                nbytes = peer = payload = extra = None
            report(self, name, t0, CALL.waited - waited, None, peer, None, error, extra)
            raise
        nbytes, peer, payload, extra = extract(self, args, kwargs, result)
        report(self, name, t0, CALL.waited - waited, nbytes, peer, payload, None, extra)
        return result

    return observed


def _wrap_async(plain: type, name: str, extract: Extract) -> Callable[..., Any]:
    """An observed version of the coroutine method ``plain.<name>``: one row when it completes.

    What the call awaited is summed per task (`ASYNC_WAITED`); the non-blocking attempts
    and waits inside it are steps of this one call, never rows of their own.
    """
    base = getattr(plain, name)

    @functools.wraps(base)
    async def observed(self: Any, *args: Any, **kwargs: Any) -> Any:
        if ASYNC_WAITED.get() is not None:  # called by an observed async call of this task: a step of that one
            return await base(self, *args, **kwargs)
        waits = [0.0]
        token = ASYNC_WAITED.set(waits)
        t0 = monotonic()
        try:
            result = await base(self, *args, **kwargs)
        except Error as error:
            try:
                nbytes, peer, payload, extra = extract(self, args, kwargs, None)
            except Exception:
                nbytes = peer = payload = extra = None
            report(self, name, t0, waits[0], None, peer, None, error, extra)
            raise
        finally:
            ASYNC_WAITED.reset(token)
        nbytes, peer, payload, extra = extract(self, args, kwargs, result)
        report(self, name, t0, waits[0], nbytes, peer, payload, None, extra)
        return result

    return observed


def _nothing(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    return None, None, None, None


def _value(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    return None, None, None, {"value": args[0] if args else next(iter(kwargs.values()), None)}


def _address_arg(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    return None, _arg(args, kwargs, 0, "address"), None, None


def _accepted(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    return None, None if result is None else peer_of(result), None, None


def _group(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    """A join/leave shows ``group%iface``, and for a source-specific one `` from source``.

    ``join_multicast_group_ssm`` and ``leave_multicast_group_ssm`` take the source as their
    second argument (``source_specific``, an ``InetAddress`` or ``None``); the plain calls
    take a ``bool`` there, which is not shown.
    """
    group = _arg(args, kwargs, 0, "group")
    iface = _arg(args, kwargs, 2, "iface")
    text = f"{group}{'%' + iface if iface else ''}"
    source = _arg(args, kwargs, 1, "source_specific")
    if source is not None and not isinstance(source, (bool, int)):
        text += f" from {source}"
    return None, None, None, {"value": text}


def _effective_timeout(sock: Any, timeout_us: object) -> float | None:
    """The timeout a call with ``timeout_us`` waits under, in seconds; ``None``: the socket's own.

    As GLib's ``g_socket_condition_timed_wait``: a negative ``timeout_us`` waits as long as the
    socket's timeout allows (for ever without one), and the socket's timeout, when set and
    shorter, bounds a given one.
    """
    if not isinstance(timeout_us, int) or timeout_us < 0:
        return None
    own = getattr(sock, "_timeout", 0) or 0
    given = timeout_us / 1e6
    return min(given, float(own)) if own else given


def _condition(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    extra: dict[str, Any] = {"condition": int(_arg(args, kwargs, 0, "condition", 0))}
    if len(args) > 1 and isinstance(args[1], int):
        timeout = _effective_timeout(sock, args[1])
        if timeout is not None:
            extra["timeout"] = timeout
    if result is not None:
        extra["ready"] = int(result) if not isinstance(result, bool) else CALL.revents
    return None, None, None, extra


def _sent(peer_index: int | None, data_index: int,
          blocking_index: int | None = None) -> Extract:
    def extract(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
        peer = _arg(args, kwargs, peer_index, "address") if peer_index is not None else None
        extra = None if blocking_index is None else {"blocking": bool(_arg(args, kwargs, blocking_index, "blocking"))}
        return result, peer if peer is not None else peer_of(sock), _arg(args, kwargs, data_index, "buffer"), extra
    return extract


def _received(blocking_index: int | None = None, timeout_index: int | None = None) -> Extract:
    def extract(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
        extra: dict[str, Any] | None = None
        if blocking_index is not None:
            extra = {"blocking": bool(_arg(args, kwargs, blocking_index, "blocking"))}
        if timeout_index is not None:
            timeout_us = _arg(args, kwargs, timeout_index, "timeout_us", -1)
            extra = {"blocking": timeout_us != 0}
            timeout = _effective_timeout(sock, timeout_us) if timeout_us != 0 else None
            if timeout is not None:
                extra["timeout"] = timeout
        if result is None:
            return None, peer_of(sock), None, extra
        if isinstance(result, bytes):  # receive_bytes
            return len(result), peer_of(sock), result, extra
        if len(result) == 2 and isinstance(result[0], (bytes, bytearray)):  # receive_bytes_from
            return len(result[0]), result[1], result[0], extra
        if len(result) == 3:  # receive_from
            return result[0], result[1], result[2], extra
        count, buffer = result[0], result[1]
        return count, peer_of(sock), memoryview(buffer)[:count] if count < len(buffer) else buffer, extra
    return extract


def _message(sent: bool) -> Extract:
    def extract(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
        if sent:
            vectors = _arg(args, kwargs, 1, "vectors")
            extra = {"vectors": vectors, "flags": _arg(args, kwargs, 3, "flags", 0)}
            nbytes = result[1] if isinstance(result, tuple) else result
            return nbytes, _arg(args, kwargs, 0, "address") or peer_of(sock), None, extra
        vectors = _arg(args, kwargs, 0, "vectors")
        if result is None:
            return None, peer_of(sock), None, {"vectors": vectors}
        return result[0], result[1] or peer_of(sock), None, {"vectors": vectors, "flags": result[3]}
    return extract


def _batch(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> tuple[Any, Any, Any, Any]:
    return None, peer_of(sock), None, {"messages": _arg(args, kwargs, 0, "messages"), "count": result or 0,
                              "flags": _arg(args, kwargs, 1, "flags", 0)}


_OPS: dict[str, Extract] = {
    "send": _sent(None, 0), "send_to": _sent(0, 1), "send_with_blocking": _sent(None, 0, 1),
    "receive": _received(), "receive_from": _received(), "receive_with_blocking": _received(0),
    "receive_bytes": _received(timeout_index=1), "receive_bytes_from": _received(timeout_index=1),
    "send_message": _message(sent=True), "send_message_with_timeout": _message(sent=True),
    "receive_message": _message(sent=False),
    "send_messages": _batch, "receive_messages": _batch,
    "accept": _accepted, "connect": _address_arg, "bind": _nothing, "listen": _nothing,
    "check_connect_result": _nothing, "shutdown": _nothing, "close": _nothing,
    "condition_check": _condition, "condition_wait": _condition, "condition_timed_wait": _condition,
    "join_multicast_group": _group, "leave_multicast_group": _group,
    "join_multicast_group_ssm": _group, "leave_multicast_group_ssm": _group,
    "set_blocking": _value, "set_timeout": _value, "set_ttl": _value, "set_multicast_ttl": _value,
    "set_multicast_loopback": _value, "set_broadcast": _value, "set_keepalive": _value,
    "set_listen_backlog": _value,
    # set_option is left out: the property setters call it, and their own rows say more.
}


def _condition_async(sock: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     result: Any) -> tuple[Any, Any, Any, Any]:
    """`_condition` of an async wait: ``ready`` is polled now (the loop's wait leaves no ``revents``)."""
    nbytes, peer, payload, extra = _condition(sock, args, kwargs, None)
    check = getattr(sock, "_condition_check", None)
    if result is not None and check is not None:
        extra["ready"] = int(check(extra["condition"]))
    return nbytes, peer, payload, extra


_ASYNC_OPS: dict[str, Extract] = {
    "receive_async": _OPS["receive"], "receive_from_async": _OPS["receive_from"],
    "receive_messages_async": _batch, "send_async": _OPS["send"], "send_to_async": _OPS["send_to"],
    "send_messages_async": _batch, "accept_async": _accepted,
    "condition_wait_async": _condition_async, "condition_timed_wait_async": _condition_async,
}


def _fail(observer: SocketObserver) -> None:
    _log.exception("socket observer %r raised and was detached", observer)
    _drop(observer)


def lane_failed(sock: Any) -> None:
    """Staging into the socket's lane raised: detach its owner (called from an ``except``)."""
    if sock._observers:
        _fail(sock._observers[0])


def _fast(plain: type) -> dict[str, Any]:
    """Hand-written wrappers for the calls of datagram and stream loops.

    ``send_to``/``receive_from`` report through ``on_call`` (with a lane they are not
    wrapped: `Socket` stages them itself). ``send``/``receive``, when the socket's only
    observer has a `Lane` and the payload is ``bytes``, stage the call straight into the
    lane, written out in each wrapper on purpose: a helper function would add a Python call
    to every send and receive (see ``benchmarks/bench_record.py``).
    """
    send_to, receive_from = getattr(plain, "send_to"), getattr(plain, "receive_from")  # noqa: B009
    send, receive = getattr(plain, "send"), getattr(plain, "receive")  # noqa: B009

    def observed_send_to(self: Any, address: Any, buffer: Any, cancellable: Any = None) -> int:
        waited = CALL.waited
        t0 = monotonic()
        try:
            sent: int = send_to(self, address, buffer, cancellable)
        except Error as error:
            report(self, "send_to", t0, CALL.waited - waited, None, address, None, error, None)
            raise
        report(self, "send_to", t0, CALL.waited - waited, sent, address if address is not None else peer_of(self),
               buffer, None, None)
        return sent

    def observed_receive_from(self: Any, cancellable: Any = None, size: int = 65536) -> Any:
        waited = CALL.waited
        t0 = monotonic()
        try:
            result = receive_from(self, cancellable, size)
        except Error as error:
            report(self, "receive_from", t0, CALL.waited - waited, None, None, None, error, None)
            raise
        report(self, "receive_from", t0, CALL.waited - waited, result[0], result[1], result[2], None, None)
        return result

    def observed_send(self: Any, buffer: Any, cancellable: Any = None) -> int:
        waited = CALL.waited
        t0 = monotonic()
        try:
            sent: int = send(self, buffer, cancellable)
        except Error as error:
            report(self, "send", t0, CALL.waited - waited, None, peer_of(self), None, error, None)
            raise
        lane = self._lane
        if lane is not None and type(buffer) is bytes:
            try:
                stage, threads, thread_code, cap = lane
                try:
                    thread = threads.code
                except AttributeError:
                    thread = thread_code()
                payload = buffer[:sent]
                stage((t0, monotonic(), CALL.waited - waited, sent, self, "send", thread, peer_of(self),
                       payload if sent <= cap else payload[:cap] if cap else None, None))
            except Exception:
                lane_failed(self)
        else:
            report(self, "send", t0, CALL.waited - waited, sent, peer_of(self), buffer, None, None)
        return sent

    def observed_receive(self: Any, cancellable: Any = None, size: int = 65536, buffer: Any = None) -> Any:
        waited = CALL.waited
        t0 = monotonic()
        try:
            result = receive(self, cancellable, size, buffer)
        except Error as error:
            report(self, "receive", t0, CALL.waited - waited, None, peer_of(self), None, error, None)
            raise
        count, data = result
        lane = self._lane
        if lane is not None and buffer is None:
            try:
                stage, threads, thread_code, cap = lane
                try:
                    thread = threads.code
                except AttributeError:
                    thread = thread_code()
                stage((t0, monotonic(), CALL.waited - waited, count, self, "receive", thread, peer_of(self),
                       data if count <= cap else data[:cap] if cap else None, None))
            except Exception:
                lane_failed(self)
        else:
            report(self, "receive", t0, CALL.waited - waited, count, peer_of(self),
                    data if buffer is None else memoryview(data)[:count], None, None)
        return result

    wrappers: dict[str, Any] = {"send_to": observed_send_to, "receive_from": observed_receive_from,
                                "send": observed_send, "receive": observed_receive}
    for name, wrapper in wrappers.items():
        functools.update_wrapper(wrapper, getattr(plain, name))
    return wrappers


_observed_classes: dict[tuple[type, bool], type] = {}
# Calls that `Socket` stages into a lane itself (see `Socket.send_to`): not wrapped in lane classes.
_STAGED_BY_SOCKET: Final = frozenset({"send_to", "receive_from"})


def observed_class(plain: type, lane: bool = False) -> type:
    """The observed subclass of a socket class (made once per class and kind).

    ``lane``: the class for a socket whose only observer has a `Lane`, whose
    ``send_to``/``receive_from`` are the plain ones (they stage into the lane themselves).
    """
    observed = _observed_classes.get((plain, lane))
    if observed is None:
        namespace: dict[str, Any] = {name: _wrap(plain, name, extract) for name, extract in _OPS.items()}
        namespace.update((name, _wrap_async(plain, name, extract)) for name, extract in _ASYNC_OPS.items()
                         if hasattr(plain, name))
        namespace.update(_fast(plain))
        if lane:
            for name in _STAGED_BY_SOCKET:
                del namespace[name]
        namespace["__doc__"] = "A socket whose calls are reported to its observers (see `gsocklab._observe`)."
        namespace["__module__"] = __name__
        namespace["_observed"] = True
        namespace["__slots__"] = ()  # the same layout: `__class__` can be switched back and forth
        name = f"{'Lane' if lane else ''}Observed{plain.__name__}"
        observed = _observed_classes[(plain, lane)] = type(name, (plain,), namespace)
    return observed


def plain_class(cls: type) -> type:
    """The socket class an observed class wraps (the class itself if it is not observed)."""
    return cls.__mro__[1] if cls.__dict__.get("_observed") else cls
