"""Run a scenario through real GLib: ``/usr/bin/python3`` with PyGObject, in a subprocess.

A scenario is Python source that uses ``Gio``/``GLib`` exactly as gsocklab code does and
stores its observations in the dict ``out``. `run_glib` runs it under PyGObject and returns
``out`` (JSON round-tripped); `run_gsocklab` runs the *same source* in this process with
``from gsocklab import Gio, GLib``. Conformance tests compare the two, usually through
`compare`, which also normalises ephemeral port numbers and states where GLib 2.74 (the
oracle) and GLib HEAD (gsocklab's target) are known to differ.

Helpers available to scenarios in both worlds:

* ``IS_GLIB``: ``True`` under PyGObject, ``False`` under gsocklab, for the few places where a
  scenario must avoid PyGObject's broken ``receive*`` (reference §7.1);
* ``err(fn, *args)``: ``["ok", value]``, ``["error", CODE_NAME, message]`` for a ``GLib.Error``,
  or ``["raised", ExceptionType, text]`` for any other exception; ``raises(fn, *args)``: whether
  ``fn`` raised a ``GLib.Error`` with a message (for gsocklab's raising preconditions);
* ``recv_bytes(sock, n, cancellable)``: one safe receive, ``(count, data, address)``: GLib via
  ``receive_message`` and a ctypes buffer (appendix A.0), gsocklab via ``receive_from`` — the
  same ``g_socket_receive_message`` path, so the same error prefixes;
* ``lo4(port)``/``lo6(port)``/``any4(port)``/``any6(port)`` addresses, ``closed_port(v6=False)``
  (bind + close a stdlib socket), ``new(family, type, protocol)`` and ``keep(sock)`` (sockets the
  harness closes afterwards), ``tcp_pair(family)`` / ``udp_pair(family)`` as in appendix A.0,
  ``timed(fn, *args)`` -> ``(err(...), seconds)``, ``fam(address)``, ``IN``/``OUT``/``PRI``/``ERR``/``HUP``;
* ``plain(v)``: observations as JSON values (enums by name, flags as ints, addresses via
  ``to_string()``, bytes as hex, other objects as ``"<TypeName>"``).

The oracle is optional on a developer machine (tests skip) and required in CI
(``GSOCKLAB_REQUIRE_ORACLE=1``: a missing oracle fails).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

ORACLE_PYTHON = "/usr/bin/python3"

PRELUDE = textwrap.dedent(
    '''
    import json, os, socket, sys, time, threading, errno
    F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
    IN, PRI, OUT = GLib.IOCondition.IN, GLib.IOCondition.PRI, GLib.IOCondition.OUT
    ERR, HUP = GLib.IOCondition.ERR, GLib.IOCondition.HUP
    def _code_name(e):
        try:
            return Gio.IOErrorEnum(e.code).value_nick.upper().replace("-", "_")
        except Exception:
            pass
        try:
            return Gio.IOErrorEnum(e.code).name
        except Exception:
            return str(e.code)
    def err(fn, *a, **kw):
        try:
            return ["ok", fn(*a, **kw)]
        except GLib.Error as e:
            return ["error", _code_name(e), e.message]
        except Exception as e:
            return ["raised", type(e).__name__, str(e)]
    def raises(fn, *a):
        """True if fn raised a GLib.Error with a non-empty message (gsocklab's precondition errors)."""
        try:
            fn(*a)
        except GLib.Error as e:
            return bool(e.message) and e.domain == Gio.io_error_quark()
        except Exception as e:
            return type(e).__name__
        return False
    _made = []
    def keep(x):
        """Remember a socket so that the harness closes it after the scenario."""
        _made.append(x)
        return x
    def new(family, type_, protocol=None):
        protocol = Gio.SocketProtocol.DEFAULT if protocol is None else protocol
        return keep(Gio.Socket.new(family, type_, protocol))
    def _cleanup():
        for s in _made:
            try:
                if not s.is_closed():
                    s.close()
            except Exception:
                try:  # an un-initialised socket cannot be closed before init()
                    s.init(None)
                    s.close()
                except Exception:
                    pass
    def lo4(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), port)
    def lo6(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV6), port)
    def any4(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_any(Gio.SocketFamily.IPV4), port)
    def any6(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_any(Gio.SocketFamily.IPV6), port)
    def closed_port(v6=False):
        """A loopback port nobody listens on: bind a stdlib socket, read its port, close it."""
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("::1" if v6 else "127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port
    def tcp_pair(family=None):
        """(listener, client, server) connected over loopback; all three with timeout 5 s."""
        family = Gio.SocketFamily.IPV4 if family is None else family
        L = new(family, Gio.SocketType.STREAM)
        L.bind(lo4() if family == Gio.SocketFamily.IPV4 else lo6(), True)
        L.listen()
        C = new(family, Gio.SocketType.STREAM)
        C.set_timeout(5)
        C.connect(L.get_local_address(), None)
        L.set_timeout(5)
        S = keep(L.accept(None))
        S.set_timeout(5)
        return L, C, S
    def udp_pair(family=None):
        """Two datagram sockets bound to loopback, timeout 5 s."""
        family = Gio.SocketFamily.IPV4 if family is None else family
        A = new(family, Gio.SocketType.DATAGRAM)
        B = new(family, Gio.SocketType.DATAGRAM)
        lo = lo4 if family == Gio.SocketFamily.IPV4 else lo6
        A.bind(lo(), True)
        B.bind(lo(), True)
        A.set_timeout(5)
        B.set_timeout(5)
        return A, B
    def timed(fn, *a):
        t0 = time.monotonic()
        r = err(fn, *a)
        return r, time.monotonic() - t0
    def fam(a):
        return None if a is None else plain(a.get_family())
    def plain(v):
        """Observations as JSON-able values: enums by name, flags as ints, addresses as strings."""
        import enum
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if hasattr(v, "value_names") or isinstance(v, enum.IntFlag):  # GFlags / IntFlag
            return int(v)
        if hasattr(v, "value_nick"):  # GEnum
            return v.value_nick.upper().replace("-", "_")
        if isinstance(v, enum.Enum):
            return v.name
        if isinstance(v, (bytes, bytearray, memoryview)):
            return bytes(v).hex()
        if isinstance(v, (int, float, str)):
            return v
        if hasattr(v, "to_string") and hasattr(v, "get_family"):  # socket addresses
            return v.to_string()
        return "<%s>" % type(v).__name__
    out = {}
    '''
)

GLIB_PRELUDE = textwrap.dedent(
    '''
    import ctypes
    IS_GLIB = True
    def recv_bytes(sock, n=65536, cancellable=None):
        """Safe receive via receive_message + ctypes (PyGObject's receive() is broken, §7.1)."""
        buf = ctypes.create_string_buffer(max(n, 1))
        v = Gio.InputVector()
        v.buffer = ctypes.addressof(buf)
        v.size = n
        r = sock.receive_message([v], 0, cancellable)
        return r[0], buf.raw[:max(r[0], 0)], r.address
    '''
)

GSOCKLAB_PRELUDE = textwrap.dedent(
    '''
    IS_GLIB = False
    def recv_bytes(sock, n=65536, cancellable=None):
        count, address, data = sock.receive_from(cancellable, n)
        return count, bytes(data), address
    '''
)

GI_HEADER = (
    "import gi, warnings\nwarnings.simplefilter('ignore')\n"
    "gi.require_version('Gio', '2.0')\nfrom gi.repository import Gio, GLib\n"
)
FOOTER = "\n_cleanup()\nprint('\\n@@OUT@@' + json.dumps({k: plain(v) for k, v in out.items()}))\n"


@functools.cache
def oracle_available() -> bool:
    """Whether ``/usr/bin/python3`` can import PyGObject's Gio."""
    if not os.path.exists(ORACLE_PYTHON):
        return False
    probe = subprocess.run(
        [ORACLE_PYTHON, "-c", GI_HEADER], capture_output=True, timeout=30, check=False
    )
    return probe.returncode == 0


def require_oracle() -> None:
    """Skip the calling test without the oracle, or fail in CI where it is required."""
    if oracle_available():
        return
    if os.environ.get("GSOCKLAB_REQUIRE_ORACLE") == "1":
        pytest.fail("the GLib oracle (/usr/bin/python3 with PyGObject) is required but missing")
    pytest.skip("GLib oracle (/usr/bin/python3 with PyGObject) not available")


def run_glib(source: str, timeout: float = 30.0) -> dict[str, Any]:
    """Run ``source`` under real GLib and return its ``out`` dict."""
    require_oracle()
    script = GI_HEADER + PRELUDE + GLIB_PRELUDE + textwrap.dedent(source) + FOOTER
    proc = subprocess.run(
        [ORACLE_PYTHON, "-c", script], capture_output=True, text=True, timeout=timeout, check=False
    )
    marker = proc.stdout.rfind("@@OUT@@")
    if proc.returncode != 0 or marker < 0:
        raise AssertionError(
            f"oracle scenario failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}"
        )
    result: dict[str, Any] = json.loads(proc.stdout[marker + len("@@OUT@@"):])
    return result


# GSOCKLAB_ORACLE_SELFCHECK=1 runs the "gsocklab" side through the oracle too: it checks that the
# scenarios themselves are deterministic and well normalised, without gsocklab. GLib-HEAD
# expectations (`compare`'s ``head``) are then not checked on that side.
SELFCHECK = os.environ.get("GSOCKLAB_ORACLE_SELFCHECK") == "1"


def run_gsocklab(source: str) -> dict[str, Any]:
    """Run ``source`` in this process against gsocklab and return its ``out`` dict."""
    if SELFCHECK:
        return run_glib(source)
    script = "from gsocklab import Gio, GLib\n" + PRELUDE + GSOCKLAB_PRELUDE + textwrap.dedent(source)
    namespace: dict[str, Any] = {"__name__": "gsocklab_scenario"}
    try:
        exec(compile(script, "<scenario>", "exec"), namespace)
    finally:
        cleanup = namespace.get("_cleanup")
        if cleanup is not None:
            cleanup()
    out = namespace["out"]
    plain = namespace["plain"]
    result: dict[str, Any] = json.loads(json.dumps({k: plain(v) for k, v in out.items()}))
    return result


def run_gsocklab_only(source: str) -> dict[str, Any]:
    """`run_gsocklab` for GLib-HEAD-only behaviour that the 2.74 oracle cannot show."""
    if SELFCHECK:
        pytest.skip("GLib HEAD behaviour: nothing to self-check against the 2.74 oracle")
    return run_gsocklab(source)


def run_both(source: str, timeout: float = 30.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(glib, gsocklab)`` observations of the same scenario."""
    return run_glib(source, timeout), run_gsocklab(source)


def with_params(source: str, **params: Any) -> str:
    """``source`` (dedented) preceded by ``NAME = repr(value)`` lines, one per parameter."""
    return "".join(f"{k} = {v!r}\n" for k, v in params.items()) + textwrap.dedent(source)


# An ephemeral port after an IPv4 address or a bracketed IPv6 address: "127.0.0.1:40273",
# "[::1]:39727". Port 0 is kept: it is meaningful ("Error binding to address 127.0.0.1:0: …").
_PORT = re.compile(r"(?<=[0-9\]]):[1-9][0-9]{0,4}\b")


def normalise(value: Any) -> Any:
    """``value`` with every non-zero port in address strings replaced by ``:PORT``."""
    if isinstance(value, str):
        return _PORT.sub(":PORT", value)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def compare(
    source: str,
    head: Mapping[str, tuple[Any, Any]] | None = None,
    *,
    glib_only: Mapping[str, Any] | None = None,
    gsocklab_only: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``source`` in both worlds and assert equal (port-normalised) observations.

    ``head`` maps an observation key to ``(glib_2_74_value, glib_head_value)`` for the places
    where the oracle (2.74) and gsocklab's target (HEAD, reference §0.1) legitimately differ:
    the oracle must show the first value, gsocklab the second.
    ``glib_only``/``gsocklab_only`` map keys that a scenario records in one world only
    (``if IS_GLIB:``), e.g. where GLib logs a CRITICAL and returns a value but gsocklab raises,
    to the value expected there. Returns both dicts, with those keys removed.
    """
    glib, mine = run_both(source, timeout)
    glib, mine = normalise(glib), normalise(mine)
    for key, (old, new) in (head or {}).items():
        assert key in glib, f"oracle did not observe {key!r}"
        assert normalise(old) == glib.pop(key), f"oracle (GLib 2.74) {key!r} changed"
        got = mine.pop(key, "<missing>")
        if not SELFCHECK:
            assert normalise(new) == got, f"gsocklab {key!r}: expected GLib HEAD {new!r}"
    for key, expected in (glib_only or {}).items():
        assert normalise(expected) == glib.pop(key, "<missing>"), f"oracle {key!r} changed"
        if SELFCHECK:
            mine.pop(key, None)
        else:
            assert key not in mine
    for key, expected in (gsocklab_only or {}).items():
        got = mine.pop(key, "<missing>")
        if SELFCHECK:
            glib.pop(key, None)
        else:
            assert normalise(expected) == got, f"gsocklab {key!r}"
            assert key not in glib
    assert mine == glib, _diff(glib, mine)
    return glib, mine


def _diff(glib: dict[str, Any], mine: dict[str, Any]) -> str:
    lines = ["observations differ (GLib 2.74 oracle vs gsocklab):"]
    for key in sorted(set(glib) | set(mine)):
        if glib.get(key, "<missing>") != mine.get(key, "<missing>"):
            lines.append(f"  {key}:\n    glib:     {glib.get(key, '<missing>')!r}\n"
                         f"    gsocklab: {mine.get(key, '<missing>')!r}")
    return "\n".join(lines)
