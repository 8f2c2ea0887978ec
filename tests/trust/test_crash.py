"""kill -9 during every command that writes a trust folder or a signed file: old state or new, never torn.

Each trial forks this process; the child runs one ``healthcred trust`` command in-process and is
killed with SIGKILL, either right before its N-th filesystem step (targeted: every create, write
sync, rename, link, unlink, mkdir and rmdir, N over all of them) or after a random delay (random:
seeded, anywhere inside Python or the kernel). After each kill the folder must load with
``load_trust``, hold exactly the old or the new files with the matching version floor, and read the
same after the next writer rolls a pending change forward.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from healthcred import Alg, KeyGrant, generate_key, kid_of
from healthcred.cli.main import main
from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.keys import save_private_key, save_public_key
from healthcred.errors import HealthCredError
from healthcred.rules.policy import DEFAULT_POLICIES
from healthcred.trust.bundle import BUNDLE_FILE, make_bundle, open_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.folder import load_trust
from healthcred.trust.lists import make_trust_list, parse_trust_list
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.rulesets import make_rule_set
from healthcred.trust.store import TrustStore
from healthcred.trust.transaction import RECORD_FILE, STAGING_DIR, folder_transaction, folder_view
from tests.helpers.world import LIST_EXPIRES, T0, ts

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kill -9 trials fork the test process")

RANDOM_TRIALS = 12
"""Random-delay kills per command (seeded), beside one targeted kill per filesystem step."""
_SUBS = ("anchors", "lists", "revocations", "rules", "dsc", "shc")
_STEPS = ("open", "fsync", "replace", "rename", "link", "unlink", "mkdir", "rmdir")
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT
TRIALS: dict[str, int] = {}
"""Trials run per command in this session (printed by the summary test)."""


@dataclass(frozen=True)
class Scene:
    """Keys and signed files the commands work with (``files``: by name)."""

    root: Path
    key: PrivateKey
    files: dict[str, Path]


def _sign_files(key: PrivateKey, region_key: PrivateKey, out: Path) -> dict[str, Path]:
    def trust_list(version: int, list_id: str = "national") -> bytes:
        grant = KeyGrant(region_key.public_key(), "330000", ts(T0), ts(LIST_EXPIRES), may_sign_rules=True)
        return make_trust_list(
            key, [grant], version=version, list_id=list_id, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES)
        )

    times = {"issued_at": ts(T0), "expires_at": ts(LIST_EXPIRES)}
    revoked = make_revocation_list(key, version=1, added=[b"\x01" * 16], issued_at=ts(T0), expires_at=2**31)
    blobs = {
        "v1.cose": trust_list(1),
        "v2.cose": trust_list(2),
        "other.cose": trust_list(1, "other"),
        "revoked.cose": revoked,
        "rules.cose": make_rule_set(key, {**DEFAULT_POLICIES, "version": 1}, **times),
    }
    blobs["b1.cose"] = make_bundle(key, version=1, issued_at=ts(T0), trust_lists=[blobs["v1.cose"]])
    blobs["b2.cose"] = make_bundle(
        key, version=2, issued_at=ts(T0), trust_lists=[blobs["v2.cose"]], revocations=[blobs["revoked.cose"]]
    )
    paths = {}
    for name, data in blobs.items():
        paths[name] = out / name
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    root = tmp_path_factory.mktemp("crash")
    key, region_key = generate_key(Alg.EDDSA), generate_key(Alg.EDDSA)
    save_private_key(key, root / "root.key.pem")
    save_public_key(key.public_key(), root / "root.pub.pem")
    save_public_key(generate_key(Alg.EDDSA).public_key(), root / "new.pub.pem")  # a key of its own
    files = _sign_files(key, region_key, root)
    files["root.key.pem"], files["root.pub.pem"] = root / "root.key.pem", root / "root.pub.pem"
    files["new.pub.pem"] = root / "new.pub.pem"
    return Scene(root, key, files)


def _cli(*args: object) -> None:
    main.main([str(a) for a in args], standalone_mode=False)


def _folder(scene: Scene, name: str, *adds: str) -> Path:
    folder = scene.root / "templates" / name
    if not folder.exists():
        _cli("trust", "init", folder, "--anchor", scene.files["root.pub.pem"])
        for add in adds:
            _cli("trust", "add", folder, scene.files[add])
    return folder


def _digest(folder: Path) -> tuple[str, dict[str, int]]:
    """The folder's effective files (as a reader sees them) and floor; it must load."""
    if not folder.exists():
        return "absent", {}
    load_trust(folder)
    view = folder_view(folder)
    files = {f"{sub}/{p.name}": p.read_bytes() for sub in _SUBS for p in view.listing(folder / sub)}
    bundle = view.read(BUNDLE_FILE)
    if bundle is not None:
        files[BUNDLE_FILE] = bundle
    text = json.dumps({k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())})
    return hashlib.sha256(text.encode()).hexdigest(), dict(view.floor)


def _arm(limit: int | None) -> list[int]:
    # In the child only: count every mutating filesystem call; SIGKILL right before call `limit`.
    count = [0]

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if name != "open" or (len(args) > 1 and args[1] & _WRITING):
                count[0] += 1
                if count[0] == limit:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        return step

    for name in _STEPS:
        setattr(os, name, wrap(name, getattr(os, name)))
    return count


def _child(args: tuple[object, ...], limit: int | None, report: Path | None) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    status = 0
    try:
        count = _arm(limit)
        _cli(*args)
        if report is not None:
            report.write_text(str(count[0]))
    except BaseException:  # the child reports any failure by its exit status
        status = 3
    os._exit(status)


def _fork(args: tuple[object, ...], limit: int | None = None, report: Path | None = None) -> int:
    pid = os.fork()
    if pid == 0:
        _child(args, limit, report)
    return pid


def _wait(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@dataclass
class Command:
    """One writing command: its arguments (``{F}`` is the folder), the folder it starts from, a check."""

    name: str
    args: tuple[str, ...]
    template: Callable[[Scene], Path | None]
    out_ok: Callable[[Scene, Path], None] | None = None


def _rotate_ok(scene: Scene, out: Path) -> None:
    parse_trust_list(out.read_bytes(), [Anchor.from_key(scene.key.public_key())])


def _revoke_ok(scene: Scene, out: Path) -> None:
    TrustStore([scene.key.public_key()], [], [out.read_bytes()])


def _sign_ok(scene: Scene, out: Path) -> None:
    open_bundle(out.read_bytes(), [Anchor.from_key(scene.key.public_key())])


def _old_kid(scene: Scene) -> str:
    store = load_trust(_folder(scene, "lists", "v1.cose"))
    return store.lists[0].entries[0].kid.hex()


COMMANDS = [
    Command("init", ("trust", "init", "{F}", "--anchor", "root.pub.pem"), lambda s: None),
    Command(
        "add",
        ("trust", "add", "{F}", "v2.cose", "other.cose", "revoked.cose", "rules.cose"),
        lambda s: _folder(s, "lists", "v1.cose"),
    ),
    Command(
        "add-bundle", ("trust", "add", "{F}", "b2.cose", "other.cose"), lambda s: _folder(s, "b", "b1.cose")
    ),
    Command(
        "remove",
        ("trust", "remove", "{F}", "=other.cose", "=revoked.cose"),
        lambda s: _folder(s, "full", "v1.cose", "other.cose", "revoked.cose"),
    ),
    Command(
        "rotate",
        (
            "trust",
            "rotate",
            "v1.cose",
            "--root",
            "root.key.pem",
            "--old",
            "{KID}",
            "--new",
            "new.pub.pem",
            "--at",
            "2026-06-01T00:00:00Z",
            "--out",
            "{O}",
        ),
        lambda s: _folder(s, "lists", "v1.cose"),
        _rotate_ok,
    ),
    Command(
        "revoke",
        ("trust", "revoke", "--key", "root.key.pem", "--id", "ab" * 16, "--version", "2", "--out", "{O}"),
        lambda s: _folder(s, "lists", "v1.cose"),
        _revoke_ok,
    ),
    Command(
        "sign",
        ("trust", "sign", "{F}", "--root", "root.key.pem", "--version", "3", "--out", "{O}"),
        lambda s: _folder(s, "full", "v1.cose", "other.cose", "revoked.cose"),
        _sign_ok,
    ),
]


@dataclass
class Trial:
    """One copy of the starting folder, and where the command's output goes."""

    folder: Path
    out: Path
    args: tuple[object, ...]


def _trial(scene: Scene, command: Command, label: str) -> Trial:
    base = scene.root / "trials" / command.name / label
    base.mkdir(parents=True)
    folder = base / "trust"
    template = command.template(scene)
    if template is not None:
        shutil.copytree(template, folder)
    out = base / "out.cose"
    values = {"{F}": folder, "{O}": out}
    args = tuple(values.get(a) or _argument(scene, a) for a in command.args)
    return Trial(folder, out, args)


def _argument(scene: Scene, arg: str) -> object:
    # A scene file's name stands for its path; "=NAME" is a plain name; "{KID}" the listed key's kid.
    if arg == "{KID}":
        return _old_kid(scene)
    return arg[1:] if arg.startswith("=") else scene.files.get(arg, arg)


def _trials(scene: Scene, command: Command) -> Iterator[tuple[str, Trial, int | None, float | None]]:
    # (label, trial, kill before step N, or kill after a delay) for every targeted and random trial.
    calibration = _trial(scene, command, "calibration")
    report = calibration.folder.parent / "steps"
    started = time.monotonic()
    assert _wait(_fork(calibration.args, report=report)) == 0, f"{command.name} fails without a crash"
    duration = time.monotonic() - started
    steps = int(report.read_text())
    yield "calibration", calibration, None, None
    for n in range(1, steps + 1):
        yield f"step-{n}", _trial(scene, command, f"step-{n}"), n, None
    rng = random.Random(f"healthcred-crash-{command.name}")
    for i in range(RANDOM_TRIALS):
        yield f"random-{i}", _trial(scene, command, f"random-{i}"), None, rng.uniform(0, duration * 1.2)


def _run(trial: Trial, limit: int | None, delay: float | None) -> None:
    pid = _fork(trial.args, limit=limit)
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)  # a zombie ignores it: the command finished first
    _wait(pid)


def _check_out(scene: Scene, command: Command, trial: Trial) -> str | None:
    if command.out_ok is None or not trial.out.exists():
        return None
    try:
        command.out_ok(scene, trial.out)
    except HealthCredError as exc:
        return f"{trial.out} is torn: {exc}"
    return None


def _check(scene: Scene, command: Command, trial: Trial, states: set[tuple[str, str]]) -> str | None:
    """None if the trial left the old or the new state (and the next writer keeps it); else why not."""
    try:
        digest, floor = _digest(trial.folder)
    except HealthCredError as exc:
        return f"{trial.folder} does not load: {exc}"
    state = (digest, json.dumps(floor, sort_keys=True))
    if state not in states:
        return f"{trial.folder}: neither the old nor the new state ({digest[:12]}, floor {floor})"
    if trial.folder.exists() and command.name != "init":
        with folder_transaction(trial.folder):  # what every writer does first: roll forward
            pass
        if (_digest(trial.folder)[0], state[1]) != state or (trial.folder / RECORD_FILE).exists():
            return f"{trial.folder}: rolling forward changed what readers saw"
        if (trial.folder / STAGING_DIR).exists():
            return f"{trial.folder}: staged files left after recovery"
    return _check_out(scene, command, trial)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_kill_minus_nine_leaves_old_or_new_state(scene: Scene, command: Command) -> None:
    """Targeted and random kill -9 trials of one command: every one leaves a loading old or new state."""
    template = command.template(scene)
    old = _digest(template) if template is not None else ("absent", {})
    states = {(old[0], json.dumps(old[1], sort_keys=True))}
    failures, seen_new, count, ended = [], False, 0, set()
    for label, trial, limit, delay in _trials(scene, command):
        if label != "calibration":
            _run(trial, limit, delay)
        else:
            new = _digest(trial.folder)
            seen_new = new[0] != old[0] or command.out_ok is not None
            states.add((new[0], json.dumps(new[1], sort_keys=True)))
            assert all(new[1].get(k, 0) >= v for k, v in old[1].items()), "the command lowered the floor"
        why = _check(scene, command, trial, states)
        ended.add(_digest(trial.folder)[0] if why is None else "failed")
        if why is not None:
            failures.append(f"{label}: {why}")
        count += 1
    TRIALS[command.name] = count
    assert seen_new, "the command changed nothing: the trials prove nothing"
    assert count > RANDOM_TRIALS + 5, "too few filesystem steps counted: the crash hook is not armed"
    assert not failures, "\n".join(failures)
    assert command.out_ok is not None or len(ended) == 2, "no kill left the old state: they came too late"


def test_kill_minus_nine_summary() -> None:
    """Print the trials per command (run after the trials; ``pytest -s`` shows it)."""
    if TRIALS:
        print("kill -9 trials per command, 0 failures:", json.dumps(TRIALS))
    assert all(n > RANDOM_TRIALS for n in TRIALS.values())


def test_the_crash_hook_counts_and_kills(scene: Scene, tmp_path: Path) -> None:
    """The hook really kills: before the first step of init, nothing exists and the child died by SIGKILL."""
    folder = tmp_path / "trust"
    pid = _fork(("trust", "init", folder, "--anchor", scene.files["root.pub.pem"]), limit=1)
    assert _wait(pid) == -signal.SIGKILL
    assert not folder.exists()
    assert kid_of(scene.key)  # the scene is usable in the parent after a child died
