"""A national root, two regional issuers, a signed trust list, fixed clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcred import (
    GREEN,
    Alg,
    DocumentType,
    HealthCode,
    KeyGrant,
    Subject,
    TrustStore,
    generate_key,
    issue,
    make_trust_list,
)
from healthcred.crypto.algorithms import PrivateKey

T0 = datetime(2026, 1, 1, tzinfo=UTC)
"""Start of every key's and the list's validity."""
ISSUED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
"""When test codes are issued."""
CHECKED = ISSUED + timedelta(hours=1)
"""When test codes are verified."""
LIST_EXPIRES = datetime(2027, 1, 1, tzinfo=UTC)
"""When test trust lists expire."""
KEY_NOT_AFTER = datetime(2027, 6, 1, tzinfo=UTC)
"""End of every test key grant."""


def ts(moment: datetime) -> int:
    """``moment`` as whole epoch seconds, as trust lists and grants carry times."""
    return int(moment.timestamp())


@dataclass
class World:
    """Keys and trust for one test session."""

    root: PrivateKey
    zhejiang: PrivateKey  # ES256, region 330000
    shanghai: PrivateKey  # EdDSA, region 310000
    trust_list: bytes
    store: TrustStore

    def code(self, key: PrivateKey | None = None, **changes: Any) -> tuple[HealthCode, str]:
        """A credential (Zhejiang, Hangzhou, green unless changed) and its issued text."""
        fields: dict[str, Any] = {
            "subject": Subject.create(
                "张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234"
            ),
            "status": GREEN,
            "region": "330100",
            "issued_at": ISSUED,
            "valid_for": timedelta(days=1),
        }
        fields.update(changes)
        credential = HealthCode.create(**fields)
        return credential, issue(credential, key or self.zhejiang)


def new_world() -> World:
    """Fresh keys: an EdDSA root granting Zhejiang (ES256) and Shanghai (EdDSA) their provinces."""
    root = generate_key(Alg.EDDSA)
    zhejiang, shanghai = generate_key(Alg.ES256), generate_key(Alg.EDDSA)
    data = signed_list(root, grants((zhejiang, "330000"), (shanghai, "310000")))
    return World(root, zhejiang, shanghai, data, TrustStore([root.public_key()], [data]))


def grants(*pairs: tuple[PrivateKey, str]) -> list[KeyGrant]:
    """One grant per (key, region), valid from ``T0`` to ``KEY_NOT_AFTER``."""
    return [KeyGrant(k.public_key(), region, ts(T0), ts(KEY_NOT_AFTER)) for k, region in pairs]


def signed_list(
    root: PrivateKey, items: list[KeyGrant], version: int = 1, list_id: str = "national", **times: datetime
) -> bytes:
    """A trust list signed by ``root``, valid ``T0`` to ``LIST_EXPIRES`` unless ``times`` say otherwise."""
    return make_trust_list(
        root,
        items,
        version=version,
        list_id=list_id,
        issued_at=ts(times.get("issued_at", T0)),
        expires_at=ts(times.get("expires_at", LIST_EXPIRES)),
    )
