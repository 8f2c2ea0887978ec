"""docs/national-crypto.md's region, run as written: an SM2 root and provinces, a key in SoftHSM2."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.cli import run_doc_block
from tests.helpers.sm import needs_sm2
from tests.helpers.softhsm import SoftToken

pytestmark = needs_sm2

DOCS = Path(__file__).parents[2] / "docs" / "national-crypto.md"


def test_the_sm2_region_runs_as_written(tmp_path: Path, soft_token: SoftToken) -> None:
    # soft_token: SoftHSM2 must be here (CI fails rather than skips without it); the block makes its own.
    run = run_doc_block(DOCS, "A region on SM2, with its issuing key in a token", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "Traceback" not in run.stderr
    assert "OK:" in out  # trust verify
    sm2, es256 = re.findall(r"^VALID .*, SM2\)$", out, re.M), re.findall(r"^VALID .*, ES256\)$", out, re.M)
    # SM2: Guangdong's and Shanghai's codes and the place code; ES256: Zhejiang's code and batch of 2.
    assert len(sm2) == 3 and len(es256) == 3, out
    assert "天河城" in sm2[2], out
    assert out.count("ADMIT 通行") == 2 and "ID 证件: matched" in out, out
    assert "VALID  GREEN  王*英  grandparent of the guardian, slot 1  guardian 张* checked" in out, out
    kid = re.search(r"^zhejiang: ES256 kid ([0-9a-f]{16})$", out, re.M)
    assert kid is not None and "private in the token" in out, out
    assert not (tmp_path / "keys" / "zhejiang.key.pem").exists()  # only the public half left the token
    assert len(list((tmp_path / "zj-batch" / "codes").glob("*.txt"))) == 2
