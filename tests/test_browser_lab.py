"""Real-browser tests of the widget panels (issue 11): `gsocklab.lab.Lab` in JupyterLab, driven by clicks.

Each test opens ``tests/notebooks/panels.ipynb`` (a copy) in JupyterLab, runs its ``lab`` cell (two UDP panels,
``peer1`` and ``peer2``, and a `TrafficView` over a fresh `Recorder`) and works the panels with the mouse and the
keyboard, in headless Chromium driven by Playwright, through the server, browser and helpers of
``browser_support.py`` (see there, and ``test_browser.py``). Every test runs twice, under JupyterLab's setting
``commsOverSubshells`` = ``disabled`` (widget messages go to the kernel's main shell) and ``perCommTarget`` (the
default: they go to a subshell, ipykernel >= 7). A JupyterLab server reads that setting from its settings directory,
so each value gets its own server (started once for the tests of that value; pytest groups them).

1. ``test_panels_render``: both panels, all their buttons and the view appear; the setting reached the kernel (the
   kernel runs a subshell for the widgets with ``perCommTarget``, none with ``disabled``).
2. ``test_clicks_move_a_datagram``: Bind in both panels, peer2's address and a payload typed into peer1, Send in
   peer1, Receive in peer2: peer2 shows the datagram, the view's table shows peer1's ``send_to`` and peer2's
   ``receive_from``.
3. ``test_hostile_payload_shows_as_text``: the same with ``<img onerror><script>``: it shows as text, nothing runs.
4. ``test_front_end_stays_responsive_under_a_flood``: a background thread in the kernel records about 100,000
   events/s on the lab's recorder; meanwhile a Receive click and a Pause click show their effect, the trivial cell
   ``1+1`` answers (timed in the page, from the Shift+Enter keydown to its output in the DOM) and the page keeps
   drawing frames; the view shows the flood, without redrawing more than 10 times a second. The numbers are printed
   (``pytest -s``) and written to ``responsiveness-<setting>.json`` in the artifacts directory; the bounds asserted
   are generous (the issue's target of 100 ms for the trivial cell is reported, not asserted: a loaded CI machine
   would make it flaky; Pause gets the loosest bound, see `PAUSE_BOUND_MS`).

Every wait is bounded; the Recorder stores calls about every 0.25 s (under a flood, every 65,536 calls) and the view
redraws at most 5 times a second (far less under a flood), so a row takes up to a second or two to show when idle.
A failing test leaves ``<test>-FAILED.png``, the console log and the page's HTML in the artifacts directory
(``GSOCKLAB_BROWSER_ARTIFACTS``).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - browser_support skips (or fails) the tests
    pass

NOTEBOOK = ROOT / "tests" / "notebooks" / "panels.ipynb"
CELLS = {cell["id"]: i for i, cell in enumerate(json.loads(NOTEBOOK.read_text())["cells"])}  # id -> position

KERNELS_SETTINGS = "@jupyterlab/apputils-extension/kernels-settings.jupyterlab-settings"
KERNELS_PLUGIN = "@jupyterlab/apputils-extension:kernels-settings"
COMMS_SETTINGS = ("disabled", "perCommTarget")

BUTTONS = ("New socket", "Bind", "Connect", "Listen", "Accept", "Send", "Receive", "Join", "Leave", "Close")
HOSTILE = "<img src=x onerror=alert(1)><script>window.__pwned=1</script>"

CELL_TIMEOUT_S = 60  # a cell of the notebook until its prompt shows its execution count (import, kernel start)
PANEL_TIMEOUT_MS = 10_000  # a click until the panel shows its result (a pump tick is 0.2 s)
ROWS_TIMEOUT_S = 15  # a call until its row is in the view's table (storing ~0.25 s, then the view's pump)

# Bounds of test 4: generous, so that a loaded CI machine passes; the measured values are printed.
FLOOD_RATE = 100_000  # events/s the flood aims at (the notebook's default)
MIN_FLOOD_RATE = 20_000  # events/s below which the test would not measure anything like a flood
EFFECT_BOUND_MS = 2_000  # a click until its effect is in the DOM
# Pause acts at the view's next refresh, and under a flood the view refreshes rarely: a refresh then costs ~0.2 s
# alone, ~0.5 s in a kernel (mostly the live sequence picture of 400 rows, 180 kB of SVG), and the view's pump waits
# 9 times the cost of the last refresh (it keeps refreshes to 10 % of the interpreter). Measured: 1.2-9 s.
PAUSE_BOUND_MS = 15_000
PAUSE_TIMEOUT_MS = 20_000
TRIVIAL_CELL_BOUND_MS = 2_000  # Shift+Enter on `1+1` until its output is in the DOM
TRIVIAL_CELL_TARGET_MS = 100  # the target, reported
FRAME_GAP_BOUND_MS = 2_000  # the longest time the page drew no frame
MAX_VIEW_UPDATES_PER_S = 10  # the view's table redraws seen in the page, on average
MIN_FLOOD_WINDOW_S = 2.0  # the table updates are counted over at least this much of the flood
FLOOD_CALLS_SHOWN = 10_000  # the view's counters show more calls than this once it followed the flood
VIEW_FOLLOWS_TIMEOUT_S = 15  # the flood's first stored rows until the view shows them (see PAUSE_BOUND_MS)
IDLE_PING_SAMPLES = 3
FLOOD_PING_SAMPLES = 5
VIEWPORT = {"width": 1400, "height": 2400}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

T = TypeVar("T")


# --- the servers: one per value of commsOverSubshells -------------------------------------------------------------


@dataclass
class Setting:
    comms: str
    server: LabServer


@pytest.fixture(scope="module", params=COMMS_SETTINGS)
def setting(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            artifacts_dir: Path) -> Iterator[Setting]:
    """A JupyterLab server whose ``commsOverSubshells`` is the parameter; checked against the installed schema."""
    comms: str = request.param
    with start_lab_server(tmp_path_factory, artifacts_dir, [NOTEBOOK],
                          {KERNELS_SETTINGS: {"commsOverSubshells": comms}},
                          name=f"jupyter-server-{comms}") as server:
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
    """The notebook open, its ``lab`` cell run and both panels shown; dialogs are recorded (and dismissed)."""
    with sessions_deleted(setting.server):
        page.set_viewport_size(VIEWPORT)  # the whole lab on screen, for its screenshots
        opened = Opened(page, [])
        page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
        open_notebook(page, setting.server, NOTEBOOK.name, start_kernel_first=True)
        run_cell(page, "lab")
        expect(page.locator(".gs-lab .gs-socket-panel")).to_have_count(2, timeout=PANEL_TIMEOUT_MS)
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


def focus_cell(page: Page, cell_id: str) -> Locator:
    """Put the cursor into the cell's editor (edit mode), ready for Shift+Enter."""
    target = cell(page, cell_id)
    target.locator(".jp-InputArea-editor").click()
    return target


def wait_for_prompt(target: Locator, before: str, timeout_s: float = CELL_TIMEOUT_S) -> None:
    """Wait until the cell's prompt shows a new execution count; fail if the cell raised."""
    prompt = target.locator(".jp-InputPrompt")

    def ran() -> bool:
        text = prompt.inner_text().strip()
        return text != before and re.fullmatch(r"\[\d+\]:", text) is not None

    wait_for("the cell to run", ran, timeout_s)
    errors = target.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                            has_text="Traceback")
    if errors.count():
        pytest.fail("a cell raised:\n" + "\n\n".join(errors.all_inner_texts()))


def run_cell(page: Page, cell_id: str) -> Locator:
    """Run one cell from the UI (click into it, Shift+Enter) and wait until it has run."""
    target = focus_cell(page, cell_id)
    before = target.locator(".jp-InputPrompt").inner_text().strip()
    page.keyboard.press("Shift+Enter")
    wait_for_prompt(target, before)
    return target


def output_text(target: Locator) -> str:
    return "\n".join(target.locator(".jp-OutputArea-output").all_inner_texts()).strip()


def panel(page: Page, label: str) -> Locator:
    """The `SocketPanel` of socket ``label``."""
    return page.locator(".gs-socket-panel").filter(
        has=page.locator(".gs-label", has_text=re.compile(f"^{re.escape(label)}$")))


def text_field(owner: Locator, description: str) -> Locator:
    """The ``<input>`` of the panel's text field labelled ``description``."""
    return owner.locator(".widget-text").filter(
        has=owner.page.locator("label", has_text=re.compile(f"^{re.escape(description)}$"))).locator("input")


def view(page: Page) -> Locator:
    return page.locator(".gs-lab .gs-traffic-view")


def table_rows(page: Page) -> list[dict[str, str]]:
    """The rows of the view's table (newest first), as {column: text shown}."""
    table = view(page).locator("table.gs-rows")
    if not table.count():
        return []
    rows: list[dict[str, str]] = table.first.evaluate(
        """table => {
            const names = [...table.querySelectorAll('thead th')].map(th => th.textContent);
            return [...table.querySelectorAll('tbody tr')].map(
                tr => Object.fromEntries([...tr.children].map((td, i) => [names[i], td.textContent])));
        }""")
    return rows


def row_of(rows: list[dict[str, str]], socket: str, op: str) -> dict[str, str] | None:
    return next((row for row in rows if row.get("socket") == socket and row.get("op") == op), None)


def local_address(owner: Locator) -> str | None:
    """The bound ``127.0.0.1:PORT`` the panel's state line shows, or None before the bind shows."""
    codes = owner.locator(".gs-state code")
    if not codes.count():
        return None
    text = codes.first.inner_text().strip()
    return text if re.fullmatch(r"127\.0\.0\.1:[1-9]\d*", text) else None


def bind_both(page: Page) -> tuple[Locator, Locator, str]:
    """Bind in peer1 and peer2; peer2's address as its state line shows it."""
    peer1, peer2 = panel(page, "peer1"), panel(page, "peer2")
    peer1.locator("button.gs-bind").click()
    peer2.locator("button.gs-bind").click()
    expect(peer1.locator(".gs-result")).to_contain_text("bound to 127.0.0.1:", timeout=PANEL_TIMEOUT_MS)
    expect(peer2.locator(".gs-result")).to_contain_text("bound to 127.0.0.1:", timeout=PANEL_TIMEOUT_MS)
    address = wait_for("peer2's state to show its local address", lambda: local_address(peer2),
                       PANEL_TIMEOUT_MS / 1000)
    return peer1, peer2, address


def send(peer1: Locator, address: str, payload: str) -> None:
    """Type ``address`` and ``payload`` into peer1, press Send, wait until peer1 says it sent."""
    text_field(peer1, "remote").fill(address)
    text_field(peer1, "payload").fill(payload)
    peer1.locator("button.gs-send").click()
    expect(peer1.locator(".gs-result")).to_contain_text(f"sent {len(payload.encode())} bytes to {address}",
                                                        timeout=PANEL_TIMEOUT_MS)


def exchange(page: Page, payload: str) -> tuple[Locator, Locator, str]:
    """Bind both, send ``payload`` from peer1 to peer2, receive it in peer2 (all by clicks and typing)."""
    peer1, peer2, address = bind_both(page)
    send(peer1, address, payload)
    peer2.locator("button.gs-receive").click()
    expect(peer2.locator(".gs-result")).to_contain_text(f"received {len(payload.encode())} bytes from 127.0.0.1:",
                                                        timeout=PANEL_TIMEOUT_MS)
    return peer1, peer2, address


def both_rows(page: Page) -> tuple[dict[str, str], dict[str, str]]:
    """peer1's send_to row and peer2's receive_from row of the view's table, once both show."""
    def probe() -> tuple[dict[str, str], dict[str, str]] | None:
        rows = table_rows(page)
        sent, received = row_of(rows, "peer1", "send_to"), row_of(rows, "peer2", "receive_from")
        return (sent, received) if sent and received else None

    return wait_for("peer1's send_to and peer2's receive_from rows in the view", probe, ROWS_TIMEOUT_S)


# --- timing in the page ---------------------------------------------------------------------------------------------

# Arms a measurement of a click: from the click event on `trigger` to the moment an element matching `selector` under
# `root` contains `text` (a MutationObserver sees the widget's new HTML arrive).
ARM_CLICK = """(root, {key, trigger, selector, text}) => {
    const done = (window.__gsDone = window.__gsDone || {});
    delete done[key];
    const state = {t0: null};
    trigger.addEventListener('click', () => { if (state.t0 === null) state.t0 = performance.now(); },
                             {capture: true, once: true});
    const seen = () => [...root.querySelectorAll(selector)].some(e => e.textContent.includes(text));
    const observer = new MutationObserver(() => {
        if (state.t0 !== null && seen()) { done[key] = performance.now() - state.t0; observer.disconnect(); }
    });
    observer.observe(root, {childList: true, subtree: true, characterData: true});
}"""

# Arms a measurement of a cell: from the Shift+Enter keydown to a new output of the cell whose text is `text`.
ARM_CELL = """(cell, {key, text}) => {
    const done = (window.__gsDone = window.__gsDone || {});
    delete done[key];
    const old = new Set(cell.querySelectorAll('.jp-OutputArea-output'));
    const state = {t0: null};
    const onKey = e => { if (e.key === 'Enter' && e.shiftKey && state.t0 === null) state.t0 = performance.now(); };
    document.addEventListener('keydown', onKey, true);
    const observer = new MutationObserver(() => {
        if (state.t0 === null) return;
        for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
            if (!old.has(out) && out.textContent.trim() === text) {
                done[key] = performance.now() - state.t0;
                observer.disconnect();
                document.removeEventListener('keydown', onKey, true);
                return;
            }
        }
    });
    observer.observe(cell, {childList: true, subtree: true, characterData: true});
}"""

# Watches the page while the flood runs: the gaps between animation frames, long tasks, and every redraw of the view's
# table (a new table.gs-rows) with the call count the counters showed then.
WATCH_START = """view => {
    const w = window.__gsWatch = {start: performance.now(), last: performance.now(), gaps: [], running: true,
                                  long: [], tables: [], calls: []};
    const tick = () => {
        const now = performance.now();
        w.gaps.push(now - w.last);
        w.last = now;
        if (w.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    try {
        w.longObserver = new PerformanceObserver(
            list => { for (const e of list.getEntries()) w.long.push(e.duration); });
        w.longObserver.observe({type: 'longtask'});
    } catch (e) { w.long = null; }
    w.observer = new MutationObserver(records => {
        for (const r of records) for (const n of r.addedNodes) {
            if (n.nodeType !== 1) continue;
            if (n.matches('table.gs-rows')) w.tables.push(performance.now() - w.start);
            if (n.matches('.gs-counters')) {
                const calls = n.querySelector('.gs-count-calls');
                w.calls.push([performance.now() - w.start, calls ? calls.textContent : '']);
            }
        }
    });
    w.observer.observe(view, {childList: true, subtree: true});
}"""

WATCH_SNAPSHOT = """() => {
    const w = window.__gsWatch;
    const gaps = w.gaps;
    return {seconds: (performance.now() - w.start) / 1000, frames: gaps.length,
            max_frame_gap_ms: gaps.length ? Math.max(...gaps) : null,
            frame_gaps_over_100ms: gaps.filter(g => g > 100).length,
            long_tasks: w.long === null ? null : w.long.length,
            long_task_max_ms: w.long && w.long.length ? Math.max(...w.long) : 0,
            table_redraws: w.tables.length, calls_seen: w.calls.map(c => c[1])};
}"""

WATCH_STOP = """() => {
    const w = window.__gsWatch;
    w.running = false;
    w.observer.disconnect();
    if (w.longObserver) w.longObserver.disconnect();
}"""


def calls_shown(traffic: Locator) -> int:
    """The number of calls the view's counters show."""
    match = re.search(r"\d+", traffic.locator(".gs-count-calls").inner_text())
    return int(match[0]) if match else 0


def measured(page: Page, key: str, timeout_ms: float) -> float:
    """The milliseconds of measurement ``key``, once the page has it."""
    page.wait_for_function("key => (window.__gsDone || {})[key] !== undefined", arg=key, timeout=timeout_ms)
    value: float = page.evaluate("key => window.__gsDone[key]", key)
    return value


def time_click(page: Page, button: Locator, root: Locator, selector: str, text: str, key: str,
               timeout_ms: float = PANEL_TIMEOUT_MS) -> float:
    """Click ``button``; milliseconds until ``text`` shows in ``selector`` under ``root``."""
    assert not [t for t in root.locator(selector).all_inner_texts() if text in t], f"{text!r} shows already"
    root.evaluate(ARM_CLICK, {"key": key, "trigger": button.element_handle(), "selector": selector, "text": text})
    button.click()
    return measured(page, key, timeout_ms)


def time_trivial_cell(page: Page, key: str) -> float:
    """Run the ``ping`` cell (``1+1``) from the UI; milliseconds from the Shift+Enter keydown to its output ``2``."""
    target = focus_cell(page, "ping")
    before = target.locator(".jp-InputPrompt").inner_text().strip()
    target.evaluate(ARM_CELL, {"key": key, "text": "2"})
    page.keyboard.press("Shift+Enter")
    value = measured(page, key, CELL_TIMEOUT_S * 1000)
    wait_for_prompt(target, before)
    return value


@dataclass
class Numbers:
    """What test 4 measured, for the printout and ``responsiveness-<setting>.json``."""

    comms: str
    trivial_cell_idle_ms: list[float] = field(default_factory=list)
    trivial_cell_flood_ms: list[float] = field(default_factory=list)
    receive_click_ms: float | None = None
    pause_click_ms: float | None = None
    window_s: float = 0.0  # the flood's start until the last measurement
    page: dict[str, Any] = field(default_factory=dict)
    flood: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        def ms(values: list[float]) -> str:
            return ", ".join(f"{v:.0f}" for v in values) + (f" (median {statistics.median(values):.0f})"
                                                            if values else "")
        target = "holds" if self.trivial_cell_flood_ms and max(self.trivial_cell_flood_ms) <= TRIVIAL_CELL_TARGET_MS \
            else "does not hold"
        return (f"commsOverSubshells={self.comms}: flood {self.flood.get('rate')} events/s over "
                f"{self.flood.get('seconds')} s ({self.flood.get('events')} events)\n"
                f"  1+1 from Shift+Enter to output, idle: {ms(self.trivial_cell_idle_ms)} ms\n"
                f"  1+1 from Shift+Enter to output, flood: {ms(self.trivial_cell_flood_ms)} ms "
                f"(target <= {TRIVIAL_CELL_TARGET_MS} ms {target})\n"
                f"  Receive click -> 'received' shown: {self.receive_click_ms:.0f} ms; "
                f"Pause click -> 'paused' shown: {self.pause_click_ms:.0f} ms\n"
                f"  page during the flood: {json.dumps(self.page)}")


# --- the tests ------------------------------------------------------------------------------------------------------


def test_panels_render(lab: Opened, setting: Setting, artifacts_dir: Path) -> None:
    page = lab.page
    panels = page.locator(".gs-lab .gs-socket-panel")
    for i, label in enumerate(("peer1", "peer2")):
        owner = panels.nth(i)
        expect(owner).to_be_visible()
        expect(owner.locator(".gs-label")).to_have_text(label)
        for name in BUTTONS:
            button = owner.locator(f"button.gs-{name.lower().replace(' ', '-')}")
            expect(button, f"{label}'s {name} button").to_be_visible()
            expect(button).to_have_text(name)
        for description in ("local", "remote", "payload"):
            expect(text_field(owner, description), f"{label}'s {description} field").to_be_visible()
        expect(owner.locator(".gs-state")).to_have_attribute("data-state", "open")
        expect(owner.locator("[class^='gs-light-']")).to_have_count(4)
        expect(owner.locator(".gs-light-out")).to_have_attribute("data-on", "1")  # a UDP socket can always send
    traffic = view(page)
    expect(traffic).to_be_visible()
    expect(traffic.locator("button.gs-pause")).to_be_visible()
    expect(traffic.locator(".gs-counters")).to_contain_text("calls")
    expect(traffic.locator("table.gs-rows")).to_have_count(1)
    expect(tracebacks(page)).to_have_count(0)

    subshells = output_text(run_cell(page, "subshells"))
    match = re.fullmatch(r"subshells: (\d+)", subshells)
    assert match, f"the kernel does not support subshells: {subshells!r}"
    if setting.comms == "disabled":
        assert int(match[1]) == 0, f"commsOverSubshells=disabled, but the kernel runs {match[1]} subshell(s)"
    else:
        assert int(match[1]) >= 1, "commsOverSubshells=perCommTarget, but the kernel runs no subshell for the widgets"
    page.locator(".gs-lab").screenshot(path=str(artifacts_dir / f"panels-{setting.comms}.png"))


def test_clicks_move_a_datagram(lab: Opened, setting: Setting) -> None:
    page = lab.page
    payload = f"hello over {setting.comms}"
    _, peer2, address = exchange(page, payload)
    assert f"b'{payload}'" in peer2.locator(".gs-result").inner_text()
    expect(peer2.locator(".gs-error")).to_have_count(0)

    sent, received = both_rows(page)
    size = str(len(payload.encode()))
    assert sent["peer"] == address, sent
    assert sent["nbytes"] == size, sent
    assert received["nbytes"] == size, received
    assert received["peer"].startswith("127.0.0.1:"), received
    assert payload in sent["payload"], sent
    assert payload in received["payload"], received
    assert not sent["error"], sent
    assert not received["error"], received
    expect(view(page).locator(".gs-count-in")).to_contain_text(f"1 msg / {size} B")
    expect(view(page).locator(".gs-count-out")).to_contain_text(f"1 msg / {size} B")


def test_hostile_payload_shows_as_text(lab: Opened, artifacts_dir: Path, setting: Setting) -> None:
    page = lab.page
    peer1, peer2, _ = exchange(page, HOSTILE)
    result = peer2.locator(".gs-result").inner_text()
    assert "<img src=x onerror=alert(1)><script>" in result, result  # the panel cuts the preview at 48 bytes
    sent, received = both_rows(page)
    for row in (sent, received):  # the table cuts payloads at 32 bytes
        assert "<img src=x onerror=alert(1)>" in row["payload"], row

    assert page.evaluate("() => window.__pwned") is None, "the payload's <script> ran"
    assert lab.dialogs == [], f"the payload's onerror ran: {lab.dialogs}"
    lab_area = page.locator(".gs-lab")
    expect(lab_area.locator('img[src="x"]')).to_have_count(0)
    expect(lab_area.locator("script")).to_have_count(0)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(peer1.locator(".gs-result")).to_contain_text(f"sent {len(HOSTILE)} bytes")
    lab_area.screenshot(path=str(artifacts_dir / f"hostile-{setting.comms}.png"))


def test_front_end_stays_responsive_under_a_flood(lab: Opened, setting: Setting, artifacts_dir: Path) -> None:
    page = lab.page
    numbers = Numbers(setting.comms)
    peer1, peer2, address = bind_both(page)
    send(peer1, address, "queued")  # a datagram waits in peer2 for the Receive click during the flood
    traffic = view(page)
    for i in range(IDLE_PING_SAMPLES):
        numbers.trivial_cell_idle_ms.append(time_trivial_cell(page, f"idle-{i}"))

    traffic.evaluate(WATCH_START)
    flood_cell = run_cell(page, "flood")
    assert output_text(flood_cell) == "flood started"
    started = time.monotonic()
    try:
        for i in range(FLOOD_PING_SAMPLES):
            numbers.trivial_cell_flood_ms.append(time_trivial_cell(page, f"flood-{i}"))
        numbers.receive_click_ms = time_click(page, peer2.locator("button.gs-receive"), peer2, ".gs-result",
                                              "received 6 bytes", "receive")
        wait_for(f"the view's counters to show the flood (more than {FLOOD_CALLS_SHOWN} calls)",
                 lambda: calls_shown(traffic) > FLOOD_CALLS_SHOWN, VIEW_FOLLOWS_TIMEOUT_S)
        remaining = MIN_FLOOD_WINDOW_S - (time.monotonic() - started)
        if remaining > 0:
            page.wait_for_timeout(remaining * 1000)
        numbers.page = page.evaluate(WATCH_SNAPSHOT)
        numbers.pause_click_ms = time_click(page, traffic.locator("button.gs-pause"), traffic, ".gs-status",
                                            "paused", "pause", PAUSE_TIMEOUT_MS)
        numbers.window_s = time.monotonic() - started
    finally:
        page.evaluate(WATCH_STOP)
        report = output_text(run_cell(page, "flood-report"))
    numbers.flood = json.loads(report)
    numbers.page["view_height_px"] = round(traffic.evaluate("view => view.getBoundingClientRect().height"))
    page.locator(".gs-lab").evaluate("lab => lab.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(artifacts_dir / f"flood-{setting.comms}.png"))  # the panels and the view, paused
    print(numbers.text())
    (artifacts_dir / f"responsiveness-{setting.comms}.json").write_text(json.dumps(numbers.__dict__, indent=2) + "\n")

    flood = numbers.flood
    assert flood["error"] is None, flood
    assert not flood["alive"], flood
    assert flood["seconds"] >= numbers.window_s - 0.5, f"the flood ended before the measurements did: {flood}"
    assert flood["rate"] >= MIN_FLOOD_RATE, f"the flood ran at {flood['rate']} events/s only: {flood}"
    assert flood["rate"] <= FLOOD_RATE * 1.1, flood
    assert max(numbers.trivial_cell_flood_ms) <= TRIVIAL_CELL_BOUND_MS, numbers.text()
    assert numbers.receive_click_ms <= EFFECT_BOUND_MS, numbers.text()
    assert numbers.pause_click_ms <= PAUSE_BOUND_MS, numbers.text()
    watched = numbers.page
    assert watched["max_frame_gap_ms"] is not None, watched
    assert watched["max_frame_gap_ms"] <= FRAME_GAP_BOUND_MS, numbers.text()
    assert watched["table_redraws"] / watched["seconds"] <= MAX_VIEW_UPDATES_PER_S, numbers.text()
    expect(peer2.locator(".gs-result")).to_contain_text("received 6 bytes")
