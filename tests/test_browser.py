"""Real-browser test of the pictures of a recording (issue 10): JupyterLab renders every ``gsocklab.plots`` SVG.

The test starts its own JupyterLab server and drives Debian's Chromium through Playwright (Python); it never runs
``playwright install``. The server, the browser and the helpers are those of ``browser_support.py`` (shared with
``test_browser_lab.py``), which follows ``/work/shared/recipes/notebook-testing.md``:

* one server for this module on ``127.0.0.1`` with a random token, serving a temporary root directory that holds a
  *copy* of ``tests/notebooks/pictures.ipynb`` (the repository file is never saved over), with temporary Jupyter
  config, data, runtime, settings and workspace directories; the settings switch off the news pop-up, autosave and
  cell windowing (so every output is laid out, on screen or not);
* the kernel imports the gsocklab of this checkout (``PYTHONPATH``), like ``test_notebooks.py``;
* Playwright (and its Chromium) lives for this module only: its sync API keeps an asyncio loop running in the main
  thread, which would break every later ``asyncio.run()`` in the suite;
* the server dies with pytest (``PR_SET_PDEATHSIG``) and is stopped by pid: SIGTERM, then SIGKILL, then any kernel it
  left behind; every kernel session is deleted after each test;
* every wait has a timeout; a failing test leaves ``<test>-FAILED.png``, the browser console log and the page's HTML
  in the artifacts directory (``GSOCKLAB_BROWSER_ARTIFACTS``, default: ``browser_artifacts`` in pytest's temporary
  directory), next to ``jupyter-server.log``.

The tests skip only when the Python package ``playwright`` or a Chromium executable is missing; with
``GSOCKLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing part fails instead. ``GSOCKLAB_CHROMIUM`` names the
browser executable explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_support import (
    ROOT,
    LabServer,
    artifacts_dir_fixture,  # noqa: F401  (the fixture artifacts_dir)
    browser_fixture,  # noqa: F401  (the fixture browser)
    code_cell_count,
    open_notebook,
    page_fixture,  # noqa: F401  (the fixture page)
    run_all_cells,
    sessions_deleted,
    start_lab_server,
    tracebacks,
    wait_until_every_cell_ran,
)

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - browser_support skips (or fails) the tests
    pass

NOTEBOOK = ROOT / "tests" / "notebooks" / "pictures.ipynb"

RENDER_TIMEOUT_MS = 10_000  # a picture in an output that has already arrived

# Which sockets the notebook's scenario uses, and which failed calls it makes.
SOCKETS = {"alice", "bob", "nobody"}
FAILED_CALLS = ("TIMED_OUT", "WOULD_BLOCK")
PICTURES = ("sequence", "timeline", "io-graph", "batches", "delivery")  # the classes gsocklab-<kind>

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def lab_server_session(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[LabServer]:
    """One JupyterLab server for this module (about 3 s to start)."""
    with start_lab_server(tmp_path_factory, artifacts_dir, [NOTEBOOK]) as server:
        yield server


@pytest.fixture
def lab_server(lab_server_session: LabServer) -> Iterator[LabServer]:
    """The module's server; the kernel sessions a test started are deleted after it."""
    with sessions_deleted(lab_server_session) as server:
        yield server


# --- helpers --------------------------------------------------------------------------------------------------------


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
