"""JOSE text forms (RFC 7515, RFC 7517): strict base64url, strict JSON and bounded raw DEFLATE.

Pure functions shared by SMART Health Card decoding (:mod:`healthcred.foreign.shc.cards`) and SHC
issuer keys (:mod:`healthcred.foreign.shc.issuers`). Each decoder takes the error class to raise, so
a damaged JWS reads ``malformed_jws`` and a damaged issuer document ``trust_list_malformed``.

Strict means one text per value: base64url without padding or stray characters and with zero
trailing bits; JSON as UTF-8 without duplicate member names, NaN or infinite numbers, and
without a ``\\u`` escape of a lone surrogate (I-JSON, RFC 7493 §2.1: every string is Unicode
text, so it can be hashed, written and printed as UTF-8).

JSON is bounded before it is parsed, in one linear pass over the text: nesting at most
:data:`MAX_JSON_DEPTH` arrays and objects deep, at most :data:`MAX_JSON_ITEMS` members and
elements, no string longer than :data:`MAX_JSON_STRING_CHARS` characters as written. The
duplicate-member check is a dict per object, so parsing costs time linear in the text.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from itertools import accumulate
from typing import Any

from healthcred.codec.compression import decompress
from healthcred.errors import HealthCredError

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_JSON_ITEMS",
    "MAX_JSON_STRING_CHARS",
    "b64url_decode",
    "b64url_encode",
    "inflate_raw",
    "loads_json",
]

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects in any JSON text read here (a FHIR bundle nests ~10 deep)."""
MAX_JSON_ITEMS = 2**18
"""Most members plus elements in one JSON text (a 1 MiB issuer document of one-character rids holds fewer)."""
MAX_JSON_STRING_CHARS = 64 * 1024
"""Longest JSON string, as written: the longest string any document holds is a JWS in a file (64 KiB)."""

# One JSON string as written, escapes included. Splitting on it retries at every quote, which is
# quadratic when a string never ends ('"' + '\\"' * n): _TOKENS, possessive so that it never
# backtracks, first checks in one pass that the text is runs outside strings and whole strings.
_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")', re.DOTALL)
_TOKENS = re.compile(r'(?:[^"]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")*+', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}
_WHITESPACE = frozenset(" \t\n\r")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# A \u escape of a surrogate (U+D800–U+DFFF): the only way JSON text read as UTF-8 can hold one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)
_TO_STANDARD = str.maketrans("-_", "+/")


def b64url_encode(data: bytes) -> str:
    """base64url of ``data`` without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, error: type[HealthCredError], what: str) -> bytes:
    """Decode unpadded base64url; anything but the one canonical text of some bytes raises ``error``."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise error(f"{what} is not unpadded base64url")
    padded = text.translate(_TO_STANDARD) + "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the pattern admits only valid text
        raise error(f"{what} is not base64url: {exc}") from exc
    # Non-zero bits after the last byte would let two texts carry one value: re-encode to refuse them.
    if b64url_encode(data) != text:
        raise error(f"{what} is not canonical base64url (non-zero trailing bits)")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # only then look for the name: one set, linear in the members
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"duplicate member {name[:40]!r}")
            seen.add(name)
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _bounded(text: str, minified: bool) -> str | None:
    # What is wrong with the text's size or shape, in one linear pass; None if it is within bounds.
    if _TOKENS.fullmatch(text) is None:
        return "a string is not terminated"
    parts = _STRING.split(text)  # outside, string, outside, …, outside
    strings, outside = parts[1::2], "".join(parts[0::2])
    if strings and max(map(len, strings)) > MAX_JSON_STRING_CHARS + 2:
        return f"a string is longer than {MAX_JSON_STRING_CHARS} characters"
    opened = outside.count("[") + outside.count("{")
    if outside.count(",") + opened > MAX_JSON_ITEMS:
        return f"it holds more than {MAX_JSON_ITEMS} members and elements"
    if opened > MAX_JSON_DEPTH:  # fewer brackets cannot nest deeper: skip the scan
        brackets = _NOT_BRACKET.sub("", outside)
        if max(accumulate(map(_NESTING.__getitem__, brackets))) > MAX_JSON_DEPTH:
            return f"it nests more than {MAX_JSON_DEPTH} levels deep"
    if minified and not _WHITESPACE.isdisjoint(outside):
        return "it is not minified (whitespace outside strings)"
    return None


def loads_json(data: bytes | str, error: type[HealthCredError], what: str, *, minified: bool = False) -> Any:
    """Parse one JSON text strictly (UTF-8, no duplicate members, no NaN/Infinity); else raise ``error``.

    The bounds (:data:`MAX_JSON_DEPTH`, :data:`MAX_JSON_ITEMS`, :data:`MAX_JSON_STRING_CHARS`)
    are checked before parsing; ``minified`` also refuses whitespace outside strings.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8: {exc}") from exc
    if not isinstance(text, str):
        raise error(f"{what} is not JSON text")
    fault = _bounded(text, minified)
    if fault is not None:
        raise error(f"{what} is refused: {fault}")
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=_finite, parse_constant=_no_constant
        )
    except ValueError as exc:  # JSONDecodeError, and the hooks' refusals
        raise error(f"{what} is not strict JSON: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text) and not _is_unicode(value):  # rare: only then walk the value
        raise error(f"{what} is not strict JSON: a string holds a lone surrogate (\\uD800–\\uDFFF)")
    return value


def _is_unicode(value: Any) -> bool:
    # Every string of a parsed value (names too) encodes as UTF-8: no lone surrogate in it. One
    # json.dumps pass in C, linear in the value; ensure_ascii=False keeps surrogates as they are.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def inflate_raw(data: bytes, limit: int) -> bytes:
    """Inflate one raw DEFLATE stream (RFC 1951, JWS ``"zip": "DEF"``) to at most ``limit`` bytes.

    Never produces more than ``limit + 1`` bytes whatever the input claims. Raises
    :class:`TooLarge` past the limit and :class:`BadCompression` for a corrupt,
    truncated or trailing-data stream.
    """
    return decompress(data, limit, raw=True)
