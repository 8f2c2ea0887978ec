"""A SoftHSM2 token for the PKCS#11 tests, in a temporary folder of its own.

The PKCS#11 module reads ``SOFTHSM2_CONF`` once, when the process first loads it, so the whole
test session shares one token folder and one token; each test makes its own keys (object labels)
on it. Where SoftHSM2 or python-pkcs11 is missing the tests skip, saying why, unless CI asked for
them (``CI`` or ``HEALTHCRED_REQUIRE_SOFTHSM`` set, as ``.ci/run`` does): then they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from healthcred.crypto.pkcs11 import DEFAULT_MODULE, MODULE_ENV

LABEL = "healthcred-test"
"""The test token's label."""
PIN = "246810"
"""The test token's user PIN."""
SO_PIN = "13579135"
"""The test token's security officer PIN."""


@dataclass(frozen=True)
class SoftToken:
    """The session's SoftHSM2 token: its folder, label, PIN and a file holding the PIN."""

    folder: Path
    label: str
    pin: str
    pin_file: Path

    def uri(self, obj: str, *, pin: str | None = None, extra: str = "") -> str:
        """A URI naming key ``obj`` on this token, its PIN from the PIN file (or ``pin`` as pin-value)."""
        query = f"pin-value={pin}" if pin is not None else f"pin-source=file:{self.pin_file}"
        return f"pkcs11:token={self.label};object={obj}{extra}?{query}"


def new_label(prefix: str = "key") -> str:
    """An object label no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("HEALTHCRED_REQUIRE_SOFTHSM"))


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"SoftHSM2 is required here (CI): {reason}", pytrace=False)
    pytest.skip(reason)


def start_token(folder: Path) -> SoftToken:
    """Initialise the token in ``folder`` and point this process's PKCS#11 module at it."""
    module = os.environ.get(MODULE_ENV) or DEFAULT_MODULE
    util = shutil.which("softhsm2-util")
    if importlib.util.find_spec("pkcs11") is None:
        _unavailable("python-pkcs11 is not installed (pip install 'healthcred[hsm]')")
    if util is None or not Path(module).is_file():
        _unavailable(f"SoftHSM2 is not installed (softhsm2-util, {module}): apt-get install softhsm2")
    assert util is not None
    tokens = folder / "tokens"
    tokens.mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    pin_file = folder / "pin.txt"
    pin_file.write_text(PIN + "\n")
    return SoftToken(folder, LABEL, PIN, pin_file)
