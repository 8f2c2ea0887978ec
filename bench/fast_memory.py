"""Memory of the C decoder: 100,000 rounds of valid and invalid inputs, resident set size every 20,000.

Each round reads a native code and an EU DCC (valid, truncated, padded, damaged) through
``read_native`` and ``read_hc1``, decodes CBOR payloads (valid, unsorted, indefinite, deep,
bad UTF-8) both ways, tests a DGC's JSON form, encodes a DER signature and verifies the code.
A leak of one object a round would show as megabytes; the RSS must stay flat.

    python bench/fast_memory.py [--rounds 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss_kib() -> int:
    """The process's resident set size now (``VmRSS``), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the resident set size as it goes."""
    import healthcred
    import instructions  # bench/instructions.py: the same fixed world as the callgrind counts
    from healthcred.codec import fast
    from healthcred.codec.base45 import b45decode, b45encode

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100_000)
    rounds = parser.parse_args(argv).rounds
    native = fast.native
    if native is None:
        raise SystemExit("the C decoder is not built (or HEALTHCRED_PURE=1)")
    world = instructions._world()
    good, hc1 = str(world["native-es256"]), str(world["hc1"])
    trust, at = world["trust"], world["at"]
    assert isinstance(trust, healthcred.TrustStore) and isinstance(at, int)
    cose = zlib.decompress(b45decode(hc1[4:]))
    texts = [
        good, hc1, good[:-3], good + "A", "JKM1:::::", "x" * 5000,
        "JKM1:" + b45encode(b"\xd2\x84" + bytes(40)), "HC1:" + b45encode(zlib.compress(cose[:-5])),
    ]  # fmt: skip
    payloads = [
        b"\xa2\x01\x01\x01\x01",
        b"\x9f\xff",
        b"\x81" * 20 + b"\x00",
        cose,
        b"\xa1\x61a\x63\xff\xfe\xfd",
    ]
    start = rss_kib()
    for i in range(rounds):
        text, payload = texts[i % len(texts)], payloads[i % len(payloads)]
        native.read_native(text, "JKM1:")
        native.read_hc1(text, "HC1:")
        native.loads(payload)
        native.loads_any_order(payload)
        native.plain_json({"a": [1, 2**60, None]}, 1, 16)
        native.dss_der(bytes(64) if i % 2 else b"\x80" * 64)
        with contextlib.suppress(healthcred.HealthCredError):
            healthcred.verify(text, trust, at=at)
        if i % 20_000 == 0:
            print(f"round {i:>7,}: {rss_kib():,} KiB resident")
    print(f"after {rounds:,} rounds: {rss_kib():,} KiB resident (at the start {start:,} KiB)")


if __name__ == "__main__":
    main()
