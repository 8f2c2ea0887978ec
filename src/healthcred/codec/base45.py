"""Base45 (RFC 9285), strict and fast.

Decoding is on the verifier's hot path, so it avoids a Python loop per group:
the characters are mapped to digit values with ``bytes.translate``, the three
digit planes are sliced out, placed in 32-bit slots and combined as big
integers, which CPython does in C. Only canonical input is accepted: a group
whose value exceeds 65535 (or 255 for a final pair) is an error, so every byte
string has exactly one encoding.
"""

from __future__ import annotations

import functools
import sys
from array import array

from healthcred.codec import fast
from healthcred.errors import BadBase45

__all__ = ["ALPHABET", "b45decode", "b45encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
"""The 45 characters of RFC 9285, in digit order."""

_INVALID = 0xFF
_DIGIT = bytearray([_INVALID]) * 256
for _value, _char in enumerate(ALPHABET):
    _DIGIT[ord(_char)] = _value
_DIGITS = bytes(_DIGIT)


def b45decode(text: str | bytes) -> bytes:
    """Decode Base45 ``text``; raise :class:`BadBase45` for anything non-canonical."""
    native = fast.native
    if native is not None:
        decoded: bytes | None = native.b45decode(text, "")
        if decoded is not None:
            return decoded  # None: the C decoder declined, and the code below says why
    if isinstance(text, str):
        if not text.isascii():
            raise BadBase45("Base45 text holds a non-ASCII character")
        raw = text.encode("ascii")
    elif isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
    else:
        raise BadBase45(f"Base45 input must be str or bytes, not {type(text).__name__}")
    n = len(raw)
    groups, rest = divmod(n, 3)
    if rest == 1:
        raise BadBase45(f"Base45 length {n} leaves a single character over (length mod 3 is 1)")
    values = raw.translate(_DIGITS)
    if _INVALID in values:
        bad = chr(raw[values.index(_INVALID)])
        raise BadBase45(f"character {bad!r} is not in the Base45 alphabet")
    out = b""
    if groups:
        # Each group's value (< 2**17) gets a 32-bit slot, so no carry crosses slots and an
        # overflow past 16 bits shows as a non-zero second byte in its slot.
        slots = bytearray(4 * groups)
        size = 3 * groups
        slots[3::4] = values[0:size:3]
        total = int.from_bytes(slots, "big")
        slots[3::4] = values[1:size:3]
        total += 45 * int.from_bytes(slots, "big")
        slots[3::4] = values[2:size:3]
        total += 2025 * int.from_bytes(slots, "big")
        wide = total.to_bytes(4 * groups, "big")
        if wide[1::4].count(0) != groups:
            raise BadBase45(f"Base45 group {_first_nonzero(wide[1::4])} encodes a value above 65535")
        narrow = bytearray(2 * groups)
        narrow[0::2] = wide[2::4]
        narrow[1::2] = wide[3::4]
        out = bytes(narrow)
    if rest:
        last = values[-2] + 45 * values[-1]
        if last > 0xFF:
            raise BadBase45(f"final Base45 pair {text[-2:]!r} encodes {last}, more than one byte")
        out += bytes((last,))
    return out


def _first_nonzero(data: bytes) -> int:
    return len(data) - len(data.lstrip(b"\0"))


@functools.cache
def _pair_table() -> tuple[str, ...]:
    # Every 16-bit value's three characters, built on first use (~65k short strings).
    a = ALPHABET
    return tuple(a[v % 45] + a[(v // 45) % 45] + a[v // 2025] for v in range(0x10000))


def b45encode(data: bytes) -> str:
    """Encode ``data`` as Base45 text (RFC 9285)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BadBase45(f"Base45 encodes bytes, not {type(data).__name__}")
    data = bytes(data)
    even = len(data) & ~1
    pairs = array("H", data[:even])
    if sys.byteorder == "little":
        pairs.byteswap()
    out = "".join(map(_pair_table().__getitem__, pairs))
    if even != len(data):
        v = data[-1]
        out += ALPHABET[v % 45] + ALPHABET[v // 45]
    return out
