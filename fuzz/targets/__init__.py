"""The fuzz targets: one module per entry point, each holding a :class:`fuzz.harness.Target` ``TARGET``."""

from __future__ import annotations

import importlib

from fuzz.harness import Target

__all__ = ["TARGET_NAMES", "load"]

TARGET_NAMES = (
    "verify_text",
    "verify_bytes",
    "verify_image",
    "trust_list",
    "revocation_list",
    "rule_set",
    "bundle",
    "dsc",
    "shc_issuer",
    "anchor",
    "trust_folder",
    "certlogic",
    "binding",
    "family",
    "place",
    "shc_card",
    "scan_log",
    "decode_paths",
)
"""Every target, in the order the smoke and the campaign run them."""


def load(name: str) -> Target:
    """The target called ``name`` (its module is imported on first use)."""
    if name not in TARGET_NAMES:
        raise KeyError(f"no fuzz target {name!r}; the targets are {', '.join(TARGET_NAMES)}")
    target: Target = importlib.import_module(f"fuzz.targets.{name}").TARGET
    return target
