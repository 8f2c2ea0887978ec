"""Start-up cost: whole processes against ``python -c pass``, measured in the same run.

Usage::

    python bench/startup.py             # 21 paired rounds (about half a minute)
    python bench/startup.py --quick     # 3 rounds, a smoke run; its numbers mean little

What is measured
----------------
Each round starts, one after another in a shuffled order, a bare ``python -c pass`` and each of:

* **import**: ``python -c "import healthcred"``
* **help**: ``healthcred --help`` (the installed console script, or ``python -c`` calling the
  entry point when there is none next to this Python)
* **verify**: ``healthcred verify --trust T code.txt``: a native code in a text file against a
  trust folder that this script writes first (a root, one issuer, a signed list)

A round's ratio is the command's wall time over the bare start's in that round; the figure is
the median of the rounds' ratios (so a burst of load on the machine moves both sides). Targets:
import ≤ 4×, help ≤ 6×, verify ≤ 10×. The load average is printed before and after: on a busy
machine the ratios drift. Then, for each command, the ten heaviest imports by their own time
(``-X importtime``) and the time per top-level package, so a reader sees where the time goes.

Every process starts as an installed package does, from cached bytecode: the runs write and read
it in a temporary ``PYTHONPYCACHEPREFIX`` (the warm-up run fills it), whatever
``PYTHONDONTWRITEBYTECODE`` says here. ``--no-bytecode`` compiles every module on every start.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGETS = {"import": 4.0, "help": 6.0, "verify": 10.0}
"""The largest acceptable ratio to a bare ``python -c pass``, per command."""


def write_world(folder: Path) -> tuple[Path, Path]:
    """A trust folder (root anchor, one issuer on a signed list) and a native code in a .txt file."""
    from healthcred import (
        GREEN,
        Alg,
        DocumentType,
        HealthCode,
        KeyGrant,
        Subject,
        generate_key,
        issue,
        make_trust_list,
    )
    from healthcred.crypto.keys import save_public_key
    from healthcred.trust.folder import ANCHORS_DIR, LISTS_DIR

    trust = folder / "trust"
    (trust / ANCHORS_DIR).mkdir(parents=True)
    (trust / LISTS_DIR).mkdir()
    root, issuer = generate_key(Alg.EDDSA), generate_key(Alg.ES256)
    save_public_key(root.public_key(), trust / ANCHORS_DIR / "root.pem")
    now = int(time.time())
    grant = KeyGrant(issuer.public_key(), "330000", now - 3600, now + 86400)
    listed = make_trust_list(root, [grant], version=1, issued_at=now - 3600, expires_at=now + 86400)
    (trust / LISTS_DIR / "national.cose").write_bytes(listed)
    subject = Subject.create("张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234")
    code = HealthCode.create(
        subject=subject,
        status=GREEN,
        region="330100",
        valid_for=timedelta(hours=12),
        issued_at=datetime.now(UTC).replace(microsecond=0),
    )
    text_file = folder / "code.txt"
    text_file.write_text(issue(code, issuer) + "\n", encoding="utf-8")
    return trust, text_file


def healthcred_command() -> list[str]:
    """How to start the ``healthcred`` command: its console script beside this Python if installed."""
    script = Path(sys.executable).with_name("healthcred")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from healthcred.cli.main import main; sys.exit(main())"]


def commands(trust: Path, code: Path) -> dict[str, list[str]]:
    """The measured commands by name (the bare start is ``pass``)."""
    cli = healthcred_command()
    return {
        "pass": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import healthcred"],
        "help": [*cli, "--help"],
        "verify": [*cli, "verify", "--trust", str(trust), str(code)],
    }


def environment(pycache: Path | None) -> dict[str, str]:
    """The measured processes' environment: bytecode cached under ``pycache``, or never (``None``)."""
    env = dict(os.environ)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds one run of ``argv`` takes, start to exit (its output is discarded)."""
    start = time.perf_counter()
    run = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({run.returncode}): {run.stderr.decode()[-500:]}")
    return seconds


def measure(
    runs: dict[str, list[str]], rounds: int, env: dict[str, str], seed: int = 11
) -> dict[str, list[float]]:
    """Wall times per command over ``rounds`` rounds, each running every command once, shuffled."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    rng = random.Random(seed)
    for argv in runs.values():  # warm the file cache and the bytecode cache first
        wall(argv, env)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            times[name].append(wall(runs[name], env))
    return times


def import_times(argv: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """``(self µs, cumulative µs, module)`` for every import of one run under ``-X importtime``."""
    run = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        rows.append((int(own), int(cumulative), name.strip()))
    return rows


def report_imports(name: str, argv: list[str], env: dict[str, str]) -> None:
    """Print the ten heaviest imports of ``argv`` by own time, and the time per top-level package."""
    rows = import_times(argv, env)
    total = sum(own for own, _, _ in rows)
    print(f"\n{name}: {len(rows)} modules imported, {total / 1000:.1f} ms in imports (-X importtime)")
    for own, cumulative, module in sorted(rows, reverse=True)[:10]:
        print(f"  {own / 1000:6.1f} ms self  {cumulative / 1000:6.1f} ms cumulative  {module}")
    packages: dict[str, int] = defaultdict(int)
    for own, _, module in rows:
        packages[module.split(".")[0]] += own
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:8]
    print("  by package: " + ", ".join(f"{p} {us / 1000:.1f} ms" for p, us in heaviest))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="Paired rounds (default 21).")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke run.")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="No bytecode cache: every start compiles every module."
    )
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="healthcred-startup-") as tmp:
        runs = commands(*write_world(Path(tmp)))
        env = environment(None if args.no_bytecode else Path(tmp) / "pycache")
        cache = "none" if args.no_bytecode else "cached (PYTHONPYCACHEPREFIX in the temporary folder)"
        print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; {rounds} rounds; bytecode {cache}")
        print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        times = measure(runs, rounds, env)
        print("load average after:  " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        bare = times["pass"]
        print(f"python -c pass: median {statistics.median(bare) * 1000:.1f} ms")
        for name, target in TARGETS.items():
            ratios = [t / b for t, b in zip(times[name], bare, strict=True)]
            ratio = statistics.median(ratios)
            verdict = "ok" if ratio <= target else "OVER"
            print(
                f"{name:7} ratio {ratio:5.1f}× (target ≤ {target:.0f}×, {verdict}); "
                f"median {statistics.median(times[name]) * 1000:.1f} ms; {' '.join(runs[name][-4:])}"
            )
        for name in TARGETS:
            report_imports(name, runs[name], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
