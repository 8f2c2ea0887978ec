"""Batch issuance and batch verification in an executor of the caller's: a Dask cluster, a process pool.

The Dask cluster is real (two worker processes, one thread each, on the loopback interface): its
tasks must be plain picklable functions and data, and the journal stays the parent's alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

import healthcred
from healthcred.batch.run import run_batch
from healthcred.codec.qr import render_qr
from healthcred.errors import BadInput, WorkerFailed
from healthcred.workers import MAX_WORKERS, process_context
from tests.batch.test_batch import ID_KEY, Interrupted, check_complete, journal, rows, write_csv
from tests.helpers.world import CHECKED, ISSUED, World


@pytest.fixture(scope="module")
def dask() -> Iterator[Executor]:
    """A local Dask cluster of two single-threaded worker processes, and its executor."""
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, timeout="120s") as client,  # type: ignore[no-untyped-call]
    ):
        yield client.get_executor()


def households(count: int) -> list[dict[str, str]]:
    """Rows of which every third lives alone and the rest in households of four."""
    items = rows(count)
    for i, item in enumerate(items):
        item["household"] = "" if i % 3 == 0 else f"H{i // 4}"
    return items


def test_a_batch_through_a_dask_cluster(tmp_path: Path, world: World, dask: Executor) -> None:
    source = write_csv(tmp_path / "in.csv", households(150))
    out = tmp_path / "out"
    summary = run_batch(source, out, world.zhejiang, id_key=ID_KEY, executor=dask, issued_at=ISSUED)
    assert summary.issued == summary.rendered == 150 and not summary.bad and summary.sheets > 0
    entries = check_complete(out, 150, world)
    for entry in entries[:20]:  # the PNG the worker wrote is the one this process would write
        png = (out / "codes" / f"{entry['stem']}.png").read_bytes()
        assert png == render_qr(str(entry["text"]), encoder="zxing")
    sheets = sorted(p.name for p in (out / "sheets").glob("*.pdf"))
    here = tmp_path / "here"
    run_batch(
        source, here, world.zhejiang, id_key=ID_KEY, workers=0, issued_at=ISSUED, batch_id=summary.batch_id
    )
    assert sorted(p.name for p in (here / "sheets").glob("*.pdf")) == sheets


def test_a_dask_batch_resumes_exactly_once(tmp_path: Path, world: World, dask: Executor) -> None:
    source = write_csv(tmp_path / "in.csv", rows(600))
    out = tmp_path / "out"

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "issue" and done >= 512:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_batch(
            source,
            out,
            world.zhejiang,
            id_key=ID_KEY,
            pdf=False,
            executor=dask,
            progress=stop,
            issued_at=ISSUED,
        )
    assert len(journal(out)) == 512
    again = run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, executor=dask, issued_at=ISSUED)
    assert again.already == 512 and again.issued == 88
    check_complete(out, 600, world)


def test_verify_all_through_a_dask_cluster(world: World, dask: Executor) -> None:
    codes = [world.code()[1] for _ in range(30)] + ["JKM1:bad", world.code(region="310100")[1]]
    here = healthcred.verify_all(codes, world.store, at=CHECKED)
    there = healthcred.verify_all(codes, world.store, at=CHECKED, executor=dask)
    assert [type(o) for o in there] == [type(o) for o in here]
    assert [o for o in there if not isinstance(o, Exception)] == [
        o for o in here if not isinstance(o, Exception)
    ]
    assert [str(o) for o in there if isinstance(o, Exception)] == [
        str(o) for o in here if isinstance(o, Exception)
    ]


def test_a_process_pool_of_the_callers_stays_open(tmp_path: Path, world: World) -> None:
    source = write_csv(tmp_path / "in.csv", rows(70))
    with ProcessPoolExecutor(2, mp_context=process_context()) as pool:
        summary = run_batch(
            source,
            tmp_path / "out",
            world.zhejiang,
            id_key=ID_KEY,
            pdf=False,
            executor=pool,
            issued_at=ISSUED,
        )
        assert summary.rendered == 70
        assert pool.submit(abs, -2).result() == 2
    check_complete(tmp_path / "out", 70, world)


class _Losing(Executor):
    """Runs tasks here until ``after`` of them ran, then fails each as a lost worker would."""

    def __init__(self, after: int) -> None:
        self.left = after

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.left -= 1
        if self.left < 0:
            future.set_exception(OSError("worker lost"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_failing_executor_stops_the_run_and_a_rerun_completes(tmp_path: Path, world: World) -> None:
    source = write_csv(tmp_path / "in.csv", rows(300))
    out = tmp_path / "out"
    with pytest.raises(WorkerFailed, match="OSError: worker lost"):
        run_batch(
            source, out, world.zhejiang, id_key=ID_KEY, pdf=False, executor=_Losing(2), issued_at=ISSUED
        )
    assert len(journal(out)) == 256  # the first chunk was journaled before its files were written
    again = run_batch(source, out, world.zhejiang, id_key=ID_KEY, pdf=False, workers=0, issued_at=ISSUED)
    assert again.already == 256 and again.issued == 44 and again.rendered == 300 - 2 * 64
    check_complete(out, 300, world)


@pytest.mark.parametrize("executor", ["dask", 2, ProcessPoolExecutor, object()])
def test_an_executor_that_is_not_one_is_refused(tmp_path: Path, world: World, executor: Any) -> None:
    source = write_csv(tmp_path / "in.csv", rows(2))
    with pytest.raises(BadInput, match="executor must be"):
        run_batch(source, tmp_path / "out", world.zhejiang, id_key=ID_KEY, executor=executor)
    assert not (tmp_path / "out" / "journal.jsonl").exists()  # refused before anything was signed


@pytest.mark.parametrize("workers", [-1, MAX_WORKERS + 1, 10**9, "2", 2.0, True])
def test_bad_worker_counts_are_refused(tmp_path: Path, world: World, workers: Any) -> None:
    source = write_csv(tmp_path / "in.csv", rows(2))
    with pytest.raises(BadInput, match="workers"):
        run_batch(source, tmp_path / "out", world.zhejiang, id_key=ID_KEY, workers=workers)


def test_workers_and_an_executor_are_not_both_given(tmp_path: Path, world: World, dask: Executor) -> None:
    source = write_csv(tmp_path / "in.csv", rows(2))
    with pytest.raises(BadInput, match="not both"):
        run_batch(source, tmp_path / "out", world.zhejiang, id_key=ID_KEY, workers=2, executor=dask)
