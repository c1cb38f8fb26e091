"""A small SVG writer: escaped text and attributes, the palette, the marks, the legend.

Everything a picture shows that came from a socket (payload previews, addresses, labels,
error messages) goes through `esc`, so a datagram holding ``<script>`` is text, never markup.
The palette is Okabe and Ito's, safe for the common colour-vision deficiencies, and every
category that has a colour also has a shape or a line style, so a picture survives
greyscale printing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "COLOURS", "ERROR_MARKS", "INK", "LOST", "MODE_COLOURS", "MUTED", "WAIT_FILL",
    "Svg", "error_mark", "esc", "legend", "mark", "nice_ticks", "num", "seconds_text",
]

#: Okabe–Ito colours, in the order sockets get them.
COLOURS: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
INK: Final = "#222222"
MUTED: Final = "#888888"
WAIT_FILL: Final = "#56B4E9"
LOST: Final = "#D55E00"

#: Error code -> (shape, colour): each error a shape of its own, not only a colour.
ERROR_MARKS: Final[dict[str, tuple[str, str]]] = {
    "TIMED_OUT": ("diamond", "#D55E00"),
    "WOULD_BLOCK": ("square", "#E69F00"),
    "CANCELLED": ("cross", "#CC79A7"),
    "CLOSED": ("triangle-down", "#000000"),
}
OTHER_ERROR: Final = ("triangle", "#D55E00")

#: Call mode -> (fill colour, stroke dash): blocking, with a timeout, non-blocking.
MODE_COLOURS: Final[dict[str, tuple[str, str]]] = {
    "blocking": ("#0072B2", ""),
    "timeout": ("#009E73", "4 2"),
    "non-blocking": ("#E69F00", "1 2"),
}

_STYLE: Final = (
    "text{font-family:ui-sans-serif,system-ui,'DejaVu Sans',Arial,sans-serif;font-size:11px}"
    ".small{font-size:9.5px}.muted{fill:#666}.title{font-size:12.5px;font-weight:600}"
    ".mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace}"
)


def esc(text: object) -> str:
    """``text`` as SVG character data (``&``, ``<``, ``>`` escaped)."""
    return escape(str(text))


def num(value: float) -> str:
    """A coordinate, short: ``12.5``, ``3``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attributes(attributes: dict[str, object]) -> str:
    parts = []
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = num(value)
        parts.append(f" {key}={quoteattr(str(value))}")
    return "".join(parts)


class Svg:
    """An SVG document built part by part; `text` gives the finished markup.

    Attribute names are written Python-style (``class_``, ``data_seq``, ``stroke_width``)
    and come out SVG-style (``class``, ``data-seq``, ``stroke-width``); every value is
    escaped.
    """

    def __init__(self, kind: str, width: float, height: float, title: str) -> None:
        self.kind = kind
        self.width, self.height = width, height
        self._parts: list[str] = []
        self._open = 0
        self.title = title

    def open(self, **attributes: object) -> None:
        """Open a ``<g>``; close it with `close`."""
        self._parts.append(f"<g{_attributes(attributes)}>")
        self._open += 1

    def close(self) -> None:
        """Close the innermost open ``<g>``."""
        self._parts.append("</g>")
        self._open -= 1

    def element(self, tag: str, tooltip: str | None = None, **attributes: object) -> None:
        """One element; with a ``tooltip``, a ``<title>`` child that browsers show on hover."""
        if tooltip is None:
            self._parts.append(f"<{tag}{_attributes(attributes)}/>")
        else:
            self._parts.append(f"<{tag}{_attributes(attributes)}><title>{esc(tooltip)}</title></{tag}>")

    def tooltip(self, text: str) -> None:
        """A ``<title>`` for the innermost open group."""
        self._parts.append(f"<title>{esc(text)}</title>")

    def text(self, x: float, y: float, content: object, **attributes: object) -> None:
        """A ``<text>`` at ``(x, y)``."""
        self._parts.append(f"<text{_attributes({'x': float(x), 'y': float(y), **attributes})}>{esc(content)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, **attributes: object) -> None:
        """A ``<line>``."""
        self.element("line", None, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **attributes)

    def rect(self, x: float, y: float, width: float, height: float, tooltip: str | None = None,
             **attributes: object) -> None:
        """A ``<rect>``."""
        self.element("rect", tooltip, x=float(x), y=float(y), width=float(max(width, 0.0)),
                     height=float(max(height, 0.0)), **attributes)

    def markup(self) -> str:
        """The finished document."""
        assert self._open == 0, "an open <g> was never closed"
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="gsocklab-{self.kind}" '
                f'width="{num(self.width)}" height="{num(self.height)}" '
                f'viewBox="0 0 {num(self.width)} {num(self.height)}" role="img" '
                f'style="max-width:100%;height:auto;background:#fff">'
                f"<title>{esc(self.title)}</title><style>{_STYLE}</style>")
        return head + "".join(self._parts) + "</svg>"


def mark(svg: Svg, shape: str, x: float, y: float, size: float, colour: str, tooltip: str | None = None,
         **attributes: object) -> None:
    """A marker of ``shape`` (circle, square, diamond, triangle, triangle-down, cross) centred at ``(x, y)``."""
    r = size / 2
    if shape == "circle":
        svg.element("circle", tooltip, cx=float(x), cy=float(y), r=float(r), fill=colour, **attributes)
        return
    if shape == "square":
        svg.rect(x - r, y - r, size, size, tooltip, fill=colour, **attributes)
        return
    if shape == "cross":
        d = (f"M{num(x - r)},{num(y - r)}L{num(x + r)},{num(y + r)}"
             f"M{num(x - r)},{num(y + r)}L{num(x + r)},{num(y - r)}")
        svg.element("path", tooltip, d=d, stroke=colour, stroke_width=2.5, fill="none", **attributes)
        return
    points = {
        "diamond": [(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        "triangle": [(x, y - r), (x + r, y + r), (x - r, y + r)],
        "triangle-down": [(x - r, y - r), (x + r, y - r), (x, y + r)],
    }[shape]
    svg.element("polygon", tooltip, points=" ".join(f"{num(px)},{num(py)}" for px, py in points), fill=colour,
                **attributes)


def error_mark(code: str) -> tuple[str, str]:
    """``(shape, colour)`` of an error code."""
    return ERROR_MARKS.get(code, OTHER_ERROR)


def legend(svg: Svg, x: float, y: float, items: Iterable[tuple[str, str, str]], width: float | None = None) -> float:
    """A legend of ``(shape, colour, label)`` items from ``(x, y)``, wrapped at ``width``.

    ``shape`` is a `mark` shape, or ``line`` / ``line:DASHES`` for a line sample. The
    picture grows to fit the rows; returns the y of the last row.
    """
    right = (svg.width if width is None else x + width) - 8
    left = x
    svg.open(class_="legend")
    for shape, colour, label in items:
        needed = (20 if shape.startswith("line") else 13) + 6 * len(label) + 14
        if x + needed > right and x > left:
            x, y = left, y + 16
        if shape.startswith("line"):
            dash = shape.partition(":")[2]
            svg.line(x, y, x + 16, y, stroke=colour, stroke_width=2, stroke_dasharray=dash or None)
            x += 20
        else:
            mark(svg, shape, x + 5, y, 9, colour)
            x += 13
        svg.text(x, y + 4, label, class_="small")
        x += 6 * len(label) + 14
    svg.close()
    svg.height = max(svg.height, y + 12)
    return y


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def seconds_text(value: float) -> str:
    """``1.5 s``, ``12 ms``, ``80 µs``: a duration for a label or tooltip."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"
