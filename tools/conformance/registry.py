"""The registry of case builders: one small function per area of the format.

A builder returns cases whose ``expected`` states the intent — an error code,
or valid with a few result fields; the generator evaluates each case with this
library, fails if the library disagrees, and stores the full result. A builder
for an API that has not landed yet raises :class:`Pending` and is skipped
(listed in the manifest), never faked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tools.conformance.case import Case

__all__ = ["REGISTRY", "Builder", "Pending", "builder", "error", "valid"]

Builder = Callable[[], Iterable[Case]]
"""A function building the cases of one area."""


class Pending(Exception):
    """Raised by a builder whose library API does not exist yet; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class Registered:
    """A builder and the area (folder) its cases go to."""

    area: str
    name: str
    build: Builder


REGISTRY: list[Registered] = []
"""Every builder, in registration (and so file-generation) order."""


def builder(area: str) -> Callable[[Builder], Builder]:
    """Register a case builder for ``area``."""

    def register(func: Builder) -> Builder:
        REGISTRY.append(Registered(area, func.__name__, func))
        return func

    return register


def error(code: str) -> dict[str, Any]:
    """Expected outcome: refused with error ``code``."""
    return {"valid": False, "error": code}


def valid(**result: Any) -> dict[str, Any]:
    """Expected outcome: valid; ``result`` names the fields the builder means (the rest is filled in)."""
    return {"valid": True, "result": result}
