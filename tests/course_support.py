"""What the course tests share: running a course notebook, and the `Mistake` records.

A `Mistake` is a deliberately wrong solution to one exercise of a course notebook: the
exercise cell's whole source is replaced by ``code``, the notebook runs up to the check cell
``check``, and that cell must fail with `gsocklab.check.CheckFailed` whose text matches the
regular expression ``message`` — the message a student would see. Each notebook's mistakes
live in ``tests/course_mistakes/<notebook stem with _>.py`` as a list ``MISTAKES``.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "course" / "solutions"
STUDENTS = ROOT / "notebooks" / "course"
MISTAKES_DIR = Path(__file__).resolve().parent / "course_mistakes"


@dataclass(frozen=True)
class Mistake:
    """A wrong solution of exercise cell ``exercise`` that check cell ``check`` must catch."""

    name: str
    exercise: str
    code: str
    check: str
    message: str


def kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("JPY_PARENT_PID", None)
    return env


def cell_of(nb: Any, cell_id: str) -> Any:
    found = [cell for cell in nb.cells if cell.get("id") == cell_id]
    assert len(found) == 1, f"expected one cell {cell_id!r}, found {len(found)}"
    return found[0]


def execute(nb: Any, path: Path, allow_errors: bool = False, timeout: int = 120) -> Any:
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout, startup_timeout=60,
                                     allow_errors=allow_errors, resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env())
    return nb


def errors(cell: Any) -> list[Any]:
    return [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def mistakes() -> list[tuple[str, Mistake]]:
    """(notebook file name, mistake) for every mistake module in ``tests/course_mistakes``."""
    found = []
    for module_path in sorted(MISTAKES_DIR.glob("*.py")):
        if module_path.name.startswith("_"):
            continue
        module = importlib.import_module(f"course_mistakes.{module_path.stem}")
        notebook = module_path.stem.replace("_", "-") + ".ipynb"
        found.extend((notebook, mistake) for mistake in module.MISTAKES)
    return found


def run_mistake(notebook: str, mistake: Mistake) -> str:
    """Run the teacher's ``notebook`` with ``mistake`` up to its check cell; the check's error text."""
    path = SOLUTIONS / notebook
    nb = nbformat.read(path, as_version=4)
    cell_of(nb, mistake.exercise).source = mistake.code
    position = [cell.get("id") for cell in nb.cells].index(mistake.check)
    nb.cells = nb.cells[:position + 1]
    execute(nb, path, allow_errors=True)
    for cell in nb.cells[:-1]:
        assert not errors(cell), f"cell {cell.get('id')!r} failed before the check: {errors(cell)[0].get('evalue')}"
    failed = errors(nb.cells[-1])
    assert failed, f"{mistake.name}: the check cell {mistake.check!r} passed with the wrong solution"
    assert failed[0]["ename"] == "CheckFailed", f"{mistake.name}: {failed[0]['ename']}: {failed[0]['evalue']}"
    text = str(failed[0]["evalue"])
    assert re.search(mistake.message, text), f"{mistake.name}: {mistake.message!r} not in:\n{text}"
    return text
