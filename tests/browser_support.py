"""What the real-browser tests share: a JupyterLab server, Chromium driven by Playwright, and JupyterLab helpers.

Used by ``test_browser.py`` (the pictures, issue 10) and ``test_browser_lab.py`` (the widget panels, issue 11). It
follows ``/work/shared/recipes/notebook-testing.md``:

* `start_lab_server` starts a JupyterLab server on ``127.0.0.1`` with a random token, serving a temporary root directory
  that holds *copies* of the notebooks (a repository file is never saved over), with temporary Jupyter config, data,
  runtime, settings and workspace directories; the settings switch off the news pop-up, autosave and cell windowing
  (so every output is laid out, on screen or not), and a test module may add its own (`LAB_SETTINGS`);
* the kernel imports the gsocklab of this checkout (``PYTHONPATH``), like ``test_notebooks.py``;
* Playwright (and its Chromium) lives for one test module only (the `browser` fixture): its sync API keeps an asyncio
  loop running in the main thread, which would break every later ``asyncio.run()`` in the suite;
* the server dies with pytest (``PR_SET_PDEATHSIG``) and is stopped by pid: SIGTERM, then SIGKILL, then any kernel it
  left behind; `LabServer.delete_sessions` shuts every kernel session down between tests;
* every wait has a timeout; a failing test leaves ``<test>-FAILED.png``, the browser console log and the page's HTML
  in the artifacts directory (``GSOCKLAB_BROWSER_ARTIFACTS``, default: ``browser_artifacts`` in pytest's temporary
  directory), next to the servers' logs.

The tests skip only when the Python package ``playwright`` or a Chromium executable is missing; with
``GSOCKLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing part fails instead. ``GSOCKLAB_CHROMIUM`` names the
browser executable explicitly.

A test module imports the fixtures it uses (``artifacts_dir_fixture``, ``browser_fixture``, ``page_fixture``: the
fixtures ``artifacts_dir``, ``browser``, ``page``) by name, so that pytest sees them; each module gets its own
browser.
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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
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

SERVER_START_TIMEOUT_S = 60  # until GET /api/status answers
SERVER_STOP_TIMEOUT_S = 15  # SIGTERM -> SIGKILL
KERNEL_EXIT_TIMEOUT_S = 5  # kernels left after the server exited -> SIGKILL
UI_TIMEOUT_MS = 60_000  # JupyterLab load, kernel start (the default for every Playwright action)
RUN_ALL_TIMEOUT_S = 60  # Run All until every code cell has run

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


def require_browser() -> str:
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
    home: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def url(self, rel_path: str) -> str:
        """The notebook's URL; ``?reset`` starts from an empty workspace (no tabs restored)."""
        return f"{self.base_url}/lab/tree/{quote(rel_path)}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10.0, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"token {self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start_session(self, rel_path: str, kernel: str = "python3") -> None:
        """Start the notebook's kernel session (JupyterLab connects to it when it opens the notebook)."""
        self.api("/api/sessions", method="POST", timeout=60.0,
                 body={"path": rel_path, "name": rel_path, "type": "notebook", "kernel": {"name": kernel}})

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


@contextlib.contextmanager
def start_lab_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path, notebooks: Sequence[Path],
                     settings: Mapping[str, Mapping[str, Any]] | None = None,
                     name: str = "jupyter-server") -> Iterator[LabServer]:
    """A JupyterLab server serving copies of ``notebooks``, with `LAB_SETTINGS` and ``settings`` (which win).

    ``settings`` maps a settings file, relative to the settings directory (for example
    ``@jupyterlab/apputils-extension/kernels-settings.jupyterlab-settings``), to its content. The server's output goes
    to ``<artifacts_dir>/<name>.log``. Stopped (with its kernels) when the block ends.
    """
    require_browser()  # no server that no browser will ever visit
    root = tmp_path_factory.mktemp("lab_root")
    home = tmp_path_factory.mktemp("lab_home")
    for notebook in notebooks:
        shutil.copy2(notebook, root / notebook.name)

    env = dict(os.environ)
    for variable, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
        (home / sub).mkdir()
        env[variable] = str(home / sub)
    for file, content in {**LAB_SETTINGS, **(settings or {})}.items():
        path = home / "settings" / file
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
    log_path = artifacts_dir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        server = LabServer(f"http://127.0.0.1:{port}", token, root, home, proc, log_path)
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


@contextlib.contextmanager
def sessions_deleted(server: LabServer) -> Iterator[LabServer]:
    """``server`` for one test; the kernel sessions the test started are deleted after it."""
    try:
        yield server
    finally:
        with contextlib.suppress(urllib.error.URLError, OSError):
            server.delete_sessions()


# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="artifacts_dir")
def artifacts_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server logs, screenshots and console logs go (the same directory for every module)."""
    chosen = os.environ.get("GSOCKLAB_BROWSER_ARTIFACTS")
    path = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "browser_artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    """Chromium driven by Playwright, for one module only.

    Not session-scoped: while Playwright's sync API is active, its asyncio loop counts as *running* in the main
    thread, so every later ``asyncio.run()`` in the suite (test_source.py, ...) would fail with "asyncio.run() cannot
    be called from a running event loop".
    """
    executable = require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True,
                                              timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(name="page")
def page_fixture(browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
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


def open_notebook(page: Page, server: LabServer, name: str, start_kernel_first: bool = False) -> None:
    """Open ``name`` and wait until its kernel is connected and idle.

    ``start_kernel_first``: start the kernel session through the REST API while the page loads, which saves a second
    or two (JupyterLab finds the session of the notebook's path and connects to it).
    """
    starter = None
    if start_kernel_first:  # if this fails, JupyterLab starts the kernel itself, as without it

        def start() -> None:
            with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
                server.start_session(name)

        starter = threading.Thread(target=start, name="start-kernel", daemon=True)
        starter.start()
    page.goto(server.url(name), wait_until="domcontentloaded")
    if starter is not None:
        starter.join(60)
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
