"""The record builders: the C one (``model/_slots.c``) builds what the generated Python one does."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from healthcred.codec import fast
from healthcred.model import GREEN, HealthCode, IdTag, Status, Subject, VerificationResult
from healthcred.model import record as record_module
from healthcred.model.credential import CredentialKind, DocumentType
from healthcred.model.result import ForeignCredential, Person, SourceFormat

needs_c = pytest.mark.skipif(record_module._compiled is None, reason="the C record builders are not built")

_WHEN = datetime(2026, 11, 23, tzinfo=UTC)
_SUBJECT = Subject(
    name="张三丰",
    birth_date="1985-03-12",
    document_type=DocumentType.RESIDENT_ID_CARD,
    document_number="33**1",
)
_CODE = HealthCode(
    kind=CredentialKind.HEALTH_STATUS,
    id=bytes(16),
    status=GREEN,
    subject=_SUBJECT,
    region="330100",
    issued_at=_WHEN,
    expires_at=_WHEN.replace(day=24),
    id_tag=IdTag(key_id=bytes(8), tag=bytes(16)),
)
_PERSON = Person("MUSTERMANN, ERIKA", "1964-08-12", "MUSTERMANN", "ERIKA")
SAMPLES: list[Any] = [
    GREEN,
    _SUBJECT,
    _CODE.id_tag,
    _CODE,
    VerificationResult(_CODE, bytes(8), "ES256", "330100", 3, _WHEN, ("a warning",)),
    _PERSON,
    ForeignCredential(SourceFormat.HC1, "vaccination", _PERSON, "DE", _WHEN, None, "URN:1", {"dose": 1}, {}),
]


def _fields(value: Any) -> list[Any]:
    return [getattr(value, name) for name in type(value).__slots__ if not name.startswith("__")]


@needs_c
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_the_c_builder_builds_what_the_python_one_does(sample: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = _fields(sample)
    built = record_module.unchecked_builder(type(sample))(*fields)
    monkeypatch.setattr(record_module, "_compiled", None)
    python = record_module.unchecked_builder(type(sample))(*fields)
    assert type(built) is type(python) is type(sample)
    assert built == python == sample and repr(built) == repr(python)
    if not isinstance(sample, ForeignCredential):  # its facts are a dict: it has no hash
        assert hash(built) == hash(python)
    assert all(a is b for a, b in zip(_fields(built), fields, strict=True))


@needs_c
def test_the_c_builder_refuses_a_wrong_call() -> None:
    build = record_module.unchecked_builder(Status)
    with pytest.raises(TypeError, match="building a Status takes 2 positional values, not 1"):
        build(1)
    with pytest.raises(TypeError, match="takes 2 positional values"):
        build(1, "green", "extra")
    with pytest.raises(TypeError, match="takes 2 positional values"):
        build(1, name="green")
    assert build(1, "green") == GREEN and "Status" in repr(build)


@needs_c
def test_the_c_builder_takes_only_plain_slots() -> None:
    assert record_module._compiled is not None
    slot_builder = record_module._compiled.slot_builder

    class Plain:
        __slots__ = ("a",)
        a: int

        @property
        def b(self) -> int:
            return 1

    with pytest.raises(ValueError, match="'b' is not a plain slot of Plain"):
        slot_builder(Plain, ("a", "b"))
    with pytest.raises(AttributeError):
        slot_builder(Plain, ("c",))
    with pytest.raises(ValueError, match="at most 32 slots"):
        slot_builder(Plain, ("a",) * 33)
    with pytest.raises(TypeError):
        slot_builder(Plain, ["a"])
    made = slot_builder(Plain, ("a",))(5)
    assert type(made) is Plain and made.a == 5


def test_the_pure_env_builds_records_in_python() -> None:
    env = {**os.environ, fast.PURE_ENV: "1"}
    code = "from healthcred.model import record; print(record._compiled)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None"]


def test_the_c_builders_are_built_when_required() -> None:
    if os.environ.get(fast.REQUIRE_ENV) != "1":
        pytest.skip(f"{fast.REQUIRE_ENV} is not 1")
    assert record_module._compiled is not None, "healthcred.model._slots is not built"
