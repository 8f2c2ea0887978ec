"""The error model: one root, stable codes, and a negative test for every code.

The catalogue below maps each leaf error code to a function that provokes it
through the public API. A new error class without an entry fails this file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest

import healthcred
from healthcred import (
    Alg,
    HealthCredError,
    KeyGrant,
    TrustStore,
    generate_key,
    issue,
    load_trust,
    make_revocation_list,
    verify,
)
from healthcred.codec.base45 import b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.crypto.algorithms import verify_signature
from healthcred.crypto.cose import sign1
from healthcred.crypto.keys import kid_of, load_private_key
from healthcred.errors import ERROR_CODES
from healthcred.native.claims import to_claims
from healthcred.rules import evaluate, validate
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE
from tests.helpers import forge
from tests.helpers.paths import TEST_DATA
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, T0, World, grants, signed_list, ts

ABSTRACT = {
    "healthcred_error", "format_error", "trust_error", "validity_error", "qr_error", "rule_error",
    "binding_error",
}  # fmt: skip


def _payload(world: World, **changes: object) -> bytes:
    credential, _ = world.code()
    claims = to_claims(credential)
    claims.update(changes)  # type: ignore[arg-type]
    return dumps(claims)


def _pyzbar_missing(tmp: Path, world: World) -> None:
    saved = {k: sys.modules.get(k) for k in ("pyzbar", "pyzbar.pyzbar")}
    sys.modules["pyzbar"] = None  # type: ignore[assignment]
    sys.modules["pyzbar.pyzbar"] = None  # type: ignore[assignment]
    try:
        healthcred.read_qr(healthcred.render_qr(world.code()[1]), backend="pyzbar")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _blank_png(tmp: Path, world: World) -> None:
    from PIL import Image

    Image.new("L", (200, 200), 255).save(tmp / "blank.png")
    healthcred.read_qr(tmp / "blank.png")


def _granted(w: World, **grant: Any) -> TrustStore:
    """A store whose only list grants the Zhejiang key with extra restrictions."""
    entry = KeyGrant(w.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER), **grant)
    return TrustStore([w.root.public_key()], [signed_list(w.root, [entry])])


def _rollback(tmp: Path, w: World) -> None:
    newer = signed_list(w.root, grants((w.zhejiang, "330000")), version=2)
    TrustStore(
        [w.root.public_key()], [w.trust_list], seen=TrustStore([w.root.public_key()], [newer]).versions
    )


def _equivocation(tmp: Path, w: World) -> None:
    other = signed_list(w.root, grants((w.zhejiang, "330000")), version=1)  # the world's list has v1 too
    TrustStore([w.root.public_key()], [w.trust_list, other])


def _busy(tmp: Path, w: World) -> None:
    from healthcred.trust.transaction import folder_transaction

    with folder_transaction(tmp), folder_transaction(tmp):
        pass


def _conflict(tmp: Path, w: World) -> None:
    other = generate_key(Alg.EDDSA)
    bilateral = signed_list(other, grants((w.zhejiang, "330200")), list_id="bilateral")
    verify(
        w.code()[1],
        TrustStore([w.root.public_key(), other.public_key()], [w.trust_list, bilateral]),
        at=CHECKED,
    )


def _delegation(tmp: Path, w: World) -> None:
    delegator = KeyGrant(w.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER), may_delegate=True)
    national = signed_list(w.root, [delegator])
    outside = signed_list(w.zhejiang, grants((generate_key(Alg.EDDSA), "310000")), list_id="cities")
    TrustStore([w.root.public_key()], [national, outside])


def _revoked(tmp: Path, w: World) -> None:
    credential, text = w.code()
    revocations = make_revocation_list(
        w.zhejiang, version=1, issued_at=ts(T0), expires_at=ts(KEY_NOT_AFTER), added=[credential.id]
    )
    verify(text, TrustStore([w.root.public_key()], [w.trust_list], [revocations]), at=CHECKED)


def _dcc_case(country: str, name: str) -> tuple[Any, Any]:
    import base64
    import json

    from healthcred.foreign.dcc.hc1 import parse_hc1_cose, read_dsc

    case = json.loads((TEST_DATA / "dcc" / country / "2DCode" / "raw" / f"{name}.json").read_text())
    return parse_hc1_cose(bytes.fromhex(case["COSE"])), read_dsc(
        base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    )


def _key_usage(tmp: Path, w: World) -> None:
    from healthcred.foreign.dcc.hc1 import verify_hc1

    message, dsc = _dcc_case("NL", "216-NL-test+wrong_key")
    verify_hc1(message, [dsc], at=0)


def _bad_certificate(tmp: Path, w: World) -> None:
    from healthcred.foreign.dcc.hc1 import read_dsc

    read_dsc(b"not a certificate")


def _unknown_issuer(tmp: Path, w: World) -> None:
    from healthcred.foreign.shc.cards import load_health_cards
    from healthcred.foreign.shc.verify import verify_shc

    card = TEST_DATA / "shc" / "examples" / "example-00-e-file.smart-health-card"
    verify_shc(load_health_cards(card)[0], [], at=0)


def _malformed_jws(tmp: Path, w: World) -> None:
    from healthcred.foreign.shc.cards import read_shc

    read_shc("shc:/525354")  # digit pairs 52 53 54 are "abc": one part, not a compact JWS


def _bad_chunk(tmp: Path, w: World) -> None:
    from healthcred.foreign.shc.cards import read_shc

    read_shc(["shc:/1/3/5676", "shc:/3/3/5676"])  # chunk 2 of 3 is missing


def _binding(w: World) -> bytes:
    from healthcred.flows.binding import Relation, make_binding

    guardian = w.code()[0].subject
    dependent = healthcred.Subject.create("李四", "1950", healthcred.DocumentType.PASSPORT, "E12345678")
    return make_binding(
        guardian, dependent, Relation.PARENT, w.zhejiang, region="330100", slot=1, issued_at=ISSUED
    )


def _binding_mismatch(tmp: Path, w: World) -> None:
    from healthcred.flows.binding import verify_dependent

    verify_dependent(w.code()[1], _binding(w), w.store, at=CHECKED)


def _scan_log_error(tmp: Path, w: World) -> None:
    from healthcred.flows.scanlog import open_log

    (tmp / "not.db").write_bytes(b"not a database" * 100)
    open_log(tmp / "not.db", bytes(32))


def _id_check_unavailable(tmp: Path, w: World) -> None:
    from healthcred.flows.idcheck import check_id, generate_id_key

    check_id(verify(w.code()[1], w.store, at=CHECKED), "11010519491231002X", generate_id_key())


def _bad_place_code(tmp: Path, w: World) -> None:
    from healthcred.flows.places import issue_place

    issue_place(w.zhejiang, venue_id="v", name="n", region="330100", scene="casino")


def _bad_id_number(tmp: Path, w: World) -> None:
    from healthcred.flows.idcheck import normalise_id_number

    normalise_id_number("110105194912310021")


def _bad_binding(tmp: Path, w: World) -> None:
    from healthcred.flows.family import read_family_bundle

    read_family_bundle(b"\xa0")


def _too_many_dependents(tmp: Path, w: World) -> None:
    from healthcred.flows.family import make_family_bundle

    make_family_bundle(w.code()[1], [(w.code()[1], b"")] * 9)


class _FailingExecutor(Executor):
    """An executor whose every task fails, as a crashed remote worker's would."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(RuntimeError("worker lost"))
        return future


CATALOGUE: dict[str, Callable[[Path, World], object]] = {
    "bad_id_number": _bad_id_number,
    "id_check_unavailable": _id_check_unavailable,
    "bad_place_code": _bad_place_code,
    "bad_binding": _bad_binding,
    "binding_mismatch": _binding_mismatch,
    "too_many_dependents": _too_many_dependents,
    "scan_log_error": _scan_log_error,
    "key_usage_mismatch": _key_usage,
    "bad_certificate": _bad_certificate,
    "unknown_issuer": _unknown_issuer,
    "malformed_jws": _malformed_jws,
    "bad_chunk": _bad_chunk,
    "invalid_rule": lambda tmp, w: validate({"unknown-op": [1]}),
    "rule_set_unavailable": lambda tmp, w: w.store.rule_set("policy", ts(T0)),
    "rule_evaluation_error": lambda tmp, w: evaluate({"+": [1, {"var": "x"}]}, {"x": "2"}),
    "kind_not_allowed": lambda tmp, w: verify(w.code()[1], _granted(w, kinds=frozenset({2})), at=CHECKED),
    "status_not_allowed": lambda tmp, w: verify(
        w.code()[1], _granted(w, statuses=frozenset({3})), at=CHECKED
    ),
    "key_compromised": lambda tmp, w: verify(w.code()[1], _granted(w, compromised_at=ts(T0) + 1), at=CHECKED),
    "trust_conflict": _conflict,
    "delegation_not_allowed": _delegation,
    "trust_list_rollback": _rollback,
    "trust_equivocation": _equivocation,
    "trust_folder_busy": _busy,
    "revoked": _revoked,
    "bad_input": lambda tmp, w: verify(3.5, w.store),
    "missing_glyph": lambda tmp, w: __import__("healthcred.printing.cards").printing.check_glyphs("𠀀"),
    "bad_key": lambda tmp, w: load_private_key(tmp / "missing.pem"),
    "bad_prefix": lambda tmp, w: verify("XYZ1:ABC", w.store, at=CHECKED),
    "bad_base45": lambda tmp, w: verify(NATIVE_PREFIX + "abc", w.store, at=CHECKED),
    "too_large": lambda tmp, w: verify(NATIVE_PREFIX + "0" * 9000, w.store, at=CHECKED),
    "bad_compression": lambda tmp, w: verify(NATIVE_PREFIX + b45encode(b"\x78\x9c\x00"), w.store, at=CHECKED),
    "malformed_cose": lambda tmp, w: verify(NATIVE_PREFIX + b45encode(b"\xd2\x80"), w.store, at=CHECKED),
    "malformed_cbor": lambda tmp, w: verify(
        forge.text(forge.message(_payload(w) + b"\x00", w.zhejiang)), w.store, at=CHECKED
    ),
    "bad_claims": lambda tmp, w: verify(
        forge.text(forge.message(_payload(w, **{"1": "x"}), w.zhejiang)), w.store, at=CHECKED
    ),
    "unsupported_alg": lambda tmp, w: verify(
        forge.text(
            forge.message(
                _payload(w), w.zhejiang, protected=dumps({1: -35, 4: b"12345678"}), signature=b"\x00" * 96
            )
        ),
        w.store,
        at=CHECKED,
    ),
    "unknown_kid": lambda tmp, w: verify(issue(w.code()[0], generate_key(Alg.EDDSA)), w.store, at=CHECKED),
    "alg_mismatch": lambda tmp, w: verify(
        forge.text(
            forge.message(
                _payload(w),
                w.zhejiang,
                protected=dumps({1: -8, 4: kid_of(w.zhejiang)}),
                signature=bytes(64),
            )
        ),
        w.store,
        at=CHECKED,
    ),
    "bad_signature": lambda tmp, w: verify_signature(Alg.EDDSA, w.shanghai.public_key(), b"m", bytes(64)),
    "key_not_valid": lambda tmp, w: verify(
        w.code(issued_at=CHECKED.replace(year=2027, month=7))[1], w.store, at=CHECKED.replace(month=12)
    ),
    "region_not_allowed": lambda tmp, w: verify(w.code(region="110000")[1], w.store, at=CHECKED),
    "untrusted_list": lambda tmp, w: TrustStore([generate_key(Alg.EDDSA).public_key()], [w.trust_list]),
    "trust_list_malformed": lambda tmp, w: TrustStore(
        [w.root.public_key()], [sign1(dumps([]), w.root, content_type=TRUST_LIST_CONTENT_TYPE)]
    ),
    "trust_list_expired": lambda tmp, w: verify(w.code()[1], w.store, at=CHECKED.replace(year=2027, month=3)),
    "trust_list_not_yet_valid": lambda tmp, w: verify(
        w.code()[1],
        TrustStore(
            [w.root.public_key()],
            [signed_list(w.root, grants((w.zhejiang, "330000")), issued_at=CHECKED.replace(month=12))],
        ),
        at=CHECKED,
    ),
    "trust_store_error": lambda tmp, w: load_trust(tmp / "nowhere"),
    "expired": lambda tmp, w: verify(w.code()[1], w.store, at=CHECKED.replace(day=28)),
    "not_yet_valid": lambda tmp, w: verify(w.code()[1], w.store, at=CHECKED.replace(day=20)),
    "bad_image": lambda tmp, w: healthcred.read_qr(b"\x89PNG not really"),
    "qr_not_found": _blank_png,
    "qr_backend_unavailable": _pyzbar_missing,
    "worker_failed": lambda tmp, w: healthcred.verify_all(
        [w.code()[1]], w.store, executor=_FailingExecutor()
    ),
}


def test_every_error_code_is_in_the_catalogue() -> None:
    assert set(CATALOGUE) == set(ERROR_CODES) - ABSTRACT


def test_codes_are_unique_and_stable_strings() -> None:
    classes = list(ERROR_CODES.values())
    assert len({c.code for c in classes}) == len(classes)
    for code, cls in ERROR_CODES.items():
        assert code.isascii() and code == code.lower() and " " not in code
        assert issubclass(cls, HealthCredError)
        assert cls.__doc__


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_code_is_raised_where_documented(code: str, tmp_path: Path, world: World) -> None:
    with pytest.raises(HealthCredError) as caught:
        CATALOGUE[code](tmp_path, world)
    assert caught.value.code == code
    assert type(caught.value) is ERROR_CODES[code]
    assert str(caught.value).startswith(f"[{code}] ") and caught.value.message


def test_a_subclass_may_share_its_parents_code() -> None:
    from healthcred.errors import BadInput, InvalidField

    assert ERROR_CODES["bad_input"] is BadInput and InvalidField.code == "bad_input"
    error = InvalidField("subject.birth_date", "2023-02-30 is not a date")
    assert isinstance(error, BadInput) and isinstance(error, ValueError)
    assert str(error) == "[bad_input] subject.birth_date: 2023-02-30 is not a date"
    assert (error.field, error.rule) == ("subject.birth_date", "2023-02-30 is not a date")


def test_issue_refuses_bad_arguments(world: World) -> None:
    from healthcred.errors import BadInput, BadKey

    credential, _ = world.code()
    with pytest.raises(BadInput):
        issue("not a credential", world.zhejiang)  # type: ignore[arg-type]
    for level in (-1, 10, "9", 1.5):
        with pytest.raises(BadInput):
            issue(credential, world.zhejiang, compression_level=level)  # type: ignore[arg-type]
    with pytest.raises(BadKey):
        issue(credential, object())  # type: ignore[arg-type]
