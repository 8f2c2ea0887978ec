"""What an image file declares, read from its bytes before any decoder sees them.

A verifier reads images from strangers. :func:`sniff` tells the format by its
magic bytes (PNG or JPEG, nothing else), walks the file's chunks or marker
segments under a count bound, and returns the declared width and height; the
caller refuses an image outside the size bounds before Pillow decodes a pixel.
It also refuses a file too short to hold the pixels it declares: Pillow
allocates the whole declared image before it notices the data is missing, so
a 100-byte header would otherwise cost the memory of a full photo.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

from healthcred.errors import BadImage

__all__ = [
    "IMAGE_FORMATS",
    "MAX_IMAGE_ASPECT",
    "MAX_IMAGE_FILE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_JPEG_SCANS",
    "MAX_JPEG_SEGMENTS",
    "MAX_PNG_CHUNKS",
    "Declared",
    "check_size",
    "sniff",
]

MAX_IMAGE_PIXELS = 24_000_000
"""Largest image (width × height) a reader decodes, declared in its header and checked before decoding.

Twice a 12-megapixel phone photo (4032 × 3024) and above any 5K screenshot; a
48–50 MP "high resolution" photo is refused (``bad_image``): a QR code needs a
few pixels per module, not that. Decoding costs at most about 10 bytes per
pixel (a progressive JPEG's coefficients, then grey planes), ~250 MB.
"""

MAX_IMAGE_SIDE = 16_384
"""Longest side, in pixels, of an image a reader decodes (a 200 MP sensor's long side is 16,320)."""

MAX_IMAGE_ASPECT = 32
"""Most the long side of an image may exceed its short side, as a factor (a long screenshot is ~15)."""

IMAGE_FORMATS = ("PNG", "JPEG")
"""Formats :func:`~healthcred.codec.qr.read_qr` opens from a path or bytes, told by their magic bytes.

A verifier reads camera frames (JPEG) and screenshots or rendered codes (PNG)
from strangers; every other decoder is attack surface with no use for a QR
code (TIFF's many codecs and tags, WEBP's libwebp, EPS's Ghostscript), so no
other format reaches Pillow. A caller holding another format decodes it and
passes the PIL image.
"""

MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024
"""Largest image file or byte string a reader takes (a 24 MP PNG photo is ~50 MB)."""

MAX_PNG_CHUNKS = 65_536
"""Most chunks a PNG may hold (libpng writes 8 KiB IDAT chunks: 512 MiB of data)."""

MAX_JPEG_SEGMENTS = 256
"""Most marker segments a JPEG may hold before its frame header (a camera writes about 15)."""

MAX_JPEG_SCANS = 100
"""Most scans (SOS markers) a JPEG file may hold: a progressive image has ~10, each a pass over its blocks."""

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})  # what a QR code's pixels need
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type → samples per pixel
_DEFLATE_MAX_RATIO = 1032  # deflate's ceiling: 258 bytes from one 1-bit length and one 1-bit distance code
_JPEG_PIXELS_PER_BYTE = 8 * 32 * 32  # ≥ 1 bit per MCU in a Huffman DC scan; an MCU is ≤ 32 × 32 pixels
_JPEG_FRAMES = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive"}
_JPEG_OTHER_FRAMES = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0–7: no length field
_FILL = re.compile(rb"\xff+")


class Declared(NamedTuple):
    """An image file's format (a name in :data:`IMAGE_FORMATS`) and the size its header declares."""

    format: str
    width: int
    height: int
    data: bytes
    """The bytes a decoder is given: a PNG keeps only the chunks a QR code needs (see :func:`sniff`)."""


def check_size(width: int, height: int) -> None:
    """Raise :class:`BadImage` unless ``width`` × ``height`` is inside the reader's bounds."""
    if width < 1 or height < 1:
        raise BadImage(f"image of {width} × {height} pixels has no pixels")
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        raise BadImage(
            f"image of {width} × {height} pixels is outside the bounds (at most {MAX_IMAGE_PIXELS} "
            f"pixels, {MAX_IMAGE_SIDE} a side): scale it down"
        )
    if max(width, height) > MAX_IMAGE_ASPECT * min(width, height):
        raise BadImage(
            f"image of {width} × {height} pixels is outside the bounds (sides at most "
            f"{MAX_IMAGE_ASPECT}:1): crop it to the code"
        )


def sniff(data: bytes) -> Declared:
    """The format and declared size of PNG or JPEG ``data``; :class:`BadImage` for anything else.

    Also refuses a PNG with more than :data:`MAX_PNG_CHUNKS` chunks, a JPEG
    with more than :data:`MAX_JPEG_SEGMENTS` segments before its frame header
    or :data:`MAX_JPEG_SCANS` scans, a JPEG coded other than by Huffman
    (baseline, extended or progressive), and a file too short to hold the
    pixels it declares. The size bounds are :func:`check_size`'s.

    A PNG is handed on with its critical chunks and ``tRNS`` only (the
    chunks a QR code's pixels need, copied as they are): text, colour-profile,
    animation and private chunks never reach a decoder's parsers.
    """
    if data.startswith(_PNG_MAGIC):
        declared = _png(data)
    elif data.startswith(_JPEG_MAGIC):
        declared = _jpeg(data)
    elif not data:
        raise BadImage("the image is empty (0 bytes)")
    else:
        raise BadImage(f"not a PNG or JPEG image (starts {data[:8]!r}); a reader opens only those")
    check_size(declared.width, declared.height)
    return declared


def _png(data: bytes) -> Declared:
    if data[12:16] != b"IHDR" or len(data) < 33 or data[8:12] != b"\x00\x00\x00\x0d":
        raise BadImage("PNG does not start with its IHDR header")
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    if colour not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise BadImage(f"PNG declares colour type {colour} at bit depth {depth}, which PNG does not define")
    pos, chunks, idat = 8, 0, 0
    kept = [data[:8]]
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise BadImage(f"PNG holds more than {MAX_PNG_CHUNKS} chunks")
        if kind in _PNG_KEPT:
            kept.append(data[pos : pos + 12 + length])
        if kind == b"IDAT":
            idat += min(length, len(data) - pos - 8)
        elif kind == b"IEND":
            break
        pos += 12 + length
    # Why: below this many compressed bytes the pixels cannot all be there (deflate's ratio).
    row = (width * _PNG_CHANNELS[colour] * depth + 7) // 8
    if idat * _DEFLATE_MAX_RATIO < height * row:
        raise BadImage(f"PNG declares {width} × {height} pixels but holds only {idat} bytes of them")
    return Declared("PNG", width, height, b"".join(kept))


def _jpeg(data: bytes) -> Declared:
    pos, segments = 2, 0
    while True:
        filled = _FILL.match(data, pos)
        if filled is None or filled.end() >= len(data):
            raise BadImage("JPEG ends, or breaks its marker structure, before its frame header")
        pos = filled.end()
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > len(data) or marker in (0xD8, 0xD9, 0xDA):
            raise BadImage("JPEG ends, or breaks its marker structure, before its frame header")
        if marker in _JPEG_OTHER_FRAMES:
            raise BadImage(f"JPEG coding process {marker:#04x} is not read (baseline and progressive only)")
        if marker in _JPEG_FRAMES:
            return _jpeg_frame(data, pos)
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise BadImage(f"JPEG holds more than {MAX_JPEG_SEGMENTS} segments before its frame header")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2:  # the length counts its own two bytes
            raise BadImage(f"JPEG segment {marker:#04x} declares length {length}")
        pos += length


def _jpeg_frame(data: bytes, pos: int) -> Declared:
    if pos + 7 > len(data):
        raise BadImage("JPEG ends inside its frame header")
    height, width = struct.unpack_from(">HH", data, pos + 3)
    if height == 0:  # the height would come later, in a DNL segment, after the decoder has begun
        raise BadImage("JPEG does not declare its height in the frame header")
    scans = data.count(b"\xff\xda")  # counts an embedded thumbnail's too: an upper bound
    if scans > MAX_JPEG_SCANS:
        raise BadImage(f"JPEG holds {scans} scans; a reader decodes at most {MAX_JPEG_SCANS}")
    if width * height > _JPEG_PIXELS_PER_BYTE * len(data):
        raise BadImage(f"JPEG declares {width} × {height} pixels but holds only {len(data)} bytes")
    return Declared("JPEG", width, height, data)
