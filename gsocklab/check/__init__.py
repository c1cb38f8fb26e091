"""Checks of what sockets did, for exercises and autograders: ``from gsocklab import check``.

Each check reads a recording (a `gsocklab.Recorder` or its DataFrame) and either returns the
rows that satisfy it or raises `CheckFailed` — an ``AssertionError`` whose text says what was
expected, what the recording shows instead, and the rows concerned — so a check works as a
pytest assertion, in a plain notebook cell, and in nbgrader or otter-grader tests
(``docs/teaching.md`` has one example of each)::

    from gsocklab import Recorder, check
    rec = Recorder()
    with rec:
        ...                                           # the student's code
    check.in_order(rec, "join_multicast_group", "receive*", socket="listener")
    check.retried_after_timeout(rec, socket="pinger")
    check.no_busy_wait(rec, socket="client", max_per_second=20)

`grade` runs a notebook and reports, per check cell (tagged ``check``), whether it passed.
"""

from ._calls import called, in_order, mode, no_busy_wait, not_called, received, sent, timeout_at_most
from ._exchanges import (
    concurrent_connections,
    every_datagram_answered,
    loss_rate_matches,
    no_findings,
    retried_after_timeout,
    stream_intact,
)
from ._failure import CheckFailed
from ._grade import grade
from ._select import frame_of

CheckFailed.__module__ = __name__  # tracebacks and graders show gsocklab.check.CheckFailed

__all__ = [
    "CheckFailed", "called", "concurrent_connections", "every_datagram_answered", "frame_of", "grade", "in_order",
    "loss_rate_matches", "mode", "no_busy_wait", "no_findings", "not_called", "received", "retried_after_timeout",
    "sent", "stream_intact", "timeout_at_most",
]
