"""Verification in worker processes: ``verify_all(workers=N | executor=E)`` and ``VerifierPool``.

The outcomes must be those of the in-process ``verify_all``, code for code, in order: results equal,
errors of the same class with the same code, message and attributes. The trust store pickles once
(keys as DER, verify functions rebuilt on arrival) and the compact form rebuilds every field.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import healthcred
from healthcred import HealthCredError, Status, TrustStore, VerificationResult, VerifierPool, verify_all
from healthcred.errors import BadInput, TooLarge, WorkerFailed
from healthcred.flows.verify import MAX_BATCH
from healthcred.foreign.dcc.hc1 import read_dsc
from healthcred.foreign.shc.issuers import load_shc_issuer
from healthcred.workers import MAX_WORKERS, process_context
from tests.flows.test_interop import make_dsc, make_hc1, shc_chunks, shc_issuer_doc
from tests.helpers.world import CHECKED, World

Outcome = VerificationResult | HealthCredError


def same(left: list[Outcome], right: list[Outcome]) -> None:
    """Equal results; errors of one class with equal args and attributes; in the same order."""
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        if isinstance(a, HealthCredError):
            assert type(a) is type(b) and a.args == b.args and vars(a) == vars(b), (a, b)
        else:
            assert a == b and a.warnings == b.warnings
            assert a.credential == b.credential and a.summary() == b.summary()


@pytest.fixture(scope="module")
def eu() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, make_dsc(key)


@pytest.fixture(scope="module")
def mixed(world: World, eu: tuple[ec.EllipticCurvePrivateKey, bytes]) -> TrustStore:
    return world.store.with_foreign(dscs=[read_dsc(eu[1])], shc_issuers=[load_shc_issuer(shc_issuer_doc())])


@pytest.fixture(scope="module")
def codes(world: World, eu: tuple[ec.EllipticCurvePrivateKey, bytes], tmp_path_factory: Any) -> list[Any]:
    """Native codes of both keys and kinds, foreign codes, broken codes and codes that stay in the parent."""
    image = tmp_path_factory.mktemp("pool") / "code.png"
    native = [world.code()[1] for _ in range(40)]
    image.write_bytes(healthcred.render_qr(native[0]))
    shanghai = world.code(key=world.shanghai, region="310100")[1]
    elsewhere = world.code(region="310100")[1]  # a Zhejiang key signing for Shanghai: region_not_allowed
    return [
        *native[:20],
        shanghai,
        elsewhere,
        "JKM1:not-base45!",
        "",
        make_hc1(*eu),
        shc_chunks(0)[0],
        shc_chunks(2),  # the chunks of one multi-part card, as a list
        image,  # a path: read in a worker
        native[1].encode(),
        42,  # not a code: bad_input, verified here
        *native[20:],
    ]


def test_a_store_pickles_and_verifies_the_same(mixed: TrustStore, codes: list[Any]) -> None:
    copy = pickle.loads(pickle.dumps(mixed))
    assert copy.lists[0].entries == mixed.lists[0].entries and copy.anchors == mixed.anchors
    assert copy.dscs == mixed.dscs and copy.shc_issuers == mixed.shc_issuers
    assert copy.entries(mixed.lists[0].entries[0].kid)[0] is copy.lists[0].entries[0]  # shared, not copied
    same(verify_all(codes, copy, at=CHECKED), verify_all(codes, mixed, at=CHECKED))


def test_two_workers_give_the_in_process_outcomes(mixed: TrustStore, codes: list[Any]) -> None:
    here = verify_all(codes, mixed, at=CHECKED)
    assert {type(o).__name__ for o in here} >= {
        "VerificationResult",
        "RegionNotAllowed",
        "BadBase45",
        "BadInput",
    }
    same(verify_all(codes, mixed, at=CHECKED, workers=2), here)


def test_a_pool_is_reused_and_closed(mixed: TrustStore, codes: list[Any]) -> None:
    here = verify_all(codes, mixed, at=CHECKED)
    with VerifierPool(mixed, workers=2) as pool:
        assert pool.workers == 2
        same(pool.verify_all(codes, at=CHECKED), here)
        same(pool.verify_all(reversed(codes), at=CHECKED), here[::-1])  # any iterable
        assert pool.verify_all([], at=CHECKED) == []
    with pytest.raises(BadInput, match="closed"):
        pool.verify_all(codes, at=CHECKED)


def test_one_worker_verifies_here(mixed: TrustStore, codes: list[Any]) -> None:
    with VerifierPool(mixed, workers=1) as pool:
        same(pool.verify_all(codes, at=CHECKED), verify_all(codes, mixed, at=CHECKED))
        assert pool._own is None  # no process was started
    same(verify_all(codes, mixed, at=CHECKED, workers=1), verify_all(codes, mixed, at=CHECKED))


def test_an_executor_of_the_callers(mixed: TrustStore, codes: list[Any]) -> None:
    here = verify_all(codes, mixed, at=CHECKED)
    with ProcessPoolExecutor(2, mp_context=process_context()) as executor:
        same(verify_all(codes, mixed, at=CHECKED, executor=executor), here)
        with VerifierPool(mixed, executor=executor) as pool:
            same(pool.verify_all(codes, at=CHECKED), here)
        executor.submit(abs, -1).result()  # closing the pool left the caller's executor running
    with ThreadPoolExecutor(2) as threads:
        same(verify_all(codes, mixed, at=CHECKED, executor=threads), here)


@pytest.mark.parametrize("workers", [0, -1, MAX_WORKERS + 1, 10**9, "2", 2.0, True, None.__class__])
def test_bad_worker_counts_are_refused(world: World, workers: Any) -> None:
    code = world.code()[1]
    with pytest.raises(BadInput, match="workers"):
        verify_all([code], world.store, workers=workers)
    with pytest.raises(BadInput, match="workers"):
        VerifierPool(world.store, workers=workers)


@pytest.mark.parametrize("executor", ["pool", 2, ProcessPoolExecutor, os.cpu_count])
def test_an_executor_that_is_not_one_is_refused(world: World, executor: Any) -> None:
    with pytest.raises(BadInput, match=r"concurrent\.futures\.Executor"):
        verify_all([world.code()[1]], world.store, executor=executor)


def test_other_bad_arguments(world: World) -> None:
    code = world.code()[1]
    with ThreadPoolExecutor(1) as threads, pytest.raises(BadInput, match="not both"):
        verify_all([code], world.store, workers=2, executor=threads)
    with pytest.raises(BadInput, match="TrustStore"):
        VerifierPool("trust", workers=2)  # type: ignore[arg-type]
    with VerifierPool(world.store, workers=2) as pool:
        with pytest.raises(BadInput, match="a str is one code"):
            pool.verify_all(code)
        with pytest.raises(BadInput, match="skew"):
            pool.verify_all([code], skew=5)  # type: ignore[arg-type]
        with pytest.raises(BadInput, match="qr_backend"):
            pool.verify_all([code], qr_backend="zbar")  # type: ignore[arg-type]
        with pytest.raises(TooLarge):
            pool.verify_all(iter([code] * (MAX_BATCH + 1)))
        assert pool._own is None  # refused before any process started


class _Failing(Executor):
    """An executor whose tasks fail as a lost remote worker's do."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(ConnectionError("worker lost"))
        return future


def test_a_failing_executor_is_one_typed_error(world: World) -> None:
    with pytest.raises(WorkerFailed, match="ConnectionError: worker lost"):
        verify_all([world.code()[1]] * 3, world.store, executor=_Failing())


def test_a_worker_that_dies_is_one_typed_error(world: World) -> None:
    # Each process exits in its initializer: the pool breaks, as when a worker is killed.
    broken = ProcessPoolExecutor(1, mp_context=process_context(), initializer=os._exit, initargs=(3,))
    try:
        with pytest.raises(WorkerFailed, match="stopped"):
            verify_all([world.code()[1]] * 3, world.store, executor=broken)
    finally:
        broken.shutdown(wait=True)


def test_a_pool_whose_process_died_starts_again(world: World) -> None:
    codes = [world.code()[1]] * 100  # more than one chunk: a few codes would be verified here
    with VerifierPool(world.store, workers=2) as pool:
        assert isinstance(pool.verify_all(codes, at=CHECKED)[0], VerificationResult)
        own = pool._own
        assert own is not None
        for worker in own:  # a kill -9 from outside
            worker.process.kill()
            worker.process.join()
        with pytest.raises(WorkerFailed, match="signal 9") as failed:
            pool.verify_all(codes, at=CHECKED)
        assert "__main__" not in str(failed.value)  # it had answered before: no start-up hint
        assert isinstance(pool.verify_all(codes, at=CHECKED)[0], VerificationResult)


def _paths(folder: Path, texts: list[str]) -> Iterator[Path]:
    for n, text in enumerate(texts):
        path = folder / f"{n}.png"
        path.write_bytes(healthcred.render_qr(text, encoder="zxing"))
        yield path


def test_images_are_read_in_the_workers(world: World, tmp_path: Path) -> None:
    texts = [world.code()[1] for _ in range(40)]  # more than a chunk, or they are read here
    paths = list(_paths(tmp_path, texts))
    outcomes = verify_all(paths, world.store, at=CHECKED, workers=2)
    expected = verify_all(texts, world.store, at=CHECKED)
    assert all(isinstance(o, VerificationResult) for o in outcomes)
    same(outcomes, expected)


def _finishes(call: Callable[[], Any], seconds: float = 300.0) -> Any:
    """``call()``'s value (or its error), or a failure if it has not returned after ``seconds``: a hang."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, call()))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)  # a hung one must not keep the tests from exiting
    thread.start()
    thread.join(seconds)
    if not box:
        pytest.fail(f"the pool did not finish within {seconds} s: the processes wait on each other")
    returned, value = box[0]
    if not returned:
        raise value
    return value


def test_chunks_larger_than_a_socket_holds_travel_both_ways(
    world: World, eu: tuple[ec.EllipticCurvePrivateKey, bytes]
) -> None:
    # Megabytes of codes out (refused, too long for a QR code) while megabytes of EU DCC results
    # (pickled whole) come back: a pool that blocked on a full socket would wait on its worker for good.
    store = world.store.with_foreign(dscs=[read_dsc(eu[1])])
    hc1 = make_hc1(*eu)
    codes: list[Any] = []
    for n in range(3_000):
        codes.append(hc1)
        if n % 10 == 0:
            codes.append(f"JKM1:{n:08d}" + "A" * 30_000)  # distinct texts: pickle cannot share them
    here = verify_all(codes, store, at=CHECKED)
    assert sum(isinstance(o, TooLarge) for o in here) == 300
    same(_finishes(lambda: verify_all(codes, store, at=CHECKED, workers=2)), here)


class _WorkersOnly(dict[int, Any]):
    """A palette that breaks in a worker process only: a defect there, not a code's error."""

    def get(self, key: Any, default: Any = None) -> Any:
        if multiprocessing.parent_process() is not None:
            raise RuntimeError("a defect in a worker")
        return super().get(key, default)


def test_a_defect_in_a_worker_is_one_typed_error_and_the_pool_goes_on(world: World) -> None:
    codes = [world.code()[1] for _ in range(200)]
    with VerifierPool(world.store, workers=2) as pool:
        with pytest.raises(WorkerFailed, match="RuntimeError: a defect in a worker"):
            pool.verify_all(codes, at=CHECKED, palette=_WorkersOnly({200: Status(code=200, name="purple")}))
        same(pool.verify_all(codes, at=CHECKED), verify_all(codes, world.store, at=CHECKED))


def test_a_palette_that_cannot_travel_is_refused_before_any_work(world: World) -> None:
    class Local(dict[int, Any]):  # defined in a function: pickle cannot name it
        pass

    with VerifierPool(world.store, workers=2) as pool:
        with pytest.raises(BadInput, match="palette cannot be sent to worker processes"):
            pool.verify_all([world.code()[1]], at=CHECKED, palette=Local())
        assert pool._own is None


def test_an_interrupted_batch_leaves_no_answer_behind(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C while workers hold chunks: the next batch must not read the old batch's answers.
    first = [world.code()[1] for _ in range(600)]
    second = [world.code()[1] for _ in range(600)]
    calls = 0

    def interrupted(*args: Any, **kwargs: Any) -> VerificationResult:
        nonlocal calls
        calls += 1
        if calls == 40:
            raise KeyboardInterrupt
        return healthcred.verify(*args, **kwargs)

    with VerifierPool(world.store, workers=2) as pool:
        monkeypatch.setattr("healthcred.flows.pool.verify", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pool.verify_all(first, at=CHECKED)
        assert pool._own is None  # its processes were stopped
        monkeypatch.undo()
        same(pool.verify_all(second, at=CHECKED), verify_all(second, world.store, at=CHECKED))


def test_threads_may_share_a_pool(world: World) -> None:
    # Batches long enough (~0.1 s) for the interpreter to switch threads inside them many times,
    # each in its own order: a pool without its lock mixes their answers up.
    codes = [world.code()[1] for _ in range(2_000)]
    batches = [codes[k * 500 :] + codes[: k * 500] for k in range(4)]
    with VerifierPool(world.store, workers=2) as pool, ThreadPoolExecutor(4) as threads:
        pool.verify_all(codes, at=CHECKED)  # started: every thread below shares these processes
        outcomes = list(threads.map(lambda batch: pool.verify_all(batch, at=CHECKED), batches))
    for batch, got in zip(batches, outcomes, strict=True):
        same(got, verify_all(batch, world.store, at=CHECKED))


def test_a_script_without_a_main_guard_is_told_why(tmp_path: Path) -> None:
    # Spawn imports the main script again in each worker, which then starts workers of its own.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import healthcred\n"
        "from tests.helpers.world import CHECKED, new_world\n"
        "world = new_world()\n"
        "healthcred.verify_all([world.code()[1]] * 50, world.store, at=CHECKED, workers=2)\n",
        encoding="utf-8",
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("healthcred.errors.WorkerFailed: [worker_failed] a verifying process stopped"), (
        last
    )
    assert 'if __name__ == "__main__":' in last


def test_a_few_codes_are_verified_here(world: World) -> None:
    codes = [world.code()[1] for _ in range(32)]
    with VerifierPool(world.store, workers=2) as pool:
        same(pool.verify_all(codes, at=CHECKED), verify_all(codes, world.store, at=CHECKED))
        assert pool._own is None  # no process was started for one chunk's worth
        pool.verify_all([*codes, codes[0]], at=CHECKED)
        assert pool._own is not None


def test_a_closed_pool_refuses_work_with_an_executor_too(world: World) -> None:
    with ThreadPoolExecutor(1) as threads:
        pool = VerifierPool(world.store, executor=threads)
        pool.close()
        with pytest.raises(BadInput, match="closed"):
            pool.verify_all([world.code()[1]], at=CHECKED)


def test_codes_of_a_subclass_are_verified_here(world: World) -> None:
    class Text(str):  # defined in a function: pickle cannot name it, so it cannot travel
        pass

    codes = [Text(world.code()[1]) for _ in range(50)]
    with VerifierPool(world.store, workers=2) as pool:
        same(pool.verify_all(codes, at=CHECKED), verify_all(codes, world.store, at=CHECKED))
        assert pool._own is None


def test_a_pool_dropped_without_close_stops_its_processes(world: World) -> None:
    pool = VerifierPool(world.store, workers=2)
    pool.verify_all([world.code()[1]] * 100, at=CHECKED)
    assert pool._own is not None
    processes = [worker.process for worker in pool._own]
    del pool  # no gc.collect(): the selector's own reference cycle would otherwise keep the sockets open
    for process in processes:
        process.join(timeout=30)
        assert not process.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_starts_processes_of_its_own(world: World) -> None:
    codes = [world.code()[1] for _ in range(100)]
    expected = [o.summary() for o in verify_all(codes, world.store, at=CHECKED)]  # type: ignore[union-attr]
    with VerifierPool(world.store, workers=2) as pool:
        pool.verify_all(codes, at=CHECKED)
        assert pool._own is not None
        parents = {worker.process.pid for worker in pool._own}
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: verify through the inherited pool, report, and leave at once
            status = 1
            try:
                outcomes = pool.verify_all(codes, at=CHECKED)
                assert pool._own is not None
                fresh = not parents & {worker.process.pid for worker in pool._own}
                good = [o.summary() for o in outcomes] == expected  # type: ignore[union-attr]
                status = 0 if fresh and good else 2
                pool.close()
            finally:
                os.write(write, bytes([status]))
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as answer:
            got = answer.read()
        os.waitpid(child, 0)
        assert got == b"\x00"
        same(
            pool.verify_all(codes, at=CHECKED), verify_all(codes, world.store, at=CHECKED)
        )  # ours still work
