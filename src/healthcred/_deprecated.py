"""Renamed or moved public names keep their old name or home for one release, with a DeprecationWarning."""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["moved", "renamed"]

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


def moved(module: str, target: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving, from their old ``module``, the public names that moved to ``target``.

    Only names in ``target.__all__`` are served, each with a :class:`DeprecationWarning`.
    """

    def old_home(name: str) -> Any:
        new = importlib.import_module(target)
        if name not in getattr(new, "__all__", ()):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        message = f"{module}.{name} moved to {target}.{name}; the old path goes in the next release"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return getattr(new, name)

    return old_home
