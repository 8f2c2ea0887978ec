"""The EU DCC's lean verify path (``hc1.verify_hc1_text``) against the checked one.

``verify`` of an ``HC1:`` text first tries the one-pass path over what the C decoder returns; it
accepts only where the checked path (``read_hc1`` → ``verify_hc1`` → ``to_foreign``) accepts with
an equal result, and leaves every other case to that path. Over every case of the EU test data
(tests/data/dcc), at its validation clock and ten years either side, the three ways — lean, checked
with the C decoder, pure Python — must give the same result field for field or the same error.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from healthcred import TrustStore, verify
from healthcred.codec import fast
from healthcred.errors import BadSignature, HealthCredError
from healthcred.foreign.dcc import hc1
from healthcred.foreign.dcc.dsc import Dsc
from healthcred.model import ForeignCredential, VerificationResult
from tests.helpers.paths import TEST_DATA

DATA = TEST_DATA / "dcc"
_YEARS = timedelta(days=3653)


def _cases() -> Iterator[tuple[str, str, datetime, Dsc]]:
    for path in sorted(DATA.glob("*/2DCode/raw/*.json")):
        try:
            case = json.loads(path.read_text(encoding="utf-8"))
            ctx = case["TESTCTX"]
            text, clock = case["PREFIX"], ctx["VALIDATIONCLOCK"]
            dsc = hc1.read_dsc(base64.b64decode(ctx["CERTIFICATE"]))
        except (ValueError, KeyError, TypeError, HealthCredError):
            continue  # no text, clock or certificate to verify against: nothing to compare
        if isinstance(text, str) and isinstance(clock, str):
            at = datetime.fromisoformat(clock.replace("Z", "+00:00"))
            yield f"{path.parts[-4]}/{path.stem}", text, at if at.tzinfo else at.replace(tzinfo=UTC), dsc


CASES = list(_cases())


def _outcome(text: str, store: TrustStore, at: datetime) -> Any:
    try:
        result = verify(text, store, at=at)
    except HealthCredError as exc:
        return (type(exc).__name__, exc.code, exc.message)
    assert isinstance(result, VerificationResult)
    # every field, ``raw`` (compare=False on the dataclass) included
    fields = dataclasses.asdict(result)
    assert isinstance(result.credential, ForeignCredential)
    fields["credential"]["raw"] = result.credential.raw
    return fields


def _checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hc1, "verify_hc1_text", lambda *args: None)


def test_the_test_data_has_cases() -> None:
    assert len(CASES) > 100


def test_most_accepted_cases_take_the_lean_path() -> None:
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    accepted = lean = 0
    for _, text, at, dsc in CASES:
        store = TrustStore([], dscs=[dsc])
        if isinstance(_outcome(text, store, at), dict):
            accepted += 1
            lean += hc1.verify_hc1_text(text, store.dsc_index, int(at.timestamp()), 300) is not None
    assert accepted > 300
    assert lean >= 0.9 * accepted  # 338 of 357 when written: the rest are PS256, tagged dates and such


@pytest.mark.parametrize(("name", "text", "at", "dsc"), CASES, ids=[c[0] for c in CASES])
def test_lean_checked_and_pure_agree(
    name: str, text: str, at: datetime, dsc: Dsc, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    store = TrustStore([], dscs=[dsc])
    for moment in (at, at - _YEARS, at + _YEARS):
        lean = _outcome(text, store, moment)
        with monkeypatch.context() as m:
            _checked(m)
            checked = _outcome(text, store, moment)
            m.setattr(fast, "native", None)
            pure = _outcome(text, store, moment)
        assert lean == checked, f"{name} at {moment}"
        assert pure == checked, f"{name} at {moment}"


def test_the_usual_certificate_takes_the_lean_path() -> None:
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    _, text, at, dsc = next(c for c in CASES if c[0] == "DE/1")
    store = TrustStore([], dscs=[dsc])
    lean = hc1.verify_hc1_text(text, store.dsc_index, int(at.timestamp()), 300)
    assert lean is not None
    credential, signer = lean
    checked = hc1.to_foreign(hc1.verify_hc1(text, [dsc], at=at))
    assert signer is dsc
    assert credential == checked
    assert credential.raw == checked.raw
    assert credential.subject == checked.subject
    assert hash(credential.subject) == hash(checked.subject)


def test_lean_path_leaves_every_unusual_case_to_the_checked_one() -> None:
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    _, text, at, dsc = next(c for c in CASES if c[0] == "DE/1")
    now = int(at.timestamp())
    twin = dataclasses.replace(dsc)  # a second certificate under the same kid: the checked path tries both
    assert hc1.verify_hc1_text(text, {dsc.kid: (dsc, twin)}, now, 300) is None
    assert hc1.verify_hc1_text(text, {}, now, 300) is None  # unknown kid: the checked path says so
    assert hc1.verify_hc1_text("HC1:" + text[4:-2], {dsc.kid: (dsc,)}, now, 300) is None  # cut short
    assert hc1.verify_hc1_text("JKM1:" + text[4:], {dsc.kid: (dsc,)}, now, 300) is None


def _refused(call: Callable[[], object]) -> tuple[str, str, str]:
    with pytest.raises(HealthCredError) as refused:
        call()
    return type(refused.value).__name__, refused.value.code, refused.value.message


@pytest.mark.parametrize("case", ["expired", "not yet valid", "usage"])
def test_a_refusal_after_the_signature_is_the_checked_paths(case: str) -> None:
    # Once the signature is checked, the lean path refuses itself (no second verify), as the
    # checked path does: the same class, code and message.
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    _, text, at, dsc = next(c for c in CASES if c[0] == "DE/1")
    now = {"expired": int(at.timestamp()) + 20 * 365 * 86400, "not yet valid": 0}.get(
        case, int(at.timestamp())
    )
    signer = dataclasses.replace(dsc, usages=frozenset({"t"})) if case == "usage" else dsc  # a test-only DSC
    lean = _refused(lambda: hc1.verify_hc1_text(text, {dsc.kid: (signer,)}, now, 300))
    checked = _refused(lambda: hc1.verify_hc1(text, [signer], at=now, skew=300))
    assert lean == checked
    assert lean[1] == {"expired": "expired", "not yet valid": "not_yet_valid"}.get(case, "key_usage_mismatch")


def test_a_forged_signature_is_refused_as_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    if fast.native is None:
        pytest.skip("the lean path rides on the C decoder")
    _, text, at, dsc = next(c for c in CASES if c[0] == "DE/1")
    message = hc1.read_hc1(text)
    other = next(d for _, _, _, d in CASES if d.es256_verify is not None and d.der != dsc.der)
    forged = dataclasses.replace(other, kid=dsc.kid)  # right kid, wrong key
    store = TrustStore([], dscs=[forged])
    with pytest.raises(BadSignature) as lean:
        verify(text, store, at=at)
    monkeypatch.setattr(hc1, "verify_hc1_text", lambda *args: None)
    with pytest.raises(BadSignature) as checked:
        verify(text, store, at=at)
    assert (lean.value.code, lean.value.message) == (checked.value.code, checked.value.message)
    assert message.kid == dsc.kid
