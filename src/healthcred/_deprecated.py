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


def moved(module: str, *targets: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving, from their old ``module``, the public names moved to ``targets``.

    Only names in a target's ``__all__`` are served (the first target that has one), each with a
    :class:`DeprecationWarning`; the targets are imported on first access.
    """

    def old_home(name: str) -> Any:
        for target in targets:
            new = importlib.import_module(target)
            if name in getattr(new, "__all__", ()):
                message = f"{module}.{name} moved to {target}.{name}; the old path goes in the next release"
                warnings.warn(message, DeprecationWarning, stacklevel=2)
                return getattr(new, name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return old_home
