"""Structure-aware mutation of PNG files: chunks taken apart, mutated, and their CRCs made right.

A byte flip anywhere in a PNG breaks a chunk's CRC, and the reader refuses the file at the first
chunk: plain mutation never reaches the header checks, the decoder or the QR reader behind them.
This mutator picks one of: a header field set to a boundary value (width, height, bit depth,
colour type, interlace), the pixel data inflated, mutated and deflated again, a chunk dropped,
duplicated, moved or added, or libFuzzer's own mutation of one chunk's body; then it writes every
chunk's length and CRC as a conforming writer would. A quarter of the time the file's bytes are
mutated as they are, so the framing is fuzzed too. Non-PNG inputs (JPEG seeds) get byte mutation.
"""

from __future__ import annotations

import random
import struct
import zlib

from fuzz import layers

__all__ = ["png_mutator"]

_MAGIC = b"\x89PNG\r\n\x1a\n"
_SIDES = (0, 1, 2, 7, 8, 21, 255, 4096, 16_384, 16_385, 1 << 24, 0x7FFFFFFF, 0xFFFFFFFF)
_DEPTHS = (0, 1, 2, 4, 8, 16, 3, 255)
_COLOURS = (0, 2, 3, 4, 6, 1, 5, 7, 255)
_EXTRA = (b"PLTE", b"tRNS", b"gAMA", b"tEXt", b"zTXt", b"iCCP", b"acTL", b"fcTL", b"IDAT", b"IEND")

Chunk = tuple[bytes, bytes]


def _chunks(data: bytes) -> list[Chunk] | None:
    if not data.startswith(_MAGIC):
        return None
    chunks: list[Chunk] = []
    at = len(_MAGIC)
    while at + 8 <= len(data) and len(chunks) < 4096:
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        chunks.append((kind, body))
        at += 12 + length
    return chunks or None


def _png(chunks: list[Chunk]) -> bytes:
    out = bytearray(_MAGIC)
    for kind, body in chunks:
        out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return bytes(out)


def _header(body: bytes, rng: random.Random) -> bytes:
    fields = list(struct.unpack(">IIBBBBB", body)) if len(body) == 13 else [21, 21, 8, 0, 0, 0, 0]
    which = rng.randrange(7)
    if which < 2:
        fields[which] = rng.choice(_SIDES)
    elif which == 2:
        fields[2] = rng.choice(_DEPTHS)
    elif which == 3:
        fields[3] = rng.choice(_COLOURS)
    else:
        fields[which] = rng.choice((0, 1, 2, 255))
    return struct.pack(">IIBBBBB", *fields)


def _pixels(chunks: list[Chunk], max_size: int, rng: random.Random) -> list[Chunk]:
    data = b"".join(body for kind, body in chunks if kind == b"IDAT")
    try:
        raw = zlib.decompressobj().decompress(data, 1 << 22)
    except zlib.error:
        return chunks
    if rng.random() < 0.7:
        raw = layers.mutate_bytes(raw, max(len(raw) + 64, 64))
    else:  # a truncated image: rows missing
        raw = raw[: rng.randrange(len(raw) + 1)]
    packed = zlib.compress(raw, rng.choice((0, 1, 9)))[:max_size]
    first = next((i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT"), len(chunks) - 1)
    rest = [c for c in chunks if c[0] != b"IDAT"]
    return [*rest[:first], (b"IDAT", packed), *rest[first:]]


def _rearranged(chunks: list[Chunk], rng: random.Random) -> list[Chunk]:
    chunks = list(chunks)
    i = rng.randrange(len(chunks))
    move = rng.randrange(4)
    if move == 0 and len(chunks) > 1:
        del chunks[i]
    elif move == 1:
        chunks.insert(rng.randrange(len(chunks) + 1), chunks[i])
    elif move == 2:
        chunks.insert(rng.randrange(len(chunks) + 1), chunks.pop(i))
    else:
        extra = (rng.choice(_EXTRA), rng.randbytes(rng.choice((0, 1, 4, 13, 26))))
        chunks.insert(rng.randrange(len(chunks) + 1), extra)
    return chunks


def png_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate a PNG as chunks (CRCs kept right), or its bytes as they are; JPEGs by bytes."""
    rng = random.Random(seed)
    chunks = None if rng.random() < 0.25 else _chunks(data)
    if chunks is None:
        return layers.mutate_bytes(data, max_size)[:max_size]
    move = rng.randrange(4)
    if move == 0:
        i = next((i for i, (kind, _) in enumerate(chunks) if kind == b"IHDR"), 0)
        chunks[i] = (b"IHDR", _header(chunks[i][1], rng))
    elif move == 1:
        chunks = _pixels(chunks, max_size, rng)
    elif move == 2:
        chunks = _rearranged(chunks, rng)
    else:
        i = rng.randrange(len(chunks))
        kind, body = chunks[i]
        chunks[i] = (kind, layers.mutate_bytes(body, max(len(body) * 2, 32)))
    return _png(chunks)[:max_size]
