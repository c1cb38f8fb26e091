"""The pcapng block format: writing the four blocks gsocklab needs, and reading any file back.

pcapng (IETF draft ``draft-ietf-opsawg-pcapng``) is a sequence of blocks, each ``type``
(4 bytes), ``total length`` (4 bytes), a body padded to 32 bits, and the total length again.
A file starts with a Section Header Block (SHB), whose byte-order magic ``0x1A2B3C4D`` tells
the reader the section's byte order; gsocklab writes little-endian. Interface Description
Blocks (IDB) declare interfaces, numbered from 0 in their order; Enhanced Packet Blocks (EPB)
carry one packet each on one interface. Options are ``code`` (2 bytes), ``length`` (2 bytes)
and a value padded to 32 bits, ended by ``opt_endofopt`` (code 0, length 0).

The writer functions return ``bytes``; `read_blocks` parses a file block by block (it holds one
block at a time) and checks what a reader must: the magic, every block's two lengths, 32-bit
alignment, option lengths that stay inside their block, and an interface id that was declared.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final

__all__ = [
    "EPB", "FLAG_INBOUND", "FLAG_OUTBOUND", "IDB", "LINKTYPE_RAW", "LINKTYPE_UPPER_PDU", "SHB", "Block", "Counts",
    "EnhancedPacket", "InterfaceDescription", "PcapngError", "SectionHeader", "enhanced_packet",
    "interface_description", "read_blocks", "section_header",
]

SHB: Final = 0x0A0D0D0A
IDB: Final = 0x00000001
EPB: Final = 0x00000006
BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D

LINKTYPE_RAW: Final = 101  # raw IPv4 or IPv6, told apart by the version nibble
LINKTYPE_UPPER_PDU: Final = 252  # LINKTYPE_WIRESHARK_UPPER_PDU: tagged PDUs for a named dissector

OPT_ENDOFOPT: Final = 0
OPT_COMMENT: Final = 1
SHB_HARDWARE, SHB_OS, SHB_USERAPPL = 2, 3, 4
IF_NAME, IF_DESCRIPTION, IF_TSRESOL = 2, 3, 9
EPB_FLAGS: Final = 2

FLAG_INBOUND: Final = 0b01  # epb_flags bits 0-1: the packet's direction on its interface
FLAG_OUTBOUND: Final = 0b10

_OPTION_NAMES: Final = {
    SHB: {OPT_COMMENT: "comment", SHB_HARDWARE: "hardware", SHB_OS: "os", SHB_USERAPPL: "userappl"},
    IDB: {OPT_COMMENT: "comment", IF_NAME: "name", IF_DESCRIPTION: "description", IF_TSRESOL: "tsresol"},
    EPB: {OPT_COMMENT: "comment", EPB_FLAGS: "flags"},
}
_TEXT_OPTIONS: Final = {"comment", "hardware", "os", "userappl", "name", "description"}
_SIZES: Final = {"tsresol": 1, "flags": 4}  # options of a fixed size
_MINIMUM: Final = {SHB: 28, IDB: 20, EPB: 32}  # a block's length with its fixed fields and no options
_READ_CHUNK: Final = 1 << 20


@dataclass
class Counts:
    """What a written file holds: socket interfaces, IP packets and call frames."""

    interfaces: int = 0
    packets: int = 0
    calls: int = 0


class PcapngError(ValueError):
    """A file that is not valid pcapng: what is wrong and at which byte offset."""


def _pad(length: int) -> int:
    return -length % 4


def _option(code: int, value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise ValueError(f"a pcapng option holds at most 65535 bytes, not {len(value)}")
    return struct.pack("<HH", code, len(value)) + value + b"\0" * _pad(len(value))


def _options(pairs: list[tuple[int, bytes]]) -> bytes:
    if not pairs:
        return b""
    return b"".join(_option(code, value) for code, value in pairs) + _option(OPT_ENDOFOPT, b"")


def _text(value: str, limit: int = 0xFFFF) -> bytes:
    """UTF-8 of ``value``, cut (on a character boundary) to fit an option."""
    data = value.encode("utf-8", "replace")
    if len(data) <= limit:
        return data
    return data[:limit - 3].decode("utf-8", "ignore").encode() + b"..."


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def section_header(comment: str | None = None, application: str | None = None) -> bytes:
    """An SHB (version 1.0, section length unknown) with a comment and the writing application."""
    options = []
    if comment:
        options.append((OPT_COMMENT, _text(comment)))
    if application:
        options.append((SHB_USERAPPL, _text(application)))
    return _block(SHB, struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + _options(options))


def interface_description(linktype: int, name: str, description: str | None = None, snaplen: int = 0) -> bytes:
    """An IDB with nanosecond timestamps (``if_tsresol`` 9)."""
    options = [(IF_NAME, _text(name))]
    if description:
        options.append((IF_DESCRIPTION, _text(description)))
    options.append((IF_TSRESOL, b"\x09"))
    return _block(IDB, struct.pack("<HHI", linktype, 0, snaplen) + _options(options))


def enhanced_packet(interface_id: int, timestamp_ns: int, data: bytes, original_length: int,
                    flags: int | None = None, comment: str | None = None) -> bytes:
    """An EPB: ``data`` (what was captured) of a packet ``original_length`` bytes long."""
    if original_length < len(data):
        raise ValueError(f"original_length {original_length} is shorter than the {len(data)} bytes captured")
    options = []
    if comment:
        options.append((OPT_COMMENT, _text(comment)))
    if flags is not None:
        options.append((EPB_FLAGS, struct.pack("<I", flags)))
    body = (struct.pack("<IIIII", interface_id, (timestamp_ns >> 32) & 0xFFFFFFFF, timestamp_ns & 0xFFFFFFFF,
                        len(data), original_length)
            + data + b"\0" * _pad(len(data)) + _options(options))
    return _block(EPB, body)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionHeader:
    """An SHB: its version, and its options by name (``comment`` may repeat: a list)."""

    offset: int
    version: tuple[int, int]
    options: dict[str, list[object]] = field(default_factory=dict)


@dataclass(frozen=True)
class InterfaceDescription:
    """An IDB: the link type, snapshot length and options (``name``, ``description``, ``tsresol``)."""

    offset: int
    linktype: int
    snaplen: int
    options: dict[str, list[object]] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """``if_name``, if given."""
        names = self.options.get("name")
        return str(names[0]) if names else None

    @property
    def ticks_per_second(self) -> int:
        """From ``if_tsresol``: 10**n (or 2**n when its top bit is set); 10**6 when absent."""
        values = self.options.get("tsresol")
        if not values:
            return 10**6
        raw = int(values[0])  # type: ignore[call-overload]
        return int(2 ** (raw & 0x7F) if raw & 0x80 else 10 ** raw)


@dataclass(frozen=True)
class EnhancedPacket:
    """An EPB: the interface, time (in that interface's ticks), captured data and options."""

    offset: int
    interface_id: int
    timestamp: int
    captured_length: int
    original_length: int
    data: bytes
    options: dict[str, list[object]] = field(default_factory=dict)

    @property
    def comments(self) -> list[str]:
        """Every ``opt_comment`` of the packet."""
        return [str(c) for c in self.options.get("comment", [])]

    @property
    def flags(self) -> int | None:
        """``epb_flags``, if given."""
        values = self.options.get("flags")
        return int(values[0]) if values else None  # type: ignore[call-overload]


Block = SectionHeader | InterfaceDescription | EnhancedPacket


def _parse_options(kind: int, data: bytes, start: int, end: int, byte_order: str,
                   offset: int) -> dict[str, list[object]]:
    options: dict[str, list[object]] = {}
    names = _OPTION_NAMES.get(kind, {})
    position = start
    while position < end:
        if position + 4 > end:
            raise PcapngError(f"block at {offset}: an option header runs past the block")
        code, length = struct.unpack_from(byte_order + "HH", data, position)
        position += 4
        if code == OPT_ENDOFOPT:
            if length != 0:
                raise PcapngError(f"block at {offset}: opt_endofopt has length {length}")
            return options
        if position + length + _pad(length) > end:
            raise PcapngError(f"block at {offset}: option {code} ({length} bytes) runs past the block")
        raw = bytes(data[position:position + length])
        position += length + _pad(length)
        name = names.get(code, str(code))
        value: object = raw
        if name in _TEXT_OPTIONS:
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PcapngError(f"block at {offset}: option {name} is not UTF-8 ({error.reason})") from None
        elif name in _SIZES:
            if len(raw) != _SIZES[name]:
                raise PcapngError(f"block at {offset}: option {name} has {len(raw)} bytes, not {_SIZES[name]}")
            value = raw[0] if name == "tsresol" else struct.unpack(byte_order + "I", raw)[0]
        options.setdefault(name, []).append(value)
    return options


def _read_exactly(file: BinaryIO, count: int, offset: int, total: int) -> bytes:
    """``count`` bytes of ``file``, read a chunk at a time: a huge declared length in a short file
    fails without allocating it."""
    parts = []
    while count > 0:
        part = file.read(min(count, _READ_CHUNK))
        if not part:
            raise PcapngError(f"block at {offset}: the file ends inside a block of {total} bytes")
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def read_blocks(file: BinaryIO) -> Iterator[Block]:
    """Parse ``file`` (opened ``"rb"``) block by block; raise `PcapngError` where it is not valid.

    Blocks of other types (name resolution, statistics, …) are checked for their lengths and
    skipped. Packets of a section refer to the interfaces declared in that section."""
    offset = 0
    byte_order = "<"
    interfaces = 0
    seen_section = False
    while True:
        head = file.read(8)
        if not head:
            return
        if len(head) < 8:
            raise PcapngError(f"block at {offset}: the file ends inside a block header")
        if not seen_section or head[:4] == b"\x0a\x0d\x0d\x0a":
            if head[:4] != b"\x0a\x0d\x0d\x0a":
                raise PcapngError("the file does not start with a Section Header Block")
            magic = file.read(4)
            if magic == b"\x4d\x3c\x2b\x1a":
                byte_order = "<"
            elif magic == b"\x1a\x2b\x3c\x4d":
                byte_order = ">"
            else:
                raise PcapngError(f"block at {offset}: bad byte-order magic {magic.hex()}")
            head += magic
            seen_section, interfaces = True, 0
        block_type, total = struct.unpack_from(byte_order + "II", head, 0)
        if total < 12 or total % 4:
            raise PcapngError(f"block at {offset}: total length {total} is not a multiple of 4 of at least 12")
        if total < _MINIMUM.get(block_type, 12):
            raise PcapngError(f"block at {offset}: a block of type {block_type:#x} needs at least "
                              f"{_MINIMUM[block_type]} bytes, not {total}")
        data = head + _read_exactly(file, total - len(head), offset, total)
        (trailer,) = struct.unpack_from(byte_order + "I", data, total - 4)
        if trailer != total:
            raise PcapngError(f"block at {offset}: its trailing length {trailer} differs from {total}")
        body_end = total - 4
        if block_type == SHB:
            major, minor = struct.unpack_from(byte_order + "HH", data, 12)
            if major != 1:
                raise PcapngError(f"block at {offset}: unsupported pcapng version {major}.{minor}")
            yield SectionHeader(offset, (major, minor), _parse_options(SHB, data, 24, body_end, byte_order, offset))
        elif block_type == IDB:
            linktype, _reserved, snaplen = struct.unpack_from(byte_order + "HHI", data, 8)
            interfaces += 1
            yield InterfaceDescription(offset, linktype, snaplen,
                                       _parse_options(IDB, data, 16, body_end, byte_order, offset))
        elif block_type == EPB:
            interface_id, high, low, captured, original = struct.unpack_from(byte_order + "IIIII", data, 8)
            if interface_id >= interfaces:
                raise PcapngError(f"block at {offset}: packet on interface {interface_id}, "
                                  f"but only {interfaces} declared")
            start = 28 + captured + _pad(captured)
            if start > body_end:
                raise PcapngError(f"block at {offset}: {captured} captured bytes run past the block")
            if original < captured:
                raise PcapngError(f"block at {offset}: original length {original} < captured {captured}")
            yield EnhancedPacket(offset, interface_id, (high << 32) | low, captured, original,
                                 bytes(data[28:28 + captured]),
                                 _parse_options(EPB, data, start, body_end, byte_order, offset))
        offset += total
