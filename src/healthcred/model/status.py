"""The health-code colour: :class:`Status`, the national palette and the one name → colour map."""

from __future__ import annotations

import re
from collections.abc import Mapping

from healthcred.model.record import Record, fill, number, text

__all__ = [
    "GREEN",
    "NATIONAL_PALETTE",
    "RED",
    "STATUS_BY_NAME",
    "YELLOW",
    "Status",
    "status_from_code",
]

_STATUS_NAME = re.compile(r"[a-z][a-z0-9-]*")


class Status(Record):
    """A health-code colour: a small wire ``code`` and its ``name``.

    The national palette is green (1), yellow (2) and red (3). Regions used more
    colours, so any code 1–255 is representable; a verifier names unknown codes
    from a palette it is given, or as ``status-N``. Policies must treat an
    unknown colour as not passing.
    """

    __slots__ = ("code", "name")
    code: int
    """1–255."""
    name: str
    """1–32 characters: a lower-case ASCII letter, then lower-case letters, digits and ``-``."""

    def __init__(self, *, code: int, name: str) -> None:
        """Check and hold the fields; raise :class:`InvalidField`."""
        fill(self, "code", number(code, "code", 1, 255))
        fill(
            self,
            "name",
            text(name, "name", _STATUS_NAME, 32, "a lower-case letter, then letters, digits, -"),
        )

    def __str__(self) -> str:
        return self.name


GREEN = Status(code=1, name="green")
"""Pass."""
YELLOW = Status(code=2, name="yellow")
"""Observation (up to 7 days)."""
RED = Status(code=3, name="red")
"""Isolation (14 days)."""

NATIONAL_PALETTE: Mapping[int, Status] = {s.code: s for s in (GREEN, YELLOW, RED)}
"""The three colours every verifier knows."""

STATUS_BY_NAME: Mapping[str, Status] = {s.name: s for s in NATIONAL_PALETTE.values()}
"""The national colours by name (``"green"`` → :data:`GREEN`): the one map from a name to a colour."""


def status_from_code(code: int, palette: Mapping[int, Status] | None = None) -> Status:
    """Name the colour with wire code ``code``, from ``palette`` or else the national one."""
    found = (palette or NATIONAL_PALETTE).get(code) or NATIONAL_PALETTE.get(code)
    return found if found is not None else Status(code=code, name=f"status-{code}")
