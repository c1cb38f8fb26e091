"""Paired repetitions, shared by the benchmark scripts.

gsocklab and its references run in turn, repetition by repetition (in the opposite order
every other repetition), after one warm-up run each. The ratio reported is the median of
the per-repetition ratios (reference time / our time): it cancels load that changes
between repetitions, which the ratio of two medians would not.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable


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
