"""The package layout: old module paths still import (deprecated), and resolve to the new modules."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import healthcred
from healthcred._moved import MOVED
from tests.helpers.paths import ROOT


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_import_with_a_warning(old: str) -> None:
    sys.modules.pop(f"healthcred.{old}", None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(f"healthcred.{old}")
    assert module is importlib.import_module(f"healthcred.{MOVED[old]}")


OLD_TRUST_NAMES = (
    "ANCHORS_DIR",
    "LISTS_DIR",
    "NATIONAL_REGION",
    "REVOCATIONS_DIR",
    "RULES_DIR",
    "TRUST_LIST_CONTENT_TYPE",
    "Anchor",
    "KeyGrant",
    "Revocations",
    "TrustEntry",
    "TrustList",
    "TrustStore",
    "make_trust_list",
    "open_signed",
    "parse_trust_list",
    "permitting_entry",
    "region_contains",
    "verify_signer",
    # public beside the 0.1 __all__:
    "MAX_LIST_BYTES",
    "MAX_REVOCATION_BYTES",
    "ROLE_DELEGATE",
    "ROLE_ISSUE",
    "ROLE_RULES",
    "TRUST_LIST_FORMAT",
)
"""The public names of the 0.1 module healthcred.signing.trust (its __all__, then its other constants)."""


@pytest.mark.parametrize("name", OLD_TRUST_NAMES)
def test_every_old_signing_trust_name_is_reachable_through_the_old_path(name: str) -> None:
    sys.modules.pop("healthcred.signing.trust", None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        old = importlib.import_module("healthcred.signing.trust")
    assert getattr(old, name) is getattr(importlib.import_module("healthcred.trust"), name)


def test_the_trust_package_exports_what_its_modules_export() -> None:
    package = importlib.import_module("healthcred.trust")
    modules = [m.name for m in pkgutil.iter_modules(package.__path__)]
    assert len(modules) >= 10
    for module in modules:
        names = importlib.import_module(f"healthcred.trust.{module}").__all__
        assert set(names) <= set(package.__all__), module


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


OLD_SIGNING_NAMES = [
    "Alg",
    "KeyGrant",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "TrustStore",
    "generate_key",
    "kid_of",
    "load_private_key",
    "load_public_key",
    "load_trust",
    "make_trust_list",
    "save_private_key",
    "save_public_key",
    "sign",
    "verify_signature",
]
"""The names the 0.1 package healthcred.signing re-exported."""


@pytest.mark.parametrize("name", OLD_SIGNING_NAMES)
def test_every_old_signing_package_name_resolves(name: str) -> None:
    sys.modules.pop("healthcred.signing", None)
    signing = importlib.import_module("healthcred.signing")
    with pytest.warns(DeprecationWarning, match=f"moved to healthcred\\..*\\.{name}$"):
        assert getattr(signing, name) is not None


THIRD_PARTY = {
    "PIL", "segno", "pydantic", "pydantic_core", "nacl", "cbor2", "cryptography", "click", "zxingcpp", "fpdf",
    "fontTools",
}  # fmt: skip


def test_import_healthcred_imports_no_third_party_package() -> None:
    # Every public name is imported on first access (PEP 562): `import healthcred` itself is cheap.
    script = "import sys, healthcred\nnames = sorted(sys.modules)\nimport json\nprint(json.dumps(names))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    modules = set(json.loads(run.stdout))
    assert not THIRD_PARTY & {m.split(".")[0] for m in modules}
    assert {m for m in modules if m.startswith("healthcred")} == {"healthcred", "healthcred._moved"}


_VERIFY_AND_LIST_MODULES = """
import json, sys
from healthcred.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit as done:
    assert not done.code, done.code
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(sorted(sys.modules), out)
"""


def test_verifying_imports_no_pydantic(tmp_path: Path) -> None:
    # pydantic alone costs ~13 bare interpreter starts: the credential model is plain Python.
    run = subprocess.run(
        [sys.executable, "-c", "import sys, healthcred.flows.verify; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "pydantic" not in run.stdout
    spec = importlib.util.spec_from_file_location("bench_startup", ROOT / "bench" / "startup.py")
    assert spec is not None and spec.loader is not None
    startup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(startup)
    trust, code = startup.write_world(tmp_path)  # the world bench/startup.py times `verify` in
    listed = tmp_path / "modules.json"
    args = [str(listed), "verify", "--trust", str(trust), str(code)]
    command = [sys.executable, "-c", _VERIFY_AND_LIST_MODULES, *args]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("VALID")
    modules = {m.split(".")[0] for m in json.loads(listed.read_text(encoding="utf-8"))}
    assert not {"pydantic", "pydantic_core"} & modules


def test_every_public_name_resolves_and_is_listed() -> None:
    from healthcred.flows.verify import verify

    for name in healthcred.__all__:
        assert getattr(healthcred, name) is not None
    assert healthcred.verify is verify and "verify" in vars(healthcred)  # kept after the first access
    assert set(healthcred.__all__) <= set(dir(healthcred))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = healthcred.no_such_name


def test_an_unknown_module_is_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("healthcred.no_such_module")


def test_the_import_contract_catches_an_upward_import(tmp_path: Path) -> None:
    # The contract in pyproject.toml, run on a copy of the package with one upward import added.
    root = ROOT
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


def test_test_folders_mirror_the_package() -> None:
    # tests/X/ holds the tests of healthcred.X, as a package (two folders may hold the same file name);
    # tests/advisories/ is the one cross-cutting folder: named security regressions, one file per area.
    packages = {p.parent.name for p in (ROOT / "src" / "healthcred").glob("*/__init__.py")}
    subpackages = packages | {"advisories"}
    folders = [p.parent for p in (ROOT / "tests").glob("*/test_*.py")]
    assert {f.name for f in folders} <= subpackages
    assert all((f / "__init__.py").is_file() for f in folders)


@pytest.mark.parametrize("package", ["healthcred.foreign.dcc", "healthcred.foreign.shc"])
def test_lazy_packages_serve_every_exported_name(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = module.nothing_here
