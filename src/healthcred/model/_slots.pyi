"""Types of the C record builders (``_slots.c``)."""

from collections.abc import Callable
from typing import Any

def slot_builder(cls: type, names: tuple[str, ...], /) -> Callable[..., Any]: ...
