"""``*_async``/``*_finish`` pairs as GLib runs them: `Task` is the ``GAsyncResult``.

``obj.op_async(…, cancellable, callback, *user_data)`` returns at once. The blocking work runs
in a thread of its own (it honours ``cancellable`` as the blocking call does); when it ends,
``callback(obj, result, *user_data)`` — every extra argument passed on, as PyGObject does —
runs from the **thread-default main context of the thread that made the call**, when that
context is next iterated (``GLib.MainLoop.run()``, ``iteration()``, or the asyncio loop
driving it). ``obj.op_finish(result)`` then returns the value or raises the error, once: the
result is handed over, and a second ``_finish`` fails ``FAILED`` (GLib logs a CRITICAL and
returns ``NULL``). A stream refuses a second operation while one is pending: ``PENDING``
"Stream has outstanding operation".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum
from ..core._errors import Error, new_io_error
from ..core._gobject import Object
from ..core._observe import via
from ..mainloop._asyncio import drive, running_loop
from ..mainloop._context import MainContext
from ..mainloop._loop import Idle
from ..mainloop._source import PRIORITY_DEFAULT

__all__ = ["Task", "fail_async", "finish", "in_context", "run_async"]

_UNSET = object()
_TAKEN = object()


class Task(Object):
    """A ``GTask``: the result of an async call, handed to its callback and its ``_finish``."""

    __slots__ = ("_cancellable", "_context", "_done", "_error", "_had_error", "_lock", "_source_object", "_tag",
                 "_value")

    def __init__(self, source_object: Any, cancellable: Cancellable | None, tag: str) -> None:
        self._source_object, self._cancellable, self._tag = source_object, cancellable, tag
        self._context = MainContext.ref_thread_default()
        self._done = threading.Event()
        self._value: Any = _UNSET
        self._error: BaseException | None = None
        self._had_error = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Gio.Task {self._tag} {'done' if self._done.is_set() else 'running'}>"

    def get_source_object(self) -> Any:
        """The object whose async call this is."""
        return self._source_object

    def get_cancellable(self) -> Cancellable | None:
        """The call's cancellable."""
        return self._cancellable

    def get_context(self) -> MainContext:
        """The context the callback runs from."""
        return self._context

    def had_error(self) -> bool:
        """Whether the call failed."""
        return self._had_error

    def get_completed(self) -> bool:
        """Whether the call has ended."""
        return self._done.is_set()

    def is_tagged(self, tag: str) -> bool:
        """Whether this is the result of the call named ``tag`` (``"read_bytes_async"``)."""
        return self._tag == tag

    def propagate(self) -> Any:
        """The value, or raise the error (``_finish`` does this): handed over once.

        The task lets go of what it hands over, so an error raised here does not tie the frames
        of its traceback (and what they hold, such as an unkept connection) to the task."""
        if not self._done.is_set():
            raise new_io_error(IOErrorEnum.PENDING, "The operation has not completed yet")
        with self._lock:
            error, value = self._error, self._value
            self._error, self._value = None, _TAKEN
        if error is not None:
            try:
                raise error
            finally:
                del error
        if value is _TAKEN:
            raise new_io_error(IOErrorEnum.FAILED, f"the result of {self._tag} was already taken by its _finish")
        return value


def finish(owner: Any, result: object, tag: str) -> Any:
    """What ``owner.<tag>_finish(result)`` returns: checks ``result`` came from ``owner.<tag>``."""
    if not isinstance(result, Task):
        raise TypeError(f"result must be the Gio.AsyncResult given to the callback, not {type(result).__name__}")
    if result._source_object is not owner or not result.is_tagged(tag):
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                           f"this result is not from {type(owner).__name__}.{tag} on this object")
    return result.propagate()


def run_async(owner: Any, tag: str, work: Callable[[], Any], cancellable: Cancellable | None,
              callback: Callable[..., Any] | None, user_data: tuple[Any, ...],
              done: Callable[[], None] | None = None) -> Task:
    """Run ``work()`` in a thread; then ``callback(owner, task, *user_data)`` from the caller's
    thread-default context (see the module doc). ``done`` runs just before the callback (a
    stream stays pending until then, as in GLib), or in the worker when there is no callback."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, not {type(callback).__name__}")
    task = Task(owner, cancellable, tag)
    loop = running_loop()
    if loop is not None and task._context is MainContext._default:
        drive(task._context, loop, take_over=False)  # a notebook cell: the kernel's loop runs the callback

    def worker() -> None:
        try:
            if cancellable is not None and cancellable.is_cancelled():
                raise new_io_error(IOErrorEnum.CANCELLED, "Operation was cancelled")
            with via(f"{type(owner).__name__}.{tag}"):
                task._value = work()
        except Error as error:
            task._error, task._had_error = error, True
        except Exception as error:  # a bug in the work: handed to _finish, as GLib hands errors
            task._error, task._had_error = error, True
        finally:
            if done is not None and callback is None:
                done()
            task._done.set()
        if callback is not None:
            idle = Idle()
            idle.set_priority(PRIORITY_DEFAULT)
            idle._set_callback(_deliver, (callback, owner, task, user_data, done))
            idle.attach(task._context)

    threading.Thread(target=worker, name=f"gsocklab {type(owner).__name__}.{tag}", daemon=True).start()
    return task


def _deliver(callback: Callable[..., Any], owner: Any, task: Task, user_data: tuple[Any, ...],
             done: Callable[[], None] | None) -> bool:
    if done is not None:
        done()
    callback(owner, task, *user_data)
    return False


def fail_async(owner: Any, tag: str, error: BaseException, callback: Callable[..., Any] | None,
               user_data: tuple[Any, ...]) -> None:
    """An async call that cannot start: GLib hands its error to the callback, not to the caller."""
    def work() -> Any:
        raise error

    run_async(owner, tag, work, None, callback, user_data)


def in_context(context: MainContext, cancellable: Cancellable | None, function: Callable[..., Any],
               *args: Any) -> None:
    """Run ``function(*args)`` from ``context`` (an Idle dispatched where it is iterated) and wait
    until it has run: how a worker reports a step to the caller's thread, as GLib's async
    operations do from their callbacks. A cancelled ``cancellable`` ends the wait ``CANCELLED``."""
    ran = threading.Event()

    def run(*_ignored: Any) -> bool:
        try:
            function(*args)
        finally:
            ran.set()
        return False

    idle = Idle()
    idle.set_priority(PRIORITY_DEFAULT)
    idle._set_callback(run, ())
    idle.attach(context)
    while not ran.wait(0.05):
        if cancellable is not None and cancellable.is_cancelled():
            idle.destroy()
            if not ran.is_set():
                raise new_io_error(IOErrorEnum.CANCELLED, "Operation was cancelled")
