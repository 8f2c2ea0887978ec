"""Every fuzz target runs on its seeds without atheris, so the targets cannot rot unnoticed.

A seed may hit a finding listed in :mod:`fuzz.known` (issue 12, fixed on another branch);
any other exception fails the test. Each target must also see some seeds through to a result
or a typed error, and its structure-aware mutator (where it has one) must keep working.
"""

from __future__ import annotations

import json
import random
import re
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from fuzz import layers
from fuzz.harness import Target
from fuzz.known import is_known
from fuzz.targets import TARGET_NAMES, load
from fuzz.world import REPO

FINDINGS = REPO / "fuzz" / "findings"
DICTS = REPO / "fuzz" / "dicts"

_PER_TARGET = 120  # seeds per target: enough to reach each entry point's result and error paths


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_target_runs_its_seeds(name: str) -> None:
    target: Target = load(name)
    seeds = list(islice(target.seeds(), _PER_TARGET))
    assert seeds, f"{name} has no seeds"
    assert sum(_run(name, target, seed) for seed in seeds) > 0


def _run(name: str, target: Target, data: bytes) -> bool:
    """Run one input; ``False`` for a known finding, which is the only exception let through."""
    try:
        target.one_input(data)
    except Exception as exc:
        if not is_known(name, f"{type(exc).__name__}: {exc}"):
            raise
        return False
    return True


@pytest.mark.parametrize("name", [n for n in TARGET_NAMES if load(n).mutate is not None])
def test_structure_aware_mutator_rewraps_its_seeds(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without atheris, byte mutation is a bit flip: the layers around it must still come back whole.
    def flip(data: bytes, max_size: int) -> bytes:
        return data[:1] + bytes([data[1] ^ 1]) + data[2:] if len(data) > 1 else data

    monkeypatch.setattr(layers, "mutate_bytes", flip)
    target = load(name)
    assert target.mutate is not None
    changed = 0
    for n, seed in enumerate(islice(target.seeds(), 20)):
        mutated = target.mutate(seed, 65536, random.Random(n).randrange(2**32))
        assert isinstance(mutated, bytes) and len(mutated) <= 65536
        changed += mutated != seed
        _run(name, target, mutated)
    assert changed > 0


@pytest.mark.parametrize("path", sorted(FINDINGS.glob("*/*.bin")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_kept_finding_now_runs_clean(path: Path) -> None:
    """Each minimised reproducer under fuzz/findings/ goes through its target without a finding."""
    load(path.parent.name).one_input(path.read_bytes())


def test_png_mutator_keeps_every_chunk_crc_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutated PNG passes the reader's CRC checks, so the fuzzer reaches the header checks and decoder."""
    import struct
    import zlib

    from fuzz.png_mutator import png_mutator

    monkeypatch.setattr(layers, "mutate_bytes", lambda data, max_size: data[::-1])
    seed = next(s for s in load("verify_image").seeds() if s.startswith(b"\x89PNG"))
    checked = 0
    for n in range(200):
        mutated = png_mutator(seed, 65536, n)
        if mutated == seed or not mutated.startswith(b"\x89PNG\r\n\x1a\n"):
            continue
        at = 8
        while at + 12 <= len(mutated):
            (length,) = struct.unpack(">I", mutated[at : at + 4])
            body = mutated[at + 4 : at + 8 + length]
            assert mutated[at + 8 + length : at + 12 + length] == struct.pack(">I", zlib.crc32(body))
            at += 12 + length
        checked += 1
    assert checked > 100


_JSON_TARGETS = ("certlogic", "shc_issuer", "shc_card")


def _is_json_input(name: str, data: bytes) -> bool:
    """Whether a mutated input keeps its target's JSON shape (certlogic: two values; cards: file, chunks)."""
    from fuzz.targets.certlogic import split
    from fuzz.targets.shc_card import _from_chunks, _parts

    if name == "certlogic":
        return split(data) is not None
    if name == "shc_card" and data.startswith(b"shc:/"):
        peeled = _from_chunks(data)
        return peeled is not None and _parts(peeled[0]) is not None
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    if name == "shc_card":
        cards = doc.get("verifiableCredential") if isinstance(doc, dict) else None
        return isinstance(cards, list) and all(isinstance(c, str) and _parts(c) is not None for c in cards)
    return True


@pytest.mark.parametrize("name", _JSON_TARGETS)
def test_json_mutator_keeps_json_and_is_deterministic(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree mutators give the target's JSON shape most of the time, and the same output for a seed."""
    monkeypatch.setattr(layers, "mutate_bytes", lambda data, max_size: data[::-1][:max_size])
    target = load(name)
    assert target.mutate is not None
    seeds = [s for s in target.seeds() if _is_json_input(name, s)]  # not a lone chunk of three
    outputs = [target.mutate(seeds[n % len(seeds)], 65536, n) for n in range(300)]
    again = [target.mutate(seeds[n % len(seeds)], 65536, n) for n in range(300)]
    assert outputs == again
    assert all(len(o) <= 65536 for o in outputs)
    kept = sum(_is_json_input(name, o) for o in outputs)
    assert kept >= 0.7 * len(outputs), f"{name}: only {kept} of {len(outputs)} mutated inputs are JSON"
    assert len(set(outputs)) > 0.8 * len(outputs)  # and they are not all one input


@pytest.mark.parametrize(
    ("name", "past", "share"),
    [
        ("certlogic", lambda data: _compiles(data), 0.25),
        ("shc_issuer", lambda data: _loads_issuer(data), 0.2),
        ("shc_card", lambda data: _past_the_signature(data), 0.3),
    ],
    ids=_JSON_TARGETS,
)
def test_json_mutator_reaches_past_the_parser(
    name: str, past: Any, share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Depth: many mutated inputs get past the parser (a rule compiled, an issuer loaded, a card signed)."""
    monkeypatch.setattr(layers, "mutate_bytes", lambda data, max_size: data[::-1][:max_size])
    target = load(name)
    assert target.mutate is not None
    seeds = [s for s in target.seeds() if past(s)]  # from seeds that get there themselves
    outputs = [target.mutate(seeds[n % len(seeds)], 65536, n) for n in range(200)]
    reached = sum(bool(past(o)) for o in outputs)
    assert reached >= share * len(outputs), f"{name}: {reached} of {len(outputs)} got past the parser"


def _compiles(data: bytes) -> bool:
    from fuzz.targets.certlogic import split
    from healthcred.errors import HealthCredError
    from healthcred.rules.certlogic import compile_rule

    parts = split(data)
    try:
        return parts is not None and compile_rule(parts[0]) is not None
    except HealthCredError:
        return False


def _loads_issuer(data: bytes) -> bool:
    from healthcred.errors import HealthCredError
    from healthcred.foreign.shc.issuers import load_shc_issuer

    try:
        return load_shc_issuer(data) is not None
    except HealthCredError:
        return False


def _past_the_signature(data: bytes) -> bool:
    """The card's signature verified: it then gave a result or failed on claims, CRL or time."""
    from fuzz.targets.common import nbf_moment
    from fuzz.world import STORE
    from healthcred.errors import HealthCredError
    from healthcred.flows.verify import verify
    from healthcred.foreign.shc.cards import load_health_cards, read_shc

    try:
        if data.startswith(b"shc:/"):
            chunks = data.decode().split("\n")
            message = read_shc(chunks)
            result = verify(
                chunks if len(chunks) > 1 else chunks[0], STORE, at=nbf_moment(message.payload.get("nbf"))
            )
            return result is not None
        return all(
            verify(c, STORE, at=nbf_moment(c.payload.get("nbf"))) is not None for c in load_health_cards(data)
        )
    except HealthCredError as exc:
        return exc.code in ("bad_claims", "revoked", "expired", "not_yet_valid")


@pytest.mark.parametrize("path", sorted(DICTS.glob("*.dict")), ids=lambda p: p.name)
def test_every_dictionary_parses_as_libfuzzer_reads_it(path: Path) -> None:
    """libFuzzer stops at a dictionary line it cannot parse: each is a comment, blank, or a quoted token."""
    token = re.compile(r'(?:[A-Za-z0-9_]+=)?"(?:[^"\\]|\\\\|\\"|\\x[0-9A-Fa-f]{2})+"')
    for number, line in enumerate(path.read_text().splitlines(), 1):
        assert not line.strip() or line.startswith("#") or token.fullmatch(line), (
            f"{path.name}:{number}: {line}"
        )


def test_every_target_dictionary_exists() -> None:
    from fuzz.run import DICTIONARIES, dictionary_flags

    for name, stem in DICTIONARIES.items():
        assert name in TARGET_NAMES and (DICTS / f"{stem}.dict").is_file()
        assert dictionary_flags(name, []) == [f"-dict={DICTS / stem}.dict"]
        assert dictionary_flags(name, ["-dict=/x.dict"]) == []
    assert dictionary_flags("scan_log", []) == []


def test_campaign_reports_the_depth_reached() -> None:
    """cov, ft and corpus come from libFuzzer's DONE line, or from its last status line after a crash."""
    from fuzz.campaign import parse_output

    done = (
        "#2\tINITED cov: 259 ft: 483 corp: 43/3579b exec/s: 0 rss: 82Mb\n"
        "#1000\tNEW    cov: 300 ft: 600 corp: 50/4Kb lim: 100 exec/s: 500 rss: 90Mb L: 3/9 MS: 1 Custom-\n"
        "#200000\tDONE   cov: 309 ft: 615 corp: 82/9607b lim: 1855 exec/s: 22222 rss: 95Mb\n"
        "Done 200000 runs in 9 second(s)\n"
    )
    entry = parse_output(done)
    assert (entry["cov"], entry["ft"], entry["corpus"], entry["executions"], entry["peak_rss_mb"]) == (
        309, 615, 82, 200000, 95,
    )  # fmt: skip
    crashed = parse_output(done.split("#200000")[0] + "=== Uncaught Python exception: ===\n")
    assert (crashed["cov"], crashed["ft"], crashed["corpus"], crashed["crashed"]) == (300, 600, 50, True)
    assert parse_output("")["cov"] is None


@pytest.mark.parametrize(("executions", "exit_code"), [(0, 1), (2000, 0)])
def test_the_campaign_fails_a_target_that_ran_no_input(
    executions: int, exit_code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A harness that runs nothing (as when an import hook ran the CLI instead) must fail CI."""
    import fuzz.campaign as campaign

    def fake_run(name: str, *args: object) -> dict[str, Any]:
        return {
            "target": name, "executions": executions, "exec_per_second": executions, "cov": 1,
            "ft": 1, "corpus": 1, "peak_rss_mb": 80, "worst_input_cpu_seconds": 0.005,
            "inputs_over_1s": 0, "findings": [], "known_findings": [], "crash_files": [],
            "crashed": False, "exit_code": 0, "wall_seconds": 1.0,
        }  # fmt: skip

    monkeypatch.setattr(campaign, "run_target", fake_run)
    out = tmp_path / "report.json"
    assert (
        campaign.main(["--runs", "10", "--targets", "verify_text", "--fresh", "--out", str(out)]) == exit_code
    )
