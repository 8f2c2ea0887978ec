"""Every row of issue 15's speed table, each a ratio or rate measured in this one run.

Usage (from a checkout, with the project's venv)::

    python bench/all.py             # the full run: ~15 min here, most of it callgrind
    python bench/all.py --quick     # CI smoke: every row at tiny sizes; its numbers mean nothing

Options: ``--no-callgrind`` (skip the instruction counts), ``--no-install`` (use the python-cwt
venv only if it exists), ``--workers N`` (the parallel rows' worker count, default 2).

The rows (target = the floor issue 15 sets):

* **ES256 wall**: ``healthcred.verify(text, store, at=…)`` of one native ES256 code ÷ a raw
  ``cryptography`` P-256 verify of the same Sig_structure (bench/bench.py's harness: interleaved
  rounds, ratio of medians and paired median). Target ≤ 1.30.
* **ES256 / EdDSA / HC1 instructions**: callgrind counts per verification (bench/instructions.py),
  pipeline ÷ raw verify of the same bytes (libsodium for EdDSA, the DCC's own Sig_structure for
  HC1). Target ≤ 1.20 for ES256; the others are printed without one.
* **python-cwt ÷ healthcred**: the same healthcred code (identical COSE bytes, Base45 both sides)
  verified by python-cwt's pipeline and by healthcred, interleaved in ONE child process in
  ``bench/.venv-cwt`` (python-cwt pins cbor2 < 6; see bench/cwt_child.py). Target ≥ 1.5.
* **HC1 wall**: ``healthcred.verify`` of the EU DCC test certificate (bench/data, DE-1) against a
  store holding its DSC ÷ a raw ``cryptography`` verify of its Sig_structure. Target ≤ 1.35.
* **EdDSA wall**: native EdDSA verify ÷ raw libsodium (PyNaCl) verify. Target ≤ 1.35.
* **verify 2 cores ÷ 1**: a warm ``healthcred.VerifierPool(store, workers=N)`` (started and
  warmed before timing, as a gate's back end keeps one) over 10,000 fresh distinct codes ÷
  ``healthcred.verify_all`` in this process (alternating runs). Target ≥ 1.8. The one-shot
  ``verify_all(..., workers=N)``, process start-up included, is printed beside it, and the
  machine's ceiling: N independent processes with no IPC at all, each verifying its share, ÷ the
  one-process rate of the same turn (what two cores of this VM give when nothing is shared), and
  OpenSSL's own ceiling: ``openssl speed -multi N ecdsap256`` ÷ ``-multi 1`` verifies per second
  (no Python at all; 2 s each, alternating, one pair per turn).
* **batch issuance**: ``bench.batch.batch_throughput(10_000, N)``, codes/s, texts + PNGs, the
  median of 3 runs (each printed). ≥ 600.
* **PDF cards**: ``bench.cards.cards_per_second(…, N)``, cards/s, the median of 3 runs. Target ≥ 200.
* **memory per code** (no target), with tracemalloc (Python allocations) and RSS:
  *held* = traced bytes still allocated per kept result (a VerificationResult; an issued text +
  its PNG), *peak* = median of the traced peak above the start during one call, *RSS growth* =
  resident-set growth per call over the whole run with results dropped (~0 unless it leaks).

A row reads "met" when every figure for it is within the target, "MISSED" when none is, and
"borderline" otherwise (wall rows give two figures: the ratio of medians and the paired median).
A row whose helper is not in this tree, or whose tool is missing, says "skipped" and why. The load
average at the start and the end is printed: wall figures from a busy machine are "under load".
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The checkout's root, not this folder, first on the path: `bench` must be this package, not bench.py.
sys.path[:1] = [str(ROOT), str(ROOT / "src")]

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

import healthcred  # noqa: E402
from bench import bench as harness  # noqa: E402
from bench.ceiling import independent_rate, openssl_verify_rate  # noqa: E402
from healthcred import Alg, HealthCode, Signer, TrustStore  # noqa: E402
from healthcred.codec.qr import render_qr  # noqa: E402
from healthcred.foreign.dcc.dsc import read_dsc  # noqa: E402
from healthcred.workers import MAX_WORKERS  # noqa: E402

CWT_VENV = ROOT / "bench" / ".venv-cwt"
CWT_PACKAGES = ("cwt", "base45")
"""What the python-cwt venv holds besides healthcred's own dependencies (read from pyproject.toml)."""

FULL = {
    "codes": 10_000,
    "rows": 10_000,
    "cards": 2_000,
    "repeats": 7,
    "runs": 3,
    "memory": 2_000,
    "callgrind": 100,
}
QUICK = {"codes": 200, "rows": 120, "cards": 16, "repeats": 1, "runs": 1, "memory": 50, "callgrind": 3}


@dataclass(frozen=True)
class Row:
    """One printed line: what, the measured figure(s), the baseline, the target and the verdict."""

    what: str
    value: str
    baseline: str
    target: str
    state: str


def at_most(figures: Sequence[float], target: float) -> str:
    """met / MISSED / borderline for a ceiling."""
    return "met" if max(figures) <= target else "MISSED" if min(figures) > target else "borderline"


def at_least(figures: Sequence[float], target: float) -> str:
    """met / MISSED / borderline for a floor."""
    return "met" if min(figures) >= target else "MISSED" if max(figures) < target else "borderline"


def skipped(what: str, target: str, why: str) -> Row:
    """A row that could not be measured, and why."""
    return Row(what, "skipped", why, target, "skipped")


def pair(figures: tuple[float, float]) -> str:
    """A wall row's two figures."""
    return f"{figures[0]:.2f}× (paired {figures[1]:.2f}×)"


# --------------------------------------------------------------------------- wall ratios


def wall_rows(world: harness.World, rounds: int, round_ms: float) -> list[Row]:
    """ES256 and EdDSA native verify against their raw verifies, interleaved."""
    rows = []
    for alg, raw, target in (
        (Alg.ES256, harness.RAW_CRYPTOGRAPHY, 1.30),
        (Alg.EDDSA, harness.RAW_PYNACL, 1.35),
    ):
        text = healthcred.issue(harness.realistic_code(alg), world.keys[alg])
        make = harness.verify_contenders(world, alg, text, "python-cwt runs in its own venv")
        result = harness.compare(f"verify {alg.label}", make, rounds, round_ms, None)
        figures = result.ratios(harness.HEALTHCRED, raw)
        ours, theirs = result.timing(harness.HEALTHCRED), result.timing(raw)
        assert figures is not None and ours is not None and theirs is not None
        rows.append(
            Row(
                f"native {alg.label} verify ÷ {raw} (wall)",
                f"{pair(figures)}; {ours.median:.1f} µs",
                f"{theirs.median:.1f} µs",
                f"≤ {target:.2f}×",
                at_most(figures, target),
            )
        )
    return rows


def hc1_row(rounds: int, round_ms: float) -> Row:
    """The EU DCC test certificate through healthcred.verify ÷ a raw verify of its Sig_structure."""
    case = json.loads(harness.DCC_CASE.read_text(encoding="utf-8"))
    text, clock = case["PREFIX"], datetime.fromisoformat(case["TESTCTX"]["VALIDATIONCLOCK"])
    dsc = read_dsc(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    store = TrustStore([healthcred.generate_key(Alg.EDDSA).public_key()], []).with_foreign(dscs=[dsc])
    assert healthcred.verify(text, store, at=clock).credential.kind == "vaccination"
    opened = harness.open_text(text, "HC1:")
    public = dsc.public_key
    assert isinstance(public, ec.EllipticCurvePublicKey)
    half = len(opened.signature) // 2
    der = encode_dss_signature(
        int.from_bytes(opened.signature[:half], "big"), int.from_bytes(opened.signature[half:], "big")
    )
    tbs = opened.to_be_signed
    public.verify(der, tbs, harness.ECDSA_SHA256)  # raises if the DCC was taken apart wrongly

    def make(_inputs: int) -> list[harness.Contender]:
        return [
            harness.Contender(
                harness.RAW_CRYPTOGRAPHY, lambda i: public.verify(der, tbs, harness.ECDSA_SHA256), True
            ),
            harness.Contender(harness.HEALTHCRED, lambda i: healthcred.verify(text, store, at=clock)),
        ]

    result = harness.compare("verify HC1", make, rounds, round_ms, None)
    figures = result.ratios(harness.HEALTHCRED, harness.RAW_CRYPTOGRAPHY)
    ours, theirs = result.timing(harness.HEALTHCRED), result.timing(harness.RAW_CRYPTOGRAPHY)
    assert figures is not None and ours is not None and theirs is not None
    return Row(
        "EU DCC (HC1, DE-1) verify ÷ raw verify of its signature (wall)",
        f"{pair(figures)}; {ours.median:.1f} µs",
        f"{theirs.median:.1f} µs",
        "≤ 1.35×",
        at_most(figures, 1.35),
    )


# --------------------------------------------------------------------------- python-cwt


def cwt_python(venv: Path, install: bool) -> tuple[Path | None, str]:
    """The python-cwt venv's interpreter (created and filled if asked), or None and why not."""
    python = venv / "bin" / "python"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = sorted({*CWT_PACKAGES, *project["dependencies"]})
    stamp = venv / "healthcred-bench.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python, ""
    if not install:
        return None, f"no python-cwt venv at {venv} (--no-install)"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *wanted], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or ["(no output)"]
        return None, f"could not build the python-cwt venv: {tail[0][:120]}"
    stamp.write_text(json.dumps(wanted))
    return python, ""


def cwt_what(alg: str) -> str:
    """The python-cwt row's name for ``alg``."""
    return f"python-cwt pipeline ÷ healthcred, {alg}, identical COSE bytes (wall, one process)"


def cwt_rows(venv: Path, install: bool, quick: bool) -> tuple[list[Row], str]:
    """python-cwt ÷ healthcred on identical bytes, both algorithms, from the child's JSON."""
    targets = "≥ 1.50×"
    python, why = cwt_python(venv, install)
    if python is None:
        return [skipped(cwt_what(a), targets, why) for a in ("ES256", "EdDSA")], ""
    child = [str(python), str(ROOT / "bench" / "cwt_child.py"), *(["--quick"] if quick else [])]
    run = subprocess.run(child, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or ["no output"])[-1][:160]
        failed = f"child failed: {why}"
        return [skipped(cwt_what(a), targets, failed) for a in ("ES256", "EdDSA")], ""
    report: dict[str, Any] = json.loads(run.stdout)
    rows = []
    for alg in ("ES256", "EdDSA"):
        got = report[alg]
        figures = (got["cwt_over_healthcred"][0], got["cwt_over_healthcred"][1])
        us = got["us"]
        rows.append(
            Row(
                cwt_what(alg),
                f"{pair(figures)}; python-cwt {us['python-cwt']:.1f} µs",
                f"healthcred {us['healthcred']:.1f} µs ({got['raw']} {us[got['raw']]:.1f} µs)",
                targets,
                at_least(figures, 1.5),
            )
        )
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    return rows, f"python-cwt child ({python.parent.parent.name}): {versions}"


# --------------------------------------------------------------------------- callgrind


def callgrind_rows(ops: int, enabled: str) -> list[Row]:
    """Instruction ratios from bench/instructions.py: ES256 (target ≤ 1.20), EdDSA, HC1."""
    from bench import instructions

    names = {
        "ES256": "native ES256",
        "EdDSA": "native EdDSA (÷ libsodium)",
        "HC1": "HC1 (÷ its own signature)",
    }
    targets = {"ES256": 1.20}
    if enabled or shutil.which("valgrind") is None:
        why = enabled or "valgrind is not installed (apt-get install valgrind)"
        return [
            skipped(f"{names[k]} verify, instructions", f"≤ {targets[k]:.2f}×" if k in targets else "—", why)
            for k in instructions.RATIOS
        ]
    kinds = sorted({kind for both in instructions.RATIOS.values() for kind in both})
    per_op = instructions.per_operation(kinds, ops)
    rows = []
    for name, (subject, raw) in instructions.RATIOS.items():
        ratio = per_op[subject] / per_op[raw]
        target = targets.get(name)
        rows.append(
            Row(
                f"{names[name]} verify, instructions ÷ raw verify (callgrind, {ops} ops)",
                f"{ratio:.2f}×; {per_op[subject]:,.0f} instr",
                f"{per_op[raw]:,.0f} instr",
                f"≤ {target:.2f}×" if target else "— (printed only)",
                at_most([ratio], target) if target else "—",
            )
        )
    return rows


# --------------------------------------------------------------------------- parallel rows


def fresh_codes(world: harness.World, count: int, seed: int) -> tuple[list[str], list[HealthCode]]:
    """``count`` distinct ES256 codes, all valid at ``harness.CHECKED``."""
    pool = harness.credential_pool(random.Random(seed), Alg.ES256, count)
    credentials = [
        HealthCode.create(
            subject=c.subject,
            status=c.status,
            reason=c.reason,
            region=c.region,
            issued_at=harness.ISSUED,
            valid_for=timedelta(days=1),
            id=c.id,
        )
        for c in pool
    ]
    signer = Signer.for_key(world.keys[Alg.ES256])
    return [healthcred.issue(c, signer) for c in credentials], credentials


def parallel_verify_row(world: harness.World, codes: list[str], workers: int, repeats: int) -> Row:
    """Throughput of a warm ``VerifierPool(workers=N)`` ÷ ``verify_all`` in one process; medians.

    The pool is started (and warmed with one batch) before timing, as a gate's back end keeps one
    for its life; runs alternate. Two figures, as for the wall rows: the ratio of the median
    rates and the median of each turn's own ratio (paired), and every turn's ratio; met when
    both are at or above the target. The one-shot ``verify_all(..., workers=N)``, process start-up
    included, is printed beside it, and so is the machine's ceiling: N independent processes, no
    IPC, each verifying its share (:func:`independent_rate`), ÷ the same one-process rate, in the
    same turns.
    """
    what, target = f"verify {len(codes):,} codes, {workers} workers ÷ 1 (throughput, VerifierPool)", "≥ 1.80×"
    pool_class = getattr(healthcred, "VerifierPool", None)
    if pool_class is None:
        return skipped(what, target, "healthcred.VerifierPool is not available in this tree")
    verify_all: Callable[..., list[Any]] = healthcred.verify_all
    rates: dict[int, list[float]] = {1: [], workers: []}
    ceilings: list[float] = []
    with pool_class(world.store, workers=workers) as pool:
        pool.verify_all(codes, at=harness.CHECKED)  # start and warm the workers
        for turn in range(repeats):
            for n in (1, workers) if turn % 2 == 0 else (workers, 1):
                began = time.perf_counter()
                if n == 1:
                    outcomes = verify_all(codes, world.store, at=harness.CHECKED)
                else:
                    outcomes = pool.verify_all(codes, at=harness.CHECKED)
                rates[n].append(len(codes) / (time.perf_counter() - began))
                assert all(isinstance(o, healthcred.VerificationResult) for o in outcomes)
            ceilings.append(independent_rate(world.store, codes, workers) / rates[1][-1])
    openssl = _openssl_ceiling(workers, repeats)
    began = time.perf_counter()
    verify_all(codes, world.store, at=harness.CHECKED, workers=workers)
    one_shot = len(codes) / (time.perf_counter() - began)
    one, many = statistics.median(rates[1]), statistics.median(rates[workers])
    turns = [n / o for n, o in zip(rates[workers], rates[1], strict=True)]  # each turn's own pair
    figures = (many / one, statistics.median(turns))
    return Row(
        what,
        f"{pair(figures)}, per turn {', '.join(f'{t:.2f}' for t in turns)}; {many:,.0f} codes/s"
        f" (one-shot verify_all(workers={workers}) with start-up: {one_shot:,.0f} codes/s;"
        f" {workers} independent processes, no IPC, the machine's ceiling: "
        f"{statistics.median(ceilings):.2f}×, per turn {', '.join(f'{c:.2f}' for c in ceilings)}; {openssl})",
        f"{one:,.0f} codes/s in one process",
        target,
        at_least(figures, 1.8),
    )


def _openssl_ceiling(workers: int, repeats: int) -> str:
    """``openssl speed -multi N`` ÷ ``-multi 1`` on P-256 verify, alternating, per turn and median."""
    ratios: list[float] = []
    for turn in range(repeats):
        rate: dict[int, float | None] = {}
        for n in (1, workers) if turn % 2 == 0 else (workers, 1):
            rate[n] = openssl_verify_rate(n)
        one, many = rate[1], rate[workers]
        if one is None or many is None:
            return "no openssl command to measure OpenSSL's own ceiling"
        ratios.append(many / one)
    turns = ", ".join(f"{r:.2f}" for r in ratios)
    median = statistics.median(ratios)
    return f"OpenSSL alone, openssl speed -multi {workers} ÷ -multi 1: {median:.2f}×, per turn {turns}"


def helper_row(
    module: str, function: str, what: str, target: float, call: Callable[[Any], float], runs: int = 1
) -> Row:
    """A rate from another bench module's function (the median of ``runs``), or skipped if this tree lacks it.

    The runs are printed too: on a shared VM one run can land in a slow phase of the host.
    """
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return skipped(what, f"≥ {target:.0f}/s", f"{module}.{function} is not available in this tree")
    rates = [call(found) for _ in range(runs)]
    rate = statistics.median(rates)
    each = f" (median of {runs}: {', '.join(f'{r:,.0f}' for r in rates)})" if runs > 1 else ""
    return Row(what, f"{rate:,.0f}/s{each}", "—", f"≥ {target:.0f}/s", at_least([rate], target))


# --------------------------------------------------------------------------- memory


def rss() -> int:
    """Resident set size of this process in bytes (Linux /proc; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def memory(label: str, items: Sequence[Any], call: Callable[[Any], object]) -> Row:
    """Held, peak and RSS growth per call of ``call`` over ``items`` (see the module docstring)."""
    call(items[0])  # first-use work (imports, tables) is not per code
    before = rss()
    for item in items:
        call(item)
    growth = (rss() - before) / len(items)
    tracemalloc.start()
    try:
        peaks = []
        for item in items[:50]:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            call(item)
            peaks.append(tracemalloc.get_traced_memory()[1] - start)
        base = tracemalloc.get_traced_memory()[0]
        kept = [call(item) for item in items]
        held = (tracemalloc.get_traced_memory()[0] - base) / len(kept)
    finally:
        tracemalloc.stop()
    return Row(
        f"memory per code: {label} ({len(items):,} calls)",
        f"held {held / 1024:.1f} KiB, peak {statistics.median(peaks) / 1024:.1f} KiB",
        f"RSS growth {growth:.0f} B/call",
        "— (printed only)",
        "—",
    )


def memory_rows(
    world: harness.World, codes: list[str], credentials: list[HealthCode], count: int
) -> list[Row]:
    """Per verified code and per issued code (text + PNG, as a batch row makes them)."""
    signer = Signer.for_key(world.keys[Alg.ES256])

    def issue_row(credential: HealthCode) -> tuple[str, bytes]:
        text = healthcred.issue(credential, signer)
        return text, render_qr(text, encoder="zxing")

    return [
        memory(
            "verify", codes[:count], lambda code: healthcred.verify(code, world.store, at=harness.CHECKED)
        ),
        memory("issue text + PNG", credentials[:count], issue_row),
    ]


# --------------------------------------------------------------------------- report


def header(quick: bool) -> list[str]:
    """Versions, CPUs and the load at the start."""
    title = f"healthcred {healthcred.__version__} — issue 15 speed table"
    lines = [title + (" — QUICK smoke run, not a measurement" if quick else "")]
    lines += ["  " + line for line in harness.versions()]
    lines.append(f"  nproc {os.cpu_count()}, load average at start {load()}")
    return lines


def load() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_rows(rows: Sequence[Row]) -> None:
    """The table: one line per row, then its baseline."""
    print("\nresults (value = measured; baseline = measured in this run; ratio targets from issue 15)")
    for row in rows:
        print(f"  [{row.state:^10}] {row.what}")
        print(f"  {'':12} {row.value}  |  baseline {row.baseline}  |  target {row.target}")
    counts = {
        state: sum(r.state == state for r in rows) for state in ("met", "MISSED", "borderline", "skipped")
    }
    print("\n" + ", ".join(f"{n} {state}" for state, n in counts.items()))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke: tiny sizes, numbers mean nothing")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    parser.add_argument("--no-install", action="store_true", help="do not create the python-cwt venv")
    parser.add_argument("--cwt-venv", type=Path, default=CWT_VENV, help="the python-cwt venv (cached)")
    parser.add_argument("--workers", type=int, default=2, help="workers for the parallel rows (default 2)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if not 2 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be from 2 (the rows compare N workers with 1) to {MAX_WORKERS}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every row and print the table; returns the exit status (0 even if a target is missed)."""
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rounds = harness.QUICK_ROUNDS if args.quick else harness.FULL_ROUNDS
    round_ms = harness.QUICK_ROUND_MS if args.quick else harness.FULL_ROUND_MS
    started = time.perf_counter()
    for line in header(args.quick):
        print(line, flush=True)
    world = harness.build_world()
    rows = wall_rows(world, rounds, round_ms)
    rows.append(hc1_row(rounds, round_ms))
    cwt, cwt_versions = cwt_rows(args.cwt_venv, not args.no_install, args.quick)
    rows += cwt
    codes, credentials = fresh_codes(world, sizes["codes"], args.seed)
    rows.append(parallel_verify_row(world, codes, args.workers, sizes["repeats"]))
    workers = args.workers
    rows.append(
        helper_row(
            "bench.batch",
            "batch_throughput",
            f"batch issuance, texts + PNGs, {sizes['rows']:,} rows, {workers} workers",
            600,
            lambda f: f(sizes["rows"], workers),
            sizes["runs"],
        )
    )
    rows.append(
        helper_row(
            "bench.cards",
            "cards_per_second",
            f"printed PDF cards, {sizes['cards']:,} cards, {workers} workers",
            200,
            lambda f: f(sizes["cards"], workers),
            sizes["runs"],
        )
    )
    rows += memory_rows(world, codes, credentials, sizes["memory"])
    why_not = ""
    if args.no_callgrind or args.quick:
        why_not = (
            "--no-callgrind" if args.no_callgrind else "--quick (12 Python starts under valgrind: minutes)"
        )
    rows += callgrind_rows(sizes["callgrind"], why_not)
    print_rows(rows)
    if cwt_versions:
        print(cwt_versions)
    print(f"nproc {os.cpu_count()}, load average at end {load()}; took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
