"""healthcred: offline-verifiable signed health codes.

Issue a credential as one QR code, and verify it offline against a signed
trust list of regional issuer keys::

    import healthcred
    trust = healthcred.load_trust("demo/trust")
    result = healthcred.verify("JKM1:...", trust)
    print(result.status.name, result.subject.masked_name, result.region)

The same ``verify`` reads EU DCCs (``HC1:``) and SMART Health Cards
(``shc:/``) against DSCs and SHC issuers in the store; paper codes, relatives
bindings and place codes have their own functions below.
"""

from healthcred import _moved
from healthcred.clock import DEFAULT_SKEW
from healthcred.codec.qr import read_qr, render_qr
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.cose import Signer
from healthcred.crypto.keys import generate_key, kid_of
from healthcred.errors import ERROR_CODES, HealthCredError
from healthcred.flows.binding import (
    Relation,
    make_binding,
    make_family_bundle,
    verify_dependent,
    verify_family,
)
from healthcred.flows.gate import Gate
from healthcred.flows.idcheck import IdCheckKey, check_id, generate_id_key
from healthcred.flows.issue import issue, issue_paper
from healthcred.flows.national import derive_national
from healthcred.flows.places import issue_place, verify_place
from healthcred.flows.verify import verify, verify_all
from healthcred.model import (
    GREEN,
    NATIONAL_PALETTE,
    RED,
    YELLOW,
    CredentialKind,
    DocumentType,
    ForeignCredential,
    HealthCode,
    Person,
    SourceFormat,
    Status,
    Subject,
    VerificationResult,
)
from healthcred.regions import NATIONAL_REGION
from healthcred.trust.folder import load_trust
from healthcred.trust.grants import KeyGrant
from healthcred.trust.lists import make_trust_list
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.store import TrustStore

_moved.install()

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
    "ForeignCredential",
    "Gate",
    "HealthCode",
    "HealthCredError",
    "IdCheckKey",
    "KeyGrant",
    "Person",
    "Relation",
    "Signer",
    "SourceFormat",
    "Status",
    "Subject",
    "TrustStore",
    "VerificationResult",
    "__version__",
    "check_id",
    "derive_national",
    "generate_id_key",
    "generate_key",
    "issue",
    "issue_paper",
    "issue_place",
    "kid_of",
    "load_trust",
    "make_binding",
    "make_family_bundle",
    "make_revocation_list",
    "make_trust_list",
    "read_qr",
    "render_qr",
    "verify",
    "verify_all",
    "verify_dependent",
    "verify_family",
    "verify_place",
]
