"""Document signer certificates (DSCs): X.509 trust entries for EU DCC (``HC1:``) codes.

kid = first 8 bytes of SHA-256 over the certificate DER. A DSC's extended key
usage may restrict it to test, vaccination or recovery certificates (HCERT
§5.1.1; both OID arcs seen in the wild). Lists come in the common JSON shape
``[{"kid": b64, "country": "DE", "rawData": b64 DER}, …]``, or as DER/PEM files.

A certificate is parsed once, and every part a verifier uses (key, names,
validity, extensions) is read inside one conversion: whatever ``cryptography``
raises for an unusual certificate there (a bad version, an unknown key type or
curve, malformed names or extensions) becomes :class:`BadCertificate`, so
nothing is parsed lazily later. Keys are those HCERT allows: EC P-256 (ES256)
or RSA of 2048–8192 bits (PS256).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from healthcred._deprecated import renamed
from healthcred.crypto.algorithms import Alg, Verifier, verifier_for
from healthcred.errors import BadCertificate
from healthcred.files import list_bounded, read_bounded

if TYPE_CHECKING:
    from cryptography import x509

DSC_KID_BYTES = 8
"""Length of a DSC's kid: the first bytes of SHA-256 over the certificate's DER (HCERT §3.3.1)."""

__all__ = [
    "DSC_KID_BYTES",
    "DSC_SUFFIXES",
    "EKU_OIDS",
    "MAX_DSC_FILES",
    "MAX_DSC_FILE_BYTES",
    "Dsc",
    "load_dsc",
    "load_dsc_list",
    "read_dsc",
]

DSC_SUFFIXES = (".der", ".pem", ".crt", ".cer", ".json")
"""File-name endings read as signing certificates (DER or PEM) or as JSON lists of them."""

MAX_DSC_FILE_BYTES = 16 * 1024 * 1024
"""Largest DSC file read: a certificate is ~1 KB, a JSON list of every EU DSC a few MB."""

MAX_DSC_FILES = 10_000
"""Most entries a folder of DSC files may hold (``load_dsc_list`` on a folder)."""

_RSA_BITS = (2048, 8192)  # HCERT's PS256 names 2048-bit keys; the upper bound keeps a verification cheap

# Extended key usage OIDs restricting a DSC (HCERT §5.1.1), in both arcs seen in the wild.
EKU_OIDS = {
    "t": ("1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"),
    "v": ("1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"),
    "r": ("1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"),
}


def _oid_der(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return bytes([0x06, len(body)]) + bytes(body)


@dataclass(frozen=True, slots=True)
class Dsc:
    """A document signer certificate used as a trust entry."""

    kid: bytes
    country: str | None
    not_before: datetime
    not_after: datetime
    usages: frozenset[str]
    """Certificate types it may sign (``t``, ``v``, ``r``); all three when it names none."""
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey = field(repr=False)
    der: bytes = field(repr=False)
    es256_verify: Verifier | None = field(init=False, repr=False, compare=False)
    """For an EC certificate, its key prepared for ES256 once (as a trust entry's is); else ``None``."""
    window: tuple[float, float] = field(init=False, repr=False, compare=False)
    """``not_before`` and ``not_after`` in epoch seconds, for the per-code check (made once)."""

    def __post_init__(self) -> None:
        key = self.public_key
        prepared = verifier_for(Alg.ES256, key) if isinstance(key, ec.EllipticCurvePublicKey) else None
        object.__setattr__(self, "es256_verify", prepared)
        object.__setattr__(self, "window", (self.not_before.timestamp(), self.not_after.timestamp()))

    def __reduce__(self) -> tuple[Any, ...]:
        # A loaded key does not pickle; its SubjectPublicKeyInfo does, loaded again on arrival.
        spki = self.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        fields = (self.kid, self.country, self.not_before, self.not_after, self.usages)
        return (_restore_dsc, (*fields, spki, self.der))


def _restore_dsc(
    kid: bytes,
    country: str | None,
    not_before: datetime,
    not_after: datetime,
    usages: frozenset[str],
    spki: bytes,
    der: bytes,
) -> Dsc:
    key = load_der_public_key(spki)
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)  # it was one when pickled
    return Dsc(kid, country, not_before, not_after, usages, key, der)


def read_dsc(der: bytes, *, country: str | None = None) -> Dsc:
    """A DSC from its DER bytes (or PEM); kid = SHA-256(DER)[:8].

    Some real DSCs carry extensions that are not strict DER, which
    ``cryptography`` refuses to parse; their key-usage OIDs are then read from
    the raw certificate bytes. The signature check never depends on extensions.
    Anything that is not a usable certificate raises :class:`BadCertificate`.
    """
    from cryptography import x509  # here: x509 is slow to import and a verifier may hold no DSC

    if not isinstance(der, bytes):
        raise BadCertificate(f"a certificate is bytes, not {type(der).__name__}")
    faults = (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension)
    try:
        if der.lstrip().startswith(b"-----BEGIN"):
            der = x509.load_pem_x509_certificate(der).public_bytes(Encoding.DER)
        _check_serial(der)  # before parsing: cryptography only warns about a non-positive serial
        return _dsc_of(x509.load_der_x509_certificate(der), der, country)
    except faults as exc:
        raise BadCertificate(f"not a usable X.509 certificate: {exc}") from exc


def _dsc_of(cert: x509.Certificate, der: bytes, country: str | None) -> Dsc:
    # Every lazily parsed part a verifier uses is read here, inside read_dsc's typed conversion.
    from cryptography import x509

    key = _dsc_key(cert.public_key())
    cert.issuer.rfc4514_string()  # parsed now, so a malformed issuer name fails here, not in a display
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
    if country is None:
        country = str(names[0].value) if names else None
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    return Dsc(
        hashlib.sha256(der).digest()[:DSC_KID_BYTES], country, not_before, not_after, _usages(cert), key, der
    )


def _dsc_key(key: object) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise BadCertificate(f"a DSC's EC key must be on P-256 (ES256), not {key.curve.name}")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        low, high = _RSA_BITS
        if not low <= key.key_size <= high:
            raise BadCertificate(f"a DSC's RSA key must have {low}–{high} bits, not {key.key_size}")
        return key
    raise BadCertificate(f"a DSC key must be EC P-256 or RSA, not {type(key).__name__}")


def _usages(cert: x509.Certificate) -> frozenset[str]:
    from cryptography import x509

    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        oids = {o.dotted_string for o in eku}
    except x509.ExtensionNotFound:
        oids = set()
    except ValueError:  # not strict DER (seen in real DSCs): read the OIDs from the raw bytes
        oids = {o for group in EKU_OIDS.values() for o in group if _oid_der(o) in cert.tbs_certificate_bytes}
    return frozenset(t for t, group in EKU_OIDS.items() if oids.intersection(group)) or frozenset(EKU_OIDS)


def _check_serial(der: bytes) -> None:
    # Certificate = SEQUENCE { tbsCertificate = SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, …
    # RFC 5280 §4.1.2.2: the serial MUST be positive. A structure this walk cannot follow is left to
    # cryptography's parser, which refuses it.
    try:
        pos, _ = _tlv(der, 0, 0x30)
        pos, _ = _tlv(der, pos, 0x30)
        if der[pos] == 0xA0:
            pos = _tlv(der, pos, 0xA0)[1]
        start, end = _tlv(der, pos, 0x02)
    except (IndexError, _NotThere):
        return
    serial = der[start:end]
    if serial and (serial[0] & 0x80 or not any(serial)):
        raise BadCertificate("the certificate's serial number is not positive (RFC 5280 §4.1.2.2)")


class _NotThere(Exception):
    """The DER walk of :func:`_check_serial` found another structure than it expected."""


def _tlv(der: bytes, pos: int, tag: int) -> tuple[int, int]:
    # (start, end) of the value of the DER item of ``tag`` at ``pos``.
    if der[pos] != tag:
        raise _NotThere
    length, pos = der[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > len(der):
            raise _NotThere
        length, pos = int.from_bytes(der[pos : pos + count], "big"), pos + count
    return pos, pos + length


load_dsc = renamed(read_dsc, "load_dsc")


def load_dsc_list(source: bytes | str | os.PathLike[str] | Iterable[Mapping[str, Any]]) -> list[Dsc]:
    """DSCs from the common JSON list shape ``[{"kid": b64, "country": "DE", "rawData": b64 DER}, …]``.

    Also accepted: a path to such a JSON file, to a DER/PEM certificate, or to a folder of them
    (its files only, at most :data:`MAX_DSC_FILES` entries, each at most :data:`MAX_DSC_FILE_BYTES`).
    A listed kid that differs from the certificate's own is refused (``bad_certificate``).
    """
    if isinstance(source, str | os.PathLike):
        return _load_path(Path(source))
    if isinstance(source, bytes):
        try:
            source = json.loads(source)
        except (ValueError, RecursionError) as exc:
            raise BadCertificate(f"DSC list is not JSON: {exc}") from exc
    if isinstance(source, Mapping | str | bytes) or not isinstance(source, Iterable):
        raise BadCertificate(f"a DSC list is an array of objects, not {type(source).__name__}")
    return [_listed_dsc(item) for item in source]


def _load_path(path: Path) -> list[Dsc]:
    if not path.is_dir():
        return _load_file(path)
    names = list_bounded(path, MAX_DSC_FILES, error=BadCertificate)
    files = [path / n for n in sorted(names) if Path(n).suffix.lower() in DSC_SUFFIXES]
    return [d for p in files if p.is_file() for d in _load_file(p)]


def _load_file(path: Path) -> list[Dsc]:
    data = read_bounded(path, MAX_DSC_FILE_BYTES, error=BadCertificate)
    return load_dsc_list(data) if path.suffix.lower() == ".json" else [read_dsc(data)]


def _listed_dsc(item: object) -> Dsc:
    if not isinstance(item, Mapping):
        raise BadCertificate("a DSC list entry must be an object")
    raw = item.get("rawData") or item.get("certificate") or item.get("raw")
    if not isinstance(raw, str):
        raise BadCertificate("a DSC list entry needs base64 'rawData'")
    country, listed = item.get("country"), item.get("kid")
    if country is not None and not isinstance(country, str):
        raise BadCertificate("a DSC list entry's 'country' must be text")
    dsc = read_dsc(_base64(raw, "rawData"), country=country)
    if listed is not None and (not isinstance(listed, str) or _base64(listed, "kid") != dsc.kid):
        raise BadCertificate(f"listed kid {listed!r} is not the certificate's kid")
    return dsc


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text)
    except ValueError as exc:  # binascii.Error: bad padding; non-ASCII text
        raise BadCertificate(f"a DSC list entry's {what!r} is not base64: {exc}") from exc
