"""`Picture`: what every drawing function returns — SVG text, the data drawn, and ways to show it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._svg import esc

__all__ = ["Picture", "SequencePicture"]

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:16px;background:#fff">
{svg}
</body></html>
"""


class Picture:
    """A drawing of a recording.

    It shows itself in JupyterLab and other front ends (``_repr_html_``, ``_repr_svg_``),
    and carries ``svg`` (the SVG text, self-contained: no script, no external resource)
    and ``data`` (the DataFrame it drew, with declared dtypes). ``save(path)`` writes
    ``.svg`` or a standalone ``.html`` page.
    """

    def __init__(self, kind: str, svg: str, data: pd.DataFrame, title: str) -> None:
        self.kind = kind
        self.svg = svg
        self.data = data
        self.title = title

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div class="gsocklab-picture" style="overflow-x:auto">{self.svg}</div>'

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the picture to ``path``: ``.svg`` (the SVG) or ``.html`` (a page holding it)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".svg":
            target.write_text(self.svg, encoding="utf-8")
        elif suffix in (".html", ".htm"):
            target.write_text(_HTML_PAGE.format(title=esc(self.title), svg=self.svg), encoding="utf-8")
        else:
            raise ValueError(f"save() writes .svg or .html, not {suffix or 'a path without a suffix'!r}")

    def __repr__(self) -> str:
        return f"<gsocklab.plots.Picture {self.kind}: {len(self.data)} rows, {len(self.svg):,} bytes of SVG>"


class SequencePicture(Picture):
    """A sequence diagram (`gsocklab.plots.sequence`), which also has `to_mermaid`."""

    def __init__(self, svg: str, data: pd.DataFrame, title: str, mermaid: str) -> None:
        super().__init__("sequence", svg, data, title)
        self._mermaid = mermaid

    def to_mermaid(self) -> str:
        """The diagram as Mermaid ``sequenceDiagram`` text (for Markdown, GitHub, mermaid.live)."""
        return self._mermaid
