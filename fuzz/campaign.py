"""The long fuzz campaign: every target (or some) for N executions each, one report.

    python -m fuzz.campaign --runs 1000000 [--jobs 2] [--targets verify_text,place] \\
        [--max-time SECONDS] --out fuzz/report.json

Each target runs in its own process (``python -m fuzz.run``) on its corpus folder
(``fuzz/corpus/<target>``, seeded from the repository on first use and kept, so a later
campaign starts where this one stopped), with findings recorded and fuzzing continued
(:data:`fuzz.harness.FINDINGS_ENV`): the smallest input and the traceback of each distinct
finding under ``<out>-work/findings/<target>/`` (``--findings`` to choose). Findings already
known (:mod:`fuzz.known`) are listed apart and do not fail the campaign.
From libFuzzer's output the campaign takes the executions (``Done N runs in S second(s)``), the
peak RSS (``rss: NMb``) and the depth reached: the final coverage (``cov:``, the edges of the
instrumented code covered, and ``ft:``, libFuzzer's finer features) and the corpus size, from the
``DONE`` line (the last status line when the run ended early); from the harness, the slowest
input's CPU time. Executions without depth are hollow: a target whose ``cov`` does not grow
past its seeds is fuzzing its parser's refusals. The report is
written after every target, and a target already in it with at least ``--runs`` executions is
skipped: an interrupted campaign resumes (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fuzz.harness import FINDINGS_ENV, RECORD_FROM, WORST_ENV
from fuzz.known import is_known
from fuzz.seeds import write_corpus
from fuzz.targets import TARGET_NAMES, load
from fuzz.tmpfs import SCRATCH_ENV, memory_folder
from healthcred.files import write_atomic

__all__ = ["main", "parse_output", "run_target"]

HERE = Path(__file__).resolve().parent
SLOW = 1.0
"""An input costing more CPU seconds than this is reported as slow (the issue's bound)."""
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_RSS = re.compile(r"rss: (\d+)Mb")
_STATS = re.compile(r"^#(\d+)\s", re.MULTILINE)
_DEPTH = re.compile(r"^#\d+\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.MULTILINE)


def parse_output(text: str) -> dict[str, Any]:
    """Executions, seconds, peak RSS (MB) and final cov/ft/corpus from libFuzzer's output.

    A crash ends the run early: then the last status line gives the depth reached.
    """
    done = _DONE.search(text)
    runs = [int(n) for n in _STATS.findall(text)]
    depth = _DEPTH.findall(text)
    final = next((d for d in depth if d[0] == "DONE"), depth[-1] if depth else None)
    return {
        "cov": int(final[1]) if final else None,
        "ft": int(final[2]) if final else None,
        "corpus": int(final[3]) if final else None,
        "executions": int(done.group(1)) if done else max(runs, default=0),
        "seconds": int(done.group(2)) if done else None,
        "peak_rss_mb": max((int(m) for m in _RSS.findall(text)), default=None),
        "crashed": "Uncaught Python exception" in text or "==ERROR: libFuzzer" in text,
    }


def run_target(name: str, runs: int, max_time: int | None, out: Path, found: Path) -> dict[str, Any]:
    """Fuzz ``name`` for ``runs`` executions (or ``max_time`` seconds); its report entry."""
    corpus = HERE / "corpus" / name
    if not corpus.is_dir():
        write_corpus(load(name).seeds(), corpus)
    work = out.parent / f"{out.stem}-work"
    crashes = work / "crashes" / name
    crashes.mkdir(parents=True, exist_ok=True)
    for old in (work / "worst").glob(f"{name}.*"):  # this run's slowest input, not an earlier run's
        old.unlink()
    command = [
        sys.executable,
        "-m",
        "fuzz.run",
        name,
        str(corpus),
        f"-runs={runs}",
        f"-artifact_prefix={crashes}/",
    ]
    if max_time is not None:
        command.append(f"-max_total_time={max_time}")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"healthcred-fuzz-{name}-", dir=memory_folder()) as files:
        env = {**os.environ, WORST_ENV: str(work / "worst"), FINDINGS_ENV: str(found), SCRATCH_ENV: files}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=HERE.parent)
    wall = time.monotonic() - start
    (work / f"{name}.log").write_text(done.stderr[-200_000:])
    entry = parse_output(done.stderr)
    worst_file = work / "worst" / f"{name}.json"
    # No file: no input reached RECORD_FROM seconds, and the worst is reported as that bound.
    worst = json.loads(worst_file.read_text()) if worst_file.is_file() else {"cpu_seconds": RECORD_FROM}
    findings = [p.read_text().split("\n", 1)[0] for p in sorted((found / name).glob("*.txt"))]
    entry.update(
        target=name,
        wall_seconds=round(wall, 1),
        exec_per_second=round(entry["executions"] / wall) if wall else None,
        worst_input_cpu_seconds=worst["cpu_seconds"],
        inputs_over_1s=int(worst["cpu_seconds"] > SLOW),
        findings=[f for f in findings if not is_known(name, f)],
        known_findings=[f for f in findings if is_known(name, f)],
        crash_files=sorted(str(p) for p in crashes.iterdir()),
        exit_code=done.returncode,
    )
    return entry


def _table(report: dict[str, Any]) -> str:
    head = ("target", "executions", "exec/s", "cov", "ft", "corpus", "worst s", "rss MB", "findings")
    lines = ["{:16} {:>11} {:>7} {:>6} {:>6} {:>6} {:>8} {:>7} {:>8}".format(*head)]
    for name, e in report["targets"].items():
        lines.append(
            f"{name:16} {e['executions']:>11} {e['exec_per_second'] or 0:>7} {e.get('cov') or 0:>6} "
            f"{e.get('ft') or 0:>6} {e.get('corpus') or 0:>6} {e['worst_input_cpu_seconds']:>8.3f} "
            f"{e['peak_rss_mb'] or 0:>7} {len(e['findings']):>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; exit 1 if any target found something, had an input over 1 s, or ran nothing."""
    parser = argparse.ArgumentParser(prog="python -m fuzz.campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions per target")
    parser.add_argument("--max-time", type=int, default=None, help="seconds per target at most")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once")
    parser.add_argument("--targets", default=",".join(TARGET_NAMES), help="comma-separated target names")
    parser.add_argument("--out", type=Path, default=HERE / "report.json")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing report")
    parser.add_argument(
        "--findings", type=Path, default=None, help="where findings go (default: beside --out)"
    )
    args = parser.parse_args(argv)
    names = [n for n in args.targets.split(",") if n]
    unknown = sorted(set(names) - set(TARGET_NAMES))
    if unknown:
        parser.error(f"unknown targets {unknown}; the targets are {', '.join(TARGET_NAMES)}")
    report: dict[str, Any] = {"targets": {}}
    if args.out.is_file() and not args.fresh:
        report = json.loads(args.out.read_text())
    todo = [n for n in names if report["targets"].get(n, {}).get("executions", 0) < args.runs]

    def one(name: str) -> None:
        found = args.findings or args.out.parent / f"{args.out.stem}-work" / "findings"
        entry = run_target(name, args.runs, args.max_time, args.out, found)
        report["targets"][name] = entry
        write_atomic(args.out, json.dumps(report, indent=2, sort_keys=True) + "\n", durable=False)
        print(
            f"{name}: {entry['executions']} executions, cov {entry['cov']} ft {entry['ft']} "
            f"corpus {entry['corpus']}, worst {entry['worst_input_cpu_seconds']:.3f} s, "
            f"{len(entry['findings'])} findings",
            flush=True,
        )

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, todo))
    print(_table(report))
    bad = [n for n, e in report["targets"].items() if e["findings"] or e["inputs_over_1s"] or e["crashed"]]
    # A target that ran no input tested nothing: a broken harness must fail the run, not pass it.
    idle = [n for n, e in report["targets"].items() if not e["executions"]]
    for name in idle:
        print(f"{name}: ran no input (exit {report['targets'][name]['exit_code']}); see its log", flush=True)
    return 1 if bad or idle else 0


if __name__ == "__main__":
    sys.exit(main())
