"""The revocation set against a plain Python set, deltas, and the wire checks."""

from __future__ import annotations

import sys
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.errors import TrustListMalformed
from healthcred.trust.revocation import RevocationSet, _to_array, _to_bytes, revocation_hash

hashes = st.integers(0, 2**64 - 1)


def _set(values: set[int]) -> RevocationSet:
    return RevocationSet(array("Q", sorted(values)))


@given(st.sets(hashes, max_size=300), st.lists(hashes, max_size=50))
@settings(max_examples=150)
def test_membership_matches_a_python_set(values: set[int], probes: list[int]) -> None:
    revocations = _set(values)
    assert len(revocations) == len(values)
    for probe in [*probes, *list(values)[:20], 0, 2**64 - 1]:
        assert (probe in revocations) == (probe in values)
    assert "x" not in revocations and -1 not in revocations and 2**64 not in revocations


@given(st.sets(hashes, max_size=300), st.sets(hashes, max_size=300), st.sets(hashes, max_size=40))
@settings(max_examples=100)
def test_deltas_small_and_large(base: set[int], added: set[int], removed: set[int]) -> None:
    result = _set(base).apply(array("Q", sorted(added)), array("Q", sorted(removed)))
    expected = (base - removed) | added
    assert len(result) == len(expected)
    assert all(v in result for v in expected)
    assert not any(v in result for v in removed - added)


def test_wire_form_is_sorted_big_endian() -> None:
    raw = _to_bytes([3, 1, 2**63, 1])
    assert raw == b"".join(v.to_bytes(8, "big") for v in (1, 3, 2**63))
    assert list(_to_array(raw, "x")) == [1, 3, 2**63]
    for bad in (raw[:-1], raw[8:16] + raw[:8], raw[:8] * 2):
        with pytest.raises(TrustListMalformed):
            _to_array(bad, "x")


def test_hash_is_domain_separated_sha256() -> None:
    import hashlib

    cti = bytes(range(16))
    expected = hashlib.sha256(b"healthcred/revocation/v1\x00" + cti).digest()[:8]
    assert revocation_hash(cti) == int.from_bytes(expected, "big")
    assert revocation_hash(cti) == revocation_hash(cti)  # the shared prefix state is not consumed


def test_memory_is_about_eight_bytes_per_entry() -> None:
    values = array("Q", range(0, 2**40, 2**20))  # 1,048,576 sorted values
    revocations = RevocationSet(values)
    assert revocations.nbytes < 8 * len(values) * 1.1 + 300_000
    assert sys.getsizeof(values) >= 8 * len(values)
