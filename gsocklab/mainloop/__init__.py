"""GLib's main loop in pure Python: ``GLib.MainContext``, ``MainLoop``, sources, timeouts,
idles, ``IOChannel`` watches — what PyGObject programs build on, with GLib's semantics.

``from gsocklab import GLib`` gives the PyGObject names (``GLib.MainLoop``,
``GLib.timeout_add`` …). In a Jupyter kernel, a context can be iterated by the kernel's
running asyncio loop instead of a blocking ``MainLoop.run()``: a source attached with
``attach()`` (the default context) from a cell is dispatched by the kernel's loop as soon as
it is attached, and `drive` makes any context iterate from a loop explicitly.
"""

from ._asyncio import drive
from ._context import MainContext, main_context_default
from ._iochannel import IOChannel, IOFlags, IOStatus, io_add_watch
from ._loop import (
    GLibWarning,
    Idle,
    MainLoop,
    Timeout,
    get_monotonic_time,
    get_real_time,
    idle_add,
    idle_source_new,
    source_remove,
    timeout_add,
    timeout_add_seconds,
    timeout_source_new,
    timeout_source_new_seconds,
)
from ._source import (
    PRIORITY_DEFAULT,
    PRIORITY_DEFAULT_IDLE,
    PRIORITY_HIGH,
    PRIORITY_HIGH_IDLE,
    PRIORITY_LOW,
    SOURCE_CONTINUE,
    SOURCE_REMOVE,
    PollFD,
    Source,
)

__all__ = [
    "PRIORITY_DEFAULT", "PRIORITY_DEFAULT_IDLE", "PRIORITY_HIGH", "PRIORITY_HIGH_IDLE", "PRIORITY_LOW",
    "SOURCE_CONTINUE", "SOURCE_REMOVE", "GLibWarning", "IOChannel", "IOFlags", "IOStatus", "Idle", "MainContext",
    "MainLoop",
    "PollFD", "Source", "Timeout", "drive", "get_monotonic_time", "get_real_time", "idle_add", "idle_source_new",
    "io_add_watch", "main_context_default", "source_remove", "timeout_add", "timeout_add_seconds",
    "timeout_source_new", "timeout_source_new_seconds",
]
