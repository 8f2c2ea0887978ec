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

import importlib

from healthcred import _moved

_moved.install()

__version__ = "0.1.0"

_PUBLIC = {
    "DEFAULT_SKEW": "clock",
    "read_qr": "codec.qr",
    "render_qr": "codec.qr",
    "Alg": "crypto.algorithms",
    "Signer": "crypto.cose",
    "generate_key": "crypto.keys",
    "kid_of": "crypto.keys",
    "ERROR_CODES": "errors",
    "HealthCredError": "errors",
    "Relation": "flows.binding",
    "make_binding": "flows.binding",
    "make_family_bundle": "flows.family",
    "verify_dependent": "flows.binding",
    "verify_family": "flows.family",
    "Gate": "flows.gate",
    "IdCheckKey": "flows.idcheck",
    "check_id": "flows.idcheck",
    "generate_id_key": "flows.idcheck",
    "issue": "flows.issue",
    "issue_paper": "flows.issue",
    "derive_national": "flows.national",
    "issue_place": "flows.places",
    "verify_place": "flows.places",
    "verify": "flows.verify",
    "verify_all": "flows.verify",
    "VerifierPool": "flows.pool",
    "CredentialKind": "model",
    "DocumentType": "model",
    "ForeignCredential": "model",
    "GREEN": "model",
    "HealthCode": "model",
    "NATIONAL_PALETTE": "model",
    "Person": "model",
    "RED": "model",
    "SourceFormat": "model",
    "Status": "model",
    "Subject": "model",
    "VerificationResult": "model",
    "YELLOW": "model",
    "NATIONAL_REGION": "regions",
    "load_trust": "trust.folder",
    "make_revocation_list": "trust.revocation",
    "KeyGrant": "trust.grants",
    "TrustStore": "trust.store",
    "make_trust_list": "trust.lists",
}
"""Each public name → the module below ``healthcred.`` that holds it.

``import healthcred`` imports none of them (nor any third-party package): a name's module is
imported on first access (PEP 562), so a program pays only for what it uses.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers and IDEs see every name as if imported here
    from healthcred.clock import DEFAULT_SKEW
    from healthcred.codec.qr import read_qr, render_qr
    from healthcred.crypto.algorithms import Alg
    from healthcred.crypto.cose import Signer
    from healthcred.crypto.keys import generate_key, kid_of
    from healthcred.errors import ERROR_CODES, HealthCredError
    from healthcred.flows.binding import Relation, make_binding, verify_dependent
    from healthcred.flows.family import make_family_bundle, verify_family
    from healthcred.flows.gate import Gate
    from healthcred.flows.idcheck import IdCheckKey, check_id, generate_id_key
    from healthcred.flows.issue import issue, issue_paper
    from healthcred.flows.national import derive_national
    from healthcred.flows.places import issue_place, verify_place
    from healthcred.flows.pool import VerifierPool
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
    "VerifierPool",
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


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first access and kept for the next."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'healthcred' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"healthcred.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})
