"""SMART Health Card issuers: ``load_shc_issuer`` on an issuer document or JWKS (JSON bytes).

The mutator (:func:`mutate`) works on the document's tree, so inputs stay JSON and reach key
selection, the point and thumbprint checks and the CRLs: a JWK member (``kty``, ``use``,
``alg``, ``crv``) set to another of its values, ``x``/``y`` replaced by a valid point or bytes
of the wrong length, ``d`` added, the ``kid`` recomputed as the thumbprint (so a mutated key can
be usable again), whole keys added (valid P-256 keys, RSA, OKP, ``oct``), ``crlVersion`` and
CRL ``ctr`` at their bounds, CRLs for the document's kids with odd ``rids``, the ``iss`` URL
varied; and the generic moves of :mod:`fuzz.json_mutator`. A sixth of the time the bytes are
mutated as they are.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from fuzz import json_mutator, layers, seeds
from fuzz.harness import Finding, Target, expect
from fuzz.json_mutator import Vocabulary, fresh, mutate_tree
from fuzz.shc_keys import EXTRA_KEYS, FUZZ_JWK, fuzz_issuer_document
from healthcred.errors import BadKey
from healthcred.foreign.shc.issuers import issuer_document, jwk_thumbprint, load_shc_issuer
from healthcred.foreign.shc.jose import b64url_encode

MEMBERS = ("kty", "use", "alg", "crv", "kid", "x", "y", "d", "n", "e", "k", "x5c", "key_ops", "crlVersion")
"""JWK members (RFC 7517, RFC 7518, and the SMART Health Cards ``crlVersion``)."""
VALUES: dict[str, tuple[Any, ...]] = {
    "kty": ("EC", "RSA", "OKP", "oct", "ec", "", None, 1),
    "use": ("sig", "enc", "SIG", "", None, ["sig"]),
    "alg": ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA", "none", "HS256", None),
    "crv": ("P-256", "P-384", "P-521", "secp256k1", "Ed25519", "X25519", "p-256", None),
    "crlVersion": (0, 1, 2, -1, 2**53, 2**53 + 1, 1.0, "1", None, True),
    "ctr": (0, 1, 2, -1, 2**53, 2**53 + 1, 1.0, "1", None),
    "method": ("rid", "RID", "jti", None),
}
"""Each member's values: the usable one, its near misses, and wrong types."""
ISS = (
    "https://spec.smarthealth.cards/examples/issuer", "https://fuzz.healthcred.invalid/issuer",
    "https://fuzz.healthcred.invalid/issuer/", "http://fuzz.healthcred.invalid/issuer", "https://",
    "https://[::1", "https://a.example/?q", "https://a.example/#f", "https://a b.example", "https://a.example",
    "https://" + "a" * 2050, "", None,
)  # fmt: skip
RIDS = ("a", "fuzzrevoked", "fuzzdated.1600000000", "r.0", "r.253402300799", "r.253402300800", "r.",
        ".1", "a" * 24, "a" * 25, "r.1234567890123", "r+/", "", 7, None)  # fmt: skip
_NAMES = (*MEMBERS, "keys", "iss", "crls", "kid", "ctr", "method", "rids")


def _b64(rng: random.Random) -> str:
    return b64url_encode(rng.randbytes(rng.choice((0, 1, 31, 32, 32, 33, 48, 64, 256))))


def _jwk(rng: random.Random) -> dict[str, Any]:
    # A key: a valid one (perhaps with a member changed), or one of another type.
    pick = rng.randrange(4)
    if pick < 2:
        jwk = dict(rng.choice((*EXTRA_KEYS, FUZZ_JWK)))
        if pick == 1:
            member = rng.choice(tuple(VALUES)[:4])
            jwk[member] = fresh(rng.choice(VALUES[member]))
        return jwk
    if pick == 2:
        return {"kty": "RSA", "n": _b64(rng), "e": "AQAB", "alg": "RS256", "use": "sig", "kid": _b64(rng)}
    kty = rng.choice(("OKP", "oct", "EC"))
    return {"kty": kty, "crv": rng.choice(VALUES["crv"]), "x": _b64(rng), "k": _b64(rng), "use": "enc"}


def _crl(rng: random.Random, kids: list[str]) -> dict[str, Any]:
    rids = [rng.choice(RIDS) for _ in range(rng.choice((0, 1, 2, 5, 40)))]
    kid = rng.choice(kids) if kids and rng.random() < 0.9 else _b64(rng)
    return {
        "kid": kid,
        "method": rng.choice(VALUES["method"]),
        "ctr": rng.choice(VALUES["ctr"]),
        "rids": rids,
    }


def _grow(rng: random.Random, depth: int) -> Any:
    return _jwk(rng) if rng.random() < 0.7 else _crl(rng, [])


DOCUMENT = Vocabulary(
    _NAMES, (*[v for vs in VALUES.values() for v in vs if isinstance(v, str)], *ISS[:4]), grow=_grow
)


def _keys(doc: Any) -> list[dict[str, Any]]:
    keys = doc.get("keys") if isinstance(doc, dict) else None
    return [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []


def _mutate_key(jwk: dict[str, Any], rng: random.Random) -> None:
    move = rng.randrange(5)
    if move == 0:
        member = rng.choice(tuple(VALUES)[:5])
        jwk[member] = fresh(rng.choice(VALUES[member]))
    elif move == 1:  # a point: another valid key's, or bytes of any length
        donor = rng.choice(EXTRA_KEYS)
        for name in ("x", "y") if rng.random() < 0.5 else (rng.choice("xy"),):
            jwk[name] = donor[name] if rng.random() < 0.6 else _b64(rng)
    elif move == 2:
        jwk["d"] = _b64(rng)
    elif move == 3:
        jwk.pop(rng.choice(MEMBERS), None)
    try:  # the kid made right again (always after a move 4, half the time after the others)
        if move == 4 or rng.random() < 0.5:
            jwk["kid"] = jwk_thumbprint(jwk)
    except BadKey:
        pass


def _mutate_document(doc: Any, rng: random.Random) -> Any:
    keys = _keys(doc)
    move = rng.randrange(6) if isinstance(doc, dict) else 5
    if move == 0 and keys:
        _mutate_key(rng.choice(keys), rng)
    elif move == 1 and isinstance(doc.get("keys"), list):
        doc["keys"].insert(rng.randrange(len(doc["keys"]) + 1), _jwk(rng))
    elif move == 2:
        kids = [k["kid"] for k in keys if isinstance(k.get("kid"), str)]
        crls = doc["crls"] if isinstance(doc.get("crls"), list) else []
        doc["crls"] = [*crls, _crl(rng, kids)] if rng.random() < 0.5 or not crls else [_crl(rng, kids)]
    elif move == 3:
        doc["iss"] = rng.choice(ISS)
    else:
        doc = mutate_tree(doc, rng, DOCUMENT)
    return doc


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate the document's tree: keys, CRLs, ``iss`` (or, a sixth of the time, its bytes)."""
    rng = random.Random(seed)
    try:
        doc = None if rng.random() < 1 / 6 else json_mutator.loads(data)
    except ValueError:
        doc = None
    if doc is None:
        return layers.mutate_bytes(data, max_size)
    try:
        for _ in range(rng.choice((1, 1, 2, 3))):
            doc = _mutate_document(doc, rng)
        out = json_mutator.dumps(doc, rng).encode("utf-8", errors="surrogatepass")
    except (ValueError, RecursionError):
        return layers.mutate_bytes(data, max_size)
    return out if len(out) <= max_size else layers.mutate_bytes(data, max_size)


def run(data: bytes) -> None:
    """Load the issuer; what loads must write back as a JSON issuer document that loads again."""
    issuer = expect(lambda: load_shc_issuer(data))
    if issuer is not None:
        try:
            again = json.dumps(issuer_document(issuer)).encode()
        except (TypeError, ValueError) as exc:
            raise Finding(f"issuer_document() is not JSON: {exc}") from exc
        if expect(lambda: load_shc_issuer(again)) is None:
            raise Finding("an issuer document written by issuer_document() does not load")


def seed_inputs() -> Iterator[bytes]:
    """The example issuer's JWKS and issuer document; the fuzz issuer's; one of mixed keys."""
    yield from seeds.shc_issuer_documents()
    doc = fuzz_issuer_document()
    yield json.dumps(doc).encode()
    rng = random.Random(0)
    mixed = [
        *EXTRA_KEYS,
        {**EXTRA_KEYS[0], "use": "enc"},
        _jwk(random.Random(3)),
        {**EXTRA_KEYS[1], "d": _b64(rng)},
    ]
    yield json.dumps({**doc, "keys": [*doc["keys"], *mixed]}).encode()


TARGET = Target("shc_issuer", run, seed_inputs, mutate)
