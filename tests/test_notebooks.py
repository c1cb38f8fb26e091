"""Execute the tutorial notebooks with nbclient and check what specific cells print.

Each notebook is executed once per module (01 in about 10 s, 03 in about 6 s: they contain
real one-second timeouts) in a fresh ``python3`` kernel, with ``notebooks/`` as the working
directory and this checkout first on ``PYTHONPATH``, so the kernel imports the gsocklab
under test even when the package is not installed. Cells are found by their ids (also given
as tags), never by position, so prose can be added without breaking the tests.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIRST_SOCKET = NOTEBOOKS / "01-first-socket.ipynb"

pytestmark = pytest.mark.slow


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("JPY_PARENT_PID", None)
    return env


def _execute(path: Path) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=60,
        startup_timeout=60,
        resources={"metadata": {"path": str(path.parent)}},  # the kernel's working directory
    )
    client.execute(env=_kernel_env())  # raises CellExecutionError with the traceback on failure
    return nb


@pytest.fixture(scope="module")
def first_socket() -> Any:
    return _execute(FIRST_SOCKET)


def cell(nb: Any, cell_id: str) -> Any:
    matches = [c for c in nb.cells if c.get("id") == cell_id]
    assert len(matches) == 1, f"expected one cell with id {cell_id!r}, found {len(matches)}"
    return matches[0]


def stdout(nb: Any, cell_id: str) -> str:
    """Everything a code cell wrote to stdout; fails if it wrote to stderr or raised."""
    c = cell(nb, cell_id)
    assert c.cell_type == "code"
    kinds = [(o.output_type, o.get("name")) for o in c.outputs]
    assert ("stream", "stderr") not in kinds, f"cell {cell_id!r} wrote to stderr: {c.outputs}"
    assert all(kind != "error" for kind, _ in kinds), f"cell {cell_id!r} raised: {c.outputs}"
    return "".join(o.text for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


def seconds(pattern: str, text: str) -> float:
    """The number captured by ``pattern`` (one group) in ``text``."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return float(match.group(1))


# --- the committed notebook -------------------------------------------------------------------


def test_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(FIRST_SOCKET, as_version=4)
    nbformat.validate(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells
    for c in code_cells:
        assert c.outputs == [], f"cell {c.get('id')!r} has saved outputs"
        assert c.execution_count is None
        assert c.metadata.get("tags") == [c.id], "each code cell is tagged with its id"


def test_notebook_uses_loopback_only() -> None:
    source = "\n".join(c.source for c in nbformat.read(FIRST_SOCKET, as_version=4).cells if c.cell_type == "code")
    addresses = set(re.findall(r'"(\d+\.\d+\.\d+\.\d+|[0-9a-f:]*::[0-9a-f:]*)"', source))
    assert addresses == {"127.0.0.1", "239.255.10.10"}
    assert "new_any" not in source
    assert "0.0.0.0" not in source


# --- what the cells print when executed -----------------------------------------------------


def test_every_code_cell_ran(first_socket: Any) -> None:
    for c in first_socket.cells:
        if c.cell_type == "code":
            assert c.execution_count is not None, f"cell {c.id!r} did not run"
            stdout(first_socket, c.id)


def test_udp_round_trip(first_socket: Any) -> None:
    out = stdout(first_socket, "udp-roundtrip")
    assert "sent 5 bytes" in out
    assert "received b'hello' from 127.0.0.1" in out
    assert "the sender is alice: True" in out


def test_datagram_boundaries(first_socket: Any) -> None:
    out = stdout(first_socket, "udp-boundaries")
    assert "the next datagram is 14 bytes" in out
    assert "truncated read: b'first'" in out
    assert "next read: b'second'" in out


def test_would_block_is_caught(first_socket: Any) -> None:
    out = stdout(first_socket, "would-block")
    assert "caught WOULD_BLOCK - Resource temporarily unavailable" in out
    assert "matches WOULD_BLOCK: True" in out
    assert "is a BlockingIOError too: True" in out
    assert "non-blocking receive got b'ping'" in stdout(first_socket, "with-blocking")


def test_socket_timeout_takes_about_one_second(first_socket: Any) -> None:
    out = stdout(first_socket, "timeout")
    elapsed = seconds(r"TIMED_OUT after (\d+\.\d+) s: Socket I/O timed out", out)
    assert 0.9 <= elapsed < 1.8
    assert "is a TimeoutError too: True" in out


def test_timeout_is_an_inactivity_timeout(first_socket: Any) -> None:
    out = stdout(first_socket, "inactivity")
    ticks = re.findall(r"^\s*(\d+\.\d) s  got b'tick (\d)'$", out, flags=re.MULTILINE)
    assert [n for _, n in ticks] == ["0", "1", "2"]
    assert float(ticks[-1][0]) > 1.0, "three ticks outlast the 1 s timeout: it limits waits, not the total"
    final = seconds(r"(\d+\.\d) s  TIMED_OUT: one second without data", out)
    assert 0.8 <= final - float(ticks[-1][0]) < 1.8


def test_receive_bytes_deadline(first_socket: Any) -> None:
    out = stdout(first_socket, "receive-bytes")
    assert 0.25 <= seconds(r"receive_bytes: TIMED_OUT after (\d+\.\d+) s", out) < 1.0
    assert "receive_bytes returned b'just in time'" in out


def test_condition_check_and_timed_wait(first_socket: Any) -> None:
    out = stdout(first_socket, "conditions")
    assert "empty queue:  readable False | writable True" in out
    assert 0.18 <= seconds(r"condition_timed_wait: TIMED_OUT after (\d+\.\d+) s", out) < 0.8
    assert "condition_timed_wait returned True" in out
    assert "one datagram: readable True | writable True" in out


def test_cancel_from_another_thread(first_socket: Any) -> None:
    out = stdout(first_socket, "cancel")
    elapsed = seconds(r"CANCELLED after (\d+\.\d+) s: Operation was cancelled", out)
    assert 0.25 <= elapsed < 1.5, "woken by cancel(), long before the 5 s socket timeout"
    assert "is_cancelled(): True" in out
    out = stdout(first_socket, "cancel-first")
    assert "still cancelled: CANCELLED" in out
    assert "after reset(): b'waiting in the queue'" in out


def test_close_from_another_thread_stops_a_blocked_receive(first_socket: Any) -> None:
    out = stdout(first_socket, "close-stop")
    elapsed = seconds(r"CLOSED after (\d+\.\d+) s: Socket is already closed", out)
    assert 0.25 <= elapsed < 1.5, "woken by close(), long before the 5 s socket timeout"
    assert "is_closed(): True | get_fd(): -1" in out


def test_tcp_on_loopback(first_socket: Any) -> None:
    out = stdout(first_socket, "tcp-connect")
    assert "client connected: True" in out
    assert re.search(r"the server sees the client at 127\.0\.0\.1 port \d+", out)
    assert "the server read b'hello, stream' in" in stdout(first_socket, "tcp-stream")
    out = stdout(first_socket, "tcp-nonblocking-connect")
    assert (
        "connect: PENDING - Connection in progress\ncheck_connect_result: True" in out or "connected immediately" in out
    )
    assert "connect to a closed port: CONNECTION_REFUSED - Connection refused" in stdout(first_socket, "tcp-refused")


def test_multicast_on_lo(first_socket: Any) -> None:
    out = stdout(first_socket, "multicast")
    assert "joined: True" in out
    assert "multicast_ttl: 0 | multicast_loopback: True" in out
    assert "multicast datagram b'hello, group' from 127.0.0.1" in out
    assert "left: True" in out


def test_cleanup_closes_everything(first_socket: Any) -> None:
    assert "all closed: True" in stdout(first_socket, "cleanup")


# --- notebook 03: batched messages ------------------------------------------------------------

BATCHED_MESSAGES = NOTEBOOKS / "03-batched-messages.ipynb"


@pytest.fixture(scope="module")
def batched_messages() -> Any:
    return _execute(BATCHED_MESSAGES)


def test_notebook_03_is_committed_without_outputs() -> None:
    nb = nbformat.read(BATCHED_MESSAGES, as_version=4)
    nbformat.validate(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells
    for c in code_cells:
        assert c.outputs == [], f"cell {c.get('id')!r} has saved outputs"
        assert c.execution_count is None
        assert c.metadata.get("tags") == [c.id], "each code cell is tagged with its id"


def test_notebook_03_uses_loopback_only() -> None:
    source = "\n".join(c.source for c in nbformat.read(BATCHED_MESSAGES, as_version=4).cells if c.cell_type == "code")
    assert set(re.findall(r'"(\d+\.\d+\.\d+\.\d+|[0-9a-f:]*::[0-9a-f:]*)"', source)) == {"127.0.0.1"}
    assert "new_any" not in source
    assert "0.0.0.0" not in source


def test_notebook_03_every_code_cell_ran(batched_messages: Any) -> None:
    for c in batched_messages.cells:
        if c.cell_type == "code":
            assert c.execution_count is not None, f"cell {c.id!r} did not run"
            stdout(batched_messages, c.id)


def test_vectors_gather_and_scatter(batched_messages: Any) -> None:
    assert "one send_message, three vectors: 17 bytes sent as one datagram" in stdout(batched_messages, "gather")
    out = stdout(batched_messages, "scatter")
    assert re.search(r"received 17 bytes from 127\.0\.0\.1 port \d+", out)
    assert "first vector:  b'GET '" in out
    assert "second vector: b'/index.html\\r\\n'" in out
    assert "control messages: []" in out


def test_truncation_flags(batched_messages: Any) -> None:
    out = stdout(batched_messages, "truncation")
    assert "count 8, data b'a datagr', MSG_TRUNC set: True" in out
    assert "flags = 0x40000020 (MSG_TRUNC 0x20 | MSG_CMSG_CLOEXEC 0x40000000)" in out
    assert "with MSG_TRUNC passed in: count 27 (the real length), data b'a datagr'" in out


def test_batch_send_and_receive(batched_messages: Any) -> None:
    out = stdout(batched_messages, "batch-send")
    assert "send_messages sent 5 datagrams; bytes_sent: [16, 16, 16, 16, 16]" in out
    out = stdout(batched_messages, "batch-receive")
    assert "receive_messages: 5 of 8 messages filled" in out
    received = re.findall(r"^  b'(round 1 msg \d)\.\.\.' from port (\d+) \(16 bytes\)$", out, flags=re.MULTILINE)
    assert [text for text, _ in received] == [f"round 1 msg {i}" for i in range(5)]
    assert len({port for _, port in received}) == 1, "all from alice"
    assert "second round: 5 messages, first is b'round 2 msg 0...'" in out


def test_receive_messages_modes(batched_messages: Any) -> None:
    out = stdout(batched_messages, "modes-nonblocking")
    assert "non-blocking, 3 queued, 8 asked for: 3" in out
    assert "non-blocking, nothing queued: WOULD_BLOCK - Resource temporarily unavailable" in out

    out = stdout(batched_messages, "modes-timeout")
    assert 0.9 <= seconds(r"timeout 1 s, 2 queued, 4 asked for: 2 after (\d+\.\d+) s", out) < 1.8
    assert 0.9 <= seconds(r"timeout 1 s, nothing queued: TIMED_OUT after (\d+\.\d+) s", out) < 1.8

    out = stdout(batched_messages, "modes-wait-all")
    assert 0.25 <= seconds(r"1 queued, 3 more after 0\.3 s: 4 after (\d+\.\d+) s", out) < 1.5

    out = stdout(batched_messages, "modes-datagram-based")
    assert 0.15 <= seconds(r"DatagramBased, 200 ms, 2 queued, 4 asked for: 2 after (\d+\.\d+) s", out) < 1.0
    assert 0.15 <= seconds(r"timeout 200000 us, nothing queued: TIMED_OUT after (\d+\.\d+) s", out) < 1.0
    assert seconds(r"timeout 0 us, nothing queued: WOULD_BLOCK after (\d+\.\d+) s", out) < 0.1


def test_batching_timing_table(batched_messages: Any) -> None:
    out = stdout(batched_messages, "timing")
    assert re.search(r"^\s*send_to \+ receive_from\s+1\s+0\s+\d+\s+[\d.]+$", out, flags=re.MULTILINE)
    rows = re.findall(
        r"^\s*send_messages \+ receive_messages\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+$", out, flags=re.MULTILINE
    )
    rates = {int(batch): int(rate) for batch, _, rate in rows}
    lost = {int(batch): int(n) for batch, n, _ in rows}
    assert sorted(rates) == [1, 16, 64, 1024], "one row per batch size"
    # A batch of 1024 needs ~0.8 MB of receive buffer; where net.core.rmem_max is lower, the
    # kernel drops some (and the notebook says so). Smaller batches always fit.
    assert lost[1] == lost[16] == lost[64] == 0
    assert rates[1024] > rates[1], "a batch of 1024 moves more datagrams per second than a batch of 1"
    assert seconds(r"batches of 1024 move (\d+\.\d)x as many datagrams per second", out) > 1.0


def test_notebook_03_cleanup(batched_messages: Any) -> None:
    assert "all closed: True" in stdout(batched_messages, "cleanup")


# --- notebook 02: recording -------------------------------------------------------------------

RECORDING = NOTEBOOKS / "02-recording.ipynb"


@pytest.fixture(scope="module")
def recording() -> Any:
    return _execute(RECORDING)


def shown(nb: Any, cell_id: str) -> dict[str, Any]:
    """The rich result a code cell displayed (its last expression): ``{mime type: data}``."""
    results = [o for o in cell(nb, cell_id).outputs if o.output_type == "execute_result"]
    assert len(results) == 1, f"cell {cell_id!r} displayed {len(results)} results"
    data: dict[str, Any] = results[0]["data"]
    return data


def test_notebook_02_is_committed_without_outputs() -> None:
    nb = nbformat.read(RECORDING, as_version=4)
    nbformat.validate(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells
    for c in code_cells:
        assert c.outputs == [], f"cell {c.get('id')!r} has saved outputs"
        assert c.execution_count is None
        assert c.metadata.get("tags") == [c.id], "each code cell is tagged with its id"


def test_notebook_02_uses_loopback_only() -> None:
    nb = nbformat.read(RECORDING, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert set(re.findall(r'"(\d+\.\d+\.\d+\.\d+|[0-9a-f:]*::[0-9a-f:]*)"', source)) == {"127.0.0.1", "239.255.10.10"}
    assert "new_any" not in source
    assert "0.0.0.0" not in source
    assert 'join_multicast_group(group, False, "lo")' in source
    assert "set_multicast_ttl(0)" in source, "multicast stays on this host"


def test_notebook_02_every_code_cell_ran(recording: Any) -> None:
    for c in recording.cells:
        if c.cell_type == "code":
            assert c.execution_count is not None, f"cell {c.id!r} did not run"
            stdout(recording, c.id)


def test_notebook_02_records_the_scenarios(recording: Any) -> None:
    out = stdout(recording, "conversation")
    assert [line for line in out.splitlines() if line.startswith("bob received")] == [
        f"bob received b'reading {i}'" for i in range(3)
    ]
    assert "alice received b'got all three'" in out
    assert "TIMED_OUT: Socket I/O timed out" in stdout(recording, "timeout")
    assert "WOULD_BLOCK: Resource temporarily unavailable" in stdout(recording, "would-block")
    out = stdout(recording, "multicast")
    assert "joined: True" in out
    assert "the listener received b'hello, group' from 127.0.0.1" in out
    assert "left: True" in out
    out = stdout(recording, "batch")
    assert "send_messages sent 16 messages" in out
    assert "receive_messages filled 16 messages" in out
    assert "one more receive_messages: WOULD_BLOCK" in out


def test_notebook_02_frame_has_the_schema(recording: Any) -> None:
    out = stdout(recording, "frame")
    assert re.search(r"^\d+ events from 5 sockets$", out, flags=re.MULTILINE)
    flat = " ".join(out.split())
    for column in ("seq int64", "time datetime64[ns, UTC]", "op category", "nbytes Int64", "payload object",
                   "blocking boolean", "timeout Float64", "error category", "hint string", "flags Int64"):
        assert column in flat
    table = shown(recording, "frame")
    assert "text/html" in table
    assert "reading 0" in table["text/plain"]


def test_notebook_02_errors_with_hints(recording: Any) -> None:
    out = stdout(recording, "errors")
    failures = re.findall(r"^#\d+ (\w+)\.(\w+): (\w+) after", out, flags=re.MULTILINE)
    assert failures == [("bob", "receive_from", "TIMED_OUT"), ("bob", "receive", "WOULD_BLOCK"),
                        ("bob", "receive_messages", "WOULD_BLOCK")]
    assert 0.9 <= seconds(r"bob\.receive_from: TIMED_OUT after (\d+\.\d+) s", out) < 1.8
    flat = " ".join(out.split())
    assert "hint: nothing arrived within the socket's timeout" in flat
    assert "hint: non-blocking socket: nothing to read yet" in flat
    assert "Socket I/O timed out" in shown(recording, "errors")["text/plain"]


def test_notebook_02_groupby_and_waits(recording: Any) -> None:
    out = stdout(recording, "by-op")
    assert "rows of send_messages: 16" in out
    assert "bytes sent with send_to: 68" in out  # 3 x 9 + 16 + 13 + 12
    out = stdout(recording, "waited")
    assert 0.9 <= seconds(r"bob waited (\d+\.\d) s in total", out) < 1.8
    assert re.search(r"the longest wait: bob\.receive_from, \d\.\d s, ending in TIMED_OUT", out)
    out = stdout(recording, "settings")
    assert re.search(r"speaker\s+set_multicast_ttl\s+0$", out, flags=re.MULTILINE)
    assert re.search(r"listener\s+join_multicast_group\s+239\.255\.10\.10%lo$", out, flags=re.MULTILINE)
    assert re.search(r"bob\s+set_timeout\s+1$", out, flags=re.MULTILINE)
    # the listener received it (and the speaker sends out of lo): a multicast hint would not be true, so none
    assert "hint on the speaker's send_to: <NA>" in out


def test_notebook_02_summary(recording: Any) -> None:
    out = stdout(recording, "summary")
    assert "alice   sent 20 (187 bytes), received  1, errors 0, waited 0.0 s" in out
    assert re.search(r"^bob     sent  1 \( 13 bytes\), received 19, errors 3, waited 1\.\d s$", out, flags=re.MULTILINE)
    assert "nobody  sent  0 (  0 bytes), received  0, errors 0, waited 0.0 s" in out
    assert "out_messages" in shown(recording, "summary")["text/plain"]


def test_notebook_02_flows_find_the_lost_datagram(recording: Any) -> None:
    out = stdout(recording, "flows")
    assert "22 datagrams sent, 1 lost" in out  # 4 + 1 + 1 with send_to, 16 with send_messages
    assert re.search(r"^lost: b'is anyone there\?' from alice to 127\.0\.0\.1:\d+$", out, flags=re.MULTILINE)
    assert seconds(r"median latency: (\d+) µs", out) < 1e6
    assert "the multicast datagram reached: ['listener']" in out


def test_notebook_02_batches(recording: Any) -> None:
    out = stdout(recording, "batches")
    assert re.search(r"^batch 0: alice\.send_messages moved 16 of 16 messages, 144 bytes \([\d,]+ messages/s\)$", out,
                     flags=re.MULTILINE)
    assert re.search(r"^batch 1: bob\.receive_messages moved 16 of 16 messages, 144 bytes \([\d,]+ messages/s\)$",
                     out, flags=re.MULTILINE)
    assert "batch 2: bob.receive_messages moved 0 of 16 messages, 0 bytes (WOULD_BLOCK)" in out
    assert "messages_per_second" in shown(recording, "batches")["text/plain"]


def test_notebook_02_save_and_cleanup(recording: Any) -> None:
    assert "same rows: True | same dtypes: True" in stdout(recording, "save")
    assert "all closed: True" in stdout(recording, "cleanup")


def test_notebook_02_pcapng(recording: Any) -> None:
    out = stdout(recording, "pcapng")
    assert re.search(r"^Counts\(interfaces=\d+, packets=\d+, calls=\d+\)$", out, flags=re.MULTILINE)
    line = r"^{who} 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ b'reading (\d)' +# {call} seq=\d+, waited [\d.]+ s{rest}$"
    sends = re.findall(line.format(who="alice", call="alice send_to", rest=""), out, flags=re.MULTILINE)
    receives = re.findall(line.format(who="bob  ", call="bob receive_from", rest="; matches send seq=\\d+ on alice"),
                          out, flags=re.MULTILINE)
    assert sends == receives == ["0", "1", "2"]
    if shutil.which("tshark"):
        assert re.search(r"127\.0\.0\.1 → 127\.0\.0\.1 +UDP 37 \d+ → \d+ Len=9", out)


# -- pictures (issue 10) ---------------------------------------------------------------------

_SVG = "{http://www.w3.org/2000/svg}"


def picture(nb: Any, cell_id: str, kind: str) -> Any:
    """The SVG a cell displayed (parsed), checking it is the ``kind`` of picture."""
    import xml.etree.ElementTree as ET

    data = shown(nb, cell_id)
    assert "text/html" in data, sorted(data)
    assert "image/svg+xml" in data, sorted(data)
    root = ET.fromstring(data["image/svg+xml"])
    assert root.get("class") == f"gsocklab-{kind}"
    return root


def _marks(root: Any, cls: str, tag: str = "g") -> list[Any]:
    return [e for e in root.iter(_SVG + tag) if cls in (e.get("class") or "").split()]


def test_notebook_01_timeline_of_the_four_receives(first_socket: Any) -> None:
    out = stdout(first_socket, "timeline")
    assert out.splitlines() == ["non-blocking: WOULD_BLOCK", "timeout: TIMED_OUT", "cancelled: CANCELLED"]
    root = picture(first_socket, "timeline", "timeline")
    calls = [g for g in _marks(root, "call") if g.get("data-op") in ("receive", "receive_with_blocking")]
    assert [g.get("data-error") for g in calls] == [None, "WOULD_BLOCK", "TIMED_OUT", "CANCELLED"]
    assert [g.get("data-mode") for g in calls] == ["timeout", "non-blocking", "timeout", "timeout"]
    waited = {g.get("data-error"): float(r.get("data-waited"))
              for g in calls for r in g.iter(_SVG + "rect") if "wait" in (r.get("class") or "")}
    assert 0.25 < waited[None] < 1.0
    assert 0.9 < waited["TIMED_OUT"] < 1.5
    assert 0.25 < waited["CANCELLED"] < 1.0
    assert "WOULD_BLOCK" not in waited, "a non-blocking miss does not wait"


def test_notebook_02_pictures(recording: Any) -> None:
    root = picture(recording, "pictures-sequence", "sequence")
    assert {g.get("data-socket") for g in _marks(root, "lifeline")} >= {"alice", "bob", "nobody"}
    lost = _marks(root, "lost")
    assert len(lost) == 1
    assert "is anyone there?" in "".join(lost[0].itertext())
    assert {g.get("data-error") for g in _marks(root, "error")} >= {"TIMED_OUT", "WOULD_BLOCK"}
    assert stdout(recording, "mermaid").startswith("sequenceDiagram\n    participant s0 as alice")
    picture(recording, "delivery", "delivery")
    picture(recording, "io-graph", "io-graph")


def test_notebook_03_batch_view(batched_messages: Any) -> None:
    assert stdout(batched_messages, "batch-view").strip() == "asked for 8, got 5"
    root = picture(batched_messages, "batch-view", "batches")
    bars = _marks(root, "batch")
    assert [(g.get("data-asked"), g.get("data-moved")) for g in bars] == [("5", "5"), ("8", "5")]
    assert [("partial" in (g.get("class") or "")) for g in bars] == [False, True]


# -- notebook 04: panels (issue 11) ----------------------------------------------------------

PANELS = NOTEBOOKS / "04-panels.ipynb"


@pytest.fixture(scope="module")
def panels() -> Any:
    return _execute(PANELS)


def test_notebook_04_is_committed_without_outputs() -> None:
    nb = nbformat.read(PANELS, as_version=4)
    nbformat.validate(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == []
            assert c.execution_count is None
            assert c.metadata.get("tags") == [c.id]


def test_notebook_04_shows_the_lab(panels: Any) -> None:
    outputs = cell(panels, "lab").outputs
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, outputs


def test_notebook_04_exchange_driven_from_panels(panels: Any) -> None:
    bound = stdout(panels, "bind").splitlines()
    assert all(line.split(": ")[1].startswith("bound to 127.0.0.1:") for line in bound)
    lines = stdout(panels, "exchange").splitlines()
    assert lines[0].startswith("peer1: sent 16 bytes to 127.0.0.1:")
    assert lines[1].startswith("peer2: received 16 bytes from 127.0.0.1:")
    assert lines[1].endswith(": b'hello from peer1'")
    mistakes = stdout(panels, "mistakes").splitlines()
    assert mistakes[0] == "peer1: Send: 'not an address' is not host:port (for example 127.0.0.1:5000)"
    assert mistakes[1].startswith("peer2: Receive: WOULD_BLOCK: ")
    assert mistakes[2].startswith("hint:  ")
    assert len(mistakes[2]) > 12
    assert stdout(panels, "hostile").strip() == "b'<img src=x onerror=alert(1)><b>bold?</b>'"
    assert stdout(panels, "close").strip() == "receive ended: CLOSED - Socket is already closed"


def test_notebook_04_recording_and_picture(panels: Any) -> None:
    table = stdout(panels, "recording")
    for op in ("bind", "send_to", "receive_from", "set_blocking", "close"):
        assert op in table
    assert "WOULD_BLOCK" in table
    assert "CLOSED" in table
    data = shown(panels, "sequence")
    assert 'class="gsocklab-sequence"' in data["image/svg+xml"]
    assert stdout(panels, "cleanup").strip() == "closed: True"
