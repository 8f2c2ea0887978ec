"""healthcred: offline-verifiable signed health codes.

Issue a credential as one QR code, and verify it offline against a signed
trust list of regional issuer keys::

    import healthcred
    trust = healthcred.load_trust("demo/trust")
    result = healthcred.verify("JKM1:...", trust)
    print(result.status.name, result.subject.masked_name, result.region)
"""

from healthcred.codec.qr import read_qr, render_qr
from healthcred.errors import ERROR_CODES, HealthCredError
from healthcred.gate import Gate
from healthcred.issuer import issue
from healthcred.model import (
    GREEN,
    NATIONAL_PALETTE,
    RED,
    YELLOW,
    CredentialKind,
    DocumentType,
    HealthCode,
    Status,
    Subject,
    VerificationResult,
)
from healthcred.national import derive_national
from healthcred.signing.algorithms import Alg
from healthcred.signing.cose import Signer
from healthcred.signing.folder import load_trust
from healthcred.signing.keys import generate_key, kid_of
from healthcred.signing.revocation import make_revocation_list
from healthcred.signing.trust import NATIONAL_REGION, KeyGrant, TrustStore, make_trust_list
from healthcred.verifier import DEFAULT_SKEW, verify

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SKEW",
    "ERROR_CODES",
    "GREEN",
    "NATIONAL_PALETTE",
    "NATIONAL_REGION",
    "RED",
    "YELLOW",
    "Alg",
    "CredentialKind",
    "DocumentType",
    "Gate",
    "HealthCode",
    "HealthCredError",
    "KeyGrant",
    "Signer",
    "Status",
    "Subject",
    "TrustStore",
    "VerificationResult",
    "__version__",
    "derive_national",
    "generate_key",
    "issue",
    "kid_of",
    "load_trust",
    "make_revocation_list",
    "make_trust_list",
    "read_qr",
    "render_qr",
    "verify",
]
