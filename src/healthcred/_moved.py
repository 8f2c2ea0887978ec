"""Old module paths of the 0.1 layout, kept importable for one release with a DeprecationWarning.

The package was re-cut into layers (docs/architecture.md); import healthcred.verifier
still works and gives the module now at healthcred.flows.verify. The finder is installed by
import healthcred and costs nothing until an old path is imported; this module imports only what
a bare Python start has loaded already (no importlib.abc, no typing), so that costs nothing either.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["MOVED", "install"]

MOVED = {
    "codec.limits": "limits",
    "signing.algorithms": "crypto.algorithms",
    "signing.keys": "crypto.keys",
    "signing.cose": "crypto.cose",
    "claims": "native.claims",
    "foreign.hc1": "foreign.dcc.hc1",
    "signing.dsc": "foreign.dcc.dsc",
    "signing.jwks": "foreign.shc.issuers",
    "codec.jose": "foreign.shc.jose",
    "signing.trust": "trust",
    "signing.revocation": "trust.revocation",
    "signing.rulesets": "trust.rulesets",
    "signing.bundle": "trust.bundle",
    "signing.state": "trust.state",
    "signing.folder": "trust.folder",
    "signing.idcheck": "flows.idcheck",
    "signed": "flows.checks",
    "verifier": "flows.verify",
    "issuer": "flows.issue",
    "national": "flows.national",
    "gate": "flows.gate",
    "places": "flows.places",
    "scanlog": "flows.scanlog",
    "binding": "flows.binding",
    "cli_batch": "cli.batch",
    "cli_conformance": "cli.conformance",
    "cli_family": "cli.family",
    "cli_places": "cli.place",
    "cli_rules": "cli.rules",
    "cli_support": "cli.support",
    "cli_trust": "cli.trust",
    "demo": "cli.demo",
}
"""Old module (below healthcred.) → where it lives now."""

_SIGNING = (
    "crypto.algorithms",
    "crypto.cose",
    "crypto.keys",
    "trust.grants",
    "trust.lists",
    "trust.store",
    "trust.folder",
)
"""Where the names the old healthcred.signing package re-exported live now."""


class _Alias:  # an importlib loader (create_module + exec_module); no importlib.abc base: it is slow
    def __init__(self, target: str | None) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        old = spec.name
        if self.target is None:  # the old signing package: a namespace that resolves names lazily
            module = types.ModuleType(old, "Deprecated: use healthcred.crypto and healthcred.trust.")
            module.__path__ = []
            module.__getattr__ = _signing_name  # type: ignore[method-assign]
            return module
        warnings.warn(
            f"{old} moved to {self.target}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module is the new one (or the lazy signing namespace)."""


def _signing_name(name: str) -> Any:
    if name.startswith("__"):  # dunders (__file__, __spec__ probes) are not old re-exports
        raise AttributeError(name)
    for place in _SIGNING:
        module = importlib.import_module(f"healthcred.{place}")
        if hasattr(module, name):
            warnings.warn(
                f"healthcred.signing.{name} moved to healthcred.{place}.{name}",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(module, name)
    raise AttributeError(f"module 'healthcred.signing' has no attribute {name!r}")


class _Finder:  # a meta-path finder (find_spec)
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("healthcred."):
            return None
        old = fullname[len("healthcred.") :]
        if old == "signing":
            # _Alias is a loader by protocol; typeshed wants the importlib.abc class, slow to import.
            return importlib.machinery.ModuleSpec(fullname, _Alias(None), is_package=True)  # type: ignore[arg-type]
        new = MOVED.get(old)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(f"healthcred.{new}"))  # type: ignore[arg-type]


def install() -> None:
    """Put the finder on sys.meta_path once (after the ordinary finders: new paths win)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
