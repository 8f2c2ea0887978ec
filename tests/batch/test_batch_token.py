"""`batch` with a token key: signing processes, each with its own session, journal order unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import healthcred
from healthcred import KeyGrant, TrustStore, generate_key
from healthcred.batch.run import run_batch
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.cose import Signer
from healthcred.crypto.pkcs11 import TokenKey, generate_token_key
from healthcred.errors import BadInput
from tests.batch.test_batch import rows, write_csv
from tests.helpers.softhsm import SoftToken, new_label
from tests.helpers.world import CHECKED, ISSUED, KEY_NOT_AFTER, T0, signed_list, ts

COUNT = 300  # more than one chunk (256), so the second chunk's journaling follows the first's


def health_rows(count: int) -> list[dict[str, str]]:
    """Rows every colour's health-code limit allows (one day)."""
    return [{**row, "valid_days": "1"} for row in rows(count)]


@pytest.fixture(scope="module")
def token(soft_token: SoftToken) -> Iterator[TokenKey]:
    key = generate_token_key(soft_token.uri(new_label("batch")), Alg.ES256)
    yield key
    key.close()


def store_for(signer: Signer) -> TrustStore:
    root = generate_key(Alg.EDDSA)
    grant = KeyGrant(signer.public_key, "330000", ts(T0), ts(KEY_NOT_AFTER))
    return TrustStore([root.public_key()], [signed_list(root, [grant])])


def journal(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]


def test_a_token_signer_can_be_reopened_and_a_software_one_cannot(token: TokenKey) -> None:
    signer = token.signer()
    assert signer.reopen is not None and Signer.for_key(generate_key(Alg.ES256)).reopen is None


def test_batch_signs_through_two_token_processes_in_row_order_and_every_code_verifies(
    tmp_path: Path, token: TokenKey
) -> None:
    signer = token.signer()
    source, out = write_csv(tmp_path / "in.csv", health_rows(COUNT)), tmp_path / "out"
    summary = run_batch(source, out, signer, kind="health", pdf=False, workers=0, signers=2, issued_at=ISSUED)
    assert summary.issued == COUNT and not summary.bad
    entries = journal(out)
    assert [e["row"] for e in entries] == list(range(1, COUNT + 1))
    store = store_for(signer)
    for entry in entries[:: COUNT // 10] + entries[-1:]:
        credential = healthcred.verify(str(entry["text"]), store, at=CHECKED).credential
        assert isinstance(credential, healthcred.HealthCode) and credential.region.startswith("330")


def test_a_rerun_with_token_processes_signs_nothing_again(tmp_path: Path, token: TokenKey) -> None:
    signer = token.signer()
    source, out = write_csv(tmp_path / "in.csv", health_rows(COUNT)), tmp_path / "out"
    run_batch(source, out, signer, kind="health", pdf=False, workers=0, signers=2, issued_at=ISSUED)
    before = (out / "journal.jsonl").read_bytes()
    again = run_batch(source, out, signer, kind="health", pdf=False, workers=0, signers=2, issued_at=ISSUED)
    assert again.issued == 0 and again.already == COUNT
    assert (out / "journal.jsonl").read_bytes() == before


@pytest.mark.parametrize("signers", [0, -1, True, 1.5])
def test_signers_must_be_a_whole_number_at_least_one(
    tmp_path: Path, token: TokenKey, signers: object
) -> None:
    with pytest.raises(BadInput, match="signers must be an integer"):
        run_batch(write_csv(tmp_path / "in.csv", rows(2)), tmp_path / "out", token.signer(), signers=signers)  # type: ignore[arg-type]
