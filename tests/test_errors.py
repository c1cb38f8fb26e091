"""``GLib.Error`` and the errno mapping: property tests, the oracle's table, real raised errors.

The errno table is GLib HEAD's ``g_io_error_from_errno`` on Linux (reference §4.2/§4.3). The
oracle (GLib 2.74) must agree everywhere except EDESTADDRREQ (HEAD: DESTINATION_UNSET, 2.74:
FAILED) and EADDRNOTAVAIL (HEAD: CONNECTION_REFUSED, 2.74: FAILED).
"""

from __future__ import annotations

import copy
import errno
import pickle
from typing import Any

import pytest
from conftest import Sockets, loopback
from hypothesis import example, given
from hypothesis import strategies as st
from oracle import run_glib

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
E = Gio.IOErrorEnum
QUARK = "g-io-error-quark"

# §4.3, Linux errno numbers -> GLib HEAD code. Everything else is FAILED.
LINUX_TABLE: dict[int, int] = {
    1: 14, 2: 1, 6: 6, 11: 27, 12: 12, 13: 14, 16: 26, 17: 2, 19: 47, 20: 4, 21: 3, 22: 13,
    23: 31, 24: 31, 26: 26, 28: 12, 30: 21, 31: 11, 32: 44, 36: 9, 38: 15, 39: 5, 40: 11,
    42: 35, 61: 35, 74: 35, 88: 13,
    89: 48,  # EDESTADDRREQ: DESTINATION_UNSET since 2.80 (2.74: FAILED)
    90: 46, 93: 15, 94: 15, 95: 15, 96: 15, 97: 15, 98: 33,
    99: 39,  # EADDRNOTAVAIL: CONNECTION_REFUSED since 2.81 (2.74: FAILED)
    100: 38, 101: 38, 104: 44, 107: 45, 110: 24, 111: 39, 113: 37, 125: 19,
}
HEAD_ONLY = {errno.EDESTADDRREQ: (0, 48), errno.EADDRNOTAVAIL: (0, 39)}  # errno: (2.74, HEAD)


def test_table_uses_this_platforms_errno_numbers() -> None:
    """The table above is written in Linux numbers; check they are this platform's."""
    names = {
        "EPERM": 1, "ENOENT": 2, "EAGAIN": 11, "EPIPE": 32, "ENOTSOCK": 88, "EDESTADDRREQ": 89,
        "EADDRINUSE": 98, "EADDRNOTAVAIL": 99, "ECONNRESET": 104, "ENOTCONN": 107, "ECONNREFUSED": 111,
        "ECANCELED": 125,
    }
    assert {name: getattr(errno, name) for name in names} == names


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
@example(0)
@example(errno.EWOULDBLOCK)
@example(errno.ENOTSUP)
@example(errno.EOPNOTSUPP)
@example(errno.EINTR)
@example(errno.EBADF)
@example(errno.EINPROGRESS)
@example(199)
@example(-1)
def test_io_error_from_errno_matches_the_table(n: int) -> None:
    code = Gio.io_error_from_errno(n)
    assert code == LINUX_TABLE.get(n, 0)
    assert isinstance(code, E)


@pytest.mark.parametrize("n", range(200))
def test_io_error_from_errno_first_200(n: int) -> None:
    assert int(Gio.io_error_from_errno(n)) == LINUX_TABLE.get(n, 0)


@pytest.mark.oracle
def test_io_error_from_errno_agrees_with_the_oracle() -> None:
    """One oracle call for errno 0-133 (§4.3 was verified the same way, E30)."""
    glib = run_glib('out["codes"] = [int(Gio.io_error_from_errno(n)) for n in range(134)]')["codes"]
    ours = [int(Gio.io_error_from_errno(n)) for n in range(134)]
    for n, (old, new) in HEAD_ONLY.items():
        # GLib 2.74 differs: these two mappings changed in 2.80 / 2.81 (§0.1).
        assert (glib[n], ours[n]) == (old, new)
    assert [c for n, c in enumerate(ours) if n not in HEAD_ONLY] == [
        c for n, c in enumerate(glib) if n not in HEAD_ONLY
    ]


def test_io_error_from_errno_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        Gio.io_error_from_errno("11")


def test_enum_values() -> None:
    """§4.1: a few anchors, the alias, and HEAD's DESTINATION_UNSET."""
    assert (E.FAILED, E.CLOSED, E.CANCELLED, E.PENDING, E.TIMED_OUT, E.WOULD_BLOCK) == (0, 18, 19, 20, 24, 27)
    assert (E.NOT_INITIALIZED, E.ADDRESS_IN_USE, E.CONNECTION_REFUSED, E.NOT_CONNECTED) == (32, 33, 39, 45)
    assert E.BROKEN_PIPE == E.CONNECTION_CLOSED == 44
    assert E(44) is E.BROKEN_PIPE
    assert (E.MESSAGE_TOO_LARGE, E.NO_SUCH_DEVICE, E.DESTINATION_UNSET) == (46, 47, 48)
    assert Gio.io_error_quark() == QUARK


# --------------------------------------------------------------------------------------------
# GLib.Error: attributes, subclasses, matches, str, pickling
# --------------------------------------------------------------------------------------------

codes = st.sampled_from(list(E))
messages = st.text(max_size=50)


@given(code=codes, message=messages)
def test_new_literal_attributes(code: E, message: str) -> None:
    e = GLib.Error.new_literal(Gio.io_error_quark(), message, code)
    assert isinstance(e, GLib.Error)
    assert isinstance(e, Exception)
    assert (e.domain, e.code, e.message) == (QUARK, code, message)
    assert e.args == (message,)
    assert str(e) == f"{QUARK}: {message} ({int(code)})"  # PyGObject's format


@given(code=codes, other=codes, message=messages)
def test_matches(code: E, other: E, message: str) -> None:
    e = GLib.Error.new_literal(Gio.io_error_quark(), message, code)
    assert e.matches(Gio.io_error_quark(), other) == (code == other)
    assert e.matches(QUARK, int(code))
    assert not e.matches("g-file-error-quark", code)


SUBCLASSES: dict[E, type[BaseException]] = {
    E.WOULD_BLOCK: BlockingIOError,
    E.TIMED_OUT: TimeoutError,
    E.CONNECTION_REFUSED: ConnectionRefusedError,
    E.BROKEN_PIPE: BrokenPipeError,
}


@given(code=codes, message=messages)
def test_subclass_per_code(code: E, message: str) -> None:
    e = GLib.Error.new_literal(Gio.io_error_quark(), message, code)
    for c, pyclass in SUBCLASSES.items():
        assert isinstance(e, pyclass) == (code == c)


@given(code=codes, message=messages)
def test_pickle_and_copy_round_trip(code: E, message: str) -> None:
    e = GLib.Error.new_literal(Gio.io_error_quark(), message, code)
    for back in (pickle.loads(pickle.dumps(e)), copy.copy(e), copy.deepcopy(e)):
        assert type(back) is type(e)
        assert (back.domain, back.code, back.message, back.args) == (e.domain, e.code, e.message, e.args)
        assert str(back) == str(e)


@given(domain=st.sampled_from(["g-file-error-quark", "my-app-error", "g-io-error-quark"]),
       code=st.integers(0, 1000), message=messages)
def test_plain_constructor_and_pickle_keep_the_domain(domain: str, code: int, message: str) -> None:
    """``GLib.Error(message, domain, code)`` as in PyGObject; pickling keeps all three."""
    e = GLib.Error(message, domain, code)
    assert (e.domain, e.code, e.message) == (domain, code, message)
    assert str(e) == f"{domain}: {message} ({code})"
    back = pickle.loads(pickle.dumps(e))
    assert (back.domain, back.code, back.message) == (domain, code, message)


def test_gerror_alias() -> None:
    assert GLib.GError is GLib.Error


# --------------------------------------------------------------------------------------------
# Errors raised by real calls
# --------------------------------------------------------------------------------------------


def _raised(fn: Any) -> GLib.Error:
    with pytest.raises(GLib.Error) as info:
        fn()
    return info.value


def test_raised_errors_have_the_right_classes(sockets: Sockets, closed_port: int) -> None:
    u = sockets.new(F.IPV4, T.DATAGRAM)
    u.bind(loopback(F.IPV4), True)
    u.set_blocking(False)
    would_block = _raised(lambda: u.receive(None))
    assert isinstance(would_block, BlockingIOError)
    assert would_block.code == E.WOULD_BLOCK
    assert would_block.message == "Resource temporarily unavailable"
    timed_out = _raised(lambda: u.condition_timed_wait(GLib.IOCondition.IN, 1000, None))
    assert isinstance(timed_out, TimeoutError)
    assert timed_out.matches(Gio.io_error_quark(), E.TIMED_OUT)
    refused = _raised(lambda: sockets.new(F.IPV4, T.STREAM).connect(loopback(F.IPV4, closed_port), None))
    assert isinstance(refused, ConnectionRefusedError)
    assert (refused.code, refused.message) == (E.CONNECTION_REFUSED, "Connection refused")
    broken = _raised(lambda: sockets.new(F.IPV4, T.STREAM).send(b"x", None))
    assert isinstance(broken, BrokenPipeError)
    assert broken.matches(Gio.io_error_quark(), E.CONNECTION_CLOSED)
    c = Gio.Cancellable()
    c.cancel()
    cancelled = _raised(lambda: u.condition_wait(GLib.IOCondition.IN, c))
    assert (cancelled.code, cancelled.message) == (E.CANCELLED, "Operation was cancelled")
    assert not isinstance(cancelled, OSError)
    for e in (would_block, timed_out, refused, broken, cancelled):
        back = pickle.loads(pickle.dumps(e))
        assert (type(back), back.code, back.message) == (type(e), e.code, e.message)
        assert e.domain == QUARK


def test_os_errors_keep_their_cause(sockets: Sockets) -> None:
    """An error translated from the OS keeps the OSError as ``__cause__`` (house style C6)."""
    e = _raised(lambda: sockets.new(F.IPV4, T.STREAM).send(b"x", None))
    assert isinstance(e.__cause__, OSError)
    assert e.__cause__.errno == errno.EPIPE


def test_cancellable_set_error_if_cancelled() -> None:
    c = Gio.Cancellable()
    assert c.set_error_if_cancelled() is False
    c.cancel()
    e = _raised(c.set_error_if_cancelled)
    assert (e.domain, e.code, e.message) == (QUARK, E.CANCELLED, "Operation was cancelled")
