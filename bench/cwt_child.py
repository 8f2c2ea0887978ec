"""python-cwt against healthcred on identical COSE bytes; run by bench/all.py in python-cwt's own venv.

python-cwt pins cbor2 < 6, so bench/all.py runs this script in ``bench/.venv-cwt`` (python-cwt,
the cbor2 5.x it pins, healthcred's other dependencies; healthcred itself from this checkout's
``src``). In ONE process, interleaved with bench/bench.py's harness, it times for ES256 and EdDSA:

* **python-cwt**: one healthcred code's text → strip ``JKM1:`` → Base45 (the ``base45`` package)
  → zlib only if the body is compressed (first byte not 0xD2) → ``cwt.decode(body, key)``, which
  verifies the COSE_Sign1 signature and the CWT times. The bytes are exactly healthcred's.
* **healthcred**: ``healthcred.verify(text, store, at=now)`` on the same text.
* **raw**: ``cryptography``'s verify of the same Sig_structure (libsodium's for EdDSA, the raw
  operation healthcred calls), as in bench/bench.py.

Codes carry wall-clock times because python-cwt checks ``exp`` against the wall clock. Prints one
JSON object on stdout: per algorithm the medians and python-cwt ÷ healthcred (ratio, paired).

    bench/.venv-cwt/bin/python bench/cwt_child.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This checkout's healthcred and bench harness; the script's own folder goes, or `bench` is bench.py.
sys.path[:1] = [str(ROOT), str(ROOT / "src")]

import base45  # noqa: E402
import cwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

import healthcred  # noqa: E402
from bench import bench as harness  # noqa: E402
from healthcred import Alg, KeyGrant, TrustStore  # noqa: E402
from healthcred.codec.prefix import NATIVE_PREFIX  # noqa: E402
from healthcred.crypto.algorithms import PrivateKey  # noqa: E402
from healthcred.crypto.keys import kid_of  # noqa: E402

PYTHON_CWT, HEALTHCRED = "python-cwt", "healthcred"


def python_cwt_verify(text: str, key: PrivateKey) -> harness.Op:
    """python-cwt's whole pipeline from the QR text, with the issuer's key loaded once."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifying = cwt.COSEKey.from_pem(pem, kid=kid_of(key))

    def verify(_i: int) -> object:
        if not text.startswith(NATIVE_PREFIX):
            raise ValueError("prefix")
        body = base45.b45decode(text[len(NATIVE_PREFIX) :])
        return cwt.decode(body if body[0] == harness.BARE_MARKER else zlib.decompress(body), verifying)

    return verify


def compare_one(
    alg: Alg, key: PrivateKey, store: TrustStore, now: datetime, timing: tuple[int, float, int | None]
) -> dict[str, object]:
    """python-cwt, healthcred and the raw verify on one code of ``alg``, interleaved."""
    code = harness.realistic_code(alg)
    code = type(code).create(
        subject=code.subject, status=code.status, region=code.region, issued_at=now, id=code.id
    )
    text = healthcred.issue(code, key)
    checked = now + timedelta(minutes=1)
    assert healthcred.verify(text, store, at=checked).credential == code
    theirs = python_cwt_verify(text, key)
    claims: dict[int, object] = theirs(0)  # type: ignore[assignment]
    assert set(claims) == {1, 4, 6, 7, -65537}, "python-cwt did not read healthcred's claims"
    opened = harness.open_text(text, NATIVE_PREFIX)
    raw_label, raw = harness.RAW_CRYPTOGRAPHY, harness.raw_verify(key, opened)
    if isinstance(key, ed25519.Ed25519PrivateKey):  # healthcred verifies Ed25519 with libsodium
        raw_label, raw = harness.RAW_PYNACL, harness.raw_pynacl_verify(key, opened)

    def make(_inputs: int) -> list[harness.Contender]:
        return [
            harness.Contender(raw_label, raw, baseline=True),
            harness.Contender(HEALTHCRED, lambda i: healthcred.verify(text, store, at=checked)),
            harness.Contender(PYTHON_CWT, theirs, baseline=True),
        ]

    result = harness.compare(f"verify {alg.label}", make, *timing)
    cwt_over_ours = result.ratios(PYTHON_CWT, HEALTHCRED)
    ours_over_raw = result.ratios(HEALTHCRED, raw_label)
    assert cwt_over_ours is not None and ours_over_raw is not None
    return {
        "rounds": result.rounds,
        "ops": result.ops,
        "text_chars": len(text),
        "us": {t.label: t.median for t in result.timings},
        "raw": raw_label,
        "cwt_over_healthcred": cwt_over_ours,
        "healthcred_over_raw": ours_over_raw,
    }


def measure(rounds: int, round_ms: float, ops: int | None) -> dict[str, object]:
    """Both algorithms' comparisons, as a JSON-ready dict."""
    now = datetime.now(UTC).replace(microsecond=0)
    root = healthcred.generate_key(Alg.EDDSA)
    keys = {alg: healthcred.generate_key(alg) for alg in (Alg.ES256, Alg.EDDSA)}
    start, end = harness.ts(now - timedelta(days=1)), harness.ts(now + timedelta(days=30))
    grants = [KeyGrant(k.public_key(), harness.PROVINCES[a], start, end) for a, k in keys.items()]
    trust_list = healthcred.make_trust_list(root, grants, version=1, issued_at=start, expires_at=end)
    store = TrustStore([root.public_key()], [trust_list])
    out: dict[str, object] = {
        "versions": {name: metadata.version(name) for name in ("cwt", "cbor2", "cryptography", "base45")}
    }
    for alg, key in keys.items():
        out[alg.label] = compare_one(alg, key, store, now, (rounds, round_ms, ops))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=harness.FULL_ROUNDS)
    parser.add_argument("--round-ms", type=float, default=harness.FULL_ROUND_MS)
    parser.add_argument("--ops", type=int)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.round_ms = harness.QUICK_ROUNDS, harness.QUICK_ROUND_MS
    started = time.perf_counter()
    report = measure(args.rounds, args.round_ms, args.ops)
    report["seconds"] = time.perf_counter() - started
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
