"""The lab's agent: the one process that builds and holds a virtual network.

`gsocklab.netlab.Network` starts this module as ``python -m gsocklab.netlab._agent FD`` under
``unshare``: in new network and mount namespaces (and, unprivileged, a new user namespace in
which it is root). Its own network namespace is the *fabric*, where the LAN bridges live;
every host and router is a further network namespace, named in a ``/run`` that only this
mount namespace sees (``ip netns`` works there as usual). Nothing is ever linked to the
machine's own namespace, so no address or route of the lab exists outside it.

It answers requests on the control socket ``FD`` (``SOCK_SEQPACKET``, one JSON object per
message; sockets made in a host come back as descriptors, ``SCM_RIGHTS``). When the control
socket closes — `Network.close`, or the notebook kernel exiting or being killed — the agent
exits, and with it go the namespaces, bridges, interfaces and the relay threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from ._relay import Relay

__all__ = ["Agent", "main"]

CLONE_NEWNET: Final = 0x40000000
_MS_NOSUID: Final = 2
_MS_NODEV: Final = 4
_ETH_P_ALL: Final = 0x0003
_libc = ctypes.CDLL(None, use_errno=True)


class AgentError(Exception):
    """A request the agent could not carry out; its text goes back to the notebook."""


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"setns: {os.strerror(number)}")


def _private_run() -> None:
    """A tmpfs on ``/run`` seen only by this mount namespace, for ``ip netns``'s names."""
    if _libc.mount(b"gsocklab", b"/run", b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755") != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount tmpfs on /run: {os.strerror(number)}")
    os.makedirs("/run/netns", exist_ok=True)


@dataclass
class Lan:
    """A segment: a bridge in the fabric, and the subnets ``10.<n>.0.0/24`` and ``fd00:0:0:<n>::/64``."""

    name: str
    number: int
    bridge: str
    router: str | None = None
    hosts: list[str] = field(default_factory=list)

    def ipv4(self, last: int) -> str:
        return f"10.{self.number}.0.{last}"

    def ipv6(self, last: int) -> str:
        return f"fd00:0:0:{self.number:x}::{last:x}"


@dataclass
class Node:
    """A host or a router: a network namespace and its legs (interface name -> LAN)."""

    name: str
    kind: str
    legs: dict[str, str] = field(default_factory=dict)
    routes: bool = True


class Agent:
    """Builds the network and answers the notebook's requests (see the module's text)."""

    def __init__(self, control: socket.socket, mode: str) -> None:
        self.control = control
        self.mode = mode
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.lans: dict[str, Lan] = {}
        self.nodes: dict[str, Node] = {}
        self.relay = Relay()
        self._veths = 0

    # -- plumbing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def inside(self, name: str) -> Iterator[None]:
        """This thread in node ``name``'s network namespace for the block."""
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(fd)
            try:
                yield
            finally:
                _setns(self.home)
        finally:
            os.close(fd)

    def ip(self, *args: str, node: str | None = None) -> str:
        """Run ``ip ARGS`` (in ``node``'s namespace, else the fabric's); its output, or `AgentError`."""
        argv = ["ip", *(("-n", node) if node else ()), *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode:
            raise AgentError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def sysctl(self, node: str, values: dict[str, str]) -> None:
        with self.inside(node):
            for key, value in values.items():
                with open(f"/proc/sys/{key.replace('.', '/')}", "w") as file:
                    file.write(value)

    def _new_node(self, name: str, kind: str, routes: bool = True) -> Node:
        if name in self.nodes or name in self.lans:
            raise AgentError(f"the name {name!r} is taken")
        self.ip("netns", "add", name)
        node = self.nodes[name] = Node(name, kind, routes=routes)
        values = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
                  "net.ipv6.conf.default.dad_transmits": "0",
                  # receivers accept datagrams whose source is on another segment (the relay keeps it)
                  "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0"}
        if kind == "router":
            values |= {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"}
        self.sysctl(name, values)
        self.ip("link", "set", "lo", "up", node=name)
        return node

    def _leg(self, node: Node, lan: Lan, last: int) -> tuple[str, str]:
        """A veth from ``node`` (``eth<k>``) to ``lan``'s bridge, with the node's addresses on it."""
        interface = f"eth{len(node.legs)}"
        self._veths += 1
        outside = f"v{self._veths}"
        self.ip("link", "add", outside, "type", "veth", "peer", "name", interface, "netns", node.name)
        self.ip("link", "set", outside, "master", lan.bridge, "up")
        self.ip("addr", "add", f"{lan.ipv4(last)}/24", "dev", interface, node=node.name)
        self.ip("-6", "addr", "add", f"{lan.ipv6(last)}/64", "dev", interface, "nodad", node=node.name)
        self.ip("link", "set", interface, "up", node=node.name)
        node.legs[interface] = lan.name
        return interface, outside

    def _host_routes(self, host: str, lan: Lan) -> None:
        if not self.nodes[host].routes:
            return
        if lan.router is not None:
            self.ip("route", "replace", "default", "via", lan.ipv4(1), node=host)
            self.ip("-6", "route", "replace", "default", "via", lan.ipv6(1), node=host)
        else:
            self.ip("route", "replace", "224.0.0.0/4", "dev", "eth0", node=host)

    # -- requests --------------------------------------------------------------------------

    def do_hello(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "mode": self.mode, "uid": os.getuid(),
                "netns": os.stat("/proc/self/ns/net").st_ino}

    def do_add_lan(self, name: str, snooping: bool = False) -> dict[str, Any]:
        if name in self.lans or name in self.nodes:
            raise AgentError(f"the name {name!r} is taken")
        lan = Lan(name, len(self.lans) + 1, f"br{len(self.lans) + 1}")
        # IGMP/MLD snooping with the bridge as querier, so memberships are refreshed (and
        # leaves answered by group queries) rather than ageing out after 260 s.
        # With snooping the bridge is the querier, so memberships are refreshed rather than ageing
        # out; a query every 10 s, answered within 1 s, also tells a router added later what was
        # joined. Without it (the default) the bridge floods multicast to every port and each
        # host keeps what its sockets joined: delivery follows the joins at once.
        self.ip("link", "add", lan.bridge, "type", "bridge", "mcast_snooping", "1" if snooping else "0",
                "mcast_querier", "1" if snooping else "0", "mcast_igmp_version", "3", "mcast_mld_version", "2",
                "mcast_query_interval", "1000", "mcast_query_response_interval", "100")
        self.ip("link", "set", lan.bridge, "up")
        self.lans[name] = lan
        return {"name": name, "ipv4": f"10.{lan.number}.0.0/24", "ipv6": f"fd00:0:0:{lan.number:x}::/64",
                "snooping": bool(snooping)}

    def _lan(self, name: str) -> Lan:
        try:
            return self.lans[name]
        except KeyError:
            raise AgentError(f"no LAN named {name!r} (LANs: {', '.join(self.lans) or 'none'})") from None

    def do_add_host(self, name: str, lan: str, routes: bool = True) -> dict[str, Any]:
        segment = self._lan(lan)
        self._new_node(name, "host", routes)
        self._leg(self.nodes[name], segment, len(segment.hosts) + 2)
        segment.hosts.append(name)
        self._host_routes(name, segment)
        return self.do_info(name)

    def do_add_router(self, name: str, lans: list[str]) -> dict[str, Any]:
        segments = [self._lan(lan) for lan in lans]
        if len(set(lans)) != len(lans) or len(lans) < 2:
            raise AgentError("a router joins two or more different LANs")
        taken = [segment.name for segment in segments if segment.router is not None]
        if taken:
            raise AgentError(f"LAN {taken[0]!r} has a router already")
        node = self._new_node(name, "router")
        legs = []
        for segment in segments:
            interface, outside = self._leg(node, segment, 1)
            # the bridge sends every multicast frame to the router's port, as to a querier's
            self.ip("link", "set", "dev", outside, "type", "bridge_slave", "mcast_router", "2")
            segment.router = name
            for host in segment.hosts:
                self._host_routes(host, segment)
            legs.append((interface, segment.name))
        sockets = []
        with self.inside(name):
            for interface, lan in legs:
                packet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
                packet.bind((interface, _ETH_P_ALL))
                sockets.append((interface, lan, packet))
        info = self.do_info(name)
        found = {entry["name"]: entry for entry in info["interfaces"]}
        addresses = {interface: (next((a for f, a, _ in found[interface]["addresses"] if f == "inet"), None),
                                 next((a for f, a, _ in found[interface]["addresses"]
                                       if f == "inet6" and a.startswith("fe80")), None))
                     for interface, _, _ in sockets}
        self.relay.add_router(name, [(interface, lan, packet, _mac(found[interface]["mac"]))
                                     for interface, lan, packet in sockets], addresses)
        return info

    def do_info(self, name: str) -> dict[str, Any]:
        node = self.nodes.get(name)
        if node is None:
            raise AgentError(f"no host or router named {name!r}")
        interfaces = []
        for entry in json.loads(self.ip("-j", "addr", "show", node=name)):
            addresses = [(info["family"], info["local"], info["prefixlen"]) for info in entry.get("addr_info", [])]
            interfaces.append({"name": entry["ifname"], "index": entry["ifindex"], "mac": entry.get("address"),
                               "lan": node.legs.get(entry["ifname"]), "addresses": addresses})
        return {"name": name, "kind": node.kind, "interfaces": interfaces}

    def do_socket(self, host: str, family: int, type: int, protocol: int) -> tuple[dict[str, Any], list[int]]:
        if host not in self.nodes:
            raise AgentError(f"no host or router named {host!r}")
        try:
            with self.inside(host):
                made = socket.socket(family, type, protocol)
        except OSError as exc:
            return {"errno": exc.errno or 0}, []
        return {"fd": 0}, [made.detach()]

    def do_ip(self, node: str | None, args: list[str]) -> str:
        if node is not None and node not in self.nodes:
            raise AgentError(f"no host or router named {node!r}")
        return self.ip(*args, node=node)

    def do_bridge(self, args: list[str]) -> str:
        done = subprocess.run(["bridge", *args], capture_output=True, text=True, timeout=30, check=False)
        if done.returncode:
            raise AgentError(f"`bridge {' '.join(args)}` failed: {done.stderr.strip()}")
        return done.stdout

    def do_set_link(self, router: str, loss: float, delay: float, jitter: float, seed: int | None) -> None:
        self.relay.configure(router, loss=loss, delay=delay, jitter=jitter, seed=seed)

    def do_table(self, router: str) -> list[dict[str, Any]]:
        return self.relay.table(router)

    def do_members(self, router: str) -> list[dict[str, Any]]:
        return self.relay.members(router)

    # -- the loop --------------------------------------------------------------------------

    def serve(self) -> None:
        """Answer requests until the control socket closes."""
        while True:
            try:
                data = self.control.recv(1 << 16)
            except (ConnectionResetError, BrokenPipeError):
                return
            if not data:
                return
            fds: list[int] = []
            try:
                request = json.loads(data)
                handler = getattr(self, "do_" + str(request.pop("op")))
                result = handler(**request)
                if isinstance(result, tuple):
                    result, fds = result
                reply: dict[str, Any] = {"ok": True, "result": result}
            except Exception as exc:  # every failure goes back as text; the agent carries on
                text = str(exc) if isinstance(exc, AgentError) else f"{type(exc).__name__}: {exc}"
                reply = {"ok": False, "error": text}
            try:
                socket.send_fds(self.control, [json.dumps(reply).encode()], fds) if fds else \
                    self.control.send(json.dumps(reply).encode())
            except OSError:
                return
            finally:
                for fd in fds:
                    os.close(fd)


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def main(argv: list[str]) -> int:
    """Entry point: ``python -m gsocklab.netlab._agent FD MODE``."""
    control = socket.socket(fileno=int(argv[1]))
    mode = argv[2] if len(argv) > 2 else "root"
    try:
        _private_run()
        agent = Agent(control, mode)
    except Exception as exc:
        control.send(json.dumps({"ok": False, "error": f"the agent could not start: {exc}"}).encode())
        return 1
    try:
        agent.serve()
    finally:
        agent.relay.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
