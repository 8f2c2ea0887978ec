"""`healthcred family` (relatives binding, family bundles) and `healthcred issue --paper`, end to end."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from healthcred import DocumentType, KeyGrant, Subject, generate_key
from healthcred.cli.family import FAMILY_SUFFIX
from healthcred.codec.cbor import dumps
from healthcred.codec.qr import save_qr
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.keys import save_private_key
from healthcred.flows.binding import Relation, make_binding
from healthcred.flows.family import FAMILY_MAGIC
from healthcred.flows.idcheck import check_id, generate_id_key, load_id_key, save_id_key
from healthcred.flows.verify import verify
from healthcred.rules.status import DEFAULT_STATUS_RULES
from healthcred.trust.folder import load_trust
from tests.helpers.cli import run
from tests.helpers.folders import trust_folder
from tests.helpers.world import CHECKED, ISSUED, World, signed_list

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
AT = CHECKED.isoformat()


def resident_id(body: str) -> str:
    """A resident ID number: 17 digits and their GB 11643 check digit."""
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


GUARDIAN = Subject.create(
    "李四", "1980-05-01", DocumentType.RESIDENT_ID_CARD, resident_id("33010619800501123")
)
STRANGER = Subject.create(
    "王五", "1950-01-01", DocumentType.RESIDENT_ID_CARD, resident_id("33010619500101001")
)


def dependent(i: int) -> Subject:
    return Subject.create(
        f"李老{i}",
        f"1950-01-0{1 + i % 9}",
        DocumentType.RESIDENT_ID_CARD,
        resident_id(f"330106195001{1 + i % 9:02d}{i:02d}1"),
    )


@dataclass
class Family:
    """Files for the family tests: trust folder, keys, the guardian's code and 9 dependents' codes."""

    trust: Path
    key: Path
    untrusted: Path
    guardian: Path  # a PNG
    stranger: Path
    dependents: list[Path]  # .txt files
    bindings: list[Path]  # dependent i bound in slot i + 1 (slot 9 is refused, so 8 of them)
    tmp: Path


@pytest.fixture(scope="module")
def fam(tmp_path_factory: pytest.TempPathFactory, world: World) -> Family:
    tmp = tmp_path_factory.mktemp("family")
    key, untrusted = tmp / "zhejiang.key.pem", tmp / "untrusted.key.pem"
    save_private_key(world.zhejiang, key)
    save_private_key(generate_key(Alg.EDDSA), untrusted)
    guardian = tmp / "guardian.png"
    save_qr(world.code(subject=GUARDIAN)[1], guardian)
    stranger = tmp / "stranger.txt"
    stranger.write_text(world.code(subject=STRANGER)[1] + "\n")
    dependents = []
    for i in range(9):
        path = tmp / f"dependent-{i}.txt"
        path.write_text(world.code(subject=dependent(i), key=world.shanghai, region="310100")[1] + "\n")
        dependents.append(path)
    folder = trust_folder(tmp, world.root, world.trust_list)
    bindings = []
    for i in range(8):
        out = tmp / f"binding-{i}.cose"
        result = run(
            "family", "bind", guardian, dependents[i], "--relation", "parent", "--slot", i + 1,
            "--key", key, "--region", "330100", "--trust", folder, "--at", AT, "--out", out,
        )  # fmt: skip
        assert out.is_file() and f"slot {i + 1}" in result.output
        bindings.append(out)
    return Family(folder, key, untrusted, guardian, stranger, dependents, bindings, tmp)


def test_family_commands_have_help() -> None:
    for sub in ("bind", "check", "export", "verify", "show"):
        assert "Usage:" in run("family", sub, "--help").output
    assert "--paper" in run("issue", "--help").output


def test_bind_then_check(fam: Family) -> None:
    binding = fam.bindings[0]
    out = run(
        "family", "check", fam.dependents[0], "--binding", binding, "--trust", fam.trust,
        "--guardian", fam.guardian, "--at", AT,
    ).output  # fmt: skip
    assert out.startswith("VALID  GREEN  李*0  parent of the guardian, slot 1  guardian 李* checked")
    alone = run("family", "check", fam.dependents[0], "--binding", binding, "--trust", fam.trust, "--at", AT)
    assert "guardian NOT checked" in alone.output
    payload = json.loads(
        run(
            "family", "check", fam.dependents[0], "--binding", binding, "--trust", fam.trust,
            "--guardian", fam.guardian, "--at", AT, "--json",
        ).output
    )  # fmt: skip
    assert payload["valid"] and payload["relation"] == "parent" and payload["slot"] == 1
    assert payload["guardian_checked"] and payload["guardian"]["name"] == "李*"
    assert payload["dependent"]["name"] == "李*0" and payload["dependent"]["region"] == "310100"
    # The binding holds no personal data in clear.
    for clear in ("李四".encode(), "李老0".encode(), b"1950-01-01", b"3301**"):
        assert clear not in binding.read_bytes()


def test_check_refuses_the_wrong_people(fam: Family) -> None:
    binding = fam.bindings[0]
    wrong_guardian = run(
        "family", "check", fam.dependents[0], "--binding", binding, "--trust", fam.trust,
        "--guardian", fam.stranger, "--at", AT, code=1,
    )  # fmt: skip
    assert wrong_guardian.output.startswith("INVALID  [binding_mismatch]")
    payload = json.loads(
        run(
            "family", "check", fam.stranger, "--binding", binding, "--trust", fam.trust,
            "--at", AT, "--json", code=1,
        ).output
    )  # fmt: skip
    assert payload == {"valid": False, "error": "binding_mismatch", "message": payload["message"]}
    later = run(
        "family", "check", fam.dependents[0], "--binding", binding, "--trust", fam.trust,
        "--at", (CHECKED + timedelta(days=2)).isoformat(), code=1,
    )  # fmt: skip
    assert "[expired]" in later.output  # the dependent's code lives a day
    not_a_binding = run(
        "family", "check", fam.dependents[0], "--binding", fam.dependents[1], "--trust", fam.trust,
        "--at", AT, code=1,
    )  # fmt: skip
    assert "[bad_binding]" in not_a_binding.output


def test_binding_from_an_untrusted_key(fam: Family, world: World) -> None:
    # `family bind` checks what it signed against --trust and writes nothing it would refuse.
    out = fam.tmp / "untrusted.cose"
    refused = run(
        "family", "bind", fam.guardian, fam.dependents[0], "--relation", "parent", "--slot", 1,
        "--key", fam.untrusted, "--region", "330100", "--trust", fam.trust, "--at", AT, "--out", out,
        code=1,
    )  # fmt: skip
    assert refused.output.startswith("error: [unknown_kid]") and not out.exists()
    assert len(refused.output.strip().splitlines()) == 1
    # One signed elsewhere with a key the trust list does not hold is invalid.
    out.write_bytes(
        make_binding(
            GUARDIAN, dependent(0), Relation.PARENT, generate_key(Alg.ES256), region="330100", slot=1,
            issued_at=ISSUED,
        )
    )  # fmt: skip
    checked = run(
        "family", "check", fam.dependents[0], "--binding", out, "--trust", fam.trust,
        "--guardian", fam.guardian, "--at", AT, code=1,
    )  # fmt: skip
    assert checked.output.startswith("INVALID  [unknown_kid]")
    # A key granted for Zhejiang cannot register a Shanghai binding.
    outside = run(
        "family", "bind", fam.guardian, fam.dependents[0], "--relation", "child", "--slot", 2,
        "--key", fam.key, "--region", "310100", "--trust", fam.trust, "--at", AT, "--out", out, code=1,
    )  # fmt: skip
    assert outside.output.startswith("error: [region_not_allowed]")


def test_bind_refuses_bad_requests(fam: Family) -> None:
    base = ["family", "bind", fam.guardian, fam.dependents[0], "--key", fam.key, "--region", "330100",
            "--trust", fam.trust, "--out", fam.tmp / "x.cose"]  # fmt: skip
    assert "slot" in run(*base, "--relation", "parent", "--slot", 9, "--at", AT, code=2).output
    assert run(*base, "--relation", "cousin", "--slot", 1, "--at", AT, code=2).exit_code == 2
    late = run(*base, "--relation", "parent", "--slot", 1, "--at", (CHECKED + timedelta(days=2)).isoformat(),
               code=1)  # fmt: skip
    assert late.output.startswith("error: [expired]")
    itself = run(
        "family", "bind", fam.guardian, fam.guardian, "--key", fam.key, "--region", "330100",
        "--trust", fam.trust, "--out", fam.tmp / "x.cose", "--relation", "other", "--slot", 1, "--at", AT,
        code=1,
    )  # fmt: skip
    assert itself.output.startswith("error: [bad_input]") and "own dependent" in itself.output
    assert not (fam.tmp / "x.cose").exists()


def _export(fam: Family, count: int, out: Path) -> Result:
    members = []
    for i in range(count):
        members += ["--member", f"{fam.dependents[i]}={fam.bindings[i]}"]
    return run("family", "export", fam.guardian, *members, "--out", out)


@pytest.mark.parametrize("count", [2, 8])
def test_export_verify_round_trip(fam: Family, count: int) -> None:
    out = fam.tmp / f"family-{count}{FAMILY_SUFFIX}"
    assert f"{count} dependents" in _export(fam, count, out).output
    lines = run("family", "verify", out, "--trust", fam.trust, "--at", AT).output.splitlines()
    assert lines[0] == f"VALID  family of 李* (GREEN, region 330100): {count} dependents"
    assert len(lines) == 1 + count
    assert lines[1].split() == ["slot", "1", "parent", "李*0", "GREEN", "until", "2026-11-24T08:00:00+00:00"]
    payload = json.loads(run("family", "verify", out, "--trust", fam.trust, "--at", AT, "--json").output)
    assert set(payload) == {"valid", "guardian", "dependents"} and payload["valid"] is True
    assert payload["guardian"]["name"] == "李*" and payload["guardian"]["kind"] == "health_status"
    assert [d["slot"] for d in payload["dependents"]] == list(range(1, count + 1))
    first = payload["dependents"][0]
    assert first["relation"] == "parent" and first["dependent"]["name"] == "李*0"
    assert first["dependent"]["status"] == "green" and "guardian" not in first
    shown = run("family", "show", out).output.splitlines()
    assert shown[0] == f"UNVERIFIED  family bundle of 李*: {count} dependents (no signature checked)"
    assert shown[1].split()[:4] == ["slot", "1", "parent", "李*0"] and len(shown) == 1 + count
    as_json = json.loads(run("family", "show", out, "--json").output)
    assert as_json["verified"] is False and as_json["count"] == count
    assert as_json["guardian"]["name"] == "李*" and as_json["dependents"][1]["slot"] == 2
    assert as_json["dependents"][1]["relation"] == "parent"
    # Verified later than the codes live, the bundle is invalid.
    late = (CHECKED + timedelta(days=2)).isoformat()
    assert run("family", "verify", out, "--trust", fam.trust, "--at", late, code=1).output.startswith(
        "INVALID  [expired]"
    )


def test_nine_members_are_refused(fam: Family, world: World) -> None:
    out = fam.tmp / f"nine{FAMILY_SUFFIX}"
    members = []
    for i in range(9):
        members += ["--member", f"{fam.dependents[i]}={fam.bindings[i % 8]}"]
    refused = run("family", "export", fam.guardian, *members, "--out", out, code=1)
    assert refused.output.startswith("error: [too_many_dependents]") and not out.exists()
    # A file holding 9 (not written by healthcred) is refused by verify and show too.
    texts = [p.read_text().strip() for p in fam.dependents]
    out.write_bytes(
        dumps({1: FAMILY_MAGIC, 2: 1, 3: world.code(subject=GUARDIAN)[1],
               4: [[texts[i], fam.bindings[i % 8].read_bytes()] for i in range(9)]})
    )  # fmt: skip
    assert "[too_many_dependents]" in run("family", "verify", out, "--trust", fam.trust, code=1).output
    assert run("family", "show", out, code=1).output.startswith("error: [too_many_dependents]")


def test_tampered_or_inconsistent_files_are_refused(fam: Family) -> None:
    good = fam.tmp / f"good{FAMILY_SUFFIX}"
    _export(fam, 2, good)
    data = good.read_bytes()
    cut = fam.tmp / f"cut{FAMILY_SUFFIX}"
    cut.write_bytes(data[:-40])
    verified = run("family", "verify", cut, "--trust", fam.trust, "--at", AT, code=1)
    assert verified.output.startswith("INVALID  [bad_binding]")
    assert json.loads(
        run("family", "verify", cut, "--trust", fam.trust, "--at", AT, "--json", code=1).output
    )["error"] == "bad_binding"  # fmt: skip
    shown = run("family", "show", cut, code=1)
    assert shown.output.startswith("error: [bad_binding]") and len(shown.output.strip().splitlines()) == 1
    magic = fam.tmp / f"magic{FAMILY_SUFFIX}"
    magic.write_bytes(data.replace(FAMILY_MAGIC.encode(), b"healthcred-famili"))
    assert "[bad_binding]" in run("family", "verify", magic, "--trust", fam.trust, "--at", AT, code=1).output
    # A binding byte flipped inside an otherwise well-formed file: the signature no longer holds.
    binding = fam.bindings[1].read_bytes()
    flipped = binding[:-1] + bytes((binding[-1] ^ 1,))
    forged = fam.tmp / f"forged{FAMILY_SUFFIX}"
    forged.write_bytes(data.replace(binding, flipped))
    assert (
        "[bad_signature]" in run("family", "verify", forged, "--trust", fam.trust, "--at", AT, code=1).output
    )
    # The same slot twice.
    twice = fam.tmp / f"twice{FAMILY_SUFFIX}"
    run("family", "export", fam.guardian, "--member", f"{fam.dependents[0]}={fam.bindings[0]}",
        "--member", f"{fam.dependents[0]}={fam.bindings[0]}", "--out", twice)  # fmt: skip
    assert "[bad_binding]" in run("family", "verify", twice, "--trust", fam.trust, "--at", AT, code=1).output
    # A binding whose guardian is someone else.
    other = fam.tmp / f"other{FAMILY_SUFFIX}"
    run(
        "family", "export", fam.stranger, "--member", f"{fam.dependents[0]}={fam.bindings[0]}", "--out", other
    )
    assert (
        "[binding_mismatch]"
        in run("family", "verify", other, "--trust", fam.trust, "--at", AT, code=1).output
    )


def test_export_usage_and_input_errors(fam: Family) -> None:
    out = fam.tmp / f"bad{FAMILY_SUFFIX}"
    assert run("family", "export", fam.guardian, "--member", "no-equals", "--out", out, code=2).exit_code == 2
    nowhere = f"{fam.dependents[0]}=nope.cose"
    missing = run("family", "export", fam.guardian, "--member", nowhere, "--out", out, code=2)
    assert "does not exist" in missing.output
    foreign = run("family", "export", "HC1:6BF+70790T9WJWG.FKY*4GO0", "--member",
                  f"{fam.dependents[0]}={fam.bindings[0]}", "--out", out, code=1)  # fmt: skip
    assert foreign.output.startswith("error: [bad_input]") and not out.exists()
    not_cose = run("family", "export", fam.guardian, "--member", f"{fam.dependents[0]}={fam.guardian}",
                   "--out", out, code=1)  # fmt: skip
    assert foreign.output.count("\n") == 1 and not_cose.output.startswith("error: [bad_binding]")
    assert not_cose.output.count("\n") == 1 and str(fam.guardian) in not_cose.output


# --- issue --paper -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A trust folder valid now (issue has no issue-time option), an issuer key and an ID-check key."""
    tmp = tmp_path_factory.mktemp("paper")
    root, issuer = generate_key(Alg.EDDSA), generate_key(Alg.ES256)
    now = datetime.now(UTC)
    start, end = int((now - timedelta(days=1)).timestamp()), int((now + timedelta(days=400)).timestamp())
    data = signed_list(
        root, [KeyGrant(issuer.public_key(), "330000", start, end)],
        issued_at=now - timedelta(days=1), expires_at=now + timedelta(days=30),
    )  # fmt: skip
    key, id_key = tmp / "issuer.key.pem", tmp / "id-check.json"
    save_private_key(issuer, key)
    save_id_key(generate_id_key("330000"), id_key)
    return trust_folder(tmp, root, data), key, id_key


def _issue(
    key: Path, *extra: object, number: str = resident_id("33010619400308002"), code: int = 0
) -> Result:
    return run(
        "issue", "--key", key, "--status", "green", "--name", "王秀英", "--birth-date", "1940-03-08",
        "--doc-number", number, "--region", "330106", *extra, code=code,
    )  # fmt: skip


def test_issue_paper_then_verify(paper_env: tuple[Path, Path, Path], tmp_path: Path) -> None:
    trust, key, id_key = paper_env
    png = tmp_path / "paper.png"
    number = resident_id("33010619400308002")
    text = _issue(key, "--paper", "--id-key", id_key, "--png", png).stdout.strip()
    assert text.startswith("JKM1:") and png.is_file()
    payload = json.loads(run("verify", "--trust", trust, "--json", png).output)["results"][0]
    assert payload["kind"] == "paper" and payload["id_tag"] is True and payload["id_check_required"]
    assert payload["document_number"] == number[:4] + "*" * 10 + number[-4:]
    lifetime = datetime.fromisoformat(payload["expires_at"]) - datetime.fromisoformat(payload["issued_at"])
    assert lifetime == timedelta(days=14)
    assert "VALID  GREEN  王*英" in run("verify", "--trust", trust, text).output
    # The tag answers for the number it was issued to, under the ID-check key, and no other.
    result = verify(text, load_trust(trust))
    assert check_id(result, number, load_id_key(id_key))
    assert not check_id(result, resident_id("33010619400308003"), load_id_key(id_key))
    # Lifetime: --valid-days, else the status rules' paper_valid_days.
    rules = tmp_path / "status.json"
    rules.write_text(json.dumps({**DEFAULT_STATUS_RULES, "paper_valid_days": 21}), encoding="utf-8")
    for extra, days in (
        (["--valid-days", 30], 30),
        (["--status-rules", rules], 21),
        (["--status-rules", rules, "--valid-days", 3], 3),
    ):
        issued = _issue(key, "--paper", "--id-key", id_key, *extra).stdout.strip()
        summary = json.loads(run("verify", "--trust", trust, "--json", issued).output)["results"][0]
        assert datetime.fromisoformat(summary["expires_at"]) - datetime.fromisoformat(
            summary["issued_at"]
        ) == timedelta(days=days)
    # Health codes are unchanged: kind health_status, no tag.
    plain = json.loads(run("verify", "--trust", trust, "--json", _issue(key).stdout.strip()).output)[
        "results"
    ][0]
    assert plain["kind"] == "health_status" and plain["id_tag"] is False


def test_issue_paper_errors(paper_env: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, key, id_key = paper_env
    assert "--id-key" in _issue(key, "--paper", code=2).output  # usage error, exit 2
    assert _issue(key, "--id-key", id_key, code=2).exit_code == 2  # --id-key without --paper
    assert _issue(key, "--valid-days", 3, code=2).exit_code == 2
    assert _issue(key, "--paper", "--id-key", id_key, "--valid-days", 181, code=2).exit_code == 2
    assert _issue(key, "--paper", "--id-key", id_key, "--valid-hours", 48, code=2).exit_code == 2
    typo = _issue(key, "--paper", "--id-key", id_key, number="330106194003080021", code=1)
    assert typo.output.startswith("error: [bad_id_number]") and typo.output.count("\n") == 1
    rules = tmp_path / "status.json"
    rules.write_text("{not json", encoding="utf-8")
    bad_rules = _issue(key, "--paper", "--id-key", id_key, "--status-rules", rules, code=3)
    assert bad_rules.output.startswith("error: [bad_input]")
    rules.write_text(json.dumps({**DEFAULT_STATUS_RULES, "paper_valid_days": 400}), encoding="utf-8")
    too_long = _issue(key, "--paper", "--id-key", id_key, "--status-rules", rules, code=3)
    assert too_long.output.startswith("error: [invalid_rule]")
    not_a_key = _issue(key, "--paper", "--id-key", rules, code=3)  # setup: exit 3
    assert not_a_key.output.startswith("error: [bad_key]")


def test_bind_refuses_an_existing_out_without_force_and_reports_json(fam: Family) -> None:
    out = fam.tmp / "again.cose"
    base = ["family", "bind", fam.guardian, fam.dependents[0], "--relation", "parent", "--slot", 1,
            "--key", fam.key, "--region", "330100", "--trust", fam.trust, "--at", AT,
            "--out", out]  # fmt: skip
    first = json.loads(run(*base, "--json").output)
    assert first["file"] == str(out) and first["bytes"] == len(out.read_bytes())
    assert (first["relation"], first["slot"], first["region"]) == ("parent", 1, "330100")
    assert first["expires_at"].endswith("+00:00") and first["guardian"] == "李*"
    before = out.read_bytes()
    refused = run(*base, code=2)
    assert refused.output == f"error: {out} exists; refusing to overwrite it (--force replaces it)\n"
    assert out.read_bytes() == before
    replaced = json.loads(run(*base, "--force", "--json").output)
    assert replaced["binding_id"] != first["binding_id"] and out.read_bytes() != before


def test_export_refuses_an_existing_out_without_force_and_reports_json(fam: Family) -> None:
    out = fam.tmp / f"again{FAMILY_SUFFIX}"
    base = [
        "family",
        "export",
        fam.guardian,
        "--member",
        f"{fam.dependents[0]}={fam.bindings[0]}",
        "--out",
        out,
    ]
    assert json.loads(run(*base, "--json").output) == {
        "file": str(out), "bytes": out.stat().st_size, "dependents": 1, "verified": False,
    }  # fmt: skip
    out.write_bytes(b"mine")
    assert "exists" in run(*base, code=2).output and out.read_bytes() == b"mine"
    run(*base, "--force")
    assert out.read_bytes() != b"mine"


def test_a_broken_trust_folder_is_setup_not_an_invalid_code(fam: Family) -> None:
    empty = fam.tmp / "no-trust"
    empty.mkdir(exist_ok=True)
    checked = run(
        "family", "check", fam.dependents[0], "--binding", fam.bindings[0], "--trust", empty, code=3
    )
    assert checked.output.startswith("error: [trust_store_error] --trust:")
    bundle = fam.tmp / f"setup{FAMILY_SUFFIX}"
    run(
        "family",
        "export",
        fam.guardian,
        "--member",
        f"{fam.dependents[0]}={fam.bindings[0]}",
        "--out",
        bundle,
    )
    shown = json.loads(run("family", "verify", bundle, "--trust", empty, "--json", code=3).stdout)
    assert shown["exit"] == 3 and shown["error"]["code"] == "trust_store_error"
