"""Print the worked example of docs/format.md: every stage of one fixed code, as Markdown.

Deterministic (Ed25519 keys from fixed seeds, a fixed credential id and times), so the
output never changes; tests/test_docs.py checks that format.md holds it verbatim.
Run: python docs/example.py
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from healthcred import (
    GREEN,
    DocumentType,
    HealthCode,
    KeyGrant,
    Subject,
    TrustStore,
    issue,
    make_trust_list,
    verify,
)
from healthcred.claims import to_claims
from healthcred.codec.base45 import b45decode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import compress, unpack
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.signing.cose import parse_sign1
from healthcred.signing.keys import kid_of, public_key_der

ISSUED = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _hex(data: bytes) -> str:
    return "\n".join(textwrap.wrap(data.hex(), 64))


def example() -> str:
    """The Markdown of the worked example."""
    root = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    issuer = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    credential = HealthCode(
        id=bytes(range(16)),
        status=GREEN,
        subject=Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234"),
        region="330100",
        issued_at=ISSUED,
        expires_at=ISSUED + timedelta(days=1),
    )
    claims = dumps(to_claims(credential))
    text = issue(credential, issuer)
    message = unpack(b45decode(text[len(NATIVE_PREFIX) :]))
    sign1 = parse_sign1(message)
    start = int(ISSUED.timestamp())
    trust_list = make_trust_list(
        root,
        [KeyGrant(issuer.public_key(), "330000", start - 86400, start + 86400 * 365)],
        version=1,
        issued_at=start - 86400,
        expires_at=start + 86400 * 30,
    )
    result = verify(text, TrustStore([root.public_key()], [trust_list]), at=ISSUED + timedelta(hours=1))
    assert result.credential == credential
    parts = [
        "Keys: Ed25519 private keys from the seeds `000102…1f` (root) and `202122…3f` (issuer).",
        f"Issuer public key (SPKI DER): `{public_key_der(issuer.public_key()).hex()}`; "
        f"kid = SHA-256(SPKI)[:8] = `{kid_of(issuer).hex()}`.",
        "Credential: green, region 330100, 张三丰, born 1985-03-12, resident ID card `3301**********1234`, "
        f"id `{credential.id.hex()}`, iat {start} (2026-11-23T00:00:00Z), exp {start + 86400}.",
        "",
        f"Claims, deterministic CBOR ({len(claims)} bytes):",
        "```",
        _hex(claims),
        "```",
        f"Protected header ({len(sign1.protected)} bytes): `{sign1.protected.hex()}`"
        f" = `{{1: -8, 4: h'{sign1.kid.hex()}'}}`",
        "",
        f"Sig_structure ({len(sign1.to_be_signed())} bytes):",
        "```",
        _hex(sign1.to_be_signed()),
        "```",
        f"Signature (64 bytes): `{sign1.signature.hex()}`",
        "",
        f"COSE_Sign1 ({len(message)} bytes):",
        "```",
        _hex(message),
        "```",
        f"zlib level 9 would give {len(compress(message))} bytes, not shorter: the body is the bare message.",
        "",
        f"Text ({len(text)} characters; spaces are Base45 digits and count; broken every 64 characters):",
        "```",
        *(text[i : i + 64] for i in range(0, len(text), 64)),
        "```",
        "",
        f"Trust list signed by the root ({len(trust_list)} bytes), valid from {start - 86400} to "
        f"{start + 86400 * 30}, granting the issuer key region 330000 from {start - 86400} to "
        f"{start + 86400 * 365}:",
        "```",
        _hex(trust_list),
        "```",
        "Verified at 2026-11-23T01:00:00Z: valid, green, region 330100.",
    ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(example(), end="")
