"""`healthcred schema`: each hand-written file's JSON Schema, generated from its model, kept in docs/."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator

from healthcred.batch.rows import BatchRow, DocumentTypeName, StatusName, parse_row, row_credential
from healthcred.cli.schema import DIALECT, SCHEMAS, json_schema, model_of, schema_text
from healthcred.errors import BadInput, InvalidRule
from healthcred.model import STATUS_BY_NAME, DocumentType
from healthcred.rules.declaration import parse_background, parse_declaration
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from tests.helpers.cli import run
from tests.helpers.paths import ROOT

DOCS = ROOT / "docs"
PAGE = DOCS / "schemas.md"
ISSUED = datetime(2026, 5, 1, tzinfo=UTC)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json_schema(name))


def page_blocks(name: str, language: str) -> list[str]:
    """The ```LANGUAGE blocks under the page's ``## NAME`` heading."""
    section = PAGE.read_text(encoding="utf-8").split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def valid(name: str, document: Any) -> None:
    """``document`` passes the published schema and the model a command reads it with."""
    errors = [e.message for e in validator(name).iter_errors(document)]
    assert not errors, errors
    model_of(name).model_validate(document, strict=False)


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_the_committed_schema_is_the_models(name: str) -> None:
    committed = (DOCS / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), (
        f"docs/schemas/{name}.schema.json is stale: healthcred schema {name} "
        f"--out docs/schemas/{name}.schema.json --force"
    )


def test_docs_publish_a_schema_for_every_registered_name_and_no_other() -> None:
    published = {p.name.removesuffix(".schema.json") for p in (DOCS / "schemas").glob("*.json")}
    assert published == set(SCHEMAS)
    page = PAGE.read_text(encoding="utf-8")
    for name in SCHEMAS:
        assert f"\n## {name}\n" in page and f"(schemas/{name}.schema.json)" in page


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_each_schema_is_a_valid_2020_12_schema_with_id_title_and_descriptions(name: str) -> None:
    schema = json_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT and schema["$id"] == f"urn:healthcred:schema:{name}"
    assert schema["title"] == f"healthcred {name}" and schema["description"]
    for where, properties in _objects(schema):
        assert properties, where
        for field, spec in properties.items():
            assert spec.get("description"), f"{name}: {where}.{field} has no description"
            assert ":class:" not in spec["description"] and "``" not in spec["description"]


def _objects(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema's properties: the top level and each definition."""
    found = [("$", schema.get("properties", {}))]
    for key, definition in schema.get("$defs", {}).items():
        if definition.get("type") == "object":
            found.append((key, definition["properties"]))
    return found


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_object_refuses_unknown_fields(name: str) -> None:
    schema = json_schema(name)
    assert schema["additionalProperties"] is False
    for key, definition in schema.get("$defs", {}).items():
        if definition.get("type") == "object":
            assert definition["additionalProperties"] is False, key


@pytest.mark.parametrize("name", ["declaration", "background", "status-rules", "policy", "trust-list"])
def test_the_pages_json_example_validates(name: str) -> None:
    (block,) = page_blocks(name, "json")
    valid(name, json.loads(block))


def test_the_pages_batch_examples_validate_and_issue() -> None:
    (jsonl,) = page_blocks("batch-row", "json")
    row = json.loads(jsonl)
    valid("batch-row", row)
    (table,) = page_blocks("batch-row", "csv")
    records = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(io.StringIO(table))]
    assert len(records) == 2
    for fields in [row, *records]:
        parse_row(fields)
        credential, _ = row_credential(fields, "paper", ISSUED)
        assert credential.region == "330106"


def test_the_seed_rule_sets_validate() -> None:
    """What `healthcred rules default status|policy` prints, and docs/rules.md's examples."""
    valid("status-rules", DEFAULT_STATUS_RULES)
    valid("policy", DEFAULT_POLICIES)
    blocks = re.findall(r"```json\n(.*?)```", (DOCS / "rules.md").read_text(encoding="utf-8"), re.DOTALL)
    kinds = {"status": "status-rules", "policy": "policy"}
    shown = [json.loads(block) for block in blocks]
    assert sorted(s["kind"] for s in shown) == ["policy", "status"]
    for document in shown:
        valid(kinds[document["kind"]], document)


@pytest.mark.parametrize(
    ("name", "document"),
    [
        ("policy", {**DEFAULT_POLICIES, "kinds": ["x"]}),
        ("policy", {**DEFAULT_POLICIES, "rules": [{**DEFAULT_POLICIES["rules"][0], "scenes": ["casino"]}]}),
        ("status-rules", {**DEFAULT_STATUS_RULES, "kind": "policy"}),
        (
            "status-rules",
            {**DEFAULT_STATUS_RULES, "rules": [{**DEFAULT_STATUS_RULES["rules"][0], "days": 0}]},
        ),
        ("background", {"risk_areas": [{"region": "3301", "level": "high", "start": "2026-01-01"}]}),
        ("background", {"key_personnel": ["330106197001010019"]}),
        ("batch-row", {"name": "x", "birth_date": "1970", "document_number": "1", "status": "purple"}),
    ],
)
def test_schema_and_model_refuse_the_same_mistakes(name: str, document: dict[str, Any]) -> None:
    assert not validator(name).is_valid(document)
    loaders: dict[str, tuple[Callable[[Any], object], type[Exception]]] = {
        "policy": (PolicySet, InvalidRule),
        "status-rules": (StatusRuleSet, InvalidRule),
        "background": (parse_background, BadInput),
        "batch-row": (parse_row, BadInput),
    }
    load, error = loaders[name]
    with pytest.raises(error):
        load(document)


def test_a_bad_declaration_names_the_field_and_value_in_plain_words() -> None:
    (block,) = page_blocks("declaration", "json")
    example = json.loads(block)
    with pytest.raises(BadInput) as caught:
        parse_declaration(
            {**example, "stays": [{"region": "3301", "start": "2026-04-20", "end": "2026-04-22"}]}
        )
    message = caught.value.message
    assert message.startswith("declaration: stays[0].region: '3301' is not a GB/T 2260 code (six digits")
    assert "[0-9]" not in message and "pydantic" not in message
    with pytest.raises(BadInput, match=r"declaration: kinds: is not a field here"):
        parse_declaration({**example, "kinds": 1})
    with pytest.raises(BadInput, match=r"declared_at: .*offset"):
        parse_declaration({**example, "declared_at": "2026-05-01T08:30:00"})


def test_the_batch_rows_names_are_the_models_own() -> None:
    """The literal names in batch rows are the colours and document types of the model, no others."""
    assert set(get_args(StatusName)) == set(STATUS_BY_NAME)
    assert set(get_args(DocumentTypeName)) == {m.name.lower() for m in DocumentType}
    assert "kind" in BatchRow.model_fields


def test_schema_lists_every_name_in_a_line_and_as_json() -> None:
    lines = run("schema").output.splitlines()
    assert [line.split()[0] for line in lines] == list(SCHEMAS)
    listed = json.loads(run("schema", "--json").output)
    assert [s["name"] for s in listed["schemas"]] == list(SCHEMAS)


def test_schema_prints_one_schema_and_writes_it_only_with_force(tmp_path: Path) -> None:
    assert run("schema", "policy").output == schema_text("policy")
    out = tmp_path / "sub" / "policy.schema.json"
    run("schema", "policy", "--out", out)
    assert out.read_text(encoding="utf-8") == schema_text("policy")
    out.write_text("mine")
    refused = run("schema", "policy", "--out", out, code=2)
    assert "exists" in refused.output and "--force" in refused.output
    assert out.read_text() == "mine"
    report = json.loads(run("schema", "policy", "--out", out, "--force", "--json").output)
    assert report == {"schema": "policy", "out": str(out), "bytes": len(schema_text("policy").encode())}
    assert out.read_text(encoding="utf-8") == schema_text("policy")


def test_schema_refuses_an_unknown_name_and_out_without_a_name(tmp_path: Path) -> None:
    assert "'nope' is not one of" in run("schema", "nope", code=2).output
    assert "--out needs a NAME" in run("schema", "--out", tmp_path / "x.json", code=2).output
    assert not (tmp_path / "x.json").exists()
