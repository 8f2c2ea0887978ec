"""Batch issuance: codes for every row of a CSV or JSONL file, as texts, PNGs and PDF sheets; resumable.

A community printing paper codes for thousands of residents runs one batch
into an output folder::

    out/batch.json            the batch id (written once; a rerun into the folder resumes it)
    out/journal.jsonl         one line per issued row: its identity and the issued text (fsync'd)
    out/codes/000001-1a2b3c4d.txt, .png   per row: the text and the QR (zxing-cpp, level Q)
    out/sheets/card-000001-1a2b3c4d.pdf   per person without a household: an A6 card
    out/sheets/family-H17-1-5e6f7a8b.pdf  per household: A4 family sheets of up to 8 codes
    out/report.csv            the rows that could not be issued: row, line, error code, message

**Exactly once.** A row's identity is a hash of the batch id and the row's
raw input record. Rows are signed in chunks; a chunk's journal lines are
written and fsync'd *before* any of its files are written, so a row whose
files exist is always in the journal, and a row in the journal is never
signed again: a rerun (after ``kill -9``, a power cut or a fixed input)
skips journaled identities and re-renders from the journal whatever files
are missing. A torn last journal line (the process died while writing it)
belongs to a chunk whose files were never written; it is dropped. Every file
is written under a temporary dot-name, fsync'd and renamed into place
(:func:`healthcred.files.write_atomic`), so no reader ever sees half a file.

Rendering (the QR, PNG and PDF) runs in worker processes, or in any
:class:`concurrent.futures.Executor` given (a Dask client's ``get_executor()``):
its tasks are plain functions and data, and their results are counts; the main
process parses, validates, signs and writes the journal, alone. See ``docs/printing.md``. Reading the
input into rows is :mod:`healthcred.batch.rows`; the journal and the folder's
own files are :mod:`healthcred.batch.journal`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from healthcred.batch.journal import (
    BATCH_FILE_FORMAT,
    JOURNAL_FORMAT,
    Entry,
    append_entries,
    clean_temporaries,
    codes_present,
    open_batch,
    read_journal,
    sheet_present,
    write_report,
)
from healthcred.batch.render import render_codes
from healthcred.batch.rows import (
    COLUMNS,
    KINDS,
    MAX_LINE,
    BadRow,
    Kind,
    Row,
    input_format,
    read_records,
    row_credential,
    row_household,
    source_encoding,
)
from healthcred.codec.qr import Encoder, check_encoder
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.cose import Signer
from healthcred.errors import (
    BadInput,
    BadKey,
    HealthCredError,
    IdCheckUnavailable,
    TrustConflict,
    UnknownKid,
    WorkerFailed,
)
from healthcred.files import write_atomic
from healthcred.flows.idcheck import IdCheckKey
from healthcred.flows.issue import check_grant, issue, issue_paper
from healthcred.model import PAPER_LIFETIME, CredentialKind, HealthCode
from healthcred.native.text import read_health_code
from healthcred.printing.cards import MAX_FAMILY, check_glyphs, render_pdfs
from healthcred.rules.status import DEFAULT_STATUS_RULES, StatusRuleSet
from healthcred.trust.store import TrustStore
from healthcred.workers import check_executor, process_context, refused_work, worker_count

__all__ = [
    "BATCH_FILE_FORMAT",
    "COLUMNS",
    "JOURNAL_FORMAT",
    "BadRow",
    "BatchSummary",
    "run_batch",
]

_CHUNK = 256  # rows signed and fsync'd together: one fsync per chunk, not per row


@dataclass(slots=True)
class BatchSummary:
    """What one run of :func:`run_batch` did."""

    batch_id: str
    rows: int = 0
    """Records in the input."""
    issued: int = 0
    """Rows signed in this run."""
    already: int = 0
    """Rows found in the journal (issued by an earlier run) and not signed again."""
    rendered: int = 0
    """Rows whose text and PNG were written in this run (new, or missing after an interruption)."""
    sheets: int = 0
    """PDF files written in this run."""
    bad: list[BadRow] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage: ``parse``, ``issue`` (sign + journal), ``codes`` (to the last PNG), ``pdf``."""
    encoding: str = "utf-8"
    """The encoding the source was read in (``utf-8`` or ``gb18030``, see ``rows.source_encoding``)."""
    grant_checked: bool = False
    """Whether every row was checked against the key's grant in a trust store before signing."""

    def signing_rate(self) -> float:
        """Codes signed (and journaled) per second of signing: PDF and PNG time excluded."""
        seconds = self.seconds.get("issue", 0.0)
        return self.issued / seconds if seconds else 0.0

    def codes_rate(self) -> float:
        """Rows signed and written as text and PNG per second, to the last PNG (PDF time excluded)."""
        seconds = self.seconds.get("codes", 0.0)
        return self.rendered / seconds if seconds else 0.0


# --- rendering (in worker processes: codes in batch.render, sheets here) ------------------------


SheetsTask = tuple[str, Sequence[tuple[str, Sequence[str]]], Encoder]
"""(output folder, [(file name, texts), …], encoder): one task of :func:`_render_sheets`."""


def _render_sheets(task: SheetsTask) -> int:
    """Write a group of PDFs (name, texts): a card for one text, a family sheet for several (≤ 8)."""
    out, group, encoder = task
    # Texts this batch signed (from the journal): decoded, not verified.
    sheets = [[(text, read_health_code(text)) for text in texts] for _, texts in group]
    for (name, _), data in zip(group, render_pdfs(sheets, encoder=encoder), strict=True):
        write_atomic(Path(out) / "sheets" / name, data, durable=False)  # checked on resume: sheet_present
    return len(group)


def _safe(name: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", name)[:32]
    return safe if safe == name else f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def _plan_sheets(entries: Sequence[Entry]) -> dict[str, list[str]]:
    """Every PDF the journal calls for: file name → texts, a card per person, sheets of ≤ 8 per household."""
    plan: dict[str, list[str]] = {}
    households: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (e.row, e.identity)):
        if entry.household is None:
            plan[f"card-{entry.stem}.pdf"] = [entry.text]
        else:
            households.setdefault(entry.household, []).append(entry)
    for household, members in households.items():
        for start in range(0, len(members), MAX_FAMILY):
            part = members[start : start + MAX_FAMILY]
            # The members' identities are in the name: a household that grows gets new sheets.
            digest = hashlib.sha256("".join(m.identity for m in part).encode()).hexdigest()[:8]
            plan[f"family-{_safe(household)}-{start // MAX_FAMILY + 1}-{digest}.pdf"] = [m.text for m in part]
    return plan


# --- the run -------------------------------------------------------------------------------------


def run_batch(
    source: str | os.PathLike[str] | bytes,
    out: str | os.PathLike[str],
    key: PrivateKey | Signer,
    *,
    id_key: IdCheckKey | None = None,
    kind: Kind = "paper",
    fmt: Literal["csv", "jsonl"] | None = None,
    pdf: bool = True,
    strict: bool = False,
    batch_id: str | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    signers: int | None = None,
    issued_at: datetime | None = None,
    encoder: Encoder = "zxing",
    progress: Callable[[str, int, int], None] | None = None,
    rules: StatusRuleSet | None = None,
    trust: TrustStore | None = None,
    source_name: str | None = None,
) -> BatchSummary:
    """Issue a code for every row of ``source`` (CSV with a header, or JSONL) into the folder ``out``.

    ``key`` signs (a private key or a prepared ``Signer``); ``id_key`` is the
    ID-check key paper codes need (:func:`healthcred.flows.issue.issue_paper`).
    ``kind`` is the kind of rows without a ``kind`` column. Writes per row the
    text and PNG and, with ``pdf``, the PDF cards and family sheets (see the
    module doc for the layout). Rows that fail validation are reported in the
    summary and ``report.csv`` and not issued; with ``strict`` the first bad row
    raises its error before anything is signed. Rerunning into the same
    ``out`` resumes: rows already journaled are never signed again.
    ``workers`` render processes (default: one per CPU; 0 renders in this
    process; at most ``healthcred.workers.MAX_WORKERS``), started with spawn
    (:mod:`healthcred.workers`). ``executor``: render in this
    :class:`concurrent.futures.Executor` instead (a Dask ``Client.get_executor()``,
    a Ray executor, a process pool of the caller's, which stays open); not with
    ``workers``. A render task that fails stops the run with :class:`WorkerFailed`
    (the journal holds what was signed, and a rerun renders what is missing).
    ``signers``: processes that sign, for a key held elsewhere (a token key, whose
    ``Signer.reopen`` opens it in each; default 1: this process, one session); each chunk's rows
    are split among them and journaled in row order, as when signed here. Worth it when the token
    is slow per signature (a network HSM, a smart card): each process costs a start-up and a login
    (``bench/hsm_batch.py`` measures both). An in-memory key always signs in this process.
    ``issued_at`` fixes the issue time (default: now).
    ``rules`` (the region's status rule set; default the seed policy) sets the
    lifetime of paper rows without ``valid_days`` (its ``paper_valid_days``) and
    bounds health rows' ``valid_days`` per colour (``longest_validity``).
    With ``trust``, each row must be covered by the key's grant there (the
    verifiers' check, ``flows.issue.check_grant``) or it is a bad row; a key
    that store does not hold at all stops the run before anything is signed.
    ``source`` may also be the bytes of such a file (stdin's, say): then ``fmt`` is required,
    and ``source_name`` names it in messages (default: the path, or ``the rows``).
    The source is read as UTF-8 (a BOM dropped), else GB18030
    (``summary.encoding``). A paper row without ``id_key`` stops the run with
    ``id_check_unavailable`` before anything is signed.
    ``progress(stage, done, total)`` is called as rows are signed (``issue``),
    written (``codes``) and PDFs rendered (``pdf``); an exception it raises
    stops the run, which can be resumed. Raises :class:`BadInput` for a bad
    argument, an unreadable input, or a folder of another batch.
    """
    started = time.perf_counter()
    source_path = source if isinstance(source, bytes) else Path(source)
    out_path = Path(out)
    chosen_fmt = input_format(source_path, fmt, source_name)
    if kind not in KINDS:
        raise BadInput(f"kind must be 'paper' or 'health', not {kind!r}")
    if id_key is not None and not isinstance(id_key, IdCheckKey):
        raise BadInput("id_key must be an IdCheckKey (healthcred.flows.idcheck.load_id_key)")
    if workers is not None:
        worker_count(workers, least=0)
    if executor is not None:
        check_executor(executor)
        if workers is not None:
            raise BadInput("give workers or executor, not both")
    if signers is not None:
        worker_count(signers, name="signers")
    check_encoder(encoder)  # before anything is signed
    if rules is not None and not isinstance(rules, StatusRuleSet):
        raise BadInput("rules must be a StatusRuleSet (healthcred.rules.StatusRuleSet)")
    if trust is not None and not isinstance(trust, TrustStore):
        raise BadInput("trust must be a TrustStore (healthcred.load_trust)")
    paper_days = rules.paper_valid_days if rules is not None else PAPER_LIFETIME.days
    limits = rules if rules is not None else StatusRuleSet(DEFAULT_STATUS_RULES)
    signer = key if isinstance(key, Signer) else Signer.for_key(key)
    moment = (issued_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    encoding = source_encoding(
        source_path, source_name
    )  # a binary or other-encoded file stops here, not per row

    batch = open_batch(out_path, batch_id)
    clean_temporaries(out_path)
    journal_path = out_path / "journal.jsonl"
    journal = read_journal(journal_path)
    summary = BatchSummary(batch_id=batch, encoding=encoding, grant_checked=trust is not None)

    # Parse and validate everything first: --strict refuses before signing anything.
    pending: list[Row] = []
    seen: dict[str, int] = {}
    for row, line, raw, fields in read_records(source_path, chosen_fmt, encoding, source_name):
        summary.rows += 1
        identity = hashlib.sha256(f"{batch}\n{raw}".encode()).hexdigest()[:32]
        try:
            if len(raw) > MAX_LINE:
                raise BadInput(f"record is longer than {MAX_LINE} characters")
            if isinstance(fields, HealthCredError):
                raise fields
            if identity in seen:
                raise BadInput(f"duplicate of row {seen[identity]}: issued once")
            seen[identity] = row
            if identity in journal:
                summary.already += 1
                continue
            credential, number = row_credential(fields, kind, moment, paper_days)
            if credential.kind is CredentialKind.PAPER and id_key is None:
                raise _NoIdKey(
                    f"row {row} (line {line}) is a paper code, and paper codes need the ID-check key"
                    " (id_key=, --id-key): nothing was signed"
                )
            _check_row(credential, limits, trust, signer)
            if pdf:  # a name the font cannot print is refused now, not after signing
                check_glyphs(credential.subject.masked_name)
            pending.append(Row(row, line, identity, row_household(fields), credential, number))
        except _NoIdKey as exc:
            raise IdCheckUnavailable(exc.message) from None
        except _WholeRun as exc:  # the same for every row: once, before anything is signed
            raise exc.error from None
        except HealthCredError as exc:
            if strict:  # the same error, its message naming the row (a subclass may take other arguments)
                exc.message = f"row {row} (line {line}): {exc.message}"
                exc.args = (exc.message,)
                raise
            summary.bad.append(BadRow(row, line, exc.code, exc.message))
    summary.seconds["parse"] = time.perf_counter() - started

    count = (os.cpu_count() or 1) if workers is None else workers
    own = ProcessPoolExecutor(count, mp_context=process_context()) if executor is None and count > 0 else None
    pool = executor if executor is not None else own
    processes = _signer_count(signer, signers, len(pending))
    sign_pool = _signer_pool(signer, processes)
    finished = False
    try:
        sign = functools.partial(
            _sign_chunk, signer=signer, id_key=id_key, pool=sign_pool, parts=4 * processes
        )
        _issue_and_render(pending, journal, journal_path, out_path, sign, encoder, pool, summary, progress)
        if pdf:
            mark = time.perf_counter()
            _render_pdfs(list(journal.values()), out_path, encoder, pool, summary, progress)
            summary.seconds["pdf"] = time.perf_counter() - mark
        finished = True
    finally:
        if sign_pool is not None:
            sign_pool.shutdown(cancel_futures=True)
        if own is not None:
            _stop(own, finished)
    summary.bad.sort(key=lambda item: item.row)
    write_report(out_path, summary.bad)
    summary.seconds["total"] = time.perf_counter() - started
    return summary


def _stop(pool: ProcessPoolExecutor, finished: bool) -> None:
    """Shut the run's own pool down; after an interruption or a failure, its workers are ended first."""
    if not finished:  # no worker outlives the run (its files are checked on resume)
        # ProcessPoolExecutor has no terminate(): its process table is the one handle on its workers.
        for process in list((pool._processes or {}).values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


class _NoIdKey(BadInput):
    """A paper row met without an ID-check key: the whole run stops (not one bad row per row)."""


class _WholeRun(Exception):
    """Carries a grant error that no row could avoid (the key unknown to the trust store)."""

    def __init__(self, error: HealthCredError) -> None:
        super().__init__(error.message)
        self.error = error


def _check_row(
    credential: HealthCode, limits: StatusRuleSet, trust: TrustStore | None, signer: Signer
) -> None:
    """A row's validity within its colour's limit, and with ``trust`` its grant; raise a typed error."""
    if credential.kind is not CredentialKind.PAPER:
        limit = limits.longest_validity(credential.status.name)
        if credential.expires_at - credential.issued_at > limit:
            raise BadInput(
                f"valid_days: a {credential.status.name} code may be valid for at most"
                f" {limit.total_seconds() / 86400:g} days under the status rule set {limits.id!r}"
                f" v{limits.version}, not {(credential.expires_at - credential.issued_at).days}"
            )
    if trust is None:
        return
    try:
        check_grant(
            trust,
            signer,
            region=credential.region,
            issued_at=credential.issued_at,
            kind=int(credential.kind),
            status=credential.status.code,
        )
    except (UnknownKid, TrustConflict) as exc:
        raise _WholeRun(exc) from exc


def _sign(row: Row, signer: Signer, id_key: IdCheckKey | None) -> str:
    if row.credential.kind is CredentialKind.PAPER:
        assert id_key is not None  # checked while validating
        return issue_paper(row.credential, signer, id_number=row.id_number, id_key=id_key)
    return issue(row.credential, signer)


Signed = str | tuple[str, str]
"""A row's result: its text, or the (error code, message) that kept it from being signed."""


def _sign_rows(rows: Sequence[Row], signer: Signer, id_key: IdCheckKey | None) -> list[Signed]:
    results: list[Signed] = []
    for row in rows:
        try:
            results.append(_sign(row, signer, id_key))
        except HealthCredError as exc:  # validation should have caught it; still one row, not the run
            results.append((exc.code, exc.message))
    return results


def _signer_count(signer: Signer, signers: int | None, rows: int) -> int:
    """How many processes sign: 1 (this one) for an in-memory key or a handful of rows."""
    count = 1 if signers is None else signers
    return 1 if signer.reopen is None or rows <= _CHUNK // 4 else count


def _signer_pool(signer: Signer, count: int) -> Executor | None:
    """``count`` processes that sign with ``signer`` reopened in each (None for one: this process)."""
    if count < 2 or signer.reopen is None:
        return None
    # spawn, not fork (healthcred.workers): a forked child would inherit this process's initialised
    # PKCS#11 module.
    return ProcessPoolExecutor(
        count, mp_context=process_context(), initializer=_start_signer, initargs=(signer.reopen,)
    )


_WORKER_SIGNER: list[Signer] = []  # the signer of a signing process (set once, by _start_signer)


def _start_signer(reopen: Callable[[], Signer]) -> None:
    _WORKER_SIGNER.append(reopen())


def _sign_in_worker(task: tuple[Sequence[Row], IdCheckKey | None]) -> list[Signed]:
    rows, id_key = task
    return _sign_rows(rows, _WORKER_SIGNER[0], id_key)


def _sign_chunk(
    chunk: Sequence[Row], *, signer: Signer, id_key: IdCheckKey | None, pool: Executor | None, parts: int
) -> list[Signed]:
    """The chunk's results in row order: signed here, or split among the signing processes."""
    if pool is None:
        return _sign_rows(chunk, signer, id_key)
    size = -(-len(chunk) // parts)  # a few parts per process keep them all busy to the chunk's end
    tasks = [(chunk[i : i + size], id_key) for i in range(0, len(chunk), size)]
    try:
        return [result for part in pool.map(_sign_in_worker, tasks) for result in part]
    except BrokenProcessPool as exc:
        raise BadKey(f"the signing processes stopped ({exc}): nothing of this chunk was journaled") from exc


def _issue_and_render(
    pending: Sequence[Row],
    journal: dict[str, Entry],
    journal_path: Path,
    out: Path,
    sign: Callable[[Sequence[Row]], list[Signed]],
    encoder: Encoder,
    pool: Executor | None,
    summary: BatchSummary,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    codes = out / "codes"
    # Journaled rows whose files an interruption left unwritten are rendered again, not re-signed.
    missing = [(e.stem, e.text) for e in journal.values() if not codes_present(codes, e)]
    total_codes = len(missing) + len(pending)
    results: deque[Future[int]] = deque()
    written = 0

    def dispatch(items: list[tuple[str, str]]) -> None:
        nonlocal written
        if not items:
            return
        if pool is None:
            written += render_codes((str(out), items, encoder))
            if progress is not None:
                progress("codes", written, total_codes)
        else:
            results.append(_submit(pool, render_codes, (str(out), items, encoder)))

    def collect(block: bool) -> None:
        nonlocal written
        while results and (block or results[0].done()):
            written += _outcome(results.popleft())
            if progress is not None:
                progress("codes", written, total_codes)

    mark = time.perf_counter()
    for start in range(0, len(missing), 64):
        dispatch(missing[start : start + 64])
    try:
        _sign_and_journal(pending, journal, journal_path, sign, summary, progress, dispatch, collect)
        collect(block=True)
    finally:
        for future in results:  # an interruption: what has not started is not started
            future.cancel()
    summary.rendered = written
    summary.seconds["codes"] = time.perf_counter() - mark


def _sign_and_journal(
    pending: Sequence[Row],
    journal: dict[str, Entry],
    journal_path: Path,
    sign: Callable[[Sequence[Row]], list[Signed]],
    summary: BatchSummary,
    progress: Callable[[str, int, int], None] | None,
    dispatch: Callable[[list[tuple[str, str]]], None],
    collect: Callable[[bool], None],
) -> None:
    """Sign each chunk, journal it (fsync'd), then hand its rows to ``dispatch`` to be rendered."""
    signing = 0.0
    with open(journal_path, "ab") as handle:
        for start in range(0, len(pending), _CHUNK):
            chunk = pending[start : start + _CHUNK]
            begin = time.perf_counter()
            entries = []
            for row, result in zip(chunk, sign(chunk), strict=True):
                if isinstance(result, tuple):
                    summary.bad.append(BadRow(row.row, row.line, *result))
                    continue
                entries.append(
                    Entry(row.row, row.identity, f"{row.row:06d}-{row.identity[:8]}", row.household, result)
                )
            append_entries(handle, entries)  # durable before any file of the chunk exists
            signing += time.perf_counter() - begin
            for entry in entries:
                journal[entry.identity] = entry
            summary.issued += len(entries)
            if progress is not None:
                progress("issue", summary.issued, len(pending))
            for part in range(0, len(entries), 64):  # small tasks keep both workers busy to the end
                dispatch([(e.stem, e.text) for e in entries[part : part + 64]])
            collect(False)
    summary.seconds["issue"] = signing


def _submit(pool: Executor, task: Callable[[Any], int], argument: Any) -> Future[int]:
    try:
        return pool.submit(task, argument)
    except BrokenProcessPool as exc:
        raise WorkerFailed(f"the render processes stopped ({exc}); rerun to resume the batch") from exc
    except RuntimeError as exc:  # an executor that was shut down takes no work
        raise WorkerFailed(f"{refused_work(exc)}; rerun to resume the batch") from exc


def _outcome(future: Future[int]) -> int:
    """A render task's count; its failure as one typed error (the journal already holds its rows)."""
    try:
        return future.result()
    except HealthCredError:
        raise
    except Exception as exc:  # a lost worker, a broken pool, the executor's transport
        raise WorkerFailed(
            f"a render worker failed ({type(exc).__name__}: {exc}); rerun to resume the batch:"
            " what is journaled is rendered again, not signed again"
        ) from exc


def _render_pdfs(
    entries: Sequence[Entry],
    out: Path,
    encoder: Encoder,
    pool: Executor | None,
    summary: BatchSummary,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    sheets = out / "sheets"
    plan = _plan_sheets(entries)
    for stale in sheets.glob("*.pdf"):
        if stale.name not in plan:  # a household sheet superseded by one with more members
            stale.unlink(missing_ok=True)
    todo = [(name, texts) for name, texts in plan.items() if not sheet_present(sheets / name)]
    # Each PDF of a group embeds only the glyphs it draws (printing.render_pdfs); 40 files a task
    # keep both workers busy.
    tasks = [(str(out), todo[start : start + 40], encoder) for start in range(0, len(todo), 40)]
    done = 0
    for count in _sheet_counts(tasks, pool):
        done += count
        summary.sheets = done
        if progress is not None:
            progress("pdf", done, len(todo))


def _sheet_counts(tasks: Sequence[SheetsTask], pool: Executor | None) -> Iterator[int]:
    """Each task's count of PDFs as it finishes: here one by one, or in ``pool`` in any order."""
    if pool is None:
        yield from map(_render_sheets, tasks)
        return
    futures = [_submit(pool, _render_sheets, task) for task in tasks]
    try:
        for future in as_completed(futures):
            yield _outcome(future)
    finally:
        for future in futures:
            future.cancel()
