"""The station's test world: the demo's folder, a scan log, and the extra codes the tests show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthcred.cli.demo import run_demo
from healthcred.crypto.keys import load_private_key
from healthcred.flows.family import make_family_bundle
from healthcred.flows.issue import issue
from healthcred.model import GREEN, DocumentType, HealthCode, Subject

GRANDMOTHER_ID = "330106194205081229"
"""The demo's paper-code holder's ID number (as the demo issues it)."""
NEIGHBOUR_ID = "330106194205081237"
"""A valid ID number that is not hers."""


@dataclass(frozen=True)
class Demo:
    """Paths and code texts of one demo folder (its scan log and key included)."""

    root: Path

    @property
    def trust(self) -> Path:
        return self.root / "trust"

    def code(self, stem: str) -> str:
        return (self.root / "codes" / f"{stem}.txt").read_text(encoding="utf-8").strip()

    @property
    def log(self) -> Path:
        return self.root / "scan-log.db"

    @property
    def log_key(self) -> Path:
        return self.root / "keys" / "scan-log.key"

    @property
    def id_key(self) -> Path:
        return self.root / "keys" / "id-check.json"


def make_demo(root: Path) -> Demo:
    """Run the demo into ``root`` (its scan log included), and add an expired code and a tampered one."""
    assert run_demo(root, echo=lambda _: None)
    key = load_private_key(root / "keys" / "zhejiang.key.pem")
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)  # inside the key's grant
    expired = HealthCode.create(
        subject=Subject.create("赵六", "1970-02-02", DocumentType.RESIDENT_ID_CARD, "330106197002021236"),
        status=GREEN,
        region="330106",
        valid_for=timedelta(minutes=10),
        issued_at=old,
    )
    (root / "codes" / "expired.txt").write_text(issue(expired, key) + "\n", encoding="utf-8")
    green = (root / "codes" / "green-hangzhou.txt").read_text().strip()
    middle = len(green) // 2  # one Base45 character changed in the signed body: the signature fails
    tampered = green[:middle] + ("A" if green[middle] != "A" else "B") + green[middle + 1 :]
    (root / "codes" / "tampered.txt").write_text(tampered + "\n", encoding="utf-8")
    binding = (root / "codes" / "binding-grandmother.cose").read_bytes()
    family = make_family_bundle(
        green, [((root / "codes" / "paper-grandmother.txt").read_text().strip(), binding)]
    )
    (root / "codes" / "family.family.cbor").write_bytes(family)
    return Demo(root)


@pytest.fixture(scope="session")
def station_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One demo folder for the session's station tests (tests that change it make their own)."""
    return make_demo(tmp_path_factory.mktemp("station-demo"))


@pytest.fixture
def fresh_demo(tmp_path: Path) -> Demo:
    """A demo folder of the test's own (for tests that log, install trust, or change the folder)."""
    return make_demo(tmp_path / "demo")
