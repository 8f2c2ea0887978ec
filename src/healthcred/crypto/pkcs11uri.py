"""PKCS#11 URIs (RFC 7512): which token and which key, and where its PIN comes from.

``pkcs11:token=zhejiang;object=issuer-2026?pin-source=file:pin.txt`` names the private key
labelled ``issuer-2026`` on the token labelled ``zhejiang``. The path holds the attributes that
select the token and the object (``;``-separated), the query (after ``?``, ``&``-separated) the
PIN and the module. Values are percent-decoded; ``id`` is binary, every other value UTF-8 text.

Parsing is strict: every attribute RFC 7512 defines is read (so any URI the RFC shows parses), an
attribute it does not define — vendor attributes included, which healthcred cannot honour — is
refused, as is one given twice, a path attribute in the query or the reverse, a character the RFC
says must be percent-encoded, and both ``pin-source`` and ``pin-value``. Errors are
:class:`~healthcred.errors.BadInput` and never repeat a PIN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from healthcred.errors import BadInput

__all__ = ["MAX_URI_CHARS", "OBJECT_TYPES", "PATH_ATTRIBUTES", "QUERY_ATTRIBUTES", "Pkcs11Uri", "parse_uri"]

SCHEME = "pkcs11:"
"""The URI scheme, with its colon (case-insensitive, as every URI scheme)."""

MAX_URI_CHARS = 4096
"""Longest URI read: a real one is well under 200 characters."""

PATH_ATTRIBUTES = (
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "type",
    "id",
    "slot-description",
    "slot-manufacturer",
    "slot-id",
)
"""The path attributes RFC 7512 §2.3 defines."""

QUERY_ATTRIBUTES = ("pin-source", "pin-value", "module-name", "module-path")
"""The query attributes RFC 7512 §2.3 defines."""

OBJECT_TYPES = ("public", "private", "cert", "secret-key", "data")
"""The values of ``type`` (RFC 7512 §2.3)."""

# RFC 7512 §2.3: pk11-pchar / pk11-qchar = unreserved / pct-encoded / the reserved characters each
# part allows unescaped ('&' in the path; '/', '?' and '|' in the query).
_UNRESERVED = r"A-Za-z0-9._~\-"
_RES_AVAIL = r":\[\]@!$'()*+,="
_PATH_VALUE = re.compile(rf"(?:[{_UNRESERVED}{_RES_AVAIL}&]|%[0-9A-Fa-f]{{2}})*")
_QUERY_VALUE = re.compile(rf"(?:[{_UNRESERVED}{_RES_AVAIL}/?|]|%[0-9A-Fa-f]{{2}})*")
_VERSION = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,5})?")
_SECRET = frozenset({"pin-value"})  # never echoed in a message


@dataclass(frozen=True, slots=True)
class Pkcs11Uri:
    """A parsed PKCS#11 URI: each attribute decoded, ``None`` where the URI leaves it out."""

    token: str | None = None
    manufacturer: str | None = None
    serial: str | None = None
    model: str | None = None
    library_manufacturer: str | None = None
    library_description: str | None = None
    library_version: str | None = None
    object: str | None = None
    type: str | None = None
    id: bytes | None = None
    slot_description: str | None = None
    slot_manufacturer: str | None = None
    slot_id: int | None = None
    pin_source: str | None = None
    pin_value: str | None = field(default=None, repr=False)
    module_name: str | None = None
    module_path: str | None = None

    def describe(self) -> str:
        """The key as people name it: ``token 'zhejiang', object 'issuer-2026'`` (never the PIN)."""
        parts = [f"token {self.token!r}"] if self.token is not None else []
        if self.object is not None:
            parts.append(f"object {self.object!r}")
        if self.id is not None:
            parts.append(f"id {self.id.hex()}")
        return ", ".join(parts) or "the URI's key"


def parse_uri(text: str) -> Pkcs11Uri:
    """Parse a PKCS#11 URI (RFC 7512); raise :class:`BadInput` saying what is wrong and where."""
    if len(text) > MAX_URI_CHARS:
        raise BadInput(f"PKCS#11 URI is {len(text)} characters long; at most {MAX_URI_CHARS}")
    if not text[: len(SCHEME)].lower() == SCHEME:
        raise BadInput("a PKCS#11 URI starts with 'pkcs11:'")
    path, _, query = text[len(SCHEME) :].partition("?")
    values: dict[str, str | bytes | int] = {}
    _read_part(path, ";", PATH_ATTRIBUTES, QUERY_ATTRIBUTES, _PATH_VALUE, "path", values)
    _read_part(query, "&", QUERY_ATTRIBUTES, PATH_ATTRIBUTES, _QUERY_VALUE, "query", values)
    if "pin-source" in values and "pin-value" in values:
        raise BadInput("PKCS#11 URI: give pin-source or pin-value, not both")
    return Pkcs11Uri(**{name.replace("-", "_"): value for name, value in values.items()})  # type: ignore[arg-type]


def _read_part(
    part: str,
    separator: str,
    known: tuple[str, ...],
    other: tuple[str, ...],
    allowed: re.Pattern[str],
    where: str,
    values: dict[str, str | bytes | int],
) -> None:
    for item in part.split(separator) if part else ():
        if not item:  # 'a=1;;b=2' or a trailing separator: nothing there, nothing to refuse
            continue
        name, equals, raw = item.partition("=")
        name = name.lower()
        if not equals:
            raise BadInput(f"PKCS#11 URI: {item[:40]!r} in the {where} is not NAME=VALUE")
        if name not in known:
            raise BadInput(_unknown(name, other, where))
        if name in values:
            raise BadInput(f"PKCS#11 URI: attribute {name!r} is given twice")
        if not allowed.fullmatch(raw):
            shown = "its value" if name in _SECRET else repr(raw[:40])
            raise BadInput(
                f"PKCS#11 URI: {name}: {shown} holds a character that must be percent-encoded"
                " (a space is %20, '%' is %25, ';' is %3B, '?' is %3F)"
            )
        values[name] = _value(name, _unquote(raw))


def _unknown(name: str, other: tuple[str, ...], where: str) -> str:
    if name in other:
        moved = "after '?'" if where == "path" else "before '?'"
        return f"PKCS#11 URI: {name!r} belongs in the {'query' if where == 'path' else 'path'} ({moved})"
    known = PATH_ATTRIBUTES if where == "path" else QUERY_ATTRIBUTES
    return f"PKCS#11 URI: unknown attribute {name!r} in the {where} (known: {', '.join(known)})"


def _unquote(raw: str) -> bytes:
    # The value was checked against the RFC's characters, so every '%' starts two hex digits.
    out = bytearray()
    index = 0
    while index < len(raw):
        if raw[index] == "%":
            out.append(int(raw[index + 1 : index + 3], 16))
            index += 3
        else:
            out.append(ord(raw[index]))
            index += 1
    return bytes(out)


def _value(name: str, data: bytes) -> str | bytes | int:
    if name == "id":
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        shown = "its value" if name in _SECRET else "the value"
        raise BadInput(f"PKCS#11 URI: {name}: {shown} is not UTF-8 text once decoded") from None
    if name == "type" and text not in OBJECT_TYPES:
        raise BadInput(f"PKCS#11 URI: type {text!r} is not one of {', '.join(OBJECT_TYPES)}")
    if name == "slot-id":
        if not text.isascii() or not text.isdigit() or len(text) > 20:
            raise BadInput(f"PKCS#11 URI: slot-id {text[:40]!r} is not a decimal number")
        return int(text)
    if name == "library-version" and not _VERSION.fullmatch(text):
        raise BadInput(f"PKCS#11 URI: library-version {text[:40]!r} is not MAJOR or MAJOR.MINOR")
    return text
