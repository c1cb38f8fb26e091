"""Whole PyGObject programs, run unchanged under real PyGObject and under gsocklab.

Each file in ``tests/programs/`` is a small, self-contained program written exactly as PyGObject
code is written, starting with ``from gi.repository import Gio, GLib``. It runs twice, in a
subprocess each time:

* under ``/usr/bin/python3`` (GLib 2.74 / PyGObject, the oracle) as it is;
* under this interpreter with that one line replaced by ``from gsocklab import Gio, GLib`` (the
  rewritten copy lives in ``tmp_path``; ``PYTHONPATH`` points at the repository root).

Both must exit 0 and print the same thing, and that thing must be the fixed ``EXPECTED`` output
below, so that a program printing nothing (or the wrong thing in both worlds) cannot pass. The
PyGObject half skips without the oracle, except under ``GSOCKLAB_REQUIRE_ORACLE=1`` where it fails
(`oracle.require_oracle`). Every program bounds itself (a 10 s ``GLib`` watchdog that exits 1) and
every run has a subprocess timeout as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from oracle import ORACLE_PYTHON, oracle_available, require_oracle

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = Path(__file__).resolve().parent / "programs"
GI_IMPORT = "from gi.repository import Gio, GLib"
GSOCKLAB_IMPORT = "from gsocklab import Gio, GLib"
RUN_TIMEOUT = 30  # seconds per run; the programs take at most ~3.5 s under PyGObject

EXPECTED: dict[str, str] = {
    "tcp_line_echo.py": """\
server: connection from 127.0.0.1
server: got 'hello' (5 bytes)
client: got b'HELLO' (5 bytes)
server: got 'line based echo' (15 bytes)
client: got b'LINE BASED ECHO' (15 bytes)
server: got 'goodbye' (7 bytes)
client: got b'GOODBYE' (7 bytes)
client: done, closing
server: client closed the connection
""",
    "client_read_bytes_async.py": """\
client: connected to 127.0.0.1
client: write_all -> True, sent 40 bytes
client: end of stream after 4337 bytes
server: request line GET /hello HTTP/1.0
client: status HTTP/1.0 200 OK
client: needed at least 5 reads: True
client: no read above 1024 bytes: True
client: body has 200 lines, first 'line 1 of the reply', last 'line 200 of the reply'
client: reply intact: True
""",
    "udp_announce.py": """\
announcer: sent announcement 1 (24 bytes)
listener: heard 'ANNOUNCE printer-3 seq=1' from 127.0.0.1
announcer: sent announcement 2 (24 bytes)
listener: heard 'ANNOUNCE printer-3 seq=2' from 127.0.0.1
announcer: sent announcement 3 (24 bytes)
listener: heard 'ANNOUNCE printer-3 seq=3' from 127.0.0.1
""",
    "unix_dgram_listener.py": """\
listener: datagram 1: 'temperature=21.5' from an unbound socket
listener: datagram 2: 'humidity=40' from sensor.sock
listener: datagram 3: 'pressure=1013' from an unbound socket
listener: socket closed: True
""",
}

NAMES = sorted(EXPECTED)

_oracle_runs: dict[str, subprocess.CompletedProcess[str]] = {}


def test_every_program_has_an_expected_output() -> None:
    assert sorted(p.name for p in PROGRAMS.glob("*.py")) == NAMES


def gsocklab_source(name: str) -> str:
    """The program with its one ``gi`` import replaced by gsocklab's (and no other use of ``gi``)."""
    source = (PROGRAMS / name).read_text()
    lines = source.splitlines(keepends=True)
    imports = [i for i, line in enumerate(lines) if line.rstrip("\n") == GI_IMPORT]
    assert len(imports) == 1, f"{name}: expected exactly one line {GI_IMPORT!r}"
    others = [line for line in lines if line.lstrip().startswith(("import gi", "from gi"))]
    assert others == [GI_IMPORT + "\n"], f"{name}: other gi imports: {others}"
    lines[imports[0]] = GSOCKLAB_IMPORT + "\n"
    return "".join(lines)


def run(python: str, script: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(script)], capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=cwd, env=env, check=False
    )


def run_pygobject(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The program under real PyGObject (one run per program and test session)."""
    if name not in _oracle_runs:
        _oracle_runs[name] = run(ORACLE_PYTHON, PROGRAMS / name, cwd, dict(os.environ))
    return _oracle_runs[name]


def run_gsocklab(name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The program under gsocklab: the rewritten copy in ``tmp_path``, run by this interpreter."""
    script = tmp_path / name
    script.write_text(gsocklab_source(name))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return run(sys.executable, script, tmp_path, env)


def check(world: str, name: str, result: subprocess.CompletedProcess[str]) -> None:
    context = f"{name} under {world}: exit {result.returncode}\nstderr:\n{result.stderr[-4000:]}"
    assert result.returncode == 0, context
    assert result.stdout == EXPECTED[name], context


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_program_under_pygobject(name: str, tmp_path: Path) -> None:
    require_oracle()
    check("PyGObject", name, run_pygobject(name, tmp_path))


@pytest.mark.parametrize("name", NAMES)
def test_program_under_gsocklab(name: str, tmp_path: Path) -> None:
    mine = run_gsocklab(name, tmp_path)
    check("gsocklab", name, mine)
    if oracle_available():
        glib = run_pygobject(name, tmp_path)
        assert glib.returncode == 0, f"{name} under PyGObject: exit {glib.returncode}\n{glib.stderr[-4000:]}"
        assert mine.stdout == glib.stdout
