"""Real-browser test of the multicast lab: `gsocklab.lab.MulticastLab` in JupyterLab, driven by clicks.

The test opens ``tests/notebooks/multicast.ipynb`` (a copy) in JupyterLab, runs its ``lab`` cell (a `MulticastLab` on
one LAN: hosts h1, h2, h3 in network namespaces, built on the lab's worker thread) and works the panel with the mouse,
in headless Chromium driven by Playwright, through the server, browser and helpers of ``browser_support.py`` (see
there, and ``test_browser_lab.py``, whose patterns this follows). It runs twice, under JupyterLab's setting
``commsOverSubshells`` = ``disabled`` and ``perCommTarget`` (the default); each value gets its own server, started
once for the module's tests of that value.

``test_join_and_send_by_clicks_fill_the_delivery_matrix``: the three station rows appear; Join in h2's and h3's rows
(each row then says joined), Send in h1's row (a burst of 5 datagrams to the group while every receiver reads until
0.4 s of quiet); the delivery matrix in the page (``svg.gsocklab-delivery``) then has cells for h2/rx and h3/rx with
count 5 and none for h1/rx, and the panel's result line says so.

The lab network needs root or user namespaces (`gsocklab.netlab.probe`): the test skips without, and fails instead
with ``GSOCKLAB_REQUIRE_NETLAB=1``; without Playwright or Chromium it skips, and fails instead with
``GSOCKLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``). Every wait is bounded. A failing test leaves
``<test>-FAILED.png``, the console log and the page's HTML in the artifacts directory (``GSOCKLAB_BROWSER_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from browser_support import (
    ROOT,
    LabServer,
    artifacts_dir_fixture,  # noqa: F401  (the fixture artifacts_dir)
    browser_fixture,  # noqa: F401  (the fixture browser)
    open_notebook,
    page_fixture,  # noqa: F401  (the fixture page)
    sessions_deleted,
    start_lab_server,
    tracebacks,
)

from gsocklab import netlab

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - browser_support skips (or fails) the tests
    pass

NOTEBOOK = ROOT / "tests" / "notebooks" / "multicast.ipynb"
CELLS = {cell["id"]: i for i, cell in enumerate(json.loads(NOTEBOOK.read_text())["cells"])}  # id -> position

KERNELS_SETTINGS = "@jupyterlab/apputils-extension/kernels-settings.jupyterlab-settings"
KERNELS_PLUGIN = "@jupyterlab/apputils-extension:kernels-settings"
COMMS_SETTINGS = ("disabled", "perCommTarget")

STATIONS = ("h1", "h2", "h3")
BURST = 5  # the lab's default burst
GROUP = "239.1.2.3:5000"  # the lab's default group and port

CELL_TIMEOUT_S = 60  # a cell of the notebook until its prompt shows its execution count (import, kernel start)
BUILD_TIMEOUT_MS = 30_000  # the lab cell until the station rows show (the worker builds the namespaces, ~1 s)
JOIN_TIMEOUT_MS = 15_000  # a Join click until the row says joined (the worker, then a pump tick of 0.2 s)
DELIVERY_TIMEOUT_S = 30  # the Send click until the matrix shows the burst (0.4 s of quiet per receiver, the pump)
VIEWPORT = {"width": 1400, "height": 2400}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

T = TypeVar("T")


def require_netlab() -> None:
    """Skip when this machine cannot build a lab network; fail instead with ``GSOCKLAB_REQUIRE_NETLAB=1``."""
    support = netlab.probe()
    if support.mode is not None:
        return
    if os.environ.get("GSOCKLAB_REQUIRE_NETLAB") == "1":
        pytest.fail(f"the lab network is required (GSOCKLAB_REQUIRE_NETLAB=1), but: {support.reason}")
    pytest.skip(f"no lab network on this machine: {support.reason} "
                "(GSOCKLAB_REQUIRE_NETLAB=1 turns this into a failure)")


# --- the servers: one per value of commsOverSubshells -------------------------------------------------------------


@dataclass
class Setting:
    comms: str
    server: LabServer


@pytest.fixture(scope="module", params=COMMS_SETTINGS)
def setting(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            artifacts_dir: Path) -> Iterator[Setting]:
    """A JupyterLab server whose ``commsOverSubshells`` is the parameter; checked against the installed schema."""
    require_netlab()  # the kernel builds the lab network on this machine: no server when it cannot
    comms: str = request.param
    with start_lab_server(tmp_path_factory, artifacts_dir, [NOTEBOOK],
                          {KERNELS_SETTINGS: {"commsOverSubshells": comms}},
                          name=f"jupyter-server-multicast-{comms}") as server:
        plugin = server.api(f"/lab/api/settings/{KERNELS_PLUGIN}")
        allowed = [choice["const"] for choice in plugin["schema"]["properties"]["commsOverSubshells"]["oneOf"]]
        assert comms in allowed, f"this JupyterLab does not know commsOverSubshells={comms!r} (it has {allowed})"
        assert plugin["settings"].get("commsOverSubshells") == comms, f"the server did not read the setting: {plugin}"
        yield Setting(comms, server)


@dataclass
class Opened:
    """The page with the notebook open and its ``lab`` cell run; the messages of the dialogs (alerts) it opened."""

    page: Page
    dialogs: list[str]


@pytest.fixture
def lab(setting: Setting, page: Page) -> Iterator[Opened]:
    """The notebook open, its ``lab`` cell run and the station rows shown; dialogs are recorded (and dismissed)."""
    with sessions_deleted(setting.server):
        page.set_viewport_size(VIEWPORT)  # the whole lab on screen, for its screenshot
        opened = Opened(page, [])
        page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
        open_notebook(page, setting.server, NOTEBOOK.name, start_kernel_first=True)
        run_cell(page, "lab")
        expect(page.locator(".gs-multicast-lab .gs-station")).to_have_count(len(STATIONS), timeout=BUILD_TIMEOUT_MS)
        yield opened


# --- helpers --------------------------------------------------------------------------------------------------------


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.1) -> T:
    """``probe()`` until it returns something other than None (or False); fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


def cell(page: Page, cell_id: str) -> Locator:
    """The notebook's cell with id ``cell_id`` (by its position in the notebook file)."""
    return page.locator(".jp-Notebook .jp-Cell").nth(CELLS[cell_id])


def run_cell(page: Page, cell_id: str) -> Locator:
    """Run one cell from the UI (click into it, Shift+Enter) and wait until it has run; fail if it raised."""
    target = cell(page, cell_id)
    target.locator(".jp-InputArea-editor").click()
    prompt = target.locator(".jp-InputPrompt")
    before = prompt.inner_text().strip()
    page.keyboard.press("Shift+Enter")

    def ran() -> bool:
        text = prompt.inner_text().strip()
        return text != before and re.fullmatch(r"\[\d+\]:", text) is not None

    wait_for(f"the cell {cell_id!r} to run", ran, CELL_TIMEOUT_S)
    errors = target.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                            has_text="Traceback")
    if errors.count():
        pytest.fail("a cell raised:\n" + "\n\n".join(errors.all_inner_texts()))
    return target


def output_text(target: Locator) -> str:
    return "\n".join(target.locator(".jp-OutputArea-output").all_inner_texts()).strip()


def station(page: Page, name: str) -> Locator:
    """The row of station ``name`` (``.gs-station-<name>``)."""
    return page.locator(f".gs-multicast-lab .gs-station-{name}")


def result_line(page: Page) -> Locator:
    """The lab's result line: the first ``.gs-result`` (a picture or ``diagnose`` that fails adds its own below)."""
    return page.locator(".gs-multicast-lab .gs-result").first


# The delivery matrix's cells in the page: [destination, receiver, count] per delivered pair, lost cells left out.
MATRIX_CELLS = """root => [...root.querySelectorAll('svg.gsocklab-delivery g.cell')]
    .filter(g => !g.classList.contains('lost'))
    .map(g => [g.getAttribute('data-destination'), g.getAttribute('data-receiver'),
               Number(g.getAttribute('data-count'))])"""


def matrix_cells(page: Page) -> dict[str, int]:
    """Datagrams per receiving socket in the delivery matrix the page shows (empty before it shows)."""
    cells: list[list[str]] = page.locator(".gs-multicast-lab").evaluate(MATRIX_CELLS)
    out: dict[str, int] = {}
    for destination, receiver, count in cells:
        assert destination == GROUP, cells
        out[receiver] = out.get(receiver, 0) + int(count)
    return out


# --- the test -------------------------------------------------------------------------------------------------------


def test_join_and_send_by_clicks_fill_the_delivery_matrix(lab: Opened, setting: Setting, artifacts_dir: Path) -> None:
    page = lab.page
    panel = page.locator(".gs-multicast-lab")
    for name in STATIONS:
        row = station(page, name)
        for button, text in (("join", "Join"), ("leave", "Leave"), ("send", "Send")):
            expect(row.locator(f"button.gs-{button}"), f"{name}'s {text} button").to_have_text(text)
        expect(row.locator(".gs-joined")).to_have_attribute("data-joined", "0", timeout=JOIN_TIMEOUT_MS)
    expect(result_line(page)).to_contain_text("built one LAN", timeout=JOIN_TIMEOUT_MS)
    assert matrix_cells(page) == {}, "nothing sent yet"

    for name in ("h2", "h3"):
        station(page, name).locator("button.gs-join").click()
        expect(station(page, name).locator(".gs-joined"), f"{name} joined").to_have_attribute(
            "data-joined", "1", timeout=JOIN_TIMEOUT_MS)
    expect(station(page, "h1").locator(".gs-joined")).to_have_attribute("data-joined", "0")

    station(page, "h1").locator("button.gs-send").click()
    expected = {"h2/rx": BURST, "h3/rx": BURST}

    def delivered() -> dict[str, int] | None:
        cells = matrix_cells(page)
        return cells if all(cells.get(receiver) == count for receiver, count in expected.items()) else None

    cells = wait_for(f"the delivery matrix to show {expected}", delivered, DELIVERY_TIMEOUT_S)
    assert cells == expected, f"h1/rx must have no cell (h1 did not join): {cells}"
    expect(result_line(page)).to_contain_text(f"h1 sent {BURST}: h1 got 0, h2 got {BURST}, h3 got {BURST}",
                                              timeout=JOIN_TIMEOUT_MS)
    expect(result_line(page)).to_have_class(re.compile(r"\bgs-ok\b"))
    expect(panel.locator("svg.gsocklab-delivery")).to_have_count(1)
    expect(panel.locator("svg.gsocklab-sequence")).to_have_count(1)
    expect(station(page, "h2")).to_contain_text(f"got {BURST}")
    expect(tracebacks(page)).to_have_count(0)
    assert lab.dialogs == [], lab.dialogs

    subshells = output_text(run_cell(page, "subshells"))
    match = re.fullmatch(r"subshells: (\d+)", subshells)
    assert match, f"the kernel does not support subshells: {subshells!r}"
    if setting.comms == "disabled":
        assert int(match[1]) == 0, f"commsOverSubshells=disabled, but the kernel runs {match[1]} subshell(s)"
    else:
        assert int(match[1]) >= 1, "commsOverSubshells=perCommTarget, but the kernel runs no subshell for the widgets"
    panel.screenshot(path=str(artifacts_dir / f"multicast-{setting.comms}.png"))
