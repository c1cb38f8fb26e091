"""``notebooks/06-main-loop.ipynb``: the main loop driven by the kernel, streams and services.

The notebook is executed once (nbclient, a fresh ``python3`` kernel, this checkout first on
``PYTHONPATH``; about 3 s), and what its cells print is checked: GLib callbacks ran in the
kernel's thread while a cell awaited, the echo service answered both lines, the blocking
``MainLoop().run()`` got its answer, and the recording names the Gio call behind each socket
call in its ``via`` column. Cells are found by their ids.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
import pytest
from test_notebooks import NOTEBOOKS, _execute, cell, stdout

MAIN_LOOP = NOTEBOOKS / "06-main-loop.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def main_loop() -> Any:
    return _execute(MAIN_LOOP)


def test_committed_without_outputs_with_ids_as_tags() -> None:
    nb = nbformat.read(MAIN_LOOP, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs, c.id
            assert c.execution_count is None, c.id
            assert c.metadata.get("tags") == [c.id]


def test_uses_loopback_only() -> None:
    text = MAIN_LOOP.read_text()
    addresses = set(re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", text))
    assert addresses == {"127.0.0.1"}


def test_callbacks_ran_in_the_kernel_thread_while_the_cell_awaited(main_loop: Any) -> None:
    lines = stdout(main_loop, "timeouts").splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "idle", "timeout #1 in MainThread", "timeout #2 in MainThread", "timeout #3 in MainThread"]
    times = [float(line.split(" s")[0]) for line in lines[1:]]
    assert times == sorted(times)
    assert 0.08 <= times[0] < 1.0  # the first expiry is 100 ms after the call


def test_the_echo_service_answered_both_lines(main_loop: Any) -> None:
    lines = stdout(main_loop, "echo").splitlines()
    # each side in its own order; how the two interleave depends on which callback the loop runs first
    assert [line for line in lines if line.startswith("server")] == [
        "server: 'hello'", "server: 'main loop'", "server: client gone"]
    assert [line for line in lines if line.startswith("client")] == ["client: 'HELLO'", "client: 'MAIN LOOP'"]
    assert lines[0] == "server: 'hello'"
    assert lines[-1] == "server: client gone"
    assert lines.index("server: 'hello'") < lines.index("client: 'HELLO'")
    assert lines.index("server: 'main loop'") < lines.index("client: 'MAIN LOOP'")


def test_the_blocking_main_loop_got_its_answer(main_loop: Any) -> None:
    assert stdout(main_loop, "script").strip() == "answer: ['RUN BY MAINLOOP']"


def test_the_recording_names_the_gio_call_behind_each_socket_call(main_loop: Any) -> None:
    text = stdout(main_loop, "recording")
    table, _, by_via = text.partition("\n\n")
    rows = [line.split() for line in table.splitlines()[1:]]
    via_of = {(row[2], row[-1]) for row in rows}
    assert ("connect", "SocketClient.connect_to_host_async") in via_of
    assert ("accept", "SocketService.accept_async") in via_of
    assert ("receive_with_blocking", "DataInputStream.read_line_async") in via_of
    assert ("send_with_blocking", "SocketOutputStream.write_all") in via_of
    assert ("close", "TcpConnection.close") in via_of
    assert ("close", "SocketService.close") in via_of
    assert all(row[-1] != "<NA>" for row in rows)  # every socket call here was made by a Gio call
    assert "bind, listen, set_blocking, set_listen_backlog" in by_via


def test_the_sequence_picture_is_drawn(main_loop: Any) -> None:
    outputs = cell(main_loop, "picture").outputs
    assert any("image/svg+xml" in o.get("data", {}) or "text/html" in o.get("data", {}) for o in outputs)
