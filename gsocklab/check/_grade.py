"""`grade`: run a notebook and report, per check cell, whether its checks passed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["grade"]

#: The tag of the cells whose outcome is a grade.
CHECK_TAG = "check"


def grade(path: str | os.PathLike[str], *, timeout: float = 120.0, kernel_name: str = "python3",
          env: dict[str, str] | None = None) -> Any:
    """Execute the notebook at ``path`` (with nbclient, in its folder) and return one row per
    cell tagged ``check``: ``cell`` (its id), ``passed``, ``points`` (earned: ``max_points``
    if it passed, else 0), ``max_points`` (the cell's ``gsocklab.points`` or nbgrader's
    ``points`` metadata, default 1), and ``message`` (the
    `CheckFailed` text, or the error a failing cell raised). Cells after a failing one still run.
    ``env``: the kernel's environment (default: this process's)."""
    import nbclient  # type: ignore[import-untyped, unused-ignore]
    import nbformat  # type: ignore[import-untyped, unused-ignore]
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    path = Path(path)
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call, unused-ignore]
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=timeout, allow_errors=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env) if env is not None else client.execute()
    rows = []
    for cell in nb.cells:
        if cell.cell_type != "code" or CHECK_TAG not in cell.metadata.get("tags", []):
            continue
        errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        meta = cell.metadata
        points = meta.get("gsocklab", {}).get("points", meta.get("nbgrader", {}).get("points", 1))
        message = ""
        if errors:
            error = errors[0]
            message = f"{error.get('ename')}: {error.get('evalue')}"
        rows.append({"cell": cell.get("id"), "passed": not errors, "points": float(points) if not errors else 0.0,
                     "max_points": float(points), "message": message})
    return pd.DataFrame(rows, columns=["cell", "passed", "points", "max_points", "message"])


def main(argv: list[str] | None = None) -> int:
    """``python -m gsocklab.check NOTEBOOK…``: grade each notebook, print its checks; exit 1 if any failed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gsocklab.check",
                                     description="grade notebooks by their check cells")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        result = grade(path, timeout=args.timeout)
        total, most = result["points"].sum(), result["max_points"].sum()
        print(f"{path}: {int(result['passed'].sum())} of {len(result)} checks passed, {total:g} of {most:g} points")
        for row in result.itertuples():
            print(f"  {'✔' if row.passed else '✖'} {row.cell}" + ("" if row.passed else f"\n    {row.message}"))
        failed = failed or not bool(result["passed"].all())
    return 1 if failed else 0
