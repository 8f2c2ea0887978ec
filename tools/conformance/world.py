"""The fixed world every case is built in: seeded keys, fixed times, deterministic signers.

Keys come from names: seed = SHA-256(``"healthcred conformance v1 key " + name``).
An Ed25519 key is that seed; a P-256 key has the scalar ``seed mod (n − 1) + 1``,
an SM2 key ``seed mod (n − 2) + 1`` (SM2 needs d + 1 invertible, so d ≠ n − 1).
ES256 signs with RFC 6979 nonces and Ed25519 is deterministic. SM2 has no
deterministic mode (Tongsuo draws its nonce from the DRBG, and no SM2 is
signed in pure Python here), so every SM2 signature the cases need is made
once and kept in ``sm2_signatures.json`` (SHA-256 of the signer's SPKI DER ‖
the message → ``r ‖ s``); :func:`save_sm2_signatures` records new ones when
the vectors are written. So every signature, and so every file, is the same
on each run.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from healthcred.codec.base45 import b45decode, b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import compress, unpack
from healthcred.codec.prefix import NATIVE_PREFIX, PLACE_PREFIX, strip_prefix
from healthcred.crypto import sm2
from healthcred.crypto.algorithms import Alg, PrivateKey, alg_of, sign
from healthcred.crypto.cose import Signer, encode_sign1, sig_structure
from healthcred.crypto.keys import kid_of, public_key_der
from healthcred.flows.issue import issue
from healthcred.model import GREEN, DocumentType, HealthCode, Status, Subject
from healthcred.trust.bundle import BUNDLE_CONTENT_TYPE, make_bundle
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE, make_trust_list
from healthcred.trust.revocation import REVOCATION_CONTENT_TYPE, make_revocation_list
from healthcred.trust.rulesets import RULES_CONTENT_TYPE, make_rule_set
from tools.conformance.case import Trust

__all__ = [
    "CHECKED",
    "ISSUED",
    "KEY_NOT_AFTER",
    "LIST_EXPIRES",
    "P256_ORDER",
    "SM2_SIGNATURES",
    "SUBJECT",
    "T0",
    "credential",
    "credential_id",
    "edited",
    "epoch",
    "flip",
    "flip_text",
    "grant",
    "issue_code",
    "key",
    "message_of",
    "raw_message",
    "revocation_list",
    "rule_set",
    "save_sm2_signatures",
    "signed_bundle",
    "signer",
    "status",
    "text_of",
    "trust",
    "trust_list",
]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
"""Start of every key window and of the usual trust list."""
ISSUED = datetime(2026, 11, 23, tzinfo=UTC)
"""When the usual code is issued (1795392000)."""
CHECKED = ISSUED + timedelta(hours=1)
"""When the usual code is verified."""
LIST_EXPIRES = datetime(2027, 1, 1, tzinfo=UTC)
"""Expiry of the usual trust list."""
KEY_NOT_AFTER = datetime(2027, 6, 1, tzinfo=UTC)
"""End of the usual key window."""

SUBJECT = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
"""The usual holder."""

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The order n of the P-256 group."""
SM2_SIGNATURES = Path(__file__).with_name("sm2_signatures.json")
"""The kept SM2 signatures: SHA-256(SPKI DER ‖ message) hex → ``r ‖ s`` hex, sorted."""

_sm2_used: dict[str, str] = {}  # every SM2 signature this run asked for, kept or new


def epoch(moment: datetime) -> int:
    """Epoch seconds of ``moment``."""
    return int(moment.timestamp())


@functools.cache
def key(name: str, alg: Alg = Alg.EDDSA) -> PrivateKey:
    """The private key named ``name`` (see the module docstring for the derivation)."""
    seed = hashlib.sha256(f"healthcred conformance v1 key {name}".encode()).digest()
    if alg is Alg.EDDSA:
        return ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    if alg is Alg.SM2:
        from tongsuopy.crypto.asymciphers import ec as tongsuo_ec

        scalar = int.from_bytes(seed, "big") % (sm2.ORDER - 2) + 1
        return sm2.Sm2PrivateKey(tongsuo_ec.derive_private_key(scalar, tongsuo_ec.SM2()))
    return ec.derive_private_key(int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())


@functools.cache
def _kept_sm2() -> dict[str, str]:
    if not SM2_SIGNATURES.is_file():
        return {}
    kept: dict[str, str] = json.loads(SM2_SIGNATURES.read_text(encoding="utf-8"))
    return kept


def _sm2_sign(private: sm2.Sm2PrivateKey) -> Callable[[bytes], bytes]:
    """SM2 signing that gives the kept signature of a message it has signed before."""
    der = public_key_der(private.public_key())

    def sign(message: bytes) -> bytes:
        ref = hashlib.sha256(der + message).hexdigest()
        made = _kept_sm2().get(ref) or _sm2_used.get(ref) or private.sign(message).hex()
        _sm2_used[ref] = made
        return bytes.fromhex(made)

    return sign


def save_sm2_signatures() -> bool:
    """Keep exactly the SM2 signatures this run used (new ones added, unused dropped); whether it changed."""
    text = json.dumps(dict(sorted(_sm2_used.items())), indent=1) + "\n"
    if SM2_SIGNATURES.is_file() and SM2_SIGNATURES.read_text(encoding="utf-8") == text:
        return False
    SM2_SIGNATURES.write_text(text, encoding="utf-8")
    return True


def signer(private: PrivateKey, content_type: str | None = None) -> Signer:
    """A deterministic :class:`Signer` for ``private`` (ES256 with RFC 6979 nonces, SM2 kept signatures)."""
    if isinstance(private, sm2.Sm2PrivateKey):
        sign = _sm2_sign(private)
        return Signer.for_function(Alg.SM2, private.public_key(), sign, content_type=content_type)
    return Signer.for_key(private, content_type=content_type, deterministic=True)


def credential_id(label: str) -> bytes:
    """A fixed 16-byte credential id for a case."""
    return hashlib.sha256(f"healthcred conformance v1 cti {label}".encode()).digest()[:16]


def credential(label: str, **changes: Any) -> HealthCode:
    """The usual credential (green, Hangzhou 330100, issued at ISSUED for one day), with changes."""
    issued: datetime = changes.pop("issued_at", ISSUED)
    fields: dict[str, Any] = {
        "id": credential_id(label),
        "status": GREEN,
        "subject": SUBJECT,
        "region": "330100",
        "issued_at": issued,
        "expires_at": changes.pop("expires_at", issued + changes.pop("valid_for", timedelta(days=1))),
    }
    fields.update(changes)
    return HealthCode(**fields)


def issue_code(private: PrivateKey, label: str, **changes: Any) -> tuple[HealthCode, str]:
    """Issue the usual credential (with changes) deterministically; returns it and its text."""
    cred = credential(label, **changes)
    return cred, issue(cred, signer(private))


def raw_message(
    payload: bytes,
    private: PrivateKey,
    *,
    protected: bytes | None = None,
    signature: bytes | None = None,
    sign_as: Alg | None = None,
) -> bytes:
    """A COSE_Sign1 over raw ``payload`` bytes, bypassing every issuer check (for hostile cases)."""
    if protected is None:
        protected = dumps({1: int(alg_of(private)), 4: kid_of(private)})
    if signature is None:
        alg = sign_as or alg_of(private)
        if alg in (Alg.ES256, Alg.SM2):
            signature = signer(private).sign(sig_structure(protected, payload))
        else:
            signature = sign(alg, private, sig_structure(protected, payload))
    return encode_sign1(protected, payload, signature)


def text_of(message: bytes, *, zlib_body: bool = False) -> str:
    """The code text of a COSE message: bare body, or (``zlib_body``) always a zlib stream."""
    return NATIVE_PREFIX + b45encode(compress(message) if zlib_body else message)


def _prefix_of(text: str) -> str:
    return PLACE_PREFIX if text.startswith(PLACE_PREFIX) else NATIVE_PREFIX


def message_of(text: str) -> bytes:
    """The COSE_Sign1 bytes of a ``JKM1:`` or ``JKP1:`` code text (bare or zlib body)."""
    return unpack(b45decode(strip_prefix(text, _prefix_of(text))))


def flip(data: bytes, index: int = -1) -> bytes:
    """``data`` with the lowest bit of byte ``index`` (default: the last) flipped."""
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def flip_text(text: str, index: int = -1) -> str:
    """A code text with one bit of body byte ``index`` flipped (the last byte is the signature's)."""
    prefix = _prefix_of(text)
    return prefix + b45encode(flip(b45decode(strip_prefix(text, prefix)), index))


def edited(body: Mapping[int, Any], changes: Mapping[int, Any]) -> dict[int, Any]:
    """``body`` with keys replaced or added by ``changes``; a change to ``None`` removes the key."""
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


def grant(private: PrivateKey, region: str, **extra: Any) -> KeyGrant:
    """A grant for ``private`` over ``region`` for the usual key window."""
    return KeyGrant(private.public_key(), region, epoch(T0), epoch(KEY_NOT_AFTER), **extra)


def trust_list(
    root: PrivateKey,
    grants: Iterable[KeyGrant],
    *,
    version: int = 1,
    list_id: str = "national",
    issued_at: datetime = T0,
    expires_at: datetime = LIST_EXPIRES,
) -> bytes:
    """A deterministically signed trust list."""
    return make_trust_list(
        signer(root, TRUST_LIST_CONTENT_TYPE),
        list(grants),
        version=version,
        list_id=list_id,
        issued_at=epoch(issued_at),
        expires_at=epoch(expires_at),
    )


def revocation_list(
    private: PrivateKey,
    *,
    version: int = 1,
    added: Sequence[bytes] = (),
    removed: Sequence[bytes] = (),
    base: int = 0,
    list_id: str = "revocations",
    issued_at: datetime = T0,
) -> bytes:
    """A deterministically signed revocation list of credential ids."""
    return make_revocation_list(
        signer(private, REVOCATION_CONTENT_TYPE),
        version=version,
        issued_at=epoch(issued_at),
        expires_at=epoch(LIST_EXPIRES),
        added=list(added),
        removed=list(removed),
        base=base,
        list_id=list_id,
    )


def rule_set(
    private: PrivateKey,
    body: Mapping[str, Any],
    *,
    issued_at: datetime = T0,
    expires_at: datetime = LIST_EXPIRES,
) -> bytes:
    """A deterministically signed rule set."""
    return make_rule_set(
        signer(private, RULES_CONTENT_TYPE), body, issued_at=epoch(issued_at), expires_at=epoch(expires_at)
    )


def signed_bundle(
    root: PrivateKey,
    *,
    version: int = 1,
    trust_lists: Sequence[bytes] = (),
    revocations: Sequence[bytes] = (),
    rule_sets: Sequence[bytes] = (),
    bundle_id: str = "national",
) -> bytes:
    """A deterministically signed trust bundle."""
    return make_bundle(
        signer(root, BUNDLE_CONTENT_TYPE),
        version=version,
        issued_at=epoch(T0),
        trust_lists=list(trust_lists),
        revocations=list(revocations),
        rule_sets=list(rule_sets),
        bundle_id=bundle_id,
    )


def trust(
    anchors: Iterable[PrivateKey],
    lists: Iterable[bytes] = (),
    revocations: Iterable[bytes] = (),
    rule_sets: Iterable[bytes] = (),
    *,
    bundle: bytes | None = None,
    seen: Mapping[str, int] | None = None,
) -> Trust:
    """A trust context from anchor private keys (their public SPKI DER goes into the case)."""
    return Trust(
        [public_key_der(a.public_key()) for a in anchors],
        list(lists),
        list(revocations),
        list(rule_sets),
        bundle,
        dict(seen or {}),
    )


def status(code: int) -> Status:
    """A colour by wire code (names of unknown ones as a verifier without a palette gives them)."""
    names = {1: "green", 2: "yellow", 3: "red"}
    return Status(code=code, name=names.get(code, f"status-{code}"))
