"""Revocation lookup at national scale: 1,000,000 revoked credentials.

Usage: ``python bench/revocation.py [--entries N] [--probes N]``

Builds a signed full revocation list of N random credential ids, loads it
into a trust store (signature check, strict CBOR, sortedness check), then
times lookups — half of them hits — both as raw set membership of a 64-bit
hash and as the verifier's ``is_revoked(credential_id, region)`` (hash +
scope). Memory is the process's resident-size growth from loading the list,
read from /proc (Linux), next to the size of the hash array itself.
Issue 3's targets: ≤ 2 µs per lookup and ≤ 40 MB resident for 1,000,000 entries.
No number is asserted anywhere.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import healthcred
from healthcred import Alg, KeyGrant, TrustStore
from healthcred.trust.revocation import revocation_hash


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm (0 where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def per_op_us(fn: Callable[[], object], rounds: int = 15) -> float:
    """Median over rounds of the per-item time of ``fn`` (which returns how many items it did)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        count = fn()
        assert isinstance(count, int)
        times.append((time.perf_counter_ns() - start) / count / 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Run the benchmark; print and return its figures."""
    parser = argparse.ArgumentParser(description="revocation lookup benchmark")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=20_000)
    args = parser.parse_args(argv)
    rng = random.Random(3)
    root, issuer = healthcred.generate_key(Alg.EDDSA), healthcred.generate_key(Alg.EDDSA)
    trust_list = healthcred.make_trust_list(
        root, [KeyGrant(issuer.public_key(), "330000", 0, 2**32)], version=1, issued_at=0, expires_at=2**32
    )
    ids = [rng.randbytes(16) for _ in range(args.entries)]
    start = time.perf_counter()
    signed = healthcred.make_revocation_list(issuer, version=1, issued_at=0, expires_at=2**32, added=ids)
    build_s = time.perf_counter() - start
    probes_in = rng.sample(ids, min(args.probes // 2, len(ids)))
    probes = probes_in + [rng.randbytes(16) for _ in range(args.probes - len(probes_in))]
    rng.shuffle(probes)
    hashes = [revocation_hash(p) for p in probes]
    del ids
    gc.collect()

    before = rss_bytes()
    start = time.perf_counter()
    store = TrustStore([root.public_key()], [trust_list], [signed])
    load_s = time.perf_counter() - start
    gc.collect()
    grown = rss_bytes() - before
    revocations = store.revocations[0].hashes
    assert sum(h in revocations for h in hashes) == len(probes_in)

    def membership() -> int:
        for h in hashes:
            h in revocations  # noqa: B015 - the lookup is the work
        return len(hashes)

    def is_revoked() -> int:
        for p in probes:
            store.is_revoked(p, "330100")
        return len(probes)

    gc.disable()
    try:
        raw_us, full_us = per_op_us(membership), per_op_us(is_revoked)
    finally:
        gc.enable()
    figures = {
        "entries": float(len(revocations)),
        "signed list MB": len(signed) / 1e6,
        "build+sign s": build_s,
        "load+verify s": load_s,
        "hash array MB": revocations.nbytes / 1e6,
        "RSS growth on load MB": grown / 1e6,
        "lookup (64-bit hash) µs": raw_us,
        "is_revoked (hash + scope) µs": full_us,
    }
    echo(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; {len(probes)} probes, half revoked")
    for name, value in figures.items():
        echo(f"{name:32} {value:12,.3f}")
    echo("targets: lookup ≤ 2 µs, resident ≤ 40 MB for 1,000,000 entries")
    return figures


if __name__ == "__main__":
    main()
