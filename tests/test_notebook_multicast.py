"""Execute ``notebooks/05-multicast.ipynb`` with nbclient and check what its cells show.

The notebook builds a `gsocklab.netlab` network (network namespaces), so it runs where
`netlab.probe()` finds a way (root or user namespaces); elsewhere the execution tests are
skipped with the probe's reason — except with ``GSOCKLAB_REQUIRE_NETLAB=1`` (CI), where they
fail. The committed-notebook checks run everywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from gsocklab import netlab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05-multicast.ipynb"

CODES = {"why-not-joined": "NOT_JOINED", "why-port": "PORT_MISMATCH", "why-unicast": "BOUND_TO_UNICAST",
         "why-interface": "WRONG_INTERFACE", "why-loopback": "LOOPBACK_OFF", "why-ttl": "TTL_TOO_SMALL",
         "why-route": "NO_MULTICAST_ROUTE", "why-source": "SOURCE_FILTERED", "why-left": "LEFT_GROUP",
         "why-all-join": "RECEIVED_WITHOUT_JOIN"}


def _need_netlab() -> None:
    support = netlab.probe()
    if support.mode is None:
        if os.environ.get("GSOCKLAB_REQUIRE_NETLAB") == "1":
            pytest.fail(f"GSOCKLAB_REQUIRE_NETLAB=1 but no lab network here: {support.reason}")
        pytest.skip(f"no lab network on this machine: {support.reason}")


@pytest.fixture(scope="module")
def executed() -> Any:
    _need_netlab()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("JPY_PARENT_PID", None)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, startup_timeout=60,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute(env=env)
    return nb


def _cell(nb: Any, cell_id: str) -> Any:
    matches = [c for c in nb.cells if c.get("id") == cell_id]
    assert len(matches) == 1, f"expected one cell {cell_id!r}, found {len(matches)}"
    return matches[0]


def text(nb: Any, cell_id: str) -> str:
    """What a code cell printed and showed as text/plain; fails if it wrote to stderr or raised."""
    cell = _cell(nb, cell_id)
    out = []
    for output in cell.outputs:
        assert output.output_type != "error", f"cell {cell_id!r} raised: {output.get('evalue')}"
        assert output.get("name") != "stderr", f"cell {cell_id!r} wrote to stderr: {output.get('text')}"
        if output.output_type == "stream":
            out.append(output.text)
        elif "text/plain" in output.get("data", {}):
            out.append(output.data["text/plain"])
    return "".join(out)


def test_committed_without_outputs_and_tagged() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id!r} has saved outputs"
            assert cell.execution_count is None
            assert cell.metadata.get("tags") == [cell.id]


def test_sockets_outside_the_lab_stay_on_loopback() -> None:
    """Only the ``lo`` cell makes sockets on this machine, and its sender is bound to 127.0.0.1 (so Linux
    sends its group datagrams out of ``lo``); every other socket is made on a lab host."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    makers = [c.id for c in nb.cells if c.cell_type == "code" and "Gio.Socket.new(" in c.source]
    assert makers == ["lo-group"]
    assert 'sender.bind(address("127.0.0.1", 0), False)' in _cell(nb, "lo-group").source


def test_every_cell_ran(executed: Any) -> None:
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, f"cell {cell.id!r} did not run"
            text(executed, cell.id)


def test_lo_shows_what_it_cannot_show(executed: Any) -> None:
    out = text(executed, "lo-group")
    assert re.search(r"joined got:\s+\[b'TTL 0, loopback off'\]", out)
    assert re.search(r"bystander got:\s+\[b'TTL 0, loopback off'\]", out)
    assert "RECEIVED_WITHOUT_JOIN" in text(executed, "lo-diagnose")


def test_ttl_crosses_routers_one_by_one(executed: Any) -> None:
    out = text(executed, "ttl")
    assert "TTL 0: {'h1': 3, 'h2': 0, 'h3': 0, 'h4': 0}" in out
    assert "TTL 1: {'h1': 3, 'h2': 3, 'h3': 0, 'h4': 0}" in out
    assert "TTL 2: {'h1': 3, 'h2': 3, 'h3': 3, 'h4': 0}" in out
    assert "ttl_expired" in out


def test_loopback_leave_ssm_and_ipv6(executed: Any) -> None:
    out = text(executed, "loopback")
    assert "loopback off: {'h1': 0, 'h2': 3, 'h3': 3, 'h4': 0}" in out
    assert "loopback on:  {'h1': 3, 'h2': 3, 'h3': 3, 'h4': 0}" in out
    out = text(executed, "leave")
    assert "h2 left: {'h1': 3, 'h2': 0, 'h3': 3, 'h4': 0}" in out
    assert "h2 back: {'h1': 3, 'h2': 3, 'h3': 3, 'h4': 0}" in out
    assert "h3 accepted: [b'from h1']" in text(executed, "ssm")
    out = text(executed, "ipv6")
    assert "hop limit 1: {'h2': 1, 'h3': 0}" in out
    assert "hop limit 2: {'h2': 1, 'h3': 1}" in out


def test_matrix_is_drawn(executed: Any) -> None:
    data = _cell(executed, "matrix").outputs[0].data
    assert "gsocklab-delivery" in data.get("text/html", "") + data.get("image/svg+xml", "")


@pytest.mark.parametrize(("cell_id", "code"), sorted(CODES.items()))
def test_every_diagnosis_is_provoked(executed: Any, cell_id: str, code: str) -> None:
    out = text(executed, cell_id)
    found = set(re.findall(r"\b[A-Z]+(?:_[A-Z]+)+\b", out)) & set(CODES.values())
    assert found == {code}, f"{cell_id}: expected only {code}, found {found}\n{out}"


def test_a_working_exchange_has_no_finding_and_cleanup(executed: Any) -> None:
    out = text(executed, "why-working")
    assert "received: [b'all fine']" in out
    assert "findings on a working exchange: 0" in out
    assert "closed: True" in text(executed, "cleanup")
