"""The lab's multicast router: a user-space relay between LAN segments.

The kernels this lab runs on often lack multicast routing (``CONFIG_IP_MROUTE``) and link
emulation (``netem``), so a router is this relay, running as a thread in the agent. It reads
every frame arriving on its legs (``AF_PACKET`` sockets; each leg's bridge port is a
permanent multicast-router port, so the bridge hands it all multicast traffic), and sends
each routable multicast datagram out of every other leg with its TTL decremented
(`gsocklab.netlab._frames.forward`): TTL 1 dies at the router, and the source address and
ports are kept, as a kernel router keeps them. The segment's own switch then delivers the
datagram only to the ports whose hosts joined the group (IGMP/MLD snooping). ``loss``,
``delay`` and ``jitter`` emulate a lossy, slow link, drawn from a seeded generator.

`Relay.table` counts, per router, group, source and legs, what was forwarded and dropped.
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

from ._frames import forward

__all__ = ["Relay"]

_PACKET_OUTGOING: Final = 4
_PACKET_MULTICAST: Final = 2


@dataclass
class _Leg:
    interface: str
    lan: str
    packet: socket.socket
    mac: bytes


@dataclass
class _Router:
    name: str
    legs: list[_Leg]
    loss: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    counts: dict[tuple[str, str, str, str, str], list[int]] = field(default_factory=dict)


_FORWARDED, _TTL, _LOST = 0, 1, 2


class Relay:
    """Every router of one network, served by one thread (see the module's text)."""

    def __init__(self) -> None:
        self._routers: dict[str, _Router] = {}
        self._by_fd: dict[int, tuple[_Router, _Leg]] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._later: list[tuple[float, int, _Leg, bytes]] = []
        self._order = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add_router(self, name: str, legs: list[tuple[str, str, socket.socket, bytes]]) -> None:
        """Start relaying between ``legs`` (interface, LAN, bound ``AF_PACKET`` socket, MAC)."""
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

    def configure(self, name: str, *, loss: float, delay: float, jitter: float, seed: int | None) -> None:
        """Set the link emulation of router ``name`` (``seed`` restarts its random draws)."""
        router = self._router(name)
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"loss must be between 0 and 1, not {loss}")
        if delay < 0 or jitter < 0:
            raise ValueError("delay and jitter must not be negative")
        with self._lock:
            router.loss, router.delay, router.jitter = loss, delay, jitter
            if seed is not None:
                router.rng.seed(seed)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Per group, source and legs of router ``name``: datagrams forwarded, dropped (TTL), lost."""
        router = self._router(name)
        with self._lock:
            return [{"router": name, "group": group, "source": source, "in": in_lan, "out": out_lan,
                     "protocol": protocol, "forwarded": counts[_FORWARDED], "ttl_expired": counts[_TTL],
                     "lost": counts[_LOST]}
                    for (group, source, in_lan, out_lan, protocol), counts in router.counts.items()]

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
            if address[2] == _PACKET_MULTICAST:
                self._route(router, leg, frame)

    def _route(self, router: _Router, arrived: _Leg, frame: bytes) -> None:
        now = time.monotonic()
        for leg in router.legs:
            if leg is arrived:
                continue
            verdict = forward(frame, leg.mac)
            datagram = verdict.datagram
            if datagram is None or verdict.reason == "scope":
                return
            key = (datagram.group, datagram.source, arrived.lan, leg.lan, "UDP" if datagram.protocol == 17
                   else str(datagram.protocol))
            with self._lock:
                counts = router.counts.setdefault(key, [0, 0, 0])
                if verdict.frame is None:
                    counts[_TTL] += 1
                    continue
                if router.loss and router.rng.random() < router.loss:
                    counts[_LOST] += 1
                    continue
                counts[_FORWARDED] += 1
                delay = router.delay + (router.rng.uniform(-router.jitter, router.jitter) if router.jitter else 0.0)
                if delay > 0:
                    self._order += 1
                    heapq.heappush(self._later, (now + delay, self._order, leg, verdict.frame))
                    continue
            self._send(leg, verdict.frame)

    def _send_due(self) -> None:
        while True:
            with self._lock:
                if not self._later or self._later[0][0] > time.monotonic():
                    return
                _, _, leg, frame = heapq.heappop(self._later)
            self._send(leg, frame)

    @staticmethod
    def _send(leg: _Leg, frame: bytes) -> None:
        try:
            leg.packet.send(frame)
        except OSError:
            pass  # a full queue or a leg going away: the datagram is lost, as on a real link
