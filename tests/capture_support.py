"""Recordings for the capture-file tests: real loopback traffic, every blocking call bounded."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from gsocklab import Gio, GLib, Recorder

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
LIMIT = 5  # seconds: the timeout of every blocking socket in these recordings


def address(host: str, port: int = 0) -> Gio.InetSocketAddress:
    return Gio.InetSocketAddress.new_from_string(host, port)


def udp(host: str = "127.0.0.1", label: str | None = None) -> Gio.Socket:
    family = F.IPV6 if ":" in host else F.IPV4
    sock = Gio.Socket.new(family, T.DATAGRAM, P.DEFAULT)
    sock.set_timeout(LIMIT)
    sock.bind(address(host), True)
    return sock


@dataclass
class Exchange:
    """A recording of UDP and TCP traffic, and what was sent in it."""

    rec: Recorder
    udp_payloads: list[bytes]  # client -> server datagrams, in order
    udp_answers: list[bytes]  # server -> client
    tcp_request: bytes  # client -> server stream bytes
    tcp_answer: bytes  # server -> client stream bytes


def exchange(capture_bytes: int = 256, host: str = "127.0.0.1") -> Exchange:
    """UDP: 4 datagrams and 4 answers, a timeout; TCP: connect, a request in 2 sends, an answer, closes."""
    rec = Recorder(capture_bytes=capture_bytes)
    payloads = [b"ping %d" % i + b"." * (i * 7) for i in range(4)]
    answers = [b"pong %d" % i for i in range(4)]
    request = [b"GET /index HTTP/1.0\r\n", b"Host: lab\r\n\r\n"]
    answer = bytes(range(256)) * 3
    with rec:
        client, server = udp(host), udp(host)
        for data, back in zip(payloads, answers, strict=True):
            client.send_to(server.get_local_address(), data, None)
            _count, source, _got = server.receive_from(None, 2048)
            server.send_to(source, back, None)
            client.receive_from(None, 2048)
        server.set_timeout(1)
        try:
            server.receive_from(None, 2048)
        except GLib.Error:
            pass
        client.close()
        server.close()

        family = F.IPV6 if ":" in host else F.IPV4
        listener = Gio.Socket.new(family, T.STREAM, P.DEFAULT)
        listener.set_timeout(LIMIT)
        listener.bind(address(host), True)
        listener.listen()
        tcp_client = Gio.Socket.new(family, T.STREAM, P.DEFAULT)
        tcp_client.set_timeout(LIMIT)
        tcp_client.connect(listener.get_local_address(), None)
        accepted = listener.accept(None)
        accepted.set_timeout(LIMIT)
        for part in request:
            tcp_client.send(part, None)
        got = b""
        while len(got) < sum(map(len, request)):
            got += accepted.receive(None, 4096)[1]
        accepted.send(answer, None)
        back = b""
        while len(back) < len(answer):
            back += tcp_client.receive(None, 200)[1]  # under capture_bytes: captured whole
        tcp_client.close()
        assert accepted.receive(None, 10)[0] == 0  # the client's FIN
        accepted.close()
        listener.close()
    return Exchange(rec, payloads, answers, b"".join(request), answer)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
