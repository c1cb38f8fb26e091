"""GObject signals for gsocklab's Gio objects: ``connect``/``disconnect``/``emit`` as in PyGObject.

A handler is called as ``handler(obj, *signal_args, *user_data)``; ``connect`` returns a
handler id (> 0). A subclass may define the class handler ``do_<signal>(*signal_args)``
(``do_incoming``, ``do_run``), as PyGObject subclasses do; it runs after the connected
handlers (GLib's ``RUN_LAST``) unless one of them stopped the emission. Each class declares
its signals in ``_SIGNALS`` as ``name -> accumulator``: ``"first-true"`` stops at the first
handler returning true and returns true (GLib's ``g_signal_accumulator_true_handled``, used
by ``incoming`` and ``run``); ``None`` calls them all and returns ``None``. Handlers run in
the emitting thread; connecting and disconnecting are safe from any thread.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from ..core._gobject import Object

__all__ = ["SignalObject"]

_handler_ids = itertools.count(1)


class SignalObject(Object):
    """An `Object` with signals (see the module doc)."""

    __slots__ = ("_handlers", "_signal_lock")
    _SIGNALS: ClassVar[dict[str, str | None]] = {}

    def __init__(self) -> None:
        self._signal_lock = threading.Lock()
        self._handlers: dict[int, tuple[str, Callable[..., Any], tuple[Any, ...], bool]] = {}

    def _signal_name(self, name: object) -> str:
        if not isinstance(name, str):
            raise TypeError(f"signal name must be a str, not {type(name).__name__}")
        key = name.replace("_", "-")
        if key not in type(self)._SIGNALS:
            raise TypeError(f"{type(self).__name__}: unknown signal name: {name}")
        return key

    def connect(self, name: str, handler: Callable[..., Any], *user_data: Any) -> int:
        """Call ``handler(self, *signal_args, *user_data)`` on each emission of signal ``name``."""
        key = self._signal_name(name)
        if not callable(handler):
            raise TypeError("second argument must be callable")
        handler_id = next(_handler_ids)
        with self._signal_lock:
            self._handlers[handler_id] = (key, handler, user_data, False)
        return handler_id

    def connect_after(self, name: str, handler: Callable[..., Any], *user_data: Any) -> int:
        """As `connect` (handlers run in the order they were connected)."""
        return self.connect(name, handler, *user_data)

    def disconnect(self, handler_id: int) -> None:
        """Remove a handler; an unknown id is a ``TypeError`` naming it (GLib warns)."""
        with self._signal_lock:
            if self._handlers.pop(handler_id, None) is None:
                raise TypeError(f"{type(self).__name__}: no handler with id {handler_id}")

    disconnect_by_id = disconnect

    def handler_is_connected(self, handler_id: int) -> bool:
        """Whether the handler is connected."""
        return handler_id in self._handlers

    def _set_blocked(self, handler_id: int, blocked: bool) -> None:
        with self._signal_lock:
            entry = self._handlers.get(handler_id)
            if entry is None:
                raise TypeError(f"{type(self).__name__}: no handler with id {handler_id}")
            self._handlers[handler_id] = (*entry[:3], blocked)

    def handler_block(self, handler_id: int) -> None:
        """Skip the handler until `handler_unblock`; an unknown id is a ``TypeError``."""
        self._set_blocked(handler_id, True)

    def handler_unblock(self, handler_id: int) -> None:
        """Call the handler again; an unknown id is a ``TypeError``."""
        self._set_blocked(handler_id, False)

    def emit(self, name: str, *args: Any) -> Any:
        """Call the handlers of ``name`` with ``args``; the accumulated result."""
        key = self._signal_name(name)
        with self._signal_lock:
            handlers = [(handler, data) for (signal, handler, data, blocked) in self._handlers.values()
                        if signal == key and not blocked]
        first_true = type(self)._SIGNALS[key] == "first-true"
        for handler, data in handlers:
            result = handler(self, *args, *data)
            if first_true and result:
                return True
        default = getattr(self, "do_" + key.replace("-", "_"), None)  # a subclass's class handler runs last
        if default is not None:
            result = default(*args)
            if first_true and result:
                return True
        return False if first_true else None

    def _has_handlers(self, name: str) -> bool:
        with self._signal_lock:
            return any(signal == name for (signal, _h, _d, _b) in self._handlers.values())
