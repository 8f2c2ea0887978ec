"""The package layout: old module paths still import (deprecated), and resolve to the new modules."""

from __future__ import annotations

import importlib
import sys

import pytest

import healthcred
from healthcred._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_import_with_a_warning(old: str) -> None:
    sys.modules.pop(f"healthcred.{old}", None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(f"healthcred.{old}")
    assert module is importlib.import_module(f"healthcred.{MOVED[old]}")


def test_old_signing_package_names_resolve() -> None:
    sys.modules.pop("healthcred.signing", None)
    signing = importlib.import_module("healthcred.signing")
    with pytest.warns(DeprecationWarning, match="healthcred.crypto.algorithms.verify_signature"):
        verify_signature = signing.verify_signature
    from healthcred.crypto.algorithms import verify_signature as new

    assert verify_signature is new
    with pytest.warns(DeprecationWarning, match="trust.store.TrustStore"):
        assert signing.TrustStore is healthcred.TrustStore
    with pytest.raises(AttributeError):
        _ = signing.no_such_name


def test_an_unknown_module_is_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("healthcred.no_such_module")
