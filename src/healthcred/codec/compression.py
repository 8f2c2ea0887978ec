"""The body under the Base45: a zlib stream (RFC 1950), or the bare message when zlib gains nothing.

A native code's COSE message is mostly random bytes (signature, id, kid), and on
this project's measurements zlib makes it about 5 bytes *longer*. So the issuer
keeps whichever is shorter, and the verifier tells them apart by the first
byte: ``0xD2`` (CBOR tag 18, COSE_Sign1) is a bare message; a zlib header byte
starts one complete zlib stream; anything else is not a code. Inflating is
bounded: never more than ``limit + 1`` bytes, whatever the input claims.
"""

from __future__ import annotations

import zlib

from healthcred.errors import BadCompression, MalformedCOSE, TooLarge
from healthcred.limits import MAX_COSE_BYTES

__all__ = ["BARE_MARKER", "ZLIB_MIN_BYTES", "compress", "decompress", "pack", "unpack"]

BARE_MARKER = 0xD2
"""First byte of a bare (uncompressed) body: the CBOR head of tag 18."""

ZLIB_MIN_BYTES = 256
"""Shortest message an issuer tries to compress."""

_FDICT = 0x20  # FLG bit of a zlib header: a preset dictionary follows (RFC 1950 §2.2)


def compress(data: bytes, level: int = 9) -> bytes:
    """One zlib stream of ``data``, with a window just large enough for it.

    ``zlib.compress`` sets up a 32 KiB window and a large hash table on every
    call, which costs ~60 µs for a 180-byte code on this project's machines; a
    window sized to the input (512 bytes at least) and the smallest hash table
    cost ~8 µs. The stream is ordinary zlib: any inflater reads it.
    """
    window_bits = max(9, min(15, (len(data) - 1).bit_length()))
    deflater = zlib.compressobj(level, zlib.DEFLATED, window_bits, 1)
    return deflater.compress(data) + deflater.flush()


def decompress(data: bytes, limit: int = MAX_COSE_BYTES, *, raw: bool = False) -> bytes:
    """Inflate one zlib stream (``raw``: one raw DEFLATE stream, RFC 1951) to at most ``limit`` bytes.

    Never produces more than ``limit + 1`` bytes whatever the input claims. Raises
    :class:`TooLarge` past the limit and :class:`BadCompression` for a corrupt,
    truncated or trailing-data stream.
    """
    kind = "DEFLATE" if raw else "zlib"
    if not raw and len(data) >= 2 and data[1] & _FDICT:
        raise BadCompression("the zlib stream needs a preset dictionary, which no code carries")
    inflater = zlib.decompressobj(-15 if raw else 15)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadCompression(f"not a valid {kind} stream: {exc}") from exc
    if len(out) > limit:
        raise TooLarge(f"decompressed body exceeds {limit} bytes")
    if not inflater.eof:
        raise BadCompression(f"{kind} stream is truncated")
    if inflater.unused_data:
        raise BadCompression(f"{len(inflater.unused_data)} bytes follow the {kind} stream")
    return out


def pack(message: bytes, level: int = 9) -> bytes:
    """The body for ``message`` (a COSE_Sign1): its zlib stream if strictly shorter, else itself.

    zlib is tried only from :data:`ZLIB_MIN_BYTES` up: below that a message is
    mostly signature, kid and id, which do not compress, and it never came out
    shorter in our measurements. ``level=0`` never compresses.
    """
    if level and len(message) >= ZLIB_MIN_BYTES:
        packed = compress(message, level)
        if len(packed) < len(message):
            return packed
    return message


def unpack(body: bytes, limit: int = MAX_COSE_BYTES) -> bytes:
    """The COSE_Sign1 bytes in ``body``: a bare message as it is, a zlib stream inflated (bounded).

    A body that starts as neither (tag 18, or a zlib header byte) is :class:`MalformedCOSE`.
    """
    first = body[0] if body else -1
    if first == BARE_MARKER:
        if len(body) > limit:
            raise TooLarge(f"message exceeds {limit} bytes")
        return body
    if first & 0x0F == 8 and first >> 4 <= 7:  # zlib CMF: method 8 (deflate), window ≤ 32 KiB
        return decompress(body, limit)
    raise MalformedCOSE("body is neither a tagged COSE_Sign1 (0xD2…) nor a zlib stream")
