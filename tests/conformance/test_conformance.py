"""Issue 7: the conformance vectors are current, this library passes them, the runner catches a broken one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from healthcred.cli.main import main
from healthcred.conformance.reference import evaluate
from healthcred.conformance.runner import Subprocess, format_report, judge, mismatch, run
from healthcred.errors import ERROR_CODES
from tests.helpers.paths import ROOT
from tests.helpers.sm import SM2_UNAVAILABLE, SM2_UNAVAILABLE_REASON, needs_sm2
from tools.conformance.case import OPERATIONS, stages_of
from tools.conformance.generate import render

VECTORS = ROOT / "vectors"
BROKEN = ROOT / "tests" / "conformance" / "impls" / "broken.py"
CASES = sorted(VECTORS.glob("*/*.json"))
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))

FAMILIES = {
    "healthcred_error",
    "format_error",
    "trust_error",
    "validity_error",
    "rule_error",
    "qr_error",
    "binding_error",
}
"""Abstract codes: never raised themselves."""

NOT_APPLICABLE = {
    "bad_input": "API misuse (wrong argument types); a case's inputs are always well-typed",
    "bad_key": "key files and issuing keys; a bad key in trust is trust_list_malformed or trust_store_error",
    "missing_glyph": "rendering printed sheets, not verification",
    "malformed_jws": "SMART Health Cards, not the native format",
    "bad_chunk": "SMART Health Cards, not the native format",
    "unknown_issuer": "SMART Health Cards and EU DCC, not the native format",
    "bad_certificate": "EU DCC document signer certificates, not the native format",
    "key_usage_mismatch": "EU DCC document signer certificates, not the native format",
    "bad_image": "QR image reading: the protocol hands over the text (stages.qr_png is informative)",
    "qr_not_found": "QR image reading: the protocol hands over the text",
    "qr_backend_unavailable": "a local installation problem, not a property of a code",
    "scan_log_error": "the verifier's local scan log, not a code or trust",
    "trust_folder_busy": "two local writers of one trust folder, not a code or trust",
    "worker_failed": "a local worker process that stopped, not a property of a code",
}
"""Error codes verification of a code or loading of trust cannot produce, with the reason."""

NEWLY_COVERED = {"bad_binding", "binding_mismatch", "too_many_dependents", "bad_place_code"}
"""Codes of the dependents and place areas, once pending: they must stay covered."""


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@needs_sm2  # the SM2 keys of the generator are Tongsuo objects
def test_vectors_equal_a_fresh_regeneration() -> None:
    fresh = render()
    on_disk = {
        p.relative_to(VECTORS).as_posix(): p.read_text(encoding="utf-8") for p in VECTORS.glob("**/*.json")
    }
    missing, extra = sorted(set(fresh) - set(on_disk)), sorted(set(on_disk) - set(fresh))
    changed = sorted(k for k in set(fresh) & set(on_disk) if fresh[k] != on_disk[k])
    hint = "regenerate with: healthcred conformance --regenerate vectors"
    assert not missing and not extra and not changed, (
        f"{hint}; missing {missing[:5]}, extra {extra[:5]}, changed {changed[:5]}"
    )


def test_at_least_150_cases() -> None:
    assert len(CASES) == MANIFEST["count"] >= 150


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.relative_to(VECTORS).with_suffix("").as_posix())
def test_case(path: Path) -> None:
    case = _load(path)
    if "sm2" in case["tags"] and SM2_UNAVAILABLE:
        pytest.skip(SM2_UNAVAILABLE_REASON)
    request = {k: v for k, v in case.items() if k != "expected"}
    answer = evaluate(request)
    assert answer["id"] == case["id"]
    assert judge(case["expected"], answer) is None
    assert case["stages"] == stages_of(case["stages"]["text"])
    if "text" in case["input"]:  # a family bundle carries its codes; its stages show the guardian's
        assert case["stages"]["text"] == case["input"]["text"]


def test_every_applicable_error_code_has_a_case() -> None:
    covered = {c["expected"] for c in MANIFEST["cases"]} - {"valid"}
    leaves = set(ERROR_CODES) - FAMILIES
    uncovered = leaves - covered - set(NOT_APPLICABLE)
    assert not uncovered, (
        f"error codes without a vector (add a case, or say why in NOT_APPLICABLE): {sorted(uncovered)}"
    )
    assert not set(NOT_APPLICABLE) & covered
    assert covered >= NEWLY_COVERED
    assert MANIFEST["pending"] == {}, "every area the issue requires has its builder"


def test_both_algorithms_and_every_operation() -> None:
    cases = [_load(p) for p in CASES]
    valid = [c for c in cases if c["expected"]["valid"]]
    codes = [c for c in valid if c["operation"] in ("verify", "decide")]
    assert {c["expected"]["result"]["alg"] for c in codes} == {"ES256", "EdDSA", "SM2"}
    assert {c["operation"] for c in cases} == set(OPERATIONS)
    assert {c["operation"] for c in valid} == set(OPERATIONS)
    assert any(c["stages"]["compressed"] for c in codes)
    places = {c["expected"]["result"]["kid"] for c in valid if c["operation"] == "verify_place"}
    bindings = {
        c["expected"]["result"]["binding"]["kid"] for c in valid if c["operation"] == "verify_dependent"
    }
    assert len(places) >= 3 and len(bindings) >= 3  # every algorithm signs places and bindings
    relations = {
        c["expected"]["result"]["binding"]["relation"] for c in valid if c["operation"] == "verify_dependent"
    }
    assert relations == {1, 2, 3, 4, 5, 6, 9}
    matches = {c["expected"]["result"]["id_match"] for c in valid if c["operation"] == "check_id"}
    assert matches == {True, False}


def test_judge_ignores_extra_fields_at_any_depth_and_keeps_json_types() -> None:
    expected = {"valid": True, "result": {"binding": {"slot": 1}, "dependents": [{"slot": 2}]}}
    more = {"binding": {"slot": 1, "extra": 0}, "dependents": [{"slot": 2, "x": 1}], "y": 2}
    assert judge(expected, {"valid": True, "result": more}) is None
    assert judge(expected, {"valid": True, "result": {**more, "dependents": []}}) == (
        'result.dependents: expected [{"slot": 2}], got []'
    )
    assert mismatch({"id_match": True}, {"id_match": 1}) == "result.id_match: expected true, got 1"
    assert mismatch({"a": {"b": 1}}, {"a": {}}) == "result.a.b: expected 1, got (missing)"


def test_runner_passes_this_library_in_process_and_as_a_program(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["conformance", str(VECTORS)])
    assert done.value.code == 0
    assert "PASS: all" in capsys.readouterr().out
    program = Subprocess(f"{sys.executable} -m healthcred.conformance.reference", timeout=20)
    try:
        report = run(VECTORS, program, only=["native", "policy", "dependents", "place", "paper"])
    finally:
        program.close()
    assert report.ok() and len(report.outcomes) > 150, format_report(report)


def test_runner_fails_a_broken_implementation() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from healthcred.cli.main import main; main()",
            "conformance",
            str(VECTORS),
            "--impl",
            f"{sys.executable} {BROKEN}",
            "--timeout",
            "2",
            "--area",
            "native",
            "--area",
            "signature",
            "--area",
            "lifecycle",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "Traceback" not in out + result.stderr
    lines = out.splitlines()
    assert any(line.split()[:1] == ["signature"] and line.split()[3] != "0" for line in lines), out
    assert "FAIL  signature/es256-flipped-bit" in out and "expected error bad_signature, got valid" in out
    assert "expected error trust_list_rollback, got valid" in out
    assert "native/es256-green" in out and "no answer within 2 s" in out
    assert "native/eddsa-green" in out and "not a JSON line" in out
    assert "native/eddsa-red" in out and "exited (code 3)" in out
    assert "PASS  native/es256-red" not in out  # only failures are listed without --verbose
    assert lines[-1].startswith("FAIL: ")


def test_runner_reports_bad_case_files_without_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    (folder / "native").mkdir(parents=True)
    shutil.copy(VECTORS / "native" / "es256-green.json", folder / "native" / "es256-green.json")
    (folder / "native" / "not-json.json").write_text("{ nope", encoding="utf-8")
    broken = _load(VECTORS / "native" / "eddsa-green.json")
    del broken["trust"]
    (folder / "native" / "no-trust.json").write_text(json.dumps(broken), encoding="utf-8")
    report = run(folder)
    text = format_report(report)
    assert [o.verdict for o in report.outcomes] == ["pass", "fail", "fail"]
    assert "case file is not JSON (line 1" in text
    assert "missing field 'trust'" in text
    assert not report.ok()


def test_runner_survives_an_implementation_that_cannot_start(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["conformance", str(VECTORS), "--impl", "/nonexistent/verifier", "--area", "native"])
    assert done.value.code == 2
    assert "cannot start" in capsys.readouterr().err


def test_spec_worked_example_is_the_vector() -> None:
    from tools.conformance.example import SPEC_CASE, worked_example

    spec = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    assert worked_example(_load(VECTORS / f"{SPEC_CASE}.json")) in spec
