"""The ``GLib`` namespace: ``from gsocklab import GLib`` as for ``from gi.repository import GLib``."""

from .core._bytes import Bytes
from .core._enums import IOCondition
from .core._errors import Error
from .mainloop import (
    PRIORITY_DEFAULT,
    PRIORITY_DEFAULT_IDLE,
    PRIORITY_HIGH,
    PRIORITY_HIGH_IDLE,
    PRIORITY_LOW,
    SOURCE_CONTINUE,
    SOURCE_REMOVE,
    GLibWarning,
    Idle,
    IOChannel,
    IOFlags,
    IOStatus,
    MainContext,
    MainLoop,
    PollFD,
    Source,
    Timeout,
    get_monotonic_time,
    get_real_time,
    idle_add,
    idle_source_new,
    io_add_watch,
    main_context_default,
    source_remove,
    timeout_add,
    timeout_add_seconds,
    timeout_source_new,
    timeout_source_new_seconds,
)

GError = Error  # PyGObject's older spelling
Warning = GLibWarning

# PyGObject's flat constants (gi/overrides/GLib.py)
IO_IN, IO_OUT, IO_PRI = IOCondition.IN, IOCondition.OUT, IOCondition.PRI
IO_ERR, IO_HUP, IO_NVAL = IOCondition.ERR, IOCondition.HUP, IOCondition.NVAL
IO_FLAG_APPEND, IO_FLAG_NONBLOCK = IOFlags.APPEND, IOFlags.NONBLOCK
IO_FLAG_IS_READABLE, IO_FLAG_IS_WRITEABLE, IO_FLAG_IS_SEEKABLE = (IOFlags.IS_READABLE, IOFlags.IS_WRITABLE,
                                                                  IOFlags.IS_SEEKABLE)
IO_FLAG_MASK, IO_FLAG_GET_MASK, IO_FLAG_SET_MASK = IOFlags.MASK, IOFlags.GET_MASK, IOFlags.SET_MASK
IO_STATUS_ERROR, IO_STATUS_NORMAL, IO_STATUS_EOF, IO_STATUS_AGAIN = (IOStatus.ERROR, IOStatus.NORMAL, IOStatus.EOF,
                                                                     IOStatus.AGAIN)

__all__ = [
    "IO_ERR", "IO_FLAG_APPEND", "IO_FLAG_GET_MASK", "IO_FLAG_IS_READABLE", "IO_FLAG_IS_SEEKABLE",
    "IO_FLAG_IS_WRITEABLE", "IO_FLAG_MASK", "IO_FLAG_NONBLOCK", "IO_FLAG_SET_MASK", "IO_HUP", "IO_IN", "IO_NVAL",
    "IO_OUT", "IO_PRI", "IO_STATUS_AGAIN", "IO_STATUS_EOF", "IO_STATUS_ERROR", "IO_STATUS_NORMAL",
    "PRIORITY_DEFAULT", "PRIORITY_DEFAULT_IDLE", "PRIORITY_HIGH", "PRIORITY_HIGH_IDLE", "PRIORITY_LOW",
    "SOURCE_CONTINUE", "SOURCE_REMOVE",
    "Bytes", "Error", "GError", "IOChannel", "IOCondition", "IOFlags", "IOStatus", "Idle", "MainContext", "MainLoop",
    "Warning",
    "PollFD", "Source", "Timeout", "get_monotonic_time", "get_real_time", "idle_add", "idle_source_new",
    "io_add_watch", "main_context_default", "source_remove", "timeout_add", "timeout_add_seconds",
    "timeout_source_new", "timeout_source_new_seconds",
]
