"""SMART Health Card issuers as trust entries: their ES256 keys (a JWKS) and their revocation lists.

An SHC names its issuer by URL (``iss``) and its signing key by ``kid``, the RFC 7638
thumbprint of the public JWK. One trust entry, :class:`ShcIssuer`, is one issuer: the URL, its
keys (each an EC P-256 ES256 signing key whose kid is its thumbprint, holding a verify
function prepared once) and, per kid, the revoked ``rid``\\ s from the issuer's card revocation
lists (CRLs, SMART Health Cards "rid" method: ``"rid"`` revokes every card with that rid,
``"rid.timestamp"`` those whose ``nbf`` is before the timestamp).

The document form is the issuer's ``/.well-known/jwks.json`` plus its URL and its
``/.well-known/crl/{kid}.json`` files: ``{"iss": URL, "keys": [JWK…], "crls": [CRL…]}``.
Members this module does not use are ignored (RFC 7517 §4, §5); ``x5c`` chains are ignored too.

Key selection, as the specification has verifiers find signing keys (by ``kty``, ``use`` and
``alg``): a JWK that is not a usable SHC signing key — not ``kty`` EC, ``use`` not ``sig``,
``alg`` not ES256, not P-256, a point off the curve, a kid that is not its thumbprint, a bad
``crlVersion`` — is skipped, and :attr:`ShcIssuer.skipped_keys` says why (``shc_key`` alone
raises ``bad_key`` for it). A JWK with the private member ``d`` is skipped too, and so is every
other entry of the same key: its private key is public, anyone can sign with it. Entries of one
key that differ only in ``x5c`` (one per certificate, as the specification has it) are one key;
if their ``crlVersion`` differs, the highest is kept. A document with no usable key is
``bad_key``; one not of this shape, or past a bound (1 MiB, 100 keys, 1,000,000 rids; as JSON
the 1 MiB bound holds at most ~260,000 rids), is ``trust_list_malformed``; an unreadable file is
``trust_store_error``. A CRL for a skipped key is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from healthcred.crypto.algorithms import Alg, Verifier, verifier_for
from healthcred.errors import BadInput, BadKey, TrustListMalformed, TrustStoreError
from healthcred.foreign.shc.jose import b64url_decode, b64url_encode, loads_json
from healthcred.limits import MAX_EPOCH

__all__ = [
    "MAX_ISSUER_BYTES",
    "MAX_KEYS",
    "MAX_RIDS",
    "ShcIssuer",
    "ShcKey",
    "issuer_document",
    "jwk_thumbprint",
    "load_shc_issuer",
    "shc_issuer",
    "shc_key",
]

MAX_ISSUER_BYTES = 1024 * 1024
"""Largest issuer document (JSON) accepted."""
MAX_KEYS = 100
"""Most keys (and so CRLs) one issuer may list."""
MAX_RIDS = 1_000_000
"""Most revoked rids one issuer's CRLs may hold together."""

_MAX_ISS_CHARS = 2048
# SMART Health Cards: a rid is base64url, at most 24 characters; ".timestamp" is Unix seconds.
_RID = re.compile(r"([A-Za-z0-9_-]{1,24})(?:\.([0-9]{1,12}))?")

# RFC 7638 §3.2: the required members of each key type, which alone enter the thumbprint.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_P256_COORD = 32


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding.

    Only the key type's required members enter it (EC: ``crv``, ``kty``, ``x``, ``y``), in
    lexicographic order, without whitespace. Raises :class:`BadKey` for an unknown ``kty`` (or
    one that is not a string) or a required member that is missing, not a string, or not
    Unicode text.
    """
    if not isinstance(jwk, Mapping):
        raise BadKey("a JWK must be a JSON object")
    kty = jwk.get("kty")
    # A kty of another JSON type (an object, an array) is no key type: never a dictionary key here.
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        shown = repr(kty)[:40] if isinstance(kty, str | None) else f"of type {type(kty).__name__}"
        raise BadKey(f"JWK kty {shown} has no RFC 7638 thumbprint here (EC, RSA, OKP, oct)")
    if not all(isinstance(jwk.get(m), str) for m in members):
        raise BadKey(f"a {jwk['kty']} JWK needs string members {', '.join(members)}")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), ensure_ascii=False)
    try:
        text = canonical.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, from a mapping built in Python
        raise BadKey(f"a {jwk['kty']} JWK's members must be Unicode text (a lone surrogate)") from exc
    return b64url_encode(hashlib.sha256(text).digest())


@dataclass(frozen=True, slots=True)
class ShcKey:
    """One issuer signing key: its kid (the RFC 7638 thumbprint), the P-256 key and its verify function.

    ``verify(signing_input, signature)`` takes a raw ``r ‖ s`` signature of 64 bytes (JWS
    form); any other length, a DER signature among them, is :class:`BadSignature`.
    """

    kid: str
    public_key: ec.EllipticCurvePublicKey = field(repr=False, hash=False)
    verify: Verifier = field(repr=False, compare=False, hash=False)
    crl_version: int | None = None
    """The JWK's ``crlVersion``: the issuer publishes a CRL for this key, at least at this ``ctr``."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The loaded key and its verify function do not pickle: the point does, rebuilt on arrival.
        point = self.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return (_restore_key, (self.kid, point, self.crl_version))


def _restore_key(kid: str, point: bytes, crl_version: int | None) -> ShcKey:
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    return ShcKey(kid, public_key, verifier_for(Alg.ES256, public_key), crl_version)


def _coordinate(jwk: Mapping[str, Any], name: str) -> bytes:
    value = b64url_decode(jwk.get(name), BadKey, f"JWK member {name!r}")  # type: ignore[arg-type]
    if len(value) != _P256_COORD:
        raise BadKey(f"JWK member {name!r} must be {_P256_COORD} bytes for P-256, not {len(value)}")
    return value


def _check_key_members(jwk: Mapping[str, Any]) -> None:
    if "d" in jwk:
        raise BadKey("the JWK holds a private key ('d'): trust entries take public keys only")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise BadKey(f"an SHC key must be kty EC, crv P-256, not {jwk.get('kty')!r} {jwk.get('crv')!r}")
    if jwk.get("alg") != "ES256":
        raise BadKey(f"an SHC key must have alg ES256, not {jwk.get('alg')!r}")
    if jwk.get("use") != "sig":
        raise BadKey(f"an SHC key must have use 'sig', not {jwk.get('use')!r}")


def shc_key(jwk: Mapping[str, Any]) -> ShcKey:
    """One trust key from a public JWK; raise :class:`BadKey` if it is not a usable SHC key.

    Accepted: ``kty`` EC, ``crv`` P-256, ``alg`` ES256, ``use`` sig, no ``d``, a point on the
    curve, and ``kid`` equal to the key's RFC 7638 thumbprint. ``x5c`` is ignored.
    """
    if not isinstance(jwk, Mapping):
        raise BadKey("a JWK must be a JSON object")
    _check_key_members(jwk)
    point = b"\x04" + _coordinate(jwk, "x") + _coordinate(jwk, "y")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise BadKey(f"the JWK's point is not on P-256: {exc}") from exc
    kid, thumbprint = jwk.get("kid"), jwk_thumbprint(jwk)
    if kid != thumbprint:
        raise BadKey(f"JWK kid {kid!r} is not the key's RFC 7638 thumbprint {thumbprint}")
    version = jwk.get("crlVersion")
    if version is not None and (type(version) is not int or not 0 <= version <= 2**53):
        raise BadKey(f"JWK crlVersion must be a non-negative integer, not {version!r}")
    return ShcKey(thumbprint, public_key, verifier_for(Alg.ES256, public_key), version)


@dataclass(frozen=True, slots=True)
class ShcIssuer:
    """A trusted SMART Health Card issuer: its ``iss`` URL, keys and per-kid revocations.

    Build one with :func:`shc_issuer` or :func:`load_shc_issuer`, which check every key and
    CRL; :func:`issuer_document` gives its canonical JSON form back.
    """

    iss: str
    """The issuer URL exactly as cards carry it: ``https://…``, no trailing slash."""
    keys: tuple[ShcKey, ...]
    revocations: Mapping[str, Mapping[str, int | None]] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, hash=False
    )
    """Per kid: revoked rid → revocation time (Unix seconds: cards with ``nbf`` before it are
    revoked) or ``None`` (every card with the rid is revoked)."""
    crl_counters: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Per kid: the ``ctr`` of the CRL the revocations came from."""
    skipped_keys: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False, hash=False
    )
    """JWKs of the document that are not used, by kid (``keys[i]`` when it has none): why each was skipped."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """What an operator should know about the document although it loaded: the keys skipped."""
        return tuple(f"{self.iss}: key {kid} skipped: {why}" for kid, why in self.skipped_keys.items())

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping views do not pickle; plain copies do, wrapped again on arrival.
        revocations = {kid: dict(revoked) for kid, revoked in self.revocations.items()}
        state = (self.iss, self.keys, revocations, dict(self.crl_counters), dict(self.skipped_keys))
        return (_restore_issuer, state)

    def key(self, kid: str) -> ShcKey | None:
        """The key with this kid, or ``None``."""
        return next((k for k in self.keys if k.kid == kid), None)

    def is_revoked(self, kid: str, rid: str | None, nbf: float) -> bool:
        """Whether the issuer's CRL for ``kid`` revokes a card with this ``rid`` and ``nbf``."""
        revoked = self.revocations.get(kid)
        if rid is None or revoked is None or rid not in revoked:
            return False
        until = revoked[rid]
        return until is None or nbf < until

    @property
    def missing_crls(self) -> tuple[str, ...]:
        """Kids whose JWK announces a CRL (``crlVersion``) not supplied: their revocations are unknown."""
        return tuple(k.kid for k in self.keys if k.crl_version is not None and k.kid not in self.crl_counters)


def _restore_issuer(
    iss: str,
    keys: tuple[ShcKey, ...],
    revocations: dict[str, dict[str, int | None]],
    counters: dict[str, int],
    skipped: dict[str, str],
) -> ShcIssuer:
    views = {kid: MappingProxyType(revoked) for kid, revoked in revocations.items()}
    return ShcIssuer(
        iss, keys, MappingProxyType(views), MappingProxyType(counters), MappingProxyType(skipped)
    )


def _check_iss(iss: object) -> str:
    if not isinstance(iss, str) or not 0 < len(iss) <= _MAX_ISS_CHARS:
        raise TrustListMalformed("an SHC issuer needs an 'iss' URL of at most 2048 characters")
    try:
        parts = urlsplit(iss)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 host
        raise TrustListMalformed(f"SHC iss {iss[:80]!r} is not a URL: {exc}") from exc
    if (
        parts.scheme != "https"
        or not parts.netloc
        or iss.endswith("/")
        or not iss.isprintable()
        or " " in iss
        or "?" in iss
        or "#" in iss
    ):
        raise TrustListMalformed(f"SHC iss {iss[:80]!r} must be an https URL without a trailing slash")
    return iss


def _label(jwk: object, index: int) -> str:
    kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
    return kid if isinstance(kid, str) and 0 < len(kid) <= 64 and kid.isprintable() else f"keys[{index}]"


def _leaked(jwk: object) -> str | None:
    # The thumbprint of a JWK that publishes its private key, if it names one.
    if not isinstance(jwk, Mapping) or "d" not in jwk:
        return None
    try:
        return jwk_thumbprint(jwk)
    except BadKey:
        return None


def _one_key(before: ShcKey | None, key: ShcKey) -> ShcKey:
    # Entries of one key differ only in x5c (one per certificate); of two crlVersions, the higher.
    if before is None:
        return key
    versions = [v for v in (before.crl_version, key.crl_version) if v is not None]
    return replace(before, crl_version=max(versions) if versions else None)


def _keys(jwks: object) -> tuple[tuple[ShcKey, ...], dict[str, str]]:
    # (usable keys, skipped entries: label → reason)
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list | tuple):
        raise TrustListMalformed("a JWKS must be an object with a 'keys' array")
    listed = jwks["keys"]
    if not 1 <= len(listed) <= MAX_KEYS:
        raise TrustListMalformed(f"an SHC issuer lists 1 to {MAX_KEYS} keys, not {len(listed)}")
    usable: dict[str, ShcKey] = {}
    skipped: dict[str, str] = {}
    for index, jwk in enumerate(listed):
        try:
            key = shc_key(jwk)
        except BadKey as exc:  # not a signing key for SHC: skipped, the others still count
            skipped.setdefault(_label(jwk, index), exc.message)
            continue
        usable[key.kid] = _one_key(usable.get(key.kid), key)
    for kid in filter(None, map(_leaked, listed)):
        if usable.pop(kid, None) is not None or kid not in skipped:
            skipped[kid] = "an entry of this key publishes its private key ('d'): anyone can sign with it"
    if not usable:
        reasons = "; ".join(f"{label}: {why}" for label, why in skipped.items())
        raise BadKey(f"the issuer lists no usable SHC signing key ({reasons[:500]})")
    return tuple(usable.values()), skipped


def _rid_entry(entry: object) -> tuple[str, int | None]:
    match = _RID.fullmatch(entry) if isinstance(entry, str) else None
    if match is None:
        raise TrustListMalformed(f"CRL rid {str(entry)[:40]!r} is not 'rid' or 'rid.timestamp'")
    rid, stamp = match.groups()
    if stamp is not None and int(stamp) > MAX_EPOCH:
        raise TrustListMalformed(f"CRL rid {rid} has a timestamp past the year 9999")
    return rid, None if stamp is None else int(stamp)


def _crl(crl: object, keys: Mapping[str, ShcKey], budget: int) -> tuple[str, int, dict[str, int | None]]:
    if not isinstance(crl, Mapping):
        raise TrustListMalformed("a CRL must be a JSON object")
    kid, ctr, rids = crl.get("kid"), crl.get("ctr"), crl.get("rids", [])
    if not isinstance(kid, str) or kid not in keys:
        raise TrustListMalformed(f"CRL kid {str(kid)[:60]!r} is none of the issuer's keys")
    if crl.get("method") != "rid":
        raise TrustListMalformed(f"CRL method {crl.get('method')!r} is not 'rid'")
    if type(ctr) is not int or not 0 <= ctr <= 2**53:
        raise TrustListMalformed("a CRL's 'ctr' must be a non-negative integer")
    version = keys[kid].crl_version
    if version is not None and ctr < version:
        raise TrustListMalformed(f"the CRL for {kid} is stale: ctr {ctr}, the key announces {version}")
    if not isinstance(rids, list | tuple) or len(rids) > budget:
        raise TrustListMalformed(f"a CRL's 'rids' must be an array; an issuer holds at most {MAX_RIDS}")
    revoked: dict[str, int | None] = {}
    for entry in rids:
        rid, until = _rid_entry(entry)
        # The same rid twice: keep the wider revocation (always, else the later time).
        if rid in revoked:
            before = revoked[rid]
            until = None if before is None or until is None else max(before, until)
        revoked[rid] = until
    return kid, ctr, revoked


def shc_issuer(iss: str, jwks: Mapping[str, Any], crls: Iterable[Mapping[str, Any]] = ()) -> ShcIssuer:
    """An issuer from its URL, its JWKS (``{"keys": [...]}``) and its CRLs (one per kid at most).

    Unusable keys are skipped (:attr:`ShcIssuer.skipped_keys`, and their CRLs ignored); raises
    :class:`BadKey` when no key is usable and :class:`TrustListMalformed` for anything else out
    of shape (see the module docstring).
    """
    iss = _check_iss(iss)
    keys, skipped = _keys(jwks)
    by_kid = {k.kid: k for k in keys}
    if not isinstance(crls, Iterable) or isinstance(crls, str | bytes | Mapping):
        raise TrustListMalformed("'crls' must be an array of CRL objects")
    revocations: dict[str, Mapping[str, int | None]] = {}
    counters: dict[str, int] = {}
    budget = MAX_RIDS
    for count, crl in enumerate(crls, 1):
        if count > MAX_KEYS:
            raise TrustListMalformed(f"an SHC issuer has at most {MAX_KEYS} CRLs (one per key)")
        kid = crl.get("kid") if isinstance(crl, Mapping) else None
        if isinstance(kid, str) and kid in skipped and kid not in by_kid:
            continue  # the CRL of a key that is not used: nothing it revokes can verify
        kid, ctr, revoked = _crl(crl, by_kid, budget)
        if kid in counters:
            raise TrustListMalformed(f"two CRLs for key {kid}")
        budget -= len(revoked)
        revocations[kid], counters[kid] = MappingProxyType(revoked), ctr
    return ShcIssuer(
        iss, keys, MappingProxyType(revocations), MappingProxyType(counters), MappingProxyType(skipped)
    )


def _read(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        try:
            with Path(source).open("rb") as file:
                data = file.read(MAX_ISSUER_BYTES + 1)  # never read more than the bound, whatever the size
        except OSError as exc:
            raise TrustStoreError(f"cannot read SHC issuer file {source}: {exc.strerror}") from exc
    if len(data) > MAX_ISSUER_BYTES:
        raise TrustListMalformed(f"an SHC issuer document is at most {MAX_ISSUER_BYTES} bytes")
    return data


def load_shc_issuer(source: Mapping[str, Any] | bytes | str | os.PathLike[str]) -> ShcIssuer:
    """An issuer from ``{"iss": URL, "keys": [JWK…], "crls": [CRL…]}``: a mapping, JSON bytes or a file path.

    ``crls`` is optional. The document is at most 1 MiB of strict JSON (no duplicate members).
    Raises :class:`BadKey`, :class:`TrustListMalformed` or :class:`TrustStoreError`.
    """
    if isinstance(source, Mapping):
        doc: Any = source
    elif isinstance(source, bytes | str | os.PathLike):
        doc = loads_json(_read(source), TrustListMalformed, "the SHC issuer document")
    else:
        kind = type(source).__name__
        raise BadInput(f"an SHC issuer comes from a mapping, JSON bytes or a path, not {kind}")
    if not isinstance(doc, Mapping):
        raise TrustListMalformed('an SHC issuer document is a JSON object {"iss", "keys", "crls"}')
    return shc_issuer(doc.get("iss"), doc, doc.get("crls", []))  # type: ignore[arg-type]


def _jwk(key: ShcKey) -> dict[str, Any]:
    numbers = key.public_key.public_numbers()
    jwk: dict[str, Any] = {
        "alg": "ES256",
        "crv": "P-256",
        "kid": key.kid,
        "kty": "EC",
        "use": "sig",
        "x": b64url_encode(numbers.x.to_bytes(_P256_COORD, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_P256_COORD, "big")),
    }
    if key.crl_version is not None:
        jwk["crlVersion"] = key.crl_version
    return dict(sorted(jwk.items()))


def _crl_document(kid: str, ctr: int, revoked: Mapping[str, int | None]) -> dict[str, Any]:
    rids = sorted(rid if until is None else f"{rid}.{until}" for rid, until in revoked.items())
    return {"ctr": ctr, "kid": kid, "method": "rid", "rids": rids}


def issuer_document(issuer: ShcIssuer) -> dict[str, Any]:
    """The canonical document form of ``issuer``, which :func:`load_shc_issuer` reads back to an equal issuer.

    Deterministic: members in sorted order, keys and CRLs sorted by kid, rids sorted; only the
    members this module uses (no ``x5c``).
    """
    keys = [_jwk(k) for k in sorted(issuer.keys, key=lambda k: k.kid)]
    crls = [
        _crl_document(kid, issuer.crl_counters[kid], issuer.revocations.get(kid, {}))
        for kid in sorted(issuer.crl_counters)
    ]
    return {"crls": crls, "iss": issuer.iss, "keys": keys}
