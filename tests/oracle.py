"""Run a scenario through real GLib: ``/usr/bin/python3`` with PyGObject, in a subprocess.

A scenario is Python source that uses ``Gio``/``GLib`` exactly as gsocklab code does and
stores its observations in the dict ``out``. `run_glib` runs it under PyGObject and returns
``out`` (JSON round-tripped); `run_gsocklab` runs the *same source* in this process with
``from gsocklab import Gio, GLib``. Conformance tests compare the two.

Helpers available to scenarios in both worlds: ``err(fn)`` returns ``["ok", value]`` or
``["error", code_name, message]``; ``lo4(port)``/``lo6(port)`` build loopback addresses.

The oracle is optional on a developer machine (tests skip) and required in CI
(``GSOCKLAB_REQUIRE_ORACLE=1``: a missing oracle fails).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import textwrap
from typing import Any

import pytest

ORACLE_PYTHON = "/usr/bin/python3"

PRELUDE = textwrap.dedent(
    '''
    import json, os, socket, sys, time, threading, errno
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
    def lo4(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), port)
    def lo6(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV6), port)
    def plain(v):
        """Observations as JSON-able values: enums by name, flags as ints, addresses as strings."""
        import enum
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if hasattr(v, "value_names") or isinstance(v, enum.IntFlag):  # GFlags / IntFlag
            return int(v)
        if hasattr(v, "value_nick"):  # GEnum
            return v.value_nick.upper().replace("-", "_")
        if isinstance(v, enum.Enum):
            return v.name
        if isinstance(v, (bytes, bytearray)):
            return bytes(v).hex()
        if isinstance(v, (int, float, str)):
            return v
        if hasattr(v, "to_string"):
            return v.to_string()
        return repr(v)
    out = {}
    '''
)

GI_HEADER = (
    "import gi, warnings\nwarnings.simplefilter('ignore')\n"
    "gi.require_version('Gio', '2.0')\nfrom gi.repository import Gio, GLib\n"
)
FOOTER = "\nprint('\\n@@OUT@@' + json.dumps({k: plain(v) for k, v in out.items()}))\n"


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
    script = GI_HEADER + PRELUDE + textwrap.dedent(source) + FOOTER
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


def run_gsocklab(source: str) -> dict[str, Any]:
    """Run ``source`` in this process against gsocklab and return its ``out`` dict."""
    script = "from gsocklab import Gio, GLib\n" + PRELUDE + textwrap.dedent(source)
    namespace: dict[str, Any] = {"__name__": "gsocklab_scenario"}
    exec(compile(script, "<scenario>", "exec"), namespace)
    out = namespace["out"]
    plain = namespace["plain"]
    result: dict[str, Any] = json.loads(json.dumps({k: plain(v) for k, v in out.items()}))
    return result


def run_both(source: str, timeout: float = 30.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(glib, gsocklab)`` observations of the same scenario."""
    return run_glib(source, timeout), run_gsocklab(source)
