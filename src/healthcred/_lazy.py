"""Packages whose re-exported names load on first use (PEP 562), so importing one module of a
package does not import all its siblings.

``healthcred.foreign.dcc.dsc`` is needed to load any trust folder; before this, importing it ran
``foreign/dcc/__init__.py``, which imported the whole HC1 codec too (and the same for SHC):
~16 ms of a 110 ms ``healthcred verify`` process that reads a native code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["lazy_package"]


def lazy_package(
    package: str, submodules: Sequence[str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each of ``names`` from the first submodule with it."""
    public = frozenset(names)

    def getattr_(name: str) -> Any:
        if name in public:
            for sub in submodules:
                module = importlib.import_module(f"{package}.{sub}")
                if name in getattr(module, "__all__", ()):
                    value = getattr(module, name)
                    setattr(sys.modules[package], name, value)  # the next access is a plain lookup
                    return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted(public)

    return getattr_, dir_
