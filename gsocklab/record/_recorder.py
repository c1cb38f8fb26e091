"""`Recorder`: every call of gsocklab sockets, into one tidy pandas DataFrame.

How it stays cheap enough to leave on (``benchmarks/bench_record.py`` measures it):

* For a plain send or receive of ``bytes``, the socket hook (`gsocklab._observe`) stages the
  call itself through the recorder's `Lane <gsocklab._observe.Lane>`: it reads the
  thread's code from a thread-local, cuts the payload to ``capture_bytes`` and extends a
  flat list by the call's fields. No lock (``list.extend`` is atomic under the GIL), no
  formatting, no Python call into the recorder, no object that outlives the call.
* Every other call goes through `Recorder.on_call`, which stages in the same layout. Calls
  with ``extra`` (batches, vectors, conditions, setters) and calls that change a socket's
  state take a slower path that copies what the caller may reuse.
* ``flush()`` / ``to_dataframe()`` and the recorder's flush thread move the staged calls
  into numpy columns (`_store`) and deliver new rows to subscribers, never in the socket
  call path. The thread does it every `FLUSH_INTERVAL` seconds when there are subscribers;
  otherwise only when the sockets go quiet or many calls are waiting (see `_Flusher`), so
  a busy socket loop keeps the GIL to itself.
* ``to_dataframe()`` builds the frame column by column from those columns (`_frame`) and adds
  the hints (`_hints`).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from os import PathLike
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from ..core import _observe
from ._capture import BatchCache, capture_extra, copy_payload
from ._spans import Spans
from ._store import STAGED_LIMIT, STRIDE, Store

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    from ..core._socket import Socket
    from ..pcapng import Counts
    from ._tally import Tally

__all__ = ["FLUSH_INTERVAL", "Recorder", "Subscriber"]

_log = logging.getLogger("gsocklab")

FLUSH_INTERVAL: Final = 0.25  # seconds between the flush thread's looks at the recorder
Subscriber = Callable[["pd.DataFrame"], object]

# Calls that change what the log shows of a socket (its address, mode or timeout): the rows
# staged before one are stored first, with the socket's state from before the call.
_STATE_OPS: Final = frozenset({"bind", "connect", "check_connect_result", "listen", "close", "shutdown",
                               "set_blocking", "set_timeout"})


class Recorder:
    """Records the calls of gsocklab sockets; ``to_dataframe()`` gives one row per event.

    ``with rec:`` records every gsocklab socket of the process, in every thread, while the
    block runs; ``rec.attach(sock, label=None)`` records one socket until ``rec.detach(sock)``
    (``label`` renames the socket). `pause` / `resume` stop and restart recording without
    leaving the block. The columns and dtypes are those of `TRAFFIC_SCHEMA`:

    * One call is one row, except ``send_messages``/``receive_messages``: one row per
      message moved, sharing ``batch`` (a counter of this recording) and numbered by
      ``index``, each with its own ``nbytes``, ``peer``, ``payload`` and ``flags``; a call
      that moved nothing is one row (with its error, if any), and one that moved some and
      then failed adds a row for the error. ``max_events`` and ``dropped`` count rows;
      `batch_sizes` tells how many messages each batched call was asked to move.
    * ``direction`` is ``out`` for the ``send*`` calls and ``in`` for the ``receive*`` calls;
      ``accept``, ``connect`` and every other call have none.
    * ``payload`` holds the first ``capture_bytes`` bytes moved (0: none), copied when the
      call returned, so a buffer the caller reuses does not change the recording.
    * ``time`` is the wall clock when the call started (the monotonic start plus the offset
      between the two clocks taken when the recording started); ``elapsed`` counts seconds
      from the start of the recording (creation or `clear`).
    * ``thread`` is the thread's name when it made its first recorded call.
    * ``socket``, ``family``, ``type``, ``local``, ``blocking`` and ``timeout`` are the socket's
      as they were at the call (an explicit mode or timeout of the call wins); ``message``
      shows the value a setter set when the call succeeded; ``hint`` says what to do about
      the common mistakes (see `gsocklab.record._hints`).

    When more than ``max_events`` rows are recorded, the oldest are dropped so that exactly
    ``max_events`` remain, and `dropped` counts them. `subscribe` delivers new rows in
    batches for live views; `save` / `load` keep a recording in a file.
    """

    def __init__(self, capture_bytes: int = 256, max_events: int = 1_000_000) -> None:
        if not isinstance(capture_bytes, int) or isinstance(capture_bytes, bool) or capture_bytes < 0:
            raise ValueError(f"capture_bytes must be an int >= 0, not {capture_bytes!r}")
        if not isinstance(max_events, int) or isinstance(max_events, bool) or max_events < 1:
            raise ValueError(f"max_events must be an int >= 1, not {max_events!r}")
        self._capture_bytes = capture_bytes
        self._max_events = max_events
        self._store = Store(max_events)
        self._staged = self._store.staged
        self._stage = self._staged.extend
        self._paused = False
        self._local = threading.local()
        self._batches = BatchCache()
        self._depth = 0  # nesting of `with rec:`
        self._attached: weakref.WeakSet[Any] = weakref.WeakSet()
        self._subscribers: list[Subscriber] = []
        self._deliver_lock = threading.RLock()
        self._delivered = 0  # seq of the first row not yet delivered to subscribers
        self._flusher: _Flusher | None = None
        self._frozen: pd.DataFrame | None = None  # rows loaded from a file, older than the store's
        self._frozen_dropped = 0
        self._frozen_asked: dict[int, int] = {}
        self._tally: Tally | None = None  # made by the first `totals()` (it needs numpy and pandas)
        self._tallied = 0  # seq of the first row not yet counted by `totals`
        self._tally_lock = threading.Lock()
        self._spans = Spans(max_events)
        self.on_span = self._spans.on_span  # the Gio calls behind socket calls (gsocklab.record._spans)
        self._restart()
        self._on_call = self._make_on_call()
        self.on_call = self._on_call  # type: ignore[method-assign]  # the closure, without the method call
        # Plain sends and receives are staged by the socket hook itself, in the same layout.
        self.lane = _observe.Lane(self._stage, self._local, self._thread_code, capture_bytes)

    @property
    def capture_bytes(self) -> int:
        """How many bytes of each payload are kept (0: none)."""
        return self._capture_bytes

    @property
    def max_events(self) -> int:
        """How many rows are kept at most (the oldest are dropped first)."""
        return self._max_events

    def _with_via(self, frame: pd.DataFrame) -> pd.DataFrame:
        from ._spans import add_via

        return add_via(frame, self._spans.snapshot(), self._start_ns / 1e9)

    def _restart(self) -> None:
        """Start the clocks: ``elapsed`` counts from here, ``time`` is wall clock."""
        mono = time.monotonic_ns()
        self._wall_offset = time.time_ns() - mono
        self._start_ns = mono

    # -- the observer --------------------------------------------------------------------------

    def on_call(self, sock: Any, op: str, t0: float, duration: float, waited: float, nbytes: int | None,
                peer: Any, payload: Any, error: Any, extra: dict[str, Any] | None) -> None:
        """Record one socket call (`gsocklab._observe.SocketObserver`); the hook calls it.

        Each recorder replaces this method by the faster closure of `_make_on_call`, which
        does the same.
        """
        self._on_call(sock, op, t0, duration, waited, nbytes, peer, payload, error, extra)

    def _make_on_call(self) -> Callable[..., None]:
        """``on_call`` as a closure: the common case (a send or receive without ``extra``) reads
        the thread's code, checks the payload and extends the staged list, all from locals."""
        local, stage, cap, special = self._local, self._stage, self._capture_bytes, self._special
        thread_code, state_ops, keep = self._thread_code, _STATE_OPS, copy_payload

        def on_call(sock: Any, op: str, t0: float, duration: float, waited: float, nbytes: int | None,
                    peer: Any, payload: Any, error: Any, extra: dict[str, Any] | None) -> None:
            try:
                thread: int = local.code
            except AttributeError:
                thread = thread_code()
            if payload is not None and (type(payload) is not bytes or len(payload) > cap):
                payload = keep(payload, cap) if cap else None
            if extra is not None or (nbytes is None and op in state_ops):
                extra, payload = special(sock, op, nbytes, peer, payload, extra)
            stage((t0, t0 + duration, waited, nbytes, sock, op, thread, peer, payload,
                   None if error is None and extra is None else (error, extra)))

        return on_call

    def _special(self, sock: Any, op: str, nbytes: int | None, peer: Any, payload: Any,
                 extra: dict[str, Any] | None) -> tuple[Any, Any]:
        """The uncommon calls: a state change, a batch, vectors, condition and setter values."""
        if op in _STATE_OPS:
            store = self._store
            with store.lock:  # the rows before this call keep the socket's state from before it
                store.compact(reread=False)
                self._trim_frozen()
                store.socket_code(sock, refresh=op != "close")  # a closed socket keeps its address
        elif len(self._staged) > STAGED_LIMIT * STRIDE:
            self._compact(wait=False)
        if extra is None:
            return None, payload
        return capture_extra(extra, nbytes, payload, self.capture_bytes, peer, self._batches)

    def _thread_code(self) -> int:
        """The calling thread's code, at its first call (its name then is the one shown).

        The thread keeps its code, and the token that tells the store when the thread has
        ended (`gsocklab.record._store.ThreadCodes`), in its slot of ``_local``.
        """
        code, token = self._store.threads.take(threading.current_thread().name)
        local = self._local
        local.token = token
        local.code = code
        return code

    # -- recording on and off ------------------------------------------------------------------

    def _listen_to_spans(self) -> None:
        """Take the Gio layers' spans while recording something (and not paused)."""
        _observe.listen_to_spans(self, not self._paused and bool(self._depth or len(self._attached)))

    def __enter__(self) -> Recorder:
        self._depth += 1
        if self._depth == 1:
            if not self._paused:
                _observe.add_global(self)
            self._start_flusher()
            self._listen_to_spans()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            _observe.remove_global(self)
            self._stop_flusher_if_idle()
            self._listen_to_spans()

    def attach(self, sock: Socket, label: str | None = None) -> None:
        """Record the calls of ``sock`` (whether or not a ``with`` block is running); ``label`` renames it."""
        if label is not None:
            self.flush()  # the rows so far keep the old label
            sock.label = label
        if not self._paused:
            _observe.attach(sock, self)
        self._attached.add(sock)
        self._start_flusher()
        self._listen_to_spans()

    def detach(self, sock: Socket) -> None:
        """Stop recording ``sock`` through `attach` (a running ``with`` block still records it)."""
        _observe.detach(sock, self)
        self._attached.discard(sock)
        self._stop_flusher_if_idle()
        self._listen_to_spans()

    def pause(self) -> None:
        """Ignore calls until `resume`: they are not recorded (nor counted as dropped).

        The recorder leaves the socket hook meanwhile, so a paused recorder costs nothing.
        """
        if self._paused:
            return
        self._paused = True
        if self._depth:
            _observe.remove_global(self)
        for sock in list(self._attached):
            _observe.detach(sock, self)
        self._listen_to_spans()

    def resume(self) -> None:
        """Record calls again after `pause`."""
        if not self._paused:
            return
        self._paused = False
        if self._depth:
            _observe.add_global(self)
        for sock in list(self._attached):
            _observe.attach(sock, self)
        self._listen_to_spans()

    @property
    def paused(self) -> bool:
        """Whether calls are being ignored (see `pause`)."""
        return self._paused

    # -- the rows ------------------------------------------------------------------------------

    def _compact(self, wait: bool = True) -> None:
        """Move staged calls into the store; without ``wait``, skip if another thread is at it."""
        lock = self._store.lock
        if not lock.acquire(wait):
            return
        try:
            self._store.compact()
            self._trim_frozen()
        finally:
            lock.release()

    def _trim_frozen(self) -> None:
        frozen = self._frozen
        if frozen is None:
            return
        excess = len(frozen) + len(self._store) - self.max_events
        if excess > 0:
            take = min(excess, len(frozen))
            frozen = self._frozen = frozen.iloc[take:].reset_index(drop=True)
            self._frozen_dropped += take
            if self._frozen_asked:  # only the batches of the rows kept (batches are numbered in seq order)
                batches = frozen["batch"].dropna()
                first = int(batches.min()) if len(batches) else None
                self._frozen_asked = {} if first is None else {
                    batch: asked for batch, asked in self._frozen_asked.items() if batch >= first}

    def __len__(self) -> int:
        self._compact()
        return len(self._store) + (0 if self._frozen is None else len(self._frozen))

    @property
    def dropped(self) -> int:
        """Rows discarded, oldest first, to keep at most ``max_events``."""
        self._compact()
        return self._store.dropped + self._frozen_dropped

    def clear(self) -> None:
        """Forget every row and start a new recording (``seq`` and ``elapsed`` from 0 again)."""
        store = self._store
        with store.lock:
            mark = store.threads.mark()
            del self._staged[:]
            store.reset()
            store.collect(mark)
            self._frozen = None
            self._frozen_dropped = 0
            self._frozen_asked = {}
            self._spans.clear()
            self._restart()
        with self._deliver_lock:
            self._delivered = 0
        with self._tally_lock:
            self._tally = None
            self._tallied = 0

    def to_dataframe(self) -> pd.DataFrame:
        """One row per event, with exactly the columns and dtypes of `TRAFFIC_SCHEMA`."""
        from ._frame import build_frame, concat_frames
        from ._hints import add_hints

        with self._store.lock:
            self._store.compact()
            self._trim_frozen()
            columns = self._store.columns()
            frozen = self._frozen
        frame = self._with_via(build_frame(columns, self._start_ns, self._wall_offset))
        if frozen is not None and len(frozen):
            frame = concat_frames(frozen, frame)
        return add_hints(frame)

    @property
    def rows_recorded(self) -> int:
        """The ``seq`` the next stored row will get: it grows whenever calls are stored.

        Cheap (no lock, no copy): a live view compares it with the value it last saw to know
        whether anything new is there. Calls are stored by the flush thread about every
        0.25 s while a recording runs, and at once by `flush()`.
        """
        return self._store.next_seq

    def store_pending(self) -> None:
        """Store the calls staged so far, unless another thread is storing right now.

        The flush thread stores them when the sockets go quiet (or a backlog builds up); a
        live view calls this before it looks, so that steady traffic shows while it flows.
        """
        self._compact(wait=False)

    def tail(self, rows: int = 200) -> pd.DataFrame:
        """The last ``rows`` rows stored, as `to_dataframe()` gives them (``seq`` order).

        Only those rows are built into a frame, so this stays cheap for a long recording.
        Hints that depend on earlier rows are worked out from the tail alone.
        """
        from ._frame import build_frame
        from ._hints import add_hints

        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise TypeError(f"rows must be a non-negative int, not {rows!r}")
        with self._store.lock:
            since = max(self._store.next_seq - rows, 0)
            columns = self._store.columns(since=since)
        return add_hints(self._with_via(build_frame(columns, self._start_ns, self._wall_offset)))

    def totals(self) -> pd.DataFrame:
        """Per socket (index ``socket``): rows, calls, messages and bytes out and in, errors.

        The counts of `summary()` for the rows stored so far, plus ``rows`` and one
        ``error_<CODE>`` column per code seen; kept up to date incrementally (each row is
        counted once, with numpy, when first seen), so it is cheap to call often. Rows that
        ``max_events`` dropped before they were counted are not in the totals, and rows
        loaded with `load` are not counted.
        """
        from ._tally import Tally

        with self._tally_lock:
            if self._tally is None:
                self._tally = Tally()
            with self._store.lock:
                columns = self._store.columns(since=self._tallied, counts_only=True)
                self._tallied = self._store.next_seq
            self._tally.add(columns)
            return self._tally.frame()

    @property
    def batch_sizes(self) -> dict[int, int]:
        """For each ``batch`` of the recording, how many messages its call was asked to move."""
        self._compact()
        return {**self._frozen_asked, **self._store.asked}

    @property
    def df(self) -> pd.DataFrame:
        """``to_dataframe()``."""
        return self.to_dataframe()

    # -- analyses (gsocklab.record._analysis, on this recording's frame) ----------------------

    def summary(self) -> pd.DataFrame:
        """Per socket: messages and bytes out and in, errors by code, timeouts, waits."""
        from ._analysis import summary

        return summary(self.to_dataframe())

    def flows(self) -> pd.DataFrame:
        """Each datagram or stream chunk sent, matched to where it was received; the rest marked lost."""
        from ._analysis import flows

        return flows(self.to_dataframe())

    def batches(self) -> pd.DataFrame:
        """Per batched call: messages asked and moved, bytes, duration, messages per second."""
        from ._analysis import batches

        return batches(self.to_dataframe(), asked=self.batch_sizes)

    def diagnose(self, network: Any = None) -> pd.DataFrame:
        """Why sockets did not receive: one row per finding (``socket``, ``host``, ``seq``, ``code``,
        ``evidence``, ``fix``); empty when the recording shows nothing wrong.

        ``network`` (a ``gsocklab.netlab.Network``) tells the routers between its hosts and their
        addresses; without it, hosts are taken to be on one LAN. See `gsocklab.record._diagnose`.
        """
        from ._diagnose import diagnose

        return diagnose(self.to_dataframe(), network)

    # -- live delivery -------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(frame)`` with each batch of new rows; returns the function that unsubscribes.

        ``frame`` is a small DataFrame with the columns and dtypes of `to_dataframe()` (each
        subscriber gets its own) holding the rows recorded since the previous delivery, in
        ``seq`` order; rows already dropped by ``max_events`` are not delivered. Deliveries
        come from the recorder's flush thread about every 0.25 s while it records, and from
        the thread that calls `flush()` (also when a ``with`` block ends): never from a
        socket call. A callback that raises is unsubscribed and the error logged on logger
        ``gsocklab``. Hints that depend on earlier rows (multicast settings, a later join)
        are only in `to_dataframe()`.
        """
        with self._deliver_lock:
            if not self._subscribers:
                self._compact()
                self._delivered = self._store.next_seq
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._deliver_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def flush(self) -> None:
        """Move pending calls into the recording and deliver new rows to subscribers now."""
        self._compact()
        self._deliver()

    def _deliver(self) -> None:
        from ._frame import build_frame
        from ._hints import add_hints

        with self._deliver_lock:
            if not self._subscribers:
                self._delivered = self._store.next_seq
                return
            with self._store.lock:
                columns = self._store.columns(since=self._delivered)
                self._delivered = self._store.next_seq
            if not len(columns):
                return
            frame = add_hints(self._with_via(build_frame(columns, self._start_ns, self._wall_offset)))
            subscribers = list(self._subscribers)
            for callback in subscribers:
                try:
                    callback(frame.copy() if len(subscribers) > 1 else frame)
                except Exception:
                    _log.exception("recorder subscriber %r raised and was unsubscribed", callback)
                    if callback in self._subscribers:
                        self._subscribers.remove(callback)

    def _start_flusher(self) -> None:
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = _Flusher(self)
            self._flusher.start()

    def _stop_flusher_if_idle(self) -> None:
        if self._depth == 0 and not len(self._attached) and self._flusher is not None:
            self._flusher.stop()
            self._flusher = None
            self.flush()

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: str | PathLike[str], format: str | None = None) -> None:
        """Write the recording to ``path``: Parquet if pyarrow is installed, else a pickle; a path
        ending in ``.pcapng`` (or ``format="pcapng"``) writes a capture file (`to_pcapng`).

        ``format`` forces ``"parquet"``, ``"pickle"`` or ``"pcapng"``. See `Recorder.load`.
        """
        from ._persist import save

        if format == "pcapng" or (format is None and str(path).lower().endswith(".pcapng")):
            self.to_pcapng(path)
            return
        frame = self.to_dataframe()
        meta = {"capture_bytes": self.capture_bytes, "max_events": self.max_events, "dropped": self.dropped,
                "next_seq": self._store.next_seq, "next_batch": self._store.next_batch,
                "start_wall_ns": self._start_ns + self._wall_offset,
                "batch_sizes": {str(batch): asked for batch, asked in self.batch_sizes.items()}}
        save(path, frame, meta, format)

    def to_pcapng(self, path: str | PathLike[str]) -> Counts:
        """Write the recording as a pcapng capture file that Wireshark and tshark open.

        Each datagram and stream chunk sent or received becomes a synthesized IPv4/IPv6 + UDP/TCP
        packet on an interface named after its socket, with the captured payload, the true
        length, a direction flag and a comment naming the call (see `gsocklab.pcapng`). Returns
        the counts of interfaces, packets and call frames written.
        """
        from ..pcapng import write_pcapng

        with self._store.lock:
            start_wall_ns = self._start_ns + self._wall_offset
        return write_pcapng(self.to_dataframe(), path, start_wall_ns=start_wall_ns,
                            capture_bytes=self.capture_bytes)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Recorder:
        """A recorder holding a saved recording: its ``to_dataframe()`` equals the saved frame.

        Parquet or pickle is recognised from the file's first bytes. Only load pickles you
        trust (unpickling can run code). The loaded recorder can record more: new rows
        follow the loaded ones.
        """
        from ._persist import load

        frame, meta = load(path)
        rec = cls(capture_bytes=int(meta.get("capture_bytes", 256)),
                  max_events=int(meta.get("max_events", max(len(frame), 1_000_000))))
        rec._frozen = frame
        rec._frozen_dropped = int(meta.get("dropped", 0))
        rec._frozen_asked = {int(batch): int(asked) for batch, asked in meta.get("batch_sizes", {}).items()}
        store = rec._store
        store.next_seq = int(meta.get("next_seq", int(frame["seq"].max()) + 1 if len(frame) else 0))
        store.next_batch = int(meta.get("next_batch", 0))
        start_wall = meta.get("start_wall_ns")
        if start_wall is not None:  # elapsed of new rows continues the loaded recording's clock
            rec._start_ns = int(start_wall) - rec._wall_offset
        rec._delivered = store.next_seq
        return rec

    def __repr__(self) -> str:
        state = "paused" if self._paused else "recording" if self._depth or len(self._attached) else "idle"
        return f"<gsocklab.Recorder {state}, {len(self._store)} rows, {self._store.dropped} dropped>"


class _Flusher(threading.Thread):
    """Moves its recorder's staged calls into rows, off the socket call path.

    Every `FLUSH_INTERVAL` seconds it flushes (stores and delivers) if the recorder has
    subscribers, who are waiting for rows. Otherwise it stores the staged calls only once
    the sockets have gone quiet (nothing staged since the previous tick) or more than
    `STAGED_LIMIT` calls wait: storing takes the GIL from the socket threads, so a busy
    loop is left alone until it pauses, is read, or has staged that many calls. It holds
    the recorder weakly, so a forgotten recorder can still be collected.
    """

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(name="gsocklab-recorder-flush", daemon=True)
        self._recorder = weakref.ref(recorder)
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        seen = 0  # staged calls seen at the previous tick
        while not self._stop_event.wait(FLUSH_INTERVAL):
            recorder = self._recorder()
            if recorder is None:
                return
            try:
                staged = len(recorder._staged)
                if recorder._subscribers:
                    recorder.flush()
                elif staged and (staged == seen or staged > STAGED_LIMIT * STRIDE):
                    recorder._compact()
                seen = len(recorder._staged)
            except Exception:
                _log.exception("recorder flush failed")
            del recorder
