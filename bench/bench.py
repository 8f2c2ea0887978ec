"""healthcred speed, as ratios against raw signature operations measured in the same run.

Usage: ``python bench/bench.py [--quick] [--rounds N]``

Each comparison runs *interleaved*: round after round, the baseline (a raw
``cryptography`` verify or sign on the same bytes) and the subject (healthcred's
whole pipeline) each run a batch, and the per-operation time of each batch is
recorded. Reported: the median per-op time of each, the ratio of medians, and
the paired ratio (median of per-round ratios, robust to drift on a noisy
machine). Targets from the foundation issue: verify ≤ 1.3× raw (ES256) and
≤ 1.15× raw (EdDSA); issue-to-text ≤ 3× raw sign, on fresh inputs (a pool of
distinct credentials: repeated inputs would flatter zlib). "issue" uses a
prepared ``Signer`` (kid and header computed once, as a batch issuer does);
"issue (key)" passes the bare key, prepared again on every call.

EdDSA verification in healthcred uses libsodium (PyNaCl); its ratio is given
both against ``cryptography`` (the issue's baseline) and against raw PyNaCl.
python-cwt's pipeline (base45 package, zlib, ``cwt.decode``) is timed the same
way when ``cwt`` is installed (``pip install cwt``; note it pins cbor2 < 6).
No number here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import healthcred
from healthcred import (
    GREEN,
    RED,
    YELLOW,
    Alg,
    DocumentType,
    HealthCode,
    KeyGrant,
    Signer,
    Subject,
    TrustStore,
)
from healthcred.claims import to_claims
from healthcred.codec.base45 import b45decode
from healthcred.codec.cbor import dumps
from healthcred.codec.compression import ZLIB_MIN_BYTES, compress, unpack
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.codec.qr import qr_version
from healthcred.signing.algorithms import PrivateKey
from healthcred.signing.cose import parse_sign1

DATA = Path(__file__).resolve().parent / "data"
ECDSA = ec.ECDSA(hashes.SHA256())
NAMES = ["张三丰", "李四", "王小明", "欧阳娜娜", "赵六", "陈静", "刘洋", "黄磊", "周杰", "吴敏"]


@dataclass
class Row:
    """One comparison's result."""

    name: str
    subject_us: float
    baseline_us: float
    ratio: float
    paired: float
    target: float | None
    baseline_name: str


def interleaved(
    subject: Callable[[int], None], baseline: Callable[[int], None], rounds: int, batch: int
) -> tuple[list[float], list[float]]:
    """Per-op µs of each batch, alternating subject and baseline batches (each fn runs op ``i``)."""
    subject_times, baseline_times = [], []
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            for fn, sink in ((subject, subject_times), (baseline, baseline_times))[:: 1 if r % 2 else -1]:
                start = time.perf_counter_ns()
                for i in range(batch):
                    fn(i)
                sink.append((time.perf_counter_ns() - start) / batch / 1000)
    finally:
        gc.enable()
    return subject_times, baseline_times


def compare(
    name: str,
    subject: Callable[[int], None],
    baseline: Callable[[int], None],
    rounds: int,
    batch: int,
    target: float | None,
    baseline_name: str,
) -> Row:
    """Run one interleaved comparison and summarise it."""
    for i in range(min(batch, 50)):  # warm caches and lazy tables
        subject(i)
        baseline(i)
    s, b = interleaved(subject, baseline, rounds, batch)
    ms, mb = statistics.median(s), statistics.median(b)
    paired = statistics.median(x / y for x, y in zip(s, b, strict=True))
    return Row(name, ms, mb, ms / mb, paired, target, baseline_name)


def credential(rng: random.Random, region: str, issued: datetime) -> HealthCode:
    """A realistic, distinct credential."""
    born = f"{rng.randint(1950, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    number = f"{region[:6]}{born}{rng.randint(0, 9999):04d}"
    return HealthCode.create(
        subject=Subject.create(
            rng.choice(NAMES),
            f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
            DocumentType.RESIDENT_ID_CARD,
            number,
        ),
        status=rng.choice([GREEN, YELLOW, RED]),
        region=region[:4] + f"{rng.randint(1, 20):02d}",
        issued_at=issued - timedelta(seconds=rng.randint(0, 3600)),
        valid_for=timedelta(days=rng.choice([1, 7, 14])),
    )


def setup(rng: random.Random) -> dict[str, Any]:
    """Keys, a trust store and codes for both algorithms."""
    now = datetime.now(UTC).replace(microsecond=0)
    root = healthcred.generate_key(Alg.EDDSA)
    keys: dict[str, PrivateKey] = {
        "ES256": healthcred.generate_key(Alg.ES256),
        "EdDSA": healthcred.generate_key(Alg.EDDSA),
    }
    regions = {"ES256": "330000", "EdDSA": "310000"}
    start = int(now.timestamp())
    grants = [
        KeyGrant(k.public_key(), regions[a], start - 86400, start + 86400 * 365) for a, k in keys.items()
    ]
    trust_list = healthcred.make_trust_list(
        root, grants, version=1, issued_at=start - 86400, expires_at=start + 86400 * 30
    )
    return {
        "now": now,
        "keys": keys,
        "regions": regions,
        "store": TrustStore([root.public_key()], [trust_list]),
    }


def raw_verifier(alg: str, key: PrivateKey, tbs: bytes, signature: bytes) -> Callable[[int], None]:
    """The baseline: one raw cryptography verify of the same Sig_structure."""
    public = key.public_key()
    if alg == "ES256":
        assert isinstance(public, ec.EllipticCurvePublicKey)
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        return lambda i: public.verify(der, tbs, ECDSA)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    return lambda i: public.verify(signature, tbs)


def raw_signer(key: PrivateKey, messages: list[bytes]) -> Callable[[int], None]:
    """The baseline for issuing: one raw cryptography sign of a fresh message."""
    n = len(messages)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda i: key.sign(messages[i % n], ECDSA) and None
    return lambda i: key.sign(messages[i % n]) and None


def cwt_pipeline(alg: str, key: PrivateKey, claims: dict[int, Any]) -> Callable[[int], None] | None:
    """python-cwt's HC1-style verify pipeline over the same claims, or None if cwt is missing."""
    try:
        import base45
        import cwt
    except ImportError:
        return None
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing = cwt.COSEKey.from_pem(pem, kid=b"benchkid")
    verifying = cwt.COSEKey.from_pem(pub, kid=b"benchkid")
    text = "HC1:" + base45.b45encode(zlib.compress(cwt.encode(claims, signing), 9)).decode("ascii")

    def run(i: int) -> None:
        cwt.decode(zlib.decompress(base45.b45decode(text[4:])), verifying)

    run(0)
    return run


def sizes(text: str, claims: bytes) -> dict[str, Any]:
    """Per-stage sizes of a native code."""
    body = b45decode(text[len(NATIVE_PREFIX) :])
    message = unpack(body)
    return {
        "claims CBOR": len(claims),
        "COSE_Sign1": len(message),
        "zlib (level 9)": len(compress(message)),
        "body kept": "zlib" if body != message else f"bare (zlib from {ZLIB_MIN_BYTES} B up)",
        "Base45 chars": len(text) - len(NATIVE_PREFIX),
        "text chars": len(text),
        "QR version at Q": qr_version(text, "Q"),
    }


def dcc_sizes() -> dict[str, Any]:
    """The same figures for an EU DCC test certificate (DE vaccination case 1)."""
    case = json.loads((DATA / "dcc-DE-1.json").read_text(encoding="utf-8"))
    text = case["PREFIX"]
    compressed = b45decode(text[4:])
    message = zlib.decompress(compressed)
    return {
        "claims CBOR": len(parse_sign1_loose(message)),
        "COSE_Sign1": len(message),
        "zlib (level 9)": len(compressed),
        "body kept": "zlib",
        "Base45 chars": len(text) - 4,
        "text chars": len(text),
        "QR version at Q": qr_version(text, "Q"),
    }


def parse_sign1_loose(message: bytes) -> bytes:
    """The payload of any COSE_Sign1 (DCC puts the kid in either header, so our strict parser is not used)."""
    import cbor2

    value = cbor2.loads(message)
    body = value.value if isinstance(value, cbor2.CBORTag) else value
    payload = body[2]
    assert isinstance(payload, bytes)
    return payload


def versions() -> str:
    """Library and machine versions, for the record."""
    parts = [f"python {platform.python_version()}", f"cpus {os.cpu_count()}"]
    for name in ("cryptography", "cbor2", "pynacl", "pydantic", "segno", "zxing-cpp", "cwt"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} -")
    return ", ".join(parts)


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> list[Row]:
    """Run the benchmark; print a report; return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run, not a measurement")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per comparison")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 41)
    batch = 20 if args.quick else 200
    rng = random.Random(2026)
    world = setup(rng)
    now, store = world["now"], world["store"]
    at = now + timedelta(minutes=1)
    echo(f"healthcred {healthcred.__version__} — {versions()}")
    echo(f"{rounds} interleaved rounds × {batch} ops; medians of per-op times\n")

    rows: list[Row] = []
    for alg, key in world["keys"].items():
        cred = credential(rng, world["regions"][alg], now)
        text = healthcred.issue(cred, key)
        message = parse_sign1(unpack(b45decode(text[len(NATIVE_PREFIX) :])))
        baseline = raw_verifier(alg, key, message.to_be_signed(), message.signature)
        rows.append(
            compare(
                f"verify {alg}",
                lambda i, t=text: healthcred.verify(t, store, at=at) and None,
                baseline,
                rounds,
                batch,
                1.3 if alg == "ES256" else 1.15,
                "cryptography verify",
            )
        )
        if alg == "EdDSA":
            import nacl.signing

            assert isinstance(key, ed25519.Ed25519PrivateKey)
            verify_key = nacl.signing.VerifyKey(key.public_key().public_bytes_raw())
            tbs, sig = message.to_be_signed(), message.signature
            rows.append(
                compare(
                    "verify EdDSA",
                    lambda i, t=text: healthcred.verify(t, store, at=at) and None,
                    lambda i, v=verify_key, m=tbs, g=sig: v.verify(m, g) and None,
                    rounds,
                    batch,
                    None,
                    "PyNaCl verify",
                )
            )
        pipeline = cwt_pipeline(alg, key, to_claims(cred))
        if pipeline is None:
            echo(f"python-cwt not installed: its {alg} pipeline is skipped")
        else:
            rows.append(
                compare(f"python-cwt {alg}", pipeline, baseline, rounds, batch, None, "cryptography verify")
            )

        pool = [credential(rng, world["regions"][alg], now) for _ in range(batch)]
        fresh = [os.urandom(8) + dumps(to_claims(c)) for c in pool]  # similar size, all distinct
        signer = Signer.for_key(key)
        rows.append(
            compare(
                f"issue {alg}",
                lambda i, p=pool, s=signer: healthcred.issue(p[i % len(p)], s) and None,
                raw_signer(key, fresh),
                rounds,
                batch,
                3.0,
                "cryptography sign",
            )
        )
        rows.append(
            compare(
                f"issue {alg} (key)",
                lambda i, p=pool, k=key: healthcred.issue(p[i % len(p)], k) and None,
                raw_signer(key, fresh),
                rounds,
                batch,
                None,
                "cryptography sign",
            )
        )

    echo(
        f"{'operation':18} {'healthcred':>12} {'baseline':>12}  {'ratio':>6} {'paired':>6}  target  baseline"
    )
    for row in rows:
        target = f"≤ {row.target:.2f}" if row.target else "   —  "
        verdict = "" if row.target is None else ("  met" if row.paired <= row.target else "  MISSED")
        echo(
            f"{row.name:18} {row.subject_us:9.1f} µs {row.baseline_us:9.1f} µs  "
            f"{row.ratio:6.2f} {row.paired:6.2f}  {target}  {row.baseline_name}{verdict}"
        )

    es_cred = credential(rng, "330000", now)
    native = sizes(healthcred.issue(es_cred, world["keys"]["ES256"]), dumps(to_claims(es_cred)))
    dcc = dcc_sizes()
    echo(f"\n{'sizes (bytes unless said)':28} {'native ES256':>24} {'EU DCC DE-1 (vaccination)':>28}")
    for field in native:
        echo(f"{field:28} {native[field]!s:>24} {dcc[field]!s:>28}")
    return rows


if __name__ == "__main__":
    main()
