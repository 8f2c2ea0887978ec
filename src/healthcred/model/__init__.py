"""The credential and the verification result, as immutable models (no CBOR, no signatures).

:mod:`~healthcred.model.status` holds the colours, :mod:`~healthcred.model.credential`
the native credential, :mod:`~healthcred.model.result` what a verification returns,
:mod:`~healthcred.model.record` what the credential's plain immutable records share;
every public name is importable from :mod:`healthcred.model` itself.
"""

from healthcred.model.credential import (
    CREDENTIAL_ID_BYTES,
    FORMAT_VERSION,
    ID_KEY_ID_BYTES,
    ID_TAG_BYTES,
    PAPER_LIFETIME,
    PAPER_MAX_LIFETIME,
    CredentialKind,
    DocumentType,
    HealthCode,
    IdTag,
    Subject,
    mask_document_number,
    mask_name,
)
from healthcred.model.result import ForeignCredential, Person, SourceFormat, VerificationResult
from healthcred.model.status import (
    GREEN,
    NATIONAL_PALETTE,
    RED,
    STATUS_BY_NAME,
    YELLOW,
    Status,
    status_from_code,
)

__all__ = [
    "CREDENTIAL_ID_BYTES",
    "FORMAT_VERSION",
    "GREEN",
    "ID_KEY_ID_BYTES",
    "ID_TAG_BYTES",
    "NATIONAL_PALETTE",
    "PAPER_LIFETIME",
    "PAPER_MAX_LIFETIME",
    "RED",
    "STATUS_BY_NAME",
    "YELLOW",
    "CredentialKind",
    "DocumentType",
    "ForeignCredential",
    "HealthCode",
    "IdTag",
    "Person",
    "SourceFormat",
    "Status",
    "Subject",
    "VerificationResult",
    "mask_document_number",
    "mask_name",
    "status_from_code",
]
