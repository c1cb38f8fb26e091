"""What the benchmark scripts share: paired repetitions, their options and their result table.

gsocklab and its references run in turn, repetition by repetition (in the opposite order
every other repetition), after one warm-up run each. The ratio reported is the median of
the per-repetition ratios (reference time / our time): it cancels load that changes
between repetitions, which the ratio of two medians would not.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable, Sequence


def alternate_many(
    reps: int, ours: Callable[[], float], refs: list[Callable[[], float]]
) -> tuple[float, list[tuple[float, float]]]:
    """gsocklab's median seconds and, per reference, ``(median seconds, paired ratio)``."""
    ours()
    for ref in refs:
        ref()
    a: list[float] = []
    b: list[list[float]] = [[] for _ in refs]
    for rep in range(reps):
        if rep % 2:  # every other repetition the other way round: no side always runs first
            for times, ref in zip(b, refs, strict=True):
                times.append(ref())
            a.append(ours())
        else:
            a.append(ours())
            for times, ref in zip(b, refs, strict=True):
                times.append(ref())
    return statistics.median(a), [
        (statistics.median(times), statistics.median(r / o for o, r in zip(a, times, strict=True))) for times in b
    ]


def alternate(reps: int, ours: Callable[[], float], ref: Callable[[], float]) -> tuple[float, float, float]:
    """Median seconds of each side and the paired ratio, for one reference."""
    ours_s, [(ref_s, ratio)] = alternate_many(reps, ours, [ref])
    return ours_s, ref_s, ratio


def options(doc: str | None, argv: list[str] | None, quick_help: str) -> argparse.Namespace:
    """The options every benchmark takes: ``--quick`` and ``--strict``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if any case fails its target")
    return parser.parse_args(argv)


def ratio_text(ratio: float | None, missing: str = "n/a") -> str:
    """A ratio truncated, not rounded, so that one shown as 0.900x never fails a ">= 0.90x" target."""
    return missing if ratio is None else f"{math.floor(ratio * 1000) / 1000:.3f}x"


def result_text(passed: bool | None, skipped: bool = False) -> str:
    """PASS, FAIL, INFO (no target) or SKIP (not measured)."""
    if passed is None:
        return "SKIP" if skipped else "INFO"
    return "PASS" if passed else "FAIL"


def table(header: Sequence[str], lines: list[Sequence[str]]) -> list[str]:
    """The rows as left-aligned columns under ``header`` and a line of dashes."""
    rows = [header, *lines]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return out
