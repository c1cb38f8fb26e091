"""Scripted recording frames for the tests of `gsocklab.check`: rows built one by one in
`TRAFFIC_SCHEMA` dtypes, and a pinger exchange with chosen losses."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gsocklab.record import TRAFFIC_SCHEMA

T0 = pd.Timestamp("2025-01-01 12:00:00", tz="UTC")
C_ADDR, S_ADDR = "127.0.0.1:4000", "127.0.0.1:5000"


def row(socket: str, op: str, *, at: float, duration: float = 1e-4, **values: Any) -> dict[str, Any]:
    """One event (as in tests/test_analysis.py): ``at`` is its ``elapsed``; direction follows from ``op``."""
    direction = "out" if op.startswith("send") else "in" if op.startswith("receive") else None
    return {"socket": socket, "host": None, "thread": "MainThread", "op": op, "direction": direction, "family": "IPV4",
            "type": "DATAGRAM", "elapsed": at, "time": T0 + pd.Timedelta(seconds=at), "duration": duration,
            "waited": 0.0, "blocking": True, "payload": None, **values}


def send(socket: str, local: str, peer: str, data: bytes, at: float, **values: Any) -> dict[str, Any]:
    op = values.pop("op", "send_to")
    return row(socket, op, at=at, local=local, peer=peer, nbytes=len(data), payload=data, **values)


def recv(socket: str, local: str, peer: str, data: bytes, at: float, **values: Any) -> dict[str, Any]:
    op = values.pop("op", "receive_from")
    return row(socket, op, at=at, local=local, peer=peer, nbytes=len(data), payload=data, **values)


def fail(socket: str, op: str, error: str, at: float, **values: Any) -> dict[str, Any]:
    return row(socket, op, at=at, error=error, message="Socket I/O timed out", **values)


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A recording frame of ``rows``, in order (``seq`` 0, 1, …), with the schema's dtypes."""
    records = [{**r, "seq": seq} for seq, r in enumerate(rows)]
    return pd.DataFrame(records, columns=list(TRAFFIC_SCHEMA)).astype(TRAFFIC_SCHEMA)


def pings(*answered: bool, retry: bool = False, server: bool = True) -> pd.DataFrame:
    """``client`` pings ``server`` once per entry, 0.25 s apart; unanswered pings time out (0.2 s) on
    ``receive_bytes_from``. With ``retry`` the client resends an unanswered ping, which is answered.
    ``server=False`` leaves the server's rows out (as when only the client was recorded)."""
    rows = [row("client", "bind", at=0.0, local=C_ADDR), row("server", "bind", at=0.0, local=S_ADDR)]
    at = 0.01
    for i, ok in enumerate(answered):
        payload = b"ping %d" % i
        rows += [send("client", C_ADDR, S_ADDR, payload, at), recv("server", S_ADDR, C_ADDR, payload, at + 0.001)]
        if not ok:
            rows.append(fail("client", "receive_bytes_from", "TIMED_OUT", at + 0.002, local=C_ADDR, timeout=0.2))
            at += 0.2
            if retry:
                rows += [send("client", C_ADDR, S_ADDR, payload, at), recv("server", S_ADDR, C_ADDR, payload, at)]
                ok = True
        if ok:
            rows += [send("server", S_ADDR, C_ADDR, payload, at + 0.003),
                     recv("client", C_ADDR, S_ADDR, payload, at + 0.004, op="receive_bytes_from", timeout=0.2)]
        at += 0.25
    if not server:
        rows = [r for r in rows if r["socket"] != "server"]
    return frame(*rows)


EMPTY = frame()
PINGS = pings(True, True, False, True)  # the third ping is unanswered; the client goes on with the fourth
