"""One exception hierarchy for everything healthcred raises.

Every failure a caller can meet is a :class:`HealthCredError` subclass with a
stable, machine-readable ``code``. The codes are part of the public contract
(they appear in ``--json`` output and in the published test vectors): never
rename one, only add new ones. This module is the one place that knows them.
"""

from __future__ import annotations

__all__ = [
    "ERROR_CODES",
    "SETUP_CODES",
    "AlgorithmMismatch",
    "BadBase45",
    "BadBinding",
    "BadCertificate",
    "BadChunk",
    "BadCompression",
    "BadIdNumber",
    "BadImage",
    "BadInput",
    "BadKey",
    "BadPlaceCode",
    "BadPrefix",
    "BadSignature",
    "BindingError",
    "BindingMismatch",
    "ClaimsError",
    "CodeExpired",
    "CodeNotYetValid",
    "DelegationNotAllowed",
    "FormatError",
    "HealthCredError",
    "IdCheckUnavailable",
    "InvalidField",
    "InvalidRule",
    "KeyCompromised",
    "KeyNotValid",
    "KeyUsageMismatch",
    "KindNotAllowed",
    "MalformedCBOR",
    "MalformedCOSE",
    "MalformedJWS",
    "MissingGlyph",
    "QRBackendUnavailable",
    "QRError",
    "QRNotFound",
    "RegionNotAllowed",
    "Revoked",
    "RuleError",
    "RuleEvaluationError",
    "RuleSetUnavailable",
    "ScanLogError",
    "StatusNotAllowed",
    "TooLarge",
    "TooManyDependents",
    "TrustConflict",
    "TrustEquivocation",
    "TrustError",
    "TrustFolderBusy",
    "TrustListExpired",
    "TrustListMalformed",
    "TrustListNotYetValid",
    "TrustListRollback",
    "TrustStoreError",
    "UnknownIssuer",
    "UnknownKid",
    "UnsupportedAlgorithm",
    "UntrustedList",
    "ValidityError",
    "WorkerFailed",
]


class HealthCredError(Exception):
    """Root of every error healthcred raises; ``code`` is stable and machine-readable."""

    code: str = "healthcred_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


# --- caller mistakes -------------------------------------------------------------------------


class BadInput(HealthCredError):
    """The argument is of a type or value the function does not take."""

    code = "bad_input"


class InvalidField(BadInput, ValueError):
    """A credential field breaks a rule of the model (``subject.birth_date: 2023-02-30 is not a date``).

    Shares :class:`BadInput`'s code: the value was the caller's to get right. Also a
    :class:`ValueError`, as invalid values are in Python (and as pydantic's errors were).
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}" if field else rule)
        self.field = field
        """Where the value is, dotted for a nested one (``subject.name``); empty for a cross-field rule."""
        self.rule = rule
        """What is wrong with it."""


class MissingGlyph(BadInput):
    """Text to print has characters the font lacks; printing it would show boxes instead."""

    code = "missing_glyph"


class BadKey(HealthCredError):
    """A key file or key object cannot be used (wrong type, unreadable, unsupported curve)."""

    code = "bad_key"


class BadIdNumber(BadInput):
    """An ID document number is malformed, or its GB 11643 check digit is wrong."""

    code = "bad_id_number"


# --- the encoded text and its layers ---------------------------------------------------------


class FormatError(HealthCredError):
    """The code is not well-formed at some layer of the wire format."""

    code = "format_error"


class BadPrefix(FormatError):
    """The text does not start with a prefix this verifier knows."""

    code = "bad_prefix"


class BadBase45(FormatError):
    """The text after the prefix is not canonical Base45 (RFC 9285)."""

    code = "bad_base45"


class TooLarge(FormatError):
    """An input or a decompressed stage is larger than the format allows."""

    code = "too_large"


class BadCompression(FormatError):
    """The body is not one complete zlib stream (RFC 1950) with nothing after it."""

    code = "bad_compression"


class MalformedCOSE(FormatError):
    """The bytes are not a COSE_Sign1 message of the shape the format prescribes."""

    code = "malformed_cose"


class MalformedCBOR(FormatError):
    """A CBOR item is not well-formed, not deterministic, or has duplicate keys or trailing bytes."""

    code = "malformed_cbor"


class MalformedJWS(FormatError):
    """A compact JWS (SMART Health Card) is not three base64url parts with a valid header and payload."""

    code = "malformed_jws"


class BadChunk(FormatError):
    """SMART Health Card QR chunks are malformed, missing, repeated or inconsistent."""

    code = "bad_chunk"


class ClaimsError(FormatError):
    """The signed claims are well-formed CBOR but miss or mistype a required claim."""

    code = "bad_claims"


class BadPlaceCode(FormatError):
    """A place code's signed content is not of the prescribed shape (venue, region, scene, validity)."""

    code = "bad_place_code"


# --- trust -----------------------------------------------------------------------------------


class TrustError(HealthCredError):
    """The code, or a trust list, cannot be tied to a trusted key."""

    code = "trust_error"


class UnsupportedAlgorithm(TrustError):
    """The algorithm is not on the allow-list (EdDSA with Ed25519, ES256)."""

    code = "unsupported_alg"


class UnknownKid(TrustError):
    """No trusted key (in a list valid at the validation time) has this key id."""

    code = "unknown_kid"


class AlgorithmMismatch(TrustError):
    """The header names an algorithm other than the one the trust entry fixes for the key."""

    code = "alg_mismatch"


class BadSignature(TrustError):
    """No trusted key with this key id verifies the signature."""

    code = "bad_signature"


class KeyNotValid(TrustError):
    """The code was issued outside its signing key's validity window."""

    code = "key_not_valid"


class RegionNotAllowed(TrustError):
    """The signing key may not issue codes for the region the code names."""

    code = "region_not_allowed"


class KindNotAllowed(TrustError):
    """The signing key may not issue credentials of this kind."""

    code = "kind_not_allowed"


class StatusNotAllowed(TrustError):
    """The signing key may not issue this status (colour)."""

    code = "status_not_allowed"


class KeyCompromised(TrustError):
    """The code was issued at or after its signing key's compromise time."""

    code = "key_compromised"


class TrustConflict(TrustError):
    """Trust lists grant the same key different regions or algorithms; an operator must resolve it."""

    code = "trust_conflict"


class DelegationNotAllowed(TrustError):
    """A delegated trust list oversteps its delegating key (role, region, kinds, statuses or window)."""

    code = "delegation_not_allowed"


class TrustEquivocation(TrustConflict):
    """Two different signed objects claim one version of one series (a list, a rule set, a bundle)."""

    code = "trust_equivocation"


class TrustListRollback(TrustError):
    """A trust or revocation list is older than one this verifier has already accepted."""

    code = "trust_list_rollback"


class Revoked(TrustError):
    """The credential is on a revocation list of its issuer."""

    code = "revoked"


class UnknownIssuer(TrustError):
    """The credential's issuer (an SHC ``iss`` URL, or a DSC's country) is not in the trust store."""

    code = "unknown_issuer"


class BadCertificate(TrustError):
    """A signing certificate (DSC) cannot be used: unparseable, wrong key type, or outside its validity."""

    code = "bad_certificate"


class KeyUsageMismatch(TrustError):
    """The signing certificate's extended key usage does not allow this certificate type."""

    code = "key_usage_mismatch"


class UntrustedList(TrustError):
    """A trust list is not signed by any configured trust anchor."""

    code = "untrusted_list"


class TrustListMalformed(TrustError):
    """A trust list (or trust folder) is not of the prescribed shape."""

    code = "trust_list_malformed"


class TrustListExpired(TrustError):
    """The only trust lists holding the key had expired at the validation time."""

    code = "trust_list_expired"


class TrustListNotYetValid(TrustError):
    """The only trust lists holding the key were issued after the validation time."""

    code = "trust_list_not_yet_valid"


class TrustStoreError(TrustError):
    """The trust folder cannot be read (missing, no anchors, unreadable files)."""

    code = "trust_store_error"


class TrustFolderBusy(TrustStoreError):
    """Another command is changing the trust folder, or readers or a change kept it past the wait bound."""

    code = "trust_folder_busy"


class IdCheckUnavailable(TrustError):
    """The code carries no ID tag, or this verifier holds no ID-check key with the tag's key id."""

    code = "id_check_unavailable"


# --- time ------------------------------------------------------------------------------------


class ValidityError(HealthCredError):
    """The code is genuine but not valid at the validation time."""

    code = "validity_error"


class CodeExpired(ValidityError):
    """The validation time is past the code's expiry (plus the clock-skew allowance)."""

    code = "expired"


class CodeNotYetValid(ValidityError):
    """The code's issue time is after the validation time (plus the clock-skew allowance)."""

    code = "not_yet_valid"


# --- relatives binding ----------------------------------------------------------------------


class BindingError(HealthCredError):
    """A relatives binding or a family bundle cannot be used."""

    code = "binding_error"


class BadBinding(BindingError):
    """A binding or family-bundle file is not of the prescribed shape, version or size."""

    code = "bad_binding"


class BindingMismatch(BindingError):
    """The binding does not name this guardian's and this dependent's credentials."""

    code = "binding_mismatch"


class TooManyDependents(BindingError):
    """A guardian would hold more dependents than the limit (8)."""

    code = "too_many_dependents"


# --- scan log --------------------------------------------------------------------------------


class ScanLogError(HealthCredError):
    """The verifier's scan log cannot be opened, written or read."""

    code = "scan_log_error"


# --- rules ---------------------------------------------------------------------------------


class RuleError(HealthCredError):
    """A rule (CertLogic expression) or rule set cannot be used."""

    code = "rule_error"


class InvalidRule(RuleError):
    """A CertLogic expression is not valid; the message gives the path to the fault."""

    code = "invalid_rule"


class RuleSetUnavailable(RuleError):
    """No signed rule set of the needed kind is valid at the decision time; nothing unsigned is used."""

    code = "rule_set_unavailable"


class RuleEvaluationError(RuleError):
    """A valid CertLogic expression failed on this data (a type mismatch, its budget, or the date range)."""

    code = "rule_evaluation_error"


# --- QR images -------------------------------------------------------------------------------


class QRError(HealthCredError):
    """A QR code cannot be rendered or read."""

    code = "qr_error"


class BadImage(QRError):
    """The input is not an image the reader can open."""

    code = "bad_image"


class QRNotFound(QRError):
    """The image opened, but no readable QR code was found in it."""

    code = "qr_not_found"


class QRBackendUnavailable(QRError):
    """The chosen QR reader backend is not installed on this machine."""

    code = "qr_backend_unavailable"


# --- worker processes ------------------------------------------------------------------------


class WorkerFailed(HealthCredError):
    """A worker process (or an executor's worker) stopped or failed before returning its share of the work."""

    code = "worker_failed"


def _all_codes() -> dict[str, type[HealthCredError]]:
    seen: dict[str, type[HealthCredError]] = {}
    todo: list[type[HealthCredError]] = [HealthCredError]
    while todo:
        cls = todo.pop()
        seen.setdefault(cls.code, cls)  # a subclass may share its parent's code: the parent names it
        todo.extend(cls.__subclasses__())
    return seen


ERROR_CODES: dict[str, type[HealthCredError]] = _all_codes()
"""Every stable error code, mapped to its exception class."""

SETUP_CODES = frozenset(
    {
        "trust_store_error",
        "trust_folder_busy",
        "trust_list_expired",
        "trust_list_not_yet_valid",
        "untrusted_list",
        "rule_set_unavailable",
        "id_check_unavailable",
        "scan_log_error",
        "qr_backend_unavailable",
        "worker_failed",
    }
)
"""Error codes that always mean the verifier's or issuer's own setup, whichever command meets them.

Any other error met while a command loads its setup (see
:func:`healthcred.cli.exits.setup_step`) is a setup problem too; the checkpoint station shows
these as its own fault, never as the person's.
"""
