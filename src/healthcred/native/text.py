"""The text layers of every healthcred code: ``prefix || Base45(body)``, the body a COSE_Sign1 or its zlib.

:func:`read_text` is the one read path (QR text → prefix → Base45 → bounded zlib →
COSE_Sign1, ``docs/format.md`` §2–5) for health codes, place codes and anything
else signed that travels as text; :func:`encode_text` is its inverse for issuers.
Neither knows about trust: :func:`read_text` returns a message whose signature
is not yet checked. :func:`read_health_code` adds the claims step, still untrusted.
"""

from __future__ import annotations

from collections.abc import Mapping

from healthcred.codec import fast
from healthcred.codec.base45 import b45decode, b45encode
from healthcred.codec.compression import pack, unpack
from healthcred.codec.prefix import NATIVE_PREFIX, strip_prefix
from healthcred.crypto.cose import Sign1, parse_sign1
from healthcred.errors import BadInput, TooLarge
from healthcred.limits import MAX_TEXT_CHARS
from healthcred.model import HealthCode, Status
from healthcred.native.claims import from_payload

__all__ = ["encode_text", "read_health_code", "read_text"]


def read_text(text: str, prefix: str = NATIVE_PREFIX) -> Sign1:
    """The COSE_Sign1 inside ``prefix || Base45(body)``, parsed and shape-checked, its signature NOT checked.

    Raises ``bad_input`` (not text), ``too_large`` (longer than a QR code holds,
    or a body inflating past the bound), ``bad_prefix``, ``bad_base45``,
    ``bad_compression`` or ``malformed_cose``.
    """
    native = fast.native
    if native is not None and (read := native.read_native(text, prefix)) is not None:
        return Sign1(*read[:6])  # the C decoder took every step; None: the pure path below decides
    if not isinstance(text, str):
        raise BadInput(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge(f"code text is {len(text)} characters; a QR code holds at most {MAX_TEXT_CHARS}")
    return parse_sign1(unpack(b45decode(strip_prefix(text, prefix))))


def encode_text(message: bytes, prefix: str = NATIVE_PREFIX, *, level: int = 9) -> str:
    """The QR text of a signed ``message``: ``prefix``, then the Base45 body (zlib at ``level`` if shorter).

    ``level=0`` keeps the message bare whatever its size.
    """
    return prefix + b45encode(pack(message, level))


def read_health_code(text: str, palette: Mapping[int, Status] | None = None) -> HealthCode:
    """The credential in a native code's text, decoded and shape-checked WITHOUT any signature or trust check.

    For issuers reading back what they signed (batch journals) and for displays
    that label it unverified; never a substitute for :func:`healthcred.verify`.
    """
    return from_payload(read_text(text).payload, palette)
