"""Issuing commands refuse what no verifier would accept, before signing; --json, --force, batch checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from healthcred.cli.batch import _Progress
from healthcred.cli.main import main
from tests.helpers.cli import run

HOLDER = ["--name", "张三", "--birth-date", "1990-01-01", "--doc-number", "33010619900101123X"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo folder: a trust folder granting zhejiang 330000 and shanghai 310000, their keys."""
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def issue(demo: Path, *args: object, key: str = "zhejiang", code: int = 0) -> Result:
    return run("issue", "--key", demo / "keys" / f"{key}.key.pem", *HOLDER, *args, code=code)


def test_issue_refuses_a_region_outside_gbt_2260_naming_value_and_rule(demo: Path) -> None:
    out = issue(demo, "--status", "green", "--region", "999999", code=2).output
    assert "999999" in out and "province" in out and "JKM1:" not in out
    out = issue(demo, "--status", "green", "--region", "330001", code=2).output
    assert "330001" in out and "prefecture" in out


def test_issue_refuses_validity_past_the_status_rule_set_with_the_limit(demo: Path) -> None:
    out = issue(demo, "--status", "green", "--region", "330100", "--valid-hours", "100000", code=2).output
    assert "at most 24 hours" in out and "100000" in out and "JKM1:" not in out
    out = issue(demo, "--status", "yellow", "--region", "330100", "--valid-hours", "169", code=2).output
    assert "at most 168 hours" in out
    assert issue(demo, "--status", "yellow", "--region", "330100", "--valid-hours", "168").output


def test_issue_with_trust_refuses_a_region_the_key_is_not_granted(demo: Path) -> None:
    result = issue(demo, "--status", "green", "--region", "310000", "--trust", demo / "trust", code=1)
    assert "region_not_allowed" in result.output and "refused to sign" in result.output
    assert "JKM1:" not in result.output


def test_issue_with_trust_refuses_a_key_the_trust_does_not_hold(demo: Path, tmp_path: Path) -> None:
    run("keygen", "stranger", "--dir", tmp_path)
    result = run(
        "issue", "--key", tmp_path / "stranger.key.pem", *HOLDER, "--status", "green", "--region", "330100",
        "--trust", demo / "trust", code=1,
    )  # fmt: skip
    assert "unknown_kid" in result.output and "JKM1:" not in result.output


def test_issue_with_trust_signs_what_verifies_and_says_so_in_json(demo: Path, tmp_path: Path) -> None:
    png = tmp_path / "c.png"
    result = issue(
        demo, "--status", "green", "--region", "330106", "--trust", demo / "trust", "--png", png, "--json"
    )
    summary = json.loads(result.stdout)
    assert summary["grant_checked"] is True and summary["files"] == [str(png)] and png.is_file()
    assert summary["region"] == "330106" and summary["kind"] == "health_status"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", summary["expires_at"])
    run("verify", "--trust", demo / "trust", summary["text"])


def test_issue_without_trust_warns_that_the_grant_was_not_checked(demo: Path) -> None:
    result = issue(demo, "--status", "green", "--region", "310000")
    assert "not checked" in result.stderr and result.stdout.startswith("JKM1:")


def test_issue_refuses_to_overwrite_a_png_without_force(demo: Path, tmp_path: Path) -> None:
    png = tmp_path / "c.png"
    png.write_bytes(b"mine")
    out = issue(demo, "--status", "green", "--region", "330100", "--png", png, code=2).output
    assert "--force" in out and png.read_bytes() == b"mine"
    issue(demo, "--status", "green", "--region", "330100", "--png", png, "--force")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_paper_issue_checks_the_grant_too(demo: Path) -> None:
    paper = ["--paper", "--id-key", demo / "keys" / "id-check.json", "--status", "red"]
    result = issue(demo, *paper, "--region", "310000", "--trust", demo / "trust", code=1)
    assert "region_not_allowed" in result.output
    summary = json.loads(
        issue(demo, *paper, "--region", "330106", "--trust", demo / "trust", "--json").stdout
    )
    assert summary["kind"] == "paper" and summary["grant_checked"] is True


def test_an_unusable_signing_key_is_a_setup_failure(demo: Path) -> None:
    out = run(
        "issue", "--key", demo / "keys" / "id-check.json", *HOLDER, "--status", "green", "--region", "330100",
        code=3,
    ).output  # fmt: skip
    assert "signing key" in out and "Traceback" not in out


def place(demo: Path, *args: object, key: str = "zhejiang", code: int = 0) -> Result:
    return run(
        "place", "issue", "--key", demo / "keys" / f"{key}.key.pem", "--venue-id", "v1", "--name", "店",
        "--scene", "mall", *args, code=code,
    )  # fmt: skip


def test_place_issue_refuses_bad_regions_and_ungranted_keys(demo: Path) -> None:
    assert "999999" in place(demo, "--region", "999999", code=2).output
    out = place(demo, "--region", "330106", "--trust", demo / "trust", key="shanghai", code=1).output
    assert "region_not_allowed" in out and "JKP1:" not in out


def test_place_issue_json_has_iso_times_and_verifies(demo: Path) -> None:
    summary = json.loads(place(demo, "--region", "330106", "--trust", demo / "trust", "--json").stdout)
    assert summary["grant_checked"] is True and summary["issued_at"].endswith("+00:00")
    run("place", "verify", "--trust", demo / "trust", summary["text"])


def test_keygen_json_names_the_files_and_kid(tmp_path: Path) -> None:
    summary = json.loads(run("keygen", "k", "--dir", tmp_path, "--json").stdout)
    assert summary["alg"] == "EdDSA" and len(summary["kid"]) == 16
    assert Path(summary["private"]).is_file() and Path(summary["public"]).is_file()


def test_print_json_and_refuses_to_overwrite(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    code = (demo / "codes" / "green-hangzhou.txt").read_text().strip()
    summary = json.loads(run("print", code, "--trust", demo / "trust", "--out", out, "--json").stdout)
    assert summary == {
        "out": str(out),
        "format": "pdf",
        "layout": "card",
        "codes": 1,
        "bytes": out.stat().st_size,
    }
    assert "--force" in run("print", code, "--trust", demo / "trust", "--out", out, code=2).output
    run("print", code, "--trust", demo / "trust", "--out", out, "--force")


def _csv(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("name,birth_date,document_number,status,region\n" + "".join(rows)).encode(encoding))
    return path


GOOD = "张三,1990-01-01,33010619900101123X,green,330106\n"


def test_batch_without_id_key_for_paper_rows_fails_once_before_signing(demo: Path, tmp_path: Path) -> None:
    source = _csv(tmp_path / "rows.csv", [GOOD] * 3)
    out = tmp_path / "out"
    result = run("batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--out", out, code=3)
    assert result.output.count("ID-check key") == 1 and "id_check_unavailable" in result.output
    assert not (out / "codes").exists() or not list((out / "codes").glob("*.txt"))


def test_batch_refuses_a_file_as_out_folder(demo: Path, tmp_path: Path) -> None:
    source = _csv(tmp_path / "rows.csv", [GOOD])
    result = run("batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--out", source, code=2)
    assert "is a file" in result.output and not (tmp_path / "codes").exists()


@pytest.mark.parametrize(
    ("encoding", "name"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gb18030", "gb18030")]
)
def test_batch_reads_utf8_bom_and_gb18030_and_says_which(
    demo: Path, tmp_path: Path, encoding: str, name: str
) -> None:
    source = _csv(tmp_path / "rows.csv", [GOOD], encoding)
    result = run(
        "batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--kind", "health", "--out",
        tmp_path / "out", "--no-pdf", "--workers", "0", "--json",
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["encoding"] == name and summary["issued"] == 1
    text = next((tmp_path / "out" / "codes").glob("*.txt")).read_text().strip()
    assert "张*" in run("verify", "--trust", demo / "trust", text).output


def test_batch_refuses_a_binary_source_in_one_line(demo: Path, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(b"\xff\xfe\x80\x00" * 100)
    result = run(
        "batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--out", tmp_path / "o", code=1
    )
    assert "not UTF-8 or GB18030" in result.output and "Traceback" not in result.output


def test_batch_rows_refused_in_user_terms_with_trust(demo: Path, tmp_path: Path) -> None:
    rows = [
        GOOD,
        "李四,1990-01-01,33010619900101123X,green,999999\n",
        "王五,1990-13-01,33010619900101123X,green,330106\n",
        "赵六,1990-01-01,33010619900101123X,green,310000\n",
        "钱七,1990-01-01,33010619900101123X,yellow,330106\n",
    ]
    source = tmp_path / "rows.csv"
    source.write_text(
        "name,birth_date,document_number,status,region,valid_days\n"
        + "".join(r.rstrip("\n") + (",8\n" if "钱七" in r else ",1\n") for r in rows),
        encoding="utf-8",
    )
    result = run(
        "batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--kind", "health", "--out",
        tmp_path / "out", "--no-pdf", "--workers", "0", "--trust", demo / "trust", "--json", code=1,
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["issued"] == 1 and summary["grant_checked"] is True
    messages = {row["row"]: (row["code"], row["message"]) for row in summary["bad_rows"]}
    assert "999999" in messages[2][1] and "province" in messages[2][1]
    assert messages[3][1].startswith("birth_date: '1990-13-01'") and "[" not in messages[3][1]
    assert messages[4][0] == "region_not_allowed"
    assert "at most 7 days" in messages[5][1]
    for _, message in messages.values():
        assert "^" not in message and "pydantic" not in message


def test_batch_with_trust_and_an_unknown_key_stops_before_the_first_row(demo: Path, tmp_path: Path) -> None:
    run("keygen", "stranger", "--dir", tmp_path)
    source = _csv(tmp_path / "rows.csv", [GOOD] * 5)
    result = run(
        "batch", source, "--key", tmp_path / "stranger.key.pem", "--kind", "health", "--out", tmp_path / "o",
        "--trust", demo / "trust", code=1,
    )  # fmt: skip
    assert result.output.count("unknown_kid") == 1
    assert (
        not (tmp_path / "o" / "journal.jsonl").exists() or not (tmp_path / "o" / "journal.jsonl").read_text()
    )


def test_batch_progress_when_piped_prints_counts_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    progress = _Progress(quiet=False, tty=False, interval=0.0)
    progress("issue", 256, 1000)
    progress("issue", 1000, 1000)
    progress("pdf", 3, 3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("signing: 256/1000 (25%), ") and lines[0].endswith(" codes/s")
    assert lines[1].startswith("signing: 1000/1000 (100%)")
    assert lines[2].startswith("PDF sheets: 3/3 (100%)") and lines[2].endswith("PDFs/s")


def test_batch_progress_when_piped_is_periodic_not_per_call(capsys: pytest.CaptureFixture[str]) -> None:
    progress = _Progress(quiet=False, tty=False, interval=3600.0)
    for done in range(1, 100):
        progress("codes", done, 100)
    progress("codes", 100, 100)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("texts + PNGs: 100/100 (100%)")


def test_batch_human_summary_reports_signing_rate_apart_from_pdfs(demo: Path, tmp_path: Path) -> None:
    source = _csv(tmp_path / "rows.csv", [GOOD])
    result = run(
        "batch", source, "--key", demo / "keys" / "zhejiang.key.pem", "--kind", "health", "--out",
        tmp_path / "out", "--workers", "0", "--quiet",
    )  # fmt: skip
    assert re.search(
        r"read as utf-8, 1 issued now.*signed at \d+ codes/s.*1 PDFs in [\d.]+ s; total", result.stdout
    )
