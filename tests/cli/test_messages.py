"""Messages in the user's terms: pydantic errors as one line, times as ISO 8601, outputs not overwritten."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from healthcred.clock import iso_time
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import generate_key, save_private_key
from healthcred.errors import InvalidField, InvalidRule, KeyNotValid
from healthcred.rules.declaration import parse_background, parse_declaration
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from healthcred.rules.validation import shown
from tests.helpers.cli import run
from tests.helpers.world import World

SUBJECT = {
    "name": "王五",
    "birth_date": "1970-01-01",
    "document_type": 1,
    "document_number": "3301**********0011",
}
DECLARATION: dict[str, Any] = {
    "subject": SUBJECT,
    "document_number": "330106197001010011",
    "declared_at": "2026-11-23T08:00:00+08:00",
}
INTERNALS = ("pydantic", "https://", "input_value", "input_type", "type=", "[0-9]{6}", "\n")


def clean(message: str) -> str:
    """``message`` if it shows none of pydantic's internals; the assertion names the one it shows."""
    for internal in INTERNALS:
        assert internal not in message, (internal, message)
    return message


def declaration_error(**change: object) -> str:
    with pytest.raises(InvalidField) as caught:
        parse_declaration({**DECLARATION, **change})
    assert caught.value.code == "bad_input" and isinstance(caught.value, ValueError)
    return clean(caught.value.message)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"subject": {**SUBJECT, "birth_date": "1990-13-01"}},
            "declaration: subject: birth_date: '1990-13-01' is not YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            {"stays": [{"region": "99999x", "start": "2026-11-01", "end": "2026-11-02"}]},
            "declaration: stays[0].region: '99999x' is not a GB/T 2260 code (six digits, e.g. 330100)",
        ),
        (
            {"stays": [{"region": "330100", "start": "2026-11-31", "end": "2026-12-02"}]},
            "declaration: stays[0].start: '2026-11-31' is not a date; give YYYY-MM-DD",
        ),
        (
            {"declared_at": "2026-11-23T08:00:00"},
            "declaration: declared_at: '2026-11-23T08:00:00' is not a time with its offset;"
            " give e.g. 2026-11-23T08:00:00+08:00",
        ),
        (
            {"declared_at": "yesterday"},
            "declaration: declared_at: 'yesterday' is not a time; give ISO 8601 with an offset",
        ),
        (
            {"contact": "maybe"},
            "declaration: contact: 'maybe' is not one of 'none', 'suspected' or 'confirmed'",
        ),
        ({"temperature": 50}, "declaration: temperature: 50 is not allowed; give at most 45.0"),
        ({"vaccine_doses": "two"}, "declaration: vaccine_doses: 'two' is not a whole number"),
        ({"subject": "王五"}, "declaration: subject: '王五' is not an object"),
        (
            {"kinds": ["x"]},
            "declaration: kinds: is not a field here; the fields are subject, document_number",
        ),
        (
            {"contact": "confirmed"},
            "declaration: contact_date is given exactly when contact is suspected or confirmed",
        ),
    ],
)
def test_each_declaration_mistake_is_one_line_naming_field_value_and_what_is_allowed(
    change: dict[str, object], expected: str
) -> None:
    assert declaration_error(**change).startswith(expected)


def test_a_missing_field_is_named() -> None:
    document = {k: v for k, v in DECLARATION.items() if k != "document_number"}
    with pytest.raises(InvalidField) as caught:
        parse_declaration(document)
    assert clean(caught.value.message) == "declaration: document_number: is required"
    assert caught.value.field == "declaration: document_number"


def test_several_mistakes_are_joined_and_the_rest_named() -> None:
    message = declaration_error(
        contact="maybe", vaccine_doses=-1, temperature="hot", symptoms=["sneeze"], x=1
    )
    assert message.count("; ") == 3 and message.endswith("and 2 more (vaccine_doses, x)")


def test_a_long_or_binary_value_is_shortened_and_repr_safe() -> None:
    message = declaration_error(contact="\x00\u202e" + "y" * 500)
    assert "y" * 41 not in message and "…" in message and "\\x00" in message and "\u202e" not in message
    assert shown({"a": 1}) == "an object" and shown([1, 2]) == "an array of 2" and shown(None) == "null"


def test_background_mistakes() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_background({"risk_areas": [{"region": "33", "level": "extreme", "start": "x"}]})
    message = clean(caught.value.message)
    assert message.startswith("background data: risk_areas[0].region: '33' is not a GB/T 2260 code")
    assert "'extreme' is not one of 'low', 'medium' or 'high'" in message
    assert "risk_areas[0].start: 'x' is not a date; give YYYY-MM-DD" in message


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("policy", {"version": 0}, "policy set: version: 0 is not allowed; give at least 1"),
        ("policy", {"colour": "red"}, "policy set: colour: is not a field here; the fields are id, version"),
        ("policy", {"rules": []}, "policy set: rules: an array of 0 is not allowed; give at least 1 item"),
        ("status", {"green_valid_hours": "24h"}, "status rule set: green_valid_hours: '24h' is not a whole"),
        ("status", {"id": ""}, "status rule set: id: '' is not allowed; give at least 1 character"),
    ],
)
def test_rule_set_mistakes(kind: str, change: dict[str, object], expected: str) -> None:
    base, build = (DEFAULT_POLICIES, PolicySet) if kind == "policy" else (DEFAULT_STATUS_RULES, StatusRuleSet)
    with pytest.raises(InvalidRule) as caught:
        build({**base, **change})
    assert clean(caught.value.message).startswith(expected)


def test_a_nested_unknown_field_lists_the_fields_of_its_own_object() -> None:
    rules = [{**DEFAULT_POLICIES["rules"][0], "colour": 1}]
    with pytest.raises(InvalidRule) as caught:
        PolicySet({**DEFAULT_POLICIES, "rules": rules})
    assert (
        "rules[0].colour: is not a field here; the fields are id, scenes, levels, when"
        in caught.value.message
    )


def test_times_in_messages_are_iso_8601_with_an_offset(world: World) -> None:
    assert iso_time(1_795_000_000) == "2026-11-18T11:06:40+00:00"
    assert iso_time(datetime(2026, 11, 23, 8, tzinfo=UTC)) == "2026-11-23T08:00:00+00:00"
    assert "outside 1970" in iso_time(-1)
    entry = replace(world.store.lists[0].entries[0], not_before=1_795_000_000, not_after=1_796_000_000)
    with pytest.raises(KeyNotValid) as caught:
        entry.check("330100", 1_797_000_000, 1, 0)
    assert (
        "issued at 2026-12-11T14:40:00+00:00," in caught.value.message and "epoch" not in caught.value.message
    )
    assert "(2026-11-18T11:06:40+00:00 to 2026-11-30T00:53:20+00:00)" in caught.value.message


# --- the commands ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "zhejiang.key.pem"
    save_private_key(generate_key(Alg.EDDSA), path)
    return path


def test_declare_refuses_a_bad_declaration_in_one_line(tmp_path: Path, key: Path) -> None:
    declaration = tmp_path / "d.json"
    declaration.write_text(json.dumps({**DECLARATION, "declared_at": "2026-11-23", "contact": "maybe"}))
    out = run("declare", "--declaration", declaration, "--key", key, "--region", "330106", code=1).output
    assert clean(out.rstrip("\n")).startswith(f"error: [bad_input] declaration {declaration}: declared_at:")
    assert out.count("\n") == 1


def test_declare_bad_background_is_setup(tmp_path: Path, key: Path) -> None:
    declaration, background = tmp_path / "d.json", tmp_path / "b.json"
    declaration.write_text(json.dumps(DECLARATION))
    background.write_text(json.dumps({"risk_areas": [{"region": "330100", "level": "red", "start": "2026"}]}))
    out = run(
        "declare", "--declaration", declaration, "--background", background, "--key", key,
        "--region", "330106", code=3,
    ).output  # fmt: skip
    assert clean(out.rstrip("\n")).startswith(
        f"error: [bad_input] background {background}: risk_areas[0].level"
    )


def test_declare_png_is_refused_when_it_exists_unless_force(tmp_path: Path, key: Path) -> None:
    declaration, png = tmp_path / "d.json", tmp_path / "code.png"
    declaration.write_text(json.dumps(DECLARATION))
    args = ["declare", "--declaration", declaration, "--key", key, "--region", "330106", "--png", png]
    payload = json.loads(run(*args, "--json").output)
    assert payload["until"].endswith("+00:00") and payload["png"] == str(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    png.write_bytes(b"mine")
    assert run(*args, code=2).output.startswith(f"error: {png} exists; refusing to overwrite it")
    assert png.read_bytes() == b"mine"
    run(*args, "--force")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_rules_sign_reports_json_and_refuses_an_existing_out(tmp_path: Path, key: Path) -> None:
    spec, out = tmp_path / "policy.json", tmp_path / "policy.cose"
    spec.write_text(json.dumps(DEFAULT_POLICIES))
    payload = json.loads(run("rules", "sign", spec, "--key", key, "--out", out, "--json").output)
    assert set(payload) == {"file", "bytes", "kind", "id", "version", "issued_at", "expires_at"}
    assert payload["kind"] == "policy" and payload["bytes"] == out.stat().st_size
    assert payload["expires_at"].endswith("+00:00")
    assert "exists" in run("rules", "sign", spec, "--key", key, "--out", out, code=2).output
    run("rules", "sign", spec, "--key", key, "--out", out, "--force", "--valid-days", 7)
    assert (
        run("rules", "sign", spec, "--key", key, "--out", out, "--valid-days", 99999, code=2).exit_code == 2
    )


def test_rules_sign_refuses_a_bad_rule_set_in_one_line(tmp_path: Path, key: Path) -> None:
    spec = tmp_path / "status.json"
    spec.write_text(json.dumps({**DEFAULT_STATUS_RULES, "paper_valid_days": 999}))
    out = run("rules", "sign", spec, "--key", key, "--out", tmp_path / "s.cose", code=1).output
    assert clean(out.rstrip("\n")) == (
        f"error: [invalid_rule] {spec}: status rule set:"
        " paper_valid_days: 999 is not allowed; give at most 180"
    )


def test_demo_refuses_a_folder_that_holds_files_unless_force(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    refused = run("demo", "--out", out, code=2)
    assert refused.output.startswith(f"error: {out} is not empty") and not (out / "keys").exists()
    run("demo", "--out", out, "--force")
    assert (out / "trust").is_dir() and (out / "notes.txt").read_text() == "mine"


def test_conformance_exit_codes(tmp_path: Path) -> None:
    missing = run("conformance", tmp_path / "nothing", code=2)
    folder = str(tmp_path / "nothing")
    assert missing.output == f"error: VECTORS {folder!r} is not a folder of conformance vectors\n"
    assert "holds no conformance cases" in run("conformance", tmp_path, code=2).output
    assert "--impl" in run("conformance", tmp_path, "--impl", '"unclosed', code=2).output
    assert "--impl" in run("conformance", tmp_path, "--impl", " ", code=2).output
    (tmp_path / "area").mkdir()
    (tmp_path / "area" / "case.json").write_text("{not json")
    assert "FAIL: 1 of 1 cases failed" in run("conformance", tmp_path, code=1).output
