"""Instructions per verification, counted by callgrind: a speed ratio the noisy VM cannot move.

Wall-clock ratios on this project's 2-core VMs drift by ±20 % between runs. Instruction counts do
not: the same binary, inputs and environment give the same count whatever else the machine does.
This script runs itself under ``valgrind --tool=callgrind`` with 0 and N operations of each kind
and prints the difference per operation, for the healthcred pipelines and the raw signature
verify on the same bytes, and their ratio. Needs valgrind (Debian package ``valgrind``); each of
the 16 runs starts Python under callgrind, so a full run takes ~10 minutes here (``--quick``: 4 runs).
Measured here (100 operations): verify ES256 1.36× a raw P-256 verify, verify EdDSA 0.69× a raw
``cryptography`` Ed25519 verify (libsodium), verify HC1 1.43×.

    python bench/instructions.py [--ops 100] [--quick]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KINDS = ("native-es256", "raw-es256", "native-eddsa", "raw-eddsa", "sodium-eddsa", "hc1", "raw-hc1", "shc")
RATIOS = {
    "ES256": ("native-es256", "raw-es256"),
    "EdDSA": ("native-eddsa", "sodium-eddsa"),
    "HC1": ("hc1", "raw-hc1"),
}
"""Each instruction ratio bench/all.py prints: (pipeline kind, raw verify of the same bytes)."""


def _raw_verify(key: Any, message: Any) -> Callable[[], None]:
    # The signature check alone, through cryptography, on the message's own bytes.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from healthcred.crypto.cose import sig_structure

    public, signed = key.public_key(), sig_structure(message.protected, message.payload)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        half = len(message.signature) // 2
        r, s = (int.from_bytes(part, "big") for part in (message.signature[:half], message.signature[half:]))
        der, alg = encode_dss_signature(r, s), ec.ECDSA(hashes.SHA256())
        return lambda: public.verify(der, signed, alg)
    signature = message.signature
    return lambda: public.verify(signature, signed)


def _sodium_verify(key: Any, message: Any) -> Callable[[], None]:
    # libsodium (PyNaCl), what healthcred verifies Ed25519 with, on the code's own bytes.
    import nacl.signing

    from healthcred.crypto.cose import sig_structure

    verify_key = nacl.signing.VerifyKey(key.public_key().public_bytes_raw())
    signed, signature = sig_structure(message.protected, message.payload), message.signature
    return lambda: verify_key.verify(signed, signature) and None


def _world() -> dict[str, object]:
    # Fixed keys and times, so every run measures the same bytes.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: tests is a package
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    import healthcred
    from healthcred import GREEN, DocumentType, HealthCode, KeyGrant, Subject
    from healthcred.codec.base45 import b45decode
    from healthcred.codec.compression import unpack
    from healthcred.crypto.cose import parse_sign1
    from healthcred.foreign.dcc.hc1 import read_dsc, read_hc1
    from healthcred.foreign.shc.issuers import load_shc_issuer
    from tests.flows import test_interop as interop

    now = 1795392000
    root = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    es256 = ec.derive_private_key(123456789, ec.SECP256R1())
    eddsa = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    grants = [KeyGrant(k.public_key(), "330000", now - 3600, now + 86400 * 365) for k in (es256, eddsa)]
    trust_list = healthcred.make_trust_list(
        root, grants, version=1, issued_at=now - 3600, expires_at=now + 86400 * 30
    )
    dsc = interop.make_dsc(es256)
    trust = healthcred.TrustStore([root.public_key()], [trust_list]).with_foreign(
        dscs=[read_dsc(dsc)], shc_issuers=[load_shc_issuer(interop.shc_issuer_doc())]
    )
    subject = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    issued = datetime.fromtimestamp(now, UTC)
    world: dict[str, object] = {"trust": trust, "at": now + 60}
    for name, key in (("es256", es256), ("eddsa", eddsa)):
        code = HealthCode.create(
            subject=subject, status=GREEN, region="330100", issued_at=issued, id=bytes(16)
        )
        text = healthcred.issue(code, key)
        world[f"native-{name}"] = text
        message = parse_sign1(unpack(b45decode(text[5:])))
        world[f"raw-{name}"] = _raw_verify(key, message)
    world["sodium-eddsa"] = _sodium_verify(eddsa, message)  # the loop's last message is EdDSA's
    world["hc1"] = interop.make_hc1(es256, dsc)
    world["raw-hc1"] = _raw_verify(es256, read_hc1(str(world["hc1"])))  # the DCC's own Sig_structure
    world["hc1-at"] = int(interop.CHECKED.timestamp())  # the test DCC is issued later than `now`
    world["shc"] = interop.shc_chunks(0)[0]
    return world


def _child(kind: str, ops: int) -> None:
    import healthcred

    world = _world()
    operation = world[kind]
    if callable(operation):
        for _ in range(ops):
            operation()
        return
    trust, at = world["trust"], world["at"]
    # The SHC example is valid from its nbf on; the test DCC at its own time; native codes at `at`.
    moment = {"shc": None, "hc1": world["hc1-at"]}.get(kind, at)
    # One verification before counting, in the 0-op run too: modules that load on first use (the
    # foreign codecs) are then imported in both runs, and the difference is steady-state work.
    healthcred.verify(operation, trust, at=moment)  # type: ignore[arg-type]
    for _ in range(ops):
        healthcred.verify(operation, trust, at=moment)  # type: ignore[arg-type]


def _count(kind: str, ops: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
             "--child", kind, "--ops", str(ops)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_operation(kinds: Sequence[str], ops: int) -> dict[str, float]:
    """Instructions per operation of each kind: (count with ``ops`` − count with 0) / ``ops``."""
    return {kind: (_count(kind, ops) - _count(kind, 0)) / ops for kind in kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--child", choices=KINDS)
    parser.add_argument("--quick", action="store_true", help="native ES256 and the raw verify only")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.ops)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    ops = args.ops  # fewer than ~100 and the first calls' warm-up shows in the per-operation count
    kinds = ("native-es256", "raw-es256") if args.quick else KINDS
    per_op = per_operation(kinds, ops)
    print(f"instructions per operation (callgrind, {ops} operations, python {sys.version.split()[0]})")
    for kind in kinds:
        print(f"  {kind:14} {per_op[kind]:>12,.0f}")
    print(f"verify ES256 / raw ES256 verify   {per_op['native-es256'] / per_op['raw-es256']:.2f}")
    if not args.quick:
        print(f"verify EdDSA / raw EdDSA verify   {per_op['native-eddsa'] / per_op['raw-eddsa']:.2f}")
        print(f"verify EdDSA / raw libsodium      {per_op['native-eddsa'] / per_op['sodium-eddsa']:.2f}")
        print(f"verify HC1 / raw ES256 verify     {per_op['hc1'] / per_op['raw-es256']:.2f}")
        print(f"verify HC1 / raw verify of its own Sig_structure {per_op['hc1'] / per_op['raw-hc1']:.2f}")


if __name__ == "__main__":
    main()
