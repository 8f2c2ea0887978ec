"""The EU DCC (HC1) verify rows: healthcred's whole verify of the EU test certificate against a raw verify.

:func:`hc1_contenders` gives ``[(name, callable), ...]`` for a benchmark to time: healthcred's
``verify(text, store, at=...)`` of ``bench/data/dcc-DE-1.json`` (the German test vaccination
certificate, its DSC from the same file) and the raw ``cryptography`` ES256 verify of that
certificate's own Sig_structure, key and DER signature prepared once. Both raise if they do not
verify, so a row never times a refusal. The validation time is an hour after the certificate's
issue (``iat``), when it is valid.

    python bench/hc1_rows.py   # one CPU-time line per contender and their ratio (a quick check)
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
DCC_CASE = DATA / "dcc-DE-1.json"

HEALTHCRED_HC1 = "healthcred HC1 verify"
RAW_HC1 = "raw cryptography ES256 verify (HC1 Sig_structure)"


def hc1_contenders() -> list[tuple[str, Callable[[], object]]]:
    """``[(healthcred HC1 verify, call), (raw ES256 verify of its Sig_structure, call)]``."""
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    import healthcred
    from healthcred.crypto.cose import sig_structure
    from healthcred.foreign.dcc.hc1 import read_dsc, read_hc1

    case = json.loads(DCC_CASE.read_text(encoding="utf-8"))
    text: str = case["PREFIX"]
    dsc = read_dsc(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    anchor = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()  # a store needs one
    store = healthcred.TrustStore([anchor], []).with_foreign(dscs=[dsc])
    message = read_hc1(text)
    at = cbor2.loads(message.payload)[6] + 3600
    public = dsc.public_key
    assert isinstance(public, ec.EllipticCurvePublicKey)
    tbs = sig_structure(message.protected, message.payload)
    der = encode_dss_signature(
        int.from_bytes(message.signature[:32], "big"), int.from_bytes(message.signature[32:], "big")
    )
    algorithm = ec.ECDSA(hashes.SHA256())
    public.verify(der, tbs, algorithm)  # raises if the bench took the certificate apart wrongly
    healthcred.verify(text, store, at=at)
    return [
        (HEALTHCRED_HC1, lambda: healthcred.verify(text, store, at=at)),
        (RAW_HC1, lambda: public.verify(der, tbs, algorithm)),
    ]


def main() -> None:
    """Print each contender's CPU time per call over 2000 calls, and the ratio (load-independent-ish)."""
    from healthcred.codec import fast

    rows = hc1_contenders()
    spent = {}
    for name, call in rows:
        start = time.process_time()
        for _ in range(2000):
            call()
        spent[name] = (time.process_time() - start) / 2000
        print(f"{name:55} {spent[name] * 1e6:8.1f} µs CPU")
    print(f"ratio ({fast.implementation()} decoder): {spent[HEALTHCRED_HC1] / spent[RAW_HC1]:.2f}")


if __name__ == "__main__":
    main()
