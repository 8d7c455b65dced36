"""The MapLibre glyph protobuf (fontnik's `glyphs.proto`), encoded and decoded by hand.

    message glyph { uint32 id = 1; bytes bitmap = 2; uint32 width = 3; uint32 height = 4;
                    sint32 left = 5; sint32 top = 6; uint32 advance = 7; }
    message fontstack { string name = 1; string range = 2; repeated glyph glyphs = 3; }
    message glyphs { repeated fontstack stacks = 1; }

Twenty lines of wire format spare a generated module and a protoc step at set-up.
"""
from __future__ import annotations

from dataclasses import dataclass

VARINT, BYTES = 0, 2
SIGNED_FIELDS = {5, 6}  # left and top are zig-zag sint32


@dataclass(frozen=True)
class Glyph:
    """One glyph: its SDF bitmap ((width + 6) × (height + 6) bytes, or empty) and metrics."""

    id: int
    bitmap: bytes
    width: int
    height: int
    left: int
    top: int
    advance: int


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 31)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | BYTES) + _varint(len(value)) + value
    return _varint(number << 3 | VARINT) + _varint(value)


def encode_glyph(glyph: Glyph) -> bytes:
    out = _field(1, glyph.id)
    if glyph.bitmap:
        out += _field(2, glyph.bitmap)
    out += _field(3, glyph.width) + _field(4, glyph.height)
    out += _field(5, _zigzag(glyph.left)) + _field(6, _zigzag(glyph.top))
    return out + _field(7, glyph.advance)


def encode_range(name: str, start: int, glyphs: list[Glyph]) -> bytes:
    """A `glyphs` message holding one font stack's glyphs of the range starting at `start`."""
    stack = _field(1, name.encode()) + _field(2, f"{start}-{start + 255}".encode())
    for glyph in glyphs:
        stack += _field(3, encode_glyph(glyph))
    return _field(1, stack)


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = _read_varint(data, pos)
        elif wire == BYTES:
            size, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unexpected wire type {wire} in a glyph message")
        yield number, value


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def decode_glyph(data: bytes) -> Glyph:
    values: dict[int, int | bytes] = {2: b""}
    for number, value in _fields(data):
        if number in SIGNED_FIELDS:
            value = (value >> 1) ^ -(value & 1)
        values[number] = value
    return Glyph(*(values.get(n, 0) for n in range(1, 8)))


def decode_range(data: bytes) -> list[tuple[str, str, list[Glyph]]]:
    """Each font stack of a `glyphs` message as (name, range, glyphs)."""
    stacks = []
    for _, stack in _fields(data):
        name, span, glyphs = "", "", []
        for number, value in _fields(stack):
            if number == 1:
                name = value.decode()
            elif number == 2:
                span = value.decode()
            elif number == 3:
                glyphs.append(decode_glyph(value))
        stacks.append((name, span, glyphs))
    return stacks
