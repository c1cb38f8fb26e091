"""Control messages and fd lists: ``UnixFDList``, ``UnixFDMessage``, ``UnixCredentialsMessage``.

Part 1 tests `gsocklab.core._control` on its own (unit and property tests with real, duplicated
descriptors); part 2 passes descriptors and credentials over a real ``socketpair`` with the
stdlib's ``sendmsg``/``recvmsg`` and this module's (de)serialisation; part 3 compares what
PyGObject can express with real GLib (the oracle).

Descriptor ownership is checked throughout: whatever a test receives or creates is closed,
and the no-leak tests count ``/proc/self/fd``. Every stdlib socket has a timeout and every
pipe read end is non-blocking, so nothing here can hang.
"""

from __future__ import annotations

import array
import contextlib
import errno
import gc
import logging
import os
import resource
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import fd_count
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import compare

import gsocklab
from gsocklab import GLib
from gsocklab.core._control import (
    CONTROL_BUFFER_SIZE,
    SocketControlMessage,
    UnixCredentialsMessage,
    UnixFDList,
    UnixFDMessage,
    close_fds_in_ancdata,
    deserialize_ancdata,
    serialize_control_messages,
)
from gsocklab.core._credentials import UCRED, Credentials

E = gsocklab.IOErrorEnum
SOL, RIGHTS, CREDS = socket.SOL_SOCKET, socket.SCM_RIGHTS, socket.SCM_CREDENTIALS
TIMEOUT = 5.0


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
        return False
    return True


def cloexec(fd: int) -> bool:
    return not os.get_inheritable(fd)


def close_quietly(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def pipe() -> Iterator[tuple[int, int]]:
    """``(read_end, write_end)``; the read end never blocks; both are closed afterwards."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        yield r, w
    finally:
        close_quietly(r, w)


def inheritable_dups(fd: int, n: int) -> list[int]:
    """``n`` duplicates of ``fd`` with close-on-exec cleared (as a peer without CLOEXEC would send)."""
    dups = [os.dup(fd) for _ in range(n)]
    for d in dups:
        os.set_inheritable(d, True)
    return dups


def ints(fds: list[int]) -> bytes:
    return array.array("i", fds).tobytes()


@contextlib.contextmanager
def app_type(cls: type[SocketControlMessage]) -> Iterator[type[SocketControlMessage]]:
    """Keep an application subclass registered only for the duration of the block."""
    try:
        yield cls
    finally:
        cls._unregister()


def make_app_message() -> type[SocketControlMessage]:
    """§6.1 row 32's ``HAppMessage``: an application SOL_SOCKET/SCM_RIGHTS message of two ints."""

    class AppMessage(SocketControlMessage):
        def __init__(self, fds: tuple[int, int]) -> None:
            self.fds = fds

        def get_level(self) -> int:
            return SOL

        def get_msg_type(self) -> int:
            return RIGHTS

        def get_size(self) -> int:
            return 8

        def serialize(self) -> bytes:
            return struct.pack("ii", *self.fds)

        @classmethod
        def _deserialize(cls, level: int, type: int, data: bytes) -> AppMessage | None:
            if level != SOL or type != RIGHTS or len(data) != 8:
                return None
            a, b = struct.unpack("ii", data)
            return cls((a, b))

    return AppMessage


@pytest.fixture
def stdlib_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A ``socketpair(AF_UNIX, SOCK_STREAM)`` with a 5 s timeout on both ends."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.settimeout(TIMEOUT)
    b.settimeout(TIMEOUT)
    with a, b:
        yield a, b


# --------------------------------------------------------------------------------------------
# Part 1a: UnixFDList
# --------------------------------------------------------------------------------------------


def test_fd_list_new_is_empty() -> None:
    for fd_list in (UnixFDList(), UnixFDList.new(), UnixFDList.new_from_array([])):
        assert fd_list.get_length() == len(fd_list) == 0
        assert fd_list.peek_fds() == []
        assert fd_list.steal_fds() == []
        assert fd_list.lookup(0) == -1
        assert repr(fd_list) == "<Gio.UnixFDList fds=[]>"


def test_fd_list_append_duplicates_and_keeps_the_original_with_the_caller() -> None:
    with pipe() as (r, w):
        fd_list = UnixFDList.new()
        assert fd_list.append(r) == 0
        assert fd_list.append(w) == 1
        held = fd_list.peek_fds()
        assert len(held) == 2
        assert not set(held) & {r, w}
        assert all(cloexec(fd) for fd in held)
        assert os.path.samestat(os.fstat(held[1]), os.fstat(w))
        fd_list.close()
        assert not any(is_open(fd) for fd in held)
        assert is_open(r)
        assert is_open(w)


def test_fd_list_get_returns_a_new_duplicate_the_caller_owns() -> None:
    with pipe() as (r, w), UnixFDList.new() as fd_list:
        fd_list.append(w)
        mine = fd_list.get(0)
        try:
            assert mine not in (w, fd_list.peek(0))
            assert cloexec(mine)
            os.write(mine, b"via get")
        finally:
            os.close(mine)
        assert is_open(fd_list.peek(0))  # closing the duplicate leaves the list's descriptor
        assert os.read(r, 100) == b"via get"


@pytest.mark.parametrize("index", [1, 2, -1, 100])
def test_fd_list_get_and_peek_out_of_range_raise_invalid_argument(index: int) -> None:
    with pipe() as (_, w), UnixFDList.new() as fd_list:
        fd_list.append(w)
        for method in (fd_list.get, fd_list.peek):
            with pytest.raises(GLib.Error, match="out of range") as info:
                method(index)
            assert info.value.matches(gsocklab.io_error_quark(), E.INVALID_ARGUMENT)
            assert isinstance(info.value, ValueError)
        assert fd_list.lookup(index) == -1


def test_fd_list_wrong_argument_types_name_the_parameter() -> None:
    fd_list = UnixFDList.new()
    with pytest.raises(TypeError, match=r"^fd "):
        fd_list.append("3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^fd "):
        fd_list.append_take(True)
    with pytest.raises(TypeError, match=r"^index "):
        fd_list.get(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^index "):
        fd_list.lookup(0.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^fds "):
        UnixFDList.new_from_array(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^fds "):
        UnixFDList.new_from_array(b"\x03")
    with pytest.raises(TypeError, match=r"^fds\[1\] "):
        UnixFDList.new_from_array([0, "1"])  # type: ignore[list-item]


def test_fd_list_negative_descriptors_are_invalid_arguments() -> None:
    fd_list = UnixFDList.new()
    for call in (lambda: fd_list.append(-1), lambda: fd_list.append_take(-1),
                 lambda: UnixFDList.new_from_array([-1])):
        with pytest.raises(GLib.Error, match=">= 0") as info:
            call()
        assert info.value.code == E.INVALID_ARGUMENT
    assert fd_list.get_length() == 0


def test_fd_list_new_from_array_takes_nothing_when_an_element_is_bad() -> None:
    with pipe() as (r, w):
        with pytest.raises(TypeError, match=r"fds\[2\]"):
            UnixFDList.new_from_array([r, w, None])  # type: ignore[list-item]
        gc.collect()
        assert is_open(r)
        assert is_open(w)


def test_fd_list_append_of_a_closed_descriptor_is_glibs_dup_error() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    fd_list = UnixFDList.new()
    with pytest.raises(GLib.Error) as info:
        fd_list.append(w)
    assert info.value.message == "dup: Bad file descriptor"
    assert info.value.code == E.FAILED
    assert info.value.errno == errno.EBADF
    with pytest.raises(GLib.Error, match="append_take: Bad file descriptor"):
        fd_list.append_take(w)
    assert fd_list.get_length() == 0


def test_fd_list_append_at_the_descriptor_limit_is_too_many_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(name) for name in os.listdir("/proc/self/fd"))
    filler: list[int] = []
    with pipe() as (_, w), UnixFDList.new() as fd_list:
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
        try:
            with contextlib.suppress(OSError):
                while True:  # fill every hole below the limit
                    filler.append(os.dup(w))
            with pytest.raises(GLib.Error, match="dup: Too many open files") as info:
                fd_list.append(w)
            assert info.value.code == E.TOO_MANY_OPEN_FILES
            assert fd_list.get_length() == 0
        finally:
            close_quietly(*filler)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_fd_list_owns_its_descriptors_until_garbage_collected() -> None:
    r, w = os.pipe()
    fd_list = UnixFDList.new_from_array([r, w])
    assert fd_list.peek_fds() == [r, w]  # taken as they are, not duplicated
    del fd_list
    gc.collect()
    assert not is_open(r)
    assert not is_open(w)


def test_fd_list_steal_fds_hands_over_ownership() -> None:
    r, w = os.pipe()
    fd_list = UnixFDList.new_from_array([r, w])
    try:
        assert fd_list.steal_fds() == [r, w]
        assert fd_list.get_length() == 0
        assert fd_list.steal_fds() == []
        del fd_list
        gc.collect()
        assert is_open(r)
        assert is_open(w)
    finally:
        close_quietly(r, w)


def test_fd_list_close_is_idempotent_and_the_list_stays_usable() -> None:
    with pipe() as (r, w):
        fd_list = UnixFDList.new()
        fd_list.append(r)
        held = fd_list.peek(0)
        fd_list.close()
        fd_list.close()
        assert fd_list.get_length() == 0
        assert not is_open(held)
        assert fd_list.append(w) == 0
        fd_list.close()


def test_fd_list_unix_fd_test_row_35() -> None:
    """§6.1 row 35 (/unix-fd/fd-list): the GLib test, step by step."""
    before = fd_count()
    sv0, sv1 = os.pipe()
    fd_list = UnixFDList.new_from_array([sv0, sv1])
    assert fd_list.get_length() == 2
    assert fd_list.peek_fds() == [sv0, sv1]
    for i in range(2):
        dup = fd_list.get(i)
        assert dup not in (sv0, sv1)
        os.close(dup)
    assert fd_list.append(sv0) >= 0
    stolen = fd_list.steal_fds()
    assert len(stolen) == 3
    assert stolen[:2] == [sv0, sv1]
    assert stolen[2] >= 0
    close_quietly(*stolen)
    sv0, sv1 = os.pipe()
    assert fd_list.append_take(sv0) == 0
    assert fd_list.append_take(sv1) == 1
    assert fd_list.get_length() == 2
    assert (fd_list.peek(0), fd_list.peek(1)) == (sv0, sv1)
    assert (fd_list.lookup(0), fd_list.lookup(1), fd_list.lookup(2)) == (sv0, sv1, -1)
    del fd_list
    assert fd_count() == before


# --------------------------------------------------------------------------------------------
# Part 1b: UnixFDMessage
# --------------------------------------------------------------------------------------------


def test_fd_message_new_is_empty_scm_rights() -> None:
    message = UnixFDMessage.new()
    assert (message.get_level(), message.get_msg_type(), message.get_size()) == (SOL, RIGHTS, 0)
    assert message.serialize() == b""
    assert message.steal_fds() == []
    assert isinstance(message.get_fd_list(), UnixFDList)
    assert isinstance(UnixFDMessage(fd_list=None).get_fd_list(), UnixFDList)
    assert isinstance(message, SocketControlMessage)


def test_fd_message_shares_its_list_and_serializes_native_ints() -> None:
    """§6.1 row 36 (/unix-fd/scm), the part before sending."""
    with pipe() as (r, w):
        fd_list = UnixFDList.new()
        message = UnixFDMessage.new_with_fd_list(fd_list)
        assert message.get_fd_list() is fd_list
        assert message.props.fd_list is fd_list
        assert message.get_property("fd-list") is fd_list
        assert message.append_fd(r) is True
        assert fd_list.append(w) == 1  # the shared list: the message sees it
        held = fd_list.peek_fds()
        assert message.get_size() == 8
        assert message.serialize() == array.array("i", held).tobytes() == struct.pack("ii", *held)
        assert repr(message) == f"<Gio.UnixFDMessage fds={held!r}>"
        stolen = message.steal_fds()
        assert stolen == held
        assert fd_list.get_length() == 0
        assert message.get_size() == 0
        close_quietly(*stolen)


def test_fd_message_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"^fd_list "):
        UnixFDMessage.new_with_fd_list(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^fd_list "):
        UnixFDMessage([3])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not writable"):
        UnixFDMessage.new().props.fd_list = UnixFDList()
    with pytest.raises(GLib.Error, match="dup: Bad file descriptor"):
        UnixFDMessage.new().append_fd(os.sysconf("SC_OPEN_MAX") + 1000)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=40))
def test_fd_message_round_trips_any_number_of_descriptors(n: int) -> None:
    with pipe() as (_r, w):
        before = fd_count()
        sent = UnixFDMessage.new()
        for _ in range(n):
            sent.append_fd(w)
        incoming = inheritable_dups(w, n)
        level, msg_type, data = serialize_control_messages([sent])[0]
        assert (level, msg_type, len(data)) == (SOL, RIGHTS, 4 * n)
        assert array.array("i", data).tolist() == sent.get_fd_list().peek_fds()
        received = SocketControlMessage.deserialize(level, msg_type, ints(incoming))
        assert isinstance(received, UnixFDMessage)
        assert received.get_fd_list().peek_fds() == incoming  # took them, as they are
        assert all(cloexec(fd) for fd in incoming)  # and set FD_CLOEXEC (§1.7)
        received.get_fd_list().close()
        sent.get_fd_list().close()
        assert fd_count() == before


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=20), extra=st.integers(min_value=1, max_value=3))
def test_non_integral_fd_payload_is_dropped_and_its_descriptors_closed(n: int, extra: int) -> None:
    with pipe() as (_, w):
        incoming = inheritable_dups(w, n)
        assert SocketControlMessage.deserialize(SOL, RIGHTS, ints(incoming) + b"\x07" * extra) is None
        assert not any(is_open(fd) for fd in incoming)  # GLib warns and leaks them; we close them


def test_non_integral_fd_payload_logs_glibs_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gsocklab.core._control"):
        assert SocketControlMessage.deserialize(SOL, RIGHTS, b"\xff\xff\xff\x7f\x00") is None
    assert "Kernel returned non-integral number of fds" in caplog.text


def test_fd_payload_with_a_bad_descriptor_is_dropped_and_the_good_ones_closed(caplog: pytest.LogCaptureFixture) -> None:
    with pipe() as (_, w):
        good = inheritable_dups(w, 2)
        bad = os.dup(w)
        os.close(bad)
        with caplog.at_level(logging.WARNING, logger="gsocklab.core._control"):
            assert SocketControlMessage.deserialize(SOL, RIGHTS, ints([good[0], bad, good[1]])) is None
        assert "Error setting close-on-exec flag on incoming fd: Bad file descriptor" in caplog.text
        assert not any(is_open(fd) for fd in good)


# --------------------------------------------------------------------------------------------
# Part 1c: UnixCredentialsMessage
# --------------------------------------------------------------------------------------------


def test_credentials_message_new_describes_this_process() -> None:
    message = UnixCredentialsMessage.new()
    assert UnixCredentialsMessage.is_supported() is True
    assert (message.get_level(), message.get_msg_type(), message.get_size()) == (SOL, CREDS, 12)
    expected = f"GCredentials:linux-ucred:pid={os.getpid()},uid={os.geteuid()},gid={os.getegid()}"
    assert message.get_credentials().to_string() == expected
    assert message.serialize() == UCRED.pack(os.getpid(), os.geteuid(), os.getegid())
    assert repr(message) == f"<Gio.UnixCredentialsMessage {expected}>"
    assert UnixCredentialsMessage().get_credentials() == Credentials()


def test_credentials_message_shares_the_credentials_object() -> None:
    credentials = Credentials.new()
    message = UnixCredentialsMessage.new_with_credentials(credentials)
    assert message.get_credentials() is credentials
    assert message.props.credentials is credentials
    assert message.get_property("credentials") is credentials
    with pytest.raises(TypeError, match=r"^credentials "):
        UnixCredentialsMessage.new_with_credentials(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^credentials "):
        UnixCredentialsMessage("me")  # type: ignore[arg-type]


@given(pid=st.integers(1, 2**31 - 1), uid=st.integers(0, 2**32 - 2), gid=st.integers(0, 2**32 - 2))
def test_credentials_message_round_trips(pid: int, uid: int, gid: int) -> None:
    data = UCRED.pack(pid, uid, gid)
    message = SocketControlMessage.deserialize(SOL, CREDS, data)
    assert isinstance(message, UnixCredentialsMessage)
    assert message.get_credentials().to_string() == f"GCredentials:linux-ucred:pid={pid},uid={uid},gid={gid}"
    assert serialize_control_messages([message]) == [(SOL, CREDS, data)]


@pytest.mark.parametrize(
    ("ucred", "expected"),
    [
        ((5, 0xFFFFFFFF, 8), None),  # uid -1: the peer passed nothing (GLib drops it)
        ((0, 7, 8), None),  # pid 0 and gid -1 make GLib's get_unix_user() fail too
        ((5, 7, 0xFFFFFFFF), None),
        ((-1, 7, 8), "GCredentials:linux-ucred:uid=7,gid=8"),
        ((5, 0, 0), "GCredentials:linux-ucred:pid=5,uid=0,gid=0"),
    ],
)
def test_credentials_message_drops_invalid_peers(ucred: tuple[int, int, int], expected: str | None) -> None:
    message = SocketControlMessage.deserialize(SOL, CREDS, UCRED.pack(*ucred))
    if expected is None:
        assert message is None
    else:
        assert isinstance(message, UnixCredentialsMessage)
        assert message.get_credentials().to_string() == expected


@pytest.mark.parametrize("size", [0, 11, 13, 24])
def test_credentials_message_needs_exactly_12_bytes(size: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gsocklab.core._control"):
        assert SocketControlMessage.deserialize(SOL, CREDS, b"\x01" * size) is None
    assert f"Expected a credentials struct of 12 bytes but got {size} bytes of data" in caplog.text


# --------------------------------------------------------------------------------------------
# Part 1d: SocketControlMessage, the registry and application subclasses
# --------------------------------------------------------------------------------------------


def test_socket_control_message_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        SocketControlMessage()

    class Partial(SocketControlMessage):
        pass

    partial = Partial()
    for method in (partial.get_level, partial.get_msg_type, partial.serialize, partial.get_size):
        with pytest.raises(NotImplementedError, match="Partial must implement"):
            method()
    assert repr(partial).endswith("(incomplete)>")


def test_get_size_defaults_to_the_serialized_length() -> None:
    class Blob(SocketControlMessage):
        def get_level(self) -> int:
            return 41

        def get_msg_type(self) -> int:
            return 67

        def serialize(self) -> bytes:
            return b"abc"

    assert Blob().get_size() == 3
    assert repr(Blob()).endswith("level=41 type=67 size=3>")
    assert serialize_control_messages([Blob()]) == [(41, 67, b"abc")]
    assert SocketControlMessage.deserialize(41, 67, b"abc") is None  # no _deserialize: not registered


@pytest.mark.parametrize(
    ("level", "msg_type", "data", "match"),
    [
        ("1", RIGHTS, b"", "^level "),
        (SOL, None, b"", "^type "),
        (SOL, True, b"", "^type "),
        (SOL, RIGHTS, "abcd", "^data "),
        (SOL, RIGHTS, [1, 2, 300], "^data "),
        (SOL, RIGHTS, None, "^data "),
    ],
)
def test_deserialize_wrong_types_name_the_parameter(level: Any, msg_type: Any, data: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        SocketControlMessage.deserialize(level, msg_type, data)


@pytest.mark.parametrize("data", [bytearray(12), memoryview(bytes(12)), [0] * 12, array.array("i", [0, 0, 0])])
def test_deserialize_accepts_any_bytes_like_data(data: Any) -> None:
    assert SocketControlMessage.deserialize(SOL, CREDS, data) is None  # pid 0: dropped, but parsed


def test_unknown_and_empty_messages() -> None:
    assert SocketControlMessage.deserialize(SOL, 99, b"abcd") is None
    assert SocketControlMessage.deserialize(socket.IPPROTO_IP, RIGHTS, b"abcd") is None
    empty = SocketControlMessage.deserialize(SOL, RIGHTS, b"")
    assert isinstance(empty, UnixFDMessage)
    assert empty.get_fd_list().get_length() == 0


def test_deserialize_consults_every_class_whatever_it_is_called_on() -> None:
    message = UnixCredentialsMessage.deserialize(SOL, RIGHTS, b"")
    assert type(message) is UnixFDMessage


def test_application_subclass_is_preferred_over_the_builtin() -> None:
    """§6.1 row 32 (/socket/control-message/custom), GLib >= 2.87.3 order (2.74 differs, §5.8)."""
    with pipe() as (r, w), app_type(make_app_message()) as app:
        message = SocketControlMessage.deserialize(SOL, RIGHTS, ints([r, w]))
        assert type(message) is app
        assert message.fds == (r, w)  # type: ignore[attr-defined]
        three = inheritable_dups(w, 3)  # the app declines 12 bytes: the built-in takes them
        builtin = SocketControlMessage.deserialize(SOL, RIGHTS, ints(three))
        assert type(builtin) is UnixFDMessage
        builtin.get_fd_list().close()
    again = SocketControlMessage.deserialize(SOL, RIGHTS, b"")
    assert type(again) is UnixFDMessage  # unregistered


def test_application_subclasses_are_asked_in_definition_order() -> None:
    def claiming(tag: str) -> type[SocketControlMessage]:
        class Claim(SocketControlMessage):
            def __init__(self) -> None:
                self.tag = tag

            @classmethod
            def _deserialize(cls, level: int, type: int, data: bytes) -> Claim | None:
                return cls() if (level, type) == (7, 7) else None

        return Claim

    with app_type(claiming("first")), app_type(claiming("second")):
        message = SocketControlMessage.deserialize(7, 7, b"")
        assert message.tag == "first"  # type: ignore[union-attr]


def test_subclass_without_its_own_parser_is_not_asked() -> None:
    class Quiet(UnixFDMessage):
        pass

    message = SocketControlMessage.deserialize(SOL, RIGHTS, b"")
    assert type(message) is UnixFDMessage
    assert Quiet().get_msg_type() == RIGHTS


def test_parser_must_be_a_classmethod() -> None:
    with pytest.raises(TypeError, match="_deserialize must be a classmethod"):

        class Wrong(SocketControlMessage):
            def _deserialize(self, level: int, type: int, data: bytes) -> None:  # type: ignore[override]
                return None


def test_a_raising_or_misbehaving_parser_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(SocketControlMessage):
        @classmethod
        def _deserialize(cls, level: int, type: int, data: bytes) -> Broken | None:
            raise RuntimeError("parser bug")

    class Liar(SocketControlMessage):
        @classmethod
        def _deserialize(cls, level: int, type: int, data: bytes) -> Liar | None:
            return "not a message"  # type: ignore[return-value]

    with pipe() as (_, w), app_type(Broken), app_type(Liar), caplog.at_level(logging.ERROR):
        [fd] = inheritable_dups(w, 1)
        message = SocketControlMessage.deserialize(SOL, RIGHTS, ints([fd]))
        assert isinstance(message, UnixFDMessage)
        assert message.get_fd_list().peek_fds() == [fd]
        message.get_fd_list().close()
    assert "Broken._deserialize(1, 1, <4 bytes>) raised" in caplog.text
    assert "Liar._deserialize returned a str, not a Gio.SocketControlMessage" in caplog.text


# --------------------------------------------------------------------------------------------
# Part 1e: the socket layer's helpers
# --------------------------------------------------------------------------------------------


def test_serialize_control_messages() -> None:
    creds = UnixCredentialsMessage.new()
    with pipe() as (_, w):
        fds = UnixFDMessage.new()
        fds.append_fd(w)
        assert serialize_control_messages(None) == serialize_control_messages([]) == []
        assert serialize_control_messages((creds, fds)) == [
            (SOL, CREDS, creds.serialize()), (SOL, RIGHTS, ints(fds.get_fd_list().peek_fds()))
        ]
        fds.get_fd_list().close()


def test_serialize_control_messages_checks_its_input() -> None:
    with pytest.raises(TypeError, match=r"^messages\[1\] must be a Gio.SocketControlMessage, not int"):
        serialize_control_messages([UnixFDMessage.new(), 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^messages must be a list"):
        serialize_control_messages(UnixFDMessage.new())  # type: ignore[arg-type]

    class Sloppy(SocketControlMessage):
        def get_level(self) -> int:
            return 1

        def get_msg_type(self) -> int:
            return 99

        def get_size(self) -> int:
            return 4

        def serialize(self) -> bytes:
            return b"toolong"

    with pytest.raises(GLib.Error, match=r"messages\[0\] \(.*Sloppy\): serialize\(\) returned 7 bytes") as info:
        serialize_control_messages([Sloppy()])
    assert info.value.code == E.INVALID_ARGUMENT

    class BadLevel(Sloppy):
        def get_level(self) -> int:
            return "SOL_SOCKET"  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"^messages\[0\]\.get_level\(\) must be an int"):
        serialize_control_messages([BadLevel()])


def test_deserialize_ancdata_keeps_order_drops_unknown_and_closes_dropped_fds() -> None:
    with pipe() as (_, w):
        kept = inheritable_dups(w, 2)
        truncated = inheritable_dups(w, 2)
        ancdata = [
            (SOL, CREDS, UCRED.pack(os.getpid(), os.getuid(), os.getgid())),
            (SOL, 99, b"unknown"),
            (SOL, RIGHTS, ints(truncated)[:-1]),  # the second descriptor cut short
            (SOL, RIGHTS, ints(kept)),
            (SOL, CREDS, UCRED.pack(0, 0xFFFFFFFF, 0xFFFFFFFF)),  # a peer that sent nothing
        ]
        messages = deserialize_ancdata(ancdata)
        assert [type(m) for m in messages] == [UnixCredentialsMessage, UnixFDMessage]
        assert messages[1].get_fd_list().peek_fds() == kept  # type: ignore[attr-defined]
        assert not is_open(truncated[0])
        assert is_open(truncated[1])  # its number was cut short: it was never received as a whole
        os.close(truncated[1])
        messages[1].get_fd_list().close()  # type: ignore[attr-defined]


def test_deserialize_ancdata_closes_what_is_left_if_interrupted() -> None:
    class Interrupting(SocketControlMessage):
        @classmethod
        def _deserialize(cls, level: int, type: int, data: bytes) -> Interrupting | None:
            if level == 77:
                raise KeyboardInterrupt
            return None

    with pipe() as (_, w), app_type(Interrupting):
        first, later = inheritable_dups(w, 1), inheritable_dups(w, 2)
        ancdata = [(SOL, RIGHTS, ints(first)), (77, 0, b""), (SOL, RIGHTS, ints(later))]
        with pytest.raises(KeyboardInterrupt):
            deserialize_ancdata(ancdata)
        gc.collect()  # the message built for `first` is garbage now: its list closes it
        assert not any(is_open(fd) for fd in first + later)


def test_close_fds_in_ancdata() -> None:
    with pipe() as (_, w):
        fds = inheritable_dups(w, 3)
        gone = os.dup(w)
        os.close(gone)
        ancdata = [(SOL, CREDS, bytes(12)), (SOL, RIGHTS, ints(fds[:2])), (SOL, RIGHTS, ints([fds[2], gone]) + b"\0")]
        assert close_fds_in_ancdata(ancdata) == 3  # `gone` was not open, the partial int is ignored
        assert not any(is_open(fd) for fd in fds)
        assert close_fds_in_ancdata([]) == 0


def test_no_descriptor_leaks_in_1000_iterations() -> None:
    with pipe() as (r, w):
        before = fd_count()
        for i in range(1000):
            fd_list = UnixFDList.new()
            fd_list.append(r)
            fd_list.append_take(os.dup(w))
            os.close(fd_list.get(1))
            message = UnixFDMessage.new_with_fd_list(fd_list)
            message.append_fd(w)
            wire = serialize_control_messages([message, UnixCredentialsMessage.new()])
            incoming = inheritable_dups(w, 1 + i % 3)
            received = deserialize_ancdata([
                (SOL, RIGHTS, ints(incoming)),
                (SOL, RIGHTS, ints(inheritable_dups(w, 2)) + b"\0\0"),
                wire[1],
            ])
            assert len(received) == 2
            if i % 2:
                close_quietly(*received[0].steal_fds())  # type: ignore[attr-defined]
            del fd_list, message, received
        assert fd_count() == before


# --------------------------------------------------------------------------------------------
# Part 2: real descriptor and credential passing over a socketpair
# --------------------------------------------------------------------------------------------


def test_three_descriptors_pass_over_a_socketpair(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    """§6.1 rows 16 and 36, §6.2 item 79: send three descriptors, use the received ones."""
    a, b = stdlib_pair
    with pipe() as (r1, w1), pipe() as (r2, w2), pipe() as (r3, w3):
        before = fd_count()
        message = UnixFDMessage.new()
        for fd in (w1, w2, w3):
            message.append_fd(fd)
        assert a.sendmsg([b"Z"], serialize_control_messages([message])) == 1
        message.get_fd_list().close()
        data, ancdata, flags, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE, socket.MSG_CMSG_CLOEXEC)
        assert data == b"Z"
        assert not flags & socket.MSG_CTRUNC
        [received] = deserialize_ancdata(ancdata)
        assert isinstance(received, UnixFDMessage)
        assert received.get_fd_list().get_length() == 3
        fds = received.steal_fds()
        try:
            assert all(cloexec(fd) for fd in fds)
            for fd, (r, payload) in zip(fds, [(r1, b"one"), (r2, b"two" * 20), (r3, b"x" * 53)]):
                assert os.write(fd, payload) == len(payload)
                assert os.read(r, 4096) == payload
        finally:
            close_quietly(*fds)
        assert fd_count() == before


def test_received_descriptors_get_cloexec_without_msg_cmsg_cloexec(
    stdlib_pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = stdlib_pair
    with pipe() as (r, w):
        a.sendmsg([b"\0"], [(SOL, RIGHTS, ints([w]))])
        _, ancdata, _, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE)  # no MSG_CMSG_CLOEXEC: inheritable
        assert not cloexec(array.array("i", ancdata[0][2])[0])
        [message] = deserialize_ancdata(ancdata)
        [fd] = message.steal_fds()  # type: ignore[attr-defined]
        assert cloexec(fd)
        os.write(fd, b"ok")
        os.close(fd)
        assert os.read(r, 10) == b"ok"


def test_application_message_passes_over_a_socketpair(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    """§6.1 row 32: the receiver gets the application's type back (GLib >= 2.87.3)."""
    a, b = stdlib_pair
    with pipe() as (r, w), app_type(make_app_message()) as app:
        assert a.sendmsg([b"\xff"], serialize_control_messages([app((r, w))])) == 1
        data, ancdata, _, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE, socket.MSG_CMSG_CLOEXEC)
        [message] = deserialize_ancdata(ancdata)
        assert data == b"\xff"
        assert type(message) is app
        close_quietly(*message.fds)  # type: ignore[attr-defined]  # the application owns them


def test_control_buffer_too_small_leaks_nothing(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    """The kernel closes what does not fit (MSG_CTRUNC); we own exactly what arrived."""
    a, b = stdlib_pair
    bufsize = socket.CMSG_SPACE(4)
    room = (bufsize - socket.CMSG_LEN(0)) // 4  # 2 on x86-64: CMSG_SPACE rounds up to 8 bytes
    with pipe() as (_, w):
        before = fd_count()
        a.sendmsg([b"1"], [(SOL, RIGHTS, ints([w] * (room + 2)))])
        a.sendmsg([b"2"], [(SOL, RIGHTS, ints([w, w, w]))])
        data, ancdata, flags, _ = b.recvmsg(1, bufsize, socket.MSG_CMSG_CLOEXEC)
        assert data == b"1"
        assert flags & socket.MSG_CTRUNC
        messages = deserialize_ancdata(ancdata)
        assert sum(m.get_fd_list().get_length() for m in messages) == room  # type: ignore[attr-defined]
        assert fd_count() == before + room
        del messages
        data, ancdata, flags, _ = b.recvmsg(1, 0)  # no control buffer at all
        assert data == b"2"
        assert flags & socket.MSG_CTRUNC
        assert ancdata == []
        assert fd_count() == before


def test_unwanted_control_data_is_closed(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = stdlib_pair
    with pipe() as (_, w):
        before = fd_count()
        a.sendmsg([b"x"], [(SOL, RIGHTS, ints([w, w]))])
        _, ancdata, _, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE, socket.MSG_CMSG_CLOEXEC)
        assert fd_count() == before + 2
        assert close_fds_in_ancdata(ancdata) == 2
        assert fd_count() == before


def test_credentials_pass_over_a_socketpair(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    """§6.2 item 80, appendix A.13: with SO_PASSCRED every message carries credentials."""
    a, b = stdlib_pair
    b.setsockopt(SOL, socket.SO_PASSCRED, 1)
    mine = f"GCredentials:linux-ucred:pid={os.getpid()},uid={os.geteuid()},gid={os.getegid()}"
    a.sendmsg([b"c"], serialize_control_messages([UnixCredentialsMessage.new()]))
    a.sendmsg([b"p"])  # a plain send: the kernel attaches the sender's credentials anyway
    for expected in (b"c", b"p"):
        data, ancdata, _, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE, socket.MSG_CMSG_CLOEXEC)
        [message] = deserialize_ancdata(ancdata)
        assert data == expected
        assert isinstance(message, UnixCredentialsMessage)
        assert message.get_credentials().to_string() == mine
        assert message.get_credentials().is_same_user(Credentials.new())


def test_credentials_and_descriptors_together(stdlib_pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = stdlib_pair
    b.setsockopt(SOL, socket.SO_PASSCRED, 1)
    with pipe() as (r, w):
        fd_message = UnixFDMessage.new()
        fd_message.append_fd(w)
        a.sendmsg([b"2"], serialize_control_messages([UnixCredentialsMessage.new(), fd_message]))
        fd_message.get_fd_list().close()
        _, ancdata, _, _ = b.recvmsg(1, CONTROL_BUFFER_SIZE, socket.MSG_CMSG_CLOEXEC)
        messages = deserialize_ancdata(ancdata)
        assert sorted(type(m).__name__ for m in messages) == ["UnixCredentialsMessage", "UnixFDMessage"]
        [fd_back] = next(m for m in messages if isinstance(m, UnixFDMessage)).steal_fds()
        os.write(fd_back, b"both")
        os.close(fd_back)
        assert os.read(r, 10) == b"both"


# --------------------------------------------------------------------------------------------
# Part 3: the oracle (what PyGObject can express)
# --------------------------------------------------------------------------------------------

_EXPORTS = ("SocketControlMessage", "UnixCredentialsMessage", "UnixFDList", "UnixFDMessage")


@pytest.fixture
def gio_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Expose this module's classes as ``Gio.<Name>`` for scenarios, if `gsocklab.Gio` does not yet."""
    import gsocklab.core._control as control

    for name in _EXPORTS:
        if not hasattr(gsocklab.Gio, name):
            monkeypatch.setattr(gsocklab.Gio, name, getattr(control, name), raising=False)


SCENARIO_PRELUDE = r'''
import fcntl, struct
def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
def cloexec(fd):
    return bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
'''


@pytest.mark.oracle
@pytest.mark.usefixtures("gio_exports")
def test_oracle_fd_list_on_pipes() -> None:
    compare(SCENARIO_PRELUDE + r'''
r, w = os.pipe()
l = Gio.UnixFDList.new()
out["append"] = [l.append(r), l.append(w), l.get_length()]
held = l.peek_fds()
out["dups"] = [len(held), held[0] not in (r, w), held[1] not in (r, w), [cloexec(fd) for fd in held]]
g = l.get(1)
out["get"] = [g not in held and g not in (r, w), cloexec(g)]
os.close(g)
out["still_held"] = [is_open(fd) for fd in l.peek_fds()]
out["bad_append"] = err(l.append, 987)
stolen = l.steal_fds()
out["steal"] = [stolen == held, l.get_length(), l.peek_fds()]
for fd in stolen:
    os.close(fd)
a, b = os.dup(r), os.dup(w)
l2 = Gio.UnixFDList.new_from_array([a, b])
out["from_array"] = [l2.get_length(), l2.peek_fds() == [a, b]]
if IS_GLIB:
    out["get_out_of_range_critical"] = l2.get(5)  # CRITICAL + -1
else:
    out["get_out_of_range_error"] = err(l2.get, 5)[:2]
del l2
import gc; gc.collect()
out["closed_with_list"] = [is_open(a), is_open(b)]
os.close(r); os.close(w)
''', glib_only={"get_out_of_range_critical": -1},
       gsocklab_only={"get_out_of_range_error": ["error", "INVALID_ARGUMENT"]})


@pytest.mark.oracle
@pytest.mark.usefixtures("gio_exports")
def test_oracle_fd_message_on_pipes() -> None:
    compare(SCENARIO_PRELUDE + r'''
r, w = os.pipe()
l = Gio.UnixFDList.new()
m = Gio.UnixFDMessage.new_with_fd_list(l)
out["shared"] = [m.get_fd_list() is l, m.props.fd_list is l]
out["empty"] = [m.get_size(), m.get_level(), m.get_msg_type()]
out["append_fd"] = [m.append_fd(r), m.append_fd(w), l.get_length(), m.get_size()]
out["bad_append_fd"] = err(m.append_fd, 987)
stolen = m.steal_fds()
out["steal"] = [len(stolen), l.get_length(), m.get_size(), [cloexec(fd) for fd in stolen]]
for fd in stolen:
    os.close(fd)
out["new"] = [type(Gio.UnixFDMessage.new().get_fd_list()).__name__, Gio.UnixFDMessage.new().get_size()]
os.close(r); os.close(w)
''')


@pytest.mark.oracle
@pytest.mark.usefixtures("gio_exports")
def test_oracle_credentials_message() -> None:
    compare(r'''
m = Gio.UnixCredentialsMessage.new()
c = m.get_credentials()
out["shape"] = [m.get_size(), m.get_level(), m.get_msg_type(), Gio.UnixCredentialsMessage.is_supported()]
out["mine"] = c.to_string() == "GCredentials:linux-ucred:pid=%d,uid=%d,gid=%d" % (
    os.getpid(), os.geteuid(), os.getegid())
out["same_user"] = c.is_same_user(Gio.Credentials.new())
out["prop"] = m.props.credentials is c
c2 = Gio.Credentials.new()
out["shared"] = Gio.UnixCredentialsMessage.new_with_credentials(c2).get_credentials() is c2
''')


@pytest.mark.oracle
@pytest.mark.usefixtures("gio_exports")
def test_oracle_deserialize() -> None:
    """``SocketControlMessage.deserialize`` on the same inputs; only the leak of a bad payload differs."""
    compare(SCENARIO_PRELUDE + r'''
def kind(m):
    return None if m is None else type(m).__name__
D = Gio.SocketControlMessage.deserialize
for name, t in [("pid0", (0, 7, 8)), ("uid-1", (5, 0xFFFFFFFF, 8)), ("gid-1", (5, 7, 0xFFFFFFFF)),
                ("pid-1", (-1, 7, 8)), ("ok", (5, 0, 0))]:
    m = D(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("iII", *t))
    out["creds_" + name] = [kind(m), m and m.get_credentials().to_string()]
out["creds_13_bytes"] = kind(D(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, bytes(13)))
out["unknown"] = kind(D(socket.SOL_SOCKET, 99, b"abcd"))
out["other_level"] = kind(D(0, socket.SCM_RIGHTS, b"abcd"))
e = D(socket.SOL_SOCKET, socket.SCM_RIGHTS, b"")
out["empty_rights"] = [kind(e), e.get_fd_list().get_length()]
r, w = os.pipe()
fds = [os.dup(w), os.dup(w)]
for fd in fds:
    os.set_inheritable(fd, True)
m = D(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("ii", *fds))
out["rights"] = [kind(m), m.get_fd_list().peek_fds() == fds, [cloexec(fd) for fd in fds], m.get_size()]
bad = os.dup(w)
out["rights_truncated"] = kind(D(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", bad) + b"\0\0"))
if IS_GLIB:
    out["truncated_fd_leaked"] = is_open(bad)  # GLib warns and leaks the descriptor
else:
    out["truncated_fd_closed"] = not is_open(bad)  # gsocklab closes it
if is_open(bad):
    os.close(bad)
m.get_fd_list().steal_fds()
for fd in fds + [r, w]:
    os.close(fd)
''', glib_only={"truncated_fd_leaked": True}, gsocklab_only={"truncated_fd_closed": True})
