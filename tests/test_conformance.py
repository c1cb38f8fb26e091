"""Differential conformance: the same scenario through real GLib (PyGObject) and gsocklab.

Part 1: the GSocket tests of GLib's own ``gio/tests/socket.c`` (reference §6.1) that do not need
``send_message``/``receive_message(s)``/``create_source``, and the construction, option and
bind/listen/accept edge cases of reference §6.2 (items 1-35). Connect, timeouts, shutdown,
datagrams, multicast, credentials and connections (§6.2 items 36-81) are in
``test_conformance_io.py``.

The oracle is GLib 2.74; gsocklab targets GLib HEAD. Where the two differ (§0.1) the scenario
key is listed in ``compare(..., head={key: (glib_2_74, glib_head)})`` with a "GLib 2.74 differs"
comment. Receiving on the GLib side only ever goes through ``recv_bytes`` (``receive_message``
plus ctypes), never PyGObject's broken ``receive()`` (§7.1).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from oracle import GI_HEADER, ORACLE_PYTHON, compare, oracle_available, require_oracle, run_gsocklab_only, with_params

pytestmark = pytest.mark.oracle

FAMILIES = pytest.mark.parametrize("family", ["IPV4", "IPV6"], ids=["ipv4", "ipv6"])


def with_family(family: str, source: str) -> str:
    return with_params("FAM = getattr(F, FAMILY)\nLO = lo4 if FAM == F.IPV4 else lo6\n", FAMILY=family) + (
        with_params(source)
    )


# --------------------------------------------------------------------------------------------
# §6.1: gio/tests/socket.c
# --------------------------------------------------------------------------------------------


@FAMILIES
def test_ip_sync(family: str) -> None:
    """§6.1 rows 1-2 (/socket/ipv4_sync, /socket/ipv6_sync) without the send_message part."""
    compare(
        with_family(
            family,
            r'''
            server = new(FAM, T.STREAM, P.DEFAULT)
            out["server"] = [server.get_family(), server.get_socket_type(), server.get_protocol()]
            server.set_blocking(True)
            server.set_timeout(5)
            addr = LO(0)
            out["bind"] = err(server.bind, addr, True)
            out["port_before"] = addr.get_port()
            out["port_after_nonzero"] = server.get_local_address().get_port() != 0
            out["listen"] = err(server.listen)
            def echo():
                s = keep(server.accept(None))
                s.set_timeout(5)
                while True:
                    n, data, _ = recv_bytes(s, 128)
                    if n <= 0:
                        break
                    s.send(data, None)
                s.close()
            th = threading.Thread(target=echo, daemon=True)
            th.start()
            client = new(FAM, T.STREAM, P.DEFAULT)
            out["client"] = [client.get_family(), client.get_socket_type(), client.get_protocol()]
            client.set_blocking(True)
            client.set_timeout(1)
            out["connect"] = err(client.connect, server.get_local_address(), None)
            out["is_connected"] = client.is_connected()
            r, t = timed(recv_bytes, client, 128)
            out["receive_nothing"] = r
            out["receive_nothing_about_1s"] = 0.9 <= t < 3.0
            testbuf = b"0123456789abcdef\0"
            out["send"] = err(client.send, testbuf, None)
            out["echo"] = err(recv_bytes, client, 128)
            out["shutdown_write"] = err(client.shutdown, False, True)
            th.join(10)
            out["echo_thread_done"] = not th.is_alive()
            out["eof"] = err(recv_bytes, client, 128)
            out["send_after_close"] = err(client.send, testbuf, None)
            out["close_client"] = err(client.close)
            out["close_server"] = err(server.close)
            ''',
        )
    )


def test_ipv6_v4mapped() -> None:
    """§6.1 row 9 (/socket/ipv6_v4mapped) and §6.2 item 35: dual-stack listener, IPv4 client."""
    compare(
        r'''
        server = new(F.IPV6, T.STREAM, P.DEFAULT)
        out["v6only_off"] = err(server.set_option, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        out["speaks_ipv4"] = server.speaks_ipv4()
        out["bind"] = err(server.bind, any6(0), True)
        out["listen"] = err(server.listen)
        server.set_timeout(5)
        out["listener_local"] = server.get_local_address()
        client = new(F.IPV4, T.STREAM, P.DEFAULT)
        client.set_timeout(5)
        out["connect"] = err(client.connect, lo4(server.get_local_address().get_port()), None)
        s = keep(server.accept(None))
        out["accepted_family"] = s.get_family()
        out["accepted_local"] = s.get_local_address()
        out["accepted_local_family"] = fam(s.get_local_address())
        out["accepted_remote"] = s.get_remote_address()
        out["accepted_remote_family"] = fam(s.get_remote_address())
        '''
    )


def test_close_graceful() -> None:
    """§6.1 row 10 (/socket/close_graceful): EOF is IN, not HUP."""
    compare(
        r'''
        L, C, S = tcp_pair()
        out["send"] = err(S.send, b"0123456789abcdef\0", None)
        out["shutdown"] = err(S.shutdown, False, True)
        C.set_timeout(1)
        r, t = timed(C.condition_wait, HUP, None)
        out["wait_hup"] = r
        out["wait_hup_about_1s"] = 0.9 <= t < 3.0
        out["receive"] = err(recv_bytes, C, 17)
        out["receive_eof"] = err(recv_bytes, C, 17)
        '''
    )


def test_timed_wait() -> None:
    """§6.1 row 11 (/socket/timed_wait): a 100 ms wait on a socket with timeout 1 s."""
    compare(
        r'''
        A, B = udp_pair()
        A.set_timeout(1)
        r, t = timed(A.condition_timed_wait, IN, 100000, None)
        out["wait"] = r
        out["about_100ms"] = 0.095 <= t < 0.6
        '''
    )


def test_fd_reuse() -> None:
    """§6.1 row 12 (/socket/fd_reuse): a second GSocket on a dup() of the client's fd."""
    compare(
        r'''
        L, C, S = tcp_pair()
        C2 = keep(Gio.Socket.new_from_fd(os.dup(C.get_fd())))
        out["c2"] = [C2.get_family(), C2.get_socket_type(), C2.get_protocol(), C2.is_connected()]
        C2.set_timeout(5)
        out["send_c2"] = err(C2.send, b"via the dup\0", None)
        out["server_got"] = err(recv_bytes, S, 128)
        out["reply"] = err(S.send, b"reply", None)
        out["c2_got"] = err(recv_bytes, C2, 128)
        out["shutdown_c"] = err(C.shutdown, False, True)
        out["shutdown_c2"] = err(C2.shutdown, False, True)
        out["server_eof"] = err(recv_bytes, S, 128)
        out["close"] = [err(C.close), err(C2.close), err(S.close)]
        out["fds"] = [C.get_fd(), C2.get_fd(), S.get_fd()]
        '''
    )


def test_inet_socket_address_ipv6_info() -> None:
    """§6.1 row 13 (/socket/address), as far as Python can express it (no raw sockaddr)."""
    compare(
        r'''
        a = err(Gio.InetSocketAddress, address=Gio.InetAddress.new_loopback(F.IPV6), port=42,
                flowinfo=1729, scope_id=17)
        if a[0] == "ok":
            a = a[1]
            out["fields"] = [a.get_address().to_string(), a.get_port(), a.get_flowinfo(),
                             a.get_scope_id(), fam(a), a.get_native_size()]
        else:
            out["fields"] = a
        '''
    )


def test_unix_from_fd_and_connection() -> None:
    """§6.1 rows 14-15 (/socket/unix-from-fd, /socket/unix-connection) and row 33."""
    compare(
        r'''
        u = keep(Gio.Socket.new_from_fd(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach()))
        out["unix"] = [u.get_family(), u.get_socket_type(), u.get_protocol()]
        out["unix_connection"] = type(u.connection_factory_create_connection()).__name__
        t = keep(Gio.Socket.new_from_fd(socket.socket(socket.AF_INET, socket.SOCK_STREAM).detach()))
        out["unbound_tcp"] = [t.get_family(), t.get_socket_type(), t.get_protocol()]
        '''
    )


def test_reuse_tcp_and_udp() -> None:
    """§6.1 rows 18-19 (/socket/reuse/tcp, /socket/reuse/udp) and §6.2 items 24-25."""
    compare(
        r'''
        s1 = new(F.IPV4, T.STREAM)
        out["tcp_bind1"] = err(s1.bind, lo4(), True)
        out["tcp_listen"] = err(s1.listen)
        s2 = new(F.IPV4, T.STREAM)
        out["tcp_bind2"] = err(s2.bind, s1.get_local_address(), True)
        u1 = new(F.IPV4, T.DATAGRAM)
        u2 = new(F.IPV4, T.DATAGRAM)
        out["udp_bind1"] = err(u1.bind, lo4(), True)
        out["udp_bind2"] = err(u2.bind, u1.get_local_address(), True)
        u3 = new(F.IPV4, T.DATAGRAM)
        out["udp_noreuse_onto_reuse"] = err(u3.bind, u1.get_local_address(), False)
        u4 = new(F.IPV4, T.DATAGRAM)
        u4.bind(lo4(), False)
        u5 = new(F.IPV4, T.DATAGRAM)
        out["udp_reuse_onto_noreuse"] = err(u5.bind, u4.get_local_address(), True)
        '''
    )


def test_available_datagram() -> None:
    """§6.1 row 20 (/socket/get_available/datagram): one datagram at a time."""
    compare(
        r'''
        listener = new(F.IPV4, T.DATAGRAM)
        listener.bind(any4(0), True)
        listener.set_timeout(5)
        port = listener.get_local_address().get_port()
        client = new(F.IPV4, T.DATAGRAM)
        data = b"0123456789abcdef\0"
        out["send1"] = err(client.send_to, lo4(port), data, None)
        out["wait"] = err(listener.condition_timed_wait, IN, 2000000, None)
        out["avail1"] = listener.get_available_bytes()
        out["send2"] = err(client.send_to, lo4(port), data, None)
        time.sleep(0.1)
        out["avail2"] = listener.get_available_bytes()
        out["recv1"] = err(lambda: recv_bytes(listener, 34)[:2])
        out["avail3"] = listener.get_available_bytes()
        out["recv2"] = err(lambda: recv_bytes(listener, 34)[:2])
        out["avail4"] = listener.get_available_bytes()
        '''
    )


def test_available_stream() -> None:
    """§6.1 row 21 (/socket/get_available/stream)."""
    compare(
        r'''
        L, C, S = tcp_pair()
        out["nodelay"] = err(C.set_option, socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        S.set_blocking(False)
        data = b"0123456789abcdef\0"
        out["send1"] = err(C.send, data, None)
        out["wait"] = err(S.condition_timed_wait, IN, 2000000, None)
        out["avail1"] = S.get_available_bytes()
        out["send2"] = err(C.send, data, None)
        deadline = time.monotonic() + 10
        while S.get_available_bytes() < 34 and time.monotonic() < deadline:
            time.sleep(0.01)
        out["avail2"] = S.get_available_bytes()
        out["recv"] = err(lambda: recv_bytes(S, 34)[:2])
        out["avail3"] = S.get_available_bytes()
        out["recv_empty"] = err(recv_bytes, S, 34)
        out["avail4"] = S.get_available_bytes()
        '''
    )


def test_credentials_tcp_and_socketpair() -> None:
    """§6.1 rows 25-27 (/socket/credentials/*) and §6.2 item 78 (E13/E14)."""
    compare(
        r'''
        L, C, S = tcp_pair()
        out["tcp_client"] = err(lambda: C.get_credentials().to_string())
        out["tcp_server"] = err(lambda: S.get_credentials().to_string())
        out["tcp_unix_user"] = err(lambda: C.get_credentials().get_unix_user())
        out["udp_unconnected"] = err(lambda: new(F.IPV4, T.DATAGRAM).get_credentials().to_string())
        out["unix_unconnected_pid"] = err(lambda: new(F.UNIX, T.STREAM).get_credentials().get_unix_pid())
        a, b = socket.socketpair()
        ga = keep(Gio.Socket.new_from_fd(a.detach()))
        gb = keep(Gio.Socket.new_from_fd(b.detach()))
        me = "GCredentials:linux-ucred:pid=%d,uid=%d,gid=%d" % (os.getpid(), os.getuid(), os.getgid())
        out["pair_is_me"] = err(lambda: ga.get_credentials().to_string() == me)
        out["pair_user_pid"] = err(lambda: [gb.get_credentials().get_unix_user() == os.getuid(),
                                            gb.get_credentials().get_unix_pid() == os.getpid()])
        '''
    )


@pytest.mark.parametrize("blocking", [False, True], ids=["nonblocking", "blocking"])
def test_accept_and_connect_precancelled_head(blocking: bool) -> None:
    """§6.1 rows 30-31 (GLib >= 2.86 only): a pre-cancelled cancellable wins before any syscall.

    GLib 2.74 differs: it runs accept()/connect() first (§0.1, §1.5), so this is gsocklab-only.
    """
    out = run_gsocklab_only(
        with_params(
            r'''
        c = Gio.Cancellable()
        c.cancel()
        s = new(F.IPV4, T.STREAM)
        s.set_blocking(BLOCKING)
        out["accept"] = err(s.accept, c)
        t = new(F.IPV4, T.STREAM)
        t.set_blocking(BLOCKING)
        out["connect"] = err(t.connect, lo4(0), c)
        out["connected"] = t.is_connected()
        ''',
            BLOCKING=blocking,
        )
    )
    cancelled = ["error", "CANCELLED", "Operation was cancelled"]
    assert out == {"accept": cancelled, "connect": cancelled, "connected": False}


# --------------------------------------------------------------------------------------------
# §6.2 items 1-13: construction
# --------------------------------------------------------------------------------------------


def test_new_errors_and_protocols() -> None:
    """§6.2 items 1-5 (E02)."""
    compare(
        r'''
        def proto(*a):
            return keep(Gio.Socket.new(*a)).get_protocol()
        out["invalid_family"] = err(Gio.Socket.new, F.INVALID, T.STREAM, P.DEFAULT)
        out["unknown_protocol"] = err(Gio.Socket.new, F.IPV4, T.STREAM, P.UNKNOWN)
        out["unix_tcp"] = err(Gio.Socket.new, F.UNIX, T.STREAM, P.TCP)
        out["udp_tcp"] = err(Gio.Socket.new, F.IPV4, T.DATAGRAM, P.TCP)
        out["tcp_udp"] = err(Gio.Socket.new, F.IPV4, T.STREAM, P.UDP)
        out["ipv4_seqpacket"] = err(Gio.Socket.new, F.IPV4, T.SEQPACKET, P.DEFAULT)
        out["unix_seqpacket"] = err(proto, F.UNIX, T.SEQPACKET, P.DEFAULT)
        out["tcp"] = err(proto, F.IPV4, T.STREAM, P.TCP)
        out["udp"] = err(proto, F.IPV4, T.DATAGRAM, P.UDP)
        out["default"] = err(proto, F.IPV4, T.STREAM, P.DEFAULT)
        out["ipv6_default"] = err(proto, F.IPV6, T.DATAGRAM, P.DEFAULT)
        out["int_zero_protocol"] = err(proto, F.IPV4, T.STREAM, 0)
        out["unix_dgram"] = err(proto, F.UNIX, T.DATAGRAM, P.DEFAULT)
        '''
    )


def test_construct_without_init() -> None:
    """§6.2 items 6-7 and E25: ``Gio.Socket(**props)`` does not run ``init``."""
    compare(
        r'''
        s = keep(Gio.Socket(family=F.IPV4, type=T.STREAM, protocol=P.DEFAULT))
        out["fd_open"] = s.get_fd() >= 0
        out["listen_uninit"] = err(s.listen)
        out["get_option_uninit"] = err(s.get_option, socket.SOL_SOCKET, socket.SO_TYPE)
        out["condition_check_uninit"] = s.condition_check(OUT)
        out["available_uninit"] = s.get_available_bytes()
        out["init"] = err(s.init, None)
        out["init_twice"] = err(s.init, None)
        out["listen_after_init"] = err(s.listen)
        out["is_closed"] = s.is_closed()
        s2 = keep(Gio.Socket(family=F.IPV4, type=T.STREAM, protocol=P.DEFAULT))
        out["close_uninit"] = err(s2.close)
        out["close_uninit_is_closed"] = s2.is_closed()
        bad = keep(Gio.Socket(family=F.INVALID, type=T.STREAM, protocol=P.DEFAULT))
        out["bad_listen_before_init"] = err(bad.listen)
        out["bad_init"] = err(bad.init, None)
        out["bad_listen_after_init"] = err(bad.listen)
        s3 = keep(Gio.Socket(family=F.IPV4, type=T.STREAM, protocol=P.DEFAULT))
        out["init_cancellable"] = err(s3.init, Gio.Cancellable())
        s4 = keep(Gio.Socket(family=F.IPV4, type=T.DATAGRAM, blocking=False, timeout=4))
        out["ctor_blocking_timeout"] = [s4.get_blocking(), s4.get_timeout()]
        s5 = keep(Gio.Socket(family=F.IPV4, type=T.DATAGRAM, protocol=P.DEFAULT, ttl=9,
                             keepalive=True, listen_backlog=3))
        out["ctor_props"] = err(lambda: (s5.init(None), s5.get_ttl(), s5.get_keepalive(),
                                         s5.get_listen_backlog()))
        s6 = keep(Gio.Socket(family=F.IPV4))
        out["family_only"] = [s6.get_socket_type(), s6.get_protocol(), s6.get_fd()]
        out["family_only_init"] = err(s6.init, None)
        '''
    )


def test_new_from_fd_details() -> None:
    """§6.2 items 8, 11, 12 (E03): what an adopted fd reports."""
    compare(
        r'''
        import fcntl
        def info(s):
            fd = s.get_fd()
            return dict(family=s.get_family(), type=s.get_socket_type(), protocol=s.get_protocol(),
                        connected=s.is_connected(), blocking=s.get_blocking(),
                        keepalive=s.get_keepalive(), timeout=s.get_timeout(),
                        backlog=s.get_listen_backlog(),
                        O_NONBLOCK=bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK),
                        CLOEXEC=bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
        ps = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ps.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        os.set_inheritable(ps.fileno(), True)
        out["tcp_keepalive_inheritable"] = info(keep(Gio.Socket.new_from_fd(ps.detach())))
        def adopt(*a):
            return keep(Gio.Socket.new_from_fd(socket.socket(*a).detach()))
        out["udp"] = info(adopt(socket.AF_INET, socket.SOCK_DGRAM))
        out["tcp6"] = info(adopt(socket.AF_INET6, socket.SOCK_STREAM))
        a, b = socket.socketpair()
        sa = keep(Gio.Socket.new_from_fd(a.detach()))
        keep(Gio.Socket.new_from_fd(b.detach()))
        out["socketpair"] = info(sa)
        out["socketpair_local"] = [sa.get_local_address(), sa.get_local_address().get_address_type()]
        out["socketpair_remote"] = [sa.get_remote_address(), sa.get_remote_address().get_path_len()]
        c, d = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        out["unix_dgram_pair"] = info(keep(Gio.Socket.new_from_fd(c.detach())))
        d.close()
        out["seqpacket"] = info(adopt(socket.AF_UNIX, socket.SOCK_SEQPACKET))
        L = socket.socket()
        L.bind(("127.0.0.1", 0))
        L.listen(5)
        L2 = socket.socket()
        L2.bind(("127.0.0.1", 0))
        L2.listen(5)
        cc = socket.create_connection(L2.getsockname(), timeout=5)
        out["listening"] = info(keep(Gio.Socket.new_from_fd(L.detach())))
        scc = keep(Gio.Socket.new_from_fd(cc.detach()))
        out["connected"] = info(scc)
        out["connected_remote"] = scc.get_remote_address()
        L2.close()
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        snl = keep(Gio.Socket.new_from_fd(nl.detach()))
        out["netlink"] = [snl.get_family(), snl.get_socket_type(), snl.get_protocol()]
        '''
    )


def test_new_from_fd_failures() -> None:
    """§6.2 items 9-10 (E03): non-sockets, and the failed adoption closing the caller's fd."""
    compare(
        r'''
        r, w = os.pipe()
        out["pipe"] = err(Gio.Socket.new_from_fd, r)
        try:
            os.fstat(r)
            out["pipe_fd_after"] = "open"
            os.close(r)
        except OSError as e:
            out["pipe_fd_after"] = errno.errorcode[e.errno]
        os.close(w)
        dn = os.open("/dev/null", os.O_RDONLY)
        out["devnull"] = err(Gio.Socket.new_from_fd, dn)
        try:
            os.fstat(dn)
            out["devnull_fd_after"] = "open"
            os.close(dn)
        except OSError as e:
            out["devnull_fd_after"] = errno.errorcode[e.errno]
        out["minus_one"] = err(Gio.Socket.new_from_fd, -1)
        gone = os.open("/dev/null", os.O_RDONLY)
        os.close(gone)
        out["closed_fd"] = err(Gio.Socket.new_from_fd, gone)
        '''
    )


# --------------------------------------------------------------------------------------------
# §6.2 items 14-22: defaults and options
# --------------------------------------------------------------------------------------------


def test_defaults_ipv4_stream() -> None:
    """§6.2 item 14 (snips/s01, E11, E01)."""
    compare(
        r'''
        import fcntl
        s = new(F.IPV4, T.STREAM)
        fd = s.get_fd()
        out["getters"] = [s.get_blocking(), s.get_keepalive(), s.get_listen_backlog(), s.get_timeout(),
                          s.get_ttl(), s.get_multicast_ttl(), s.get_multicast_loopback(), s.get_broadcast()]
        out["props"] = [s.props.family, s.props.type, s.props.protocol, s.props.fd == fd,
                        s.props.blocking, s.props.listen_backlog, s.props.keepalive,
                        s.props.local_address, s.props.remote_address, s.props.timeout, s.props.ttl,
                        s.props.broadcast, s.props.multicast_loopback, s.props.multicast_ttl]
        out["fd_flags"] = [bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK),
                           bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)]
        out["state"] = [s.is_closed(), s.is_connected(), s.get_family(), s.get_socket_type(),
                        s.get_protocol()]
        out["nodelay"] = err(s.get_option, socket.IPPROTO_TCP, socket.TCP_NODELAY)
        u = new(F.UNIX, T.STREAM)
        out["unix_nodelay"] = err(u.get_option, socket.IPPROTO_TCP, socket.TCP_NODELAY)
        v6 = new(F.IPV6, T.DATAGRAM)
        out["v6_getters"] = [v6.get_ttl(), v6.get_multicast_ttl(), v6.get_multicast_loopback(),
                             v6.get_broadcast()]
        out["so_type"] = err(s.get_option, socket.SOL_SOCKET, socket.SO_TYPE)
        out["so_rcvbuf_positive"] = err(lambda: s.get_option(socket.SOL_SOCKET, socket.SO_RCVBUF)[1] > 0)
        out["so_linger_truncated"] = err(s.get_option, socket.SOL_SOCKET, socket.SO_LINGER)
        ''',
        # GLib 2.74 differs: TCP_NODELAY is 1 on every stream socket since 2.80 (§0.1, §1.2).
        head={"nodelay": (["ok", [True, 0]], ["ok", [True, 1]])},
    )


def test_speaks_ipv4_and_ttls() -> None:
    """§6.2 items 15-17 (E11)."""
    compare(
        r'''
        v4 = new(F.IPV4, T.DATAGRAM)
        v6 = new(F.IPV6, T.DATAGRAM)
        u = new(F.UNIX, T.DATAGRAM)
        out["speaks"] = [v4.speaks_ipv4(), v6.speaks_ipv4(), u.speaks_ipv4()]
        v4.set_ttl(7); v4.set_multicast_ttl(9); v4.set_multicast_loopback(False); v4.set_broadcast(True)
        def opt(s, level, name):
            return s.get_option(level, name)[1]
        IP, IP6, SOL = socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.SOL_SOCKET
        out["v4_after"] = [v4.get_ttl(), v4.get_multicast_ttl(), v4.get_multicast_loopback(),
                           v4.get_broadcast(), opt(v4, IP, socket.IP_TTL),
                           opt(v4, IP, socket.IP_MULTICAST_TTL), opt(v4, IP, socket.IP_MULTICAST_LOOP),
                           opt(v4, SOL, socket.SO_BROADCAST)]
        v6.set_ttl(7); v6.set_multicast_ttl(9); v6.set_multicast_loopback(False)
        out["v6_after"] = [v6.get_ttl(), opt(v6, IP6, socket.IPV6_UNICAST_HOPS), opt(v6, IP, socket.IP_TTL),
                           v6.get_multicast_ttl(), opt(v6, IP6, socket.IPV6_MULTICAST_HOPS),
                           opt(v6, IP, socket.IP_MULTICAST_TTL), v6.get_multicast_loopback(),
                           opt(v6, IP6, socket.IPV6_MULTICAST_LOOP), opt(v6, IP, socket.IP_MULTICAST_LOOP)]
        # GLib only logs a warning for a rejected value; gsocklab may raise. Compare the state.
        for value in (256, 0):
            err(v4.set_ttl, value)
        out["v4_ttl_unchanged"] = v4.get_ttl()
        err(v4.set_multicast_ttl, 300)
        out["v4_mttl_unchanged"] = v4.get_multicast_ttl()
        # guint 0xffffffff is IPV6_UNICAST_HOPS -1: the route default
        out["v6_ttl_route_default"] = [err(v6.set_ttl, 0xffffffff), v6.get_ttl()]
        out["v6_v6only_on"] = err(v6.set_option, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        out["v6_speaks_after"] = v6.speaks_ipv4()
        out["unix_broadcast"] = u.get_broadcast()
        '''
    )


def test_unix_ttl_is_a_precondition_failure() -> None:
    """§6.2 item 18: GLib logs CRITICAL and returns 0/False; gsocklab raises GLib.Error."""
    compare(
        r'''
        u = new(F.UNIX, T.STREAM)
        if IS_GLIB:
            out["unix_ttl"] = [u.get_ttl(), u.get_multicast_ttl(), u.get_multicast_loopback()]
        else:
            out["unix_ttl_raises"] = [raises(u.get_ttl), raises(u.set_ttl, 3), raises(u.get_multicast_ttl),
                                      raises(u.set_multicast_ttl, 2), raises(u.get_multicast_loopback),
                                      raises(u.set_multicast_loopback, True)]
        out["broadcast"] = u.get_broadcast()
        u.set_keepalive(True)
        out["keepalive"] = u.get_keepalive()
        ''',
        glib_only={"unix_ttl": [0, 0, False]},
        gsocklab_only={"unix_ttl_raises": [True] * 6},
    )


def test_keepalive_is_cached() -> None:
    """§6.2 item 19 (E11): the getter never re-reads the OS; the setter skips equal values."""
    compare(
        r'''
        t = new(F.IPV4, T.STREAM)
        out["default"] = t.get_keepalive()
        t.set_keepalive(True)
        out["after_set"] = [t.get_keepalive(), t.get_option(socket.SOL_SOCKET, socket.SO_KEEPALIVE)[1]]
        t.set_option(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
        out["cached"] = t.get_keepalive()
        t.set_keepalive(True)
        out["no_syscall"] = t.get_option(socket.SOL_SOCKET, socket.SO_KEEPALIVE)[1]
        t.set_keepalive(False)
        out["cleared"] = [t.get_keepalive(), t.get_option(socket.SOL_SOCKET, socket.SO_KEEPALIVE)[1]]
        '''
    )


def test_option_errors() -> None:
    """§6.2 item 20 (E11, s01): bare strerror messages."""
    compare(
        r'''
        t = new(F.IPV4, T.STREAM)
        out["get_bogus_name"] = err(t.get_option, socket.SOL_SOCKET, 9999)
        out["set_bogus_level"] = err(t.set_option, 9999, 1, 1)
        out["unix_nodelay"] = err(new(F.UNIX, T.STREAM).get_option, socket.IPPROTO_TCP, socket.TCP_NODELAY)
        out["set_rcvbuf"] = err(t.set_option, socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        out["get_rcvbuf_doubled"] = t.get_option(socket.SOL_SOCKET, socket.SO_RCVBUF)[1]
        '''
    )


def test_listen_backlog() -> None:
    """§6.2 item 22 (E07): not clamped; frozen after listen() (GLib: CRITICAL, gsocklab: raises)."""
    compare(
        r'''
        t = new(F.IPV4, T.STREAM)
        out["default"] = t.get_listen_backlog()
        t.set_listen_backlog(100000)
        out["unclamped"] = t.get_listen_backlog()
        t.set_listen_backlog(3)
        out["listen"] = err(t.listen)
        if IS_GLIB:
            t.set_listen_backlog(7)
        else:
            out["set_after_listen_raises"] = raises(t.set_listen_backlog, 7)
        out["after_listen"] = t.get_listen_backlog()
        ''',
        gsocklab_only={"set_after_listen_raises": True},
    )


# --------------------------------------------------------------------------------------------
# §6.2 items 23-35: bind / listen / accept
# --------------------------------------------------------------------------------------------


def test_bind_reuse_options() -> None:
    """§6.2 item 23 (E07): SO_REUSEADDR/SO_REUSEPORT after bind(allow_reuse)."""
    compare(
        r'''
        for typ in (T.STREAM, T.DATAGRAM):
            for reuse in (False, True):
                s = new(F.IPV4, typ)
                s.bind(lo4(), reuse)
                out["%s_%s" % (plain(typ), reuse)] = [s.get_option(socket.SOL_SOCKET, socket.SO_REUSEADDR)[1],
                                                      s.get_option(socket.SOL_SOCKET, socket.SO_REUSEPORT)[1]]
        '''
    )


def test_bind_errors(tmp_path: Path) -> None:
    """§6.2 items 24, 26, 28, 29 (E07). Item 27 (a non-local address) is left out: loopback only."""
    compare(
        with_params(
            r'''
        L = new(F.IPV4, T.STREAM)
        L.bind(lo4(), True)
        L.listen()
        out["tcp_in_use"] = err(new(F.IPV4, T.STREAM).bind, L.get_local_address(), True)
        u = new(F.IPV4, T.DATAGRAM)
        u.bind(lo4(), True)
        out["bind_twice"] = err(u.bind, lo4(), True)
        L6 = new(F.IPV6, T.STREAM)
        L6.bind(lo6(), True)
        L6.listen()
        out["tcp6_in_use"] = err(new(F.IPV6, T.STREAM).bind, L6.get_local_address(), True)
        out["v6_addr_on_v4"] = err(new(F.IPV4, T.STREAM).bind, lo6(), False)
        out["v4_addr_on_v6"] = err(new(F.IPV6, T.STREAM).bind, lo4(), False)
        import tempfile
        path = os.path.join(tempfile.mkdtemp(dir=TMP), "bound")
        us = new(F.UNIX, T.STREAM)
        out["unix_bind"] = err(us.bind, Gio.UnixSocketAddress.new(path), True)
        out["unix_local"] = [us.get_local_address().to_string() == path,
                             plain(us.get_local_address().get_address_type()),
                             us.get_local_address().get_path_len()]
        out["unix_in_use"] = err(new(F.UNIX, T.STREAM).bind, Gio.UnixSocketAddress.new(path), True)
        out["unix_missing_dir"] = err(new(F.UNIX, T.STREAM).bind,
                                      Gio.UnixSocketAddress.new(os.path.join(TMP, "no", "such")), True)
        out["inet_addr_on_unix"] = err(new(F.UNIX, T.STREAM).bind, lo4(), True)
        ''',
            TMP=str(tmp_path),
        )
    )


def test_bind_abstract_unix() -> None:
    """§6.2 item 30 (E08): abstract and padded abstract names, as the kernel reports them."""
    compare(
        with_params(
            r'''
        UT = Gio.UnixSocketAddressType
        def show(a):
            return [plain(a.get_address_type()), a.get_path_len(), a.get_native_size(), plain(a.get_family())]
        ab = new(F.UNIX, T.STREAM)
        out["bind_abstract"] = err(ab.bind, Gio.UnixSocketAddress.new_with_type(NAME, UT.ABSTRACT), True)
        out["abstract_local"] = show(ab.get_local_address())
        abp = new(F.UNIX, T.STREAM)
        padded = Gio.UnixSocketAddress.new_with_type(NAME + b"p", UT.ABSTRACT_PADDED)
        out["bind_padded"] = err(abp.bind, padded, True)
        out["padded_local"] = show(abp.get_local_address())
        ab.listen()
        ab.set_timeout(5)
        c = new(F.UNIX, T.STREAM)
        c.set_timeout(5)
        out["connect"] = err(c.connect, Gio.UnixSocketAddress.new_with_type(NAME, UT.ABSTRACT), None)
        out["client_local"] = show(c.get_local_address())
        out["client_remote"] = show(c.get_remote_address())
        srv = keep(ab.accept(None))
        out["server_remote"] = show(srv.get_remote_address())
        out["server_local"] = show(srv.get_local_address())
        out["connection"] = type(srv.connection_factory_create_connection()).__name__
        ''',
            NAME=f"gsocklab-abs-{os.getpid()}".encode(),
        )
    )


def test_listen() -> None:
    """§6.2 item 31 (E07): UDP cannot listen; an unbound TCP socket is auto-bound."""
    compare(
        r'''
        out["udp"] = err(new(F.IPV4, T.DATAGRAM).listen)
        t = new(F.IPV4, T.STREAM)
        out["unbound_tcp"] = err(t.listen)
        out["autobound"] = t.get_local_address()
        out["listen_twice"] = err(t.listen)
        '''
    )


def test_accept_nothing_pending() -> None:
    """§6.2 item 32 (E05): WOULD_BLOCK, then TIMED_OUT after the socket timeout, twice."""
    compare(
        r'''
        L = new(F.IPV4, T.STREAM)
        L.bind(lo4(), True)
        L.listen()
        L.set_blocking(False)
        out["nonblocking"] = err(L.accept, None)
        L.set_blocking(True)
        L.set_timeout(1)
        for i in range(2):
            r, t = timed(L.accept, None)
            out["blocking_%d" % i] = [r, 0.9 <= t < 3.0]
        '''
    )


def test_accept_misuse() -> None:
    """§6.2 item 33 (E07)."""
    compare(
        r'''
        out["not_listening"] = err(new(F.IPV4, T.STREAM).accept, None)
        out["udp"] = err(new(F.IPV4, T.DATAGRAM).accept, None)
        '''
    )


def test_accepted_socket_state() -> None:
    """§6.2 item 34 (E17): what an accepted socket inherits, and what it does not."""
    compare(
        r'''
        import fcntl
        L = new(F.IPV4, T.STREAM, P.TCP)
        L.bind(lo4(), True)
        L.listen()
        L.set_keepalive(True)
        L.set_timeout(7)
        L.set_blocking(False)
        pc = socket.create_connection(("127.0.0.1", L.get_local_address().get_port()), timeout=5)
        out["wait"] = err(L.condition_timed_wait, IN, 2000000, None)
        S = keep(L.accept(None))
        fd = S.get_fd()
        out["accepted"] = [S.get_protocol(), S.get_blocking(), S.get_timeout(), S.get_keepalive(),
                           S.is_connected(), bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC),
                           bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK), S.get_family(),
                           S.get_socket_type(), S.get_listen_backlog()]
        out["remote_is_peer"] = S.get_remote_address().get_port() == pc.getsockname()[1]
        out["local"] = S.get_local_address()
        out["connection"] = type(S.connection_factory_create_connection()).__name__
        pc.close()
        '''
    )


def test_socket_from_fd_property_then_init() -> None:
    """``Gio.Socket(fd=…)`` then ``init(None)`` adopts the fd, as ``new_from_fd`` does."""
    compare(
        r'''
        a, b = socket.socketpair()
        s = keep(Gio.Socket(fd=a.detach()))
        out["init"] = err(s.init, None)
        out["state"] = [s.get_family(), s.get_socket_type(), s.get_protocol(), s.is_connected()]
        gb = keep(Gio.Socket.new_from_fd(b.detach()))
        out["send"] = err(s.send, b"fd prop", None)
        out["got"] = err(lambda: recv_bytes(gb)[:2])
        t = keep(Gio.Socket(fd=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).detach()))
        out["udp6"] = [err(t.init, None), t.get_family(), t.get_socket_type(), t.get_protocol()]
        '''
    )


def test_cancellable_basics() -> None:
    """Reference §5.6 (E20, E21): flag, error, wake-up fd, handlers, reset."""
    compare(
        r'''
        import select
        def readable(fd):
            return bool(select.select([fd], [], [], 0)[0])
        c = Gio.Cancellable()
        out["fresh"] = [c.is_cancelled(), err(c.set_error_if_cancelled)]
        fd = c.get_fd()
        out["fd"] = fd >= 0
        out["readable_before"] = readable(fd)
        calls = []
        hid = c.connect(lambda *a: calls.append("cb"), "data")
        out["handler_id_positive"] = hid > 0
        c.cancel()
        out["readable_after"] = readable(fd)
        out["cancelled"] = [c.is_cancelled(), err(c.set_error_if_cancelled)]
        out["calls"] = list(calls)
        c.cancel()
        out["calls_after_second_cancel"] = list(calls)
        late = []
        out["connect_when_cancelled"] = c.connect(lambda *a: late.append("now"), "late")
        out["called_at_once"] = late
        c.disconnect(hid)
        c.reset()
        out["after_reset"] = [c.is_cancelled(), readable(fd), err(c.set_error_if_cancelled)]
        c.release_fd()
        c2 = Gio.Cancellable()
        hid2 = c2.connect(lambda *a: calls.append("disconnected"), None)
        c2.disconnect(hid2)
        c2.cancel()
        out["disconnected_not_called"] = "disconnected" not in calls
        '''
    )


SIGPIPE_SCRIPT = r'''
import signal
def ignored():
    for line in open("/proc/self/status"):
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGPIPE - 1)))
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
seen = [ignored()]
IMPORT
seen.append(ignored())
Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
seen.append(ignored())
s = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM, Gio.SocketProtocol.DEFAULT)
seen.append(ignored())
s.close()
print(seen)
'''


def test_first_socket_ignores_sigpipe() -> None:
    """§6.2 item 13 (E17, §1.2, §8): SIGPIPE is ignored process-wide at the first socket, not before."""
    expected = "[False, False, False, True]"
    if oracle_available():
        glib = subprocess.run(
            [ORACLE_PYTHON, "-c", SIGPIPE_SCRIPT.replace("IMPORT", GI_HEADER)],
            capture_output=True, text=True, timeout=30, check=False,
        )
        assert glib.stdout.strip() == expected, glib.stderr
    ours = subprocess.run(
        [sys.executable, "-c", SIGPIPE_SCRIPT.replace("IMPORT", "from gsocklab import Gio")],
        capture_output=True, text=True, timeout=30, check=False, cwd=Path(__file__).parent.parent,
    )
    assert ours.stdout.strip() == expected, ours.stderr
    require_oracle()
