"""Place codes: a venue's signed QR (``JKP1:``) that a scanning post (collection point) verifies.

A place code names the venue (id and display name), its region, its scene
type (one of :data:`~healthcred.rules.policy.SCENES`, which picks the policy
rules) and a validity window. It is a COSE_Sign1 with content type
:data:`PLACE_CONTENT_TYPE`, signed by a key on the trust lists that may sign
for the venue's region (issue role; a key whose grant lists kinds must list
:data:`PLACE_GRANT_KIND`). It carries nothing about people. Wire format:
``docs/format.md`` §15.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from healthcred.clock import DEFAULT_SKEW, epoch_seconds
from healthcred.codec.prefix import PLACE_PREFIX
from healthcred.crypto.algorithms import ALG_LABELS, PrivateKey
from healthcred.crypto.cose import Sign1, Signer, open_content, sign_content
from healthcred.errors import BadPlaceCode, HealthCredError
from healthcred.flows.checks import allowances, check_window, issue_window
from healthcred.limits import MAX_EPOCH
from healthcred.native.text import encode_text, read_text
from healthcred.rules.policy import SCENES
from healthcred.trust.grants import PLACE_GRANT_KIND, permitting_entry
from healthcred.trust.store import TrustStore

__all__ = [
    "PLACE_CONTENT_TYPE",
    "PLACE_GRANT_KIND",
    "Place",
    "PlaceKey",
    "PlaceResult",
    "issue_place",
    "read_place",
    "verify_place",
]

PLACE_CONTENT_TYPE = "application/vnd.healthcred.place+cbor"
"""COSE content type of a place code."""
PLACE_FORMAT = 1
"""Version of the place payload."""
PLACE_MAX_LIFETIME = timedelta(days=366)
"""Longest validity of a place code: a poster is re-issued at least yearly (venues close, move)."""

_VENUE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
_MAX_NAME = 64


class PlaceKey(IntEnum):
    """Keys of the signed place payload (``docs/format.md`` §15), in their required order."""

    FORMAT = 1
    VENUE = 2
    NAME = 3
    REGION = 4
    SCENE = 5
    ISSUED = 6
    EXPIRES = 7


_P_KEYS = tuple(PlaceKey)


@dataclass(frozen=True, slots=True)
class Place:
    """What a place code says: venue id and name, region, scene type and validity."""

    venue_id: str
    name: str
    region: str
    scene: str
    issued_at: datetime
    expires_at: datetime

    def summary(self) -> dict[str, Any]:
        """JSON-ready form (a place code holds no personal data)."""
        return {
            "venue_id": self.venue_id,
            "name": self.name,
            "region": self.region,
            "scene": self.scene,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """A verified place code: the place and the key that vouched for it (its kid, region, algorithm)."""

    place: Place
    kid: bytes
    key_region: str
    verified_at: datetime
    alg: str
    """The signing key's algorithm as its trust entry gives it (``"EdDSA"``, ``"ES256"``, ``"SM2"``)."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready form, with ``valid`` and the signing key."""
        return {
            "valid": True,
            **self.place.summary(),
            "kid": self.kid.hex(),
            "alg": self.alg,
            "key_region": self.key_region,
            "verified_at": self.verified_at.isoformat(),
        }


def _check_fields(venue_id: Any, name: Any, region: Any, scene: Any) -> None:
    if not isinstance(venue_id, str) or not _VENUE_ID.fullmatch(venue_id):
        raise BadPlaceCode("venue id must be 1–32 letters, digits, '.', '_' or '-' (starting alphanumeric)")
    if not isinstance(name, str) or not 1 <= len(name) <= _MAX_NAME or name != name.strip():
        raise BadPlaceCode(f"venue name must be 1–{_MAX_NAME} characters without surrounding space")
    if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
        raise BadPlaceCode("place region must be a 6-digit GB/T 2260 code")
    if scene not in SCENES:
        raise BadPlaceCode(f"scene must be one of {', '.join(SCENES)}")


def issue_place(
    key: PrivateKey | Signer,
    *,
    venue_id: str,
    name: str,
    region: str,
    scene: str,
    valid_for: timedelta = timedelta(days=365),
    issued_at: datetime | None = None,
) -> str:
    """Sign a place code for a venue with a regional key; return its QR text (``JKP1:…``).

    Raises ``bad_place_code`` for a field outside its bounds, ``bad_input``
    for a lifetime over :data:`PLACE_MAX_LIFETIME` or a naive time.
    """
    _check_fields(venue_id, name, region, scene)
    issued, expires = issue_window(issued_at, valid_for, PLACE_MAX_LIFETIME, "place code")
    payload = {
        PlaceKey.FORMAT: PLACE_FORMAT,
        PlaceKey.VENUE: venue_id,
        PlaceKey.NAME: name,
        PlaceKey.REGION: region,
        PlaceKey.SCENE: scene,
        PlaceKey.ISSUED: issued,
        PlaceKey.EXPIRES: expires,
    }
    # A place message is ~150 bytes, under the 256 where zlib could help: always bare (level 0).
    return encode_text(sign_content(payload, key, PLACE_CONTENT_TYPE), PLACE_PREFIX, level=0)


def _place(message: Sign1) -> Place:
    try:
        body = open_content(message, PLACE_CONTENT_TYPE, "place code", max_depth=2, max_items=16)
    except HealthCredError as exc:
        raise BadPlaceCode(exc.message) from exc
    if type(body) is not dict or tuple(body) != _P_KEYS:
        raise BadPlaceCode("place code must be a map with exactly keys 1–7, in order")
    if body[PlaceKey.FORMAT] != PLACE_FORMAT:
        raise BadPlaceCode(f"unsupported place-code format {body[PlaceKey.FORMAT]!r}")
    _check_fields(body[PlaceKey.VENUE], body[PlaceKey.NAME], body[PlaceKey.REGION], body[PlaceKey.SCENE])
    issued, expires = body[PlaceKey.ISSUED], body[PlaceKey.EXPIRES]
    if type(issued) is not int or type(expires) is not int or not 0 <= issued < expires <= MAX_EPOCH:
        raise BadPlaceCode("place code times must be unsigned integers with expiry after issue")
    if expires - issued > PLACE_MAX_LIFETIME.total_seconds():
        raise BadPlaceCode(f"a place code is valid for at most {PLACE_MAX_LIFETIME.days} days")
    return Place(
        body[PlaceKey.VENUE],
        body[PlaceKey.NAME],
        body[PlaceKey.REGION],
        body[PlaceKey.SCENE],
        datetime.fromtimestamp(issued, UTC),
        datetime.fromtimestamp(expires, UTC),
    )


def read_place(text: str) -> Place:
    """Decode a place code **without verifying** its signature (to show what a poster claims)."""
    return _place(read_text(text, PLACE_PREFIX))


def verify_place(
    text: str,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = timedelta(0),
) -> PlaceResult:
    """Verify a place code's text offline against ``trust``; return the place or raise one error.

    Layers as for a health code (``bad_prefix``, ``bad_base45``, ``malformed_cose``,
    trust errors), then ``bad_place_code``, the grant (``region_not_allowed``,
    ``key_not_valid``, ``kind_not_allowed``…), ``expired`` and ``not_yet_valid``.
    """
    allow_skew, allow_grace = allowances(trust, skew, grace)
    now = epoch_seconds(at)
    message = read_text(text, PLACE_PREFIX)
    entries = trust.resolve(message, now, allow_grace)
    place = _place(message)
    issued = int(place.issued_at.timestamp())
    entry = permitting_entry(
        entries, region=place.region, issued=issued, kind=PLACE_GRANT_KIND, what="place code"
    )
    check_window(issued, int(place.expires_at.timestamp()), now, allow_skew, "place code")
    verified_at = datetime.fromtimestamp(now, UTC)
    return PlaceResult(place, entry.kid, entry.region, verified_at, ALG_LABELS[entry.alg])
