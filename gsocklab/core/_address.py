"""Socket addresses: ``InetAddress``, ``InetSocketAddress``, ``UnixSocketAddress`` (pure data).

Mirrors GLib HEAD's ``ginetaddress.c``, ``ginetsocketaddress.c``, ``gsocketaddress.c`` and
``gunixsocketaddress.c``; where 2.74 differs (``%scope`` parsing, ``flowinfo``/``scope_id`` on
``InetAddress``, v4-mapped ``InetSocketAddress.new_from_string``) this follows HEAD.
Each address computes ``_sockaddr`` once: the form ``socket`` takes for ``bind``/``connect``/
``sendto``; `address_from_sockaddr` converts what ``getsockname``/``recvfrom`` return.
Where GLib would log a ``CRITICAL`` and return ``NULL`` or garbage, these raise: ``TypeError``
(wrong type), ``OverflowError`` (integer out of range, as PyGObject) or ``GLib.Error``
``INVALID_ARGUMENT`` (wrong family or byte count). No I/O beyond numeric parsing.
"""

from __future__ import annotations

import builtins
import socket
import sys
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Final, TypeAlias, TypeVar

from ._enums import IOErrorEnum, SocketFamily, UnixSocketAddressType
from ._errors import new_io_error
from ._gobject import Object

__all__ = ["InetAddress", "InetSocketAddress", "SocketAddress", "UnixSocketAddress", "address_from_sockaddr"]

Sockaddr: TypeAlias = "tuple[str, int] | tuple[str, int, int, int] | str | builtins.bytes"
"""An address as Python's ``socket`` module takes and returns it."""

BytesLike: TypeAlias = "builtins.bytes | bytearray | memoryview | Sequence[int]"
"""Raw bytes, or a list of byte values as PyGObject accepts for ``guint8``/``gchar`` arrays."""

_AF_INET: Final = socket.AF_INET
_AF_INET6: Final = socket.AF_INET6
_AF_UNIX: Final = socket.AF_UNIX
_IPV4: Final = SocketFamily.IPV4
_IPV6: Final = SocketFamily.IPV6
_UNIX: Final = SocketFamily.UNIX
_inet_pton: Final = socket.inet_pton
_inet_ntop: Final = socket.inet_ntop

_UINT16_MAX: Final = 0xFFFF
_UINT32_MAX: Final = 0xFFFFFFFF
_V4MAPPED_PREFIX: Final = b"\0" * 10 + b"\xff\xff"
_IN6_ANY: Final = b"\0" * 16
_IN6_LOOPBACK: Final = b"\0" * 15 + b"\1"

UNIX_PATH_MAX: Final = 108
"""``sizeof(sun_path)`` on Linux; names are clipped to ``UNIX_PATH_MAX - 1`` bytes."""
_SUN_PATH_OFFSET: Final = 2  # offsetof(struct sockaddr_un, sun_path)
_SOCKADDR_UN_SIZE: Final = _SUN_PATH_OFFSET + UNIX_PATH_MAX  # 110
_ZERO_SUN_PATH: Final = b"\0" * UNIX_PATH_MAX
_FS_ENCODING: Final = sys.getfilesystemencoding()

_A: Final = UnixSocketAddressType
PREDICATES: Final = (
    *("any", "loopback", "link_local", "site_local", "multicast"),
    *("mc_global", "mc_link_local", "mc_node_local", "mc_org_local", "mc_site_local"),
)
"""The ``InetAddress.get_is_<name>`` predicates, in GLib's property order."""
_SA = TypeVar("_SA", bound="SocketAddress")
_ESCAPE: Final[tuple[str, ...]] = tuple(chr(c) if 0x20 <= c < 0x7F else f"\\x{c:02x}" for c in range(256))


# ---- Argument checks (PyGObject-like TypeError / OverflowError; GLib.Error for GLib preconditions) -------


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_int(value: object, where: str, name: str, high: int) -> int:
    """``value`` as an int in ``0..high``: ``TypeError`` if not an int, ``OverflowError`` if out of range."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{where}: argument '{name}' must be an int, not {_type_name(value)}")
    if not 0 <= value <= high:
        raise OverflowError(f"{where}: {name} {value} not in range 0 to {high}")
    return int(value)


def _check_str(value: object, where: str, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: argument '{name}' must be a string (str), not {_type_name(value)}")
    return value


def _c_string(text: str) -> str:
    """What C sees of a Python string: everything up to the first NUL."""
    return text.partition("\0")[0] if "\0" in text else text


def _to_bytes(value: object, where: str, name: str, *, signed_ok: bool = False) -> builtins.bytes:
    """Bytes from a bytes-like object or a list of byte values (``signed_ok``: -128..-1 as in ``gchar``)."""
    if isinstance(value, builtins.bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return builtins.bytes(value)
    if isinstance(value, (list, tuple)):
        low = -128 if signed_ok else 0
        out = bytearray()
        for i, item in enumerate(value):
            if not isinstance(item, int):
                raise TypeError(f"{where}: {name}[{i}] must be an int, not {_type_name(item)}")
            if not low <= item <= 255:
                raise OverflowError(f"{where}: {name}[{i}] = {item} not in range {low} to 255")
            out.append(item & 0xFF)
        return builtins.bytes(out)
    raise TypeError(f"{where}: argument '{name}' must be bytes or a list of ints, not {_type_name(value)}")


def _inet_family(value: object, where: str) -> SocketFamily:
    """``value`` as ``SocketFamily.IPV4``/``IPV6``, else ``INVALID_ARGUMENT`` (GLib: CRITICAL + NULL)."""
    if not isinstance(value, int):
        raise TypeError(f"{where}: argument 'family' must be a Gio.SocketFamily, not {_type_name(value)}")
    if value == _AF_INET:
        return _IPV4
    if value == _AF_INET6:
        return _IPV6
    try:
        shown = f"SocketFamily.{SocketFamily(value).name}"
    except ValueError:
        shown = str(value)
    raise new_io_error(
        IOErrorEnum.INVALID_ARGUMENT,
        f"{where}: family must be Gio.SocketFamily.IPV4 or Gio.SocketFamily.IPV6, not {shown}; "
        "use Gio.UnixSocketAddress for Unix-domain addresses",
    )


def _inet_args(
    where: str, value: object, family: object, flowinfo: object, scope_id: object
) -> tuple[SocketFamily, builtins.bytes, int, int]:
    """Checked ``(family, bytes, flowinfo, scope_id)`` for an `InetAddress`."""
    fam = _inet_family(family, where)
    packed = _to_bytes(value, where, "bytes")
    want = 4 if fam is _IPV4 else 16
    if len(packed) != want:
        raise new_io_error(
            IOErrorEnum.INVALID_ARGUMENT,
            f"{where}: an {fam.name} address needs exactly {want} bytes, got {len(packed)}; "
            "pass the 4 (IPv4) or 16 (IPv6) bytes in network order",
        )
    flow = _check_int(flowinfo, where, "flowinfo", _UINT32_MAX)
    return fam, packed, flow, _check_int(scope_id, where, "scope_id", _UINT32_MAX)


def _isa_args(
    where: str, address: object, port: object, flowinfo: object, scope_id: object
) -> tuple[InetAddress, int, int, int]:
    """Checked ``(address, port, flowinfo, scope_id)`` for an `InetSocketAddress`."""
    if not isinstance(address, InetAddress):
        raise TypeError(f"{where}: argument 'address' must be a Gio.InetAddress, not {_type_name(address)}")
    return (
        address,
        _check_int(port, where, "port", _UINT16_MAX),
        _check_int(flowinfo, where, "flowinfo", _UINT32_MAX),
        _check_int(scope_id, where, "scope_id", _UINT32_MAX),
    )


def _unix_type(value: object, where: str) -> UnixSocketAddressType:
    if not isinstance(value, int):
        raise TypeError(f"{where}: argument 'type' must be a UnixSocketAddressType, not {_type_name(value)}")
    try:
        return UnixSocketAddressType(value)
    except ValueError:
        raise new_io_error(
            IOErrorEnum.INVALID_ARGUMENT,
            f"{where}: {value} is not a Gio.UnixSocketAddressType; use ANONYMOUS, PATH, ABSTRACT or ABSTRACT_PADDED",
        ) from None


# ---- SocketAddress ---------------------------------------------------------------------------------------


class SocketAddress(Object):
    """Abstract base of socket addresses (``GSocketAddress``); see its subclasses.

    ``_sockaddr`` is the address in the form Python's ``socket`` module takes, computed once at
    construction so that the send path needs no work: ``sock.sendto(data, addr._sockaddr)``.
    """

    __slots__ = ("_family", "_sockaddr")
    _family: SocketFamily
    _sockaddr: Sockaddr
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {"family": ("get_family", None)}

    def __new__(cls: type[_SA], *args: Any, **kwargs: Any) -> _SA:
        if cls is SocketAddress:
            raise TypeError("cannot create instance of abstract (non-instantiable) type `GSocketAddress'")
        return super().__new__(cls)

    def get_family(self) -> SocketFamily:
        """The address family (``UNIX``, ``IPV4`` or ``IPV6``)."""
        return self._family

    def get_native_size(self) -> int:
        """The size of the native ``struct sockaddr`` GLib would pass to the kernel."""
        raise NotImplementedError

    def to_string(self) -> str:
        """The ``GSocketConnectable`` string form of the address."""
        raise NotImplementedError

    def _error_string(self) -> str:
        """The form GSocket's error messages use (``address_to_string`` in gsocket.c)."""
        return f"(G{type(self).__name__})"

    def enumerate(self) -> Any:
        """A ``GSocketAddressEnumerator`` that gives this address once (``GSocketConnectable``)."""
        from ..gio._addresses import SocketAddressEnumerator

        return SocketAddressEnumerator(self)

    proxy_enumerate = enumerate

    def __str__(self) -> str:
        return self.to_string()


# ---- InetAddress -----------------------------------------------------------------------------------------


class InetAddress(Object):
    """An IPv4 or IPv6 address (``GInetAddress``), with IPv6 ``flowinfo`` and ``scope_id`` (GLib >= 2.86).

    Construct with the class methods (``new_from_string``, ``new_any``, ``new_loopback``,
    ``new_from_bytes``) or GObject-style: ``InetAddress(family=..., bytes=...)``.
    Equality (``equal``, ``==``) compares family and bytes only, as ``g_inet_address_equal``.
    """

    __slots__ = ("_bytes", "_family", "_flowinfo", "_scope_id", "_string")
    _family: SocketFamily
    _bytes: builtins.bytes
    _string: str
    _flowinfo: int
    _scope_id: int
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "family": ("get_family", None),
        "bytes": ("to_bytes", None),
        **{f"is_{name}": (f"get_is_{name}", None) for name in PREDICATES},
        "flowinfo": ("get_flowinfo", None),
        "scope_id": ("get_scope_id", None),
    }

    def __init__(self, *, family: SocketFamily | int, bytes: BytesLike, flowinfo: int = 0, scope_id: int = 0) -> None:
        self._init(*_inet_args("Gio.InetAddress()", bytes, family, flowinfo, scope_id), None)

    def _init(
        self, family: SocketFamily, packed: builtins.bytes, flowinfo: int, scope_id: int, text: str | None
    ) -> None:
        self._family = family
        self._bytes = packed
        self._string = text if text is not None else _inet_ntop(family, packed)
        if family is _IPV6:
            self._flowinfo, self._scope_id = flowinfo, scope_id
        else:  # GLib keeps them but every getter answers 0 for IPv4
            self._flowinfo = self._scope_id = 0

    @classmethod
    def _make(cls, family: SocketFamily, packed: builtins.bytes, flowinfo: int = 0, scope_id: int = 0) -> InetAddress:
        """Unchecked constructor for already-valid data (the receive path)."""
        self = cls.__new__(cls)
        self._init(family, packed, flowinfo, scope_id, None)
        return self

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def new_from_string(cls, string: str) -> InetAddress | None:
        """Parse ``string`` as an IP address; ``None`` if it is not one.

        GLib HEAD rules: a string containing ``:`` is parsed as IPv6 by numeric
        ``getaddrinfo`` (so ``fe80::1%lo`` and ``::1%0`` set ``scope_id``), anything else by a
        strict ``inet_pton(AF_INET)`` (no ``127.1``, ``01.2.3.4`` or spaces). ``::ffff:1.2.3.4``
        stays IPv6. As in C, the string ends at its first NUL. GLib 2.74 rejects any ``%scope``.
        """
        text = _c_string(_check_str(string, "Gio.InetAddress.new_from_string", "string"))
        if ":" in text:
            return cls._parse_ipv6(text)
        try:
            packed = _inet_pton(_AF_INET, text)
        except (OSError, ValueError):
            return None
        return cls._make(_IPV4, packed)

    @classmethod
    def _parse_ipv6(cls, text: str) -> InetAddress | None:
        try:
            encoded = text.encode("utf-8", "surrogateescape")
            infos = socket.getaddrinfo(encoded, None, _AF_INET6, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        except (OSError, UnicodeError, ValueError):
            infos = []
        for _, _, _, _, sockaddr in infos:
            if len(sockaddr) == 4:
                host = str(sockaddr[0]).partition("%")[0]
                packed = _inet_pton(_AF_INET6, host)
                return cls._make(_IPV6, packed, int(sockaddr[2]), int(sockaddr[3]))
        try:  # GLib's fallback when getaddrinfo fails
            packed = _inet_pton(_AF_INET6, text)
        except (OSError, ValueError):
            return None
        return cls._make(_IPV6, packed)

    @classmethod
    def new_any(cls, family: SocketFamily | int) -> InetAddress:
        """The "any" address of ``family``: ``0.0.0.0`` or ``::``."""
        fam = _inet_family(family, "Gio.InetAddress.new_any")
        return cls._make(fam, b"\0\0\0\0" if fam is _IPV4 else _IN6_ANY)

    @classmethod
    def new_loopback(cls, family: SocketFamily | int) -> InetAddress:
        """The loopback address of ``family``: ``127.0.0.1`` or ``::1``."""
        fam = _inet_family(family, "Gio.InetAddress.new_loopback")
        return cls._make(fam, b"\x7f\0\0\1" if fam is _IPV4 else _IN6_LOOPBACK)

    @classmethod
    def new_from_bytes(cls, bytes: BytesLike, family: SocketFamily | int) -> InetAddress:
        """An address from its 4 (IPv4) or 16 (IPv6) raw bytes in network order."""
        return cls.new_from_bytes_with_ipv6_info(bytes, family, 0, 0)

    @classmethod
    def new_from_bytes_with_ipv6_info(
        cls, bytes: BytesLike, family: SocketFamily | int, flowinfo: int, scope_id: int
    ) -> InetAddress:
        """As `new_from_bytes`, plus IPv6 ``flowinfo`` and ``scope_id`` (ignored for IPv4). GLib >= 2.86."""
        return cls._make(*_inet_args("Gio.InetAddress.new_from_bytes", bytes, family, flowinfo, scope_id))

    # -- accessors -------------------------------------------------------------------------

    def to_string(self) -> str:
        """The address as ``inet_ntop`` writes it (``::ffff:1.2.3.4``, lower-case hex), no ``%scope``."""
        return self._string

    def to_bytes(self) -> builtins.bytes:
        """The raw address bytes (4 or 16), network order."""
        return self._bytes

    def get_family(self) -> SocketFamily:
        """``SocketFamily.IPV4`` or ``SocketFamily.IPV6``."""
        return self._family

    def get_native_size(self) -> int:
        """The number of raw bytes: 4 or 16."""
        return len(self._bytes)

    def get_flowinfo(self) -> int:
        """The IPv6 flow information; 0 if unset or IPv4 (GLib >= 2.86)."""
        return self._flowinfo

    def get_scope_id(self) -> int:
        """The IPv6 scope id (interface index); 0 if unset or IPv4 (GLib >= 2.86)."""
        return self._scope_id

    def equal(self, other_address: InetAddress) -> bool:
        """Whether both have the same family and bytes (scope and flowinfo are ignored)."""
        if not isinstance(other_address, InetAddress):
            raise TypeError(
                f"Gio.InetAddress.equal: argument 'other_address' must be a Gio.InetAddress, "
                f"not {_type_name(other_address)}"
            )
        return self._family is other_address._family and self._bytes == other_address._bytes

    # -- predicates (ginetaddress.c; IPv4 has no multicast scopes) --------------------------

    def _mc_scope(self) -> int:
        """The IPv6 multicast scope nibble, or -1 when not an IPv6 multicast address."""
        b = self._bytes
        return b[1] & 0x0F if self._family is _IPV6 and b[0] == 0xFF else -1

    def get_is_any(self) -> bool:
        """Whether this is ``0.0.0.0`` or ``::``."""
        return self._bytes.count(0) == len(self._bytes)

    def get_is_loopback(self) -> bool:
        """Whether this is in ``127.0.0.0/8`` or is ``::1`` (``::ffff:127.0.0.1`` is not)."""
        if self._family is _IPV4:
            return self._bytes[0] == 127
        return self._bytes == _IN6_LOOPBACK

    def get_is_link_local(self) -> bool:
        """Whether this is in ``169.254.0.0/16`` or ``fe80::/10``."""
        b = self._bytes
        if self._family is _IPV4:
            return b[0] == 169 and b[1] == 254
        return b[0] == 0xFE and (b[1] & 0xC0) == 0x80

    def get_is_site_local(self) -> bool:
        """Whether this is in ``10/8``, ``172.16/12``, ``192.168/16`` or ``fec0::/10``."""
        b = self._bytes
        if self._family is _IPV4:
            a = int.from_bytes(b, "big")
            return (a & 0xFF000000) == 0x0A000000 or (a & 0xFFF00000) == 0xAC100000 or (a & 0xFFFF0000) == 0xC0A80000
        return b[0] == 0xFE and (b[1] & 0xC0) == 0xC0

    def get_is_multicast(self) -> bool:
        """Whether this is in ``224.0.0.0/4`` or ``ff00::/8``."""
        if self._family is _IPV4:
            return (self._bytes[0] & 0xF0) == 0xE0
        return self._bytes[0] == 0xFF

    def get_is_mc_global(self) -> bool:
        """Whether this is an IPv6 global-scope multicast address (``ffxe::``)."""
        return self._mc_scope() == 0xE

    def get_is_mc_link_local(self) -> bool:
        """Whether this is an IPv6 link-local multicast address (``ffx2::``)."""
        return self._mc_scope() == 0x2

    def get_is_mc_node_local(self) -> bool:
        """Whether this is an IPv6 node-local multicast address (``ffx1::``)."""
        return self._mc_scope() == 0x1

    def get_is_mc_org_local(self) -> bool:
        """Whether this is an IPv6 organisation-local multicast address (``ffx8::``)."""
        return self._mc_scope() == 0x8

    def get_is_mc_site_local(self) -> bool:
        """Whether this is an IPv6 site-local multicast address (``ffx5::``)."""
        return self._mc_scope() == 0x5

    # -- Python protocol -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InetAddress):
            return NotImplemented
        return self._family is other._family and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash((self._family, self._bytes))

    def __repr__(self) -> str:
        return f"<Gio.InetAddress {self._string}>"

    def __str__(self) -> str:
        return self._string


# ---- InetSocketAddress -----------------------------------------------------------------------------------


class InetSocketAddress(SocketAddress):
    """An IP address and a port (``GInetSocketAddress``), plus IPv6 ``flowinfo``/``scope_id``.

    GObject-style: ``InetSocketAddress(address=..., port=0, flowinfo=0, scope_id=0)``.
    ``flowinfo``/``scope_id`` left at 0 fall back to the `InetAddress`'s (GLib HEAD).
    Equality compares family, bytes, port, flowinfo and scope id.
    """

    __slots__ = ("_address", "_port", "_raw_flowinfo", "_raw_scope_id")
    _address: InetAddress
    _port: int
    _raw_flowinfo: int
    _raw_scope_id: int
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "family": ("get_family", None),
        "address": ("get_address", None),
        "port": ("get_port", None),
        "flowinfo": ("get_flowinfo", None),
        "scope_id": ("get_scope_id", None),
    }

    def __init__(self, *, address: InetAddress, port: int = 0, flowinfo: int = 0, scope_id: int = 0) -> None:
        self._init(*_isa_args("Gio.InetSocketAddress()", address, port, flowinfo, scope_id))

    def _init(self, address: InetAddress, port: int, flowinfo: int, scope_id: int) -> None:
        self._family = address._family
        self._address = address
        self._port = port
        self._raw_flowinfo = flowinfo
        self._raw_scope_id = scope_id
        if address._family is _IPV4:
            self._sockaddr = (address._string, port)
        else:
            self._sockaddr = (address._string, port, self.get_flowinfo(), self.get_scope_id())

    @classmethod
    def _make(cls, address: InetAddress, port: int) -> InetSocketAddress:
        """Unchecked constructor for already-valid data (the receive path)."""
        self = cls.__new__(cls)
        self._init(address, port, 0, 0)
        return self

    @classmethod
    def new(cls, address: InetAddress, port: int) -> InetSocketAddress:
        """``address`` with ``port`` (``OverflowError`` outside ``0..65535``, as PyGObject)."""
        self = cls.__new__(cls)
        self._init(*_isa_args("Gio.InetSocketAddress.new", address, port, 0, 0))
        return self

    @classmethod
    def new_from_string(cls, address: str, port: int) -> InetSocketAddress | None:
        """Parse ``address`` with `InetAddress.new_from_string`; ``None`` if it is not an IP address.

        ``port`` is a ``guint`` truncated to 16 bits (70000 becomes 4464), as in GLib. HEAD:
        ``::ffff:1.2.3.4`` stays IPv6 and a ``%scope`` lands on the address (GLib 2.74 turns
        v4-mapped input into an IPv4 address).
        """
        where = "Gio.InetSocketAddress.new_from_string"
        text = _check_str(address, where, "address")
        port16 = _check_int(port, where, "port", _UINT32_MAX) & _UINT16_MAX
        inet = InetAddress.new_from_string(text)
        if inet is None:
            return None
        return cls._make(inet, port16)

    def get_address(self) -> InetAddress:
        """The `InetAddress`."""
        return self._address

    def get_port(self) -> int:
        """The port, ``0..65535``."""
        return self._port

    def get_flowinfo(self) -> int:
        """The ``sin6_flowinfo`` field (falling back to the address's); 0 for IPv4."""
        if self._address._family is _IPV4:
            return 0
        return self._raw_flowinfo or self._address._flowinfo

    def get_scope_id(self) -> int:
        """The ``sin6_scope_id`` field (falling back to the address's); 0 for IPv4."""
        if self._address._family is _IPV4:
            return 0
        return self._raw_scope_id or self._address._scope_id

    def get_native_size(self) -> int:
        """``sizeof(struct sockaddr_in)`` (16) or ``sizeof(struct sockaddr_in6)`` (28)."""
        return 16 if self._family is _IPV4 else 28

    def to_string(self) -> str:
        """``1.2.3.4:80``, ``[fe80::1%2]:80``; without the port (and brackets) when it is 0."""
        text = self._address._string
        if self._family is _IPV6:
            scope = self.get_scope_id()
            if scope:
                text = f"{text}%{scope}"
            if self._port:
                text = f"[{text}]"
        return f"{text}:{self._port}" if self._port else text

    def _error_string(self) -> str:
        """``1.2.3.4:80``, ``[::1]:0``, ``[fe80::1%2]:5``: always a port, IPv6 always bracketed."""
        if self._family is _IPV4:
            return f"{self._address._string}:{self._port}"
        scope = self.get_scope_id()
        return f"[{self._address._string}{f'%{scope}' if scope else ''}]:{self._port}"

    def _key(self) -> tuple[SocketFamily, builtins.bytes, int, int, int]:
        return (self._family, self._address._bytes, self._port, self.get_flowinfo(), self.get_scope_id())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InetSocketAddress):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<Gio.InetSocketAddress {self._error_string()}>"


# ---- UnixSocketAddress -----------------------------------------------------------------------------------


def _unix_sockaddr(kind: UnixSocketAddressType, path: builtins.bytes) -> str | builtins.bytes:
    """What ``socket`` needs to reproduce GLib's ``to_native`` + ``get_native_size`` for this address."""
    if kind is _A.ANONYMOUS:
        return ""  # a bare sa_family: autobind on bind, EINVAL on connect, as in GLib
    if kind is _A.ABSTRACT:
        return b"\0" + path
    if kind is _A.ABSTRACT_PADDED:
        return (b"\0" + path).ljust(UNIX_PATH_MAX, b"\0")
    name = path.partition(b"\0")[0] if kind is _A.PATH else b""
    if not name:  # GLib passes 110 zero bytes: the kernel sees a 108-byte all-NUL abstract name
        return _ZERO_SUN_PATH
    try:
        return name.decode(_FS_ENCODING)
    except UnicodeDecodeError:
        return name


class UnixSocketAddress(SocketAddress):
    """A Unix-domain socket address (``GUnixSocketAddress``): a path, an abstract name or anonymous.

    GObject-style: ``UnixSocketAddress(path=..., path_as_array=..., abstract=..., address_type=...)``,
    applied in that order as GLib does; ``address_type=PATH`` and ``abstract=False`` are ignored,
    so any order of arguments gives the same address. Names are clipped to 107 bytes.
    Equality compares the address type and the name the kernel sees.
    """

    __slots__ = ("_path", "_type")
    _path: builtins.bytes
    _type: UnixSocketAddressType
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "family": ("get_family", None),
        "path": ("get_path", None),
        "path_as_array": ("_get_path_as_array", None),
        "abstract": ("_get_abstract", None),
        "address_type": ("get_address_type", None),
    }

    def __init__(
        self,
        *,
        path: str | builtins.bytes | None = None,
        path_as_array: BytesLike | None = None,
        abstract: bool = False,
        address_type: UnixSocketAddressType | int = UnixSocketAddressType.PATH,
    ) -> None:
        where = "Gio.UnixSocketAddress()"
        name = b""  # GLib leaves path_len at (gsize) -1 when neither path is given; 0 is saner
        if path is not None:
            if isinstance(path, str):
                path = path.encode("utf-8", "surrogateescape")
            if not isinstance(path, builtins.bytes):
                raise TypeError(f"{where}: argument 'path' must be a string, not {_type_name(path)}")
            name = path.partition(b"\0")[0][: UNIX_PATH_MAX - 1]  # g_strlcpy
        if path_as_array is not None:
            name = _to_bytes(path_as_array, where, "path_as_array", signed_ok=True)[: UNIX_PATH_MAX - 1]
        kind = _A.PATH
        if not isinstance(abstract, (bool, int)):
            raise TypeError(f"{where}: argument 'abstract' must be a bool, not {_type_name(abstract)}")
        if abstract:
            kind = _A.ABSTRACT_PADDED
        requested = _unix_type(address_type, where)
        if requested is not _A.PATH:  # "only set it if it's not the default"
            kind = requested
        self._init(kind, name)  # GLib keeps a given name even for ANONYMOUS (only new_with_type drops it)

    def _init(self, kind: UnixSocketAddressType, path: builtins.bytes) -> None:
        self._family = _UNIX
        self._type = kind
        self._path = path
        self._sockaddr = _unix_sockaddr(kind, path)

    @classmethod
    def _make(cls, kind: UnixSocketAddressType, path: builtins.bytes) -> UnixSocketAddress:
        """Unchecked constructor for already-valid data (the receive path)."""
        self = cls.__new__(cls)
        self._init(kind, path)
        return self

    @classmethod
    def new(cls, path: str | builtins.bytes) -> UnixSocketAddress:
        """A ``PATH`` address; the path ends at its first NUL and is clipped to 107 bytes."""
        if not isinstance(path, (str, builtins.bytes)):
            raise TypeError(f"Gio.UnixSocketAddress.new: argument 'path' must be a string, not {_type_name(path)}")
        return cls(path=path)

    @classmethod
    def new_with_type(
        cls, path: str | BytesLike, type: UnixSocketAddressType | int, path_len: int = -1
    ) -> UnixSocketAddress:
        """An address of ``type`` named by ``path`` (bytes, a list of byte values, or str as UTF-8).

        The name is the whole buffer (PyGObject passes its length), or its first ``path_len``
        bytes; NULs are kept. ``ANONYMOUS`` ignores ``path``. Names are clipped to 107 bytes.
        ``ABSTRACT_PADDED`` names are padded with NULs to 107 bytes on the wire.
        """
        where = "Gio.UnixSocketAddress.new_with_type"
        kind = _unix_type(type, where)
        if isinstance(path, str):
            raw = path.encode("utf-8", "surrogateescape")
        else:
            raw = _to_bytes(path, where, "path", signed_ok=True)
        if not isinstance(path_len, int):
            raise TypeError(f"{where}: argument 'path_len' must be an int, not {_type_name(path_len)}")
        if path_len >= 0:
            if path_len > len(raw):
                raise new_io_error(
                    IOErrorEnum.INVALID_ARGUMENT,
                    f"{where}: path_len {path_len} is longer than the {len(raw)}-byte path; "
                    "pass -1 to use the whole path",
                )
            raw = raw[:path_len]
        if kind is _A.ANONYMOUS:
            raw = b""
        return cls._make(kind, raw[: UNIX_PATH_MAX - 1])

    @classmethod
    def new_abstract(cls, path: str | BytesLike, path_len: int = -1) -> UnixSocketAddress:
        """Deprecated: an ``ABSTRACT_PADDED`` address; use `new_with_type`."""
        warnings.warn("Gio.UnixSocketAddress.new_abstract is deprecated", DeprecationWarning, stacklevel=2)
        return cls.new_with_type(path, _A.ABSTRACT_PADDED, path_len)

    @staticmethod
    def abstract_names_supported() -> bool:
        """Whether abstract names work here (Linux only)."""
        return sys.platform.startswith("linux")

    def get_path(self) -> str:
        """The path or abstract name up to its first NUL, decoded as UTF-8 (undecodable bytes escaped)."""
        return self._path.partition(b"\0")[0].decode("utf-8", "surrogateescape")

    def get_path_len(self) -> int:
        """The length in bytes of the path or name, NULs included (0 for ``ANONYMOUS``)."""
        return len(self._path)

    def get_address_type(self) -> UnixSocketAddressType:
        """``ANONYMOUS``, ``PATH``, ``ABSTRACT`` or ``ABSTRACT_PADDED`` (``INVALID`` only if asked for)."""
        return self._type

    def get_is_abstract(self) -> bool:
        """Deprecated: whether the type is ``ABSTRACT`` or ``ABSTRACT_PADDED``; use `get_address_type`."""
        warnings.warn("Gio.UnixSocketAddress.get_is_abstract is deprecated", DeprecationWarning, stacklevel=2)
        return self._get_abstract()

    def _get_abstract(self) -> bool:
        return self._type is _A.ABSTRACT or self._type is _A.ABSTRACT_PADDED

    def _get_path_as_array(self) -> builtins.bytes:
        return self._path

    def get_native_size(self) -> int:
        """``ANONYMOUS`` 2, ``ABSTRACT`` 3 + name length, otherwise ``sizeof(struct sockaddr_un)`` 110."""
        if self._type is _A.ANONYMOUS:
            return _SUN_PATH_OFFSET
        if self._type is _A.ABSTRACT:
            return _SUN_PATH_OFFSET + len(self._path) + 1
        return _SOCKADDR_UN_SIZE

    def to_string(self) -> str:
        """``anonymous``, or the name with bytes outside printable ASCII (NUL included) as ``\\xNN``."""
        if self._type is _A.ANONYMOUS:
            return "anonymous"
        escape = _ESCAPE
        return "".join([escape[c] for c in self._path])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnixSocketAddress):
            return NotImplemented
        return self._type is other._type and self._sockaddr == other._sockaddr

    def __hash__(self) -> int:
        return hash((self._type, self._sockaddr))

    def __repr__(self) -> str:
        if self._type is _A.ANONYMOUS:
            return "<Gio.UnixSocketAddress anonymous>"
        return f"<Gio.UnixSocketAddress {self._type.name.lower()} {self.to_string()}>"


# ---- From what Python's socket module returns (g_socket_address_new_from_native) -------------------------


def _inet(family: SocketFamily, packed: bytes, text: str, flowinfo: int, scope_id: int) -> InetAddress:
    inet = InetAddress.__new__(InetAddress)
    inet._family, inet._bytes, inet._string = family, packed, text
    inet._flowinfo, inet._scope_id = flowinfo, scope_id
    return inet


def _isa(inet: InetAddress, port: int, sockaddr: Any) -> InetSocketAddress:
    isa = InetSocketAddress.__new__(InetSocketAddress)
    isa._family, isa._address, isa._port = inet._family, inet, port
    isa._raw_flowinfo = isa._raw_scope_id = 0
    isa._sockaddr = sockaddr if type(sockaddr) is tuple else tuple(sockaddr)
    return isa


def address_from_sockaddr(family: int, sockaddr: Any) -> SocketAddress | None:
    """The address for what ``getsockname``/``getpeername``/``recvfrom``/``recvmsg`` returned.

    ``family`` is the socket's ``AF_*``. IPv4 ``(host, port)`` and IPv6
    ``(host, port, flowinfo, scope_id)`` give an `InetSocketAddress` (a v4-mapped IPv6 address
    becomes IPv4 with the same port; flowinfo and scope id go on the `InetAddress`, as in GLib
    HEAD). ``AF_UNIX``: ``''`` is ``ANONYMOUS``; ``bytes`` with a leading NUL is ``ABSTRACT``, or
    ``ABSTRACT_PADDED`` when the kernel returned the full 108-byte ``sun_path``; anything else a
    ``PATH``. ``None`` (no address, e.g. an unbound datagram sender) and other families give ``None``.
    """
    if sockaddr is None:
        return None
    if family == _AF_INET:
        host, port = sockaddr
        return _isa(_inet(_IPV4, _inet_pton(_AF_INET, host), host, 0, 0), port, sockaddr)
    if family == _AF_INET6:
        host, port, flowinfo, scope_id = sockaddr
        packed = _inet_pton(_AF_INET6, host.partition("%")[0] if "%" in host else host)
        if packed[:12] == _V4MAPPED_PREFIX:
            v4 = packed[12:]
            text = _inet_ntop(_AF_INET, v4)
            return _isa(_inet(_IPV4, v4, text, 0, 0), port, (text, port))
        text = _inet_ntop(_AF_INET6, packed)  # canonical, whatever spelling we were given
        if text != host:
            sockaddr = (text, port, flowinfo, scope_id)
        return _isa(_inet(_IPV6, packed, text, flowinfo, scope_id), port, sockaddr)
    if family == _AF_UNIX:
        if not sockaddr:
            return UnixSocketAddress._make(_A.ANONYMOUS, b"")
        if type(sockaddr) is str:
            raw = sockaddr.encode(_FS_ENCODING, "surrogateescape")
        else:
            raw = sockaddr if type(sockaddr) is builtins.bytes else builtins.bytes(sockaddr)
        if raw[0] == 0:
            kind = _A.ABSTRACT_PADDED if len(raw) >= UNIX_PATH_MAX else _A.ABSTRACT
            return UnixSocketAddress._make(kind, raw[1:UNIX_PATH_MAX])
        return UnixSocketAddress._make(_A.PATH, raw.partition(b"\0")[0][: UNIX_PATH_MAX - 1])
    return None
