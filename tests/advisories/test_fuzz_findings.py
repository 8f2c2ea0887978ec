"""Regressions for what the fuzz harness (fuzz/) found in code no other part owns.

Each test names the defect class and rebuilds the input the fuzzer found.
"""

from __future__ import annotations

import bisect
import gzip
import io
import sqlite3
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcred import Alg, TrustStore, generate_key
from healthcred.errors import ScanLogError
from healthcred.flows.scanlog import close_log, export_rows, open_log, record_scan, stats
from healthcred.trust import revocation
from healthcred.trust.revocation import RevocationList, RevocationSet, fold_revocations, make_revocation_list

KEY = bytes(range(32))
DATA = Path(__file__).resolve().parents[1] / "data" / "advisories" / "scan_log"
_INSERT = (
    "INSERT INTO scans (at, place, credential, kind, colour, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _log_with_row(tmp_path: Path, row: tuple[Any, ...]) -> Path:
    db = tmp_path / "scans.db"
    log = open_log(db, KEY)
    record_scan(log, place="HZ-XH-0001", outcome="admit", credential_id=b"\x01" * 16, at=1795392000)
    close_log(log)
    with sqlite3.connect(db) as conn:  # a foreign writer, an old version or a bit flip: past the library
        conn.execute(_INSERT, row)
    conn.close()
    return db


_HOSTILE_TIMES = {
    "time-as-blob": b"\x00" * 8,  # TypeError from datetime.fromtimestamp
    "time-as-real": 1.5e300,  # OverflowError
    "time-past-year-9999": 2**62,  # ValueError / OSError (EOVERFLOW)
    "time-negative": -(2**40),
    "time-as-text": "yesterday",
}


@pytest.mark.parametrize("at", _HOSTILE_TIMES.values(), ids=_HOSTILE_TIMES.keys())
def test_scan_log_with_a_hostile_time_is_a_scan_log_error(tmp_path: Path, at: Any) -> None:
    """Untrusted storage: a row's time of any SQLite type gives scan_log_error, not a Python error."""
    db = _log_with_row(tmp_path, (at, "HZ-XH-0001", None, None, None, "deny", None))
    log = open_log(db, KEY)
    try:
        with pytest.raises(ScanLogError, match="not a time in seconds"):
            stats(log)
        for fmt in ("jsonl", "csv"):
            with pytest.raises(ScanLogError, match="not a time in seconds"):
                export_rows(log, io.StringIO(), fmt=fmt)
    finally:
        close_log(log)


def test_scan_log_with_a_blob_where_text_belongs_is_a_scan_log_error(tmp_path: Path) -> None:
    """Untrusted storage: a blob in a text column gave a JSON export TypeError; now scan_log_error."""
    db = _log_with_row(tmp_path, (1795392001, b"\xff\xfe", None, b"kind", b"green", "admit", None))
    log = open_log(db, KEY)
    try:
        with pytest.raises(ScanLogError, match="bytes where text belongs"):
            export_rows(log, io.StringIO(), fmt="jsonl")
        with pytest.raises(ScanLogError, match="bytes where text belongs"):
            stats(log)
    finally:
        close_log(log)


def test_a_sound_scan_log_still_reads_back(tmp_path: Path) -> None:
    """The checks refuse only what no writer of this library stores."""
    db = _log_with_row(tmp_path, (1795392001, "HZ-XH-0001", None, "health_code", "green", "admit", None))
    log = open_log(db, KEY)
    try:
        assert stats(log)["rows"] == 2
        assert export_rows(log, io.StringIO(), fmt="jsonl") == 2
    finally:
        close_log(log)


def test_a_damaged_scan_log_whose_text_is_not_utf8_is_a_scan_log_error(tmp_path: Path) -> None:
    """Untrusted storage: a damaged file made PRAGMA journal_mode raise UnicodeDecodeError in open_log.

    The fuzzer's input (tests/data/advisories/scan_log), a log file with bytes flipped.
    """
    db = tmp_path / "scans.db"
    db.write_bytes(gzip.decompress((DATA / "undecodable-error.db.gz").read_bytes()))
    with pytest.raises(ScanLogError, match="not usable"):
        open_log(db, KEY)


# --- Revocation lists: work out of proportion to their size (found by fuzz/revocation_list) ---

_ISSUED, _EXPIRES = 1_795_000_000, 1_796_000_000


class _CountingBisect:
    """``bisect_left`` as the revocation module calls it, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, values: Any, value: int, lo: int = 0, hi: int | None = None) -> int:
        self.calls += 1
        return bisect.bisect_left(values, value, lo, len(values) if hi is None else hi)


def _series(root: Any, deltas: int) -> list[bytes]:
    # A full list of three ids, then `deltas` deltas each revoking one more and lifting one.
    lists = [
        make_revocation_list(
            root, version=1, issued_at=_ISSUED, expires_at=_EXPIRES, added=[b"a", b"b", b"c"]
        )
    ]
    for v in range(2, deltas + 2):
        lists.append(
            make_revocation_list(
                root, version=v, base=v - 1, issued_at=_ISSUED + v, expires_at=_EXPIRES,
                added=[f"id-{v}".encode()], removed=[f"id-{v - 1}".encode()],
            )
        )  # fmt: skip
    return lists


def test_a_small_revocation_series_costs_work_in_proportion_to_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CPU amplification before any credential is checked: every revocation set, however small,
    was indexed by 65,536 bisections, and a series rebuilt that index once per delta. A ~100-byte
    delta cost 10 ms, so a folder of small deltas cost seconds to load (the fuzz target ran at 75
    inputs a second). A small set is now bisected whole and a series applies its net change once.
    """
    root = generate_key(Alg.EDDSA)
    lists = _series(root, 40)
    counter = _CountingBisect()
    monkeypatch.setattr(revocation, "bisect_left", counter)
    store = TrustStore([root.public_key()], (), lists)
    assert counter.calls < 1_000  # was 65,536 per set: 41 sets, 2.7 million bisections
    (series,) = store.revocations
    assert series.version == 41
    assert store.is_revoked(b"a", "330100") and store.is_revoked(b"id-41", "330100")
    assert not store.is_revoked(b"id-40", "330100") and not store.is_revoked(b"id-2", "330100")


@given(
    st.sets(st.integers(0, 40), max_size=20),
    st.lists(
        st.tuples(st.sets(st.integers(0, 40), max_size=8), st.sets(st.integers(0, 40), max_size=8)),
        max_size=6,
    ),
)
def test_a_revocation_series_folds_as_its_deltas_applied_one_by_one(
    full: set[int], deltas: list[tuple[set[int], set[int]]]
) -> None:
    """The fold's single net change gives what applying each delta in turn gives (remove, then add)."""
    scale = 2**58 + 12345  # spread the hashes over the buckets

    def hashes(values: set[int]) -> array[int]:
        return array("Q", sorted(v * scale for v in values))

    # A delta may add and remove one hash: it is removed, then added.
    lists = [RevocationList("r", 1, 0, 1, 0, b"k", hashes(full), array("Q"))]
    lists += [
        RevocationList("r", v, 0, 1, v - 1, b"k", hashes(a), hashes(r)) for v, (a, r) in enumerate(deltas, 2)
    ]
    expected = RevocationSet(lists[0].added)
    for delta in lists[1:]:
        expected = expected.apply(delta.added, delta.removed)
    (folded,) = fold_revocations([("", r) for r in lists], None)
    universe = [v * scale for v in range(41)]
    assert [v in folded.hashes for v in universe] == [v in expected for v in universe]


def test_an_indexed_revocation_set_finds_what_a_python_set_holds() -> None:
    """The bucket index (kept from 65,536 hashes on) and the plain bisection agree with a set."""
    import random

    rng = random.Random(12)
    values = sorted({rng.randrange(2**64) for _ in range(70_000)} | {0, 2**64 - 1})
    large, small = RevocationSet(array("Q", values)), RevocationSet(array("Q", values[:1000]))
    probes = [*values[::97], *(rng.randrange(2**64) for _ in range(2000)), 1, 2**64 - 2]
    held, held_small = set(values), set(values[:1000])
    assert all((p in large) == (p in held) and (p in small) == (p in held_small) for p in probes)


# --- SMART Health Cards JSON (found by fuzz/targets/shc_issuer with the tree mutator) ----------------

_ISS = "https://issuer.example"


def _usable_jwk() -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ec

    from fuzz.shc_keys import public_jwk

    return public_jwk(ec.derive_private_key(7, ec.SECP256R1()).public_key())


@pytest.mark.parametrize(
    "kty", [[], {}, ["EC"], {"EC": 1}], ids=["array", "object", "array-of-EC", "object-EC"]
)
def test_a_jwk_whose_kty_is_not_a_string_is_skipped_not_a_type_error(kty: Any) -> None:
    """Type confusion in key selection: a kty that is an array or object is a bad key, not a TypeError.

    The JWK with ``d`` made the loader compute its thumbprint, which looked ``kty`` up in a
    dict: ``TypeError: unhashable type``. (fuzz/findings/shc_issuer/kty-not-a-string.bin)
    """
    import json

    from healthcred.errors import BadKey
    from healthcred.foreign.shc.issuers import jwk_thumbprint, load_shc_issuer

    with pytest.raises(BadKey, match="kty of type"):
        jwk_thumbprint({"kty": kty})
    with pytest.raises(BadKey, match="no usable SHC signing key"):
        load_shc_issuer(json.dumps({"iss": _ISS, "keys": [{"kty": kty, "d": ""}]}).encode())
    issuer = load_shc_issuer(
        json.dumps({"iss": _ISS, "keys": [_usable_jwk(), {"kty": kty, "d": ""}]}).encode()
    )
    assert [k.kid for k in issuer.keys] == [_usable_jwk()["kid"]] and list(issuer.skipped_keys) == ["keys[1]"]


_LONE = {"high": "\\ud800", "low": "\\udfff", "high-at-end": "x\\uDBFF", "reversed-pair": "\\ude00\\ud83d"}


@pytest.mark.parametrize("escape", _LONE.values(), ids=_LONE.keys())
def test_a_lone_surrogate_in_shc_json_is_refused_where_it_is_parsed(escape: str) -> None:
    """Not-Unicode strings: a \\u escape of a lone surrogate is refused by the JSON reader, not met later.

    Python's json reads ``"\\ud800"`` as a string no UTF-8 encoder takes, and the issuer loader
    hashed a JWK member with it (``UnicodeEncodeError`` in the thumbprint); a card or file could
    carry one into a result that cannot be printed. I-JSON (RFC 7493 §2.1) forbids them.
    (fuzz/findings/shc_issuer/lone-surrogate.bin)
    """
    from healthcred.errors import MalformedJWS, TrustListMalformed
    from healthcred.foreign.shc.cards import load_health_cards
    from healthcred.foreign.shc.issuers import load_shc_issuer

    doc = f'{{"iss":"{_ISS}","keys":[{{"kty":"EC","crv":"P-256","x":"{escape}","y":"","d":""}}]}}'
    with pytest.raises(TrustListMalformed, match="lone surrogate"):
        load_shc_issuer(doc.encode())
    with pytest.raises(MalformedJWS, match="lone surrogate"):
        load_health_cards(f'{{"verifiableCredential":["a.b.c"],"{escape}":1}}'.encode())


def test_a_lone_surrogate_in_a_jwk_mapping_is_a_bad_key() -> None:
    """The same defect through the API: a JWK built in Python with a lone surrogate is skipped, a bad key."""
    from healthcred.errors import BadKey
    from healthcred.foreign.shc.issuers import jwk_thumbprint, load_shc_issuer

    with pytest.raises(BadKey, match="Unicode text"):
        jwk_thumbprint({"kty": "oct", "k": "\ud800"})
    issuer = load_shc_issuer({"iss": _ISS, "keys": [_usable_jwk(), {"kty": "oct", "k": "\ud800", "d": ""}]})
    assert len(issuer.keys) == 1 and "keys[1]" in issuer.skipped_keys


def test_surrogate_pairs_and_escaped_backslashes_still_read() -> None:
    """Only lone surrogates are refused: a pair (an astral character) and a literal "\\\\ud800" still read."""
    from healthcred.errors import MalformedJWS
    from healthcred.foreign.shc.jose import loads_json

    assert loads_json(b'["\\ud83d\\ude00", "\\\\ud800"]', MalformedJWS, "t") == ["\U0001f600", "\\ud800"]
