"""What several targets share: the validation time a code is checked at, and the wider anchor set."""

from __future__ import annotations

import cbor2

from fuzz.harness import expect, summarised
from fuzz.world import AT, KEYS, STORE
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult
from healthcred.trust.envelope import Anchor

__all__ = ["ALL_ANCHORS", "moment", "nbf_moment", "verified"]

ALL_ANCHORS: list[Anchor] = [Anchor.from_key(k.public_key()) for k in KEYS.values()]
"""Every key of the vectors as an anchor: a loader target then accepts every vector's signed list."""
_DAY = 86400
_LAST = 253402300799  # the last second of 9999


def _hc1_moment(text: str) -> int:
    from healthcred.foreign.dcc.hc1 import read_hc1

    message = expect(lambda: read_hc1(text))
    if message is None:
        return AT
    try:
        claims = cbor2.loads(message.payload)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError):
        return AT
    iat = claims.get(6) if isinstance(claims, dict) else None
    return iat + 3600 if type(iat) is int and 0 <= iat < 253402300799 - 3600 else AT


def nbf_moment(nbf: object) -> int:
    """A day after an SHC's ``nbf`` when it is a usable number of seconds, else the vectors' time."""
    if isinstance(nbf, bool) or not isinstance(nbf, int | float) or not 0 <= nbf < _LAST - _DAY:
        return AT
    return int(nbf) + _DAY


def _shc_moment(text: str) -> int:
    from healthcred.foreign.shc.cards import read_shc

    message = expect(lambda: read_shc(text))
    return AT if message is None else nbf_moment(message.payload.get("nbf"))


def moment(text: str) -> int:
    """When to check ``text``: an hour after an HC1's issue, a day after an SHC's nbf, else the vectors'."""
    if text.startswith("HC1:"):
        return _hc1_moment(text)
    if text.startswith("shc:/"):
        return _shc_moment(text)
    return AT


def verified(code: object, at: int) -> VerificationResult | None:
    """``verify(code)`` against the fuzz store at ``at``, under the harness's checks."""
    result: VerificationResult | None = summarised(expect(lambda: verify(code, STORE, at=at)))
    return result
