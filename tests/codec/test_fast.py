"""The optional C decoder: present when required, and switched by ``HEALTHCRED_PURE``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from healthcred.codec import fast


def test_c_decoder_is_importable_when_required() -> None:
    if os.environ.get(fast.REQUIRE_ENV) != "1":
        pytest.skip(f"{fast.REQUIRE_ENV} is not 1")
    assert os.environ.get(fast.PURE_ENV) != "1", "the suite cannot both require and refuse the C decoder"
    assert fast.native is not None, "healthcred.codec._fast is not built: install with a C compiler"
    assert fast.implementation() == "c"
    from healthcred.native import claims

    assert claims.compiled is not None, "healthcred.native._claims is not built: install with a C compiler"
    if Path("/usr/include/zlib.h").exists():  # .ci/run installs zlib1g-dev: the C inflater is tested
        assert fast.native.INFLATES_IN_C == 1, "zlib.h is installed but _fast was built without it"


def test_pure_env_forces_the_python_path() -> None:
    env = {**os.environ, fast.PURE_ENV: "1"}
    code = (
        "from healthcred.codec import fast; from healthcred.native import claims;"
        " print(fast.implementation(), fast.native, claims.compiled)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["python", "None", "None"]


def test_implementation_names_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "native", None)
    assert fast.implementation() == "python"
