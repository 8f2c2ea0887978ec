"""What the credential's records share: immutable slots, value equality, pydantic-style helpers,
and the strict field checks their constructors make.

Plain classes rather than pydantic models: verification builds them on its hot path, and a
verifying process then never imports pydantic (importing it cost ~13 bare interpreter starts).
The checks are those strict pydantic made: no coercion (``bool`` is not an ``int``, an enum
field takes the enum, ``bytearray`` is not ``bytes``); a subclass of ``str``, ``int`` or
``bytes`` is taken as its plain value, as pydantic did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, ClassVar, Self, TypeVar

from healthcred._extensions import load_extension
from healthcred.errors import InvalidField

__all__ = [
    "Record",
    "builder_of",
    "fill",
    "member",
    "moment",
    "nested",
    "number",
    "octets",
    "text",
    "trusted",
    "unchecked_builder",
]

_R = TypeVar("_R", bound="Record")
_E = TypeVar("_E", bound=IntEnum)
_T = TypeVar("_T")

fill = object.__setattr__
"""How a record's ``__init__`` fills a slot: the record's own ``__setattr__`` refuses."""


class Record:
    """What the credential's records share: immutable slots, equality and hash by value, a repr,
    and pydantic's ``model_dump`` / ``model_copy`` / ``model_validate`` for code written against it.

    Plain classes rather than pydantic models: verification builds them on its hot path, and a
    verifying process then never imports pydantic. Each ``__init__`` checks every field as the
    strict pydantic models did (no coercion) and raises :class:`InvalidField`.
    """

    __slots__: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__slots__])

    def _items(self) -> zip[tuple[str, Any]]:
        return zip(self.__slots__, self._values(), strict=True)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: a {type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._items())
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values()))

    def model_dump(self) -> dict[str, Any]:
        """The fields as a dict in field order, nested records as dicts (as pydantic's)."""
        return {
            name: value.model_dump() if isinstance(value, Record) else value for name, value in self._items()
        }

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with the fields in ``update`` replaced, validated (pydantic's skips validation)."""
        return self.model_validate({**dict(self._items()), **(update or {})})

    @classmethod
    def model_validate(cls, obj: object) -> Self:
        """Build one from a mapping of its fields (nested records as records or mappings)."""
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, Mapping):
            raise InvalidField("", f"a {cls.__name__} is built from a mapping, not {type(obj).__name__}")
        for key in obj:
            if key not in cls.__slots__:
                raise InvalidField(str(key), f"is not a field of {cls.__name__}")
        try:
            return cls(**obj)
        except TypeError as exc:  # only a missing field is left: every key is a field
            raise InvalidField("", f"{cls.__name__} lacks a field: {exc}") from exc


def unchecked_builder(cls: type[_T]) -> Callable[..., _T]:
    """A function that builds a ``cls`` from its slots' values, in order, **without any check**.

    For values a worker process has already checked (``flows.pool`` rebuilds what
    a verifying process returns), never for outside input. ``cls`` is a slotted
    class (a :class:`Record`, a frozen slots dataclass). In C where built
    (``_slots.c``: one call), else generated code: one slot store per field,
    4–5× faster than a loop over the fields (measured).
    """
    names = [name for name in cls.__slots__ if not name.startswith("__")]  # type: ignore[attr-defined]
    if _compiled is not None:
        built: Callable[..., _T] = _compiled.slot_builder(cls, tuple(names))
        return built
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    scope.update({f"_set{i}": getattr(cls, name).__set__ for i, name in enumerate(names)})
    params = ", ".join(f"v{i}" for i in range(len(names)))
    body = "".join(f"    _set{i}(r, v{i})\n" for i in range(len(names)))
    exec(f"def build({params}):\n    r = _new(_cls)\n{body}    return r\n", scope)  # noqa: S102
    build: Callable[..., _T] = scope["build"]
    return build


_compiled = load_extension("healthcred.model._slots")
"""The C record builders (``_slots.c``), or ``None`` where not built or ``HEALTHCRED_PURE=1``."""


def builder_of(cls: type[_T]) -> Callable[..., _T]:
    """:func:`unchecked_builder` of ``cls``, made once per class and kept."""
    build = _BUILDERS.get(cls)
    if build is None:
        build = _BUILDERS[cls] = unchecked_builder(cls)
    return build


def trusted(cls: type[_R], *values: Any) -> _R:
    """A ``cls`` holding ``values`` in slot order, WITHOUT its constructor's checks.

    Only for a caller that has made every one of those checks itself (the verifier's lean
    claims path, :mod:`healthcred.native.claims`, held to the constructors by the tests).
    """
    return builder_of(cls)(*values)


_BUILDERS: dict[type, Callable[..., Any]] = {}


def _rebuild(cls: type[Record], values: tuple[Any, ...]) -> Record:
    return cls(**dict(zip(cls.__slots__, values, strict=True)))


def nested(cls: type[_R], value: object, field: str) -> _R:
    """``value`` if it is a ``cls``, or a ``cls`` built from a mapping of its fields (pydantic took both)."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise InvalidField(field, f"must be a {cls.__name__}, not {type(value).__name__}")
    try:
        return cls.model_validate(value)
    except InvalidField as exc:
        raise InvalidField(f"{field}.{exc.field}" if exc.field else field, exc.rule) from None


def text(value: object, field: str, pattern: re.Pattern[str], max_length: int, shape: str) -> str:
    """``value`` if it is a ``str`` of at most ``max_length`` characters matching all of ``pattern``."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise InvalidField(field, f"must be a str, not {type(value).__name__}")
        value = str.__str__(value)  # a str subclass (a StrEnum) is kept as its text, as pydantic did
    if len(value) > max_length:
        raise InvalidField(field, f"must be at most {max_length} characters")
    if pattern.fullmatch(value) is None:
        raise InvalidField(field, f"{value!r} is not {shape}")
    return value


def number(value: object, field: str, low: int, high: int) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) in ``low..high``."""
    if type(value) is not int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidField(field, f"must be an int, not {type(value).__name__}")
        value = int(value)  # an int subclass (an IntEnum) is kept as its number, as pydantic did
    if not low <= value <= high:
        raise InvalidField(field, f"{value} is not in {low}..{high}")
    return value


def octets(value: object, field: str, length: int) -> bytes:
    """``value`` if it is ``bytes`` of exactly ``length``."""
    if type(value) is not bytes:
        if not isinstance(value, bytes):  # bytearray and memoryview are refused, as pydantic did
            raise InvalidField(field, f"must be bytes, not {type(value).__name__}")
        value = bytes(value)
    if len(value) != length:
        raise InvalidField(field, f"must be {length} bytes, not {len(value)}")
    return value


def member(value: object, field: str, enum: type[_E]) -> _E:
    """``value`` if it is a member of ``enum``."""
    if not isinstance(value, enum):  # strict: the enum itself, not its number
        raise InvalidField(field, f"must be a {enum.__name__}, not {type(value).__name__}")
    return value


def moment(value: object, field: str) -> datetime:
    """``value`` if it is a ``datetime`` in UTC with whole seconds (what the wire carries)."""
    if not isinstance(value, datetime):
        raise InvalidField(field, f"must be a datetime, not {type(value).__name__}")
    # ``tzinfo is UTC`` first: utcoffset() is a call, and a decoded code's times are in UTC
    if (value.tzinfo is not UTC and (value.tzinfo is None or value.utcoffset())) or value.microsecond:
        raise InvalidField(field, "times must be UTC with whole seconds (the wire carries seconds)")
    return value
