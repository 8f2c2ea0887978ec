"""The usual world of the cases: a national root, Zhejiang (ES256) and Shanghai (EdDSA) issuers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from healthcred.crypto.algorithms import Alg, PrivateKey
from healthcred.trust.grants import KeyGrant
from tools.conformance.case import Case, Trust
from tools.conformance.world import CHECKED, epoch, grant, key, trust, trust_list

__all__ = ["AT", "case", "root", "shanghai", "standard_list", "standard_trust", "store_of", "zhejiang"]

AT = epoch(CHECKED)
"""The usual validation time: one hour after the usual issue time."""


def root() -> PrivateKey:
    """The national root (Ed25519), the usual trust anchor."""
    return key("national-root")


def zhejiang() -> PrivateKey:
    """Zhejiang's issuer key (P-256, ES256), granted 330000."""
    return key("zhejiang", Alg.ES256)


def shanghai() -> PrivateKey:
    """Shanghai's issuer key (Ed25519), granted 310000."""
    return key("shanghai")


@functools.cache
def standard_list() -> bytes:
    """The national list v1: Zhejiang 330000 and Shanghai 310000, valid 2026."""
    return trust_list(root(), [grant(zhejiang(), "330000"), grant(shanghai(), "310000")])


def store_of(*grants: KeyGrant) -> Trust:
    """The root as anchor, with one national list (v1) of ``grants``."""
    return trust([root()], [trust_list(root(), grants)])


@functools.cache
def standard_trust() -> Trust:
    """The root as anchor, with the national list."""
    return trust([root()], [standard_list()])


def case(
    case_id: str,
    title: str,
    text: str,
    expected: Mapping[str, Any],
    *,
    store: Trust | None = None,
    at: int = AT,
    tags: Sequence[str] = (),
    **extra: Any,
) -> Case:
    """A case in the usual world unless ``store`` says otherwise."""
    return Case(case_id, title, text, store or standard_trust(), at, expected, tags=tags, **extra)
