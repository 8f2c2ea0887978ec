"""The national intermediary: turn a verified regional code into a national code.

The national platform verifies a regional health code against the national
trust list, then issues an "epidemic prevention information code" of kind
:attr:`~healthcred.model.CredentialKind.NATIONAL`: same subject and status,
issued for region ``000000`` by a national issuer key, naming the source region
and source credential id, and valid no longer than the source.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred.clock import DEFAULT_SKEW
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer
from healthcred.errors import BadInput, CodeExpired
from healthcred.flows.issue import check_grant, issue
from healthcred.flows.verify import verify
from healthcred.model import CREDENTIAL_ID_BYTES, CredentialKind, HealthCode
from healthcred.regions import NATIONAL_REGION
from healthcred.trust.store import TrustStore

__all__ = ["derive_national"]


def derive_national(
    code: Any,
    trust: TrustStore,
    national_key: PrivateKey | Signer,
    *,
    at: datetime | None = None,
    valid_for: timedelta = timedelta(days=1),
    skew: timedelta = DEFAULT_SKEW,
    credential_id: bytes | None = None,
    issued_at: datetime | None = None,
) -> str:
    """Verify regional ``code`` and return the text of the national code derived from it.

    The source is verified at ``at`` (the validation time, default now). The
    national code is issued at ``issued_at`` (default: ``at``) and expires at
    the earlier of ``issued_at + valid_for`` and the source's expiry. Before
    signing, ``national_key``'s grant in ``trust`` must cover a national code
    of the source's colour at the issue time (what verifiers holding ``trust``
    check), else its error is raised and nothing is signed. Raises any
    verification error of the source, :class:`BadInput` for a source that is not
    a regional health code, and :class:`CodeExpired` if nothing would be left
    of its validity. ``credential_id`` fixes the new code's id (default: 16
    random bytes), for reproducible test vectors.
    """
    for name, moment in (("at", at), ("issued_at", issued_at)):
        if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
            raise BadInput(f"{name} must be a timezone-aware datetime")
    if not isinstance(valid_for, timedelta) or valid_for <= timedelta(0):
        raise BadInput("valid_for must be a positive timedelta")
    checked_at = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    now = checked_at if issued_at is None else issued_at.astimezone(UTC).replace(microsecond=0)
    verified = verify(code, trust, at=checked_at, skew=skew)
    source = verified.health_code
    if source is None or source.kind is not CredentialKind.HEALTH_STATUS:
        raise BadInput(f"only a regional health code can be converted, not a {verified.kind} credential")
    expires = min(source.expires_at, now + valid_for)
    if expires <= now:
        raise CodeExpired("the source code has no validity left to carry over")
    check_grant(
        trust,
        national_key,
        region=NATIONAL_REGION,
        issued_at=now,
        kind=CredentialKind.NATIONAL,
        status=source.status.code,
        what="national code",
    )
    national = HealthCode(
        kind=CredentialKind.NATIONAL,
        id=os.urandom(CREDENTIAL_ID_BYTES) if credential_id is None else credential_id,
        status=source.status,
        reason=source.reason,
        subject=source.subject,
        region=NATIONAL_REGION,
        issued_at=now,
        expires_at=expires,
        source_region=source.region,
        source_id=source.id,
    )
    return issue(national, national_key)
