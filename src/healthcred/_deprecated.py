"""Renamed public functions keep their old name for one release, as a wrapper that warns."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["renamed"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def renamed(new: Callable[_P, _R], old: str) -> Callable[_P, _R]:
    """``new`` under its old name ``old``: the same call, with a :class:`DeprecationWarning` first."""
    where = f"{new.__module__}.{new.__qualname__}"

    @functools.wraps(new)
    def alias(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        message = f"{old} is renamed {where}; the old name goes in the next release"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated alias of :func:`{where}`; goes in the next release."
    return alias
