"""The text prefixes that tell one kind of health code from another."""

from __future__ import annotations

from healthcred.errors import BadPrefix

__all__ = [
    "FOREIGN_PREFIXES",
    "HC1_PREFIX",
    "KNOWN_PREFIXES",
    "NATIVE_PREFIX",
    "PLACE_PREFIX",
    "SHC_PREFIX",
    "strip_prefix",
]

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

KNOWN_PREFIXES = {**_OWN_PREFIXES, **FOREIGN_PREFIXES}
"""Every prefix this library reads, each with what it marks."""

_SHOWN = 8  # characters of a text a prefix error quotes: enough to recognise, too few to carry data
_BEFORE = " \t\r\n\ufeff\u00a0"  # what a copy-and-paste or a file puts before a code
_VERSIONED = {NATIVE_PREFIX[:3]: "healthcred", PLACE_PREFIX[:3]: "healthcred place-code"}


def strip_prefix(text: str, prefix: str = NATIVE_PREFIX) -> str:
    """Return ``text`` without ``prefix``; raise :class:`BadPrefix` if it does not start with it.

    The message names the prefix expected, quotes the first few characters seen
    (``repr``, so invisible ones show), lists every known prefix, and says what
    is wrong when the text nearly has one: another format's prefix, another
    format version, the wrong case, a missing ``:`` or ``/``, or whitespace or a
    byte-order mark before it.
    """
    if text.startswith(prefix):
        return text[len(prefix) :]
    raise BadPrefix(f"{_diagnosis(text, prefix)}: expected {prefix!r} ({_name(prefix)}), {_seen(text)}")


def _name(prefix: str) -> str:
    return KNOWN_PREFIXES.get(prefix, "this kind of code")


def _seen(text: str) -> str:
    shown = text[:_SHOWN] + ("…" if len(text) > _SHOWN else "")
    known = ", ".join(repr(p) for p in KNOWN_PREFIXES)
    return f"seen {shown!r} (known prefixes: {known})"


def _diagnosis(text: str, prefix: str) -> str:
    """What is wrong with the start of ``text``, in the reader's terms."""
    for other, name in KNOWN_PREFIXES.items():
        if text.startswith(other):
            return f"this is {name} ({other!r}), not {_name(prefix)}"
    head, version = text[:3], text[3:4]
    if head in _VERSIONED and version.isdigit() and text[4:5] == ":":
        return f"unsupported {_VERSIONED[head]} format version {text[:5]!r}"
    trimmed = text.lstrip(_BEFORE)
    if trimmed != text and trimmed.startswith(tuple(KNOWN_PREFIXES)):
        extra = len(text) - len(trimmed)
        return f"{extra} blank or byte-order-mark character{'s' if extra > 1 else ''} before the prefix"
    for other, name in KNOWN_PREFIXES.items():
        if found := _near_miss(text, other, name):
            return found
    return "the text does not start with a known prefix"


def _near_miss(text: str, prefix: str, name: str) -> str:
    """A description of ``text`` nearly starting with ``prefix``, or ``""``."""
    if text[: len(prefix)].casefold() == prefix.casefold():
        return f"the prefix of {name} is {prefix!r} in this case exactly"
    same = 0
    while same < len(prefix) and text[same : same + 1].casefold() == prefix[same].casefold():
        same += 1
    if same >= len(prefix.rstrip(":/")):  # all of "shc", "HC1", "JKM1", then a separator is wrong
        return f"the text looks like {name} but lacks {prefix[same]!r} after {text[:same]!r}"
    return ""
