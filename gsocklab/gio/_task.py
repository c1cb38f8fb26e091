"""``*_async``/``*_finish`` pairs as GLib runs them: `Task` is the ``GAsyncResult``.

``obj.op_async(…, cancellable, callback, user_data)`` returns at once. The blocking work runs
in a thread of its own (it honours ``cancellable`` as the blocking call does); when it ends,
``callback(obj, result)`` — ``callback(obj, result, user_data)`` when user data was given, as
PyGObject calls it — runs from the **thread-default main context of the thread that made the
call**, when that context is next iterated (``GLib.MainLoop.run()``, ``iteration()``, or the
asyncio loop driving it). ``obj.op_finish(result)`` then returns the value or raises the
error. A stream refuses a second operation while one is pending: ``PENDING`` "Stream has
outstanding operation".
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

__all__ = ["UNSET", "Task", "fail_async", "finish", "run_async", "user_args"]

_UNSET = object()
UNSET: Any = object()  # the default of ``user_data``: PyGObject passes it to the callback only when given


def user_args(user_data: Any) -> tuple[Any, ...]:
    """The callback's extra arguments: none when ``user_data`` was not given."""
    return () if user_data is UNSET else (user_data,)


class Task(Object):
    """A ``GTask``: the result of an async call, handed to its callback and its ``_finish``."""

    __slots__ = ("_cancellable", "_context", "_done", "_error", "_source_object", "_tag", "_value")

    def __init__(self, source_object: Any, cancellable: Cancellable | None, tag: str) -> None:
        self._source_object, self._cancellable, self._tag = source_object, cancellable, tag
        self._context = MainContext.ref_thread_default()
        self._done = threading.Event()
        self._value: Any = _UNSET
        self._error: BaseException | None = None

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
        return self._error is not None

    def get_completed(self) -> bool:
        """Whether the call has ended."""
        return self._done.is_set()

    def is_tagged(self, tag: str) -> bool:
        """Whether this is the result of the call named ``tag`` (``"read_bytes_async"``)."""
        return self._tag == tag

    def propagate(self) -> Any:
        """The value, or raise the error (``_finish`` does this)."""
        if not self._done.is_set():
            raise new_io_error(IOErrorEnum.PENDING, "The operation has not completed yet")
        if self._error is not None:
            raise self._error
        return self._value


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
            task._error = error
        except Exception as error:  # a bug in the work: handed to _finish, as GLib hands errors
            task._error = error
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
