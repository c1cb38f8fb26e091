"""Columnar storage of recorded calls: numpy columns, interning tables, no pandas.

The socket thread does the least work possible: the socket hook (through the recorder's
lane) or `Recorder.on_call` extends ``Store.staged``, a flat list, by the `STRIDE` fields of
one call (``list.extend`` of a tuple is atomic under the GIL, so calls from several threads
never interleave, no lock is taken, and no object per call outlives the call, which keeps
the garbage collector out of it). Times are staged as ``time.monotonic()`` floats and stored
as int64 nanoseconds. `Store.compact` later turns the staged calls into rows, in chunks, off
the socket call path: the recorder's flush thread (when the sockets go quiet, or
`STAGED_LIMIT` calls wait), ``flush()``, ``to_dataframe()``, and a socket thread only before
a call that changes its socket's state (bind, connect, close, set_timeout, …), so that the
rows before it keep the state they had. The columns of `DENSE` are allocated for every
chunk; the others only for a chunk where some row has a value in them, so a row of a plain
send or receive costs about 90 bytes apart from its captured payload:

======================  ===========  ===============================================
column                  kept as      missing value
======================  ===========  ===============================================
t0, duration, waited    int64        (never missing; nanoseconds; waited: 0)
nbytes, flags, batch    int64        -1, `NO_FLAGS`, -1
index                   int32        -1
timeout                 float64      NaN: the socket's; `FOREVER`: explicitly none
error                   int32        0: none (codes into `Tables.errors`)
blocking                int8         -1: the socket's mode
condition, ready        int8         -1
sock                    list of int  (codes into `Tables.sockets`: the socket's state)
thread                  list of int  (codes into `Tables.threads`)
op                      list of str  (the op names, interned by Python)
peer                    list         None (the address objects, formatted in `columns`)
payload                 list         None
======================  ===========  ===============================================

The lists cost 8 bytes a row each and no work at all in the socket threads; `columns`
turns them into codes when a frame is made. The socket's label, family, type, local
address, blocking mode and timeout make up its *state* (`SocketState`), interned once and
read again only after calls that change it. The values set by setter calls
(``set_ttl(5)``) are rare and kept in a dict by row number.

Memory stays bounded by ``max_events``: besides the rows kept, the store holds only the
interning tables' entries that those rows, the live sockets and the live threads use.
`Store.collect` drops the others (see there), at a compaction, once the tables have grown
well past what was in use at the previous collection: its cost, a pass over the kept
rows' codes, is spread over that many new entries. Peers and op names are not interned
here at all: the rows keep the address objects and names, and `Store.columns` codes them
afresh for each frame.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress, repeat, takewhile
from operator import is_not, itemgetter
from typing import Any, Final, NamedTuple

import numpy as np

from ..core._observe import LANE_FIELDS, address_text

__all__ = ["FOREVER", "NO_FLAGS", "STAGED_LIMIT", "STRIDE", "Batch", "Columns", "SocketState", "Store", "Tables"]

_log = logging.getLogger("gsocklab")

NO_FLAGS: Final = -(2**63)  # the flags column's missing value
FOREVER: Final = -math.inf  # timeout column: the call was explicitly without timeout
STAGED_LIMIT: Final = 1 << 16  # staged calls that make the flush thread (or an uncommon call) store them
CHUNK_ROWS: Final = 1 << 16  # rows per chunk: whole chunks are freed as the oldest rows are dropped
COLLECT_MIN: Final = 256  # new table entries (sockets' states, threads, errors) that may wait for `Store.collect`

# The fields of one staged call, in order: the hook's `LANE_FIELDS`, which `Recorder.on_call`
# stages too. MORE is None, or (error, extra) for the calls that raised or have extra values.
STRIDE: Final = len(LANE_FIELDS)
T0, END, WAITED, NBYTES, SOCK, OP, THREAD, PEER, PAYLOAD, MORE = range(STRIDE)

# (column, dtype, missing value) of every numpy column, in a fixed order.
NUMERIC: Final[tuple[tuple[str, type[Any], float], ...]] = (
    ("t0", np.int64, 0), ("duration", np.int64, 0), ("waited", np.int64, 0), ("nbytes", np.int64, -1),
    ("flags", np.int64, NO_FLAGS), ("batch", np.int64, -1), ("index", np.int32, -1),
    ("timeout", np.float64, math.nan), ("error", np.int32, 0), ("blocking", np.int8, -1),
    ("condition", np.int8, -1), ("ready", np.int8, -1),
)
# Columns kept as lists until a frame is made: converting them here would cost the socket
# threads' GIL time for nothing (8 bytes a row each). ``op`` holds the op names, ``peer`` the
# address objects (immutable; a socket hands out the same object for the same source).
LISTS: Final = ("sock", "thread", "peer", "op", "payload")
_DTYPES: Final = {name: dtype for name, dtype, _ in NUMERIC}
# The numpy columns every row has a value in; the others are kept only where some row has one.
DENSE: Final = ("t0", "duration", "nbytes")

Array = np.ndarray[Any, Any]


class SocketState(NamedTuple):
    """What the log shows of a socket, the same for all its rows until a call changes it."""

    label: str
    family: str
    type: str
    local: str | None
    blocking: bool
    timeout: int
    host: str | None = None


class Batch(NamedTuple):
    """What a ``send_messages``/``receive_messages`` call moved, copied when the call returned."""

    moved: int              # messages moved
    nbytes: list[int]       # per message moved: bytes
    peers: list[Any]        # per message moved: address (or None)
    flags: list[int] | None  # per message moved: flags (None: the call's flags)
    payloads: list[Any]     # per message moved: payload (bytes or None)
    call_flags: int | None  # the flags passed to the call
    asked: int              # messages in the list passed to the call


class _Interner(dict[Any, int]):
    """``table[key]`` is the key's code, a new one (its position in ``names``) at first sight."""

    def __init__(self, names: list[Any]) -> None:
        super().__init__((name, code) for code, name in enumerate(names))
        self.names = names

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self.names)
        self.names.append(key)
        return code

    def keep(self, codes: list[int]) -> None:
        """Keep only the entries of ``codes`` (ascending): entry ``codes[i]`` gets code ``i``."""
        names = self.names
        names[:] = [names[code] for code in codes]
        self.clear()
        self.update((name, code) for code, name in enumerate(names))


@dataclass
class Tables:
    """The interning tables: what the small integer codes of the columns stand for.

    The store's own tables hold ``sockets``, ``threads`` and ``errors`` (``threads`` has
    ``None`` at the codes free for reuse); `Store.columns` adds ``ops`` and ``peers`` for
    the rows it copies.
    """

    ops: list[str] = field(default_factory=list)
    sockets: list[SocketState] = field(default_factory=list)
    threads: list[str | None] = field(default_factory=list)
    peers: list[str | None] = field(default_factory=lambda: [None])
    errors: list[tuple[str | None, str | None]] = field(default_factory=lambda: [(None, None)])  # name, message

    def copy(self) -> Tables:
        """A snapshot (`Store.collect` changes the store's tables in place, under its lock)."""
        return Tables(list(self.ops), list(self.sockets), list(self.threads), list(self.peers), list(self.errors))


class _Token:
    """Left in a thread's slot of the recorder's ``threading.local``: Python frees it when the thread ends."""

    __slots__ = ("__weakref__",)


class ThreadCodes:
    """The threads' codes: one per thread name, reused once neither a thread nor a row needs it.

    A thread's code is cached in its slot of a ``threading.local`` and staged with every
    call, without a lock, so a code is never renumbered: it stays valid as long as a thread
    holding it lives. A thread that takes a code (`take`) leaves a `_Token` in that slot;
    when the thread ends, Python frees the slot, and the token's weakref lands in ``ended``
    (its callback is ``list.append``: no Python code runs in the ending thread). A thread
    ends after its last call is staged, so the calls of a thread whose token is among the
    first `mark` entries of ``ended`` are all in the rows once a compaction that started
    after the mark is over; `collect` then frees its code (``names[code] = None``, to be
    reused) as soon as no other thread holds it and no kept row uses it.
    """

    def __init__(self, names: list[str | None]) -> None:
        self.names = names  # Tables.threads
        self.lock = threading.Lock()  # taking codes; `collect` also holds the store's lock
        self.ended: list[weakref.ref[_Token]] = []  # tokens of ended threads, in order
        self.issued = 0  # codes handed out since the last `collect`
        self._codes: dict[str, int] = {}  # thread name -> code
        self._holders: dict[int, tuple[weakref.ref[_Token], int]] = {}  # id(weakref) -> (weakref, code)
        self._held: list[int] = []  # per code: threads holding it
        self._idle: set[int] = set()  # codes no thread holds any more, still used by kept rows
        self._free: list[int] = []  # codes to reuse, highest first (`take` reuses the lowest)

    def take(self, name: str) -> tuple[int, _Token]:
        """The code of thread ``name`` and the token the thread must keep (in its thread-local)."""
        token = _Token()
        with self.lock:
            code = self._codes.get(name)
            if code is None:
                if self._free:
                    code = self._free.pop()
                    self.names[code] = name
                else:
                    code = len(self.names)
                    self.names.append(name)
                    self._held.append(0)
                self._codes[name] = code
                self.issued += 1
            ref = weakref.ref(token, self.ended.append)
            self._holders[id(ref)] = (ref, code)
            self._held[code] += 1
            self._idle.discard(code)
        return code, token

    def mark(self) -> int:
        """How many threads have ended so far (call before taking the staged calls)."""
        return len(self.ended)

    def __len__(self) -> int:
        """Codes in use (held, or used by rows the last collection kept)."""
        return len(self.names) - len(self._free)

    def collect(self, mark: int, used: set[int]) -> None:
        """Free the codes of the first ``mark`` ended threads that nobody else holds and no row in ``used`` has."""
        with self.lock:
            self.issued = 0
            ended = self.ended[:mark]
            del self.ended[:mark]
            held, idle = self._held, self._idle
            for ref in ended:
                _, code = self._holders.pop(id(ref))
                held[code] -= 1
                if not held[code]:
                    idle.add(code)
            free = [code for code in idle if code not in used and not held[code]]
            if not free:
                return
            idle.difference_update(free)
            names = self.names
            for code in free:
                name = names[code]
                if name is not None and self._codes.get(name) == code:
                    del self._codes[name]
                names[code] = None
            self._free.extend(free)
            while names and names[-1] is None:  # the highest codes free: the table shrinks
                names.pop()
                held.pop()
            top = len(names)
            self._free = sorted((code for code in self._free if code < top), reverse=True)


class _SocketEntry:
    """What the store remembers of a socket: its state code, and what that code was made of."""

    __slots__ = ("code", "local", "provisional", "ref", "state")

    def __init__(self) -> None:
        self.code = -1
        self.state: SocketState | None = None
        self.local: str | None = None
        self.provisional = True
        self.ref: weakref.ref[Any] | None = None


class _Chunk:
    """Up to ``capacity`` consecutive rows, ``seq0`` being the first one's number.

    The numpy columns are allocated at full capacity and filled in place: memory is touched
    once per row, never copied or reallocated while recording (on a virtual machine a page
    fault costs microseconds). Only `DENSE` columns exist from the start; any other column
    is allocated the first time a row of the chunk has a value in it (plain sends and
    receives never set ``flags``, ``batch``, ``timeout``…, so their chunks never hold them).
    """

    __slots__ = ("arrays", "capacity", "lists", "seq0", "size")

    def __init__(self, seq0: int, capacity: int) -> None:
        self.seq0, self.capacity, self.size = seq0, capacity, 0
        self.arrays = {name: np.empty(capacity, dtype=_DTYPES[name]) for name in DENSE}
        self.lists: dict[str, list[Any]] = {name: [] for name in LISTS}

    def __len__(self) -> int:
        return self.size

    def column(self, name: str, start: int, stop: int) -> Array:
        """Rows ``start:stop`` of a numpy column (missing values if the chunk has none in it)."""
        column = self.arrays.get(name)
        if column is None:
            return _filled(name, stop - start)
        return column[start:stop]

    def add(self, arrays: dict[str, Array], lists: dict[str, list[Any]], start: int, stop: int) -> None:
        """Append rows ``start:stop`` of ``arrays`` (dense columns and any others) and ``lists``."""
        size, end = self.size, self.size + stop - start
        columns = self.arrays
        for name, values in arrays.items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = np.full(self.capacity, _MISSING[name], dtype=_DTYPES[name])
            column[size:end] = values[start:stop]
        for name, column in columns.items():
            if name not in arrays:
                column[size:end] = _MISSING[name]
        whole = start == 0 and stop == len(lists["payload"])
        for name, items in self.lists.items():
            items.extend(lists[name] if whole else lists[name][start:stop])
        self.size = end


@dataclass
class Columns:
    """A consistent copy of some recorded rows, ready for `gsocklab.record._frame`.

    ``arrays`` holds every numpy column plus ``sock``, ``thread``, ``peer`` and ``op`` as
    codes into ``tables``.
    """

    seq0: int
    arrays: dict[str, Array]
    payload: list[bytes | None]
    values: dict[int, Any]   # row number (seq) -> value set by a setter call
    tables: Tables

    def __len__(self) -> int:
        return len(self.payload)


def _ints(values: Iterable[Any], dtype: type[Any], n: int) -> Array:
    return np.fromiter(values, dtype, n)


def _seconds(values: list[float], n: int) -> Array:
    """Nanoseconds (int64) of ``time.monotonic()``-style seconds (floats, or ints)."""
    return np.rint(np.fromiter(values, np.float64, n) * 1e9).astype(np.int64)


def _filled(name: str, n: int) -> Array:
    return np.full(n, _MISSING[name], dtype=_DTYPES[name])


_MISSING: Final = {name: missing for name, _, missing in NUMERIC}


def _column(arrays: dict[str, Array], name: str, n: int) -> Array:
    """``arrays[name]``, made (all missing) if the rows have no value in it yet."""
    column = arrays.get(name)
    if column is None:
        column = arrays[name] = _filled(name, n)
    return column


class Store:
    """Chunks of rows, the staged calls not yet in them, and the drop-oldest bound."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self.chunk_rows = min(CHUNK_ROWS, max(1024, max_events))
        self.staged: list[Any] = []
        self.lock = threading.Lock()  # held while compacting or reading the chunks
        self.tables = Tables()
        self.threads = ThreadCodes(self.tables.threads)
        self._errors = _Interner(self.tables.errors)
        self._states = _Interner(self.tables.sockets)
        self._sockets: dict[int, _SocketEntry] = {}
        self._collect_at = COLLECT_MIN  # `_pressure` at which `collect` runs next
        self.reset()

    def reset(self) -> None:
        """Forget every row (the tables keep their entries until `collect`: staged calls hold thread codes)."""
        self.chunks: list[_Chunk] = []
        self.start = 0          # rows of chunks[0] already dropped
        self.cleared = 0        # rows of chunks[0] whose payload and peer are released
        self.next_seq = 0       # seq of the next row
        self.next_batch = 0
        self.dropped = 0
        self.values: dict[int, Any] = {}
        self.asked: dict[int, int] = {}  # batch -> messages asked (the length of the call's list)
        self._batch_ends: deque[tuple[int, int]] = deque()  # (seq of the batch's last row, batch), in order
        for key, entry in self._sockets.copy().items():  # sockets without weakref: read afresh from now on
            if entry.ref is None:
                del self._sockets[key]

    # -- reading ------------------------------------------------------------------------------

    @property
    def first_seq(self) -> int:
        """The seq of the oldest row kept (``next_seq`` when there is none)."""
        return self.chunks[0].seq0 + self.start if self.chunks else self.next_seq

    def __len__(self) -> int:
        return self.next_seq - self.first_seq

    def columns(self, since: int = 0, counts_only: bool = False) -> Columns:
        """Copies of the rows with ``seq >= since`` (call with `lock` held).

        The peers and op names of the rows get their codes here, in tables of their own.
        ``counts_only`` copies what counting needs (the numpy columns, ``sock`` and ``op``),
        not the peers, threads and payloads, whose conversion costs most per row.
        """
        first = max(self.first_seq, since)
        names = ("sock", "op") if counts_only else LISTS
        parts: dict[str, list[Array]] = {name: [] for name, _, _ in NUMERIC}
        lists: dict[str, list[Any]] = {name: [] for name in names}
        for chunk in self.chunks:
            if chunk.seq0 + len(chunk) <= first:
                continue
            skip = max(0, first - chunk.seq0)
            for name, pieces in parts.items():
                pieces.append(chunk.column(name, skip, chunk.size))
            for name, items in lists.items():
                source = chunk.lists[name]
                items.extend(source[skip:] if skip else source)
        arrays = {name: np.concatenate(pieces) if pieces else np.empty(0, dtype=_DTYPES[name])
                  for name, pieces in parts.items()}
        n = len(lists["sock"])
        peers, ops = _Interner([None]), _Interner([])
        arrays["sock"] = np.array(lists["sock"], dtype=np.int32)
        arrays["op"] = _ints(map(ops.__getitem__, lists["op"]), np.int16, n)
        if counts_only:
            payload: list[Any] = [None] * n
        else:
            arrays["thread"] = np.array(lists["thread"], dtype=np.int32)
            arrays["peer"] = np.array(_peer_codes(peers, lists["peer"], n), dtype=np.int32)
            payload = lists["payload"]
        values = {seq: value for seq, value in self.values.items() if seq >= first}
        tables = self.tables.copy()
        tables.ops, tables.peers = ops.names, peers.names
        return Columns(first, arrays, payload, values, tables)

    def kept(self, name: str) -> Iterator[list[Any]]:
        """The list column ``name`` of the rows kept, chunk by chunk (call with `lock` held)."""
        for i, chunk in enumerate(self.chunks):
            items = chunk.lists[name]
            yield items[self.start:] if i == 0 and self.start else items

    # -- writing ------------------------------------------------------------------------------

    def compact(self, reread: bool = True) -> int:
        """Move the staged calls into rows (call with `lock` held); returns the rows added.

        Only the calls staged when it starts are taken (``del staged[:m]`` is atomic), so
        calls staged meanwhile by other threads wait for the next compaction. ``reread=False``
        keeps every known socket's state as it was (used right after a call that changed one).
        The tables are collected afterwards when they have grown enough (see `collect`).
        """
        mark = self.threads.mark()  # threads ended before the calls are taken: all their calls are in them
        staged = self.staged
        m = len(staged)
        if not m:
            return 0
        try:
            arrays, lists, values = self._rows(staged, m, reread)
        except Exception:  # a bug here must not lose calls silently: they count as dropped
            _log.exception("recorder could not store %d calls; they are counted as dropped", m // STRIDE)
            self.dropped += m // STRIDE
            return 0
        finally:
            del staged[:m]
        rows = len(lists["payload"])
        seq0 = self.next_seq
        self.next_seq += rows
        for position, value in values:
            self.values[seq0 + position] = value
        done = 0
        while done < rows:
            last = self.chunks[-1] if self.chunks else None
            if last is None or last.size == last.capacity:
                last = _Chunk(seq0 + done, self.chunk_rows)
                self.chunks.append(last)
            take = min(rows - done, last.capacity - last.size)
            last.add(arrays, lists, done, done + take)
            done += take
        self._trim()
        if self._pressure() >= self._collect_at:
            self.collect(mark)
        return rows

    def _trim(self) -> None:
        """Drop the oldest rows beyond ``max_events``, counting them in ``dropped``."""
        excess = len(self) - self.max_events
        if excess <= 0:
            return
        self.dropped += excess
        start = self.start + excess
        while self.chunks and start >= len(self.chunks[0]):
            start -= len(self.chunks.pop(0))
            self.cleared = 0
        if self.chunks:  # the payloads and peers are freed now, the slots with the chunk
            lists = self.chunks[0].lists
            cleared = self.cleared
            lists["payload"][cleared:start] = repeat(None, start - cleared)
            lists["peer"][cleared:start] = repeat(None, start - cleared)
            self.cleared = start
        self.start = start
        first = self.first_seq
        if self.values:  # in seq order
            for seq in list(takewhile(first.__gt__, self.values)):
                del self.values[seq]
        ends = self._batch_ends
        while ends and ends[0][0] < first:  # batches whose rows are all dropped
            self.asked.pop(ends.popleft()[1], None)

    # -- collecting the tables --------------------------------------------------------------------

    def _pressure(self) -> int:
        """Grows with every new entry of the tables (and every thread that ended), shrinks at `collect`."""
        threads = self.threads
        return len(self.tables.sockets) + len(self.tables.errors) + threads.issued + len(threads.ended)

    def collect(self, mark: int) -> None:
        """Drop the table entries that neither a kept row, nor a live socket or thread uses (call with `lock` held).

        ``mark`` is `ThreadCodes.mark` taken before the staged calls were last taken (all
        of the threads that had ended by then have their calls in the rows). Sockets' states
        and errors are renumbered: the kept rows and the live sockets' entries get the new
        codes (staged calls hold socket objects, never these codes). Thread codes are never
        renumbered (threads stage theirs without a lock): unused ones are freed for reuse.
        The next collection comes when as many new entries as are in use now (at least
        `COLLECT_MIN`, and a 32nd of the rows kept) have been made, so that its cost, a pass
        over the kept rows' codes, is spread over them.
        """
        threads: set[int] = set()
        for items in self.kept("thread"):
            threads.update(items)
        self.threads.collect(mark, threads)
        self._collect_sockets()
        self._collect_errors()
        in_use = len(self.tables.sockets) + len(self.tables.errors) + len(self.threads)
        self._collect_at = self._pressure() + max(COLLECT_MIN, in_use, len(self) >> 5)

    def _collect_sockets(self) -> None:
        used: set[int] = set()
        for items in self.kept("sock"):
            used.update(items)
        entries = list(self._sockets.copy().values())  # (a collected socket's callback may remove one meanwhile)
        used.update(entry.code for entry in entries if entry.code >= 0)
        if len(used) == len(self.tables.sockets):
            return
        codes = sorted(used)
        new = {old: code for code, old in enumerate(codes)}.__getitem__
        self._states.keep(codes)
        for entry in entries:
            if entry.code >= 0:
                entry.code = new(entry.code)
        for i, chunk in enumerate(self.chunks):
            items = chunk.lists["sock"]
            skip = self.start if i == 0 else 0
            items[:] = [*repeat(0, skip), *map(new, items[skip:])]  # (dropped rows: never read again)

    def _collect_errors(self) -> None:
        used = {0}
        for i, chunk in enumerate(self.chunks):
            column = chunk.arrays.get("error")
            if column is not None:
                used.update(np.unique(column[self.start if i == 0 else 0:chunk.size]).tolist())
        if len(used) == len(self.tables.errors):
            return
        codes = sorted(used)
        new = np.zeros(len(self.tables.errors), dtype=np.int32)  # (dropped rows: never read again)
        new[codes] = np.arange(len(codes), dtype=np.int32)
        self._errors.keep(codes)
        for chunk in self.chunks:
            column = chunk.arrays.get("error")
            if column is not None:
                column[:chunk.size] = new[column[:chunk.size]]

    def _rows(self, staged: list[Any], m: int, reread: bool = True
              ) -> tuple[dict[str, Array], dict[str, list[Any]], list[Any]]:
        """The rows of the calls in ``staged[:m]``: numpy columns, list columns and (row, value) pairs.

        Each field is sliced straight out of ``staged`` (one C-level copy per field, no copy
        of the whole list) and every check is a C-level pass over the common case: no
        waits, no missing byte counts, no errors, no extras.
        """
        n = m // STRIDE
        socks = staged[SOCK:m:STRIDE]
        sock_codes = {sock: self.socket_code(sock, reread=reread) for sock in set(socks)}
        waited = staged[WAITED:m:STRIDE]
        nbytes = staged[NBYTES:m:STRIDE]
        mores = staged[MORE:m:STRIDE]
        plain = mores.count(None) == n  # no errors, no extras
        errors: list[Any] | None = None if plain else [None if more is None else more[0] for more in mores]
        extras: list[Any] | None = None if plain else [None if more is None else more[1] for more in mores]
        t0 = _seconds(staged[T0:m:STRIDE], n)
        try:
            nbytes_column = _ints(nbytes, np.int64, n)
        except TypeError:  # some calls moved no bytes (None)
            nbytes_column = np.nan_to_num(np.array(nbytes, dtype=np.float64), nan=-1).astype(np.int64)
        arrays: dict[str, Array] = {
            "t0": t0,
            "duration": _seconds(staged[END:m:STRIDE], n) - t0,
            "nbytes": nbytes_column,
        }
        if any(waited):
            arrays["waited"] = _seconds(waited, n)
        if errors is not None and errors.count(None) != n:
            arrays["error"] = np.array([0 if e is None else self._error_code(e) for e in errors], dtype=np.int32)
        lists: dict[str, list[Any]] = {
            "sock": [sock_codes[socks[0]]] * n if len(sock_codes) == 1 else list(itemgetter(*socks)(sock_codes)),
            "thread": staged[THREAD:m:STRIDE],
            "peer": staged[PEER:m:STRIDE],
            "op": staged[OP:m:STRIDE],
            "payload": staged[PAYLOAD:m:STRIDE],
        }
        values: list[Any] = []
        if extras is None or extras.count(None) == n:
            return arrays, lists, values
        batches: list[tuple[int, Batch]] = []
        for i in compress(range(n), map(is_not, extras, repeat(None))):
            extra = extras[i]
            if isinstance(extra, Batch):
                batches.append((i, extra))
                continue
            for key, value in extra.items():
                if key == "blocking":
                    _column(arrays, "blocking", n)[i] = bool(value)
                elif key == "timeout":
                    _column(arrays, "timeout", n)[i] = FOREVER if value is None or value < 0 else float(value)
                elif key in ("condition", "ready"):
                    _column(arrays, key, n)[i] = int(value) & 0x3F
                elif key == "flags":
                    _column(arrays, "flags", n)[i] = int(value)
                elif key == "value":
                    values.append((i, value))
        if batches:
            return self._expand(arrays, lists, values, batches)
        return arrays, lists, values

    def _expand(self, arrays: dict[str, Array], lists: dict[str, list[Any]], values: list[Any],
                batches: list[tuple[int, Batch]]) -> tuple[dict[str, Array], dict[str, list[Any]], list[Any]]:
        """Replace each batched call's row by one row per message it moved (and one for an error)."""
        n = len(lists["payload"])
        for name in ("flags", "batch", "index", "error"):
            _column(arrays, name, n)
        repeats = np.ones(n, dtype=np.int64)
        for i, batch in batches:
            repeats[i] = batch.moved + (1 if batch.moved and arrays["error"][i] else 0) or 1
        starts = np.cumsum(repeats) - repeats  # where each old row begins in the new rows
        out = {name: np.repeat(column, repeats) for name, column in arrays.items()}
        out_lists: dict[str, list[Any]] = {name: [] for name in lists}
        done = 0
        for i, batch in batches:
            for name, items in lists.items():
                out_lists[name].extend(items[done:i])
            done = i + 1
            rows, count = int(repeats[i]), batch.moved
            at = int(starts[i])
            out["batch"][at:at + rows] = self.next_batch
            self.asked[self.next_batch] = batch.asked
            self._batch_ends.append((self.next_seq + at + rows - 1, self.next_batch))
            self.next_batch += 1
            if rows > count and batch.call_flags is not None:  # the call's own row (nothing moved, or the error)
                out["flags"][at + rows - 1] = batch.call_flags
            for name in ("sock", "thread", "op"):
                out_lists[name].extend([lists[name][i]] * rows)
            if not count:
                out_lists["peer"].append(lists["peer"][i])
                out_lists["payload"].append(lists["payload"][i])
                continue
            end = at + count
            out["nbytes"][at:end] = batch.nbytes
            out["index"][at:end] = np.arange(count, dtype=np.int32)
            out["error"][at:end] = 0
            if batch.flags is not None:
                out["flags"][at:end] = batch.flags
            elif batch.call_flags is not None:
                out["flags"][at:end] = batch.call_flags
            out_lists["peer"].extend(batch.peers)
            payloads = batch.payloads  # `bytearray` copies become `bytes` here, off the socket call path
            if bytearray in set(map(type, payloads)):
                payloads = [p if p is None or type(p) is bytes else bytes(p) for p in payloads]
            out_lists["payload"].extend(payloads)
            if rows > count:  # the error row after the messages: the call's own values
                out["nbytes"][end] = -1
                out_lists["peer"].append(lists["peer"][i])
                out_lists["payload"].append(None)
        for name, items in lists.items():
            out_lists[name].extend(items[done:])
        shifted = [(int(starts[i]), value) for i, value in values]
        return out, out_lists, shifted

    def socket_code(self, sock: Any, refresh: bool = False, reread: bool = True) -> int:
        """Code of the socket's `SocketState`.

        Everything is read at first sight and when ``refresh`` is set (right after a call
        that changed the socket, once the rows before it are stored); otherwise the state
        stays as it was, except the label and host (read every time) and, if ``reread``, the local
        address of an IP socket without a port yet (its first send gives it one).
        """
        key = id(sock)
        entry = self._sockets.get(key)
        if entry is None or (entry.ref is not None and entry.ref() is not sock):  # new, or an id reused
            entry = _SocketEntry()
            try:
                entry.ref = weakref.ref(sock, _forget(self._sockets, key, entry))
            except TypeError:  # not weak-referenceable: remembered until the next reset
                pass
            self._sockets[key] = entry
        state = entry.state
        fresh = state is None or refresh
        local = entry.local
        if fresh or (entry.provisional and reread):
            try:
                local = sock._local_text()
            except Exception:
                local = None
            family = sock.get_family().name
            entry.provisional = family in ("IPV4", "IPV6") and (local is None or local.endswith(":0"))
        label, host = sock.label, getattr(sock, "_host", None)
        if state is None or fresh:
            state = SocketState(label, sock.get_family().name, sock.get_socket_type().name, local,
                                bool(sock._blocking), int(sock._timeout), host)
        elif label != state.label or local != state.local or host != state.host:
            state = state._replace(label=label, local=local, host=host)
        if state != entry.state:
            entry.code, entry.state, entry.local = self._states[state], state, local
        return entry.code

    def _error_code(self, error: BaseException) -> int:
        code = getattr(error, "code", None)
        name = getattr(code, "name", None)
        if not isinstance(name, str):
            name = "FAILED"  # not an IOErrorEnum: counted as FAILED, as GLib does with unknown codes
        message = getattr(error, "message", None)
        return self._errors[(name, message if isinstance(message, str) else str(error))]


def _peer_codes(interner: _Interner, peers: list[Any], n: int) -> list[int]:
    """Codes of the peers' texts (addresses are told apart by identity: their ``==`` is slow)."""
    if not n:
        return []
    ids = list(map(id, peers))
    if ids.count(ids[0]) == n:
        first = peers[0]
        return [interner[address_text(first) if first is not None else None]] * n
    codes = {key: interner[address_text(peer) if peer is not None else None]
             for key, peer in dict(zip(ids, peers)).items()}  # (the same id: the same object)
    return list(map(codes.__getitem__, ids))


def _forget(sockets: dict[int, _SocketEntry], key: int, entry: _SocketEntry) -> Any:
    """The weakref callback that forgets a collected socket (its id may be reused)."""

    def callback(_ref: Any) -> None:
        if sockets.get(key) is entry:
            del sockets[key]

    return callback

