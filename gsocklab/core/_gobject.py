"""A small GObject-like base: ``obj.props.<name>`` and ``get_property``/``set_property``.

Each class lists its properties once in ``_PROPERTIES`` as ``name -> (getter, setter)``
method names (``setter`` is ``None`` for read-only ones), with dashes written as
underscores, as PyGObject's ``props`` accessor does.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Object"]


class _Props:
    """The ``props`` view of one object."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Object) -> None:
        object.__setattr__(self, "_obj", obj)

    def __getattr__(self, name: str) -> Any:
        obj: Object = object.__getattribute__(self, "_obj")
        getter, _ = obj._property_methods(name)
        return getattr(obj, getter)()

    def __setattr__(self, name: str, value: Any) -> None:
        obj: Object = object.__getattribute__(self, "_obj")
        _, setter = obj._property_methods(name)
        if setter is None:
            raise TypeError(f"property '{name.replace('_', '-')}' is not writable")
        getattr(obj, setter)(value)

    def __dir__(self) -> list[str]:
        obj: Object = object.__getattribute__(self, "_obj")
        return sorted(type(obj)._PROPERTIES)

    def __repr__(self) -> str:
        obj: Object = object.__getattribute__(self, "_obj")
        return f"<props of {obj!r}>"


def _property_name(name: object, method: str) -> str:
    """``name`` with dashes as underscores; PyGObject's ``TypeError`` for anything but a ``str``."""
    if not isinstance(name, str):
        kind = "None" if name is None else type(name).__name__
        raise TypeError(f"GObject.{method}() argument 1 must be str, not {kind}")
    return name.replace("-", "_")


class Object:
    """Base of gsocklab's GObject look-alikes."""

    __slots__ = ("__weakref__",)
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {}

    @property
    def props(self) -> Any:
        """Properties by name (dashes as underscores): ``sock.props.listen_backlog``."""
        return _Props(self)

    def _property_methods(self, name: str) -> tuple[str, str | None]:
        key = name.replace("-", "_")
        try:
            return type(self)._PROPERTIES[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} has no property {name!r}") from None

    def get_property(self, name: str) -> Any:
        """The value of property ``name`` (``"listen-backlog"`` or ``"listen_backlog"``).

        A name that is not a ``str`` raises ``TypeError``, as in PyGObject.
        """
        return getattr(self.props, _property_name(name, "get_property"))

    def set_property(self, name: str, value: Any) -> None:
        """Set property ``name``; read-only properties raise ``TypeError``."""
        setattr(self.props, _property_name(name, "set_property"), value)

    @classmethod
    def list_property_names(cls) -> list[str]:
        """The names of this class's properties, GLib spelling (with dashes)."""
        return [name.replace("_", "-") for name in cls._PROPERTIES]
