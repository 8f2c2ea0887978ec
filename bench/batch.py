"""Batch issuance speed: N synthetic residents from CSV to texts + PNGs, and separately to PDF sheets.

Usage::

    python bench/batch.py              # 10,000 codes (about a minute on a 2-core VM)
    python bench/batch.py --quick      # 300 codes, a smoke run; its numbers mean little

What is measured
----------------
* **codes**: ``healthcred.batch.run.run_batch(..., pdf=False)`` end to end on a fresh folder: read
  and validate the CSV, sign (ES256 paper codes, ID tag included), journal (fsync per chunk),
  render every QR with zxing-cpp and write ``.txt`` + ``.png`` (temp file and rename), with the
  default worker count (one per CPU). The rate is codes per wall second. Target: ≥ 600 codes/s
  with 2 render processes on 2 cores. ``batch_throughput(rows, workers)`` is that rate alone.
* **per stage**: the run's own wall times (parse + validate, sign + journal, until the last PNG),
  and per-code CPU costs measured alone in this process on a sample: sign, QR to PNG with
  zxing-cpp, QR to PNG with segno (``render_qr``'s default), write two files.
* **segno ratio**: the same batch with ``encoder="segno"`` on a sample of the rows (segno is
  ~20× slower, so the full count would take minutes); the ratio of the two rates.
* **pdf**: the PDF phase alone (cards for residents without a household, family sheets of up to
  8 for the rest; about half live in households of 2–4), on the folder the codes run wrote.
* **same content**: a sample of the PNGs is read back with ``read_qr`` and compared with the
  journal's text, and its module matrix with segno's at the same level (mask forced to the one
  zxing-cpp chose): equal means same data, version, level; only the mask may differ.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segno
from PIL import Image

import healthcred
from healthcred.batch.run import run_batch
from healthcred.codec.qr import read_qr, render_qr
from healthcred.crypto.algorithms import Alg
from healthcred.crypto.cose import Signer
from healthcred.files import write_atomic
from healthcred.flows.idcheck import generate_id_key

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国文玉珍淑兰凤琴春梅海燕红"
REGIONS = ("330102", "330105", "330106", "330108", "330109", "330110", "330200", "330300")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str, birth: str, sequence: int) -> str:
    """A well-formed resident ID number (GB 11643 check digit) for synthetic data."""
    body = f"{region}{birth.replace('-', '')}{sequence % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def write_csv(path: Path, count: int, seed: int = 7) -> None:
    """``count`` synthetic elderly residents; about half share households of 2–4."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["name", "birth_date", "document_number", "status", "region", "valid_days", "household"]
        )
        row, household = 0, 0
        while row < count:
            size = rng.choice((1, 1, 1, 2, 3, 4))
            household += 1
            for _ in range(min(size, count - row)):
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                birth = f"{rng.randint(1935, 1960)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                region = rng.choice(REGIONS)
                status = rng.choices(("green", "yellow", "red"), (90, 7, 3))[0]
                writer.writerow(
                    [
                        name,
                        birth,
                        resident_id(region, birth, row),
                        status,
                        region,
                        rng.choice((14, 30, 90)),
                        f"H{household}" if size > 1 else "",
                    ]
                )
                row += 1


def batch_throughput(rows: int, workers: int) -> float:
    """Codes per wall second of one batch of ``rows`` synthetic paper codes to texts + PNGs (no PDFs).

    ``run_batch(..., pdf=False, workers=workers)`` on a fresh folder, start-up of its render
    processes included (``workers=0`` renders in this process). A wall rate: it depends on what
    else the machine runs.
    """
    key = healthcred.generate_key(Alg.ES256)
    signer, id_key = Signer.for_key(key), generate_id_key("330000")
    work = Path(tempfile.mkdtemp(prefix="hc-batch-rate-"))
    try:
        source = work / "residents.csv"
        write_csv(source, rows)
        start = time.perf_counter()
        summary = run_batch(source, work / "out", signer, id_key=id_key, pdf=False, workers=workers)
        seconds = time.perf_counter() - start
        assert summary.rendered == rows and not summary.bad, (summary.rendered, summary.bad[:3])
        return rows / seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def per_code(
    texts: list[str], signer: Signer, credentials: list[healthcred.HealthCode], folder: Path
) -> dict[str, float]:
    """Per-code CPU costs in ms, each stage alone on a sample."""

    def timed(action: Callable[[Any], object], items: Sequence[Any]) -> float:
        start = time.perf_counter()
        for item in items:
            action(item)
        return (time.perf_counter() - start) / len(items) * 1e3

    sample = texts[: min(len(texts), 200)]
    folder.mkdir(parents=True, exist_ok=True)

    def write(text: str) -> None:  # as the batch writes a row's two files
        for suffix in (".png", ".txt"):
            write_atomic(folder / f"x{suffix}", text.encode(), durable=False)  # as run_batch writes them

    return {
        "sign (issue ES256 with a Signer)": timed(lambda c: healthcred.issue(c, signer), credentials[:200]),
        "QR → PNG, zxing-cpp": timed(lambda t: render_qr(t, encoder="zxing"), sample),
        "QR → PNG, segno": timed(render_qr, sample[:60]),
        "write .txt + .png (temp + rename)": timed(write, sample),
    }


def journal(out: Path) -> list[dict[str, Any]]:
    """The batch's journal lines."""
    return [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]


def same_content(out: Path, sample: int) -> tuple[int, int, int]:
    """(read back equal, matrix equal to segno's with the same mask, mask differs from segno's choice)."""
    entries = journal(out)[:sample]
    readback = same = other_mask = 0
    for entry in entries:
        png = (out / "codes" / f"{entry['stem']}.png").read_bytes()
        readback += read_qr(png) == entry["text"]
        picture = Image.open(io.BytesIO(png)).convert("L")
        size = picture.width // 4 - 8
        modules = tuple(
            tuple(picture.getpixel((16 + 4 * x + 1, 16 + 4 * y + 1)) < 128 for x in range(size))
            for y in range(size)
        )
        for mask in range(8):
            forced = segno.make_qr(entry["text"], error="Q", boost_error=False, mask=mask)
            if tuple(tuple(bool(v) for v in row) for row in forced.matrix) == modules:
                same += 1
                chosen = segno.make_qr(entry["text"], error="Q", boost_error=False).mask
                other_mask += chosen != mask
                break
    return readback, same, other_mask


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="300 codes")
    parser.add_argument("--workers", type=int, default=None, help="render processes (default: one per CPU)")
    parser.add_argument("--segno-codes", type=int, default=1_000, help="rows for the segno comparison run")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF phase")
    args = parser.parse_args(argv)
    if args.codes < 1 or args.segno_codes < 1:
        parser.error("counts must be ≥ 1")
    count = 300 if args.quick else args.codes
    segno_count = min(count, 100 if args.quick else args.segno_codes)
    print(
        f"python {platform.python_version()}  {platform.machine()}  CPUs {os.cpu_count()}  "
        f"segno {segno.__version__}  codes {count}"
    )
    key = healthcred.generate_key(Alg.ES256)
    signer, id_key = Signer.for_key(key), generate_id_key("330000")
    issued = datetime.now(UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="hc-batch-bench-"))
    try:
        source = work / "residents.csv"
        write_csv(source, count)
        out = work / "out"
        codes = run_batch(
            source, out, signer, id_key=id_key, pdf=False, workers=args.workers, issued_at=issued
        )
        rate = codes.rendered / codes.seconds["total"]
        assert codes.rendered == count and not codes.bad, (codes.rendered, codes.bad[:3])

        sample_source = work / "sample.csv"
        with open(source, encoding="utf-8") as full, open(sample_source, "w", encoding="utf-8") as part:
            part.writelines(line for _, line in zip(range(segno_count + 1), full, strict=False))
        slow = run_batch(
            sample_source,
            work / "segno",
            signer,
            id_key=id_key,
            pdf=False,
            workers=args.workers,
            issued_at=issued,
            encoder="segno",
        )
        segno_rate = slow.rendered / slow.seconds["total"]

        texts = [entry["text"] for entry in journal(out)[:200]]
        credentials = [
            healthcred.HealthCode.create(
                subject=healthcred.Subject.create(
                    "王伟", "1950-01-01", healthcred.DocumentType.PASSPORT, f"E{n:08d}"
                ),
                status=healthcred.GREEN,
                region="330100",
            )
            for n in range(200)
        ]
        stages = per_code(texts, signer, credentials, work / "scratch")
        readback, same, other_mask = same_content(out, min(count, 200))

        print(
            f"\ncodes: {count} rows → texts + PNGs in {codes.seconds['total']:.2f} s = {rate:.0f} codes/s "
            f"(target ≥ 600 on 2 cores: {'met' if rate >= 600 else 'MISSED'})"
        )
        for stage in ("parse", "issue", "codes"):
            spent = codes.seconds[stage]
            print(f"  stage {stage:6} {spent:7.2f} s  {spent / count * 1e3:6.3f} ms/code")
        print(
            f"segno: {segno_count} rows with encoder=segno: {segno_rate:.0f} codes/s; "
            f"zxing-cpp / segno = {rate / segno_rate:.1f}×"
        )
        print("per code, one process:")
        for name, ms in stages.items():
            print(f"  {name:36} {ms:7.3f} ms")
        print(
            f"same content: {readback}/{min(count, 200)} PNGs read back to their text; {same} equal segno's "
            f"matrix at level Q with zxing-cpp's mask; {other_mask} of them with a mask segno would not pick"
        )
        if not args.no_pdf:
            sheets = run_batch(
                source, out, signer, id_key=id_key, pdf=True, workers=args.workers, issued_at=issued
            )
            pdfs = sheets.sheets
            seconds = sheets.seconds["pdf"]
            print(
                f"pdf: {pdfs} PDF files (cards + family sheets) for {count} codes in {seconds:.2f} s = "
                f"{count / seconds:.0f} codes/s, {seconds / pdfs * 1e3:.0f} ms per file"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
