"""The package layout: old module paths still import (deprecated), and resolve to the new modules."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_the_import_contract_catches_an_upward_import(tmp_path: Path) -> None:
    # The contract in pyproject.toml, run on a copy of the package with one upward import added.
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "src" / "healthcred", tmp_path / "healthcred")
    shutil.copytree(root / "tools", tmp_path / "tools")
    base45 = tmp_path / "healthcred" / "codec" / "base45.py"
    upward = base45.read_text(encoding="utf-8") + "\nimport healthcred.flows.verify\n"
    base45.write_text(upward, encoding="utf-8")
    config = tmp_path / "pyproject.toml"
    shutil.copy(root / "pyproject.toml", config)
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache", str(config)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "healthcred.codec.base45 -> healthcred.flows.verify" in run.stdout
    assert "Layers: imports point down only" in run.stdout and "BROKEN" in run.stdout
