"""The ``GLib`` namespace: ``from gsocklab import GLib`` as for ``from gi.repository import GLib``."""

from .core._enums import IOCondition
from .core._errors import Error

GError = Error  # PyGObject's older spelling

__all__ = ["Error", "GError", "IOCondition"]
