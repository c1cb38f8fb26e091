"""Recordings as pcapng capture files that Wireshark and tshark open, without capture rights.

``rec.save("run.pcapng")`` (or ``rec.to_pcapng(path)``, or `write_pcapng` of a recording's frame)
writes what the recorded socket calls would have put on the wire: an IPv4/IPv6 + UDP/TCP
packet for each datagram and stream chunk sent or received, on one interface per socket, with
nanosecond timestamps, direction flags and a comment naming the call; TCP handshakes and
FINs from ``connect``/``accept``/``close``; the calls that moved no data as text frames on the
``gsocklab calls`` interface. The packets are synthesized, not captured: see
`gsocklab.pcapng._synthesize` for the exact rules, and ``docs/capture-files.md``.

`read_blocks` parses any pcapng file back (blocks, options, packets) in pure Python, and
`parse_packet` reads the IP/UDP/TCP headers of a packet; neither needs Wireshark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._blocks import (
    FLAG_INBOUND,
    FLAG_OUTBOUND,
    LINKTYPE_RAW,
    LINKTYPE_UPPER_PDU,
    Block,
    Counts,
    EnhancedPacket,
    InterfaceDescription,
    PcapngError,
    SectionHeader,
)
from ._ip import ParsedPacket, parse_packet

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "FLAG_INBOUND", "FLAG_OUTBOUND", "LINKTYPE_RAW", "LINKTYPE_UPPER_PDU", "Block", "Counts", "EnhancedPacket",
    "InterfaceDescription", "ParsedPacket", "PcapngError", "SectionHeader", "parse_packet", "read_blocks",
    "write_pcapng",
]

_BUFFER = 1 << 20


def write_pcapng(frame: pd.DataFrame, path: str | os.PathLike[str], *, start_wall_ns: int | None = None,
                 capture_bytes: int | None = None) -> Counts:
    """Write the recording ``frame`` (``Recorder.to_dataframe()``'s columns) to ``path`` as pcapng.

    ``start_wall_ns`` is the recording's start (wall clock, ns since the epoch; default: from the
    first row's ``time`` and ``elapsed``), so that relative times in Wireshark are ``elapsed``;
    ``capture_bytes`` is named in the comments of packets whose payload was cut. Blocks are
    written as they are made, to a temporary file renamed to ``path`` at the end (a failure
    leaves no half-written file). Returns the counts of interfaces, packets and call frames.
    """
    from ..record._schema import TRAFFIC_SCHEMA
    from . import _blocks
    from ._synthesize import blocks

    if not hasattr(frame, "columns") or list(frame.columns) != list(TRAFFIC_SCHEMA):
        raise TypeError("frame must be a recording's DataFrame (Recorder.to_dataframe()), "
                        f"not {type(frame).__name__}")
    target = Path(path)
    temporary = target.with_name(target.name + ".part")
    counts = Counts()
    sockets = frame["socket"].nunique()
    comment = (f"gsocklab recording: {len(frame)} socket calls on {sockets} sockets. The packets are synthesized "
               "from the calls (nothing was captured): one interface per IP socket, outbound = sent, inbound = "
               "received; interface 'gsocklab calls' holds the calls that moved no packet.")
    try:
        with temporary.open("wb", buffering=_BUFFER) as file:
            file.write(_blocks.section_header(comment, "gsocklab"))
            file.write(_blocks.interface_description(_blocks.LINKTYPE_UPPER_PDU, "gsocklab calls",
                                                     "socket calls that moved no packet, one text line each"))
            for block in blocks(frame, start_wall_ns, capture_bytes, counts):
                file.write(block)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return counts


def read_blocks(path: str | os.PathLike[str]) -> Iterator[Block]:
    """The blocks of the pcapng file ``path``, parsed and checked (`PcapngError` where it is invalid)."""
    from ._blocks import read_blocks as read

    with Path(path).open("rb") as file:
        yield from read(file)
