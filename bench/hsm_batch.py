"""Batch signing throughput with an ES256 key in a SoftHSM2 token against a software ES256 key.

Usage::

    python bench/hsm_batch.py                 # 2,000 health-code rows, 5 paired rounds
    python bench/hsm_batch.py --rows 300 --rounds 2 --token LABEL --pin PIN   # an existing token

What is measured
----------------
* ``healthcred.batch.run.run_batch(..., pdf=False)`` on a fresh folder per run, the same rows each
  time; the rate is codes signed per second of the run's *issue* stage (sign + journal, fsync per
  chunk: texts only; the PNGs render in one background process and are not counted).
* Three configurations, interleaved in every round (their order rotates): **software** (a PEM-style
  key in memory, signed in this process), **token ×1** (the token key, one session, this process:
  ``--signers 1``) and **token pool** (``--signers N``: N spawned processes, each with its own
  module, login and session; their start-up is inside the issue stage, as a real batch pays it).
* Per round the ratio token ÷ software of the two rates; the summary gives the median rate of each
  configuration and the median of the paired ratios, with the machine's load average before and
  after (``os.getloadavg()``: on a shared machine the ratios mean more than the rates).
* Without ``--token`` a SoftHSM2 token is initialised in a temporary folder (``softhsm2-util``).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import healthcred
from healthcred.batch.run import run_batch
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.cose import Signer
from healthcred.crypto.pkcs11 import DEFAULT_MODULE, MODULE_ENV, generate_token_key

PIN = "246810"
HEADER = ["name", "birth_date", "document_number", "status", "region", "valid_days"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(sequence: int) -> str:
    """A well-formed resident ID number (GB 11643 check digit) for synthetic data."""
    body = f"33010619500101{sequence % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def write_rows(path: Path, count: int) -> None:
    """``count`` distinct health-code rows, valid one day (every colour's limit allows it)."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(count):
            writer.writerow([f"王伟{n}", "1950-01-01", resident_id(n), "green", "330106", 1])


def start_token(folder: Path) -> str:
    """Initialise a SoftHSM2 token in ``folder`` for this process; its label."""
    util = shutil.which("softhsm2-util")
    module = os.environ.get(MODULE_ENV) or DEFAULT_MODULE
    if util is None or not Path(module).is_file():
        raise SystemExit(f"SoftHSM2 is not installed (softhsm2-util, {module}): apt-get install softhsm2")
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # before the module is first loaded; children inherit it
    label = "bench"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "13579135"],
        check=True,
        capture_output=True,
    )
    return label


def rate(source: Path, out: Path, signer: Signer, signers: int, issued: datetime) -> float:
    """Codes signed per second of one batch run's issue stage."""
    summary = run_batch(
        source, out, signer, kind="health", pdf=False, workers=1, signers=signers, issued_at=issued
    )
    assert summary.issued == summary.rows and not summary.bad, summary.bad[:3]
    return summary.issued / summary.seconds["issue"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000, help="rows per batch run")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    parser.add_argument("--signers", type=int, default=2, help="processes of the token pool")
    parser.add_argument(
        "--token", default=None, help="label of an existing token (default: a new SoftHSM2 one)"
    )
    parser.add_argument("--pin", default=PIN, help="the existing token's user PIN")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.rounds < 1 or args.signers < 2:
        parser.error("--rows and --rounds must be ≥ 1, --signers ≥ 2")
    work = Path(tempfile.mkdtemp(prefix="hc-hsm-bench-"))
    try:
        label = args.token or start_token(work / "hsm")
        pin = args.pin if args.token else PIN
        uri = f"pkcs11:token={label};object=bench-{uuid.uuid4().hex[:8]}?pin-value={pin}"
        token = generate_token_key(uri, Alg.ES256)
        software = Signer.for_key(healthcred.generate_key(Alg.ES256))
        configs = {"software": (software, 1), "token ×1": (token.signer(), 1)}
        configs[f"token pool ×{args.signers}"] = (token.signer(), args.signers)
        source = work / "rows.csv"
        write_rows(source, args.rows)
        issued = datetime.now(UTC).replace(microsecond=0)
        load_before = os.getloadavg()
        print(
            f"python {platform.python_version()}  {platform.machine()}  CPUs {os.cpu_count()}  "
            f"rows {args.rows}  rounds {args.rounds}  load {' '.join(f'{x:.2f}' for x in load_before)}"
        )
        rates: dict[str, list[float]] = {name: [] for name in configs}
        names = list(configs)
        for round_no in range(args.rounds):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]  # rotate who goes first
            for name in order:
                signer, signers = configs[name]
                rates[name].append(
                    rate(source, work / f"out-{round_no}-{names.index(name)}", signer, signers, issued)
                )
            print(f"  round {round_no + 1}: " + "  ".join(f"{n} {rates[n][-1]:7.0f}/s" for n in names))
        load_after = os.getloadavg()
        token.close()
        print("\nsummary (codes signed per second of the issue stage; medians)")
        soft = rates["software"]
        for name in names:
            ratios = [r / s for r, s in zip(rates[name], soft, strict=True)]
            print(
                f"  {name:16} {statistics.median(rates[name]):7.0f} codes/s"
                f"   ÷ software: ratio {statistics.median(ratios):5.2f} ({len(ratios)} paired rounds)"
            )
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
