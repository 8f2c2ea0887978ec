"""The verifier's lean claims path accepts exactly what the model's constructors accept, and builds the same.

:func:`healthcred.native.claims.from_claims` tries the lean checks first (in C, ``_claims.c``,
when built; then ``model.credential.code_if_valid`` and friends) and falls back to the full
constructors on any doubt. Hypothesis varies each field of a valid claims map among valid and
invalid values; no lean path may accept what the full path refuses, and each must build an
equal credential. The C path must accept exactly what the Python lean path accepts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.errors import HealthCredError
from healthcred.limits import MAX_EPOCH
from healthcred.model import GREEN, NATIONAL_PALETTE, Status
from healthcred.native import claims as claims_module
from healthcred.native.claims import from_claims

compiled = claims_module.compiled
needs_c = pytest.mark.skipif(compiled is None, reason="the C lean path is not built")

VALID: dict[int, Any] = {
    1: "330100",
    4: 1795478400,
    6: 1795392000,
    7: bytes(16),
    -65537: {1: 1, 2: 1, 3: 1, 5: {1: "张三丰", 2: "1985-03-12", 3: 1, 4: "3301**********1234"}},
}

TEXTS = st.sampled_from(
    [
        "",
        "a",
        " a",
        "a ",
        "张三丰",
        "330100",
        "33010",
        "3301000",
        "３３０１００",
        "1985",
        "1985-02",
        "1985-02-30",
        "2024-02-29",
        "2023-02-29",
        "1985-13",
        "3301**1234",
        "3301",
        "**",
        "x" * 65,
        "a\nb",
        "\ud800",
        "a\x1cb",
        "330100\n",
    ]
)
INTS = st.sampled_from(
    [
        0,
        1,
        2,
        3,
        4,
        9,
        255,
        256,
        65535,
        65536,
        -1,
        1795392000,
        1795478400,
        1795392000 + 200 * 86400,
        253402300799,
        253402300800,
        True,
        False,
    ]
)
BYTES = st.sampled_from([b"", bytes(8), bytes(16), bytes(17), bytearray(16)])
ANY = st.one_of(
    TEXTS, INTS, BYTES, st.none(), st.just([bytes(8), bytes(16)]), st.just([bytes(8)]), st.just({})
)

REGIONS = ["330100", "33010", "3301000", "３３０１００", "330100\n", "", 330100]
TIMES = [
    0,
    -1,
    1795392000,
    1795392001,
    1795391999,
    1795392000 + 181 * 86400,
    253402300799,
    253402300800,
    True,
]
# Each field's own candidates (valid and just-invalid), besides ANY value.
FIELDS: dict[tuple[int, ...], list[Any]] = {
    (1,): REGIONS,
    (4,): TIMES,
    (6,): TIMES,
    (7,): [bytes(16), bytes(15), bytearray(16), "x" * 16],
    (-65537, 1): [1, 2, 0, True],
    (-65537, 2): [1, 2, 3, 4, 0, True],
    (-65537, 3): [1, 2, 3, 4, 255, 0, 256, True],
    (-65537, 4): [None, 0, 65535, 65536, -1, True],
    (-65537, 6): [None, *REGIONS],
    (-65537, 7): [None, bytes(16), bytes(8)],
    (-65537, 8): [
        None,
        [bytes(8), bytes(16)],
        [bytes(8), bytes(15)],
        [bytes(7), bytes(16)],
        [bytes(8)],
        (bytes(8), bytes(16)),
    ],
    (-65537, 5, 1): [
        "张三丰",
        "a",
        "",
        " a",
        "a ",
        "x" * 64,
        "x" * 65,
        "a\nb",
        "\ud800",
        "a\x1cb",
        "a\u3000",
    ],
    (-65537, 5, 2): [
        "1985",
        "1985-02",
        "1985-02-30",
        "2024-02-29",
        "2023-02-29",
        "1985-13",
        "85",
        "1985-1-1",
    ],
    (-65537, 5, 3): [1, 2, 3, 4, 5, 6, 9, 0, True],
    (-65537, 5, 4): ["3301**1234", "**", "3301", "*" * 25, "abcdefg*1", "3301**12345"],
}
CHANGE = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda path: st.tuples(st.just(path), st.one_of(st.sampled_from(FIELDS[path]), ANY))
)


def _outcome(claims: Any, palette: Any) -> tuple[str, Any]:
    try:
        return ("ok", from_claims(claims, palette))
    except HealthCredError as exc:
        return ("error", (type(exc), exc.code, exc.message))


def _set(claims: dict[int, Any], path: tuple[int, ...], value: Any) -> None:
    node = claims
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    # keep deterministic key order where a key was added
    for key in path[:1] if len(path) > 1 else ():
        inner = claims[key]
        claims[key] = dict(sorted(inner.items(), key=lambda kv: (kv[0] < 0, abs(kv[0]))))


def _copy(value: Any) -> Any:
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, dict) else value


@settings(max_examples=700)
@given(
    st.lists(CHANGE, max_size=4),
    st.sampled_from([None, {4: Status(code=4, name="blue")}, {1: {"code": 1, "name": "green"}}]),
)
def test_lean_path_accepts_what_the_constructors_accept(changes: list[tuple[Any, Any]], palette: Any) -> None:
    claims = _copy(VALID)
    for path, value in changes:
        _set(claims, path, value)
    lean = _outcome(claims, palette)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(claims_module, "compiled", None)
        python_lean = _outcome(claims, palette)
        patch.setattr(claims_module, "_lean", lambda claims, palette: None)
        full = _outcome(claims, palette)
    assert lean == python_lean == full


def _same(a: Any, b: Any) -> None:
    """Equal records, equal reprs, and the same shared objects (status, enum members, time zone)."""
    assert a == b and repr(a) == repr(b)
    assert a.status is b.status and a.kind is b.kind and a.subject.document_type is b.subject.document_type
    assert a.issued_at.tzinfo is b.issued_at.tzinfo is UTC and a.expires_at.tzinfo is UTC


def _c(claims: Any) -> Any:
    """The C path's credential, or ``None``; it hands back the map's own ``iat`` and ``exp``."""
    assert compiled is not None
    read = compiled.health_code(claims)
    if read is None:
        return None
    code, issued, expires = read
    assert issued is claims[6] and expires is claims[4]
    return code


@needs_c
@settings(max_examples=700)
@given(st.lists(CHANGE, max_size=4))
def test_the_c_path_accepts_and_builds_what_the_python_lean_path_does(changes: list[tuple[Any, Any]]) -> None:
    assert compiled is not None
    claims = _copy(VALID)
    for path, value in changes:
        _set(claims, path, value)
    built, python = _c(claims), claims_module._lean(claims, None)
    if python is None:
        assert built is None
    elif built is None:  # the one map the C path leaves to Python: a colour named on the fly
        assert python.status.code not in NATIONAL_PALETTE
    else:
        _same(built, python)


@needs_c
@given(st.integers(0, MAX_EPOCH - 1), st.integers(1, 10**9))
def test_the_c_path_tells_every_time_as_datetime_does(issued: int, lifetime: int) -> None:
    assert compiled is not None
    claims = _copy(VALID)
    claims[6], claims[4] = issued, min(MAX_EPOCH, issued + lifetime)
    built = _c(claims)
    assert built is not None
    assert built.issued_at == datetime.fromtimestamp(claims[6], UTC)
    assert built.expires_at == datetime.fromtimestamp(claims[4], UTC)
    _same(built, from_claims(claims, {}))  # an empty palette: the Python lean path


@needs_c
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ((-65537, 8), [bytes(8), bytes(16)]),  # tagged
        ((-65537, 4), 7),  # a reason
        ((-65537, 2), 4),  # paper (needs the tag: refused without it)
        ((-65537, 5, 2), "2000-02-29"),
        ((-65537, 5, 2), "1900-02-29"),
        ((-65537, 5, 2), "0000-01-01"),
        ((-65537, 5, 2), "0000"),
        ((-65537, 5, 1), "a\u2028"),
        ((-65537, 5, 1), "\x1ca"),
        ((-65537, 5, 4), "abcdef*****wxyz"),
        ((-65537, 5, 4), "abcdefg*"),
        ((1,), "33010\u0660"),
        ((-65537, 3), 9),  # a colour the national palette lacks: named by the Python path
    ],
)
def test_the_c_path_agrees_on_edges(path: tuple[int, ...], value: Any) -> None:
    assert compiled is not None
    claims = _copy(VALID)
    _set(claims, path, value)
    built, python = _c(claims), claims_module._lean(claims, None)
    if python is None or built is None:
        assert built is None  # the C path may leave a valid map to Python, never the reverse
        assert python is None or python.status.code not in NATIONAL_PALETTE
    else:
        _same(built, python)


@needs_c
def test_the_c_path_takes_only_plain_containers_and_keys() -> None:
    assert compiled is not None
    odds: list[object] = [None, 1, [], (), {}, {1: 1}, {True: "330100", 4: 1, 6: 0, 7: bytes(16), -65537: {}}]
    for odd in odds:
        assert _c(odd) is None
    claims = _copy(VALID)
    claims[-65537] = dict(claims[-65537].items())
    claims[-65537][5] = _with_key(claims[-65537][5], 1, True)
    assert _c(claims) is None


def test_the_valid_map_takes_the_lean_path() -> None:
    code = claims_module._lean(_copy(VALID), None)
    assert code is not None and code.status is GREEN
    assert code == from_claims(_copy(VALID)) and repr(code) == repr(from_claims(_copy(VALID)))


def _with_key(value: dict[Any, Any], old: Any, new: Any) -> dict[Any, Any]:
    return {new if k == old and type(k) is type(old) else k: v for k, v in value.items()}


@pytest.mark.parametrize("where", ["claims", "health-code claim", "subject"])
def test_a_boolean_key_is_not_the_integer_it_equals(where: str) -> None:
    # CBOR `true` decodes to Python True, which equals (and hashes as) 1, the key each map leads with.
    claims = _copy(VALID)
    if where == "claims":
        claims = _with_key(claims, 1, True)
    elif where == "health-code claim":
        claims[-65537] = _with_key(claims[-65537], 1, True)
    else:
        claims[-65537][5] = _with_key(claims[-65537][5], 1, True)
    assert claims_module._lean(claims, None) is None
    assert compiled is None or _c(claims) is None
    with pytest.raises(HealthCredError) as refused:
        from_claims(claims)
    assert refused.value.code == "bad_claims"
    assert f"{where} has a map key that is a boolean" in refused.value.message


def test_a_payload_with_a_boolean_key_is_refused_on_both_paths(decode_path: str) -> None:
    import cbor2

    from healthcred.codec import fast
    from healthcred.errors import ClaimsError
    from healthcred.native.claims import from_payload

    payload = cbor2.dumps(_with_key(_copy(VALID), 1, True))  # cbor2 keeps the order: true first
    assert payload[1] == 0xF5
    with pytest.raises(ClaimsError, match="claims has a map key that is a boolean"):
        from_payload(payload)
    assert decode_path == fast.implementation()
