"""Make the students' notebooks from the teacher's: ``python -m gsocklab.check.release SOURCE TARGET``.

The teacher's notebook is the one source (``course/solutions/*.ipynb`` in this repository). In
its code cells, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers; otter-grader accepts them too) are the solution: the student's notebook has, in their
place and at their indentation, ``raise NotImplementedError("your code here")``. Everything
else — explanations, pictures, exercise stubs, the ``check`` cells — is the same, outputs
cleared. ``--check`` exits 1 (and says which) when a target differs from what it would write.

``--nbgrader`` writes the teacher's notebooks with nbgrader's cell metadata instead, for an
nbgrader course's ``source/<assignment>/`` folder: a cell with solution markers becomes a
solution cell, a ``check`` cell a locked autograder test cell worth its points, both with the
cell's id as ``grade_id``. ``nbgrader generate_assignment`` then makes the students' version
and ``nbgrader autograde`` grades submissions by the check cells.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any, Final

from ._grade import CHECK_TAG

__all__ = ["BEGIN", "END", "STUB", "main", "nbgrader_version", "student_source", "student_version"]

BEGIN: Final = "### BEGIN SOLUTION"
END: Final = "### END SOLUTION"
STUB: Final = 'raise NotImplementedError("your code here")'
_MARKER: Final = re.compile(r"^(\s*)### (BEGIN|END) SOLUTION\s*$")


def student_source(source: str) -> str:
    """``source`` with every solution block replaced by the stub (``ValueError`` if unbalanced)."""
    out: list[str] = []
    inside: str | None = None
    for number, line in enumerate(source.splitlines(), 1):
        marker = _MARKER.match(line)
        if marker is None:
            if inside is None:
                out.append(line)
            continue
        indent, kind = marker.groups()
        if kind == "BEGIN":
            if inside is not None:
                raise ValueError(f"line {number}: {BEGIN} inside a solution")
            inside = indent
            out.append(indent + STUB)
        else:
            if inside is None:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = None
    if inside is not None:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def student_version(nb: Any) -> Any:
    """A copy of the teacher's notebook ``nb`` (nbformat) as the students get it."""
    made = copy.deepcopy(nb)
    for cell in made.cells:
        if cell.cell_type == "code":
            cell.source = student_source(cell.source)
            cell.outputs = []
            cell.execution_count = None
    return made


def nbgrader_version(nb: Any) -> Any:
    """A copy of the teacher's notebook ``nb`` with nbgrader's metadata on its solution and check cells."""
    made = copy.deepcopy(nb)
    for cell in made.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        grade_id = cell.get("id")
        if any(_MARKER.match(line) for line in cell.source.splitlines()):
            student_source(cell.source)  # balanced, or ValueError
            meta = {"grade": False, "solution": True, "locked": False}
        elif CHECK_TAG in cell.metadata.get("tags", []):
            points = cell.metadata.get("gsocklab", {}).get("points", 1)
            meta = {"grade": True, "solution": False, "locked": True, "points": points}
        else:
            continue
        if not grade_id:
            raise ValueError(f"a cell to grade has no id (nbformat 4.5 cell ids are its nbgrader grade_id): "
                             f"{cell.source[:60]!r}")
        cell.metadata["nbgrader"] = {**meta, "grade_id": grade_id, "schema_version": 3}
    return made


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the students' version of every notebook in SOURCE."""
    import nbformat  # type: ignore[import-untyped, unused-ignore]

    parser = argparse.ArgumentParser(prog="python -m gsocklab.check.release", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of the teacher's notebooks")
    parser.add_argument("target", type=Path, help="folder for the students' notebooks")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a target is out of date")
    parser.add_argument("--nbgrader", action="store_true",
                        help="write the teacher's notebooks with nbgrader metadata (for source/<assignment>/)")
    args = parser.parse_args(argv)
    version = nbgrader_version if args.nbgrader else student_version
    stale = []
    for path in sorted(args.source.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call, unused-ignore]
        text = nbformat.writes(version(nb)) + "\n"  # type: ignore[no-untyped-call, unused-ignore]
        target = args.target / path.name
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target))
            continue
        args.target.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if stale:
        print("out of date (run python -m gsocklab.check.release without --check):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
