"""The native credential: its kinds, the subject (masked), the ID tag and :class:`HealthCode`.

The model knows nothing of CBOR or signatures: :mod:`healthcred.native.claims` maps it
to the wire, the flows sign and verify it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Any, Literal

from healthcred.errors import InvalidField
from healthcred.model.record import Record, fill, member, moment, nested, number, octets, text, trusted
from healthcred.model.status import Status, status_from_code
from healthcred.regions import REGION_PATTERN

__all__ = [
    "BIRTH_DATE_MAX_CHARS",
    "CREDENTIAL_ID_BYTES",
    "DOCUMENT_NUMBER_MAX_CHARS",
    "DOCUMENT_TYPE_BY_CODE",
    "FORMAT_VERSION",
    "ID_KEY_ID_BYTES",
    "ID_TAG_BYTES",
    "KIND_BY_CODE",
    "NAME_MAX_CHARS",
    "PAPER_LIFETIME",
    "PAPER_MAX_LIFETIME",
    "PAPER_MAX_SECONDS",
    "REGION_CHARS",
    "CredentialKind",
    "DocumentType",
    "HealthCode",
    "IdTag",
    "Subject",
    "code_if_valid",
    "id_tag_if_valid",
    "mask_document_number",
    "mask_name",
    "subject_if_valid",
]

FORMAT_VERSION: Literal[1] = 1
"""Version of the health-code claim map this library writes and reads."""

CREDENTIAL_ID_BYTES = 16
"""Length of the random credential id (128 bits: unique at national scale without coordination)."""

PAPER_LIFETIME = timedelta(days=14)
"""Default lifetime of a paper code (a sheet is printed once and carried for weeks)."""
PAPER_MAX_LIFETIME = timedelta(days=180)
"""Longest lifetime a paper code may have: refused when issuing and when verifying."""

ID_KEY_ID_BYTES = 8
"""Length of an ID-check key's id in an ID tag."""
ID_TAG_BYTES = 16
"""Length of the truncated HMAC-SHA256 in an ID tag (128 bits: no online guessing of a tag)."""
NAME_MAX_CHARS = 64
"""Most characters of a subject's name."""
BIRTH_DATE_MAX_CHARS = 10
"""Most characters of a birth date (``YYYY-MM-DD``)."""
DOCUMENT_NUMBER_MAX_CHARS = 24
"""Most characters of a masked document number."""
REGION_CHARS = 6
"""Characters of a region code (six digits of GB/T 2260, :data:`healthcred.regions.REGION_PATTERN`)."""

_REGION = re.compile(REGION_PATTERN)
_REGION_SHAPE = "a 6-digit GB/T 2260 code"
_BIRTH_DATE = re.compile(r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?")
_MASKED_DOC = re.compile(r"[0-9A-Za-z]{0,6}\*+[0-9A-Za-z]{0,4}")
# Unicode White_Space, as the Rust regex the pydantic models used read ``\s``: unlike Python's
# ``\s`` it leaves out the separators U+001C-U+001F, which a name may therefore hold.
_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NAME = re.compile(f"[^{_SPACE}](.*[^{_SPACE}])?")


class CredentialKind(IntEnum):
    """What a credential asserts (codes as on the wire). Later kinds (paper code) extend this list."""

    HEALTH_STATUS = 1
    """A region's health code."""
    NATIONAL = 2
    """The national platform's epidemic prevention information code, derived from a regional one."""
    PAPER = 3
    """A long-lived printed code for people without a phone; the holder is checked against an ID document."""


class DocumentType(IntEnum):
    """The identity document a subject is registered with (codes as on the wire)."""

    RESIDENT_ID_CARD = 1
    PASSPORT = 2
    HK_MACAO_PERMIT = 3
    TAIWAN_PERMIT = 4
    FOREIGNER_PERMANENT_RESIDENCE = 5
    OTHER = 9


KIND_BY_CODE: dict[int, CredentialKind] = {int(m): m for m in CredentialKind}
"""Each credential kind by its wire code (a dict lookup: the enum's own call costs more on the hot path)."""
DOCUMENT_TYPE_BY_CODE: dict[int, DocumentType] = {int(m): m for m in DocumentType}
"""Each document type by its wire code."""


def mask_name(name: str) -> str:
    """Mask a name for display: ``张三丰`` → ``张*丰``, ``张三`` → ``张*``."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_document_number(number: str) -> str:
    """Keep the first 4 and last 4 characters of a document number, mask the rest.

    ``330106198503121234`` → ``3301**********1234``. Short numbers keep less.
    """
    number = number.strip()
    if len(number) < 3:
        raise ValueError("document number is too short to mask")
    keep = min(4, (len(number) - 1) // 2)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[len(number) - keep :]


class Subject(Record):
    """The person a code belongs to, as little as a checker needs.

    The document number is held only in masked form; the name is held in full
    for comparison with a document and shown masked by default.
    """

    __slots__ = ("name", "birth_date", "document_type", "document_number")  # noqa: RUF023  (field order)
    name: str
    """1–64 characters, no white space at either end, no line break, valid Unicode."""
    birth_date: str
    """YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date)."""
    document_type: DocumentType
    document_number: str
    """masked: 3301**********1234 (at most 24 characters)."""

    def __init__(
        self, *, name: str, birth_date: str, document_type: DocumentType, document_number: str
    ) -> None:
        """Check and hold the fields; raise :class:`InvalidField`."""
        name = text(
            name,
            "name",
            _NAME,
            NAME_MAX_CHARS,
            "a name (1+ characters, no white space at an end, no line break)",
        )
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidField("name", "is not valid Unicode (a lone surrogate)") from None
        fill(self, "name", name)
        fill(self, "birth_date", _birth_date(birth_date))
        fill(self, "document_type", member(document_type, "document_type", DocumentType))
        fill(
            self,
            "document_number",
            text(
                document_number,
                "document_number",
                _MASKED_DOC,
                DOCUMENT_NUMBER_MAX_CHARS,
                "a masked number (3301**********1234)",
            ),
        )

    @classmethod
    def create(cls, name: str, birth_date: str, document_type: DocumentType, document_number: str) -> Subject:
        """Build a subject from a clear document number, which is masked here and never kept."""
        return cls(
            name=name,
            birth_date=birth_date,
            document_type=document_type,
            document_number=mask_document_number(document_number),
        )

    @property
    def masked_name(self) -> str:
        """The name as a display should show it."""
        return mask_name(self.name)


def _birth_date(value: object) -> str:
    given = text(value, "birth_date", _BIRTH_DATE, BIRTH_DATE_MAX_CHARS, "YYYY, YYYY-MM or YYYY-MM-DD")
    if len(given) == 10:
        try:
            date.fromisoformat(given)  # the pattern admits 2023-02-30; the calendar does not
        except ValueError:
            raise InvalidField("birth_date", f"{given} is not a date") from None
    return given


class IdTag(Record):
    """A keyed tag of the holder's ID number: lets a verifier holding the ID-check key confirm it.

    ``tag`` is HMAC-SHA256 under the key named by ``key_id`` over the credential
    id and the normalised number (see :mod:`healthcred.flows.idcheck`); the
    number itself is never in the code.
    """

    __slots__ = ("key_id", "tag")
    key_id: bytes
    """:data:`ID_KEY_ID_BYTES` bytes."""
    tag: bytes
    """:data:`ID_TAG_BYTES` bytes."""

    def __init__(self, *, key_id: bytes, tag: bytes) -> None:
        """Check and hold the fields; raise :class:`InvalidField`."""
        fill(self, "key_id", octets(key_id, "key_id", ID_KEY_ID_BYTES))
        fill(self, "tag", octets(tag, "tag", ID_TAG_BYTES))


def _utc_seconds(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


class HealthCode(Record):
    """One health-code credential: who, which colour, where issued, and when valid."""

    __slots__ = (  # noqa: RUF023  (field order: the repr's, model_dump's)
        "version",
        "kind",
        "id",
        "status",
        "reason",
        "subject",
        "region",
        "issued_at",
        "expires_at",
        "source_region",
        "source_id",
        "id_tag",
    )
    version: Literal[1]
    kind: CredentialKind
    id: bytes
    """:data:`CREDENTIAL_ID_BYTES` random bytes."""
    status: Status
    reason: int | None
    """0–65535, or none."""
    subject: Subject
    region: str
    """GB/T 2260 code, e.g. 330000"""
    issued_at: datetime
    expires_at: datetime
    source_region: str | None
    """For a national code: the region whose code it was derived from."""
    source_id: bytes | None
    """For a national code: the credential id of the regional code it was derived from."""
    id_tag: IdTag | None
    """Keyed tag of the holder's ID number; required on the wire for a paper code, optional otherwise."""

    def __init__(
        self,
        *,
        version: Literal[1] = FORMAT_VERSION,
        kind: CredentialKind = CredentialKind.HEALTH_STATUS,
        id: bytes,
        status: Status,
        reason: int | None = None,
        subject: Subject,
        region: str,
        issued_at: datetime,
        expires_at: datetime,
        source_region: str | None = None,
        source_id: bytes | None = None,
        id_tag: IdTag | None = None,
    ) -> None:
        """Check and hold the fields; raise :class:`InvalidField`."""
        if type(version) is not int or version != FORMAT_VERSION:
            raise InvalidField("version", f"must be {FORMAT_VERSION}, not {version!r}")
        fill(self, "version", version)
        fill(self, "kind", member(kind, "kind", CredentialKind))
        fill(self, "id", octets(id, "id", CREDENTIAL_ID_BYTES))
        fill(self, "status", nested(Status, status, "status"))
        fill(self, "reason", None if reason is None else number(reason, "reason", 0, 0xFFFF))
        fill(self, "subject", nested(Subject, subject, "subject"))
        fill(self, "region", text(region, "region", _REGION, REGION_CHARS, _REGION_SHAPE))
        fill(self, "issued_at", moment(issued_at, "issued_at"))
        fill(self, "expires_at", moment(expires_at, "expires_at"))
        fill(
            self,
            "source_region",
            None
            if source_region is None
            else text(source_region, "source_region", _REGION, REGION_CHARS, _REGION_SHAPE),
        )
        fill(
            self,
            "source_id",
            None if source_id is None else octets(source_id, "source_id", CREDENTIAL_ID_BYTES),
        )
        fill(self, "id_tag", None if id_tag is None else nested(IdTag, id_tag, "id_tag"))
        self._check_times()

    def _check_times(self) -> None:
        if self.expires_at <= self.issued_at:
            raise InvalidField("expires_at", "expires_at must be after issued_at")
        derived = self.kind is CredentialKind.NATIONAL
        if derived != (self.source_region is not None) or derived != (self.source_id is not None):
            raise InvalidField(
                "", "a national code, and only a national code, names its source region and id"
            )
        if self.kind is CredentialKind.PAPER and self.expires_at - self.issued_at > PAPER_MAX_LIFETIME:
            raise InvalidField(
                "expires_at", f"a paper code may be valid for at most {PAPER_MAX_LIFETIME.days} days"
            )

    @classmethod
    def create(
        cls,
        *,
        subject: Subject,
        status: Status,
        region: str,
        valid_for: timedelta | None = None,
        issued_at: datetime | None = None,
        reason: int | None = None,
        id: bytes | None = None,
        **extra: Any,
    ) -> HealthCode:
        """A new credential with a random id, issued now (or at ``issued_at``) for ``valid_for``.

        ``valid_for`` defaults to one day, or :data:`PAPER_LIFETIME` (14 days) for a paper code.
        """
        start = _utc_seconds(issued_at or datetime.now(UTC))
        if valid_for is None:
            valid_for = PAPER_LIFETIME if extra.get("kind") == CredentialKind.PAPER else timedelta(days=1)
        return cls(
            id=id if id is not None else os.urandom(CREDENTIAL_ID_BYTES),
            status=status,
            reason=reason,
            subject=subject,
            region=region,
            issued_at=start,
            expires_at=start + valid_for,
            **extra,
        )


# The verifier's lean path: the checks of the constructors above on plain wire values, as one
# predicate each that returns None instead of raising. A None sends the caller to the
# constructors, which then raise the error (class, code, field, message) they always raise; so
# these functions need not explain a refusal, only never accept what a constructor refuses
# (tests/model/test_lean.py holds them to it). Exact types only: a subclass goes the long way.

PAPER_MAX_SECONDS = int(PAPER_MAX_LIFETIME.total_seconds())
""":data:`PAPER_MAX_LIFETIME` in seconds, as the wire's times are."""


def subject_if_valid(
    name: object, birth_date: object, document_type: object, number: object
) -> Subject | None:
    """The :class:`Subject` of these values if its constructor accepts them as they are, else ``None``."""
    if (
        type(name) is not str
        or type(birth_date) is not str
        or type(number) is not str
        or not isinstance(document_type, DocumentType)
        or len(name) > NAME_MAX_CHARS
        or len(birth_date) > BIRTH_DATE_MAX_CHARS
        or len(number) > DOCUMENT_NUMBER_MAX_CHARS
        or _NAME.fullmatch(name) is None
        or _BIRTH_DATE.fullmatch(birth_date) is None
        or _MASKED_DOC.fullmatch(number) is None
    ):
        return None
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            return None
    if len(birth_date) == 10:
        try:
            date.fromisoformat(birth_date)
        except ValueError:
            return None
    return trusted(Subject, name, birth_date, document_type, number)


def id_tag_if_valid(key_id: object, tag: object) -> IdTag | None:
    """The :class:`IdTag` of these values if its constructor accepts them as they are, else ``None``."""
    if type(key_id) is not bytes or type(tag) is not bytes or len(key_id) != ID_KEY_ID_BYTES:
        return None
    return trusted(IdTag, key_id, tag) if len(tag) == ID_TAG_BYTES else None


def code_if_valid(
    kind: CredentialKind,
    id: object,
    status: int,
    palette: Any,
    reason: object,
    subject: Subject,
    region: object,
    issued: int,
    expires: int,
    source_region: object,
    source_id: object,
    id_tag: IdTag | None,
) -> HealthCode | None:
    """The :class:`HealthCode` if its constructor accepts these values, else ``None``.

    ``issued`` and ``expires`` are epoch seconds already in the wire's range; ``status`` a code
    in 1..255, named from ``palette`` as :func:`~healthcred.model.status.status_from_code` does.
    """
    if (
        type(id) is not bytes
        or len(id) != CREDENTIAL_ID_BYTES
        or (reason is not None and (type(reason) is not int or not 0 <= reason <= 0xFFFF))
        or type(region) is not str
        or len(region) > REGION_CHARS
        or _REGION.fullmatch(region) is None
        or expires <= issued
    ):
        return None
    national = kind is CredentialKind.NATIONAL
    if source_region is None or source_id is None:
        if national or source_region is not None or source_id is not None:
            return None
    elif (
        not national
        or type(source_region) is not str
        or len(source_region) > REGION_CHARS
        or _REGION.fullmatch(source_region) is None
        or type(source_id) is not bytes
        or len(source_id) != CREDENTIAL_ID_BYTES
    ):
        return None
    if kind is CredentialKind.PAPER and expires - issued > PAPER_MAX_SECONDS:
        return None
    named = status_from_code(status, palette)
    if not isinstance(named, Status):
        return None
    issued_at, expires_at = datetime.fromtimestamp(issued, UTC), datetime.fromtimestamp(expires, UTC)
    return trusted(
        HealthCode, FORMAT_VERSION, kind, id, named, reason, subject, region, issued_at, expires_at,
        source_region, source_id, id_tag,
    )  # fmt: skip
