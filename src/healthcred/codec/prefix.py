"""The text prefixes that tell one kind of health code from another."""

from __future__ import annotations

from healthcred.errors import BadPrefix

__all__ = ["FOREIGN_PREFIXES", "HC1_PREFIX", "NATIVE_PREFIX", "PLACE_PREFIX", "SHC_PREFIX", "strip_prefix"]

NATIVE_PREFIX = "JKM1:"
"""healthcred's prefix: "JKM" for jiankangma (health code), "1" for the format version.

Every character is in the QR alphanumeric set, and it shares no prefix with
``HC1:`` (EU DCC) or ``shc:/`` (SMART Health Cards).
"""

PLACE_PREFIX = "JKP1:"
"""A venue's place code (collection point): "JKP" for jiankang place, "1" for its format version.

It differs from ``JKM1:`` in the third character, so neither is a prefix of the other (nor of
``HC1:`` or ``shc:/``), and a reader dispatches on the first five characters.
"""

HC1_PREFIX = "HC1:"
"""Prefix of an EU Digital COVID Certificate in its QR code (HCERT specification)."""

SHC_PREFIX = "shc:/"
"""Prefix of a SMART Health Card (or of each chunk of a multi-part one) in its QR code."""

_OWN_PREFIXES = {NATIVE_PREFIX: "a healthcred health code", PLACE_PREFIX: "a healthcred place code"}

FOREIGN_PREFIXES = {HC1_PREFIX: "an EU Digital COVID Certificate", SHC_PREFIX: "a SMART Health Card"}
"""Prefixes of other formats, named in error messages so a user learns what they scanned."""


def strip_prefix(text: str, prefix: str = NATIVE_PREFIX) -> str:
    """Return ``text`` without ``prefix``; raise :class:`BadPrefix` if it does not start with it."""
    if text.startswith(prefix):
        return text[len(prefix) :]
    for other, name in (*_OWN_PREFIXES.items(), *FOREIGN_PREFIXES.items()):
        if text.startswith(other):
            raise BadPrefix(f"this is {name} ({other}), not a healthcred code ({prefix})")
    if text[:3] == "JKM" and text[3:4].isdigit():
        raise BadPrefix(f"unsupported healthcred format version {text[: text.find(':') + 1]!r}")
    shown = text[:8] + ("…" if len(text) > 8 else "")
    raise BadPrefix(f"text does not start with {prefix!r} (starts {shown!r})")
