"""Run an implementation against a vectors folder and report a pass table.

The implementation is this library (in process) or a program: ``--impl CMD``
starts ``CMD`` once, writes one case per line (JSON, without ``expected``) to
its stdin and reads one JSON answer per line from its stdout. A case whose
answer does not come within the timeout, or is not JSON of the documented
shape, fails; the program is then restarted for the next case, so a hanging
or crashing implementation fails its cases, not the run (docs/conformance.md).
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from healthcred.conformance.reference import CaseError, evaluate, parse_request

__all__ = [
    "Outcome",
    "Report",
    "RunnerError",
    "Subprocess",
    "format_report",
    "judge",
    "load_cases",
    "mismatch",
    "run",
]

Answer = Callable[[Mapping[str, Any]], Any]
"""An implementation: case (without ``expected``) → answer object."""

_MAX_LINE = 16 * 1024 * 1024  # an answer longer than this is garbage, not a verdict


class RunnerError(Exception):
    """The run cannot happen at all (no vectors folder, an implementation that cannot start)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One case's verdict: ``pass``, ``fail`` or ``skip`` (the implementation said it does not support it)."""

    case_id: str
    area: str
    verdict: str
    detail: str = ""


@dataclass
class Report:
    """Every case's outcome, and what ran."""

    implementation: str
    folder: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        """The failing cases."""
        return [o for o in self.outcomes if o.verdict == "fail"]

    @property
    def skipped(self) -> list[Outcome]:
        """The cases the implementation declared unsupported."""
        return [o for o in self.outcomes if o.verdict == "skip"]

    def ok(self, *, allow_unsupported: bool = False) -> bool:
        """Whether the run passes: cases exist, none failed, and none skipped unless allowed."""
        return bool(self.outcomes) and not self.failed and (allow_unsupported or not self.skipped)


def load_cases(folder: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """The case files under ``folder`` (``*/*.json``, sorted), and a failure for each unreadable one."""
    root = Path(folder)
    if not root.is_dir():
        raise RunnerError(f"VECTORS {str(root)!r} is not a folder of conformance vectors")
    cases: list[dict[str, Any]] = []
    broken: list[Outcome] = []
    for path in sorted(root.glob("*/*.json")):
        label = path.relative_to(root).with_suffix("").as_posix()
        area = label.split("/", 1)[0]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            broken.append(Outcome(label, area, "fail", f"cannot read the case file: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            broken.append(
                Outcome(label, area, "fail", f"case file is not JSON (line {exc.lineno}: {exc.msg})")
            )
            continue
        try:
            parse_request(data)
            _check_expected(data.get("expected"))
        except CaseError as exc:
            broken.append(Outcome(label, area, "fail", f"case file is not a valid case: {exc}"))
            continue
        if data["id"] != label:
            broken.append(
                Outcome(label, area, "fail", f"case id {data['id']!r} does not match its file name")
            )
            continue
        cases.append(data)
    return cases, broken


def _check_expected(expected: Any) -> None:
    if not isinstance(expected, Mapping) or not isinstance(expected.get("valid"), bool):
        raise CaseError("expected must be an object with a boolean 'valid'")
    if expected["valid"] and not isinstance(expected.get("result"), Mapping):
        raise CaseError("a valid expectation needs a 'result' object")
    if not expected["valid"] and not isinstance(expected.get("error"), str):
        raise CaseError("an invalid expectation needs an 'error' code")
    accept = expected.get("accept", [])
    if not isinstance(accept, list) or not all(isinstance(a, str) for a in accept):
        raise CaseError("expected.accept must be a list of error codes")


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mismatch(expected: Any, got: Any, path: str = "result") -> str | None:
    """The first place where ``got`` departs from ``expected`` (``None`` when it does not).

    Objects match when every expected field is present and matches (extra
    fields are ignored, at any depth); lists when they have the same length
    and match item by item; anything else when equal.
    """
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return f"{path}: expected {_short(expected)}, got {_short(got)}"
        for name, value in expected.items():
            if name not in got:
                return f"{path}.{name}: expected {_short(value)}, got (missing)"
            why = mismatch(value, got[name], f"{path}.{name}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{path}: expected {_short(expected)}, got {_short(got)}"
        for n, (want, have) in enumerate(zip(expected, got, strict=True)):
            why = mismatch(want, have, f"{path}[{n}]")
            if why:
                return why
        return None
    # bool is an int in Python, not in JSON: true must not pass for 1.
    if expected != got or isinstance(expected, bool) != isinstance(got, bool):
        return f"{path}: expected {_short(expected)}, got {_short(got)}"
    return None


def judge(expected: Mapping[str, Any], answer: Any) -> str | None:
    """Why ``answer`` does not match ``expected`` (``None`` when it does).

    A valid answer must carry every field of the expected result with an equal
    value (see :func:`mismatch`); it may carry more.
    """
    if not isinstance(answer, Mapping) or not isinstance(answer.get("valid"), bool):
        return f"answer lacks a boolean 'valid': {_short(answer)}"
    want = "valid" if expected["valid"] else f"error {expected['error']}"
    if not answer["valid"]:
        got = answer.get("error")
        if not isinstance(got, str):
            return "an invalid answer must name an 'error' code"
        accepted = {expected["error"], *expected.get("accept", ())} if not expected["valid"] else set()
        return None if got in accepted else f"expected {want}, got error {got}"
    if not expected["valid"]:
        return f"expected {want}, got valid"
    result = answer.get("result")
    if not isinstance(result, Mapping):
        return "a valid answer must carry a 'result' object"
    return mismatch(expected["result"], result)


def _request(case: Mapping[str, Any]) -> dict[str, Any]:
    # The implementation never sees the answer it is judged against.
    return {k: v for k, v in case.items() if k != "expected"}


class Subprocess:
    """A program speaking the JSON-lines protocol, restarted after a timeout, a crash or garbage."""

    def __init__(self, command: str, *, timeout: float = 10.0) -> None:
        """``command`` is split like a shell would (no shell runs); ``timeout`` is per case, in seconds."""
        self.argv = shlex.split(command)
        if not self.argv:
            raise RunnerError("--impl needs a command")
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: IO[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process, closed in _kill
        try:
            process = subprocess.Popen(  # noqa: S603 - running the user's implementation is the point
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
            )
        except OSError as exc:
            raise RunnerError(f"cannot start {self.argv[0]!r}: {exc.strerror or exc}") from exc
        self._lines = queue.Queue()
        lines = self._lines
        stdout = process.stdout
        assert stdout is not None

        def pump() -> None:
            # A thread per process: readline has no timeout, queue.get does.
            for line in iter(lambda: stdout.readline(_MAX_LINE), b""):
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        self._process = process
        return process

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 2000))
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return f"; stderr: {lines[-1][:200]}" if lines else ""

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
        self._process, self._stderr = None, None

    def close(self) -> None:
        """Stop the program (closing its stdin first, so a well-behaved one exits on its own)."""
        if self._process is not None and self._process.stdin is not None:
            try:
                self._process.stdin.close()
                self._process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()

    def __call__(self, case: Mapping[str, Any]) -> Any:
        """Send one case, return the decoded answer; raise :class:`CaseError` saying what went wrong."""
        process = (
            self._process if self._process is not None and self._process.poll() is None else self._start()
        )
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(case, ensure_ascii=False).encode("utf-8") + b"\n")
            process.stdin.flush()
        except OSError as exc:
            why = (
                f"implementation exited (code {process.poll()}) before reading the case{self._stderr_tail()}"
            )
            self._kill()
            raise CaseError(why) from exc
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            self._kill()
            raise CaseError(f"no answer within {self.timeout:g} s (implementation restarted)") from None
        if line is None:
            process.wait()
            why = f"implementation exited (code {process.returncode}) without answering{self._stderr_tail()}"
            self._kill()
            raise CaseError(why)
        try:
            answer = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._kill()  # out of step with the protocol: start afresh for the next case
            raise CaseError(f"answer is not a JSON line: {line[:60]!r}") from None
        if not isinstance(answer, dict):
            raise CaseError(f"answer is not a JSON object: {_short(answer)}")
        if answer.get("id") != case["id"]:
            self._kill()
            raise CaseError(f"answer is for case {answer.get('id')!r}, not this one")
        return answer


def run(
    folder: str | os.PathLike[str],
    implementation: Answer | None = None,
    *,
    name: str = "healthcred (this library)",
    only: Iterable[str] = (),
) -> Report:
    """Run ``implementation`` (default: this library) on each case in ``folder``; ``only`` picks areas."""
    cases, broken = load_cases(folder)
    areas = set(only)
    report = Report(name, os.fspath(folder), [o for o in broken if not areas or o.area in areas])
    answer = implementation or evaluate  # default: this library, in process
    for case in cases:
        if areas and case["area"] not in areas:
            continue
        case_id, area = case["id"], case["area"]
        try:
            got = answer(_request(case))
        except CaseError as exc:
            report.outcomes.append(Outcome(case_id, area, "fail", str(exc)))
            continue
        except RunnerError:
            raise  # the implementation cannot run at all: no case can pass
        except Exception as exc:
            report.outcomes.append(Outcome(case_id, area, "fail", f"crashed: {type(exc).__name__}: {exc}"))
            continue
        if isinstance(got, Mapping) and isinstance(got.get("unsupported"), str):
            report.outcomes.append(Outcome(case_id, area, "skip", got["unsupported"]))
            continue
        why = judge(case["expected"], got)
        report.outcomes.append(Outcome(case_id, area, "fail" if why else "pass", why or ""))
    report.outcomes.sort(key=lambda o: o.case_id)
    return report


def format_report(report: Report, *, verbose: bool = False, allow_unsupported: bool = False) -> str:
    """The pass table per area, then one line per failing (and skipped) case; every case with ``verbose``."""
    per_area: dict[str, list[int]] = {}
    for outcome in report.outcomes:
        counts = per_area.setdefault(outcome.area, [0, 0, 0])
        counts[("pass", "fail", "skip").index(outcome.verdict)] += 1
    width = max([len("area"), len("total"), *map(len, per_area)])
    lines = [
        f"conformance: {len(report.outcomes)} cases in {report.folder} against {report.implementation}",
        "",
        f"{'area':<{width}}  {'cases':>5}  {'pass':>5}  {'fail':>5}  {'skip':>5}",
    ]
    totals = [0, 0, 0]
    for area, counts in sorted(per_area.items()):
        lines.append(f"{area:<{width}}  {sum(counts):>5}  {counts[0]:>5}  {counts[1]:>5}  {counts[2]:>5}")
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    lines.append(f"{'total':<{width}}  {sum(totals):>5}  {totals[0]:>5}  {totals[1]:>5}  {totals[2]:>5}")
    shown = [o for o in report.outcomes if verbose or o.verdict != "pass"]
    if shown:
        id_width = max(len(o.case_id) for o in shown)
        lines.append("")
        lines += [f"{o.verdict.upper():<4}  {o.case_id:<{id_width}}  {o.detail}".rstrip() for o in shown]
    lines.append("")
    if report.ok(allow_unsupported=allow_unsupported):
        lines.append(f"PASS: all {totals[0]} cases" + (f" ({totals[2]} unsupported)" if totals[2] else ""))
    elif not report.outcomes:
        lines.append("FAIL: no cases found")
    else:
        lines.append(f"FAIL: {totals[1]} of {len(report.outcomes)} cases failed, {totals[2]} unsupported")
    return "\n".join(lines)
