"""Passing descriptors and credentials through the message APIs (reference §2.6, §2.7, §5.8,
§6.1 rows 16 and 36, E13).

``send_message`` + ``Gio.UnixFDMessage`` over Unix socketpairs (adopted with
``Gio.Socket.new_from_fd``), received with ``receive_message`` and with ``receive_messages``
(``InputMessage(control_messages=[])``); the received descriptors work and are close-on-exec;
thousands of round trips leave ``/proc/self/fd`` as it was, also when the receiver asks for
no control messages (the descriptors must be closed, not leaked) and when the control data
is truncated (the descriptor limit lets the kernel install only some). Credentials with
``SO_PASSCRED``. Every socket has a 5 s timeout (fixtures); pipe read ends are non-blocking.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Sockets, fd_count

from gsocklab import Gio, GLib

E = Gio.IOErrorEnum
CLOEXEC = 0x40000000  # MSG_CMSG_CLOEXEC in msg_flags (§2.6)
CTRUNC = socket.MSG_CTRUNC
KINDS = pytest.mark.parametrize(
    "kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET], ids=["stream", "dgram", "seqpacket"])
DATAGRAM_KINDS = pytest.mark.parametrize(
    "kind", [socket.SOCK_DGRAM, socket.SOCK_SEQPACKET], ids=["dgram", "seqpacket"])


@contextlib.contextmanager
def pipes(n: int) -> Iterator[list[tuple[int, int]]]:
    """``n`` pipes (read end non-blocking), closed afterwards."""
    made = [os.pipe() for _ in range(n)]
    for r, _ in made:
        os.set_blocking(r, False)
    try:
        yield made
    finally:
        for r, w in made:
            os.close(r)
            os.close(w)


def pair(sockets: Sockets, kind: socket.SocketKind) -> tuple[Any, Any]:
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    return sockets.adopt(a), sockets.adopt(b)


def fd_message(*fds: int) -> Any:
    message = Gio.UnixFDMessage.new()
    for fd in fds:
        assert message.append_fd(fd) is True
    return message


def is_cloexec(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def check_pipes(received: list[int], made: list[tuple[int, int]], tag: bytes = b"via passed fd") -> None:
    """Write through each received write end; the matching read end gets it."""
    assert len(received) == len(made)
    for i, (fd, (r, w)) in enumerate(zip(received, made)):
        assert fd not in (r, w)
        assert is_cloexec(fd)
        payload = tag + b" %d" % i
        assert os.write(fd, payload) == len(payload)
        assert os.read(r, 100) == payload


def close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def only_fd_message(controls: list[Any]) -> Any:
    assert len(controls) == 1
    assert isinstance(controls[0], Gio.UnixFDMessage)
    return controls[0]


@contextlib.contextmanager
def free_descriptor_slots(n: int) -> Iterator[None]:
    """Only ``n`` descriptor numbers free (RLIMIT_NOFILE lowered, holes filled) inside the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(name) for name in os.listdir("/proc/self/fd"))
    filler: list[int] = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1 + n, hard))
    try:
        with contextlib.suppress(OSError):
            while True:
                filler.append(os.dup(0 if is_open(0) else 1))
        for _ in range(n):
            os.close(filler.pop())
        yield
    finally:
        close_all(filler)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --------------------------------------------------------------------------------------------
# receive_message
# --------------------------------------------------------------------------------------------


@KINDS
def test_three_pipes_round_trip(sockets: Sockets, kind: socket.SocketKind) -> None:
    """§6.1 rows 16/36, E13: three write ends travel; they work and are close-on-exec."""
    a, b = pair(sockets, kind)
    with pipes(3) as made:
        message = fd_message(*(w for _, w in made))
        assert message.get_fd_list().get_length() == 3
        assert (message.get_level(), message.get_msg_type(), message.get_size()) == (
            socket.SOL_SOCKET, socket.SCM_RIGHTS, 12)
        assert a.send_message(None, [b"Z"], [message], 0) == 1
        assert message.get_fd_list().get_length() == 3  # the sender keeps its descriptors
        buf = bytearray(16)
        count, address, controls, flags = b.receive_message([buf], 0)
        assert (count, address, flags, buf[:1]) == (1, None, CLOEXEC, b"Z")
        received = only_fd_message(controls).steal_fds()
        try:
            check_pipes(received, made)
        finally:
            close_all(received)
        message.get_fd_list().close()


def test_no_vectors_carries_the_descriptors(unix_socketpair: tuple[Any, Any]) -> None:
    """E13: send_message([], [fdmsg]) sends one NUL byte; receive_message([]) gets the message."""
    a, b = unix_socketpair
    with pipes(1) as made:
        assert a.send_message(None, [], [fd_message(made[0][1])], 0) == 1
        count, _, controls, flags = b.receive_message([], 0)
        assert (count, flags) == (1, CLOEXEC)
        received = only_fd_message(controls).steal_fds()
        try:
            check_pipes(received, made)
        finally:
            close_all(received)


def test_fd_list_and_several_control_messages(sockets: Sockets) -> None:
    """Two SCM_RIGHTS messages in one send; a UnixFDList built with new_from_array."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    with pipes(3) as made:
        fd_list = Gio.UnixFDList.new_from_array([os.dup(made[0][1]), os.dup(made[1][1])])
        first = Gio.UnixFDMessage.new_with_fd_list(fd_list)
        assert first.get_fd_list() is fd_list
        second = fd_message(made[2][1])
        assert a.send_message(None, [b"ab"], [first, second], 0) == 2
        _, _, controls, _ = b.receive_message([bytearray(4)], 0)
        assert all(isinstance(c, Gio.UnixFDMessage) for c in controls)
        received = [fd for c in controls for fd in c.steal_fds()]
        try:
            check_pipes(received, made)  # Linux merges them into one SCM_RIGHTS message
        finally:
            close_all(received)
        fd_list.close()


def test_receiver_that_ignores_the_descriptors_leaks_nothing(sockets: Sockets) -> None:
    """Received messages that are dropped close their descriptors (UnixFDList owns them);
    the plain receives have no control buffer, so the kernel discards them."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    with pipes(1) as made:
        message = fd_message(made[0][1], made[0][1], made[0][1])
        before = fd_count()
        for i in range(30):
            assert a.send_message(None, [b"%d" % i], [message], 0) == len(b"%d" % i)
            if i % 3 == 0:
                assert len(b.receive_message([bytearray(8)], 0)[2]) == 1
            elif i % 3 == 1:
                assert b.receive(None, 8)[0] > 0
            else:
                assert b.receive_from(None, 8)[0] > 0
        assert fd_count() == before
        message.get_fd_list().close()


def test_thousand_round_trips_leak_nothing(sockets: Sockets) -> None:
    a, b = pair(sockets, socket.SOCK_DGRAM)
    vector = [Gio.InputVector(size=8)]
    with pipes(3) as made:
        message = fd_message(*(w for _, w in made))
        before = fd_count()
        for i in range(1000):
            assert a.send_message(None, [b"x"], [message], 0) == 1
            _, _, controls, _ = b.receive_message(vector, 0)
            if i % 4 == 0:  # the receiver takes the descriptors and closes them
                close_all(only_fd_message(controls).steal_fds())
            elif i % 4 == 1:  # ... uses them once
                received = only_fd_message(controls).get_fd_list().steal_fds()
                try:
                    os.write(received[i % 3], b"!")
                    assert os.read(made[i % 3][0], 8) == b"!"
                finally:
                    close_all(received)
            elif i % 4 == 2:  # ... closes the list
                only_fd_message(controls).get_fd_list().close()
            del controls  # ... or just drops them
        assert fd_count() == before
        message.get_fd_list().close()


def test_truncated_control_data_leaks_nothing(sockets: Sockets) -> None:
    """Only one descriptor number free: the kernel installs one of three, reports MSG_CTRUNC
    and closes the others; what arrived is owned by the message."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    vector = [Gio.InputVector(size=8)]
    with pipes(3) as made:
        message = fd_message(*(w for _, w in made))
        for _ in range(2):
            assert a.send_message(None, [b"t"], [message], 0) == 1
        before = fd_count()
        with free_descriptor_slots(1):
            _, _, controls, flags = b.receive_message(vector, 0)
        assert flags == CLOEXEC | CTRUNC
        received = only_fd_message(controls).steal_fds()
        assert len(received) == 1
        try:
            assert is_cloexec(received[0])
            os.write(received[0], b"first")
            assert os.read(made[0][0], 8) == b"first"
        finally:
            close_all(received)
        with free_descriptor_slots(0):
            _, _, controls, flags = b.receive_message(vector, 0)
        assert (controls, flags) == ([], CLOEXEC | CTRUNC)
        assert fd_count() == before
        message.get_fd_list().close()


def test_too_many_descriptors(sockets: Sockets) -> None:
    """SCM_MAX_FD (253) pass; one more is refused by the kernel (EINVAL)."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    with pipes(1) as made:
        message = fd_message(*[made[0][1]] * 253)
        before = fd_count()
        assert a.send_message(None, [b"m"], [message], 0) == 1
        _, _, controls, flags = b.receive_message([bytearray(4)], 0)
        assert flags == CLOEXEC
        assert only_fd_message(controls).get_fd_list().get_length() == 253
        del controls
        assert fd_count() == before
        message.append_fd(made[0][1])
        with pytest.raises(GLib.Error) as info:
            a.send_message(None, [b"m"], [message], 0)
        assert info.value.code == E.INVALID_ARGUMENT
        assert info.value.message == "Error sending message: Invalid argument"
        message.get_fd_list().close()


# --------------------------------------------------------------------------------------------
# send_messages / receive_messages
# --------------------------------------------------------------------------------------------


@DATAGRAM_KINDS
def test_batches_with_control_lists(sockets: Sockets, kind: socket.SocketKind) -> None:
    a, b = pair(sockets, kind)
    with pipes(3) as made:
        out = [Gio.OutputMessage(None, [b"%d" % i], [fd_message(made[i][1])]) for i in range(3)]
        out.append(Gio.OutputMessage(None, [b"no fds"]))
        assert a.send_messages(out, 0) == 4
        assert [m.bytes_sent for m in out] == [1, 1, 1, 6]
        ins = [Gio.InputMessage([bytearray(8)], []) for _ in range(4)]
        assert b.receive_messages(ins, 0) == 4
        assert [m.flags for m in ins] == [CLOEXEC] * 4
        assert [m.num_control_messages for m in ins] == [1, 1, 1, 0]
        received = [only_fd_message(m.control_messages).steal_fds()[0] for m in ins[:3]]
        try:
            check_pipes(received, made)
        finally:
            close_all(received)
        for m in out[:3]:
            m.control_messages[0].get_fd_list().close()


def test_batch_receivers_without_control_lists_leak_nothing(sockets: Sockets) -> None:
    """InputMessages with control_messages=None: no control buffer; the kernel reports MSG_CTRUNC
    and discards the descriptors."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    with pipes(3) as made:
        fd_messages = [fd_message(w, w) for _, w in made]
        out = [Gio.OutputMessage(None, [b"%d" % i], [fd_messages[i % 3]]) for i in range(10)]
        ins = [Gio.InputMessage([bytearray(4)], [] if i % 2 else None) for i in range(10)]
        before = fd_count()
        for _ in range(100):  # 1,000 messages, 2,000 descriptors
            assert a.send_messages(out, 0) == 10
            assert b.receive_messages(ins, 0) == 10
            for i, m in enumerate(ins):
                if i % 2:
                    assert m.flags == CLOEXEC
                    assert only_fd_message(m.control_messages).get_fd_list().get_length() == 2
                else:
                    assert m.flags == CLOEXEC | CTRUNC
                    assert m.control_messages is None
        for m in ins[1::2]:  # use the last batch's descriptors once
            received = m.control_messages[0].steal_fds()
            os.write(received[0], b"ok")
            close_all(received)
        assert b"".join(os.read(r, 64) for r, _ in made) == b"ok" * 5
        for m in ins:
            if m.control_messages is not None:
                m.control_messages.clear()
        assert fd_count() == before
        for fm in fd_messages:
            fm.get_fd_list().close()


def test_batch_truncated_control_data(sockets: Sockets) -> None:
    a, b = pair(sockets, socket.SOCK_DGRAM)
    with pipes(2) as made:
        message = fd_message(made[0][1], made[1][1])
        out = [Gio.OutputMessage(None, [b"x"], [message]) for _ in range(2)]
        assert a.send_messages(out, 0) == 2
        ins = [Gio.InputMessage([bytearray(4)], []) for _ in range(2)]
        before = fd_count()
        with free_descriptor_slots(1):
            assert b.receive_messages(ins, 0) == 2
        assert [m.flags for m in ins] == [CLOEXEC | CTRUNC] * 2
        assert only_fd_message(ins[0].control_messages).get_fd_list().get_length() == 1
        assert ins[1].control_messages == []
        assert fd_count() == before + 1
        ins[0].control_messages.clear()
        assert fd_count() == before
        message.get_fd_list().close()


def test_control_list_given_after_the_batch_was_cached(sockets: Sockets) -> None:
    """Reused InputMessages: asking for control messages on the second call is honoured (the
    native batch must be rebuilt with a control buffer), and dropping the list again works."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    ins = [Gio.InputMessage([bytearray(4)])]
    with pipes(1) as made:
        message = fd_message(made[0][1])
        out = [Gio.OutputMessage(None, [b"x"], [message])]
        before = fd_count()
        assert a.send_messages(out, 0) == 1
        assert b.receive_messages(ins, 0) == 1
        assert ins[0].flags == CLOEXEC | CTRUNC
        ins[0].control_messages = []
        assert a.send_messages(out, 0) == 1
        assert b.receive_messages(ins, 0) == 1
        assert ins[0].flags == CLOEXEC
        assert only_fd_message(ins[0].control_messages).get_fd_list().get_length() == 1
        ins[0].control_messages = None
        assert a.send_messages(out, 0) == 1
        assert b.receive_messages(ins, 0) == 1
        assert ins[0].flags == CLOEXEC | CTRUNC
        assert fd_count() == before
        message.get_fd_list().close()


def test_fd_message_changed_after_the_batch_was_cached(sockets: Sockets) -> None:
    """Reused OutputMessages: the descriptors sent are the message's current ones. A cached
    serialisation would send stale descriptor numbers: EBADF once they are closed, or whatever
    file now has that number."""
    a, b = pair(sockets, socket.SOCK_DGRAM)
    vector = [Gio.InputVector(size=4)]
    with pipes(2) as made:
        message = fd_message(made[0][1])
        out = [Gio.OutputMessage(None, [Gio.OutputVector(b"x")], [message])]
        assert a.send_messages(out, 0) == 1
        close_all(only_fd_message(b.receive_message(vector, 0)[2]).steal_fds())
        message.append_fd(made[1][1])
        assert a.send_messages(out, 0) == 1
        received = only_fd_message(b.receive_message(vector, 0)[2]).steal_fds()
        try:
            check_pipes(received, made)
        finally:
            close_all(received)
        close_all(message.steal_fds())
        other = os.open(os.devnull, os.O_RDONLY)  # likely takes a number the message had
        try:
            assert a.send_messages(out, 0) == 1
            _, _, controls, _ = b.receive_message(vector, 0)
            assert controls == []
        finally:
            os.close(other)


# --------------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------------


def expected_credentials() -> str:
    return f"GCredentials:linux-ucred:pid={os.getpid()},uid={os.geteuid()},gid={os.getegid()}"


@DATAGRAM_KINDS
def test_credentials_message(sockets: Sockets, kind: socket.SocketKind) -> None:
    """E13: with SO_PASSCRED on the receiver a UnixCredentialsMessage arrives, sent or not."""
    a, b = pair(sockets, kind)
    assert Gio.UnixCredentialsMessage.is_supported()
    creds = Gio.UnixCredentialsMessage.new()
    assert (creds.get_size(), creds.get_level(), creds.get_msg_type()) == (12, socket.SOL_SOCKET, 2)
    assert b.set_option(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    assert a.send_message(None, [b"c"], [creds], 0) == 1
    _, _, controls, flags = b.receive_message([bytearray(4)], 0)
    assert flags == CLOEXEC
    assert [type(c) for c in controls] == [Gio.UnixCredentialsMessage]
    assert controls[0].get_credentials().to_string() == expected_credentials()
    assert controls[0].get_credentials().get_unix_pid() == os.getpid()
    assert a.send_message(None, [b"plain"], None, 0) == 5  # the kernel attaches them anyway
    _, _, controls, _ = b.receive_message([bytearray(8)], 0)
    assert [c.get_credentials().to_string() for c in controls] == [expected_credentials()]


def test_credentials_and_descriptors_in_batches(sockets: Sockets) -> None:
    a, b = pair(sockets, socket.SOCK_DGRAM)
    b.set_option(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    with pipes(1) as made:
        message = fd_message(made[0][1])
        out = [Gio.OutputMessage(None, [b"1"], [Gio.UnixCredentialsMessage.new(), message]),
               Gio.OutputMessage(None, [b"2"])]
        assert a.send_messages(out, 0) == 2
        ins = [Gio.InputMessage([bytearray(4)], []), Gio.InputMessage([bytearray(4)], [])]
        before = fd_count()
        assert b.receive_messages(ins, 0) == 2
        assert [type(c) for c in ins[0].control_messages] == [Gio.UnixCredentialsMessage, Gio.UnixFDMessage]
        assert ins[0].control_messages[0].get_credentials().to_string() == expected_credentials()
        received = ins[0].control_messages[1].steal_fds()
        try:
            check_pipes(received, made)
        finally:
            close_all(received)
        assert [type(c) for c in ins[1].control_messages] == [Gio.UnixCredentialsMessage]
        assert fd_count() == before
        message.get_fd_list().close()


def test_credentials_without_passcred_are_not_reported(sockets: Sockets) -> None:
    a, b = pair(sockets, socket.SOCK_DGRAM)
    assert a.send_message(None, [b"c"], [Gio.UnixCredentialsMessage.new()], 0) == 1
    _, _, controls, flags = b.receive_message([bytearray(4)], 0)
    assert (controls, flags) == ([], CLOEXEC)
