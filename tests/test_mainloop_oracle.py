"""Differential conformance of the GLib main loop: the same scenario through real GLib and gsocklab.

``GLib.MainContext``, ``GLib.MainLoop``, ``GLib.Source`` (``Idle``, ``Timeout``, custom subclasses),
``timeout_add``/``idle_add``/``source_remove``, ``io_add_watch``, ``GLib.IOChannel`` and the sources
of ``Gio.Socket.create_source``, written exactly as PyGObject code writes them. Each scenario runs
under GLib 2.74 / PyGObject 3.42 (``/usr/bin/python3``, a subprocess) and under gsocklab (in this
process); ``conform`` asserts that both observed the same thing **and** that GLib observed what the
``expect`` dict says, so every test is also the catalogue of what PyGObject really does.

Rules the scenarios follow:

* every loop has a watchdog (``watchdog(loop)``/``guard(ctx)``: a 3 s timeout that quits and records
  ``out["watchdog"]``), so nothing hangs, and `conform` fails if it fired;
* only relative orders and counts are recorded, never absolute times; where an order depends on
  time, the gaps are 50 ms or more;
* source ids are never recorded as values, except on a fresh private context (they start at 1
  there); gsocklab runs in-process, so its global-default context has seen other tests' sources;
* everything a scenario attaches to the global-default context is destroyed afterwards (ids
  between two marker sources, see ``ML_PRELUDE``), even when the scenario fails, so that a failing
  scenario does not leave repeating sources behind in the gsocklab process;
* GLib criticals/warnings that PyGObject turns into Python warnings (``source_remove`` of an
  unknown id, ``set_buffered`` on an encoded channel, deprecated ``io_add_watch`` forms) are
  captured with ``warnings.catch_warnings`` in both worlds; the messages are compared only where
  gsocklab is expected to give the same ones, else recorded on the GLib side only (``glib_only``).

PyGObject behaviour deliberately not exercised (it hangs, crashes or corrupts):
``IOChannel.read_chars()`` (a caller-allocated out buffer, like ``Gio.Socket.receive``, reference
§7.1: it returns ``(NORMAL, b'')`` and silently consumes the data) and ``IOChannel.read(n)`` on a
UTF-8 channel when ``n`` splits a multi-byte character (PyGObject's ``io_channel_read`` then loops
forever: ``g_io_channel_read_chars`` keeps returning 0 bytes).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import pytest
from oracle import compare

pytestmark = pytest.mark.oracle

# Helpers for every scenario, in both worlds (prepended by `scenario`).
ML_PRELUDE = textwrap.dedent(
    '''
    import select, warnings
    _ml_default = GLib.MainContext.default()
    def _ml_mark():
        """The id the global-default context gives its next source (a throw-away idle)."""
        s = GLib.idle_source_new()
        i = s.attach(_ml_default)
        s.destroy()
        return i
    _ml_first = _ml_mark()
    def _ml_cleanup():
        """Destroy whatever the scenario left attached to the global-default context."""
        last = _ml_mark()
        for i in range(_ml_first, last):
            s = _ml_default.find_source_by_id(i)
            if s is not None and not s.is_destroyed():
                s.destroy()
    def watchdog(loop, ms=3000):
        """Quit `loop` after `ms` on the loop's own context and record out["watchdog"]."""
        def fire(*a):
            out["watchdog"] = True
            loop.quit()
            return False
        s = GLib.timeout_source_new(ms)
        s.set_callback(fire)
        s.attach(loop.get_context())
        return s
    def guard(ctx, ms=3000):
        """A timeout on `ctx` that bounds a blocking ctx.iteration(True); records out["watchdog"]."""
        s = GLib.Timeout(ms)
        s.set_callback(lambda *a: (out.__setitem__("watchdog", True), False)[1])
        s.attach(ctx)
        return s
    def warned(fn, *a, **kw):
        """[result, [warning messages]]: Python warnings recorded, not printed or raised."""
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            r = fn(*a, **kw)
        return [r, [str(w.message) for w in ws]]
    def gerr(fn, *a, **kw):
        """Like err(), with the GLib.Error domain and code (err() assumes the GIOError domain)."""
        try:
            return ["ok", fn(*a, **kw)]
        except GLib.Error as e:
            return ["error", str(e.domain), int(e.code), e.message]
        except Exception as e:
            return ["raised", type(e).__name__]
    def desc(v):
        """A value with its Python type: str/bytes as repr, enums and flags as [type name, value]."""
        if isinstance(v, (bytes, str)):
            return [type(v).__name__, repr(v)]
        if isinstance(v, tuple):
            return ["tuple", [desc(x) for x in v]]
        if isinstance(v, list):
            return ["list", [desc(x) for x in v]]
        if isinstance(v, bool) or v is None or type(v) is int:
            return [type(v).__name__, v]
        return [type(v).__name__, plain(v)]
    def args_of(a):
        """The arguments a callback got: plain Python values as repr, anything else as its type name."""
        plain_types = (str, int, float, bool, tuple, list, dict, type(None))
        return [repr(x) if type(x) in plain_types else "<%s>" % type(x).__name__ for x in a]
    '''
)


def scenario(source: str) -> str:
    """``source`` run between `ML_PRELUDE` and its cleanup (``try``/``finally``)."""
    body = textwrap.indent(textwrap.dedent(source).strip("\n"), "    ")
    return ML_PRELUDE + "try:\n" + body + "\nfinally:\n    _ml_cleanup()\n"


def conform(
    source: str,
    expect: Mapping[str, Any],
    *,
    glib_only: Mapping[str, Any] | None = None,
    gsocklab_only: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`compare` the scenario in both worlds and check GLib's observations against ``expect``."""
    glib, _ = compare(scenario(source), glib_only=glib_only, gsocklab_only=gsocklab_only, timeout=60)
    assert "watchdog" not in glib, "a watchdog fired under real GLib: the scenario is wrong"
    assert glib == dict(expect), f"GLib 2.74 observed:\n{glib!r}"
    return glib


# --------------------------------------------------------------------------------------------
# Constants, enums, Source classes
# --------------------------------------------------------------------------------------------


def test_constants_and_enums() -> None:
    """PRIORITY_*, SOURCE_*, IO_* and the IOCondition/IOStatus/IOFlags values and types."""
    conform(
        r'''
        out["priorities"] = [GLib.PRIORITY_HIGH, GLib.PRIORITY_DEFAULT, GLib.PRIORITY_HIGH_IDLE,
                             GLib.PRIORITY_DEFAULT_IDLE, GLib.PRIORITY_LOW]
        out["source_continue_remove"] = [desc(GLib.SOURCE_CONTINUE), desc(GLib.SOURCE_REMOVE)]
        out["io_constants"] = [[m, desc(getattr(GLib, "IO_" + m)), getattr(GLib, "IO_" + m) == GLib.IOCondition(1 << i)]
                               for i, m in enumerate(("IN", "PRI", "OUT", "ERR", "HUP", "NVAL"))]
        out["condition_or"] = desc(GLib.IO_IN | GLib.IO_HUP)
        out["condition_and"] = desc((GLib.IO_IN | GLib.IO_HUP) & GLib.IO_HUP)
        out["condition_from_int"] = desc(GLib.IOCondition(17))
        out["io_status"] = [[m, int(getattr(GLib.IOStatus, m))] for m in ("ERROR", "NORMAL", "EOF", "AGAIN")]
        flag_names = ("APPEND", "NONBLOCK", "IS_READABLE", "IS_WRITABLE", "IS_SEEKABLE", "MASK", "GET_MASK", "SET_MASK")
        out["io_flags"] = [[m, int(getattr(GLib.IOFlags, m))] for m in flag_names]
        t0 = GLib.get_monotonic_time()
        time.sleep(0.01)
        t1 = GLib.get_monotonic_time()
        out["monotonic"] = [type(t0).__name__, t0 > 0, 5000 <= t1 - t0 < 2000000]
        ''',
        {
            "priorities": [-100, 0, 100, 200, 300],
            "source_continue_remove": [["bool", True], ["bool", False]],
            "io_constants": [
                ["IN", ["IOCondition", 1], True],
                ["PRI", ["IOCondition", 2], True],
                ["OUT", ["IOCondition", 4], True],
                ["ERR", ["IOCondition", 8], True],
                ["HUP", ["IOCondition", 16], True],
                ["NVAL", ["IOCondition", 32], True],
            ],
            "condition_or": ["IOCondition", 17],
            "condition_and": ["IOCondition", 16],
            "condition_from_int": ["IOCondition", 17],
            "io_status": [["ERROR", 0], ["NORMAL", 1], ["EOF", 2], ["AGAIN", 3]],
            "io_flags": [
                ["APPEND", 1],
                ["NONBLOCK", 2],
                ["IS_READABLE", 4],
                ["IS_WRITABLE", 8],
                ["IS_SEEKABLE", 16],
                ["MASK", 31],
                ["GET_MASK", 31],
                ["SET_MASK", 3],
            ],
            "monotonic": ["int", True, True],
        },
    )


def test_idle_and_timeout_classes() -> None:
    """GLib.Idle/GLib.Timeout/idle_source_new/timeout_source_new: priorities, names, fresh state.

    PyGObject quirk: ``GLib.Idle(GLib.PRIORITY_DEFAULT)`` keeps the idle priority 200, because
    ``Idle.__init__`` only calls ``set_priority`` when the argument differs from PRIORITY_DEFAULT.
    """
    conform(
        r'''
        out["Idle()"] = GLib.Idle().get_priority()
        out["Idle(DEFAULT)"] = GLib.Idle(GLib.PRIORITY_DEFAULT).get_priority()
        out["Idle(HIGH)"] = GLib.Idle(GLib.PRIORITY_HIGH).get_priority()
        out["Idle(priority=LOW)"] = GLib.Idle(priority=GLib.PRIORITY_LOW).get_priority()
        out["Idle(7)"] = GLib.Idle(7).get_priority()
        out["Timeout(10)"] = GLib.Timeout(10).get_priority()
        out["Timeout()"] = GLib.Timeout().get_priority()
        out["Timeout(10, LOW)"] = GLib.Timeout(10, GLib.PRIORITY_LOW).get_priority()
        out["Timeout(10, priority=HIGH)"] = GLib.Timeout(10, priority=GLib.PRIORITY_HIGH).get_priority()
        out["idle_source_new"] = GLib.idle_source_new().get_priority()
        out["timeout_source_new"] = GLib.timeout_source_new(5).get_priority()
        out["timeout_source_new_seconds"] = GLib.timeout_source_new_seconds(1).get_priority()
        kinds = {"Idle": GLib.Idle(), "Timeout": GLib.Timeout(1), "idle_source_new": GLib.idle_source_new(),
                 "timeout_source_new": GLib.timeout_source_new(1),
                 "timeout_source_new_seconds": GLib.timeout_source_new_seconds(1)}
        out["is_source"] = {k: isinstance(s, GLib.Source) for k, s in kinds.items()}
        out["class"] = [isinstance(kinds["Idle"], GLib.Idle), isinstance(kinds["Timeout"], GLib.Timeout)]
        out["names"] = {k: s.get_name() for k, s in kinds.items()}
        out["fresh"] = {k: [s.get_context(), s.is_destroyed(), s.get_can_recurse()] for k, s in kinds.items()}
        s = GLib.Idle()
        out["set_name"] = [s.set_name("mine"), s.get_name()]
        out["set_priority"] = [s.set_priority(-7), s.get_priority()]
        out["set_callback_returns"] = s.set_callback(lambda *a: False)
        ctx = GLib.MainContext.new()
        out["attach_returns"] = desc(s.attach(ctx))
        out["attached"] = [s.get_context() == ctx, s.get_id(), s.is_destroyed()]
        out["destroy_returns"] = s.destroy()
        out["destroyed"] = [s.is_destroyed(), s.get_context() == ctx, s.get_id(), ctx.find_source_by_id(1)]
        ''',
        {
            "Idle()": 200,
            "Idle(DEFAULT)": 200,
            "Idle(HIGH)": -100,
            "Idle(priority=LOW)": 300,
            "Idle(7)": 7,
            "Timeout(10)": 0,
            "Timeout()": 0,
            "Timeout(10, LOW)": 300,
            "Timeout(10, priority=HIGH)": -100,
            "idle_source_new": 200,
            "timeout_source_new": 0,
            "timeout_source_new_seconds": 0,
            "is_source": {
                "Idle": True,
                "Timeout": True,
                "idle_source_new": True,
                "timeout_source_new": True,
                "timeout_source_new_seconds": True,
            },
            "class": [True, True],
            "names": {
                "Idle": "GIdleSource",
                "Timeout": None,
                "idle_source_new": "GIdleSource",
                "timeout_source_new": None,
                "timeout_source_new_seconds": None,
            },
            "fresh": {
                "Idle": [None, False, False],
                "Timeout": [None, False, False],
                "idle_source_new": [None, False, False],
                "timeout_source_new": [None, False, False],
                "timeout_source_new_seconds": [None, False, False],
            },
            "set_name": [None, "mine"],
            "set_priority": [None, -7],
            "set_callback_returns": None,
            "attach_returns": ["int", 1],
            "attached": [True, 1, False],
            "destroy_returns": None,
            "destroyed": [True, True, 1, None],
        },
    )


# --------------------------------------------------------------------------------------------
# Dispatch order
# --------------------------------------------------------------------------------------------


def test_priority_order_one_iteration() -> None:
    """Ten ready idles of different priorities: each iteration dispatches only the top priority.

    Both idles at 200 (PRIORITY_DEFAULT_IDLE and ``Idle(PRIORITY_DEFAULT)``, see above) run in the
    same iteration, in attach order. Ids on a fresh context start at 1.
    """
    conform(
        r'''
        ctx = GLib.MainContext.new()
        log = []
        names = [("low", GLib.PRIORITY_LOW), ("default_idle", GLib.PRIORITY_DEFAULT_IDLE),
                 ("high_idle", GLib.PRIORITY_HIGH_IDLE), ("idle_default", GLib.PRIORITY_DEFAULT),
                 ("high", GLib.PRIORITY_HIGH), ("c50", 50), ("c-5", -5), ("c250", 250), ("c1000", 1000),
                 ("c-1000", -1000)]
        ids = []
        for name, prio in names:
            s = GLib.Idle(prio)
            s.set_callback(lambda *a, name=name: (log.append(name), False)[1])
            ids.append(s.attach(ctx))
        out["ids"] = ids
        its = []
        for i in range(11):
            before = len(log)
            r = ctx.iteration(False)
            its.append([r] + log[before:])
        out["iterations"] = its
        ''',
        {
            "ids": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "iterations": [
                [True, "c-1000"],
                [True, "high"],
                [True, "c-5"],
                [True, "c50"],
                [True, "high_idle"],
                [True, "default_idle", "idle_default"],
                [True, "c250"],
                [True, "low"],
                [True, "c1000"],
                [False],
                [False],
            ],
        },
    )


def test_higher_priority_starves_lower() -> None:
    """An idle at DEFAULT_IDLE does not run while a DEFAULT-priority idle stays ready (3 runs)."""
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        n = {"default": 0}
        def busy():
            n["default"] += 1
            log.append("default%d" % n["default"])
            return n["default"] < 3
        def idle():
            log.append("idle")
            loop.quit()
            return False
        GLib.idle_add(idle)
        GLib.idle_add(busy, priority=GLib.PRIORITY_DEFAULT)
        loop.run()
        out["idle_add"] = log
        ctx = GLib.MainContext.new()
        log2 = []
        m = {"n": 0}
        low = GLib.Idle(GLib.PRIORITY_LOW)
        low.set_callback(lambda *a: (log2.append("low"), False)[1])
        low.attach(ctx)
        def busy2(*a):
            m["n"] += 1
            log2.append("high%d" % m["n"])
            return GLib.SOURCE_CONTINUE if m["n"] < 3 else GLib.SOURCE_REMOVE
        high = GLib.Idle(GLib.PRIORITY_HIGH)
        high.set_callback(busy2)
        high.attach(ctx)
        its = []
        for i in range(5):
            b = len(log2)
            its.append([ctx.iteration(False)] + log2[b:])
        out["iterations"] = its
        ''',
        {
            "idle_add": ["default1", "default2", "default3", "idle"],
            "iterations": [[True, "high1"], [True, "high2"], [True, "high3"], [True, "low"], [False]],
        },
    )


def test_same_priority_attach_order() -> None:
    """Three repeating idles of one priority interleave in attach order, one round per iteration."""
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        count = {}
        def rep(name, k):
            count[name] = count.get(name, 0) + 1
            log.append(name + str(count[name]))
            if name == "C" and count[name] == k:
                loop.quit()
            return count[name] < k
        for name in "ABC":
            GLib.idle_add(rep, name, 3)
        loop.run()
        out["log"] = log
        ''',
        {
            "log": ["A1", "B1", "C1", "A2", "B2", "C2", "A3", "B3", "C3"],
        },
    )


def test_timeouts_by_expiry() -> None:
    """Timeouts run in expiry order (150, 50, 100 ms attached in that order); equal ones in attach order.

    But timeouts that have all expired by the time the context looks at them are ready together and
    run in one iteration in attach order, not in expiry order.
    """
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        def t(name):
            log.append(name)
            if len(log) == 5:
                loop.quit()
            return False
        for ms in (150, 50, 100):
            GLib.timeout_add(ms, t, "t%d" % ms)
        GLib.timeout_add(200, t, "t200a")
        GLib.timeout_add(200, t, "t200b")
        loop.run()
        out["expiry_order"] = log
        ctx = GLib.MainContext.new()
        log2 = []
        for ms in (300, 100, 200):
            s = GLib.Timeout(ms)
            s.set_callback(lambda *a, ms=ms: (log2.append("t%d" % ms), False)[1])
            s.attach(ctx)
        out["before_expiry"] = [ctx.pending(), ctx.iteration(False), list(log2)]
        time.sleep(0.4)
        out["all_expired"] = [ctx.pending(), ctx.iteration(False), list(log2), ctx.iteration(False)]
        ''',
        {
            "expiry_order": ["t50", "t100", "t150", "t200a", "t200b"],
            "before_expiry": [False, False, []],
            "all_expired": [True, True, ["t300", "t100", "t200"], False],
        },
    )


def test_timeout_zero_versus_idle() -> None:
    """timeout_add(0) (PRIORITY_DEFAULT) runs before an earlier idle_add (PRIORITY_DEFAULT_IDLE)."""
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        def f(name):
            log.append(name)
            if len(log) == 5:
                loop.quit()
            return False
        GLib.idle_add(f, "idle")
        GLib.timeout_add(0, f, "timeout0")
        GLib.idle_add(f, "idle_high", priority=GLib.PRIORITY_HIGH)
        GLib.timeout_add(0, f, "timeout0_low", priority=GLib.PRIORITY_LOW)
        GLib.timeout_add(0, f, "timeout0_default_idle", priority=GLib.PRIORITY_DEFAULT_IDLE)
        loop.run()
        out["log"] = log
        ''',
        {
            "log": ["idle_high", "timeout0", "idle", "timeout0_default_idle", "timeout0_low"],
        },
    )


def test_attach_during_dispatch_and_set_priority() -> None:
    """A source attached by a callback waits for the next iteration; set_priority on attached sources."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        log = []
        def idle(name, action=None, prio=GLib.PRIORITY_DEFAULT):
            s = GLib.Idle()
            s.set_priority(prio)
            def cb(*a):
                log.append(name)
                if action:
                    action()
                return False
            s.set_callback(cb)
            s.attach(ctx)
            return s
        idle("A", lambda: idle("A_child", prio=GLib.PRIORITY_HIGH))
        idle("B")
        its = []
        for i in range(3):
            b = len(log)
            its.append([ctx.iteration(False)] + log[b:])
        out["attach_during_dispatch"] = its
        x = idle("x")
        idle("y")
        z = idle("z", prio=GLib.PRIORITY_LOW)
        z.set_priority(GLib.PRIORITY_HIGH)
        x.set_priority(GLib.PRIORITY_LOW)
        its = []
        for i in range(4):
            b = len(log)
            its.append([ctx.iteration(False)] + log[b:])
        out["set_priority_attached"] = its
        out["priorities"] = [x.get_priority(), z.get_priority()]
        ''',
        {
            "attach_during_dispatch": [[True, "A", "B"], [True, "A_child"], [False]],
            "set_priority_attached": [[True, "z"], [True, "y"], [True, "x"], [False]],
            "priorities": [300, -100],
        },
    )


# --------------------------------------------------------------------------------------------
# Callbacks: return values, removal, exceptions, user data
# --------------------------------------------------------------------------------------------


def test_callback_return_values() -> None:
    """SOURCE_CONTINUE N times then SOURCE_REMOVE; None removes (PyGObject: falsy); truthiness counts."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        calls = {}
        srcs = {}
        def mk(name, ret):
            s = GLib.Idle()
            s.set_priority(GLib.PRIORITY_DEFAULT)
            def cb(*a):
                calls[name] = calls.get(name, 0) + 1
                return ret(calls[name])
            s.set_callback(cb)
            s.attach(ctx)
            srcs[name] = s
        mk("continue3", lambda k: GLib.SOURCE_CONTINUE if k < 3 else GLib.SOURCE_REMOVE)
        mk("none", lambda k: None)
        mk("zero", lambda k: 0)
        mk("one_then_zero", lambda k: 1 if k < 2 else 0)
        mk("str_then_empty", lambda k: "yes" if k < 2 else "")
        mk("list_then_empty", lambda k: [1] if k < 2 else [])
        mk("true4", lambda k: k < 4)
        out["iterations"] = [ctx.iteration(False) for i in range(6)]
        out["calls"] = calls
        out["destroyed"] = {k: s.is_destroyed() for k, s in srcs.items()}
        loop = GLib.MainLoop()
        watchdog(loop)
        n = []
        def rep(tag):
            n.append(tag)
            if len(n) == 4:
                loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE
        i = GLib.timeout_add(10, rep, "t")
        loop.run()
        out["timeout_repeats"] = n
        out["removed_after_false"] = GLib.MainContext.default().find_source_by_id(i)
        ''',
        {
            "iterations": [True, True, True, True, False, False],
            "calls": {
                "continue3": 3,
                "none": 1,
                "zero": 1,
                "one_then_zero": 2,
                "str_then_empty": 2,
                "list_then_empty": 2,
                "true4": 4,
            },
            "destroyed": {
                "continue3": True,
                "none": True,
                "zero": True,
                "one_then_zero": True,
                "str_then_empty": True,
                "list_then_empty": True,
                "true4": True,
            },
            "timeout_repeats": ["t", "t", "t", "t"],
            "removed_after_false": None,
        },
    )


def test_callback_exception_removes_source() -> None:
    """A callback that raises: PyGObject prints the traceback (stderr) and treats it as SOURCE_REMOVE."""
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        def boom():
            log.append("boom")
            raise ValueError("boom")
        GLib.idle_add(boom)
        GLib.timeout_add(50, lambda: (log.append("end"), loop.quit(), False)[2])
        loop.run()
        out["loop"] = log
        ctx = GLib.MainContext.new()
        n = []
        s = GLib.Idle()
        def boom2(*a):
            n.append(1)
            raise RuntimeError("boom2")
        s.set_callback(boom2)
        s.attach(ctx)
        out["iteration"] = [ctx.iteration(False), ctx.iteration(False), len(n), s.is_destroyed()]
        ''',
        {
            "loop": ["boom", "end"],
            "iteration": [True, False, 1, True],
        },
    )


def test_removal_by_another_callback_same_iteration() -> None:
    """A ready source destroyed by a callback of the same iteration is not dispatched; self-destroy."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        log = []
        srcs = {}
        def mk(name, action=None, prio=GLib.PRIORITY_DEFAULT, ret=True):
            s = GLib.Idle()
            s.set_priority(prio)
            def cb(*a):
                log.append(name)
                if action:
                    action()
                return ret
            s.set_callback(cb)
            srcs[name] = s
            s.attach(ctx)
        mk("A", lambda: srcs["B"].destroy(), ret=False)
        mk("B")
        mk("C", lambda: srcs["A"].destroy(), ret=False)
        mk("D", lambda: srcs["D"].destroy())
        mk("E", lambda: srcs["F"].destroy(), prio=GLib.PRIORITY_LOW, ret=False)
        mk("F", prio=GLib.PRIORITY_LOW)
        its = []
        for i in range(3):
            b = len(log)
            its.append([ctx.iteration(False)] + log[b:])
        out["iterations"] = its
        out["destroyed"] = {k: s.is_destroyed() for k, s in srcs.items()}
        b = srcs["B"]
        out["after_destroy"] = [b.get_context() == ctx, b.get_id(), ctx.find_source_by_id(b.get_id())]
        ''',
        {
            "iterations": [[True, "A", "C", "D"], [True, "E"], [False]],
            "destroyed": {"A": True, "B": True, "C": True, "D": True, "E": True, "F": True},
            "after_destroy": [True, 2, None],
        },
    )


def test_source_remove() -> None:
    """GLib.source_remove: of another ready source (not dispatched), of itself, twice, of an unknown id.

    For an unknown id GLib logs ``g_critical``-level "Source ID %u was not found when attempting to
    remove it"; PyGObject turns it into a Python warning (category ``GLib.Warning``) and
    ``source_remove`` returns False. Only the return value is compared; the warnings are checked on
    the GLib side only (gsocklab in-process may print or warn as it likes).
    """
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        ids = {}
        def a():
            log.append("a")
            out["remove_b"] = GLib.source_remove(ids["b"])
            return False
        def b():
            log.append("b")
            return False
        def selfrm():
            log.append("self")
            out["remove_self"] = GLib.source_remove(ids["self"])
            out["self_found_after_remove"] = GLib.MainContext.default().find_source_by_id(ids["self"])
            return True
        def end():
            log.append("end")
            loop.quit()
            return False
        ids["a"] = GLib.idle_add(a)
        ids["b"] = GLib.idle_add(b)
        ids["self"] = GLib.idle_add(selfrm)
        ids["end"] = GLib.timeout_add(50, end)
        loop.run()
        out["log"] = log
        again = warned(GLib.source_remove, ids["b"])
        unknown = warned(GLib.source_remove, 987654)
        out["remove_again"] = again[0]
        out["remove_unknown"] = unknown[0]
        if IS_GLIB:
            out["warnings_glib"] = [again[1], unknown[1]]
        ''',
        {
            "remove_b": True,
            "remove_self": True,
            "self_found_after_remove": None,
            "log": ["a", "self", "end"],
            "remove_again": False,
            "remove_unknown": False,
        },
        glib_only={
            "warnings_glib": [
                ["Source ID 4 was not found when attempting to remove it"],
                ["Source ID 987654 was not found when attempting to remove it"],
            ],
        },
    )


def test_user_data() -> None:
    """What callbacks receive: idle_add/timeout_add pass *user_data; Source.set_callback passes one value.

    ``Source.set_callback(fn)`` without data calls ``fn(None)``; ``set_callback(fn, data)`` calls
    ``fn(data)`` (a tuple stays one argument); idle_add/timeout_add without data call ``fn()``.
    Order: the HIGH idle, then the PRIORITY_DEFAULT timeouts (ready together, attach order), then the
    DEFAULT_IDLE idles in attach order.
    """
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        got = []
        def rec(tag):
            def cb(*a):
                got.append([tag] + args_of(a))
                return False
            return cb
        GLib.idle_add(rec("idle_add()"))
        GLib.idle_add(rec("idle_add(3 args)"), 1, "two", None)
        GLib.idle_add(rec("idle_add(tuple)"), (1, 2))
        GLib.idle_add(rec("idle_add(priority=HIGH)"), "x", priority=GLib.PRIORITY_HIGH)
        GLib.timeout_add(0, rec("timeout_add()"))
        GLib.timeout_add(0, rec("timeout_add(2 args)"), [1], {"k": 2})
        s = GLib.Idle()
        s.set_callback(rec("Idle.set_callback(fn)"))
        s.attach()
        s = GLib.Idle()
        s.set_callback(rec("Idle.set_callback(fn, data)"), "ud")
        s.attach(None)
        s = GLib.Timeout(0)
        s.set_callback(rec("Timeout.set_callback(fn, tuple)"), ("a", 1))
        s.attach(GLib.MainContext.default())
        s = GLib.timeout_source_new(0)
        s.set_callback(rec("timeout_source_new.set_callback(fn, user_data=7)"), user_data=7)
        s.attach()
        out["set_callback_two_data"] = err(GLib.Idle().set_callback, rec("x"), 1, 2)[:2]
        GLib.timeout_add(100, lambda: (loop.quit(), False)[1])
        loop.run()
        out["got"] = got
        ''',
        {
            "set_callback_two_data": ["raised", "TypeError"],
            "got": [
                ["idle_add(priority=HIGH)", "'x'"],
                ["timeout_add()"],
                ["timeout_add(2 args)", "[1]", "{'k': 2}"],
                ["Timeout.set_callback(fn, tuple)", "('a', 1)"],
                ["timeout_source_new.set_callback(fn, user_data=7)", "7"],
                ["idle_add()"],
                ["idle_add(3 args)", "1", "'two'", "None"],
                ["idle_add(tuple)", "(1, 2)"],
                ["Idle.set_callback(fn)", "None"],
                ["Idle.set_callback(fn, data)", "'ud'"],
            ],
        },
    )


def test_priority_keyword() -> None:
    """The priority keyword of timeout_add/idle_add/timeout_add_seconds, seen through find_source_by_id."""
    conform(
        r'''
        d = GLib.MainContext.default()
        ids = {
            "idle_add": GLib.idle_add(lambda: False),
            "idle_add(priority=HIGH)": GLib.idle_add(lambda: False, priority=GLib.PRIORITY_HIGH),
            "idle_add(priority=5)": GLib.idle_add(lambda: False, priority=5),
            "timeout_add": GLib.timeout_add(1000, lambda: False),
            "timeout_add(priority=LOW)": GLib.timeout_add(1000, lambda: False, priority=GLib.PRIORITY_LOW),
            "timeout_add_seconds": GLib.timeout_add_seconds(1, lambda: False),
            "timeout_add_seconds(priority=DEFAULT_IDLE)": GLib.timeout_add_seconds(
                1, lambda: False, priority=GLib.PRIORITY_DEFAULT_IDLE),
        }
        out["priority"] = {k: d.find_source_by_id(i).get_priority() for k, i in ids.items()}
        out["name"] = {k: d.find_source_by_id(i).get_name() for k, i in ids.items()}
        out["ids"] = [all(type(i) is int and i > 0 for i in ids.values()), len(set(ids.values())) == len(ids),
                      sorted(ids.values()) == list(ids.values())]
        out["removed"] = [GLib.source_remove(i) for i in ids.values()]
        ''',
        {
            "priority": {
                "idle_add": 200,
                "idle_add(priority=HIGH)": -100,
                "idle_add(priority=5)": 5,
                "timeout_add": 0,
                "timeout_add(priority=LOW)": 300,
                "timeout_add_seconds": 0,
                "timeout_add_seconds(priority=DEFAULT_IDLE)": 200,
            },
            "name": {
                "idle_add": "GIdleSource",
                "idle_add(priority=HIGH)": "GIdleSource",
                "idle_add(priority=5)": "GIdleSource",
                "timeout_add": None,
                "timeout_add(priority=LOW)": None,
                "timeout_add_seconds": None,
                "timeout_add_seconds(priority=DEFAULT_IDLE)": None,
            },
            "ids": [True, True, True],
            "removed": [True, True, True, True, True, True, True],
        },
    )


# --------------------------------------------------------------------------------------------
# MainContext
# --------------------------------------------------------------------------------------------


def test_ids_and_find_source_by_id() -> None:
    """Ids are per context, from 1, in attach order; find_source_by_id; destroyed sources are not found."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        ctx2 = GLib.MainContext.new()
        a, b, c = GLib.Idle(), GLib.Timeout(10000), GLib.idle_source_new()
        out["ids"] = [a.attach(ctx), b.attach(ctx), c.attach(ctx)]
        out["ids_other_context"] = GLib.Idle().attach(ctx2)
        out["get_id"] = [a.get_id(), b.get_id(), c.get_id()]
        b.set_name("mine")
        b.set_priority(7)
        f = ctx.find_source_by_id(2)
        out["found"] = [isinstance(f, GLib.Source), f.get_id(), f.get_name(), f.get_priority(), f.get_context() == ctx]
        out["not_in_other_context"] = ctx2.find_source_by_id(2)
        out["unknown"] = ctx.find_source_by_id(987654)
        f.destroy()
        out["destroy_through_found"] = [b.is_destroyed(), ctx.find_source_by_id(2)]
        out["next_id_after_destroy"] = GLib.Idle().attach(ctx)
        out["default_is_main_context_default"] = GLib.MainContext.default() == GLib.main_context_default()
        out["MainContext()"] = [isinstance(GLib.MainContext(), GLib.MainContext), GLib.MainContext() == ctx]
        i = GLib.idle_add(lambda: False)
        out["idle_add_in_default"] = GLib.main_context_default().find_source_by_id(i).get_id() == i
        GLib.source_remove(i)
        ''',
        {
            "ids": [1, 2, 3],
            "ids_other_context": 1,
            "get_id": [1, 2, 3],
            "found": [True, 2, "mine", 7, True],
            "not_in_other_context": None,
            "unknown": None,
            "destroy_through_found": [True, None],
            "next_id_after_destroy": 4,
            "default_is_main_context_default": True,
            "MainContext()": [True, False],
            "idle_add_in_default": True,
        },
    )


def test_iteration_and_pending() -> None:
    """iteration(False)/pending() with nothing ready, a future timeout, a ready idle; iteration(True) blocks."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        out["empty"] = [ctx.pending(), ctx.iteration(False), ctx.iteration(may_block=False)]
        t = GLib.Timeout(10000)
        t.attach(ctx)
        out["future_timeout"] = [ctx.pending(), ctx.iteration(False)]
        n = []
        s = GLib.Idle()
        s.set_callback(lambda *a: (n.append(1), False)[1])
        s.attach(ctx)
        out["idle_ready"] = [ctx.pending(), ctx.pending(), len(n), ctx.iteration(False), len(n), ctx.pending(),
                             ctx.iteration(False)]
        s = GLib.Idle()
        s.set_callback(lambda *a: True)
        s.attach(ctx)
        s.destroy()
        out["attached_then_destroyed"] = [ctx.pending(), ctx.iteration(False)]
        g = guard(ctx)
        fired = []
        t2 = GLib.Timeout(50)
        t2.set_callback(lambda *a: (fired.append("t50"), False)[1])
        t2.attach(ctx)
        t0 = time.monotonic()
        out["blocking"] = [ctx.iteration(True), fired, time.monotonic() - t0 > 0.03]
        s = GLib.Idle()
        s.set_callback(lambda *a: False)
        s.attach(ctx)
        out["iteration_default_arg_blocks_but_idle_ready"] = ctx.iteration()
        g.destroy()
        t.destroy()
        ''',
        {
            "empty": [False, False, False],
            "future_timeout": [False, False],
            "idle_ready": [True, True, 0, True, 1, False, False],
            "attached_then_destroyed": [False, False],
            "blocking": [True, ["t50"], True],
            "iteration_default_arg_blocks_but_idle_ready": True,
        },
    )


def test_acquire_release_is_owner() -> None:
    """acquire is recursive per thread; another thread cannot acquire; is_owner inside a dispatch."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        out["owner_initially"] = ctx.is_owner()
        out["acquire"] = [ctx.acquire(), ctx.is_owner(), ctx.acquire()]
        res = []
        th = threading.Thread(target=lambda: res.extend([ctx.acquire(), ctx.is_owner()]))
        th.start()
        th.join(5)
        out["other_thread_while_owned"] = res
        ctx.release()
        out["owner_after_one_release"] = ctx.is_owner()
        out["second_release"] = ctx.release()
        out["owner_after_two_releases"] = ctx.is_owner()
        res2 = []
        def grab():
            res2.extend([ctx.acquire(), ctx.is_owner(), ctx.release(), ctx.is_owner()])
        th = threading.Thread(target=grab)
        th.start()
        th.join(5)
        out["other_thread_when_free"] = res2
        s = GLib.Idle()
        s.set_callback(lambda *a: (out.__setitem__("owner_in_callback", ctx.is_owner()), False)[1])
        s.attach(ctx)
        ctx.iteration(False)
        out["owner_after_iteration"] = ctx.is_owner()
        ''',
        {
            "owner_initially": False,
            "acquire": [True, True, True],
            "other_thread_while_owned": [False, False],
            "owner_after_one_release": True,
            "second_release": None,
            "owner_after_two_releases": False,
            "other_thread_when_free": [True, True, None, False],
            "owner_in_callback": True,
            "owner_after_iteration": False,
        },
    )


def test_thread_default_context() -> None:
    """push/get/pop_thread_default, ref_thread_default; idle_add still uses the global default.

    Pushing the global-default context makes get_thread_default() return None (GLib stores NULL).
    """
    conform(
        r'''
        out["initial"] = GLib.MainContext.get_thread_default()
        out["ref_initial_is_default"] = GLib.MainContext.ref_thread_default() == GLib.MainContext.default()
        c2 = GLib.MainContext.new()
        out["push_returns"] = c2.push_thread_default()
        try:
            out["pushed"] = [GLib.MainContext.get_thread_default() == c2, GLib.MainContext.ref_thread_default() == c2,
                             GLib.MainContext.default() == c2]
            i = GLib.idle_add(lambda: False)
            found = GLib.MainContext.default().find_source_by_id(i)
            out["idle_add_goes_to_global_default"] = [c2.find_source_by_id(i), found is not None]
            GLib.source_remove(i)
            out["MainLoop()_uses_global_default"] = GLib.MainLoop().get_context() == GLib.MainContext.default()
            res = []
            th = threading.Thread(target=lambda: res.append(GLib.MainContext.get_thread_default()))
            th.start()
            th.join(5)
            out["other_thread_sees"] = res
            c3 = GLib.MainContext.new()
            c3.push_thread_default()
            out["nested_push"] = GLib.MainContext.get_thread_default() == c3
            out["pop_returns"] = c3.pop_thread_default()
            out["after_pop_inner"] = GLib.MainContext.get_thread_default() == c2
        finally:
            c2.pop_thread_default()
        out["after_pop_outer"] = GLib.MainContext.get_thread_default()
        GLib.MainContext.default().push_thread_default()
        try:
            out["push_global_default"] = [GLib.MainContext.get_thread_default(),
                                          GLib.MainContext.ref_thread_default() == GLib.MainContext.default()]
        finally:
            GLib.MainContext.default().pop_thread_default()
        ''',
        {
            "initial": None,
            "ref_initial_is_default": True,
            "push_returns": None,
            "pushed": [True, True, False],
            "idle_add_goes_to_global_default": [None, True],
            "MainLoop()_uses_global_default": True,
            "other_thread_sees": [None],
            "nested_push": True,
            "pop_returns": None,
            "after_pop_inner": True,
            "after_pop_outer": None,
            "push_global_default": [None, True],
        },
    )


# --------------------------------------------------------------------------------------------
# MainLoop
# --------------------------------------------------------------------------------------------


def test_mainloop_run_quit_is_running() -> None:
    """run/quit/is_running from a callback; quit before run is forgotten; quit ends after the iteration."""
    conform(
        r'''
        loop = GLib.MainLoop()
        out["before"] = [loop.is_running(), loop.get_context() == GLib.MainContext.default()]
        watchdog(loop)
        def cb():
            out["in_callback"] = loop.is_running()
            out["quit_returns"] = loop.quit()
            out["after_quit_in_callback"] = loop.is_running()
            return False
        GLib.idle_add(cb)
        out["run_returns"] = loop.run()
        out["after_run"] = loop.is_running()
        loop2 = GLib.MainLoop()
        loop2.quit()
        out["quit_before_run_is_running"] = loop2.is_running()
        seen = []
        GLib.timeout_add(50, lambda: (seen.append("timeout quits"), loop2.quit(), False)[2])
        watchdog(loop2)
        loop2.run()
        out["quit_before_run_then"] = seen
        loop3 = GLib.MainLoop()
        watchdog(loop3)
        log = []
        GLib.idle_add(lambda: (log.append("a quits"), loop3.quit(), False)[2])
        GLib.idle_add(lambda: (log.append("b same iteration"), False)[1])
        GLib.idle_add(lambda: (log.append("c lower priority"), False)[1], priority=GLib.PRIORITY_LOW)
        loop3.run()
        out["quit_finishes_iteration"] = list(log)
        loop4 = GLib.MainLoop()
        watchdog(loop4)
        GLib.timeout_add(20, lambda: (log.append("next run"), loop4.quit(), False)[2])
        loop4.run()
        out["then"] = log
        loop5 = GLib.MainLoop()
        watchdog(loop5)
        k = []
        GLib.idle_add(lambda: (k.append(1), loop5.quit(), False)[2])
        loop5.run()
        GLib.idle_add(lambda: (k.append(2), loop5.quit(), False)[2])
        loop5.run()
        out["run_twice"] = k
        ''',
        {
            "before": [False, True],
            "in_callback": True,
            "quit_returns": None,
            "after_quit_in_callback": False,
            "run_returns": None,
            "after_run": False,
            "quit_before_run_is_running": False,
            "quit_before_run_then": ["timeout quits"],
            "quit_finishes_iteration": ["a quits", "b same iteration"],
            "then": ["a quits", "b same iteration", "c lower priority", "next run"],
            "run_twice": [1, 2],
        },
    )


def test_mainloop_constructors() -> None:
    """MainLoop(), MainLoop(None), MainLoop(ctx), MainLoop.new(ctx, is_running)."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        d = GLib.MainContext.default()
        out["MainLoop()"] = [GLib.MainLoop().get_context() == d, GLib.MainLoop().is_running()]
        out["MainLoop(None)"] = GLib.MainLoop(None).get_context() == d
        out["MainLoop(ctx)"] = [GLib.MainLoop(ctx).get_context() == ctx, isinstance(GLib.MainLoop(ctx), GLib.MainLoop)]
        out["MainLoop(context=ctx)"] = GLib.MainLoop(context=ctx).get_context() == ctx
        out["new(None, False)"] = [GLib.MainLoop.new(None, False).get_context() == d,
                                   GLib.MainLoop.new(None, False).is_running()]
        loop = GLib.MainLoop.new(ctx, True)
        out["new(ctx, True)"] = [loop.get_context() == ctx, loop.is_running()]
        loop.quit()
        out["new(ctx, True) after quit"] = loop.is_running()
        loop = GLib.MainLoop.new(ctx, True)
        watchdog(loop)
        s = GLib.Idle()
        s.set_callback(lambda *a: (out.__setitem__("ran", True), loop.quit(), False)[2])
        s.attach(ctx)
        loop.run()
        ''',
        {
            "MainLoop()": [True, False],
            "MainLoop(None)": True,
            "MainLoop(ctx)": [True, True],
            "MainLoop(context=ctx)": True,
            "new(None, False)": [True, False],
            "new(ctx, True)": [True, True],
            "new(ctx, True) after quit": False,
            "ran": True,
        },
    )


def test_nested_loop_blocks_recursion() -> None:
    """A nested run() inside a callback: the dispatching source is blocked unless can_recurse.

    Without can_recurse, other ready sources of the context (here a lower-priority idle) do run in the
    nested loop; the blocked idle A resumes in the outer loop after the nested one returns.
    """
    conform(
        r'''
        for recurse in (False, True):
            ctx = GLib.MainContext.new()
            outer = GLib.MainLoop(ctx)
            watchdog(outer)
            log = []
            state = {"depth": 0, "calls": 0}
            A = GLib.Idle(GLib.PRIORITY_HIGH)
            def a_cb(*_):
                state["calls"] += 1
                log.append("A%d@depth%d" % (state["calls"], state["depth"]))
                if state["calls"] == 1:
                    inner = GLib.MainLoop(ctx)
                    watchdog(inner)
                    B = GLib.Timeout(100)
                    B.set_callback(lambda *_: (log.append("B"), inner.quit(), False)[2])
                    B.attach(ctx)
                    state["depth"] += 1
                    log.append("inner.run")
                    inner.run()
                    log.append("inner returned")
                    state["depth"] -= 1
                    return True
                if state["calls"] >= 3:
                    outer.quit()
                    return False
                return True
            A.set_callback(a_cb)
            A.set_can_recurse(recurse)
            out["can_recurse_%s" % recurse] = A.get_can_recurse()
            A.attach(ctx)
            C = GLib.Idle()
            count = {"c": 0}
            def c_cb(*_):
                count["c"] += 1
                log.append("C%d" % count["c"])
                return count["c"] < 2
            C.set_callback(c_cb)
            C.attach(ctx)
            outer.run()
            out["log_can_recurse_%s" % recurse] = log
        ''',
        {
            "can_recurse_False": False,
            "log_can_recurse_False": [
                "A1@depth0",
                "inner.run",
                "C1",
                "C2",
                "B",
                "inner returned",
                "A2@depth0",
                "A3@depth0",
            ],
            "can_recurse_True": True,
            "log_can_recurse_True": [
                "A1@depth0",
                "inner.run",
                "A2@depth1",
                "A3@depth1",
                "C1",
                "C2",
                "B",
                "inner returned",
            ],
        },
    )


def test_private_context_loop_ignores_default() -> None:
    """A loop on a private context does not dispatch the global-default context's sources."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        loop = GLib.MainLoop(ctx)
        watchdog(loop)
        log = []
        GLib.idle_add(lambda: (log.append("default idle"), False)[1])
        GLib.timeout_add(10, lambda: (log.append("default timeout10"), False)[1])
        t = GLib.Timeout(100)
        t.set_callback(lambda *a: (log.append("private timeout100"), loop.quit(), False)[2])
        t.attach(ctx)
        loop.run()
        out["private_run"] = list(log)
        d = GLib.MainLoop()
        watchdog(d)
        GLib.timeout_add(30, lambda: (log.append("default timeout30"), d.quit(), False)[2])
        d.run()
        out["then_default_run"] = log
        ''',
        {
            "private_run": ["private timeout100"],
            "then_default_run": ["private timeout100", "default timeout10", "default idle", "default timeout30"],
        },
    )


def test_other_thread_wakes_blocked_loop() -> None:
    """Attaching/idle_add/timeout_add/quit/wakeup from another thread wake a loop blocked in poll.

    Callbacks always run in the thread that runs the loop. A wakeup() before a blocking iteration
    makes that iteration return at once (False: nothing dispatched).
    """
    conform(
        r'''
        main = threading.main_thread()
        ctx = GLib.MainContext.new()
        loop = GLib.MainLoop(ctx)
        watchdog(loop)
        got = []
        def attach_later():
            time.sleep(0.2)
            s = GLib.Idle()
            s.set_callback(lambda *a: (got.append(["Idle.attach", threading.current_thread() is main] + args_of(a)),
                                       loop.quit(), False)[2])
            s.attach(ctx)
        th = threading.Thread(target=attach_later)
        th.start()
        loop.run()
        th.join(5)
        out["attach_from_thread"] = got
        loop2 = GLib.MainLoop()
        watchdog(loop2)
        got2 = []
        def add_later():
            time.sleep(0.2)
            GLib.idle_add(lambda x: (got2.append(["idle_add", x, threading.current_thread() is main]), False)[1],
                          "from thread")
            GLib.timeout_add(50, lambda: (got2.append(["timeout_add", threading.current_thread() is main]),
                                          loop2.quit(), False)[2])
        th = threading.Thread(target=add_later)
        th.start()
        loop2.run()
        th.join(5)
        out["idle_add_timeout_add_from_thread"] = got2
        loop3 = GLib.MainLoop()
        watchdog(loop3)
        th = threading.Thread(target=lambda: (time.sleep(0.2), loop3.quit()))
        th.start()
        loop3.run()
        th.join(5)
        out["quit_from_thread"] = [loop3.is_running(), "watchdog" in out]
        ctx4 = GLib.MainContext.new()
        g = guard(ctx4)
        th = threading.Thread(target=lambda: (time.sleep(0.2), ctx4.wakeup()))
        th.start()
        out["wakeup_from_thread"] = ctx4.iteration(True)
        th.join(5)
        g.destroy()
        ctx5 = GLib.MainContext.new()
        g = guard(ctx5)
        out["wakeup_returns"] = ctx5.wakeup()
        out["wakeup_before_iteration"] = ctx5.iteration(True)
        g.destroy()
        ''',
        {
            "attach_from_thread": [["Idle.attach", True, "None"]],
            "idle_add_timeout_add_from_thread": [["idle_add", "from thread", True], ["timeout_add", True]],
            "quit_from_thread": [False, False],
            "wakeup_from_thread": False,
            "wakeup_returns": None,
            "wakeup_before_iteration": False,
        },
    )


def test_loop_in_worker_thread() -> None:
    """A worker thread pushes its own context, runs a loop; the main thread attaches a source that quits it."""
    conform(
        r'''
        res = {}
        ready = threading.Event()
        holder = {}
        def worker():
            wctx = GLib.MainContext.new()
            wctx.push_thread_default()
            wloop = GLib.MainLoop(wctx)
            holder["ctx"], holder["loop"] = wctx, wloop
            wd = GLib.Timeout(3000)
            wd.set_callback(lambda *a: (res.__setitem__("watchdog", True), wloop.quit(), False)[2])
            wd.attach(wctx)
            res["thread_default_in_worker"] = GLib.MainContext.get_thread_default() == wctx
            ready.set()
            wloop.run()
            wctx.pop_thread_default()
            res["thread_default_after_pop"] = GLib.MainContext.get_thread_default()
            wd.destroy()
        th = threading.Thread(target=worker)
        th.start()
        ready.wait(5)
        time.sleep(0.1)
        res["main_thread_default"] = GLib.MainContext.get_thread_default()
        s = GLib.Idle()
        def cb(*a):
            res["callback_in_worker"] = threading.current_thread() is th
            res["worker_owns_context"] = holder["ctx"].is_owner()
            holder["loop"].quit()
            return False
        s.set_callback(cb)
        s.attach(holder["ctx"])
        th.join(5)
        res["joined"] = not th.is_alive()
        res["main_owns_context"] = holder["ctx"].is_owner()
        out["worker"] = res
        ''',
        {
            "worker": {
                "thread_default_in_worker": True,
                "main_thread_default": None,
                "callback_in_worker": True,
                "worker_owns_context": True,
                "thread_default_after_pop": None,
                "joined": True,
                "main_owns_context": False,
            },
        },
    )


# --------------------------------------------------------------------------------------------
# Time: ready time, get_time, timeout_add_seconds, custom sources
# --------------------------------------------------------------------------------------------


def test_ready_time_and_get_time() -> None:
    """get_ready_time of Idle (-1) and Timeout (monotonic µs of expiry); set_ready_time; Source.get_time.

    A Timeout's ready time is set when it is created (now + interval) and attach() does not move it:
    a Timeout attached later fires ``interval`` after its creation. An Idle's is -1. set_ready_time(0)
    on a Timeout makes it due now; after the dispatch the Timeout re-arms itself (now + interval).
    """
    conform(
        r'''
        ctx = GLib.MainContext.new()
        now = GLib.get_monotonic_time()
        t = GLib.Timeout(200)
        r0 = t.get_ready_time()
        out["timeout_unattached"] = [type(r0).__name__, 0 <= r0 - now <= 200000 + 500000]
        time.sleep(0.05)
        t.attach(ctx)
        out["attach_keeps_ready_time"] = t.get_ready_time() == r0
        i = GLib.Idle()
        out["idle_unattached"] = i.get_ready_time()
        i.attach(ctx)
        out["idle_attached"] = i.get_ready_time()
        log = []
        i.set_callback(lambda *a: (log.append("idle"), False)[1])
        t2 = GLib.Timeout(10000)
        t2.set_callback(lambda *a: (log.append("t2"), True)[1])
        t2.attach(ctx)
        out["set_ready_time_returns"] = t2.set_ready_time(0)
        out["after_set"] = t2.get_ready_time()
        out["iteration1"] = [ctx.iteration(False), list(log)]
        r2 = t2.get_ready_time() - GLib.get_monotonic_time()
        out["rearmed"] = 5000000 < r2 <= 10000000
        out["iteration2"] = [ctx.iteration(False), list(log)]
        t.destroy()
        t2.destroy()
        times = []
        s = GLib.Idle()
        def cb(*a):
            st = s.get_time()
            times.append([type(st).__name__, now <= st <= GLib.get_monotonic_time()])
            return False
        s.set_callback(cb)
        s.attach(ctx)
        ctx.iteration(False)
        out["get_time_in_callback"] = times
        ''',
        {
            "timeout_unattached": ["int", True],
            "attach_keeps_ready_time": True,
            "idle_unattached": -1,
            "idle_attached": -1,
            "set_ready_time_returns": None,
            "after_set": 0,
            "iteration1": [True, ["t2"]],
            "rearmed": True,
            "iteration2": [True, ["t2", "idle"]],
            "get_time_in_callback": [["int", True]],
        },
    )


def test_timeout_add_seconds() -> None:
    """timeout_add_seconds(1, fn, data): fires once with data, after a 300 ms timeout_add (it rounds to
    whole seconds, never earlier than about 0.75 s), before a 3 s watchdog."""
    conform(
        r'''
        loop = GLib.MainLoop()
        watchdog(loop)
        log = []
        GLib.timeout_add_seconds(1, lambda x: (log.append(["seconds", x]), loop.quit(), False)[2], "d")
        GLib.timeout_add(300, lambda: (log.append(["ms300"]), False)[1])
        t0 = time.monotonic()
        loop.run()
        out["log"] = log
        out["elapsed_plausible"] = 0.5 < time.monotonic() - t0 < 2.9
        s = GLib.timeout_source_new_seconds(1)
        out["source_new_seconds_ready_time_whole"] = type(s.get_ready_time()).__name__
        ''',
        {
            "log": [["ms300"], ["seconds", "d"]],
            "elapsed_plausible": True,
            "source_new_seconds_ready_time_whole": "int",
        },
    )


def test_custom_source_subclass() -> None:
    """A GLib.Source subclass with prepare/check/dispatch (PyGObject calls dispatch(callback, args)).

    prepare() returning True skips check(); set_ready_time(0) makes it ready and is not reset by the
    dispatch. set_ready_time() wakes the context up, so the next blocking iteration returns at once
    (False, after prepare+check); the following one sleeps until the ready time and dispatches.
    """
    conform(
        r'''
        ctx = GLib.MainContext.new()
        g = guard(ctx)
        log = []
        class My(GLib.Source):
            def __init__(self):
                super().__init__()
                self.ready = False
            def prepare(self):
                log.append("prepare")
                return self.ready, -1
            def check(self):
                log.append("check")
                return self.ready
            def dispatch(self, callback, args):
                log.append(["dispatch", callback is not None] + args_of(args))
                return callback(*args)
        s = My()
        s.set_callback(lambda *a: (log.append(["callback"] + args_of(a)), True)[1], "ud")
        out["attach"] = s.attach(ctx)
        def step(block=False):
            r = ctx.iteration(block)
            res = [r, list(log)]
            del log[:]
            return res
        out["not_ready"] = step()
        s.ready = True
        out["ready"] = step()
        s.ready = False
        s.set_ready_time(0)
        out["ready_time_0"] = [s.get_ready_time(), step(), s.get_ready_time(), step()]
        s.set_ready_time(GLib.get_monotonic_time() + 100000)
        out["ready_time_future"] = [step(True), step(True)]
        s.destroy()
        g.destroy()
        ''',
        {
            "attach": 2,
            "not_ready": [False, ["prepare", "check"]],
            "ready": [True, ["prepare", ["dispatch", True, "'ud'"], ["callback", "'ud'"]]],
            "ready_time_0": [
                0,
                [True, ["prepare", ["dispatch", True, "'ud'"], ["callback", "'ud'"]]],
                0,
                [True, ["prepare", ["dispatch", True, "'ud'"], ["callback", "'ud'"]]],
            ],
            "ready_time_future": [
                [False, ["prepare", "check"]],
                [True, ["prepare", "check", ["dispatch", True, "'ud'"], ["callback", "'ud'"]]],
            ],
        },
    )


# --------------------------------------------------------------------------------------------
# io_add_watch and IOChannel
# --------------------------------------------------------------------------------------------


def test_io_add_watch_pipe() -> None:
    """io_add_watch on os.pipe(): the fd form, the IOChannel form, a Python object with fileno().

    The fd form calls ``fn(fd, condition, *data)`` with the int fd; the IOChannel form passes an
    IOChannel (a new wrapper, not the object given); a socket object is passed back as itself.
    The condition is a GLib.IOCondition. The watch only reports requested conditions: a pipe whose
    writer is closed gives HUP, which an IN-only watch never sees (GLib polls in a busy loop).
    """
    conform(
        r'''
        r, w = os.pipe()
        loop = GLib.MainLoop()
        watchdog(loop)
        got = []
        def on_fd(fd, cond, *data):
            got.append([desc(fd)[0], fd == r, desc(cond), list(data), os.read(fd, 100)])
            loop.quit()
            return False
        wid = GLib.io_add_watch(r, GLib.PRIORITY_DEFAULT, GLib.IO_IN, on_fd, "u1", 2)
        src = GLib.MainContext.default().find_source_by_id(wid)
        out["watch_source"] = [type(wid).__name__, wid > 0, src.get_name(), src.get_priority()]
        GLib.timeout_add(50, lambda: (os.write(w, b"hi"), False)[1])
        loop.run()
        out["fd_form"] = got
        out["removed_after_false"] = GLib.MainContext.default().find_source_by_id(wid)
        wch = GLib.IOChannel.unix_new(w)
        got_out = []
        loop_out = GLib.MainLoop()
        watchdog(loop_out)
        def on_out(channel, cond):
            got_out.append([desc(cond), channel.unix_get_fd() == w])
            if len(got_out) == 3:
                loop_out.quit()
                return False
            return True
        GLib.io_add_watch(wch, GLib.PRIORITY_DEFAULT, GLib.IO_OUT, on_out)
        loop_out.run()
        out["out_level_triggered"] = got_out
        ch = GLib.IOChannel(filedes=r)
        got2 = []
        loop2 = GLib.MainLoop()
        watchdog(loop2)
        def on_channel(channel, cond, *data):
            got2.append([isinstance(channel, GLib.IOChannel), channel.unix_get_fd() == r, desc(cond), list(data)])
            if len(got2) == 2:
                loop2.quit()
                return False
            return True
        wid2 = GLib.io_add_watch(ch, GLib.PRIORITY_HIGH, GLib.IO_IN | GLib.IO_HUP, on_channel, "ud")
        out["channel_watch_priority"] = GLib.MainContext.default().find_source_by_id(wid2).get_priority()
        os.close(w)
        loop2.run()
        out["channel_form_hup"] = got2
        os.close(r)
        r2, w2 = os.pipe()
        os.write(w2, b"xyz")
        os.close(w2)
        got3 = []
        loop3 = GLib.MainLoop()
        watchdog(loop3)
        GLib.io_add_watch(r2, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP,
                          lambda fd, c: (got3.append(desc(c)), loop3.quit(), False)[2])
        loop3.run()
        out["data_and_hup"] = got3
        got4 = []
        loop4 = GLib.MainLoop()
        watchdog(loop4)
        GLib.io_add_watch(r2, GLib.PRIORITY_DEFAULT, GLib.IO_IN, lambda fd, c: (got4.append(os.read(fd, 10)), False)[1])
        GLib.timeout_add(100, lambda: (loop4.quit(), False)[1])
        loop4.run()
        r3, w3 = os.pipe()
        os.close(w3)
        GLib.io_add_watch(r3, GLib.PRIORITY_DEFAULT, GLib.IO_IN, lambda fd, c: (got4.append(desc(c)), False)[1])
        GLib.timeout_add(300, lambda: (loop4.quit(), False)[1])
        loop4.run()
        out["in_only_watch"] = got4
        os.close(r2)
        os.close(r3)
        a, b = socket.socketpair()
        got5 = []
        loop5 = GLib.MainLoop()
        watchdog(loop5)
        GLib.io_add_watch(a, GLib.PRIORITY_DEFAULT, GLib.IO_IN,
                          lambda s, c: (got5.append([s is a, desc(c), s.recv(10)]), loop5.quit(), False)[2])
        b.send(b"q")
        loop5.run()
        out["socket_object_form"] = got5
        a.close()
        b.close()
        ''',
        {
            "watch_source": ["int", True, "GIOChannel (Unix)", 0],
            "fd_form": [["int", True, ["IOCondition", 1], ["u1", 2], "6869"]],
            "removed_after_false": None,
            "out_level_triggered": [[["IOCondition", 4], True], [["IOCondition", 4], True], [["IOCondition", 4], True]],
            "channel_watch_priority": -100,
            "channel_form_hup": [[True, True, ["IOCondition", 16], ["ud"]], [True, True, ["IOCondition", 16], ["ud"]]],
            "data_and_hup": [["IOCondition", 17]],
            "in_only_watch": ["78797a"],
            "socket_object_form": [[True, ["IOCondition", 1], "71"]],
        },
    )


def test_io_add_watch_deprecated_forms() -> None:
    """io_add_watch(fd, condition, fn, *data) without a priority, and with ``priority=`` as a keyword.

    Both still work; PyGObject warns with PyGIDeprecationWarning (a DeprecationWarning subclass): one
    warning without priority, two with the keyword. Compared: that the warnings are
    DeprecationWarnings, how many, and what the callback got; the texts on the GLib side only.
    """
    conform(
        r'''
        def legacy(*args, **kw):
            with warnings.catch_warnings(record=True) as ws:
                warnings.simplefilter("always")
                wid = GLib.io_add_watch(*args, **kw)
            prio = GLib.MainContext.default().find_source_by_id(wid).get_priority()
            return [type(wid).__name__, prio, [issubclass(w.category, DeprecationWarning) for w in ws]], \
                [str(w.message) for w in ws]
        r, w = os.pipe()
        os.write(w, b"a")
        loop = GLib.MainLoop()
        watchdog(loop)
        got = []
        def cb(fd, cond, *data):
            got.append([fd == r, desc(cond), list(data)])
            if len(got) == 2:
                loop.quit()
            return False
        res1, texts1 = legacy(r, GLib.IO_IN, cb, "d")
        res2, texts2 = legacy(r, GLib.IO_IN, cb, "e", priority=GLib.PRIORITY_HIGH)
        out["without_priority"] = res1
        out["priority_keyword"] = res2
        loop.run()
        out["got"] = got
        if IS_GLIB:
            out["warnings_glib"] = [texts1, texts2]
        os.close(r)
        os.close(w)
        ''',
        {
            "without_priority": ["int", 0, [True]],
            "priority_keyword": ["int", -100, [True, True]],
            "got": [[True, ["IOCondition", 1], ["e"]], [True, ["IOCondition", 1], ["d"]]],
        },
        glib_only={
            "warnings_glib": [
                ["Calling io_add_watch without priority as second argument is deprecated"],
                [
                    "Calling io_add_watch without priority as second argument is deprecated",
                    (
                        "Calling io_add_watch with priority keyword argument is deprecated, put it as second position"
                        "al argument"
                    ),
                ],
            ],
        },
    )


def test_iochannel_read() -> None:
    """IOChannel reading on a pipe, with the default UTF-8 encoding and after set_encoding(None).

    read() returns bytes; readline()/readlines()/read_line()/iteration return str (PyGObject decodes
    the utf8 out argument even when the encoding is None); readline() at EOF and the extra last entry
    of readlines() are ''. read_line() is a 4-tuple (status, str_return, length, terminator_pos) with
    those attribute names; at EOF (EOF, None, 0, 0). read_to_end() is (status, bytes).
    """
    conform(
        r'''
        def channel(data, encoding="UTF-8"):
            r, w = os.pipe()
            os.write(w, data)
            os.close(w)
            ch = GLib.IOChannel(filedes=r)
            if encoding is None:
                ch.set_encoding(None)
            return ch
        data = "héllo\nworld\r\nlast".encode()
        for enc in ("UTF-8", None):
            k = "utf8" if enc else "none"
            def run(name, fn):
                ch = channel(data, enc)
                try:
                    out[k + " " + name] = desc(fn(ch))
                except Exception as e:
                    out[k + " " + name] = ["raised", type(e).__name__]
                ch.shutdown(False)
            run("read()", lambda ch: [ch.read(), ch.read()])
            run("read(3)", lambda ch: [ch.read(3), ch.read(3), ch.read()])
            run("readline()", lambda ch: [ch.readline() for i in range(4)])
            run("readlines()", lambda ch: ch.readlines())
            run("read_line()", lambda ch: [ch.read_line() for i in range(4)])
            run("read_to_end()", lambda ch: [ch.read_to_end(), ch.read_to_end()])
            run("list(ch)", lambda ch: list(ch))
            run("readline()+read()", lambda ch: [ch.readline(), ch.read()])
        ch = channel(b"one\ntwo")
        res = ch.read_line()
        out["read_line fields"] = [desc(res.str_return), res.length, res.terminator_pos, plain(res[0]), len(res),
                                   isinstance(res, tuple)]
        res = ch.read_to_end()
        out["read_to_end fields"] = [desc(res.str_return), len(res)]
        ch.shutdown(False)
        ch = channel(b"\xff\xfe\nok\n")
        out["utf8 invalid read_line"] = gerr(ch.read_line)
        out["utf8 invalid readline"] = gerr(ch.readline)
        out["utf8 invalid read"] = gerr(ch.read)
        ch.shutdown(False)
        ch = channel(b"\xff\xfe\nok\n", None)
        out["none invalid read_line"] = gerr(ch.read_line)
        out["none invalid rest"] = desc(ch.read())
        ch.shutdown(False)
        r, w = os.pipe()
        ch = GLib.IOChannel.unix_new(r)
        out["set_flags NONBLOCK"] = [desc(ch.set_flags(GLib.IOFlags.NONBLOCK)), desc(ch.get_flags())]
        out["nonblock empty read()"] = desc(ch.read())
        out["nonblock empty read_line()"] = desc(ch.read_line())
        out["nonblock empty read_to_end()"] = desc(ch.read_to_end())
        ch.shutdown(False)
        os.close(w)
        ''',
        {
            "utf8 read()": ["list", [["bytes", "b'h\\xc3\\xa9llo\\nworld\\r\\nlast'"], ["bytes", "b''"]]],
            "utf8 read(3)": [
                "list",
                [["bytes", "b'h\\xc3\\xa9'"], ["bytes", "b'llo'"], ["bytes", "b'\\nworld\\r\\nlast'"]],
            ],
            "utf8 readline()": [
                "list",
                [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"], ["str", "''"]],
            ],
            "utf8 readlines()": [
                "list",
                [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"], ["str", "''"]],
            ],
            "utf8 read_line()": [
                "list",
                [
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'héllo\\n'"], ["int", 7], ["int", 6]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'world\\r\\n'"], ["int", 7], ["int", 5]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'last'"], ["int", 4], ["int", 4]]],
                    ["tuple", [["IOStatus", "EOF"], ["NoneType", None], ["int", 0], ["int", 0]]],
                ],
            ],
            "utf8 read_to_end()": [
                "list",
                [
                    ["tuple", [["IOStatus", "NORMAL"], ["bytes", "b'h\\xc3\\xa9llo\\nworld\\r\\nlast'"]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["bytes", "b''"]]],
                ],
            ],
            "utf8 list(ch)": ["list", [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"]]],
            "utf8 readline()+read()": ["list", [["str", "'héllo\\n'"], ["bytes", "b'world\\r\\nlast'"]]],
            "none read()": ["list", [["bytes", "b'h\\xc3\\xa9llo\\nworld\\r\\nlast'"], ["bytes", "b''"]]],
            "none read(3)": [
                "list",
                [["bytes", "b'h\\xc3\\xa9'"], ["bytes", "b'llo'"], ["bytes", "b'\\nworld\\r\\nlast'"]],
            ],
            "none readline()": [
                "list",
                [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"], ["str", "''"]],
            ],
            "none readlines()": [
                "list",
                [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"], ["str", "''"]],
            ],
            "none read_line()": [
                "list",
                [
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'héllo\\n'"], ["int", 7], ["int", 6]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'world\\r\\n'"], ["int", 7], ["int", 5]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["str", "'last'"], ["int", 4], ["int", 4]]],
                    ["tuple", [["IOStatus", "EOF"], ["NoneType", None], ["int", 0], ["int", 0]]],
                ],
            ],
            "none read_to_end()": [
                "list",
                [
                    ["tuple", [["IOStatus", "NORMAL"], ["bytes", "b'h\\xc3\\xa9llo\\nworld\\r\\nlast'"]]],
                    ["tuple", [["IOStatus", "NORMAL"], ["bytes", "b''"]]],
                ],
            ],
            "none list(ch)": ["list", [["str", "'héllo\\n'"], ["str", "'world\\r\\n'"], ["str", "'last'"]]],
            "none readline()+read()": ["list", [["str", "'héllo\\n'"], ["bytes", "b'world\\r\\nlast'"]]],
            "read_line fields": [["str", "'one\\n'"], 4, 3, "NORMAL", 4, True],
            "read_to_end fields": [["bytes", "b'two'"], 2],
            "utf8 invalid read_line": ["error", "g_convert_error", 1, "Invalid byte sequence in conversion input"],
            "utf8 invalid readline": ["error", "g_convert_error", 1, "Invalid byte sequence in conversion input"],
            "utf8 invalid read": ["error", "g_convert_error", 1, "Invalid byte sequence in conversion input"],
            "none invalid read_line": ["raised", "UnicodeDecodeError"],
            "none invalid rest": ["bytes", "b'ok\\n'"],
            "set_flags NONBLOCK": [["IOStatus", "NORMAL"], ["IOFlags", 6]],
            "nonblock empty read()": ["bytes", "b''"],
            "nonblock empty read_line()": [
                "tuple",
                [["IOStatus", "AGAIN"], ["NoneType", None], ["int", 0], ["int", 0]],
            ],
            "nonblock empty read_to_end()": ["tuple", [["IOStatus", "AGAIN"], ["bytes", "b''"]]],
        },
    )


def test_iochannel_write_flush_shutdown() -> None:
    """IOChannel writing: buffered until flush(); write(str|bytes, buflen); write_chars; shutdown(flush).

    ``write`` returns the count of bytes (str is encoded as UTF-8), ``write_chars`` (status, count),
    ``flush`` and ``shutdown`` an IOStatus; shutdown closes the fd (the reader then sees EOF) and
    shutdown(False) drops buffered data. set_buffered(False) needs encoding None (else GLib warns
    "Need to have NULL encoding to set the buffering state of the channel." and nothing changes).
    """
    conform(
        r'''
        r, w = os.pipe()
        def readable():
            return bool(select.select([r], [], [], 0)[0])
        wc = GLib.IOChannel.unix_new(w)
        rc = GLib.IOChannel(filedes=r)
        out["defaults"] = [desc(wc.get_encoding()), desc(wc.get_buffered()), desc(wc.get_close_on_unref()),
                           desc(wc.get_flags()), desc(rc.get_flags()), wc.unix_get_fd() == w, rc.unix_get_fd() == r]
        out["write(str)"] = desc(wc.write("héllo\n"))
        out["visible_before_flush"] = readable()
        out["write(bytes)"] = desc(wc.write(b"ab\xc3\xa9\n"))
        out["write(bytes, 4)"] = desc(wc.write(b"0123456789", 4))
        out["write_chars(b, -1)"] = desc(wc.write_chars(b"xyz\n", -1))
        out["write_chars(b, 2)"] = desc(wc.write_chars(b"PQRS", 2))
        out["writelines"] = desc(wc.writelines(["l1\n", b"l2\n"]))
        out["flush"] = desc(wc.flush())
        out["visible_after_flush"] = readable()
        out["os.read"] = os.read(r, 100)
        out["set_encoding(None)"] = [desc(wc.set_encoding(None)), desc(wc.get_encoding())]
        out["set_buffered(False)"] = [desc(wc.set_buffered(False)), desc(wc.get_buffered())]
        out["unbuffered write"] = [desc(wc.write(b"\x00\xff")), readable(), os.read(r, 100)]
        out["set_close_on_unref"] = [desc(wc.set_close_on_unref(True)), desc(wc.get_close_on_unref())]
        out["shutdown(True)"] = desc(wc.shutdown(True))
        out["reader after writer shutdown"] = desc(rc.read())
        out["reader shutdown"] = desc(rc.shutdown(False))
        r2, w2 = os.pipe()
        wc2 = GLib.IOChannel.unix_new(w2)
        res = warned(wc2.set_buffered, False)
        out["set_buffered(False) on UTF-8"] = [res[0], wc2.get_buffered()]
        if IS_GLIB:
            out["set_buffered warning glib"] = res[1]
        wc2.write("zz")
        out["shutdown(True) flushes"] = [desc(wc2.shutdown(True)), os.read(r2, 10), os.read(r2, 10)]
        os.close(r2)
        r3, w3 = os.pipe()
        wc3 = GLib.IOChannel.unix_new(w3)
        wc3.write("lost")
        out["shutdown(False) drops"] = [desc(wc3.shutdown(False)), os.read(r3, 10)]
        os.close(r3)
        ''',
        {
            "defaults": [
                ["str", "'UTF-8'"],
                ["bool", True],
                ["bool", False],
                ["IOFlags", 8],
                ["IOFlags", 4],
                True,
                True,
            ],
            "write(str)": ["int", 7],
            "visible_before_flush": False,
            "write(bytes)": ["int", 5],
            "write(bytes, 4)": ["int", 4],
            "write_chars(b, -1)": ["tuple", [["IOStatus", "NORMAL"], ["int", 4]]],
            "write_chars(b, 2)": ["tuple", [["IOStatus", "NORMAL"], ["int", 2]]],
            "writelines": ["NoneType", None],
            "flush": ["IOStatus", "NORMAL"],
            "visible_after_flush": True,
            "os.read": "68c3a96c6c6f0a6162c3a90a3031323378797a0a50516c310a6c320a",
            "set_encoding(None)": [["IOStatus", "NORMAL"], ["NoneType", None]],
            "set_buffered(False)": [["NoneType", None], ["bool", False]],
            "unbuffered write": [["int", 2], True, "00ff"],
            "set_close_on_unref": [["NoneType", None], ["bool", True]],
            "shutdown(True)": ["IOStatus", "NORMAL"],
            "reader after writer shutdown": ["bytes", "b''"],
            "reader shutdown": ["IOStatus", "NORMAL"],
            "set_buffered(False) on UTF-8": [None, True],
            "shutdown(True) flushes": [["IOStatus", "NORMAL"], "7a7a", ""],
            "shutdown(False) drops": [["IOStatus", "NORMAL"], ""],
        },
        glib_only={
            "set_buffered warning glib": ["Need to have NULL encoding to set the buffering state of the channel."],
        },
    )


# --------------------------------------------------------------------------------------------
# Gio socket sources
# --------------------------------------------------------------------------------------------


def test_socket_source_udp() -> None:
    """Gio.Socket.create_source(IN) of a UDP socket without timeout, on a private context (reference §7.4).

    PyGObject resolves ``create_source`` to ``Gio.DatagramBased.create_source`` and calls the callback
    with **only the user data** (``None`` when set_callback got none): no socket, no condition. The
    source is named "GSocket", priority 0, ready time -1; it fires once per readable datagram
    (level-triggered: the callback receives each one).
    """
    conform(
        r'''
        ctx = GLib.MainContext.new()
        loop = GLib.MainLoop(ctx)
        watchdog(loop)
        A = new(F.IPV4, T.DATAGRAM)
        A.bind(lo4(), True)
        src = A.create_source(GLib.IOCondition.IN, None)
        out["source"] = [isinstance(src, GLib.Source), src.get_name(), src.get_priority(), src.is_destroyed(),
                         src.get_ready_time(), src.get_context()]
        got = []
        def cb(*args):
            n, data, _ = recv_bytes(A, 100)
            got.append(args_of(args) + [data])
            if len(got) == 2:
                loop.quit()
                return False
            return True
        src.set_callback(cb, "my-user-data")
        out["attach"] = src.attach(ctx)
        port = A.get_local_address().get_port()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"ping", ("127.0.0.1", port))
        later = GLib.Timeout(100)
        later.set_callback(lambda *a: (s.sendto(b"pong", ("127.0.0.1", port)), False)[1])
        later.attach(ctx)
        loop.run()
        out["callbacks"] = got
        out["destroyed_after_false"] = src.is_destroyed()
        src2 = A.create_source(GLib.IOCondition.IN, None)
        got2 = []
        def cb2(*args):
            got2.append(args_of(args) + [recv_bytes(A, 100)[1]])
            loop.quit()
            return False
        src2.set_callback(cb2)
        src2.attach(ctx)
        s.sendto(b"x", ("127.0.0.1", port))
        loop.run()
        out["no_user_data"] = got2
        s.close()
        ''',
        {
            "source": [True, "GSocket", 0, False, -1, None],
            "attach": 2,
            "callbacks": [["'my-user-data'", "70696e67"], ["'my-user-data'", "706f6e67"]],
            "destroyed_after_false": True,
            "no_user_data": [["None", "78"]],
        },
    )


def test_socket_source_postmortem() -> None:
    """After close(), an attached socket source fires exactly once (G_IO_NVAL in C, reference §1.6 and
    /socket/source-postmortem) and is then inert although its callback returned True; not destroyed."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        A = new(F.IPV4, T.DATAGRAM)
        A.bind(lo4(), True)
        src = A.create_source(GLib.IOCondition.IN, None)
        got = []
        src.set_callback(lambda *a: (got.append(args_of(a)), True)[1], "pm")
        src.attach(ctx)
        out["before_close"] = [ctx.pending(), ctx.iteration(False)]
        A.close()
        out["after_close"] = [ctx.pending(), ctx.iteration(False), ctx.iteration(False), ctx.iteration(False)]
        out["callbacks"] = got
        out["then"] = [ctx.pending(), src.is_destroyed()]
        B = new(F.IPV4, T.DATAGRAM)
        B.bind(lo4(), True)
        src2 = B.create_source(GLib.IOCondition.IN, None)
        got2 = []
        src2.set_callback(lambda *a: (got2.append(args_of(a)), False)[1])
        src2.attach(ctx)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(b"queued", ("127.0.0.1", B.get_local_address().get_port()))
        sender.close()
        time.sleep(0.05)
        B.close()
        out["closed_with_data_queued"] = [ctx.iteration(False), ctx.iteration(False), got2, src2.is_destroyed()]
        ''',
        {
            "before_close": [False, False],
            "after_close": [True, True, False, False],
            "callbacks": [["'pm'"]],
            "then": [False, False],
            "closed_with_data_queued": [True, False, [["None"]], True],
        },
    )


def test_socket_source_cancellable() -> None:
    """create_source(IN, cancellable): cancelling dispatches the callback once (user data only), then no more."""
    conform(
        r'''
        ctx = GLib.MainContext.new()
        loop = GLib.MainLoop(ctx)
        watchdog(loop)
        A = new(F.IPV4, T.DATAGRAM)
        A.bind(lo4(), True)
        c = Gio.Cancellable()
        src = A.create_source(GLib.IOCondition.IN, c)
        got = []
        def cb(*a):
            got.append(args_of(a) + [c.is_cancelled(), plain(A.condition_check(IN))])
            return True
        src.set_callback(cb, "ud")
        src.attach(ctx)
        t = GLib.Timeout(100)
        t.set_callback(lambda *a: (c.cancel(), False)[1])
        t.attach(ctx)
        q = GLib.Timeout(400)
        q.set_callback(lambda *a: (loop.quit(), False)[1])
        q.attach(ctx)
        loop.run()
        out["callbacks"] = got
        out["destroyed"] = src.is_destroyed()
        src.destroy()
        ''',
        {
            "callbacks": [["'ud'", True, 0]],
            "destroyed": False,
        },
    )


def test_socket_create_source_stream_and_timeout() -> None:
    """Known difference: PyGObject's create_source is GDatagramBased's, None for STREAM sockets and for
    sockets with a timeout (reference §7.4, E15); gsocklab deliberately exposes the real
    g_socket_create_source (GLib's C behaviour) and returns a source. Recorded per world."""
    conform(
        r'''
        tcp = new(F.IPV4, T.STREAM)
        udp = new(F.IPV4, T.DATAGRAM)
        udp.set_timeout(1)
        world = "glib" if IS_GLIB else "gsocklab"
        out["stream is None " + world] = tcp.create_source(GLib.IOCondition.IN, None) is None
        out["timeout is None " + world] = udp.create_source(GLib.IOCondition.IN, None) is None
        udp.set_timeout(0)
        out["datagram without timeout is None"] = udp.create_source(GLib.IOCondition.IN, None) is None
        ''',
        {
            "datagram without timeout is None": False,
        },
        glib_only={"stream is None glib": True, "timeout is None glib": True},
        gsocklab_only={"stream is None gsocklab": False, "timeout is None gsocklab": False},
    )
