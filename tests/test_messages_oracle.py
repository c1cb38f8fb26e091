"""Differential checks of the message APIs against real GLib 2.74 (PyGObject), where PyGObject
can express them (reference §2.6, §2.7, §2.13, §6.2 items 62-72, §7.2-7.3, A.22-A.24, A.29,
A.31, B.04-B.06).

PyGObject's vectors are raw pointers (§7.2): the GLib side of a scenario builds them from
``ctypes`` buffers (``IS_GLIB``), gsocklab's from real buffers, and both record the same
observations. Its ``GInputMessage``/``GOutputMessage`` can only be built without vectors and
their outputs are never copied back (§7.3): batched calls compare counts and errors only;
what gsocklab additionally fills in is checked with ``gsocklab_only``. Elapsed times are
recorded as "within bounds" booleans. Where GLib 2.74 differs from HEAD (``FAILED`` vs
``DESTINATION_UNSET`` for ``EDESTADDRREQ``, §0.1) ``head=`` expects HEAD of gsocklab.
"""

from __future__ import annotations

import pytest
from oracle import compare, with_params

pytestmark = pytest.mark.oracle

FAMILIES = pytest.mark.parametrize("family", ["IPV4", "IPV6"], ids=["ipv4", "ipv6"])

# Scenario helpers, prepended to every scenario: vectors over ctypes buffers for PyGObject
# (§7.2, B.04), over bytes/bytearray for gsocklab; zero-vector messages as PyGObject builds them.
HELPERS = r'''
def out_vecs(*chunks):
    if IS_GLIB:
        bufs = [ctypes.create_string_buffer(c, max(len(c), 1)) for c in chunks]
        vs = []
        for b, c in zip(bufs, chunks):
            v = Gio.OutputVector()
            v.buffer = ctypes.addressof(b)
            v.size = len(c)
            vs.append(v)
        _alive.append(bufs)
        return vs
    return [Gio.OutputVector(c) for c in chunks]
def in_vecs(*sizes):
    """(vectors, read()) where read() returns the buffers' contents as bytes."""
    if IS_GLIB:
        bufs = [ctypes.create_string_buffer(n) for n in sizes]
        vs = []
        for b, n in zip(bufs, sizes):
            v = Gio.InputVector()
            v.buffer = ctypes.addressof(b)
            v.size = n
            vs.append(v)
        _alive.append(bufs)
        return vs, lambda: [b.raw for b in bufs]
    bufs = [bytearray(n) for n in sizes]
    return [Gio.InputVector(b) for b in bufs], lambda: [bytes(b) for b in bufs]
_alive = []
def oms(n, address=None):
    ms = []
    for _ in range(n):
        m = Gio.OutputMessage()
        m.address = address
        ms.append(m)
    return ms
def ims(n):
    return [Gio.InputMessage() for _ in range(n)]
def readable(sock):
    return sock.condition_timed_wait(IN, 2000000, None)
def within(seconds, low, high):
    return low <= seconds < high
'''


def scenario(source: str, **params: object) -> str:
    return with_params(HELPERS) + with_params(source, **params)


DEST_UNSET_MSG = "Error sending message: Destination address required"
FAILED_DEST = ["error", "FAILED", DEST_UNSET_MSG]
UNSET_DEST = ["error", "DESTINATION_UNSET", DEST_UNSET_MSG]
NON_DATAGRAM = "Cannot use datagram operations on a non-datagram socket."
WITH_TIMEOUT = "Cannot use datagram operations on a socket with a timeout set."


# --------------------------------------------------------------------------------------------
# send_message / receive_message with vectors (ctypes on the GLib side)
# --------------------------------------------------------------------------------------------


@FAMILIES
def test_send_receive_message_vectors(family: str) -> None:
    """§7.2, B.04: gather on send, scatter on receive; flags 0x40000000, 0x40000020 truncated."""
    compare(scenario(
        r'''
        A, B = udp_pair(getattr(F, FAMILY))
        dest = A.get_local_address()
        out["sent"] = err(B.send_message, dest, out_vecs(b"hello", b"-", b"vectors"), None, 0, None)
        vs, read = in_vecs(4, 32)
        r = A.receive_message(vs, 0, None)
        out["scatter"] = r
        out["scatter_data"] = read()
        out["source_is_b"] = r[1].to_string() == B.get_local_address().to_string()
        B.send_message(dest, out_vecs(b"hello-vectors"), None, 0, None)
        vs, read = in_vecs(4)
        out["truncated"] = err(A.receive_message, vs, 0, None)
        out["truncated_data"] = read()
        B.send_message(dest, out_vecs(b"hello-vectors"), None, 0, None)
        vs, read = in_vecs(64)
        out["peek"] = err(A.receive_message, vs, Gio.SocketMsgFlags.PEEK, None)
        out["after_peek"] = err(A.receive_message, vs, 0, None)
        out["size_limited"] = err(B.send_message, dest, out_vecs(b"abc", b""), None, 0, None)
        out["size_limited_recv"] = err(recv_bytes, A, 16)
        ''', FAMILY=family))


def test_zero_vector_send_and_receive_message() -> None:
    """§6.2 items 64-65 (s04, E17, E31): send_message([]) sends one NUL byte; receive_message([])
    reads and discards one byte (MSG_TRUNC on a longer datagram; one byte of a stream)."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        out["send_none"] = err(B.send_message, dest, [], None, 0, None)
        out["got_nul"] = err(recv_bytes, A, 16)
        B.send_message(dest, out_vecs(b"hello-vectors"), None, 0, None)
        out["recv_none"] = err(A.receive_message, [], 0, None)
        out["avail_after"] = A.get_available_bytes()
        out["empty_vector"] = err(B.send_message, dest, out_vecs(b""), None, 0, None)
        out["got_empty"] = err(recv_bytes, A, 16)
        L, C, S = tcp_pair()
        out["tcp_send_none"] = err(C.send_message, None, [], None, 0, None)
        C.send_message(None, out_vecs(b"xyz"), None, 0, None)
        readable(S)
        out["tcp_recv_none"] = err(S.receive_message, [], 0, None)
        out["tcp_rest"] = err(recv_bytes, S, 16)
        C.close()
        vs, read = in_vecs(8)
        out["tcp_eof"] = err(S.receive_message, vs, 0, None)
        out["tcp_eof_none"] = err(S.receive_message, [], 0, None)
        '''))


def test_unix_message_sources() -> None:
    """Unix sockets: no source from an unbound peer; the listener's path from an accepted one."""
    compare(scenario(
        r'''
        import tempfile
        path = os.path.join(tempfile.mkdtemp(), "sock")
        L = new(F.UNIX, T.STREAM)
        L.bind(Gio.UnixSocketAddress.new(path), True)
        L.listen()
        C = new(F.UNIX, T.STREAM)
        C.set_timeout(5)
        C.connect(Gio.UnixSocketAddress.new(path), None)
        S = keep(L.accept(None))
        S.set_timeout(5)
        C.send_message(None, out_vecs(b"over ", b"unix"), None, 0, None)
        readable(S)
        vs, read = in_vecs(32)
        out["to_server"] = err(S.receive_message, vs, 0, None)
        S.send_message(None, out_vecs(b"back"), None, 0, None)
        readable(C)
        r = C.receive_message(vs, 0, None)
        out["to_client"] = [r[0], r[1].get_path() == path, r[3]]
        for kind in ("SOCK_DGRAM", "SOCK_SEQPACKET"):
            x, y = socket.socketpair(socket.AF_UNIX, getattr(socket, kind))
            a = keep(Gio.Socket.new_from_fd(x.detach()))
            b = keep(Gio.Socket.new_from_fd(y.detach()))
            out[kind + "_sent"] = err(a.send_message, None, out_vecs(b"abc", b"defg"), None, 0, None)
            vs, read = in_vecs(3)
            out[kind + "_recv"] = err(b.receive_message, vs, 0, None)
            out[kind + "_data"] = read()
        '''))


def test_send_message_errors() -> None:
    """§6.2 item 63 (s06): no destination on an unconnected socket; closed; cancelled."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        out["no_dest"] = err(B.send_message, None, out_vecs(b"x"), None, 0, None)
        c = Gio.Cancellable.new()
        c.cancel()
        out["cancelled"] = err(B.send_message, dest, out_vecs(b"x"), None, 0, c)
        out["cancelled_recv"] = err(A.receive_message, [], 0, c)
        A.set_blocking(False)
        out["would_block"] = err(A.receive_message, [], 0, None)
        A.set_blocking(True)
        A.set_timeout(1)
        r, t = timed(A.receive_message, [], 0, None)
        out["timed_out"] = [r, within(t, 0.9, 3)]
        B.close()
        out["closed"] = err(B.send_message, dest, out_vecs(b"x"), None, 0, None)
        out["closed_recv"] = err(B.receive_message, [], 0, None)
        out["closed_with_timeout"] = err(B.send_message_with_timeout, dest, out_vecs(b"x"), None, 0, 0, None)
        ''', ), head={"no_dest": (FAILED_DEST, UNSET_DEST)})  # GLib 2.74 differs: EDESTADDRREQ -> FAILED


def test_send_message_with_timeout() -> None:
    """§2.7, B.06, E24: (OK, n); a full stream: (WOULD_BLOCK, 0) with 0, TIMED_OUT after 0.3 s."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        out["ok"] = err(B.send_message_with_timeout, dest, out_vecs(b"abc"), None, 0, 1000, None)
        out["ok_recv"] = err(recv_bytes, A, 16)
        L, C, S = tcp_pair()
        C.set_blocking(False)
        big = b"x" * (1 << 20)
        for _ in range(2):
            while err(C.send, big, None)[0] == "ok":
                pass
            time.sleep(0.05)
        out["full_zero"] = err(C.send_message_with_timeout, None, out_vecs(b"y" * 10), None, 0, 0, None)
        r, t = timed(C.send_message_with_timeout, None, out_vecs(b"y" * 10), None, 0, 300000, None)
        out["full_300ms"] = [r, within(t, 0.28, 2)]
        C.set_timeout(0)
        r, t = timed(C.send_message_with_timeout, None, out_vecs(b"y" * 10), None, 0, 300000, None)
        out["full_300ms_no_socket_timeout"] = [r, within(t, 0.28, 2)]
        out["full_send_message"] = err(C.send_message, None, out_vecs(b"y" * 10), None, 0, None)
        '''))


# --------------------------------------------------------------------------------------------
# send_messages / receive_messages with zero-vector messages (§7.3)
# --------------------------------------------------------------------------------------------


@FAMILIES
def test_zero_vector_send_messages(family: str) -> None:
    """B.06: two zero-vector OutputMessages -> 2 empty datagrams (no NUL substitution)."""
    compare(scenario(
        r'''
        A, B = udp_pair(getattr(F, FAMILY))
        ms = oms(2, A.get_local_address())
        out["sent"] = err(B.send_messages, ms, 0, None)
        out["bytes_sent"] = [m.bytes_sent for m in ms]
        readable(A)
        out["avail"] = A.get_available_bytes()
        out["r1"] = err(recv_bytes, A, 16)
        out["r2"] = err(recv_bytes, A, 16)
        A.set_blocking(False)
        out["r3"] = err(recv_bytes, A, 16)
        out["empty_lists"] = [B.send_messages([], 0, None), A.receive_messages([], 0, None)]
        ''', FAMILY=family))


def test_zero_vector_receive_messages() -> None:
    """E31, C.01: recvmmsg with no vectors consumes the datagram; GLib does not copy the outputs
    back to Python (flags 0), gsocklab does: bytes_received 0, flags 0x40000020."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        B.send_to(dest, b"hello", None)
        readable(A)
        A.set_blocking(False)
        ms = ims(1)
        out["count"] = err(A.receive_messages, ms, 0, None)
        out["avail"] = A.get_available_bytes()
        out["again"] = err(A.receive_messages, ms, 0, None)
        if not IS_GLIB:
            out["outputs"] = [ms[0].bytes_received, ms[0].flags, ms[0].address.to_string() ==
                              B.get_local_address().to_string()]
        '''), gsocklab_only={"outputs": [0, 0x40000020, True]})


def test_receive_messages_modes() -> None:
    """§2.6, §6.2 item 69 (E22), §6.1 rows 7-8: every mode of receive_messages."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        def send(p):
            B.send_to(dest, p, None)
        for i in range(2):
            send(b"m%d" % i)
        readable(A)
        A.set_blocking(False)
        r, t = timed(A.receive_messages, ims(3), 0, None)
        out["non_blocking_partial"] = [r, within(t, 0, 0.5)]
        out["non_blocking_none"] = err(A.receive_messages, ims(3), 0, None)
        A.set_blocking(True)
        A.set_timeout(1)
        for i in range(2):
            send(b"m%d" % i)
        r, t = timed(A.receive_messages, ims(3), 0, None)
        out["timeout_partial"] = [r, within(t, 0.9, 3)]
        r, t = timed(A.receive_messages, ims(3), 0, None)
        out["timeout_none"] = [r, within(t, 0.9, 3)]
        A.set_timeout(0)
        for i in range(2):
            send(b"m%d" % i)
        timer = threading.Timer(0.4, lambda: send(b"late"))
        timer.start()
        r, t = timed(A.receive_messages, ims(3), 0, None)
        timer.join()
        out["no_timeout_waits_for_all"] = [r, within(t, 0.35, 4)]
        c = Gio.Cancellable.new()
        timer = threading.Timer(0.1, c.cancel)
        timer.start()
        r, t = timed(A.receive_messages, ims(1), 0, c)
        timer.join()
        out["cancelled_none"] = [r, within(t, 0.05, 4)]
        send(b"one")
        c = Gio.Cancellable.new()
        timer = threading.Timer(0.3, c.cancel)
        timer.start()
        r, t = timed(A.receive_messages, ims(3), 0, c)
        timer.join()
        out["cancelled_partial"] = [r, within(t, 0.25, 4)]
        send(b"queued")
        readable(A)
        c = Gio.Cancellable.new()
        c.cancel()
        out["pre_cancelled"] = err(A.receive_messages, ims(1), 0, c)
        A.set_blocking(False)
        out["peek"] = err(A.receive_messages, ims(1), Gio.SocketMsgFlags.PEEK, None)
        out["avail_after_peek"] = A.get_available_bytes()
        A.close()
        out["closed"] = err(A.receive_messages, ims(1), 0, None)
        '''))


def test_receive_messages_on_streams() -> None:
    """recvmmsg on a stream counts every read, also those at end of stream (0 bytes)."""
    compare(scenario(
        r'''
        for kind in ("SOCK_STREAM", "SOCK_SEQPACKET"):
            x, y = socket.socketpair(socket.AF_UNIX, getattr(socket, kind))
            a = keep(Gio.Socket.new_from_fd(x.detach()))
            b = keep(Gio.Socket.new_from_fd(y.detach()))
            a.set_timeout(1)
            b.send(b"hello", None)
            b.send(b"w", None)
            readable(a)
            r, t = timed(a.receive_messages, ims(3), 0, None)
            out[kind + "_queued"] = [r, within(t, 0, 3)]
            out[kind + "_avail"] = a.get_available_bytes() > 0
            b.close()
            out[kind + "_closed"] = err(a.receive_messages, ims(3), 0, None)
            out[kind + "_closed_again"] = err(a.receive_messages, ims(3), 0, None)
        '''))


def test_receive_messages_clamp() -> None:
    """§6.2 item 70 (E22, E23): 1300 queued, 1500 asked -> 1024, then 276; send_messages 1500
    -> 1024."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        A.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        out["rcvbuf_big"] = A.get_option(socket.SOL_SOCKET, socket.SO_RCVBUF)[1] >= 4 * 1024 * 1024
        for i in range(1300):
            B.send_to(dest, b"x", None)
        readable(A)
        A.set_blocking(False)
        out["first"] = err(A.receive_messages, ims(1500), 0, None)
        out["rest"] = err(A.receive_messages, ims(1500), 0, None)
        out["none"] = err(A.receive_messages, ims(1500), 0, None)
        out["send_1500"] = err(B.send_messages, oms(1500, dest), 0, None)
        out["then_476"] = err(B.send_messages, oms(476, dest), 0, None)
        out["received"] = [err(A.receive_messages, ims(1500), 0, None) for _ in range(2)]
        '''), timeout=60)


def test_send_messages_destinations() -> None:
    """§6.2 item 71 (E29): [dest, None, dest] -> 1; all None -> EDESTADDRREQ."""
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        ms = oms(3, dest)
        ms[1].address = None
        out["partial"] = err(B.send_messages, ms, 0, None)
        out["bytes_sent"] = [m.bytes_sent for m in ms]
        out["none"] = err(B.send_messages, oms(2), 0, None)
        readable(A)
        out["delivered"] = err(recv_bytes, A, 16)
        A.set_blocking(False)
        out["only_one"] = err(recv_bytes, A, 16)
        c = Gio.Cancellable.new()
        c.cancel()
        out["cancelled"] = err(B.send_messages, oms(1, dest), 0, c)
        B.close()
        out["closed"] = err(B.send_messages, oms(1, dest), 0, None)
        '''), head={"none": (FAILED_DEST, UNSET_DEST)})  # GLib 2.74 differs: EDESTADDRREQ -> FAILED


def test_send_messages_on_full_socket() -> None:
    """Zero-length datagrams fill a small send buffer too: partial count, then WOULD_BLOCK
    (non-blocking) or TIMED_OUT (timeout 1)."""
    compare(scenario(
        r'''
        x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        a = keep(Gio.Socket.new_from_fd(x.detach()))
        b = keep(Gio.Socket.new_from_fd(y.detach()))
        a.set_option(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        a.set_blocking(False)
        r = err(a.send_messages, oms(1000), 0, None)
        out["partial"] = [r[0], 0 < r[1] < 1000]
        out["full"] = err(a.send_messages, oms(10), 0, None)
        a.set_blocking(True)
        a.set_timeout(1)
        r, t = timed(a.send_messages, oms(10), 0, None)
        out["full_blocking"] = [r, within(t, 0.9, 3)]
        '''))


# --------------------------------------------------------------------------------------------
# Gio.DatagramBased (§2.13, E15)
# --------------------------------------------------------------------------------------------


def test_datagram_based_modes() -> None:
    compare(scenario(
        r'''
        A, B = udp_pair()
        dest = A.get_local_address()
        A.set_timeout(0)
        B.set_timeout(0)
        DB = Gio.DatagramBased
        out["none_0"] = err(DB.receive_messages, A, ims(2), 0, 0, None)
        r, t = timed(DB.receive_messages, A, ims(2), 0, 200000, None)
        out["none_200ms"] = [r, within(t, 0.18, 2)]
        B.send_to(dest, b"a", None)
        readable(A)
        out["one_0"] = err(DB.receive_messages, A, ims(2), 0, 0, None)
        B.send_to(dest, b"a", None)
        r, t = timed(DB.receive_messages, A, ims(2), 0, 200000, None)
        out["one_200ms"] = [r, within(t, 0.18, 2)]
        A.set_blocking(False)
        B.send_to(dest, b"a", None)
        timer = threading.Timer(0.3, lambda: B.send_to(dest, b"b", None))
        timer.start()
        r, t = timed(DB.receive_messages, A, ims(2), 0, -1, None)
        timer.join()
        out["wait_all_-1"] = [r, within(t, 0.25, 4)]
        out["send_0"] = err(DB.send_messages, B, oms(2, dest), 0, 0, None)
        out["send_-1"] = err(DB.send_messages, B, oms(2, dest), 0, -1, None)
        out["condition_check"] = DB.condition_check(B, IN | OUT)
        out["condition_wait_out"] = err(DB.condition_wait, B, OUT, 0, None)
        r, t = timed(DB.condition_wait, B, IN, 100000, None)
        out["condition_wait_in"] = [r, within(t, 0.08, 2)]
        '''))


def test_datagram_based_not_supported() -> None:
    """E15: GLib returns -1 and loses the NOT_SUPPORTED error (CRITICAL); gsocklab raises it.
    condition_check gives ERR and condition_wait raises in both."""
    compare(scenario(
        r'''
        L, C, S = tcp_pair()
        C.set_timeout(0)
        U = new(F.IPV4, T.DATAGRAM)
        U.set_timeout(1)
        DB = Gio.DatagramBased
        for name, sock in (("stream", C), ("timeout", U)):
            out[name + "_check"] = DB.condition_check(sock, OUT)
            out[name + "_wait"] = err(DB.condition_wait, sock, OUT, 0, None)
            recv = err(DB.receive_messages, sock, ims(1), 0, 0, None)
            send = err(DB.send_messages, sock, oms(1), 0, 0, None)
            out[name + ("_lost" if IS_GLIB else "_raised")] = [recv, send]
        '''),
        glib_only={"stream_lost": [["ok", -1], ["ok", -1]], "timeout_lost": [["ok", -1], ["ok", -1]]},
        gsocklab_only={
            "stream_raised": [["error", "NOT_SUPPORTED", NON_DATAGRAM]] * 2,
            "timeout_raised": [["error", "NOT_SUPPORTED", WITH_TIMEOUT]] * 2,
        })
