"""JOSE text forms (RFC 7515, RFC 7517): strict base64url, strict JSON and bounded raw DEFLATE.

Pure functions shared by SMART Health Card decoding (:mod:`healthcred.foreign.shc.cards`) and SHC
issuer keys (:mod:`healthcred.foreign.shc.issuers`). Each decoder takes the error class to raise, so
a damaged JWS reads ``malformed_jws`` and a damaged issuer document ``trust_list_malformed``.

Strict means one text per value: base64url without padding or stray characters and with zero
trailing bits; JSON as UTF-8 without duplicate member names, NaN or infinite numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from healthcred.codec.compression import decompress
from healthcred.errors import HealthCredError

__all__ = ["b64url_decode", "b64url_encode", "inflate_raw", "loads_json"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
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
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"duplicate member {duplicate!r}")
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_json(data: bytes | str, error: type[HealthCredError], what: str) -> Any:
    """Parse one JSON text strictly (UTF-8, no duplicate members, no NaN/Infinity); else raise ``error``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=_finite, parse_constant=_no_constant
        )
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise error(f"{what} is not strict JSON: {exc}") from exc


def inflate_raw(data: bytes, limit: int) -> bytes:
    """Inflate one raw DEFLATE stream (RFC 1951, JWS ``"zip": "DEF"``) to at most ``limit`` bytes.

    Never produces more than ``limit + 1`` bytes whatever the input claims. Raises
    :class:`TooLarge` past the limit and :class:`BadCompression` for a corrupt,
    truncated or trailing-data stream.
    """
    return decompress(data, limit, raw=True)
