"""The trust-list source JSON (`trust.sources`): keys by relative path or embedded, grants, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import generate_key, kid_of, public_key_pem, save_public_key
from healthcred.errors import BadInput
from healthcred.trust.grants import KeyGrant
from healthcred.trust.sources import KeySource, TrustListSource, grant_source, read_source

KEY = generate_key(Alg.ES256).public_key()
ENTRY = {"region": "330000", "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T08:00:00+08:00"}


def _source(**entry: Any) -> str:
    return json.dumps(
        {
            "version": 2,
            "issued_at": "2026-11-23T08:00:00+08:00",
            "expires_at": "2026-12-23T08:00:00+08:00",
            "entries": [{**ENTRY, **entry}],
        }
    )


def test_the_schema_describes_every_field() -> None:
    schema = TrustListSource.model_json_schema()
    assert schema["additionalProperties"] is False
    entry = schema["$defs"]["KeySource"]
    assert entry["additionalProperties"] is False
    for props in (schema["properties"], entry["properties"]):
        assert all(p.get("description") for p in props.values()), props
    assert set(entry["properties"]["roles"]["items"]["enum"]) == {"issue", "delegate", "rules"}


def test_a_key_path_is_read_relative_to_the_files_folder(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    save_public_key(KEY, tmp_path / "keys" / "zj.pub.pem")
    source = read_source(_source(key="keys/zj.pub.pem", kinds=["health_status", 3], statuses=["green", 2]))
    (grant,) = source.grants(tmp_path)
    assert kid_of(grant.public_key) == kid_of(KEY)
    assert (grant.kinds, grant.statuses, grant.may_issue, grant.may_delegate) == (
        frozenset({1, 3}),
        frozenset({1, 2}),
        True,
        False,
    )
    assert grant.not_after == grant.not_before + 365 * 86400  # both offsets honoured
    with pytest.raises(BadInput, match="relative to this file's folder"):
        source.grants(tmp_path / "keys")


def test_an_absolute_key_path_and_an_embedded_key_are_accepted(tmp_path: Path) -> None:
    save_public_key(KEY, tmp_path / "zj.pub.pem")
    absolute = read_source(_source(key=str(tmp_path / "zj.pub.pem"))).grants(Path("/nonexistent"))
    embedded = read_source(_source(public_key=public_key_pem(KEY), roles=["delegate", "rules"])).grants(
        tmp_path
    )
    assert absolute[0].public_key == embedded[0].public_key == KEY
    assert (embedded[0].may_issue, embedded[0].may_delegate, embedded[0].may_sign_rules) == (
        False,
        True,
        True,
    )


def test_a_grant_round_trips_through_its_source() -> None:
    grant = KeyGrant(
        KEY, "330100", 1_760_000_000, 1_790_000_000, frozenset({1, 9}), None, True, True, 1_770_000_000
    )
    source = grant_source(grant)
    assert (
        source.kinds == ["health_status", 9]
        and source.statuses is None
        and source.roles == ["issue", "delegate"]
    )
    again = KeySource.model_validate_json(source.model_dump_json()).grant(Path("."))
    assert again == grant


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            {"key": "k.pem", "colour": ["green"]},
            "unknown field 'colour' in entries[0]; allowed: key, public_key",
        ),
        (
            {"key": "k.pem", "not_before": "2026-01-01T00:00:00"},
            'entries[0].not_before: "2026-01-01T00:00:00" is not a time',
        ),
        (
            {"key": "k.pem", "roles": ["boss"]},
            "entries[0].roles[0]: \"boss\": input should be 'issue', 'delegate' or 'rules'",
        ),
        ({"public_key": "xx"}, "public_key is not PEM text"),
        ({}, "give exactly one of key"),
        ({"public_key": public_key_pem(KEY), "kid": "00" * 8}, "is not the kid of the key"),
        (
            {"public_key": public_key_pem(KEY), "kinds": ["vaccine"]},
            "kinds: 'vaccine' is not one of health_status",
        ),
        ({"public_key": public_key_pem(KEY), "region": "33000"}, "region '33000' is not a 6-digit"),
    ],
)
def test_a_bad_entry_is_named_in_the_users_terms(entry: dict[str, Any], said: str) -> None:
    with pytest.raises(BadInput) as caught:
        read_source(_source(**entry)).grants(Path("."))
    message = caught.value.message
    assert said in message
    assert "pydantic" not in message and "http" not in message and "Traceback" not in message


def test_an_unknown_list_field_names_the_allowed_ones() -> None:
    data = json.loads(_source(key="k.pem"))
    with pytest.raises(BadInput, match="unknown field 'kinds' in the file; allowed: id, version, issued_at"):
        read_source(json.dumps({**data, "kinds": [1]}))
    with pytest.raises(BadInput, match="not JSON"):
        read_source("[1, 2")
