"""The lab's multicast router: a user-space relay between LAN segments.

The kernels this lab runs on often lack multicast routing (``CONFIG_IP_MROUTE``) and link
emulation (``netem``), so a router is this relay, running as a thread in the agent. It reads
every frame arriving on its legs (``AF_PACKET`` sockets; each leg's bridge port is a
permanent multicast-router port, so the bridge hands it all multicast traffic and every
IGMP/MLD membership report). From the reports it keeps who wants which group on each leg
(`gsocklab.netlab._membership`); a routable multicast datagram goes out of every other leg
where some host wants its (source, group), with its TTL decremented
(`gsocklab.netlab._frames.forward`): TTL 1 dies at the router, and the source address and
ports are kept, as a kernel router keeps them. The segment's switch then delivers it only
to the ports whose hosts joined (IGMP/MLD snooping). ``loss``, ``delay`` and ``jitter``
emulate a lossy, slow link, drawn from a seeded generator.

`Relay.table` counts, per router, group, source and legs, what was forwarded and dropped;
`Relay.members` lists what each leg's hosts joined.
"""

from __future__ import annotations

import heapq
import os
import random
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

from ._frames import forward, parse, routable
from ._membership import Memberships, igmp_general_query, mld_general_query, parse_report

__all__ = ["Relay"]

_PACKET_OUTGOING: Final = 4
_PACKET_MULTICAST: Final = 2


@dataclass
class _Leg:
    interface: str
    lan: str
    packet: socket.socket
    mac: bytes
    members: Memberships = field(default_factory=Memberships)


@dataclass
class _Router:
    name: str
    legs: list[_Leg]
    loss: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    malformed: int = 0  # frames the relay could not read (dropped)
    counts: dict[tuple[str, str, str, str, str], list[int]] = field(default_factory=dict)


_FORWARDED, _TTL, _LOST, _NO_MEMBERS = 0, 1, 2, 3
#: Seconds a datagram that finds no member on a leg waits for a report still on its way.
REPORT_GRACE: Final = 0.05


@dataclass
class _Pending:
    """One datagram for one outgoing leg, waiting for the router's decision."""

    router: _Router
    leg: _Leg
    key: tuple[str, str, str, str, str]
    frame: bytes | None      # as it would be forwarded (None: its TTL ran out)
    source: str
    group: str


class Relay:
    """Every router of one network, served by one thread (see the module's text)."""

    def __init__(self) -> None:
        self._routers: dict[str, _Router] = {}
        self._by_fd: dict[int, tuple[_Router, _Leg]] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._later: list[tuple[float, int, _Leg | _Pending]] = []  # (due, order, what)
        self._frames: dict[int, bytes] = {}  # order -> frame of a delayed datagram
        self._held: dict[tuple[str, str, str, str, str], float] = {}  # key -> until when it waits for a report
        self._queued: dict[tuple[str, str, str, str, str], int] = {}  # key -> datagrams waiting in _later
        self._order = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add_router(self, name: str, legs: list[tuple[str, str, socket.socket, bytes]],
                   addresses: dict[str, tuple[str | None, str | None]] | None = None) -> None:
        """Start relaying between ``legs`` (interface, LAN, bound ``AF_PACKET`` socket, MAC).

        With ``addresses`` (interface -> its IPv4 and IPv6 link-local address) the router first
        asks every LAN for its memberships (IGMPv3 and MLDv2 general queries), so hosts that
        joined before it came re-report within a second.
        """
        router = _Router(name, [_Leg(*leg) for leg in legs])
        with self._lock:
            self._routers[name] = router
            for leg in router.legs:
                leg.packet.setblocking(False)
                self._by_fd[leg.packet.fileno()] = (router, leg)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gsocklab-relay", daemon=True)
                self._thread.start()
        os.write(self._wake_w, b"!")
        for leg in router.legs:
            ipv4, link_local = (addresses or {}).get(leg.interface, (None, None))
            if ipv4:
                self._send(leg, igmp_general_query(leg.mac, ipv4))
            if link_local:
                self._send(leg, mld_general_query(leg.mac, link_local))

    def configure(self, name: str, *, loss: float, delay: float, jitter: float, seed: int | None) -> None:
        """Set the link emulation of router ``name`` (``seed`` restarts its random draws)."""
        router = self._router(name)
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"loss must be between 0 and 1, not {loss}")
        if not (0 <= delay <= 3600 and 0 <= jitter <= 3600):  # (also refuses NaN and infinity)
            raise ValueError(f"delay and jitter must be finite, from 0 to 3600 s, not {delay!r} and {jitter!r}")
        with self._lock:
            router.loss, router.delay, router.jitter = loss, delay, jitter
            if seed is not None:
                router.rng.seed(seed)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Per group, source and legs of router ``name``: datagrams forwarded, dropped (TTL), lost,
        and not forwarded because nobody on the outgoing leg's LAN wanted them."""
        router = self._router(name)
        with self._lock:
            return [{"router": name, "group": group, "source": source, "in": in_lan, "out": out_lan,
                     "protocol": protocol, "forwarded": counts[_FORWARDED], "ttl_expired": counts[_TTL],
                     "lost": counts[_LOST], "no_members": counts[_NO_MEMBERS]}
                    for (group, source, in_lan, out_lan, protocol), counts in router.counts.items()]

    def members(self, name: str) -> list[dict[str, Any]]:
        """Per leg of router ``name``: the groups its LAN's hosts joined, and which hosts."""
        router = self._router(name)
        with self._lock:
            return [{"router": name, "lan": leg.lan, "interface": leg.interface, "group": group,
                     "hosts": sorted(hosts)}
                    for leg in router.legs for group, hosts in sorted(leg.members.groups().items())]

    def _router(self, name: str) -> _Router:
        try:
            return self._routers[name]
        except KeyError:
            raise ValueError(f"no router named {name!r}") from None

    def stop(self) -> None:
        """End the thread and close the legs' sockets."""
        self._stopped = True
        os.write(self._wake_w, b"!")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for _router, leg in self._by_fd.values():
            leg.packet.close()

    def _run(self) -> None:
        while not self._stopped:
            with self._lock:
                fds = list(self._by_fd)
                wait = max(0.0, self._later[0][0] - time.monotonic()) if self._later else None
            readable, _, _ = select.select([self._wake_r, *fds], [], [], wait)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            for fd in readable:
                if fd != self._wake_r:
                    self._drain(*self._by_fd[fd])
            self._send_due()

    def _drain(self, router: _Router, leg: _Leg) -> None:
        while True:
            try:
                frame, address = leg.packet.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if address[2] != _PACKET_MULTICAST:
                continue
            self._send_due()  # what waited goes first, so a flow keeps its order
            try:
                report = parse_report(frame)
                if report is not None:
                    with self._lock:
                        leg.members.apply(report)
                else:
                    self._route(router, leg, frame)
            except Exception:
                with self._lock:
                    router.malformed += 1

    def _route(self, router: _Router, arrived: _Leg, frame: bytes) -> None:
        datagram = parse(frame)
        if datagram is None or not routable(datagram):
            return
        protocol = "UDP" if datagram.protocol == 17 else str(datagram.protocol)
        for leg in router.legs:
            if leg is not arrived:
                verdict = forward(frame, leg.mac)
                key = (datagram.group, datagram.source, arrived.lan, leg.lan, protocol)
                self._decide(_Pending(router, leg, key, verdict.frame, datagram.source, datagram.group), first=True)

    def _decide(self, pending: _Pending, first: bool) -> None:
        """Forward, delay, lose or drop one datagram on one outgoing leg, and count it.

        A host's membership report leaves its kernel a few milliseconds after the join (a
        timer), so a datagram sent right after a join can reach the router before the report:
        a datagram that finds no member is looked at again `REPORT_GRACE` seconds later.
        """
        router, leg = pending.router, pending.leg
        frame = pending.frame
        now = time.monotonic()
        with self._lock:
            counts = router.counts.setdefault(pending.key, [0, 0, 0, 0])
            if frame is None:
                counts[_TTL] += 1
                return
            held = self._held.get(pending.key, 0.0)
            queued = self._queued.get(pending.key, 0)
            wanted = leg.members.wants(pending.source, pending.group)
            if first and (not wanted or queued):  # behind datagrams still waiting: the order is kept
                if not queued:
                    held = self._held[pending.key] = now + REPORT_GRACE
                self._queued[pending.key] = queued + 1
                self._order += 1
                heapq.heappush(self._later, (max(held, now), self._order, pending))
                return
            if not wanted:
                counts[_NO_MEMBERS] += 1
                return
            if router.loss and router.rng.random() < router.loss:
                counts[_LOST] += 1
                return
            counts[_FORWARDED] += 1
            delay = router.delay + (router.rng.uniform(-router.jitter, router.jitter) if router.jitter else 0.0)
            if delay > 0:
                self._order += 1
                heapq.heappush(self._later, (now + delay, self._order, leg))
                self._frames[self._order] = frame
                return
        self._send(leg, frame)

    def _send_due(self) -> None:
        while True:
            with self._lock:
                if not self._later or self._later[0][0] > time.monotonic():
                    return
                _, order, item = heapq.heappop(self._later)
                frame = self._frames.pop(order, None)
            if isinstance(item, _Pending):
                with self._lock:
                    self._queued[item.key] -= 1
                self._decide(item, first=False)
            elif frame is not None:
                self._send(item, frame)

    @staticmethod
    def _send(leg: _Leg, frame: bytes) -> None:
        try:
            leg.packet.send(frame)
        except OSError:
            pass  # a full queue or a leg going away: the datagram is lost, as on a real link
