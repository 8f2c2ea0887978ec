"""The fixed trust every target verifies against, built once at import and the same on every run.

The native part is the conformance vectors' usual world (``tools.conformance``: keys derived from
names, deterministic signatures): the national root as anchor, the national list granting
Zhejiang (ES256) and Shanghai (EdDSA), a revocation list and the default policy rule set, all
signed by the root. So the vectors' valid codes verify here, and a target can re-sign a mutated
payload with the very key whose kid the seed names (:data:`KEYS`), to reach past the signature.
The foreign part is the third-party test data: every DSC of ``tests/data/dcc`` and the SMART
Health Cards specification's example issuer; and an SHC issuer whose key the fuzzer holds
(:mod:`fuzz.shc_keys`), to re-sign mutated cards.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from fuzz.shc_keys import fuzz_shc_issuer
from healthcred.crypto.algorithms import Alg, PrivateKey
from healthcred.crypto.keys import kid_of
from healthcred.errors import HealthCredError
from healthcred.foreign.dcc.dsc import Dsc, read_dsc
from healthcred.foreign.shc.issuers import ShcIssuer, load_shc_issuer
from healthcred.rules.policy import DEFAULT_POLICIES
from healthcred.trust.envelope import Anchor
from healthcred.trust.store import TrustStore
from tools.conformance.cases.common import AT, root, standard_list
from tools.conformance.world import credential_id, key, revocation_list, rule_set

__all__ = [
    "AT",
    "DATA",
    "KEYS",
    "NATIVE_LISTS",
    "ROOT",
    "SHC_ISS",
    "STORE",
    "VECTORS",
    "anchors",
    "dscs",
    "shc_issuer",
]

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "vectors"
"""The conformance vectors (native codes, trust material, their QR images)."""
DATA = REPO / "tests" / "data"
"""Third-party test data (EU DCC, SMART Health Cards, CertLogic, COSE)."""
SHC_ISS = "https://spec.smarthealth.cards/examples/issuer"
"""The ``iss`` of the SMART Health Cards specification's examples."""

# Every key name the conformance cases use (tools/conformance/cases), in both algorithms.
_KEY_NAMES = (
    "national-root", "zhejiang", "shanghai", "zhejiang-venues", "zhejiang-family", "hangzhou",
    "rules-office", "stranger", "stranger-root", "zhejiang-root", "zhejiang-2026b", "impostor",
    "other-root", "bilateral-root", "beijing", "nation-root", "national-platform", "beijing-bundle",
    "shanghai-root",
)  # fmt: skip


def _keys() -> dict[bytes, PrivateKey]:
    found: dict[bytes, PrivateKey] = {}
    for name in _KEY_NAMES:
        for alg in (Alg.EDDSA, Alg.ES256):
            private = key(name, alg)
            found[kid_of(private)] = private
    return found


KEYS: dict[bytes, PrivateKey] = _keys()
"""kid → private key, for every key of the vectors: a mutated payload is re-signed with its seed's."""
ROOT: PrivateKey = root()
"""The national root (Ed25519), the one trust anchor."""
NATIVE_LISTS: tuple[bytes, ...] = (standard_list(),)
"""The national list v1 (Zhejiang 330000, Shanghai 310000), signed by the root."""
_REVOCATIONS = (revocation_list(ROOT, added=[credential_id("fuzz/revoked")]),)
_RULE_SETS = (rule_set(ROOT, DEFAULT_POLICIES),)


def anchors() -> list[Anchor]:
    """The trust anchors (the root alone)."""
    return [Anchor.from_key(ROOT.public_key())]


@cache
def dcc_cases() -> tuple[dict[str, Any], ...]:
    """The EU DCC test cases (``tests/data/dcc``): each with ``PREFIX``, ``CBOR``, ``TESTCTX``."""
    cases = []
    for path in sorted((DATA / "dcc").rglob("*.json")):
        try:
            case = json.loads(path.read_bytes())
        except ValueError:
            continue
        if isinstance(case, dict) and isinstance(case.get("TESTCTX"), dict):
            cases.append(case)
    return tuple(cases)


def dscs() -> list[Dsc]:
    """Every distinct DSC of the EU DCC test data that this library reads."""
    found: dict[bytes, Dsc] = {}
    for case in dcc_cases():
        cert = case["TESTCTX"].get("CERTIFICATE")
        if not isinstance(cert, str):
            continue
        try:
            dsc = read_dsc(base64.b64decode(cert))
        except (HealthCredError, ValueError):  # binascii.Error is a ValueError
            continue
        found.setdefault(dsc.kid, dsc)
    return list(found.values())


def shc_issuer() -> ShcIssuer:
    """The specification's example issuer: its JWKS and revocation lists under ``tests/data/shc``."""
    well_known = DATA / "shc" / "examples" / "issuer" / ".well-known"
    doc: dict[str, Any] = json.loads((well_known / "jwks.json").read_text())
    doc["iss"] = SHC_ISS
    doc["crls"] = [json.loads(p.read_text()) for p in sorted((well_known / "crl").glob("*.json"))]
    return load_shc_issuer(doc)


STORE: TrustStore = TrustStore(
    anchors(),
    NATIVE_LISTS,
    _REVOCATIONS,
    _RULE_SETS,
    dscs=dscs(),
    shc_issuers=[shc_issuer(), fuzz_shc_issuer()],
)
"""Native, DCC and SHC trust (and :mod:`fuzz.shc_keys`' issuer): what the verifying targets check against."""
