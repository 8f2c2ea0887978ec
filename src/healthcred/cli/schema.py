"""``healthcred schema``: the JSON Schema of every file an operator writes by hand.

Each schema is generated from the pydantic model that also validates the file when a command
reads it, so the schema cannot drift from what is accepted; ``docs/schemas/NAME.schema.json`` are
these outputs, kept equal to them by ``tests/cli/test_schema.py``.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from healthcred.cli.exits import USAGE, CommandFailure
from healthcred.cli.support import echo_json, json_option, write_file

__all__ = ["DIALECT", "SCHEMAS", "SchemaEntry", "json_schema", "model_of", "schema", "schema_text"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect every schema declares (``$schema``)."""
_ID = "urn:healthcred:schema:{name}"
"""Each schema's ``$id``: a name that does not depend on where the docs are served."""


@dataclass(frozen=True, slots=True)
class SchemaEntry:
    """A hand-written file: its model (``module:Class``, imported when asked), what it is, who reads it."""

    model: str
    summary: str
    readers: str

    @property
    def line(self) -> str:
        """The line ``healthcred schema`` lists it with."""
        return f"{self.summary} (read by {self.readers})"


SCHEMAS: dict[str, SchemaEntry] = {
    "declaration": SchemaEntry(
        "healthcred.rules.declaration:Declaration",
        "A health declaration, as a citizen filed it",
        "healthcred declare --declaration",
    ),
    "background": SchemaEntry(
        "healthcred.rules.declaration:Background",
        "Background data: risk areas and the key-personnel control list",
        "healthcred declare --background",
    ),
    "batch-row": SchemaEntry(
        "healthcred.batch.rows:BatchRow",
        "One row of a batch source: a JSONL object, or a CSV line under a header of these names",
        "healthcred batch SOURCE",
    ),
    "status-rules": SchemaEntry(
        "healthcred.rules.status:StatusRuleSetSpec",
        "A status rule set: a declaration and background data to a colour",
        "healthcred rules sign, declare --rules, batch --status-rules",
    ),
    "policy": SchemaEntry(
        "healthcred.rules.policy:PolicySetSpec",
        "A verification policy set: whom a place admits",
        "healthcred rules sign",
    ),
    "trust-list": SchemaEntry(
        "healthcred.trust.sources:TrustListSource",
        "A trust list's source: the regional keys, their grants and windows, before signing",
        "healthcred trustlist sign, trustlist edit",
    ),
}
"""Schema name → the model that validates that file."""

_ROLE = re.compile(r":(?:func|class|data|meth|mod|attr):`~?(?:[\w.]*\.)?(\w+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def _plain(text: str) -> str:
    """A docstring as a schema description: one paragraph, reST roles and literals as Markdown code."""
    text = _ROLE.sub(r"`\1`", text)
    return " ".join(_LITERAL.sub(r"`\1`", text).split())


class _Generator(GenerateJsonSchema):
    """Pydantic's draft 2020-12 generator, with the descriptions made plain for operators."""

    def bytes_schema(self, schema: core_schema.BytesSchema) -> JsonSchemaValue:
        """Bytes come from JSON as text (their UTF-8 encoding): a string, with no invented format."""
        return {"type": "string"}

    def generate(self, schema: core_schema.CoreSchema, mode: Any = "validation") -> JsonSchemaValue:
        """The schema, every description rewritten by :func:`_plain`."""
        described: JsonSchemaValue = _described(super().generate(schema, mode=mode))
        return described


def _described(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _plain(item) if key == "description" and isinstance(item, str) else _described(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_described(item) for item in value]
    return value


def model_of(name: str) -> type[BaseModel]:
    """The model registered as ``name`` (imported now)."""
    module, _, attribute = SCHEMAS[name].model.partition(":")
    model = getattr(importlib.import_module(module), attribute)
    assert isinstance(model, type) and issubclass(model, BaseModel), SCHEMAS[name].model
    return model


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the file registered as ``name``."""
    body = model_of(name).model_json_schema(schema_generator=_Generator, mode="validation")
    head = {"$schema": DIALECT, "$id": _ID.format(name=name), "title": f"healthcred {name}"}
    described = f"{body.pop('description', SCHEMAS[name].summary)} Read by {SCHEMAS[name].readers}."
    body.pop("title", None)
    return {**head, "description": described, **body}


def schema_text(name: str) -> str:
    """:func:`json_schema` as the command prints it and docs/schemas/ holds it."""
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"


@click.command()
@click.argument("name", required=False, metavar="[NAME]", type=click.Choice(list(SCHEMAS)))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to this file (atomically) instead of printing it.",
)
@click.option("--force", is_flag=True, help="Let --out replace an existing file.")
@json_option(
    "With no NAME, list the schemas as {schemas: [{name, summary, readers}]}; with --out, report"
    " {schema, out, bytes}. (A schema itself is always printed as JSON.)"
)
def schema(name: str | None, out: Path | None, force: bool, as_json: bool) -> None:
    """Print the JSON Schema of a file an operator writes by hand; with no NAME, list them."""
    if name is None:
        if out is not None:
            raise CommandFailure("--out needs a NAME: which schema to write", USAGE)
        if as_json:
            listed = [{"name": n, "summary": e.summary, "readers": e.readers} for n, e in SCHEMAS.items()]
            echo_json({"schemas": listed})
            return
        width = max(map(len, SCHEMAS))
        for each, entry in SCHEMAS.items():
            click.echo(f"{each:<{width}}  {entry.line}")
        return
    text = schema_text(name)
    if out is None:
        click.echo(text, nl=False)
        return
    if out.exists() and not force:  # write_file refuses too, atomically; this says what to do
        raise CommandFailure(f"{out} exists; give another --out, or --force to replace it", USAGE)
    write_file(out, text, overwrite=force)
    if as_json:
        echo_json({"schema": name, "out": str(out), "bytes": len(text.encode("utf-8"))})
    else:
        click.echo(f"wrote {out}: the {name} schema", err=True)
