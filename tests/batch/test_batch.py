"""Batch issuance: CSV and JSONL, bad rows reported, exactly-once resume after interruption, family sheets."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pypdfium2 as pdfium
import pytest
import segno
from click.testing import CliRunner
from PIL import Image

import healthcred
from healthcred.batch.run import run_batch
from healthcred.cli.main import main
from healthcred.codec.qr import qr_version, read_qr
from healthcred.crypto.keys import save_private_key
from healthcred.errors import BadIdNumber, BadInput, IdCheckUnavailable
from healthcred.flows.idcheck import generate_id_key, save_id_key
from tests.helpers.folders import trust_folder
from tests.helpers.world import CHECKED, ISSUED, World

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_KEY = generate_id_key("330000")
NAMES = ["张三丰", "李四", "王小明", "欧阳娜娜", "赵钱孙", "周杰伦"]
NAMES += ["吴彦祖", "郑爽", "钱学森", "孙中山", "陈景润", "林徽因"]
HEADER = ["name", "birth_date", "document_number", "status", "region", "valid_days", "household"]


def resident_id(index: int) -> str:
    body = f"33010619500101{index % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def rows(count: int, household: str | None = None) -> list[dict[str, str]]:
    return [
        {
            "name": NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)),
            "birth_date": "1950-01-01",
            "document_number": resident_id(i),
            "status": ("green", "yellow", "red")[i % 3],
            "region": ("330100", "330106", "330200")[i % 3],
            "valid_days": "14",
            "household": household or "",
        }
        for i in range(count)
    ]


def write_csv(path: Path, items: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, HEADER)
        writer.writeheader()
        writer.writerows(items)
    return path


def journal(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]


def check_complete(out: Path, expected: int, world: World) -> list[dict[str, object]]:
    """Every row journaled exactly once, its .txt and .png present and equal to the journal, no temp files."""
    entries = journal(out)
    identities = [e["id"] for e in entries]
    assert len(identities) == len(set(identities)) == expected
    assert len({e["row"] for e in entries}) == expected
    assert not list(out.rglob(".*.tmp"))
    for entry in entries:
        stem = out / "codes" / str(entry["stem"])
        assert stem.with_suffix(".txt").read_text().rstrip("\n") == entry["text"]
        assert stem.with_suffix(".png").stat().st_size > 0
    sample = entries[0]
    png = (out / "codes" / f"{sample['stem']}.png").read_bytes()
    assert healthcred.verify(png, world.store, at=CHECKED).credential.kind is healthcred.CredentialKind.PAPER
    return entries


def test_csv_batch_writes_texts_pngs_and_reports_bad_rows(tmp_path: Path, world: World) -> None:
    items = rows(6)
    items[2]["document_number"] = items[2]["document_number"][:-1] + (
        "0" if items[2]["document_number"][-1] != "0" else "1"
    )
    items[4]["status"] = "purple"
    items.append(dict(items[0]))  # the same line twice: issued once
    items.append({**items[1], "document_number": resident_id(40), "valid_days": "181"})
    out = tmp_path / "out"
    summary = run_batch(
        write_csv(tmp_path / "in.csv", items),
        out,
        world.zhejiang,
        id_key=ID_KEY,
        pdf=False,
        workers=0,
        issued_at=ISSUED,
    )
    assert summary.rows == 8 and summary.issued == 4 and summary.rendered == 4
    bad = {b.row: b.code for b in summary.bad}
    assert bad == {3: BadIdNumber.code, 5: "bad_input", 7: "bad_input", 8: "bad_input"}
    assert "duplicate of row 1" in next(b.message for b in summary.bad if b.row == 7)
    assert "180" in next(b.message for b in summary.bad if b.row == 8)
    report = list(csv.DictReader(io.StringIO((out / "report.csv").read_text())))
    assert [(int(r["row"]), int(r["line"]), r["code"]) for r in report] == [
        (3, 4, "bad_id_number"),
        (5, 6, "bad_input"),
        (7, 8, "bad_input"),
        (8, 9, "bad_input"),
    ]
    check_complete(out, 4, world)


def test_batch_pngs_are_the_issued_text_at_segnos_version_and_level(tmp_path: Path, world: World) -> None:
    """zxing-cpp's PNGs read back to the text and equal segno's level-Q symbol; only the mask may differ."""
    out = tmp_path / "out"
    run_batch(
        write_csv(tmp_path / "in.csv", rows(12)),
        out,
        world.zhejiang,
        id_key=ID_KEY,
        pdf=False,
        workers=0,
        issued_at=ISSUED,
    )
    for entry in journal(out):
        text = str(entry["text"])
        png = (out / "codes" / f"{entry['stem']}.png").read_bytes()
        assert read_qr(png) == text
        picture = Image.open(io.BytesIO(png)).convert("L")
        size = picture.width // 4 - 8  # scale 4, quiet zone 4 modules, as render_qr's defaults
        assert size == 17 + 4 * qr_version(text, "Q")
        modules = tuple(
            tuple(cast(int, picture.getpixel((4 * (x + 4) + 1, 4 * (y + 4) + 1))) < 128 for x in range(size))
            for y in range(size)
        )
        matches = [
            m
            for m in range(8)
            if tuple(
                tuple(bool(v) for v in row)
                for row in segno.make_qr(text, error="Q", boost_error=False, mask=m).matrix
            )
            == modules
        ]
        assert len(matches) == 1  # segno, forced to zxing-cpp's mask, writes the very same symbol


def test_jsonl_batch_and_kinds(tmp_path: Path, world: World) -> None:
    lines = [json.dumps({k: v for k, v in row.items() if v}, ensure_ascii=False) for row in rows(3)]
    lines.insert(1, "")  # blank lines are skipped
    lines.append(
        '{"name": "王五", "birth_date": "1950", "document_type": "passport", "document_number": "E1234567",'
        ' "status": "green", "region": "330100", "kind": "health", "valid_days": 1}'
    )
    lines.append("[1, 2]")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_batch(
        source, tmp_path / "out", world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED
    )
    assert summary.issued == 4 and [(b.row, b.line) for b in summary.bad] == [(5, 6)]
    kinds = {
        healthcred.verify(str(e["text"]), world.store, at=CHECKED).credential.kind
        for e in journal(tmp_path / "out")
    }
    assert kinds == {healthcred.CredentialKind.PAPER, healthcred.CredentialKind.HEALTH_STATUS}


def test_strict_refuses_before_signing(tmp_path: Path, world: World) -> None:
    items = rows(4)
    items[3]["region"] = "33"
    with pytest.raises(BadInput, match="row 4"):
        run_batch(
            write_csv(tmp_path / "in.csv", items),
            tmp_path / "out",
            world.zhejiang,
            id_key=ID_KEY,
            strict=True,
            workers=0,
            issued_at=ISSUED,
        )
    assert not (tmp_path / "out" / "journal.jsonl").exists()


def test_paper_rows_need_the_id_key_and_headers_are_checked(tmp_path: Path, world: World) -> None:
    # Once for the run, before anything is signed: not once per row.
    with pytest.raises(IdCheckUnavailable, match=r"row 1 \(line 2\) is a paper code"):
        run_batch(write_csv(tmp_path / "in.csv", rows(2)), tmp_path / "out", world.zhejiang, workers=0)
    assert not (tmp_path / "out" / "journal.jsonl").exists()
    (tmp_path / "odd.csv").write_text("name,birthday\nx,1950\n", encoding="utf-8")
    with pytest.raises(BadInput, match="unknown: birthday"):
        run_batch(tmp_path / "odd.csv", tmp_path / "out2", world.zhejiang, workers=0, issued_at=ISSUED)


class Interrupted(Exception):
    pass


def test_resume_after_interruption_issues_every_row_once(tmp_path: Path, world: World) -> None:
    source = write_csv(tmp_path / "in.csv", rows(600))
    out = tmp_path / "out"

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "issue" and done >= 512:  # two chunks signed and journaled, their files partly written
            raise Interrupted

    with pytest.raises(Interrupted):
        run_batch(
            source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=2, progress=stop, issued_at=ISSUED
        )
    assert len(journal(out)) == 512
    again = run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=2, issued_at=ISSUED)
    assert again.already == 512 and again.issued == 88 and again.rendered >= 88
    check_complete(out, 600, world)
    third = run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED)
    assert third.issued == 0 and third.rendered == 0 and third.already == 600


def test_torn_journal_tail_is_dropped_and_damage_refused(tmp_path: Path, world: World) -> None:
    source = write_csv(tmp_path / "in.csv", rows(5))
    out = tmp_path / "out"
    run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED)
    path = out / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]) + lines[3][:40])  # died while writing the 4th line
    (out / "codes" / f"{json.loads(lines[4])['stem']}.png").unlink()
    again = run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED)
    assert again.already == 3 and again.issued == 2
    check_complete(out, 5, world)
    path.write_bytes(b"{broken\n" + path.read_bytes())
    with pytest.raises(BadInput, match="damaged at line 1"):
        run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED)


def test_kill_9_mid_run_then_resume(tmp_path: Path, world: World) -> None:
    """A real interruption: the CLI in a subprocess, killed with SIGKILL once rows are journaled."""
    source = write_csv(tmp_path / "in.csv", rows(3000))
    key, id_key = tmp_path / "k.pem", tmp_path / "id.json"
    save_private_key(world.zhejiang, key)
    save_id_key(ID_KEY, id_key)
    out = tmp_path / "out"
    command = [
        "batch",
        str(source),
        "--key",
        str(key),
        "--id-key",
        str(id_key),
        "--out",
        str(out),
        "--no-pdf",
        "--quiet",
        "--issued",
        ISSUED.isoformat(),
    ]
    runner = [
        sys.executable,
        "-c",
        "import sys; from healthcred.cli.main import main; sys.argv[0]='healthcred'; main()",
        *command,
    ]
    process = subprocess.Popen(
        runner, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    journal_path = out / "journal.jsonl"
    while time.monotonic() < deadline and process.poll() is None:
        if journal_path.exists() and journal_path.stat().st_size > 0:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the batch and its render workers, as a crash would
    process.wait()
    before = len(journal_path.read_bytes().splitlines()) if journal_path.exists() else 0
    assert 0 < before < 3000, "the run was not interrupted after journaling its first rows"
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    check_complete(out, 3000, world)


def test_family_sheets_group_households_8_per_sheet(tmp_path: Path, world: World) -> None:
    items = rows(10, household="H/1") + rows(2)[:1]
    items[-1]["document_number"] = resident_id(99)
    out = tmp_path / "out"
    summary = run_batch(
        write_csv(tmp_path / "in.csv", items), out, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED
    )
    assert summary.issued == 11 and summary.sheets == 3
    sheets = sorted(p.name for p in (out / "sheets").glob("*.pdf"))
    family = [s for s in sheets if s.startswith("family-")]
    assert len(family) == 2 and all(s.startswith("family-H_1-") for s in family)  # "/" made safe
    assert len([s for s in sheets if s.startswith("card-")]) == 1
    counts = []
    for name in family:
        page = pdfium.PdfDocument(out / "sheets" / name)[0]
        counts.append(page.get_textpage().get_text_range().count("请持本人身份证件核验"))
    assert sorted(counts) == [2, 8]
    # A rerun writes nothing again; a household that grows gets new sheets and loses the stale one.
    assert (
        run_batch(tmp_path / "in.csv", out, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED).sheets
        == 0
    )
    grown = [*items, {**rows(1, household="H/1")[0], "document_number": resident_id(77), "name": "新成员"}]
    more = run_batch(
        write_csv(tmp_path / "in.csv", grown), out, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED
    )
    assert more.issued == 1 and more.sheets == 1
    assert len(list((out / "sheets").glob("family-*.pdf"))) == 2


def test_cli_batch(tmp_path: Path, world: World) -> None:
    key, id_key = tmp_path / "k.pem", tmp_path / "id.json"
    save_private_key(world.zhejiang, key)
    save_id_key(ID_KEY, id_key)
    items = rows(3)
    items[1]["birth_date"] = "1950-02-30"
    source = write_csv(tmp_path / "in.csv", items)
    result = CliRunner().invoke(
        main,
        [
            "batch",
            str(source),
            "--key",
            str(key),
            "--id-key",
            str(id_key),
            "--out",
            str(tmp_path / "out"),
            "--no-pdf",
            "--workers",
            "0",
            "--issued",
            ISSUED.isoformat(),
        ],
    )
    assert result.exit_code == 1
    assert "3 rows read as utf-8, 2 issued now" in result.output
    assert "row 2 (line 3): [bad_input]" in result.output
    result = CliRunner().invoke(main, ["batch", "--help"])
    assert result.exit_code == 0 and "household" in result.output


def test_paper_lifetime_is_set_by_the_status_rule_set(tmp_path: Path, world: World) -> None:
    from datetime import timedelta

    from healthcred.errors import InvalidRule
    from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet

    assert StatusRuleSet(DEFAULT_STATUS_RULES).paper_lifetime == timedelta(days=14)
    month = StatusRuleSet({**DEFAULT_STATUS_RULES, "paper_valid_days": 30})
    for too_long in (0, 181):
        with pytest.raises(InvalidRule):
            StatusRuleSet({**DEFAULT_STATUS_RULES, "paper_valid_days": too_long})
    items = rows(2)
    for item in items:
        item["valid_days"] = ""  # the rule decides
    source = write_csv(tmp_path / "in.csv", items)
    run_batch(source, tmp_path / "out", world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED,
              rules=month)  # fmt: skip
    for entry in journal(tmp_path / "out"):
        result = healthcred.verify(str(entry["text"]), world.store, at=CHECKED)
        assert result.expires_at == ISSUED + timedelta(days=30)
    # The same through issue_paper, and through the CLI's --status-rules.
    credential = healthcred.HealthCode.create(
        subject=healthcred.Subject.create("李四", "1950-01-01", healthcred.DocumentType.RESIDENT_ID_CARD,
                                          resident_id(7)),
        status=healthcred.GREEN, region="330100", kind=healthcred.CredentialKind.PAPER, issued_at=ISSUED,
    )  # fmt: skip
    text = healthcred.issue_paper(
        credential, world.zhejiang, id_number=resident_id(7), id_key=ID_KEY, rules=month
    )
    assert healthcred.verify(text, world.store, at=CHECKED).expires_at == ISSUED + timedelta(days=30)
    key, id_key, rules_file = tmp_path / "k.pem", tmp_path / "id.json", tmp_path / "status.json"
    save_private_key(world.zhejiang, key)
    save_id_key(ID_KEY, id_key)
    rules_file.write_text(json.dumps({**DEFAULT_STATUS_RULES, "paper_valid_days": 60}), encoding="utf-8")
    args = ["batch", str(source), "--key", str(key), "--id-key", str(id_key), "--out", str(tmp_path / "cli"),
            "--no-pdf", "--workers", "0", "--issued", ISSUED.isoformat(), "--quiet"]  # fmt: skip
    assert CliRunner().invoke(main, [*args, "--status-rules", str(rules_file)]).exit_code == 0
    for entry in journal(tmp_path / "cli"):
        result = healthcred.verify(str(entry["text"]), world.store, at=CHECKED)
        assert result.expires_at == ISSUED + timedelta(days=60)
    rules_file.write_text("{not json", encoding="utf-8")
    out = CliRunner().invoke(main, [*args, "--status-rules", str(rules_file)])
    assert out.exit_code == 3 and "bad_input" in out.output  # the issuer's rule set: setup


def test_cli_print_card_and_family_sheet(tmp_path: Path, world: World) -> None:
    trust = trust_folder(tmp_path, world.root, world.trust_list)
    texts = [world.code()[1] for _ in range(3)]
    png_path = tmp_path / "one.png"
    png_path.write_bytes(healthcred.render_qr(texts[0]))
    runner = CliRunner()
    at = ["--trust", str(trust), "--at", CHECKED.isoformat()]
    out = runner.invoke(main, ["print", str(png_path), *at, "--out", str(tmp_path / "card.pdf")])
    assert out.exit_code == 0, out.output
    assert "card" in out.output
    out = runner.invoke(main, ["print", *texts, *at, "--out", str(tmp_path / "family.png")])
    assert out.exit_code == 0 and "family sheet of 3" in out.output
    import zxingcpp  # read_qr refuses an image of several codes; zxing-cpp lists them all

    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # not a 1D look-alike in the art
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "family.png"), formats=qr_only)
    assert {b.text for b in found} == set(texts)
    page = pdfium.PdfDocument(str(tmp_path / "card.pdf"))[0]
    assert read_qr(page.render(scale=300 / 72).to_pil()) == texts[0]
    # Forged or foreign codes are not printed.
    out = runner.invoke(main, ["print", texts[0][:-4] + "AAAA", *at, "--out", str(tmp_path / "x.pdf")])
    assert out.exit_code == 1 and not (tmp_path / "x.pdf").exists()
    out = runner.invoke(main, ["print", texts[0], *at, "--out", str(tmp_path / "x.txt")])
    assert out.exit_code == 2


def test_outputs_a_power_loss_left_short_are_rewritten_on_resume(tmp_path: Path, world: World) -> None:
    # Outputs are not fsync'd one by one (the journal is): a resume rewrites an empty or short file.
    source = write_csv(tmp_path / "in.csv", rows(4))
    out = tmp_path / "out"
    first = run_batch(source, out, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED)
    assert first.sheets >= 1
    pngs = sorted((out / "codes").glob("*.png"))
    pdfs = sorted((out / "sheets").glob("*.pdf"))
    whole = {p: p.read_bytes() for p in (pngs[0], pngs[1], pdfs[0])}
    pngs[0].write_bytes(b"")  # what delayed allocation leaves after a power loss
    pngs[1].write_bytes(whole[pngs[1]][:-5])  # cut short
    pdfs[0].write_bytes(whole[pdfs[0]][: len(whole[pdfs[0]]) // 2])
    again = run_batch(source, out, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED)
    assert again.issued == 0 and again.rendered == 2 and again.sheets == 1
    assert pngs[0].read_bytes() == whole[pngs[0]] and pngs[1].read_bytes() == whole[pngs[1]]
    assert pdfs[0].read_bytes().rstrip().endswith(b"%%EOF")
    check_complete(out, 4, world)


def test_batch_outputs_are_not_fsynced_one_by_one(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    run_batch(write_csv(tmp_path / "in.csv", rows(40)), tmp_path / "out", world.zhejiang, pdf=False,
              workers=0, issued_at=ISSUED, id_key=ID_KEY)  # fmt: skip
    assert 0 < len(calls) < 10  # the journal and batch.json, not 80 code files
