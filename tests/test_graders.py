"""`gsocklab.check` under the graders docs/teaching.md names: otter-grader and nbgrader, for real.

* otter-grader: the OK-format test file of docs/teaching.md, run by ``otter.Notebook.check``
  against a recording that passes and one that fails (the failure's text is the case's output).
* nbgrader: course notebook 1 made an nbgrader source notebook by ``release --nbgrader``,
  ``nbgrader generate_assignment``, then ``nbgrader autograde`` of three submissions — the
  solutions, the students' version untouched, and one wrong exercise — each earning exactly
  the points of the check cells that passed. The kernels run on loopback only.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from check_frames import pings
from course_support import ROOT, SOLUTIONS, cell_of, kernel_env

from gsocklab.check import release

TEACHING = ROOT / "docs" / "teaching.md"


def otter_test_file() -> str:
    """The otter-grader test file docs/teaching.md shows (the block after 'otter-grader')."""
    text = TEACHING.read_text()
    section = text[text.index("**otter-grader**"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "docs/teaching.md has no otter-grader example"
    return match.group(1)


def test_the_documented_otter_test_passes_and_fails_as_the_check_does(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with warnings.catch_warnings():  # ipylab, which otter imports, declares traits the deprecated way
        warnings.simplefilter("ignore", DeprecationWarning)
        import otter
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "q1.py").write_text(otter_test_file())
    monkeypatch.chdir(tmp_path)  # otter logs its events into the working folder
    grader = otter.Notebook(tests_dir=str(tmp_path / "tests"))
    passed = grader.check("q1", global_env={"rec2": pings(True, True, True)})
    assert (passed.grade, passed.passed_all) == (1.0, True)
    failed = grader.check("q1", global_env={"rec2": pings(True, False, True)})
    assert (failed.grade, failed.passed_all) == (0.0, False)
    shown = repr(failed)
    assert "gsocklab.check.CheckFailed: every_datagram_answered: expected an answer from 'server'" in shown
    assert "found: no such send" in shown


# -- nbgrader ---------------------------------------------------------------------------------------------

NOTEBOOK = "01-first-datagram.ipynb"


def nbgrader(course: Path, *args: str) -> None:
    env = kernel_env()
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))  # it runs alembic
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def scores(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        graded = book.find_submission_notebook(NOTEBOOK.removesuffix(".ipynb"), "ps1", student)
        return {grade.name: float(grade.score) for grade in graded.grades}


def wrong_timeout_cell() -> tuple[str, str]:
    """(exercise cell id, code) of a course mistake of notebook 1 that its check-timeout catches."""
    module = importlib.import_module("course_mistakes.01_first_datagram")
    mistake = next(m for m in module.MISTAKES if m.check == "check-timeout")
    return mistake.exercise, mistake.code


@pytest.mark.slow
def test_nbgrader_grades_a_course_notebook_by_its_check_cells(tmp_path: Path) -> None:
    source = tmp_path / "source" / "ps1"
    source.mkdir(parents=True)
    teacher = nbformat.read(SOLUTIONS / NOTEBOOK, as_version=4)
    nbformat.write(release.nbgrader_version(teacher), source / NOTEBOOK)
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'gradebook.db'}'\n"
        "c.ExecutePreprocessor.timeout = 120\n")
    nbgrader(tmp_path, "generate_assignment", "ps1")
    released = nbformat.read(tmp_path / "release" / "ps1" / NOTEBOOK, as_version=4)
    assert "### BEGIN SOLUTION" not in nbformat.writes(released)
    checks = [c.get("id") for c in teacher.cells if "check" in c.metadata.get("tags", [])]
    assert checks == ["check-hello", "check-echo", "check-timeout"]

    exercise, wrong = wrong_timeout_cell()
    partial = nbformat.read(source / NOTEBOOK, as_version=4)
    cell_of(partial, exercise).source = wrong
    for student, nb in (("solved", nbformat.read(source / NOTEBOOK, as_version=4)), ("untouched", released),
                        ("partial", partial)):
        folder = tmp_path / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
        nbgrader(tmp_path, "db", "student", "add", student)
    nbgrader(tmp_path, "autograde", "ps1")

    assert scores(tmp_path, "solved") == dict.fromkeys(checks, 1.0)
    assert scores(tmp_path, "untouched") == dict.fromkeys(checks, 0.0)
    assert scores(tmp_path, "partial") == {"check-hello": 1.0, "check-echo": 1.0, "check-timeout": 0.0}
    graded = nbformat.read(tmp_path / "autograded" / "partial" / "ps1" / NOTEBOOK, as_version=4)
    failure = "".join(out.get("evalue", "") for out in cell_of(graded, "check-timeout").outputs)
    assert failure.startswith("timeout_at_most: expected")


def test_release_nbgrader_marks_solution_and_check_cells() -> None:
    teacher = nbformat.read(SOLUTIONS / NOTEBOOK, as_version=4)
    marked = release.nbgrader_version(teacher)
    metas = {c.get("id"): c.metadata.get("nbgrader") for c in marked.cells if "nbgrader" in c.metadata}
    assert metas["check-timeout"] == {"grade": True, "solution": False, "locked": True, "points": 1,
                                      "grade_id": "check-timeout", "schema_version": 3}
    solutions = [cid for cid, meta in metas.items() if meta["solution"]]
    assert solutions
    assert all("### BEGIN SOLUTION" in cell_of(marked, cid).source for cid in solutions)
    assert all(not c.get("outputs") for c in marked.cells if c.cell_type == "code")
    assert "nbgrader" not in cell_of(teacher, "check-timeout").metadata  # the teacher's copy is untouched


def test_release_nbgrader_refuses_a_cell_to_grade_without_an_id() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")])
    del nb.cells[0]["id"]
    with pytest.raises(ValueError, match="a cell to grade has no id"):
        release.nbgrader_version(nb)
