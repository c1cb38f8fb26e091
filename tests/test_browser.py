"""Real-browser test of the pictures of a recording (issue 10): JupyterLab renders every ``gsocklab.plots`` SVG.

The test starts its own JupyterLab server and drives Debian's Chromium through Playwright (Python); it never runs
``playwright install``. It follows ``/work/shared/recipes/notebook-testing.md``:

* one server per session on ``127.0.0.1`` with a random token, serving a temporary root directory that holds a *copy*
  of ``tests/notebooks/pictures.ipynb`` (the repository file is never saved over), with temporary Jupyter config,
  data, runtime, settings and workspace directories; the settings switch off the news pop-up, autosave and cell
  windowing (so every output is laid out, on screen or not);
* the kernel imports the gsocklab of this checkout (``PYTHONPATH``), like ``test_notebooks.py``;
* Playwright (and its Chromium) lives for this module only: its sync API keeps an asyncio loop running in the main
  thread, which would break every later ``asyncio.run()`` in the suite;
* the server dies with pytest (``PR_SET_PDEATHSIG``) and is stopped by pid: SIGTERM, then SIGKILL, then any kernel it
  left behind; every kernel session is deleted after each test;
* every wait has a timeout; a failing test leaves ``<test>-FAILED.png``, the browser console log and the page's HTML
  in the artifacts directory (``GSOCKLAB_BROWSER_ARTIFACTS``, default: a pytest temporary directory), next to
  ``jupyter-server.log``.

The tests skip only when the Python package ``playwright`` or a Chromium executable is missing; with
``GSOCKLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing part fails instead. ``GSOCKLAB_CHROMIUM`` names the
browser executable explicitly.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

try:  # optional: without it the browser tests skip (or fail with GSOCKLAB_REQUIRE_BROWSER=1)
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

    PLAYWRIGHT_IMPORT_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - depends on the machine
    PLAYWRIGHT_IMPORT_ERROR = f"{type(exc).__name__}: {exc}"

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "notebooks" / "pictures.ipynb"

SERVER_START_TIMEOUT_S = 60  # until GET /api/status answers
SERVER_STOP_TIMEOUT_S = 15  # SIGTERM -> SIGKILL
KERNEL_EXIT_TIMEOUT_S = 5  # kernels left after the server exited -> SIGKILL
UI_TIMEOUT_MS = 60_000  # JupyterLab load, kernel start (the default for every Playwright action)
RUN_ALL_TIMEOUT_S = 60  # Run All until every code cell has run (the notebook needs about 2 s)
RENDER_TIMEOUT_MS = 10_000  # a picture in an output that has already arrived

# Which sockets the notebook's scenario uses, and which failed calls it makes.
SOCKETS = {"alice", "bob", "nobody"}
FAILED_CALLS = ("TIMED_OUT", "WOULD_BLOCK")
PICTURES = ("sequence", "timeline", "io-graph", "batches", "delivery")  # the classes gsocklab-<kind>

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # needed as root and in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no attempts to reach Google on a closed network
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # a small /dev/shm crashes tabs
]

LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # No "Would you like to get notified about official Jupyter news?" toast over the page, no update check.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    # JupyterLab autosaves every 120 s: never write outputs into the served copy.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # The default "contentVisibility" skips the layout of cells off screen; "none" lays out every output.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


# --- is there a browser? ----------------------------------------------------------------------------------------


def _missing(reason: str) -> None:
    """Skip the test because ``reason``; fail instead when ``GSOCKLAB_REQUIRE_BROWSER=1``."""
    if os.environ.get("GSOCKLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the real-browser test is required (GSOCKLAB_REQUIRE_BROWSER=1), but {reason}")
    pytest.skip(f"real-browser test skipped: {reason} (GSOCKLAB_REQUIRE_BROWSER=1 turns this into a failure)")


def _chromium() -> str:
    """The Chromium executable; skips (or fails) only when there is none."""
    explicit = os.environ.get("GSOCKLAB_CHROMIUM")
    if explicit:  # an explicit choice that does not work is an error, never a reason to skip
        found = shutil.which(explicit)
        if not found:
            pytest.fail(f"GSOCKLAB_CHROMIUM={explicit!r} is not an executable file")
        return found
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    _missing("there is no Chromium executable: neither `chromium` nor `chromium-browser` is on PATH "
             "(install it with `apt-get install chromium`, or set GSOCKLAB_CHROMIUM)")
    raise AssertionError("unreachable")  # pragma: no cover - _missing raises


def _require_browser() -> str:
    """Check both parts before anything expensive starts; return the Chromium executable."""
    if PLAYWRIGHT_IMPORT_ERROR is not None:
        _missing(f"the Python package `playwright` cannot be imported by {sys.executable} ({PLAYWRIGHT_IMPORT_ERROR}); "
                 "install it with `pip install playwright` (no `playwright install`: the test drives the system "
                 "Chromium)")
    return _chromium()


# --- the JupyterLab server ----------------------------------------------------------------------------------------


@dataclass
class LabServer:
    base_url: str
    token: str
    root: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def url(self, rel_path: str) -> str:
        """The notebook's URL; ``?reset`` starts from an empty workspace (no tabs restored)."""
        return f"{self.base_url}/lab/tree/{quote(rel_path)}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> Any:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every kernel session, so that no kernel state leaks into the next test."""
        for session in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=20.0)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no server log>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _status_ok(base_url: str, token: str) -> bool:
    request = urllib.request.Request(f"{base_url}/api/status", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """``preexec_fn``: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so that a killed pytest does not orphan the server.

    SIGKILL, not SIGTERM: a SIGTERM in the middle of a request can leave jupyter_server hung in interpreter shutdown.
    Its kernels notice that their parent is gone and exit by themselves.
    """
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG


def _descendants(pid: int) -> list[int]:
    """The server's descendants (its kernels: they run in their own session, so its process group misses them)."""
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, or the process is gone already
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's pid by now
        return False
    return True


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Jupyter shuts its kernels down), a bounded wait, SIGKILL; then SIGKILL the kernels still alive.

    Only the pid this module started and its own descendants are ever signalled.
    """
    if proc.poll() is not None:
        return
    kernels = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    deadline = time.monotonic() + KERNEL_EXIT_TIMEOUT_S
    for pid in kernels:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server log, screenshots and console logs go."""
    chosen = os.environ.get("GSOCKLAB_BROWSER_ARTIFACTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("browser_artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def lab_server_session(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[LabServer]:
    """One JupyterLab server for the whole session (about 3 s to start)."""
    _require_browser()  # no server that no browser will ever visit
    root = tmp_path_factory.mktemp("lab_root")
    home = tmp_path_factory.mktemp("lab_home")
    shutil.copy2(NOTEBOOK, root / NOTEBOOK.name)

    env = dict(os.environ)
    for variable, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
        (home / sub).mkdir()
        env[variable] = str(home / sub)
    for name, content in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    env.pop("JUPYTER_TOKEN", None)
    env.pop("JPY_PARENT_PID", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)

    port = _free_port()
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--port-retries=0",  # fail at once instead of moving to another port
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",  # jupyter_server 2 (ServerApp.token is deprecated)
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # as root the server exits at once without it
    log_path = artifacts_dir / "jupyter-server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        server = LabServer(f"http://127.0.0.1:{port}", token, root, proc, log_path)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _status_ok(server.base_url, token):
                if proc.poll() is not None:
                    pytest.fail(f"jupyter lab exited with status {proc.returncode}:\n{server.log_tail()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}")
                time.sleep(0.25)
            yield server
        finally:
            _stop_server(proc)


@pytest.fixture
def lab_server(lab_server_session: LabServer) -> Iterator[LabServer]:
    """The session's server; the kernel sessions a test started are deleted after it."""
    yield lab_server_session
    with contextlib.suppress(urllib.error.URLError, OSError):
        lab_server_session.delete_sessions()


# --- the browser ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium driven by Playwright, for this module only.

    Not session-scoped: while Playwright's sync API is active, its asyncio loop counts as *running* in the main
    thread, so every later ``asyncio.run()`` in the suite (test_source.py, ...) would fail with "asyncio.run() cannot
    be called from a running event loop".
    """
    executable = _require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True,
                                              timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page; when the test fails, its screenshot, console log and HTML are kept in ``artifacts_dir``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(UI_TIMEOUT_MS)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    failed_before = request.session.testsfailed
    try:
        yield tab
    finally:
        if request.session.testsfailed > failed_before:  # the test's call failed: keep the evidence
            name = re.sub(r"[^\w.-]", "_", request.node.name)
            (artifacts_dir / f"{name}-console.txt").write_text("\n".join(console) + "\n")
            with contextlib.suppress(Exception):  # a crashed page must not hide the test's own failure
                tab.screenshot(path=str(artifacts_dir / f"{name}-FAILED.png"), full_page=True, timeout=15_000)
                (artifacts_dir / f"{name}-page.html").write_text(tab.content())
            print(f"browser artifacts of {request.node.nodeid}: {artifacts_dir}", file=sys.stderr)
        context.close()


# --- JupyterLab helpers -------------------------------------------------------------------------------------------


def open_notebook(page: Page, server: LabServer, name: str) -> None:
    """Open ``name`` and wait until its kernel is connected and idle."""
    page.goto(server.url(name), wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first).to_be_visible(timeout=UI_TIMEOUT_MS)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells (JupyterLab 4 binds no key to it)."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()


def tracebacks(page: Page) -> Locator:
    """Error outputs (an exception shows its traceback in a stderr-typed output)."""
    return page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                        has_text="Traceback")


def wait_until_every_cell_ran(page: Page, code_cells: int) -> None:
    """Wait (bounded) until every code cell shows an execution count, or a cell raised; fail on an error output."""
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_count(code_cells, timeout=UI_TIMEOUT_MS)
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    while True:
        texts = [text.strip() for text in prompts.all_inner_texts()]
        ran = sum(bool(re.fullmatch(r"\[\d+\]:", text)) for text in texts)
        if tracebacks(page).count():
            break
        if ran == code_cells:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"Run All did not finish within {RUN_ALL_TIMEOUT_S} s; the prompts read {texts}")
        page.wait_for_timeout(200)
    errors = tracebacks(page)
    if errors.count():
        pytest.fail("a cell raised:\n" + "\n\n".join(errors.all_inner_texts()))
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(
        timeout=UI_TIMEOUT_MS)


def code_cell_count(path: Path) -> int:
    return sum(cell["cell_type"] == "code" for cell in json.loads(path.read_text())["cells"])


def mark_tooltips(svg: Locator) -> int:
    """How many ``<title>`` tooltips ``svg`` holds, besides the picture's own title (a child of the root)."""
    count: int = svg.evaluate("root => [...root.querySelectorAll('title')].filter(t => t.parentNode !== root).length")
    return count


def without_tooltip(svg: Locator, selector: str) -> int:
    """How many marks matching ``selector`` inside ``svg`` have no ``<title>`` child."""
    count: int = svg.evaluate(
        "(root, selector) => [...root.querySelectorAll(selector)]"
        ".filter(mark => !mark.querySelector(':scope > title')).length",
        selector,
    )
    return count


def seconds(value: str | None) -> float:
    """A ``data-waited`` value as a number; NaN when it is missing or not a number."""
    try:
        return float(value) if value is not None else float("nan")
    except ValueError:
        return float("nan")


# --- the tests ------------------------------------------------------------------------------------------------------


def test_server_serves_a_copy_of_the_notebook(lab_server: LabServer) -> None:
    model = lab_server.api(f"/api/contents/{quote(NOTEBOOK.name)}?content=0")
    assert model["type"] == "notebook"
    assert lab_server.root != NOTEBOOK.parent
    assert (lab_server.root / NOTEBOOK.name).read_bytes() == NOTEBOOK.read_bytes()


def test_every_picture_renders_in_jupyterlab(lab_server: LabServer, page: Page, artifacts_dir: Path) -> None:
    open_notebook(page, lab_server, NOTEBOOK.name)
    run_all_cells(page)
    wait_until_every_cell_ran(page, code_cell_count(NOTEBOOK))
    expect(tracebacks(page)).to_have_count(0)

    outputs = page.locator(".jp-OutputArea-output")
    for kind in PICTURES:
        svg = outputs.locator(f"svg.gsocklab-{kind}")
        expect(svg, f"one gsocklab-{kind} picture").to_have_count(1, timeout=RENDER_TIMEOUT_MS)
        svg.scroll_into_view_if_needed(timeout=RENDER_TIMEOUT_MS)
        expect(svg, f"the gsocklab-{kind} picture is visible").to_be_visible(timeout=RENDER_TIMEOUT_MS)
        box = svg.bounding_box(timeout=RENDER_TIMEOUT_MS)
        assert box is not None, f"gsocklab-{kind} has no bounding box"
        assert box["width"] > 0, f"gsocklab-{kind} is {box}"
        assert box["height"] > 0, f"gsocklab-{kind} is {box}"
        assert mark_tooltips(svg) > 0, f"the marks of gsocklab-{kind} have no <title> tooltips"
        svg.screenshot(path=str(artifacts_dir / f"{kind}.png"), timeout=RENDER_TIMEOUT_MS)

    sequence = outputs.locator("svg.gsocklab-sequence")
    lifelines = sequence.locator("g.lifeline")
    expect(lifelines).to_have_count(len(SOCKETS))
    assert {lifelines.nth(i).get_attribute("data-socket") for i in range(len(SOCKETS))} == SOCKETS
    assert sequence.locator("g.flow title").count() > 0
    expect(sequence.locator("g.flow.lost")).to_have_count(1)
    for code in FAILED_CALLS:
        assert sequence.locator(f'g.call.error[data-error="{code}"]').count() >= 1, f"no failed call marked {code}"
    waited = sequence.locator("rect.wait").evaluate_all("marks => marks.map(m => m.getAttribute('data-waited'))")
    assert any(seconds(w) > 0 for w in waited), f"no rect.wait with a positive data-waited: {waited}"
    for selector in ("g.lifeline", "g.flow", "g.call", "rect.wait"):
        assert without_tooltip(sequence, selector) == 0, f"a {selector} mark has no <title>"

    page.screenshot(path=str(artifacts_dir / "pictures.png"), full_page=True)
