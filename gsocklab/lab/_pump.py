"""`Pump`: one thread per view that refreshes it a few times a second, and only when needed.

The threading model of the panels (``docs/panels.md``): the recorder and the sockets never
touch a widget. A view keeps the state it shows in plain Python objects that any thread may
change under a lock; its pump thread wakes at most ``rate`` times a second, asks the view
whether anything changed (a few integer comparisons), and if so lets it render into its one
HTML widget (one message). Frames in between are dropped, not queued. A refresh that takes
long (in this thread's CPU time) spaces the next ones out, to at most a second, so that a
view takes about a twentieth of the interpreter's time at most, however busy the sockets are;
a change of one of the view's own controls (`poke`) is answered at the next tick.

Widget state set from this thread reaches the browser while a cell blocks the main thread
(ipykernel sends it at once), which is what keeps a panel live during a long ``receive()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Pump", "busy_cell", "close_all", "route_to_sender"]

_log = logging.getLogger("gsocklab")
SHARE = 0.05  # the most of the interpreter's time a view's refreshes may take
MAX_WAIT = 1.0  # … but a view never goes more than a second without a look


class Pump:
    """Calls ``refresh()`` (which returns whether it sent anything) up to ``rate`` times a second."""

    def __init__(self, refresh: Callable[[], object], rate: float = 5.0, name: str = "gsocklab-pump") -> None:
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate <= 10:
            raise ValueError(f"rate must be a number of refreshes per second in (0, 10], not {rate!r}")
        self._refresh = refresh
        self.interval = 1.0 / rate
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.refreshes = 0  # refreshes run, for tests and for the curious
        self.last_cost = 0.0

    def start(self) -> None:
        """Start the thread (once)."""
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    def poke(self) -> None:
        """Refresh soon (at the next tick), even while backing off: a control of the view changed."""
        self._poke.set()

    def stop(self) -> None:
        """Stop the thread; returns when it has ended (or after 2 s)."""
        self._stop.set()
        self._poke.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    @property
    def running(self) -> bool:
        """Whether the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.is_set():
            if self._poke.wait(wait):  # a control changed: answer at the next tick, not after the back-off
                self._poke.clear()
                if self._stop.wait(self.interval):
                    return
            start = time.thread_time()  # this thread's CPU time: waiting for the GIL is not the view's cost
            try:
                self._refresh()
            except Exception:  # a view must never die of one bad frame; the log says what happened
                _log.exception("gsocklab view refresh failed")
            self.refreshes += 1
            self.last_cost = time.thread_time() - start
            wait = min(max(self.interval, self.last_cost / SHARE - self.last_cost), MAX_WAIT)


_cell_running = threading.Event()
_hooked = False
_hook_lock = threading.Lock()


def _pre(*_: object) -> None:
    _cell_running.set()


def _post(*_: object) -> None:
    _cell_running.clear()


def busy_cell() -> bool:
    """Whether a cell is running in the kernel right now (False outside IPython).

    The first call registers IPython's ``pre_run_cell``/``post_run_cell`` events; a cell
    started before that is not seen.
    """
    global _hooked
    if not _hooked:
        with _hook_lock:
            if not _hooked:
                try:
                    from IPython import get_ipython  # type: ignore[import-not-found, unused-ignore]
                except ImportError:
                    return False
                shell = get_ipython()
                if shell is None:
                    return False
                shell.events.register("pre_run_cell", _pre)
                shell.events.register("post_run_cell", _post)
                _hooked = True
    return _cell_running.is_set()


def route_to_sender(*controls: object) -> None:
    """Let the front end choose the thread that runs these widgets' callbacks.

    ipykernel 7 runs a comm's incoming messages on the shell that last *published* on that
    comm, whatever subshell the front end addressed, so a click on a widget made by a cell
    waits behind the next long cell. With JupyterLab's ``commsOverSubshells`` (≥ 4.4,
    default ``perCommTarget``) clicks are sent on a subshell; routing them by the
    message's own ``subshell_id`` runs them there at once, which is how **Close** ends a
    ``receive()`` blocked in a cell. This uses ipykernel's private ``_reply_subshell_for``
    hook where it exists; elsewhere (ipykernel < 7, no kernel) it does nothing, and with
    subshells disabled the front end sends no ``subshell_id``, so clicks go to the main
    shell as before.
    """
    for control in controls:
        comm = getattr(control, "comm", None)
        if comm is not None and hasattr(comm, "_reply_subshell_for"):
            comm._reply_subshell_for = lambda data, default: default


def close_all(widget: object) -> None:
    """Close ``widget`` and every widget inside it (closing a box leaves its children open)."""
    for child in getattr(widget, "children", ()):
        close_all(child)
    close = getattr(widget, "close", None)
    if close is not None:
        close()
