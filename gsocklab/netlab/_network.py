"""`Network`, `Host` and `Router`: the notebook's side of a lab network.

A `Network` starts one agent process (`gsocklab.netlab._agent`) that builds LANs, hosts and
routers in namespaces of its own and hands back sockets made inside a host. The sockets are
ordinary ``Gio.Socket`` objects in this process — one kernel drives every host, and one
``Recorder`` records them all, with the host in its ``host`` column.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from ..core._address import InetAddress
from ..core._enums import SocketFamily, SocketProtocol, SocketType
from ..core._errors import from_errno
from ..core._socket import _OS_TYPE, Socket
from ._support import LAUNCHERS, NetlabUnavailable, probe

__all__ = ["Host", "Interface", "Network", "NetworkError", "Router", "one_lan", "two_lans"]

_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,9}\Z")
_REPLY_TIMEOUT: Final = 60.0
#: The longest delay or jitter a router may add, in seconds.
MAX_DELAY: Final = 10.0
_open_networks: weakref.WeakSet[Network] = weakref.WeakSet()


class NetworkError(RuntimeError):
    """The agent could not do what was asked (the message is its explanation)."""


class Interface:
    """One interface of a host or router: name, index, MAC, LAN and addresses (as strings)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.name: str = info["name"]
        self.index: int = info["index"]
        self.mac: str | None = info.get("mac")
        self.lan: str | None = info.get("lan")
        self.ipv4 = [address for family, address, _ in info["addresses"] if family == "inet"]
        self.ipv6 = [address for family, address, _ in info["addresses"]
                     if family == "inet6" and not address.startswith("fe80")]
        self.link_local = [address for family, address, _ in info["addresses"]
                           if family == "inet6" and address.startswith("fe80")]

    def __repr__(self) -> str:
        return f"<Interface {self.name} #{self.index} lan={self.lan} {self.ipv4 + self.ipv6}>"


class _Node:
    """What hosts and routers share: a name, interfaces, ``ip`` inside, sockets made inside."""

    kind = "node"

    def __init__(self, network: Network, info: dict[str, Any]) -> None:
        self.network = network
        self.name: str = info["name"]
        self.interfaces = [Interface(entry) for entry in info["interfaces"]]

    def interface(self, name: str | None = None) -> Interface:
        """The interface called ``name`` (default: the first on a LAN, ``eth0``)."""
        for interface in self.interfaces:
            if (interface.name == name) if name else interface.lan is not None:
                return interface
        raise KeyError(f"{self.name} has no interface {name!r}")

    def address(self, family: SocketFamily = SocketFamily.IPV4, interface: str | None = None) -> InetAddress:
        """This node's address on ``interface`` (default ``eth0``) as an ``InetAddress``."""
        chosen = self.interface(interface)
        addresses = chosen.ipv4 if SocketFamily(family) == SocketFamily.IPV4 else chosen.ipv6
        if not addresses:
            raise KeyError(f"{self.name}'s {chosen.name} has no {SocketFamily(family).name} address")
        address = InetAddress.new_from_string(addresses[0])
        assert address is not None
        return address

    def ip(self, *args: str) -> str:
        """The output of ``ip ARGS`` run inside this node (e.g. ``ip("maddr")``, ``ip("route")``)."""
        return str(self.network._request("ip", node=self.name, args=[str(arg) for arg in args]))

    def socket(self, family: SocketFamily, type: SocketType,
               protocol: SocketProtocol = SocketProtocol.DEFAULT) -> Socket:
        """A new ``Gio.Socket`` living in this node's network namespace.

        As ``Gio.Socket.new(family, type, protocol)``, but made inside the node and handed to
        this process; its ``host`` is this node's name and its label starts with it.
        """
        return self.network._socket(self.name, family, type, protocol)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.interfaces}>"


class Host(_Node):
    """A host of the lab network: one interface ``eth0`` on its LAN."""

    kind = "host"

    @property
    def lan(self) -> str:
        """The LAN this host is on."""
        lan = self.interface().lan
        assert lan is not None
        return lan


class Router(_Node):
    """A multicast relay router between LANs (see `gsocklab.netlab._relay`)."""

    kind = "router"

    def set_link(self, loss: float = 0.0, delay: float = 0.0, jitter: float = 0.0, seed: int | None = None) -> None:
        """Emulate a lossy, slow link: lose each forwarded datagram with probability ``loss``,
        hold it ``delay`` ± ``jitter`` seconds (``seed`` makes the draws repeatable)."""
        for name, value in (("loss", loss), ("delay", delay), ("jitter", jitter)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
            if not math.isfinite(value) or value < 0 or (name != "loss" and value > MAX_DELAY):
                raise ValueError(f"{name} must be a finite number from 0 to {1 if name == 'loss' else MAX_DELAY}, "
                                 f"not {value!r}")
        if loss > 1:
            raise ValueError(f"loss must be a finite number from 0 to 1, not {loss!r}")
        self.network._request("set_link", router=self.name, loss=float(loss), delay=float(delay),
                              jitter=float(jitter), seed=seed)

    def table(self) -> Any:
        """What the router did, per group, source and legs: a DataFrame with ``forwarded``,
        ``ttl_expired`` (arrived with TTL <= 1), ``lost`` (the emulated loss) and ``no_members``
        (nobody on the outgoing LAN joined)."""
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]

        rows = self.network._request("table", router=self.name)
        columns = ["router", "group", "source", "in", "out", "protocol", "forwarded", "ttl_expired", "lost",
                   "no_members"]
        return pd.DataFrame(rows, columns=columns)

    def members(self) -> Any:
        """What the router learnt from IGMP/MLD reports: per LAN, each joined group and the
        addresses of the hosts that joined it (a DataFrame)."""
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]

        rows = self.network._request("members", router=self.name)
        return pd.DataFrame(rows, columns=["router", "lan", "interface", "group", "hosts"])


class Network:
    """A lab network of hosts on LANs, with multicast relay routers between LANs.

    ``Network()`` starts the agent (as root in new namespaces, otherwise in a user namespace,
    ``mode`` forces one); then `add_lan`, `add_host`, `add_router` build it, and
    ``net.host("h1").socket(...)`` gives sockets on a host. Use it as a context manager, or
    `close` it: the agent, namespaces, interfaces and the sockets handed out all go. They
    also go when this process exits or is killed (the agent exits when its control socket
    closes). Raises `NetlabUnavailable`, with the reason, where the machine cannot do it.
    """

    def __init__(self, mode: str | None = None) -> None:
        support = probe()
        if mode is None:
            mode = support.mode
            if mode is None:
                raise NetlabUnavailable(f"no lab network on this machine: {support.reason}")
        elif mode not in LAUNCHERS:
            raise ValueError(f"mode must be 'root', 'user' or None, not {mode!r}")
        elif mode not in support.modes:
            raise NetlabUnavailable(f"mode {mode!r} does not work here: {support.reason}")
        self.mode = mode
        self._lock = threading.RLock()
        self._closed = False
        self._sockets: weakref.WeakSet[Socket] = weakref.WeakSet()
        self.lans: dict[str, dict[str, Any]] = {}
        self.hosts: dict[str, Host] = {}
        self.routers: dict[str, Router] = {}
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        try:
            self._process = subprocess.Popen(
                [*LAUNCHERS[mode], sys.executable, "-m", "gsocklab.netlab._agent", str(theirs.fileno()), mode],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._stderr, start_new_session=True, env=env)
        finally:
            theirs.close()
        self._control.settimeout(_REPLY_TIMEOUT)
        try:
            hello = self._request("hello")
        except BaseException:
            self.close()
            raise
        self.pid: int = self._process.pid
        self.agent: dict[str, Any] = hello
        _open_networks.add(self)

    # -- requests --------------------------------------------------------------------------

    def _request(self, op: str, **fields: Any) -> Any:
        return self._exchange(op, fields)[0]

    def _exchange(self, op: str, fields: dict[str, Any]) -> tuple[Any, list[int]]:
        with self._lock:
            if self._closed:
                raise NetworkError("the network is closed")
            try:
                self._control.send(json.dumps({"op": op, **fields}).encode())
                data, fds, _flags, _address = socket.recv_fds(self._control, 1 << 20, 4)
            except OSError as exc:
                raise NetworkError(f"the lab's agent is gone ({exc}){self._agent_said()}") from None
            if not data:
                raise NetworkError(f"the lab's agent exited{self._agent_said()}")
            reply = json.loads(data)
            if not reply["ok"]:
                for fd in fds:
                    os.close(fd)
                raise NetworkError(reply["error"])
            return reply["result"], fds

    def _agent_said(self) -> str:
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f": {text}" if text else f" (exit status {self._process.returncode})"

    def _socket(self, node: str, family: SocketFamily, kind: SocketType, protocol: SocketProtocol) -> Socket:
        checks: tuple[tuple[str, object, type], ...] = (
            ("family", family, SocketFamily), ("type", kind, SocketType), ("protocol", protocol, SocketProtocol))
        for name, value, enum in checks:
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be a Gio.{enum.__name__}, not {type(value).__name__}")
        os_type = _OS_TYPE.get(SocketType(kind)) if int(kind) in SocketType._value2member_map_ else None
        if os_type is None or int(family) not in (SocketFamily.IPV4, SocketFamily.IPV6, SocketFamily.UNIX):
            Socket.new(family, kind, protocol)  # raises the GLib.Error Gio.Socket.new raises for these
            raise ValueError(f"cannot make a {family!r} {kind!r} socket")  # (not reached)
        # Gio's DEFAULT protocol (-1) is the OS's 0
        result, fds = self._exchange("socket", {"host": node, "family": int(family), "type": int(os_type),
                                               "protocol": max(int(protocol), 0)})
        if not fds:  # the OS refused, as it would have refused Gio.Socket.new
            raise from_errno(int(result.get("errno", 0)), "Unable to create socket: ")
        sock = Socket.new_from_fd(fds[0])
        sock.host = node
        sock.label = f"{node}/{sock.label}"
        self._sockets.add(sock)
        return sock

    # -- building --------------------------------------------------------------------------

    @staticmethod
    def _check_name(name: object, what: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"{what} must be a str, not {type(name).__name__}")
        if not _NAME.match(name):
            raise ValueError(f"{what} {name!r}: use 1-10 lower-case letters, digits or _, starting with a letter")
        return name

    def add_lan(self, name: str, snooping: bool = False) -> dict[str, Any]:
        """A new LAN segment ``name``, a switch; its subnets.

        ``snooping=False`` (default): the switch floods multicast to every port and each host
        keeps what its sockets joined, so delivery follows the joins at once. ``snooping=True``:
        IGMP/MLD snooping with the switch as querier, as in a real managed switch — it forwards
        a group only to ports whose hosts reported joining it (`bridge_mdb` shows what it
        learnt), so a datagram sent within milliseconds of a join can be lost while the report
        is on its way (measured: after an earlier leave of the group, 1 in 3).
        """
        info = self._request("add_lan", name=self._check_name(name, "name"), snooping=bool(snooping))
        self.lans[name] = info
        return dict(info)

    def add_host(self, name: str, lan: str, routes: bool = True) -> Host:
        """A new host on ``lan``; ``routes=False`` leaves it without a default or multicast route."""
        self._check_name(name, "name")
        host = Host(self, self._request("add_host", name=name, lan=lan, routes=bool(routes)))
        self.hosts[name] = host
        return host

    def add_router(self, name: str, lans: Iterable[str]) -> Router:
        """A new multicast relay router between ``lans``; their hosts get a default route via it."""
        self._check_name(name, "name")
        router = Router(self, self._request("add_router", name=name, lans=list(lans)))
        self.routers[name] = router
        return router

    def host(self, name: str) -> Host:
        """The host called ``name``."""
        try:
            return self.hosts[name]
        except KeyError:
            raise KeyError(f"no host {name!r} (hosts: {', '.join(self.hosts) or 'none'})") from None

    def router(self, name: str) -> Router:
        """The router called ``name``."""
        try:
            return self.routers[name]
        except KeyError:
            raise KeyError(f"no router {name!r} (routers: {', '.join(self.routers) or 'none'})") from None

    def __iter__(self) -> Iterator[Host]:
        return iter(list(self.hosts.values()))

    def hops(self, a: str, b: str) -> int:
        """Routers a datagram crosses from host ``a`` to host ``b`` (0 on one LAN)."""
        lan_a, lan_b = self.host(a).lan, self.host(b).lan
        if lan_a == lan_b:
            return 0
        graph: dict[str, set[str]] = {}
        for router in self.routers.values():
            lans = [i.lan for i in router.interfaces if i.lan]
            for lan in lans:
                graph.setdefault(lan, set()).update(other for other in lans if other != lan)
        seen, frontier, hops = {lan_a}, {lan_a}, 0
        while frontier:
            hops += 1
            frontier = {nxt for lan in frontier for nxt in graph.get(lan, ()) if nxt not in seen}
            if lan_b in frontier:
                return hops
            seen |= frontier
        raise ValueError(f"no route between {a} and {b}")

    def bridge_mdb(self) -> str:
        """What the LAN switches learnt by IGMP/MLD snooping (``bridge mdb show``)."""
        return str(self._request("bridge", args=["mdb", "show"]))

    def describe(self) -> Any:
        """One row per interface of every host and router: a DataFrame."""
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]

        rows = [{"node": node.name, "kind": node.kind, "lan": i.lan, "interface": i.name, "index": i.index,
                 "ipv4": ", ".join(i.ipv4), "ipv6": ", ".join(i.ipv6)}
                for node in [*self.hosts.values(), *self.routers.values()] for i in node.interfaces if i.lan]
        return pd.DataFrame(rows, columns=["node", "kind", "lan", "interface", "index", "ipv4", "ipv6"])

    # -- ending ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether `close` has run."""
        return self._closed

    def close(self) -> None:
        """Close the sockets handed out, end the agent and with it the whole network."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for sock in list(self._sockets):
                sock.close()
            self._control.close()
        process = getattr(self, "_process", None)
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._stderr.close()
        _open_networks.discard(self)

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"agent {self.pid}"
        return (f"<Network {self.mode} {state}: lans {list(self.lans)}, hosts {list(self.hosts)}, "
                f"routers {list(self.routers)}>")


def one_lan(hosts: int = 3, mode: str | None = None, snooping: bool = False) -> Network:
    """A network of ``hosts`` hosts ``h1``, ``h2``, … on one LAN ``a`` (``snooping``: see `Network.add_lan`)."""
    net = Network(mode)
    try:
        net.add_lan("a", snooping)
        for number in range(1, hosts + 1):
            net.add_host(f"h{number}", "a")
    except BaseException:
        net.close()
        raise
    return net


def two_lans(left: int = 2, right: int = 2, mode: str | None = None, snooping: bool = False) -> Network:
    """LANs ``a`` (hosts ``h1`` … ``h<left>``) and ``b`` (the next ``right`` hosts), router ``r1`` between."""
    net = Network(mode)
    try:
        net.add_lan("a", snooping)
        net.add_lan("b", snooping)
        for number in range(1, left + right + 1):
            net.add_host(f"h{number}", "a" if number <= left else "b")
        net.add_router("r1", ["a", "b"])
    except BaseException:
        net.close()
        raise
    return net


@atexit.register
def _close_all() -> None:
    for net in list(_open_networks):
        net.close()

