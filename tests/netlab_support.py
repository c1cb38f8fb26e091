"""Helpers of the lab-network tests: namespaces a lab holds, who still refers to them, the
root namespace's interfaces, addresses and routes, bounded receives, sockets made in a node.

How a test finds *every* namespace of a running lab (`lab_namespaces`):

* the fabric: the agent's own network namespace (``/proc/<agent>/ns/net``, also its threads');
* every host and router: ``ip netns add`` bind-mounts each node's namespace on
  ``/run/netns/<name>`` in the agent's private mount namespace. ``/proc/<agent>/root`` opens
  paths in that mount namespace, so ``stat`` of ``/proc/<agent>/root/run/netns/<name>`` is the
  node's nsfs inode; the agent's ``mountinfo`` lists the same ``net:[inode]`` mounts (checked),
  and each socket the lab makes in a host is in that host's one (``SIOCGSKNS``, checked by the tests);
* the agent's mount namespace (it holds those mounts) and, in ``mode="user"``, its user
  namespace.

After the lab is gone, `holders` looks for any reference to one of them: a task's
``/proc/<pid>/task/<tid>/ns/{net,mnt,user}``, an open descriptor linking to ``net:[inode]``
(and ``mnt:``/``user:``), an nsfs mount in any process's ``mountinfo``, and — for this
process, whose sockets the lab handed out — any socket whose namespace (``SIOCGSKNS``) is
one of the lab's. Those are the ways a process keeps a namespace alive (sockets made in the
lab's hosts live in this process and, while it runs, in the agent — which is gone), so none
left means the namespaces, and the interfaces in them, are freed. Tasks that have exited but
are not reaped yet (zombies) are skipped: they have released their network and mount
namespaces, and hold their user namespace only until init reaps them.
"""

from __future__ import annotations

import ctypes
import fcntl
import ipaddress
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gsocklab
from gsocklab import Gio, GLib

#: Where the gsocklab under test was imported from (the repository, for an editable install).
PACKAGE_ROOT = Path(gsocklab.__file__).resolve().parents[1]
CLONE_NEWNET = 0x40000000
SIOCGSKNS = 0x894C
_NS_LINK = re.compile(r"(net|mnt|user):\[(\d+)\]\Z")
_libc = ctypes.CDLL(None, use_errno=True)

Namespaces = dict[str, set[int]]  # kind ("net", "mnt", "user") -> nsfs inodes


# -- namespaces --------------------------------------------------------------------------


def _ns_inode(path: str) -> int:
    return os.stat(path).st_ino


def node_namespaces(agent_pid: int) -> dict[str, int]:
    """Node name -> inode of its network namespace, read through the agent's mount namespace."""
    run = f"/proc/{agent_pid}/root/run/netns"
    return {name: _ns_inode(f"{run}/{name}") for name in sorted(os.listdir(run))}


def lab_namespaces(agent_pid: int) -> Namespaces:
    """Every namespace of the running lab whose agent is ``agent_pid`` (see the module text)."""
    proc = f"/proc/{agent_pid}"
    nodes = node_namespaces(agent_pid)
    mounted = {int(match) for match in re.findall(r"\snet:\[(\d+)\]\s", Path(f"{proc}/mountinfo").read_text())}
    assert set(nodes.values()) <= mounted, (mounted, nodes)  # (mounts copied from ours may be there too)
    net = {_ns_inode(f"{proc}/ns/net"), *nodes.values()}
    net |= {_ns_inode(f"{proc}/task/{task}/ns/net") for task in os.listdir(f"{proc}/task")}
    found: Namespaces = {"net": net, "mnt": set(), "user": set()}
    for kind in ("mnt", "user"):
        inode = _ns_inode(f"{proc}/ns/{kind}")
        if inode != _ns_inode(f"/proc/self/ns/{kind}"):
            found[kind].add(inode)
    return found


def socket_namespace(fd: int) -> int:
    """Inode of the network namespace socket ``fd`` lives in (``SIOCGSKNS``)."""
    ns_fd = fcntl.ioctl(fd, SIOCGSKNS)
    try:
        return os.fstat(ns_fd).st_ino
    finally:
        os.close(ns_fd)


def _links(directory: str) -> Iterable[tuple[str, str]]:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        try:
            yield f"{directory}/{name}", os.readlink(f"{directory}/{name}")
        except OSError:
            continue


def holders(lab: Namespaces) -> list[str]:
    """Every reference any process has to one of ``lab``'s namespaces (see the module text)."""
    found = []

    def check(where: str, link: str) -> None:
        match = _NS_LINK.match(link)
        if match and int(match[2]) in lab[match[1]]:
            found.append(f"{where} -> {link}")

    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        proc = f"/proc/{pid}"
        try:
            tasks = os.listdir(f"{proc}/task")
        except OSError:
            continue
        for task in tasks:
            if _state(f"{proc}/task/{task}") in ("Z", "X"):
                continue  # exited: its namespaces are released (its credentials, and with them its
                # user namespace, only when its parent reaps it; an orphan's parent is init)
            for where, link in _links(f"{proc}/task/{task}/ns"):
                check(where, link)
        for where, link in _links(f"{proc}/fd"):
            check(where, link)
        try:
            mountinfo = Path(f"{proc}/mountinfo").read_text()
        except OSError:
            continue
        for line in mountinfo.splitlines():
            fields = line.split()
            if len(fields) > 4 and " - nsfs " in line:
                check(f"{proc}/mountinfo {fields[4]}", fields[3])
    for where, link in _links("/proc/self/fd"):
        if link.startswith("socket:["):
            try:
                inode = socket_namespace(int(where.rsplit("/", 1)[1]))
            except OSError:
                continue
            if inode in lab["net"]:
                found.append(f"{where} ({link}) is a socket in net:[{inode}]")
    return found


def _state(proc: str) -> str | None:
    """The state letter of ``/proc/<pid>`` (or a task of it); None when it is gone."""
    try:
        return Path(f"{proc}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def agent_gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has exited (gone, or a zombie not reaped yet) within ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        state = _state(f"/proc/{pid}")
        if state in (None, "Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


# -- the root namespace ------------------------------------------------------------------


def _ip_json(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, timeout=10, check=True)
    return list(json.loads(done.stdout or "[]"))


def root_interfaces() -> list[tuple[int, str]]:
    """This (the root) namespace's interfaces: ``ip link`` (netlink) and ``/sys/class/net`` agree."""
    links = sorted((link["ifindex"], link["ifname"]) for link in _ip_json("link", "show"))
    assert sorted(name for _, name in links) == sorted(os.listdir("/sys/class/net"))
    return links


def root_addresses_and_routes() -> list[tuple[str, str]]:
    """(what, prefix) of every address and route (every table) of this namespace."""
    found = []
    for link in _ip_json("addr", "show"):
        for info in link.get("addr_info", []):
            found.append((f"address on {link['ifname']}", f"{info['local']}/{info['prefixlen']}"))
    for family in ("-4", "-6"):
        for route in _ip_json(family, "route", "show", "table", "all"):
            what = (f"{family} route {route.get('type', 'unicast')} {route.get('dst')} via {route.get('gateway')} "
                    f"dev {route.get('dev')} table {route.get('table', 'main')}")
            found.append((what, str(route.get("dst", ""))))
            if route.get("gateway"):
                found.append((what, str(route["gateway"])))
    return found


def lab_subnets(net: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The subnets of the network's LANs (``10.<n>.0.0/24``, ``fd00:0:0:<n>::/64``)."""
    return [ipaddress.ip_network(lan[key]) for lan in net.lans.values() for key in ("ipv4", "ipv6")]


def new_in_lab_subnets(before: list[tuple[str, str]],
                       subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    """Addresses and routes of this namespace inside ``subnets`` now, that were not there ``before``."""
    earlier = set(in_lab_subnets(before, subnets))
    return [entry for entry in in_lab_subnets(root_addresses_and_routes(), subnets) if entry not in earlier]


def in_lab_subnets(entries: list[tuple[str, str]],
                   subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    """The entries (addresses, route destinations, gateways) inside one of ``subnets``."""
    found = []
    for what, text in entries:
        try:
            prefix = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue  # "default", "multicast ...", ...
        if prefix.prefixlen and any(prefix.version == subnet.version and prefix.subnet_of(subnet)
                                    for subnet in subnets):
            found.append(f"{what}: {text}")
    return found


# -- sockets -----------------------------------------------------------------------------


def recv(sock: Gio.Socket, timeout: float = 1.0) -> tuple[bytes, str] | None:
    """The next datagram (data, source as ``addr:port`` text) within ``timeout`` s (<= 1), else None."""
    assert 0 <= timeout <= 1.0
    try:
        data, address = sock.receive_bytes_from(4096, int(timeout * 1_000_000), None)
    except GLib.Error as error:
        if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
            return None
        raise
    return bytes(data), str(address)


def silent(sockets: dict[str, Gio.Socket], settle: float = 0.25) -> dict[str, bytes]:
    """After ``settle`` s, what each of ``sockets`` has received (those with nothing are left out)."""
    time.sleep(settle)
    got = {}
    for name, sock in sockets.items():
        found = recv(sock, 0.001)
        if found is not None:
            got[name] = found[0]
    return got


def socket_in(agent_pid: int, node: str, family: int, kind: int, protocol: int = 0) -> socket.socket:
    """A stdlib socket made in lab node ``node`` by this process (``setns`` in a thread of its
    own; needs root). For traffic the lab's ``socket()`` does not make, such as raw sockets."""
    made: list[socket.socket] = []
    errors: list[BaseException] = []

    def run() -> None:
        here = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        there = os.open(f"/proc/{agent_pid}/root/run/netns/{node}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _libc.setns(there, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                made.append(socket.socket(family, kind, protocol))
            finally:
                _libc.setns(here, CLONE_NEWNET)
        except BaseException as exc:  # handed to the caller
            errors.append(exc)
        finally:
            os.close(here)
            os.close(there)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return made[0]
