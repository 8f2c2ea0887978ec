"""Deterministic CBOR (RFC 8949 §4.2.1) on top of cbor2, strict on decode.

cbor2 alone accepts trailing bytes, silently merges duplicate map keys and
turns some tags into Python objects. Rather than re-parse in Python (slow on
the hot path), :func:`loads` decodes with cbor2 and re-encodes the result in
decoded order: the item is accepted only if that gives back exactly the input
bytes. That one comparison rejects trailing bytes, duplicate keys, indefinite
lengths, non-shortest integers and lengths, floats and most tags. The walk
that follows bounds depth and item count, admits only the plain types and
checks that map keys are in deterministic order. The input's length is
bounded before cbor2 sees it, so the decode, the re-encode and the walk all
cost at most linear time in a known number of bytes.

Each container owns its bounds (bytes, items, depth): a code payload takes
the defaults in :mod:`healthcred.limits`; trust lists, revocation lists,
rule sets and bundles pass the bounds their own modules derive from their
documented entry limits.

Callers on the hot path may pass ``walk=False`` when they check every key,
type and key order themselves (see :mod:`healthcred.native.claims`).
"""

from __future__ import annotations

from typing import Any

import cbor2

from healthcred.codec import fast
from healthcred.errors import MalformedCBOR, TooLarge
from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES

__all__ = ["Reader", "dumps", "dumps_ordered", "key_order", "loads"]

_SCALARS = (int, str, bytes, bool, type(None))
_INT_MIN, _INT_MAX = -(2**64), 2**64 - 1  # what major types 0 and 1 hold; beyond needs a bignum tag


def dumps(value: Any) -> bytes:
    """Encode ``value`` as deterministic CBOR (shortest forms, map keys sorted bytewise)."""
    return cbor2.dumps(value, canonical=True)


def dumps_ordered(value: Any) -> bytes:
    """Encode ``value`` keeping its maps' insertion order: deterministic iff that order already is.

    About twice as fast as :func:`dumps` (cbor2 sorts by encoding each key). For
    structures built in deterministic order by one function (the claims map);
    the verifier's key-order check and the tests hold that function to it.
    """
    return cbor2.dumps(value)


def key_order(key: int | str) -> tuple[int, int, bytes]:
    """Sort key giving the bytewise order of encoded map keys (RFC 8949 §4.2.1).

    Unsigned integers sort first by value, then negative integers by magnitude,
    then text strings by encoded length and then bytes.
    """
    if isinstance(key, int):
        return (0, key, b"") if key >= 0 else (1, -1 - key, b"")
    raw = key.encode("utf-8")
    return (2, len(raw), raw)


def loads(
    data: bytes,
    what: str = "CBOR item",
    *,
    walk: bool = True,
    max_depth: int = MAX_CBOR_DEPTH,
    max_items: int = MAX_CBOR_ITEMS,
    max_bytes: int = MAX_COSE_BYTES,
) -> Any:
    """Decode one deterministic CBOR item of ints, text, bytes, bools, null, arrays and maps.

    ``what`` names the item in error messages; ``max_bytes`` bounds the input (checked
    before decoding: :class:`TooLarge`), ``max_depth`` and ``max_items`` the structure
    (rule sets nest deeper than codes, trust lists hold more items). Raises :class:`MalformedCBOR`.
    """
    native = fast.native
    # The C decoder holds the default bounds: what it accepts, any looser bounds accept too.
    # It returns None (also for a CBOR null) where the code below must decide.
    if (
        native is not None
        and max_depth >= MAX_CBOR_DEPTH
        and max_items >= MAX_CBOR_ITEMS
        and len(data) <= max_bytes
        and (value := native.loads(data)) is not None
    ):
        return value
    if len(data) > max_bytes:
        raise TooLarge(f"{what} is larger than {max_bytes} bytes")
    try:
        value = cbor2.loads(data)
        again = cbor2.dumps(value)
    except (cbor2.CBORError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise MalformedCBOR(f"{what} is not well-formed CBOR: {exc}") from exc
    if again != data:
        raise MalformedCBOR(
            f"{what} is not deterministic CBOR (trailing bytes, duplicate keys, "
            "indefinite or non-shortest lengths, floats or tags)"
        )
    if walk:
        _check_structure(value, what, max_depth, max_items)
    return value


def _check_structure(value: Any, what: str, max_depth: int, max_items: int) -> None:
    # Iterative, so hostile nesting cannot exhaust the Python stack.
    items = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _SCALARS):
            if type(node) is int and not _INT_MIN <= node <= _INT_MAX:
                raise MalformedCBOR(f"{what} holds a bignum (tag 2 or 3), which the format does not use")
            continue
        if depth >= max_depth:
            raise MalformedCBOR(f"{what} nests deeper than {max_depth} levels")
        if isinstance(node, list):
            items += len(node)
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, dict):
            items += len(node)
            keys = list(node)
            if not all(isinstance(k, int | str) and not isinstance(k, bool) for k in keys):
                raise MalformedCBOR(f"{what} has a map key that is neither integer nor text")
            if keys != sorted(keys, key=key_order):
                raise MalformedCBOR(f"{what} has map keys out of deterministic order")
            stack.extend((child, depth + 1) for child in node.values())
        else:
            raise MalformedCBOR(f"{what} holds a {type(node).__name__}, which the format does not use")
        if items > max_items:
            raise MalformedCBOR(f"{what} holds more than {max_items} items")


class Reader:
    """A strict cursor over deterministic CBOR, for small fixed-shape structures on the hot path.

    Each method reads one item of the expected major type, in shortest form,
    definite length, and raises :class:`MalformedCBOR` otherwise; :meth:`end`
    rejects trailing bytes. Strict by construction, with no re-encoding.
    """

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def _fail(self, problem: str) -> MalformedCBOR:
        return MalformedCBOR(f"{self.what}: {problem} at byte {self.pos}")

    def head(self, major: int) -> int:
        """Read an item head of ``major`` type; return its argument (value or length)."""
        data, pos = self.data, self.pos
        if pos >= len(data):
            raise self._fail("unexpected end")
        initial = data[pos]
        if initial >> 5 != major:
            raise self._fail(f"expected major type {major}, found {initial >> 5}")
        info = initial & 0x1F
        if info < 24:
            self.pos = pos + 1
            return info
        if info > 27:
            raise self._fail("indefinite length or reserved additional information")
        size = 1 << (info - 24)
        end = pos + 1 + size
        if end > len(data):
            raise self._fail("unexpected end")
        value = int.from_bytes(data[pos + 1 : end], "big")
        if value < (24 if size == 1 else 1 << (4 * size)):
            raise self._fail("integer or length not in shortest form")
        self.pos = end
        return value

    def _span(self, major: int) -> bytes:
        length = self.head(major)
        start = self.pos
        end = start + length
        if end > len(self.data):
            raise self._fail("string runs past the end")
        self.pos = end
        return self.data[start:end]

    def bstr(self) -> bytes:
        """Read a byte string."""
        return self._span(2)

    def tstr(self) -> str:
        """Read a UTF-8 text string."""
        raw = self._span(3)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._fail("text string is not UTF-8") from exc

    def integer(self) -> int:
        """Read an integer of either sign."""
        if self.pos < len(self.data) and self.data[self.pos] >> 5 == 1:
            return -1 - self.head(1)
        return self.head(0)

    def array(self) -> int:
        """Read an array head; return its length."""
        return self.head(4)

    def map(self) -> int:
        """Read a map head; return its number of entries."""
        return self.head(5)

    def tag(self) -> int:
        """Read a tag head; return the tag number."""
        return self.head(6)

    def end(self) -> None:
        """Require that every byte was read."""
        if self.pos != len(self.data):
            raise self._fail(f"{len(self.data) - self.pos} trailing bytes")
