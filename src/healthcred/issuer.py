"""The issuing flow: credential → claims → deterministic CBOR → COSE_Sign1 → zlib (if shorter)
→ Base45 → text."""

from __future__ import annotations

from datetime import UTC

from healthcred.claims import to_claims
from healthcred.codec.base45 import b45encode
from healthcred.codec.cbor import dumps_ordered
from healthcred.codec.compression import pack
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.errors import BadInput
from healthcred.model import HealthCode
from healthcred.rules.declaration import Background, Declaration
from healthcred.rules.status import Determination, StatusRuleSet, determine
from healthcred.signing.algorithms import PrivateKey
from healthcred.signing.cose import Signer, sign1

__all__ = ["issue", "issue_from_declaration"]


def issue(credential: HealthCode, key: PrivateKey | Signer, *, compression_level: int = 9) -> str:
    """Sign ``credential`` with the issuing region's ``key`` and return the QR text (``JKM1:…``).

    The key's type fixes the algorithm (Ed25519 → EdDSA, P-256 → ES256); its kid
    goes in the protected header. Pass a :class:`~healthcred.signing.cose.Signer`
    (``Signer.for_key(key)``) when issuing many codes, to prepare the key once. The body is the zlib stream at
    ``compression_level`` when that is shorter than the message, else the bare
    message (usual for short codes: signatures and ids do not compress).
    """
    if not isinstance(credential, HealthCode):
        raise BadInput(f"issue() takes a HealthCode, not {type(credential).__name__}")
    if type(compression_level) is not int or not 0 <= compression_level <= 9:
        raise BadInput("compression_level must be 0–9")
    # to_claims builds every map in deterministic key order, so order-keeping encoding is exact.
    message = sign1(dumps_ordered(to_claims(credential)), key)
    return NATIVE_PREFIX + b45encode(pack(message, compression_level))


def issue_from_declaration(
    declaration: Declaration,
    background: Background,
    key: PrivateKey | Signer,
    *,
    region: str,
    rules: StatusRuleSet | None = None,
) -> tuple[str, Determination]:
    """Review a declaration (default rules: the seed policy) and issue the resulting code.

    The code is issued at the declaration time and valid until the determination's
    end: the end of observation or isolation, or the green code's validity.
    Returns the QR text and the determination (status, end, reasons).
    """
    outcome = determine(declaration, background, rules)
    issued = declaration.declared_at.astimezone(UTC).replace(microsecond=0)
    credential = HealthCode.create(
        subject=declaration.subject,
        status=outcome.status,
        region=region,
        reason=outcome.reason,
        issued_at=issued,
        valid_for=outcome.until - issued,
    )
    return issue(credential, key), outcome
