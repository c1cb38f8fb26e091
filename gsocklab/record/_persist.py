"""Saving and loading recordings: Parquet with pyarrow, else a pickle of the frame.

Parquet files carry the recorder's settings and counters as JSON in the schema metadata
(key ``gsocklab``); after reading, the columns are cast to `TRAFFIC_SCHEMA` so the dtypes
are exactly those saved. Without pyarrow the fallback is ``pandas.to_pickle`` of
``{"gsocklab": meta, "frame": frame}``: dtypes survive as they are, but only load pickles
you trust. `load` tells the two apart by the file's first bytes (Parquet starts ``PAR1``).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._schema import OPS, TRAFFIC_SCHEMA

__all__ = ["default_format", "load", "save"]

_KEY = b"gsocklab"
_FORMATS = ("parquet", "pickle")


def default_format() -> str:
    """``parquet`` when pyarrow is installed, else ``pickle``."""
    return "parquet" if importlib.util.find_spec("pyarrow") is not None else "pickle"


def save(path: str | os.PathLike[str], frame: pd.DataFrame, meta: dict[str, Any], format: str | None) -> None:
    """Write ``frame`` and ``meta`` to ``path`` in ``format`` (default: `default_format`)."""
    format = format or default_format()
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}, not {format!r}")
    if format == "pickle":
        pd.to_pickle({"gsocklab": meta, "frame": frame}, path)
        return
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KEY: json.dumps(meta).encode()})
    pq.write_table(table, path)


def load(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The frame and metadata written by `save`."""
    with Path(path).open("rb") as file:
        magic = file.read(4)
    if magic == b"\x0a\x0d\x0d\x0a":
        raise ValueError(f"{os.fspath(path)!r} is a pcapng capture file (written by to_pcapng), not a recording: "
                         "save recordings as Parquet or pickle to load them back")
    if magic == b"PAR1":
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(_KEY, b"{}"))
        frame = table.to_pandas()
    else:
        saved = pd.read_pickle(path)
        if not isinstance(saved, dict) or "frame" not in saved:
            raise ValueError(f"{os.fspath(path)!r} is not a gsocklab recording")
        meta, frame = saved.get("gsocklab", {}), saved["frame"]
    if "host" not in frame.columns and "socket" in frame.columns:  # saved before the host column
        frame.insert(list(frame.columns).index("socket") + 1, "host", None)
    if "via" not in frame.columns:  # saved before the via column
        frame["via"] = None
    if list(frame.columns) != list(TRAFFIC_SCHEMA):
        raise ValueError(f"{os.fspath(path)!r} is not a gsocklab recording: its columns differ")
    return conform(frame), meta


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the schema's dtypes (an ``op`` category outside the list is kept)."""
    dtypes = dict(TRAFFIC_SCHEMA)
    op = frame["op"]
    if isinstance(op.dtype, pd.CategoricalDtype):
        known = list(OPS.categories)
        extra = [c for c in op.dtype.categories if c not in known]
        if extra:
            dtypes["op"] = pd.CategoricalDtype(known + extra)
    payload = frame["payload"]
    frame = frame.astype(dtypes)
    frame["payload"] = payload.map(lambda p: None if p is None or p is pd.NA else bytes(p)).astype(object)
    return frame
