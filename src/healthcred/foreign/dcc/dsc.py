"""Document signer certificates (DSCs): X.509 trust entries for EU DCC (``HC1:``) codes.

kid = first 8 bytes of SHA-256 over the certificate DER. A DSC's extended key
usage may restrict it to test, vaccination or recovery certificates (HCERT
§5.1.1; both OID arcs seen in the wild). Lists come in the common JSON shape
``[{"kid": b64, "country": "DE", "rawData": b64 DER}, …]``, or as DER/PEM files.
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
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from healthcred._deprecated import renamed
from healthcred.errors import BadCertificate

__all__ = ["DSC_SUFFIXES", "EKU_OIDS", "Dsc", "load_dsc", "load_dsc_list", "read_dsc"]

DSC_SUFFIXES = (".der", ".pem", ".crt", ".cer", ".json")
"""File-name endings read as signing certificates (DER or PEM) or as JSON lists of them."""

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


def read_dsc(der: bytes, *, country: str | None = None) -> Dsc:
    """A DSC from its DER bytes (or PEM); kid = SHA-256(DER)[:8].

    Some real DSCs carry extensions that are not strict DER, which
    ``cryptography`` refuses to parse; their key-usage OIDs are then read from
    the raw certificate bytes. The signature check never depends on extensions.
    """
    from cryptography import x509  # here: x509 is slow to import and a verifier may hold no DSC

    try:
        if der.lstrip().startswith(b"-----BEGIN"):
            der = x509.load_pem_x509_certificate(der).public_bytes(Encoding.DER)
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
    except (ValueError, TypeError) as exc:
        raise BadCertificate(f"not an X.509 certificate: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise BadCertificate(f"a DSC key must be EC P-256 or RSA, not {type(key).__name__}")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        oids = {o.dotted_string for o in eku}
    except x509.ExtensionNotFound:
        oids = set()
    except ValueError:
        oids = {o for group in EKU_OIDS.values() for o in group if _oid_der(o) in cert.tbs_certificate_bytes}
    usages = frozenset(t for t, group in EKU_OIDS.items() if oids.intersection(group)) or frozenset(EKU_OIDS)
    if country is None:
        names = cert.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
        country = str(names[0].value) if names else None
    return Dsc(
        hashlib.sha256(der).digest()[:8],
        country,
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        usages,
        key,
        der,
    )


load_dsc = renamed(read_dsc, "load_dsc")


def load_dsc_list(source: bytes | str | os.PathLike[str] | Iterable[Mapping[str, Any]]) -> list[Dsc]:
    """DSCs from the common JSON list shape ``[{"kid": b64, "country": "DE", "rawData": b64 DER}, …]``.

    Also accepted: a path to such a JSON file, to a DER/PEM certificate, or to a folder of them.
    A listed kid that differs from the certificate's own is refused (``bad_certificate``).
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            return [
                d
                for p in sorted(path.iterdir())
                if p.suffix.lower() in DSC_SUFFIXES
                for d in load_dsc_list(p)
            ]
        data = path.read_bytes()
        if path.suffix.lower() != ".json":
            return [read_dsc(data)]
        source = data
    if isinstance(source, bytes):
        try:
            source = json.loads(source)
        except ValueError as exc:
            raise BadCertificate(f"DSC list is not JSON: {exc}") from exc
    dscs = []
    for item in source:  # type: ignore[union-attr]
        if not isinstance(item, Mapping):
            raise BadCertificate("a DSC list entry must be an object")
        raw = item.get("rawData") or item.get("certificate") or item.get("raw")
        if not isinstance(raw, str):
            raise BadCertificate("a DSC list entry needs base64 'rawData'")
        dsc = read_dsc(base64.b64decode(raw), country=item.get("country"))
        listed = item.get("kid")
        if isinstance(listed, str) and base64.b64decode(listed) != dsc.kid:
            raise BadCertificate(f"listed kid {listed} is not the certificate's kid")
        dscs.append(dsc)
    return dscs
