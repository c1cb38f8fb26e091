"""The course (issue 13): every teacher's notebook runs and passes its checks; the students'
notebooks are the teacher's with the solutions taken out; every deliberately wrong solution in
``tests/course_mistakes`` makes its check fail with the intended message.

Notebooks that build lab networks (`gsocklab.netlab`) are skipped, with the reason, where no lab
network can be built — except under ``GSOCKLAB_REQUIRE_NETLAB=1`` (CI), where that fails.
"""

from __future__ import annotations

import os
import re
from typing import Any

import nbformat
import pytest
from course_support import SOLUTIONS, STUDENTS, Mistake, errors, execute, mistakes, run_mistake

from gsocklab import netlab
from gsocklab.check import CheckFailed, release

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted(path.name for path in SOLUTIONS.glob("*.ipynb"))


def _needs_netlab(path_name: str) -> None:
    source = (SOLUTIONS / path_name).read_text()
    if "netlab" not in source:
        return
    support = netlab.probe()
    if support.mode is None:
        if os.environ.get("GSOCKLAB_REQUIRE_NETLAB") == "1":
            pytest.fail(f"GSOCKLAB_REQUIRE_NETLAB=1 but no lab network here: {support.reason}")
        pytest.skip(f"{path_name} builds lab hosts, and this machine cannot: {support.reason}")


def test_there_is_a_course() -> None:
    assert len(NOTEBOOKS) >= 1
    assert sorted(path.name for path in STUDENTS.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_teacher_notebook_is_well_formed(name: str) -> None:
    nb = nbformat.read(SOLUTIONS / name, as_version=4)
    nbformat.validate(nb)
    ids = [cell.get("id") for cell in nb.cells]
    assert len(set(ids)) == len(ids)
    exercises = [cell for cell in nb.cells if "exercise" in cell.metadata.get("tags", [])]
    checks = [cell for cell in nb.cells if "check" in cell.metadata.get("tags", [])]
    assert exercises, f"{name} has no exercise"
    assert checks, f"{name} has no check cell"
    for cell in exercises:
        assert release.BEGIN in cell.source, f"{cell.id}: an exercise without a solution block"
    for cell in checks:
        assert "check." in cell.source, f"{cell.id}: a check cell that checks nothing"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{cell.id} has saved outputs"
            assert cell.id in cell.metadata.get("tags", []), f"{cell.id}: tag the cell with its id"
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert re.search(r"goal", text, re.IGNORECASE), f"{name} states no goals"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_student_notebook_is_the_teacher_notebook_without_solutions(name: str) -> None:
    teacher = nbformat.read(SOLUTIONS / name, as_version=4)
    student_text = (STUDENTS / name).read_text()
    assert student_text == nbformat.writes(release.student_version(teacher)) + "\n", (
        "run: python -m gsocklab.check.release course/solutions notebooks/course")
    assert "BEGIN SOLUTION" not in student_text
    student = nbformat.read(STUDENTS / name, as_version=4)
    for cell in student.cells:
        if "exercise" in cell.metadata.get("tags", []):
            assert release.STUB in cell.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_teacher_notebook_runs_and_every_check_passes(name: str) -> None:
    _needs_netlab(name)
    nb = execute(nbformat.read(SOLUTIONS / name, as_version=4), SOLUTIONS / name, allow_errors=True)
    failed = [(cell.get("id"), errors(cell)[0].get("evalue")) for cell in nb.cells if errors(cell)]
    assert failed == [], failed


MISTAKES = mistakes()


def test_every_exercise_has_a_mistake() -> None:
    covered = {(notebook, mistake.exercise) for notebook, mistake in MISTAKES}
    for name in NOTEBOOKS:
        nb = nbformat.read(SOLUTIONS / name, as_version=4)
        for cell in nb.cells:
            if "exercise" in cell.metadata.get("tags", []):
                assert (name, cell.id) in covered, f"{name}: no wrong solution tests exercise {cell.id!r}"


@pytest.mark.parametrize(("notebook", "mistake"), MISTAKES, ids=[m.name for _, m in MISTAKES])
def test_a_wrong_solution_fails_its_check_with_the_intended_message(notebook: str, mistake: Mistake) -> None:
    _needs_netlab(notebook)
    run_mistake(notebook, mistake)


def test_student_stub_raises() -> None:
    source = 'def f(x):\n    """doc"""\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n'
    stub = release.student_source(source)
    assert stub == 'def f(x):\n    """doc"""\n    raise NotImplementedError("your code here")'
    namespace: dict[str, Any] = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    for bad in ("### BEGIN SOLUTION\nx", "### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"):
        with pytest.raises(ValueError, match="SOLUTION"):
            release.student_source(bad)
    assert issubclass(CheckFailed, AssertionError)
