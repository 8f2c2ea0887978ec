"""ID-document checks: a keyed tag of the holder's ID number, and the key that makes and checks it.

A resident ID number has little entropy: given a region and a birth date
(often guessable), only ~10^3 sequence values remain, and the check digit is
computed, not random. A plain or salted hash of it would fall to brute force in
milliseconds, and a slow KDF only multiplies ~10^4 guesses by its cost. So the
tag is an HMAC under an *ID-check key* that only the issuer and trust-listed
verifiers hold: without the key a tag reveals nothing. The credential id is
hashed in too, so one person's tags on different codes cannot be linked.
``docs/privacy.md`` gives the threat model; ``docs/format.md`` §12 the bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from healthcred.errors import BadIdNumber, BadInput, BadKey, IdCheckUnavailable
from healthcred.files import read_bounded, write_secret
from healthcred.model import (
    ID_KEY_ID_BYTES,
    ID_TAG_BYTES,
    DocumentType,
    HealthCode,
    IdTag,
    VerificationResult,
)

__all__ = [
    "ID_KEY_FILE_FORMAT",
    "IdCheck",
    "IdCheckKey",
    "check_holder",
    "check_id",
    "generate_id_key",
    "id_tag",
    "load_id_key",
    "normalise_id_number",
    "save_id_key",
]

ID_KEY_FILE_FORMAT = "healthcred-id-key/1"
"""The ``format`` value of an ID-check key file (JSON)."""

IdCheck = Literal["not_required", "not_checked", "matched", "mismatch"]
"""What a gate knows of the holder's ID document (:func:`check_holder`): nothing to check (not a
paper code), a paper code whose number was not given, the number matches its tag, or it does not."""

_SECRET_BYTES = 32
_KEY_FILE_LIMIT = 4096  # a key file is ~200 bytes of JSON
_KEY_ID_DOMAIN = b"healthcred/id-key/v1\x00"
_TAG_DOMAIN = b"healthcred/id-tag/v1\x00"
_MAX_NUMBER = 24  # longest document number accepted (passports ≤ 9, permits ≤ 18)
# GB 11643-1999: weights of the 17 digits, and the check character for each sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SEPARATORS = str.maketrans("", "", " -\t")


@dataclass(frozen=True, slots=True)
class IdCheckKey:
    """A secret HMAC key for ID tags, its public ``key_id`` and the ``region`` it serves.

    The id is derived from the secret, so a key file cannot pair a secret with
    the wrong id. Give it only to issuers and trust-listed verifiers.
    """

    key_id: bytes
    secret: bytes = field(repr=False)
    region: str = "000000"

    @classmethod
    def from_secret(cls, secret: bytes, region: str = "000000") -> IdCheckKey:
        """The key for ``secret`` (32 bytes) serving ``region`` (a GB/T 2260 code; ``000000``: national)."""
        if not isinstance(secret, bytes) or len(secret) != _SECRET_BYTES:
            raise BadKey(f"an ID-check key secret is {_SECRET_BYTES} bytes")
        if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
            raise BadKey(f"ID-check key region {region!r} is not a 6-digit GB/T 2260 code")
        key_id = hashlib.sha256(_KEY_ID_DOMAIN + secret).digest()[:ID_KEY_ID_BYTES]
        return cls(key_id, secret, region)


def generate_id_key(region: str = "000000") -> IdCheckKey:
    """A fresh random ID-check key for ``region``."""
    return IdCheckKey.from_secret(secrets.token_bytes(_SECRET_BYTES), region)


def save_id_key(key: IdCheckKey, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``key`` as a JSON key file readable only by its owner (mode 0600), atomically.

    An existing file is refused (:class:`BadKey`) unless ``overwrite``: replacing an ID-check key
    makes every paper code tagged under it uncheckable, and a lost key cannot be recreated.
    """
    body = json.dumps(
        {
            "format": ID_KEY_FILE_FORMAT,
            "key_id": key.key_id.hex(),
            "region": key.region,
            "secret": key.secret.hex(),
        }
    )
    write_secret(path, body + "\n", overwrite=overwrite, error=BadKey)


def load_id_key(source: bytes | str | os.PathLike[str]) -> IdCheckKey:
    """Read an ID-check key file written by :func:`save_id_key` (a path or its bytes); raise BadKey."""
    path = "the ID-check key" if isinstance(source, bytes) else os.fspath(source)
    if isinstance(source, bytes):
        if len(source) > _KEY_FILE_LIMIT:
            raise BadKey(f"{path} is larger than {_KEY_FILE_LIMIT} bytes")
        raw = source
    else:  # bounded and non-blocking: a huge file, a folder or a FIFO named by mistake is one BadKey
        raw = read_bounded(source, _KEY_FILE_LIMIT, error=BadKey)
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadKey(f"{path} is not an ID-check key file (not UTF-8 JSON text: byte {exc.start})") from exc
    except ValueError as exc:  # json's message says where ("line 1 column 2"); no Python internals
        raise BadKey(f"{path} is not an ID-check key file (not JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != ID_KEY_FILE_FORMAT:
        raise BadKey(f"{path} is not an ID-check key file ({ID_KEY_FILE_FORMAT})")
    try:
        key = IdCheckKey.from_secret(bytes.fromhex(data["secret"]), data["region"])
        claimed = bytes.fromhex(data["key_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadKey(f"{path}: ID-check key file lacks a valid secret, region or key_id") from exc
    if claimed != key.key_id:
        raise BadKey(f"{path}: key_id {claimed.hex()} is not the id of its secret ({key.key_id.hex()})")
    return key


def _check_resident_id(number: str) -> None:
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise BadIdNumber("a resident ID number is 17 digits and a check digit (0–9 or X)")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise BadIdNumber(f"a resident ID number holds a birth date at 7–14; {number[6:14]} is none") from exc
    expected = _CHECK[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11]
    if number[17] != expected:
        # A typo shows here, not as a silent mismatch that a checker would read as "not this person".
        raise BadIdNumber(f"check digit is {number[17]}, GB 11643 gives {expected}: mistyped or misread")


def normalise_id_number(number: str, document_type: DocumentType = DocumentType.RESIDENT_ID_CARD) -> str:
    """The canonical form of a document number, as tags are computed over it; raise :class:`BadIdNumber`.

    Spaces, tabs and hyphens are dropped and letters upper-cased (``x`` → ``X``
    as resident ID cards print it). A resident ID number must be 18 characters
    with a real birth date and a correct GB 11643 check digit (15-digit
    first-generation cards are no longer valid documents); other documents
    must be 1–24 letters and digits.
    """
    if not isinstance(number, str):
        raise BadInput(f"an ID number is text, not {type(number).__name__}")
    if not isinstance(document_type, DocumentType):
        raise BadInput("document_type must be a DocumentType")
    clean = number.translate(_SEPARATORS).upper()
    if not clean or len(clean) > _MAX_NUMBER or not (clean.isascii() and clean.isalnum()):
        raise BadIdNumber(f"a document number is 1–{_MAX_NUMBER} letters and digits")
    if document_type is DocumentType.RESIDENT_ID_CARD:
        _check_resident_id(clean)
    return clean


def id_tag(key: IdCheckKey, credential_id: bytes, document_type: DocumentType, id_number: str) -> IdTag:
    """The tag of ``id_number`` for the credential ``credential_id``.

    ``HMAC-SHA256(secret, "healthcred/id-tag/v1" 0x00 || cti || doctype || number)``
    truncated to 16 bytes; ``number`` is :func:`normalise_id_number`'s ASCII.
    """
    if not isinstance(key, IdCheckKey):
        raise BadInput(f"key must be an IdCheckKey, not {type(key).__name__}")
    if not isinstance(credential_id, bytes):
        raise BadInput("credential_id must be bytes")
    number = normalise_id_number(id_number, document_type)
    return IdTag(key_id=key.key_id, tag=_tag(key, credential_id, document_type, number))


def _tag(key: IdCheckKey, credential_id: bytes, document_type: DocumentType, number: str) -> bytes:
    # ``number`` is already normalised.
    message = b"".join((_TAG_DOMAIN, credential_id, bytes((int(document_type),)), number.encode("ascii")))
    return hmac.digest(key.secret, message, "sha256")[:ID_TAG_BYTES]


def check_id(
    code: HealthCode | VerificationResult,
    id_number: str,
    keys: IdCheckKey | Iterable[IdCheckKey],
) -> bool:
    """Whether ``id_number`` (read or typed from an ID document) is the number the code was issued to.

    ``code`` is a verified result (or its credential); ``keys`` the ID-check
    key(s) this verifier holds, chosen by the tag's key id. Raises
    :class:`BadIdNumber` for a malformed number or wrong check digit (ask for it
    again), :class:`IdCheckUnavailable` when the code has no tag or no key
    matches, :class:`BadInput` for wrong argument types.
    """
    credential = code.credential if isinstance(code, VerificationResult) else code
    if not isinstance(credential, HealthCode):
        raise BadInput("check_id takes a native HealthCode or its VerificationResult")
    ring = [keys] if isinstance(keys, IdCheckKey) else list(keys)
    if not all(isinstance(k, IdCheckKey) for k in ring):
        raise BadInput("keys must be IdCheckKey objects")
    number = normalise_id_number(id_number, credential.subject.document_type)
    tag = credential.id_tag
    if tag is None:
        raise IdCheckUnavailable("this code carries no ID tag: compare name and masked number by eye")
    key = next((k for k in ring if k.key_id == tag.key_id), None)
    if key is None:
        raise IdCheckUnavailable(f"no ID-check key with id {tag.key_id.hex()} is installed here")
    expected = _tag(key, credential.id, credential.subject.document_type, number)
    return hmac.compare_digest(expected, tag.tag)


def check_holder(
    result: VerificationResult, id_number: str | None, keys: IdCheckKey | Iterable[IdCheckKey]
) -> IdCheck:
    """What a gate knows of the holder of a verified code, given the ID number presented (or ``None``).

    Only a paper code needs the check (:attr:`VerificationResult.id_check_required`; a verified
    paper code always carries its tag). Raises as :func:`check_id` does (:class:`BadIdNumber`
    for a mistyped number, :class:`IdCheckUnavailable` when no key matches).
    """
    if not result.id_check_required:
        return "not_required"
    if id_number is None:
        return "not_checked"
    return "matched" if check_id(result, id_number, keys) else "mismatch"
