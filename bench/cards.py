"""Printed PDF cards per second: one A6 card per paper code, as batch's PDF phase makes them.

Usage::

    python bench/cards.py                  # 400 cards, 1 and 2 processes
    python bench/cards.py --cards 100      # a shorter run

What is measured
----------------
:func:`cards_per_second` signs ``cards`` distinct ES256 paper codes first (not timed), then
times what a batch worker does for each (``batch.run._render_sheets`` without the file
write): decode the journaled text (``native.text.read_health_code``), lay out the card, encode
the QR with zxing-cpp (batch's encoder) and write the PDF (``printing.render_pdfs``, one card a
file), in groups of 40 as batch sends them to its workers.

* ``workers=1``: in this process, timed with ``time.process_time`` (CPU seconds, so the rate
  holds on a loaded machine): cards per CPU second of one process.
* ``workers=2`` (or more): a ``ProcessPoolExecutor`` with the platform's default start method,
  as batch's rendering pool (fork on Linux, so this file may be loaded under any module name;
  under spawn the workers import it by its module name). The pool is warmed up first (every
  worker has read the font), then the groups are mapped over it: cards per wall second. On a
  machine shared with other work this is a floor; say "measured under load" when quoting it.

Target (issue 15): ≥ 200 cards a second on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

_GROUP = 40  # cards a task, as batch.run groups its PDFs
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文玉珍淑凤琴春梅海燕红"
_REGIONS = ("330102", "330105", "330106", "330108", "330200", "310104")


def _resident_id(index: int) -> str:
    body = f"33010619{50 + index % 10}0101{index % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def paper_codes(count: int) -> list[str]:
    """``count`` distinct signed paper codes (ES256, ID tag included), names and regions varied."""
    from healthcred import GREEN, Alg, CredentialKind, DocumentType, HealthCode, Subject, generate_key
    from healthcred.flows.idcheck import generate_id_key
    from healthcred.flows.issue import issue_paper

    key, id_key = generate_key(Alg.ES256), generate_id_key("330000")
    issued = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    texts = []
    for index in range(count):
        name = (
            _SURNAMES[index % len(_SURNAMES)] + _GIVEN[index * 7 % len(_GIVEN)] + _GIVEN[index % len(_GIVEN)]
        )
        number = _resident_id(index)
        credential = HealthCode.create(
            subject=Subject.create(name, "1950-01-01", DocumentType.RESIDENT_ID_CARD, number),
            status=GREEN,
            region=_REGIONS[index % len(_REGIONS)] if index % 2 else "330100",
            kind=CredentialKind.PAPER,
            issued_at=issued,
            valid_for=timedelta(days=14),
        )
        texts.append(issue_paper(credential, key, id_number=number, id_key=id_key))
    return texts


def render_group(texts: Sequence[str]) -> int:
    """One batch task's work without the file writes: a card PDF per text; returns the bytes made."""
    from healthcred.native.text import read_health_code
    from healthcred.printing import render_pdfs

    sheets = [[(text, read_health_code(text))] for text in texts]
    return sum(len(pdf) for pdf in render_pdfs(sheets, encoder="zxing"))


def _groups(texts: Sequence[str]) -> list[Sequence[str]]:
    return [texts[start : start + _GROUP] for start in range(0, len(texts), _GROUP)]


def cards_per_second(cards: int, workers: int) -> float:
    """Printed PDF cards a second: per CPU second for ``workers=1``, per wall second (a pool) above."""
    if cards < 1 or workers < 1:
        raise ValueError("cards and workers must be at least 1")
    texts = paper_codes(cards)
    if workers == 1:
        render_group(texts[:2])  # imports and the font read, outside the timing
        start = time.process_time()
        for group in _groups(texts):
            render_group(group)
        return cards / (time.process_time() - start)
    context = multiprocessing.get_context()  # as batch.run's rendering pool
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(render_group, [texts[:2]] * workers * 2))  # start every worker, read the font
        start = time.perf_counter()
        list(pool.map(render_group, _groups(texts)))
        return cards / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Print the one-process and the pool rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    one = cards_per_second(args.cards, 1)
    print(f"1 process: {one:.0f} cards per CPU second ({1000 / one:.2f} ms CPU a card)")
    pool = cards_per_second(args.cards, args.workers)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.workers} processes: {pool:.0f} cards per wall second (load average {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
