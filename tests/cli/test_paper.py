"""Paper codes end to end at the gate: `idkey`, the ID number on verify, decide and log record."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import click
import pytest
from click.testing import Result

from healthcred.cli import holder
from healthcred.flows.idcheck import load_id_key
from tests.helpers.cli import run

# The demo's paper code is issued to this resident ID number (cli/demo.py `_GRANDMOTHER`).
NUMBER = "330106194205081229"
OTHER = "330106194205081210"  # a well-formed number (its check digit is right), not hers
MISTYPED = "330106194205081220"  # wrong check digit


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run("demo", "--out", out)
    return out


@pytest.fixture(scope="module")
def place(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = run(
        "place", "issue", "--key", demo / "keys" / "zhejiang.key.pem", "--venue-id", "hz-gate-1",
        "--name", "社区北门", "--region", "330106", "--scene", "mall",
    ).stdout.strip()  # fmt: skip
    path = tmp_path_factory.mktemp("place") / "place.txt"
    path.write_text(text + "\n")
    return path


def _paper(demo: Path) -> Path:
    return demo / "codes" / "paper-grandmother.txt"


def _id_key(demo: Path) -> Path:
    return demo / "keys" / "id-check.json"


# --- idkey -------------------------------------------------------------------------------------


def test_idkey_new_writes_a_0600_key_in_a_new_folder_and_show_prints_its_id(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "id.json"
    made = json.loads(run("idkey", "new", path, "--region", "330000", "--json").output)
    key = load_id_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert made["key_id"] == key.key_id.hex() and made["region"] == "330000"
    assert made["region_name"] == {"zh": "浙江省", "en": "Zhejiang"}
    shown = run("idkey", "show", path)
    assert key.key_id.hex() in shown.output and "浙江省" in shown.output
    assert json.loads(run("idkey", "show", path, "--json").output) == made
    for output in (shown.output, json.dumps(made)):
        assert key.secret.hex() not in output


def test_idkey_new_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    path = tmp_path / "id.json"
    run("idkey", "new", path)
    before = path.read_bytes()
    refused = run("idkey", "new", path, code=2)
    assert "--force" in refused.output and path.read_bytes() == before
    run("idkey", "new", path, "--force")
    assert path.read_bytes() != before and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_idkey_new_refuses_a_region_outside_the_table(tmp_path: Path) -> None:
    assert "GB/T 2260" in run("idkey", "new", tmp_path / "a.json", "--region", "999999", code=2).output
    assert "6-digit" in run("idkey", "new", tmp_path / "b.json", "--region", "33", code=2).output
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "b.json").exists()


def test_idkey_show_reads_a_key_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "id.json"
    run("idkey", "new", path)
    shown = json.loads(run("idkey", "show", "-", "--json", stdin=path.read_text()).output)
    assert shown["key_id"] == load_id_key(path).key_id.hex() and shown["mode"] is None
    assert "stdin" in run("idkey", "show", "-", stdin="{}", code=3).output
    assert "`-` is not one" in run("idkey", "new", "-", code=2).output


@pytest.mark.parametrize("content", [b"", b"\x00\xff" * 100, b"{}", b"x" * 10_000], ids=str)
def test_idkey_show_of_an_unusable_file_is_exit_3(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "id.json"
    path.write_bytes(content)
    failed = run("idkey", "show", path, code=3)
    assert "[bad_key]" in failed.output and str(path) in failed.output
    assert "[bad_key]" in run("idkey", "show", tmp_path / "missing.json", code=3).output


# --- verify --------------------------------------------------------------------------------------


def test_verify_says_a_paper_code_needs_an_id_check(demo: Path) -> None:
    out = run("verify", "--trust", demo / "trust", _paper(demo)).output.splitlines()
    assert out[0].startswith("VALID  GREEN  王*英  region 330106 浙江省杭州市西湖区")
    assert out[1].strip() == "纸质码 — 请核验证件 / paper code — check the holder's ID document"
    assert "not checked" in out[2]
    plain = run("verify", "--trust", demo / "trust", demo / "codes" / "green-hangzhou.txt").output
    assert "纸质码" not in plain and "ID 证件" not in plain


def test_verify_checks_the_id_number_against_the_tag(demo: Path) -> None:
    trust, key = demo / "trust", _id_key(demo)
    matched = run("verify", "--trust", trust, _paper(demo), "--id-key", key, "--id-number", NUMBER)
    assert "ID 证件: matched" in matched.output
    spaced = " ".join((NUMBER[:6], NUMBER[6:14], NUMBER[14:]))  # as printed on the card
    assert (
        "matched"
        in run("verify", "--trust", trust, _paper(demo), "--id-key", key, "--id-number", spaced).output
    )
    wrong = run(
        "verify", "--trust", trust, _paper(demo), "--id-key", key, "--id-number", OTHER, "--json", code=1
    )
    payload = json.loads(wrong.output)
    assert payload["valid"] is False
    assert payload["results"][0]["valid"] is True and payload["results"][0]["id_check"] == "mismatch"


def test_verify_reads_the_id_number_from_stdin(demo: Path) -> None:
    args = ("verify", "--trust", demo / "trust", _paper(demo), "--id-key", _id_key(demo), "--id-number", "-")
    assert "matched" in run(*args, stdin=NUMBER + "\n").output
    assert "no ID number" in run(*args, stdin="", code=2).output
    both = ("verify", "--trust", demo / "trust", "-", "--id-key", _id_key(demo), "--id-number", "-")
    assert "only one input: CODE 1 and --id-number are both `-`" in run(*both, stdin=NUMBER, code=2).output


def test_verify_id_options_are_checked(demo: Path, tmp_path: Path) -> None:
    trust = demo / "trust"
    assert "--id-key" in run("verify", "--trust", trust, _paper(demo), "--id-number", NUMBER, code=2).output
    mistyped = run(
        "verify", "--trust", trust, _paper(demo), "--id-key", _id_key(demo), "--id-number", MISTYPED, code=2
    )
    assert "check digit" in mistyped.output
    missing = run("verify", "--trust", trust, _paper(demo), "--id-key", tmp_path / "none.json", code=3)
    assert "[bad_key] ID-check key" in missing.output
    other = tmp_path / "other.json"
    run("idkey", "new", other, "--region", "330000")  # a key, but not the one the code is tagged under
    unknown = run("verify", "--trust", trust, _paper(demo), "--id-key", other, "--id-number", NUMBER, code=3)
    assert "[id_check_unavailable]" in unknown.output


def test_verify_asks_for_the_number_at_a_terminal(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(holder, "_stdin_is_tty", lambda: True)
    args = ("verify", "--trust", demo / "trust", _paper(demo), "--id-key", _id_key(demo))
    asked = run(*args, stdin=f"{MISTYPED}\n{NUMBER}\n")  # a typo is asked again
    assert "证件号码" in asked.output and "type it again" in asked.output and "matched" in asked.output
    assert "no valid ID number" in run(*args, stdin=f"{MISTYPED}\n" * 3, code=2).output
    plain = run(
        "verify", "--trust", demo / "trust", demo / "codes" / "green-hangzhou.txt", "--id-key", _id_key(demo)
    )
    assert "证件号码" not in plain.output  # only a paper code asks


def test_verify_json_is_one_object_for_one_code_and_for_many(demo: Path) -> None:
    trust, green = demo / "trust", demo / "codes" / "green-hangzhou.txt"
    one = json.loads(run("verify", "--trust", trust, green, "--json").output)
    assert one["valid"] is True and [r["input"] for r in one["results"]] == [str(green)]
    many = json.loads(
        run("verify", "--trust", trust, green, "JKM1:abc", _paper(demo), "--json", code=1).output
    )
    assert many["valid"] is False
    assert [r["input"] for r in many["results"]] == [str(green), "JKM1:abc", str(_paper(demo))]
    assert [r["valid"] for r in many["results"]] == [True, False, True]
    assert many["results"][1]["error"] == "bad_base45" and many["results"][2]["id_check"] == "not_checked"


def test_verify_unreadable_file_is_a_result_and_the_others_still_verify(demo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    green = demo / "codes" / "green-hangzhou.txt"
    payload = json.loads(run("verify", "--trust", demo / "trust", broken, green, "--json", code=1).output)
    assert [r["valid"] for r in payload["results"]] == [False, True]
    assert payload["results"][0]["error"] == "bad_image" and str(broken) in payload["results"][0]["message"]


def test_verify_names_the_file_of_an_invalid_code(demo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    line = run("verify", "--trust", demo / "trust", empty, code=1).output
    assert line.startswith(f"INVALID  [bad_prefix] {empty}: ")
    assert run("verify", "--trust", demo / "trust", "JKM1:abc", code=1).output.count("JKM1:abc") == 0


def test_verify_times_are_iso_with_offset(demo: Path) -> None:
    line = run("verify", "--trust", demo / "trust", demo / "codes" / "green-hangzhou.txt").output
    until = line.split("until ")[1].split()[0]
    assert until.endswith("+00:00") and "T" in until


def test_verify_of_a_trust_folder_that_does_not_load_is_exit_3(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "trust" / "anchors").mkdir(parents=True)
    (tmp_path / "trust" / "anchors" / "root.pem").write_bytes(b"not a key")
    failed = run("verify", "--trust", tmp_path / "trust", demo / "codes" / "green-hangzhou.txt", code=3)
    assert failed.output.startswith("error: [") and "INVALID" not in failed.output
    as_json = json.loads(run("verify", "--trust", tmp_path / "trust", "x", "--json", code=3).stdout)
    assert as_json["exit"] == 3


# --- decide ----------------------------------------------------------------------------------------


def _decide(demo: Path, code: object, *extra: object, exit_code: int = 0) -> Result:
    return run(
        "decide",
        code,
        "--trust",
        demo / "trust",
        "--scene",
        "mall",
        "--level",
        "high",
        *extra,
        code=exit_code,
    )


def test_decide_never_admits_a_paper_code_whose_id_was_not_checked(demo: Path) -> None:
    unchecked = _decide(demo, _paper(demo), exit_code=1).output
    assert unchecked.startswith("CHECK_ID 核验证件") and "ADMIT" not in unchecked
    assert "纸质码 — 请核验证件" in unchecked and "--id-key KEY --id-number NUMBER" in unchecked
    with_key = _decide(demo, _paper(demo), "--id-key", _id_key(demo), exit_code=1).output
    assert with_key.startswith("CHECK_ID") and "run again with --id-number NUMBER" in with_key
    payload = json.loads(_decide(demo, _paper(demo), "--json", exit_code=1).output)
    assert payload["outcome"] == "check_id" and payload["rule"] == "id_not_checked"
    assert payload["id_check_required"] is True and payload["id_check"] == "not_checked"


def test_decide_admits_a_paper_code_whose_number_matches_and_denies_another(demo: Path) -> None:
    key = ("--id-key", _id_key(demo))
    admitted = _decide(demo, _paper(demo), *key, "--id-number", NUMBER).output
    assert admitted.startswith("ADMIT 通行") and "ID 证件: matched" in admitted
    denied = json.loads(_decide(demo, _paper(demo), *key, "--id-number", OTHER, "--json", exit_code=1).output)
    assert (
        denied["outcome"] == "deny" and denied["rule"] == "id_mismatch" and denied["id_check"] == "mismatch"
    )


def test_decide_a_health_code_needs_no_id(demo: Path) -> None:
    assert _decide(demo, demo / "codes" / "green-hangzhou.txt").output.startswith("ADMIT 通行")
    red = _decide(demo, demo / "codes" / "red-ningbo.png", exit_code=1).output
    assert red.startswith("DENY 禁止") and "纸质码" not in red


def test_decide_reads_code_as_every_command(demo: Path) -> None:
    text = (demo / "codes" / "green-hangzhou.txt").read_text().strip()
    for code, stdin in ((demo / "codes" / "green-hangzhou.txt", None), ("-", text + "\n"), (text, None)):
        out = run(
            "decide",
            code,
            "--trust",
            demo / "trust",
            "--scene",
            "mall",
            "--level",
            "high",
            "--json",
            stdin=stdin,
        )
        assert json.loads(out.output)["outcome"] == "admit"
        assert "BytesIO" not in out.output


def test_decide_denies_an_unreadable_code_file_in_one_line_naming_it(demo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    failed = _decide(demo, broken, exit_code=1)
    assert failed.stdout.startswith("DENY 禁止") and failed.stdout.count("\n") == 1 and not failed.stderr
    assert "[bad_image]" in failed.stdout and failed.stdout.count(str(broken)) == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert f"{empty}: " in _decide(demo, empty, exit_code=1).stdout  # read, but no code: still named


def test_decide_without_a_policy_or_with_an_expired_list_is_exit_3(demo: Path) -> None:
    late = _decide(demo, demo / "codes" / "green-hangzhou.txt", "--at", "2099-01-01T00:00:00Z", exit_code=3)
    assert "[rule_set_unavailable]" in late.output
    # The policy valid, the trust list not yet: the verifier, not the person, is at fault.
    early = _decide(demo, demo / "codes" / "green-hangzhou.txt", "--at", "2000-01-01T00:00:00Z", exit_code=3)
    assert early.output.startswith("error: [")


def test_decide_options_have_help() -> None:
    helped = run("decide", "--help").output
    for option in ("--scene", "--at", "--json", "--id-key", "--id-number"):
        assert option in helped
    assert "The kind of place" in helped and "Validation" in helped


# --- log -----------------------------------------------------------------------------------------


def test_log_record_checks_the_paper_code_holder(demo: Path, place: Path, tmp_path: Path) -> None:
    db, log_key = tmp_path / "scans.db", tmp_path / "keys" / "log.key"
    run("log", "init", db, "--key", log_key)
    common = ("--key", log_key, "--trust", demo / "trust", "--place", place, "--level", "high")
    unchecked = run("log", "record", db, _paper(demo), *common, code=1).output
    assert unchecked.startswith("CHECK_ID 核验证件") and "ADMIT" not in unchecked
    key = ("--id-key", _id_key(demo))
    admitted = json.loads(
        run("log", "record", db, _paper(demo), *common, *key, "--id-number", NUMBER, "--json").output
    )
    assert (
        admitted["outcome"] == "admit" and admitted["logged"] == "admit" and admitted["id_check"] == "matched"
    )
    assert admitted["place"] == "hz-gate-1" and admitted["at"].endswith("+00:00")
    denied = run("log", "record", db, _paper(demo), *common, *key, "--id-number", OTHER, code=1).output
    assert denied.startswith("DENY 禁止") and "[id_mismatch]" in denied
    rows = [json.loads(line) for line in run("log", "export", db, "--key", log_key).stdout.splitlines()]
    assert [(r["outcome"], r["error"]) for r in rows] == [
        ("error", "id_not_checked"),
        ("admit", None),
        ("deny", None),
    ]
    assert len({r["credential"] for r in rows}) == 1  # all three rows trace to the one paper code


def test_log_init_creates_the_key_folder(tmp_path: Path) -> None:
    db, key = tmp_path / "db" / "scans.db", tmp_path / "secret" / "keys" / "log.key"
    assert "new log key" in run("log", "init", db, "--key", key).output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and db.is_file()


def test_log_stats_of_an_empty_log_says_so(tmp_path: Path) -> None:
    db, key = tmp_path / "scans.db", tmp_path / "log.key"
    run("log", "init", db, "--key", key)
    out = run("log", "stats", db, "--key", key).output
    assert "None" not in out and "empty" in out
    assert json.loads(run("log", "stats", db, "--key", key, "--json").output)["first"] is None


def test_log_export_and_purge_report_as_json(demo: Path, place: Path, tmp_path: Path) -> None:
    db, key = tmp_path / "scans.db", tmp_path / "log.key"
    run("log", "init", db, "--key", key)
    green = demo / "codes" / "green-hangzhou.txt"
    run("log", "record", db, green, "--key", key, "--trust", demo / "trust", "--place", place)
    out = tmp_path / "rows.csv"
    report = json.loads(
        run("log", "export", db, "--key", key, "--format", "csv", "--out", out, "--json").output
    )
    assert report == {"rows": 1, "format": "csv", "out": str(out)} and len(out.read_text().splitlines()) == 2
    assert "--force" in run("log", "export", db, "--key", key, "--out", out, code=2).output
    run("log", "export", db, "--key", key, "--out", out, "--force")
    assert "--out" in run("log", "export", db, "--key", key, "--json", code=2).output
    purged = json.loads(
        run("log", "purge", db, "--key", key, "--at", "2099-01-01T00:00:00Z", "--json").output
    )
    assert purged["purged"] == 1 and purged["days"] == 21 and purged["before"] == "2098-12-11T00:00:00+00:00"


def test_log_never_creates_a_log_outside_init(tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    run("log", "init", tmp_path / "scans.db", "--key", key)
    (tmp_path / "empty.db").write_bytes(b"")
    for db in (tmp_path / "missing.db", tmp_path / "empty.db"):
        assert "log init" in run("log", "stats", db, "--key", key, code=3).output
    assert not (tmp_path / "missing.db").exists()
    assert "stdin" in run("log", "stats", "-", "--key", key, code=2).output
    assert (
        json.loads(
            run("log", "stats", tmp_path / "scans.db", "--key", "-", "--json", stdin=key.read_text()).output
        )["rows"]
        == 0
    )  # the key may come from stdin


def test_log_with_a_missing_or_wrong_key_is_exit_3(tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    run("log", "init", db, "--key", tmp_path / "one.key")
    (tmp_path / "bad.key").write_text("not hex\n")
    for key in (tmp_path / "missing.key", tmp_path / "bad.key"):
        assert "[bad_key] log key" in run("log", "stats", db, "--key", key, code=3).output


@pytest.mark.parametrize("sub", ["init", "record", "export", "purge", "stats"])
def test_log_options_all_have_help(sub: str) -> None:
    from healthcred.cli.log import log

    options = [p for p in log.commands[sub].params if isinstance(p, click.Option)]
    assert options and [o.name for o in options if not o.help] == []
