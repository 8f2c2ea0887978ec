"""Security regressions of the commands that write trust: named tests, one per defect class.

Crash safety itself (kill -9 at every step of every writing command) is proven by
``tests/trust/test_crash.py``; these tests pin the single defects issue 12 found.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from healthcred import KeyGrant, kid_of
from healthcred.cli.main import main
from healthcred.crypto.keys import save_private_key, save_public_key
from healthcred.errors import TrustEquivocation, TrustFolderBusy, TrustListRollback, TrustStoreError
from healthcred.trust.bundle import BUNDLE_FILE, install_bundle, make_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.folder import load_trust
from healthcred.trust.lists import parse_trust_list
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.state import STATE_FILE, load_state
from healthcred.trust.transaction import RECORD_FILE, STAGING_DIR, folder_transaction, folder_view
from tests.helpers.world import KEY_NOT_AFTER, T0, World, signed_list, ts


def run(*args: object, code: int = 0) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def folder(world: World, tmp_path: Path) -> Path:
    save_public_key(world.root.public_key(), tmp_path / "root.pub.pem")
    run("trust", "init", tmp_path / "trust", "--anchor", tmp_path / "root.pub.pem")
    return tmp_path / "trust"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _anchors(world: World) -> list[Anchor]:
    return [Anchor.from_key(world.root.public_key())]


def _bundle(world: World, version: int, issued: int = 0) -> bytes:
    return make_bundle(world.root, version=version, issued_at=ts(T0) + issued, trust_lists=[world.trust_list])


def test_bundle_equivocation_is_refused(world: World, folder: Path) -> None:
    """A second bundle with the installed bundle's version is an equivocation, not an update."""
    install_bundle(folder, _bundle(world, 3), _anchors(world))
    before = _snapshot(folder)
    with pytest.raises(TrustEquivocation, match="version 3"):
        install_bundle(folder, _bundle(world, 3, issued=60), _anchors(world))  # other bytes, one version
    assert _snapshot(folder) == before


def test_bundle_installed_again_is_a_no_op(world: World, folder: Path) -> None:
    """The installed bundle offered again changes nothing: no file is rewritten, no state touched."""
    data = _bundle(world, 3)
    install_bundle(folder, data, _anchors(world))
    stamps = {p: p.stat().st_mtime_ns for p in (folder / BUNDLE_FILE, folder / STATE_FILE)}
    assert install_bundle(folder, data, _anchors(world)).version == 3
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    with pytest.raises(TrustListRollback):  # and an older one stays refused
        install_bundle(folder, _bundle(world, 2), _anchors(world))


def test_loose_list_equivocation_is_refused(world: World, folder: Path, tmp_path: Path) -> None:
    """trust add of another list with a held list's series and version: trust_equivocation."""
    (tmp_path / "a.cose").write_bytes(world.trust_list)
    other = _other_v1(world)
    (tmp_path / "b.cose").write_bytes(other)
    run("trust", "add", folder, tmp_path / "a.cose")
    before = _snapshot(folder)
    assert "trust_equivocation" in run("trust", "add", folder, tmp_path / "b.cose", code=1).output
    assert _snapshot(folder) == before


def _other_v1(world: World) -> bytes:
    grant = KeyGrant(world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER))
    return signed_list(world.root, [grant], version=1)


def test_revocation_list_added_twice_is_one_list(world: World, folder: Path, tmp_path: Path) -> None:
    """One revocation list under a second name was 'two lists with one version'; another one is refused."""
    first, second = (
        make_revocation_list(world.root, version=1, added=[i * 16], issued_at=ts(T0), expires_at=2**31)
        for i in (b"\x01", b"\x02")
    )
    for name, data in (("r1.cose", first), ("r1-copy.cose", first), ("r1-other.cose", second)):
        (tmp_path / name).write_bytes(data)
    run("trust", "add", folder, tmp_path / "r1.cose")
    run("trust", "add", folder, tmp_path / "r1.cose")  # the same file again: nothing to do
    run("trust", "add", folder, tmp_path / "r1-copy.cose")
    assert len(load_trust(folder).revocations) == 1
    assert "trust_equivocation" in run("trust", "add", folder, tmp_path / "r1-other.cose", code=1).output


def test_rotate_keeps_the_rules_role(world: World, tmp_path: Path) -> None:
    """trust rotate rebuilt grants field by field and dropped may_sign_rules from the old and the new key."""
    grant = KeyGrant(world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER), may_sign_rules=True)
    (tmp_path / "v1.cose").write_bytes(signed_list(world.root, [grant]))
    save_private_key(world.root, tmp_path / "root.key.pem")
    save_public_key(world.shanghai.public_key(), tmp_path / "new.pub.pem")
    old = kid_of(world.zhejiang).hex()
    base = ("trust", "rotate", tmp_path / "v1.cose", "--root", tmp_path / "root.key.pem", "--old", old)
    at = ("--at", "2026-06-01T00:00:00Z")
    run(*base, "--new", tmp_path / "new.pub.pem", *at, "--out", tmp_path / "v2.cose")
    rotated = parse_trust_list((tmp_path / "v2.cose").read_bytes(), _anchors(world))
    assert [(e.kid == kid_of(world.zhejiang), e.may_sign_rules) for e in rotated.entries] == [
        (True, True),
        (False, True),
    ]
    run(*base, "--compromised", *at, "--out", tmp_path / "v2c.cose")
    compromised = parse_trust_list((tmp_path / "v2c.cose").read_bytes(), _anchors(world))
    assert compromised.entries[0].may_sign_rules and compromised.entries[0].compromised_at is not None


def test_out_files_are_never_clobbered_silently(world: World, folder: Path, tmp_path: Path) -> None:
    """trust sign/rotate/revoke replaced an existing --out file without a word; now only with --force."""
    save_private_key(world.root, tmp_path / "root.key.pem")
    out = tmp_path / "bundle.cose"
    out.write_bytes(b"precious")
    sign = ("trust", "sign", folder, "--root", tmp_path / "root.key.pem", "--version", "1", "--out", out)
    assert "--force" in run(*sign, code=2).output
    assert out.read_bytes() == b"precious"
    run(*sign, "--force")
    assert out.read_bytes() != b"precious"
    revoke = ("trust", "revoke", "--key", tmp_path / "root.key.pem", "--id", "ab", "--version", "1")
    assert "--force" in run(*revoke, "--out", out, code=2).output


def test_second_writer_is_refused(world: World, folder: Path, tmp_path: Path) -> None:
    """Two writers interleaving their renames could mix two changes; the second one is refused."""
    (tmp_path / "a.cose").write_bytes(world.trust_list)
    with folder_transaction(folder):
        assert "trust_folder_busy" in run("trust", "add", folder, tmp_path / "a.cose", code=3).output
        with pytest.raises(TrustFolderBusy):
            install_bundle(folder, _bundle(world, 1), _anchors(world))
    run("trust", "add", folder, tmp_path / "a.cose")  # the lock is gone with its holder


def test_pending_change_is_read_as_applied_without_writing(world: World, folder: Path) -> None:
    """A reader finding a committed record sees the new state, virtually: a verifier may not write."""
    # What a writer killed right after its commit point leaves: the record and the staged file.
    os.makedirs(folder / STAGING_DIR / "lists")
    (folder / STAGING_DIR / "lists" / "national.cose").write_bytes(world.trust_list)
    document = {
        "format": 1,
        "puts": [_put("lists/national.cose", world.trust_list)],
        "deletes": [],
        "versions": {"x/y": 7},
    }
    (folder / RECORD_FILE).write_text(json.dumps(document))
    before = _snapshot(folder)
    store = load_trust(folder)
    assert [t.id for t in store.lists] == ["national"]
    assert folder_view(folder).floor == {"x/y": 7}
    assert _snapshot(folder) == before  # nothing written
    with folder_transaction(folder):  # the next writer rolls it forward
        pass
    assert (folder / "lists" / "national.cose").read_bytes() == world.trust_list
    assert load_state(folder / STATE_FILE)["x/y"] == 7 and not (folder / RECORD_FILE).exists()


def _put(path: str, data: bytes) -> dict[str, object]:
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def test_staged_files_without_a_record_are_ignored(world: World, folder: Path) -> None:
    """A writer killed before its commit point leaves staged files: not trust until a record names them."""
    os.makedirs(folder / STAGING_DIR / "lists")
    (folder / STAGING_DIR / "lists" / "national.cose").write_bytes(world.trust_list)
    (folder / "lists" / ".national.cose.1234abcd.tmp").write_bytes(world.trust_list[:10])  # a torn temporary
    assert load_trust(folder).lists == ()
    with folder_transaction(folder):
        pass
    assert not (folder / STAGING_DIR).exists()


@pytest.mark.parametrize("path", ["../outside.cose", "/etc/passwd", "lists/../../x", ".staging/x", "a/b/c"])
def test_a_record_names_files_inside_the_folder_only(folder: Path, path: str) -> None:
    """A record is data: a path in it that leaves the folder (or hides in it) is refused, never read."""
    document = {"format": 1, "puts": [_put(path, b"")], "deletes": [], "versions": {}}
    (folder / RECORD_FILE).write_text(json.dumps(document))
    with pytest.raises(TrustStoreError, match="not a path inside the folder"):
        load_trust(folder)


def test_the_floor_is_never_lowered(world: World, folder: Path) -> None:
    """state.json is merged with max: a record with a lower floor (or a stale writer) cannot lower it."""
    (folder / STATE_FILE).write_text(json.dumps({"versions": {"s/a": 9}}))
    document = {"format": 1, "puts": [], "deletes": [], "versions": {"s/a": 2, "s/b": 1}}
    (folder / RECORD_FILE).write_text(json.dumps(document))
    assert folder_view(folder).floor == {"s/a": 9, "s/b": 1}
    with folder_transaction(folder):
        pass
    assert load_state(folder / STATE_FILE) == {"s/a": 9, "s/b": 1}


def test_init_refuses_a_folder_with_other_files(world: World, tmp_path: Path) -> None:
    """init wrote anchors into any folder named; it now builds the folder whole and renames it into place."""
    save_public_key(world.root.public_key(), tmp_path / "root.pub.pem")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    run("trust", "init", tmp_path / "busy", "--anchor", tmp_path / "root.pub.pem", code=2)
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]
    (tmp_path / ".fresh.0badc0de.init").mkdir()  # what a killed init leaves beside its folder
    run("trust", "init", tmp_path / "fresh", "--anchor", tmp_path / "root.pub.pem")
    assert load_trust(tmp_path / "fresh").anchors and not (tmp_path / ".fresh.0badc0de.init").exists()


def test_remove_refused_leaves_the_folder_byte_identical(world: World, folder: Path, tmp_path: Path) -> None:
    """remove moved files aside and back (a crash between lost them); a refused one now touches nothing."""
    v2 = _v2(world)
    (tmp_path / "v1.cose").write_bytes(world.trust_list)
    (tmp_path / "v2.cose").write_bytes(v2)
    run("trust", "add", folder, tmp_path / "v1.cose", tmp_path / "v2.cose")
    before = _snapshot(folder)
    assert "trust_list_rollback" in run("trust", "remove", folder, "v2.cose", code=1).output
    assert _snapshot(folder) == before and not (folder / ".removed").exists()


def _v2(world: World) -> bytes:
    grant = KeyGrant(world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER))
    return signed_list(world.root, [grant], version=2)


def test_bundle_equivocation_survives_deleting_the_bundle(world: World, folder: Path) -> None:
    """install v3, rm bundle.cose, install another v3: state.json kept versions only, so it was accepted."""
    first = _bundle(world, 3)
    install_bundle(folder, first, _anchors(world))
    (folder / BUNDLE_FILE).unlink()
    with pytest.raises(TrustEquivocation, match="version 3 was accepted before with other content"):
        install_bundle(folder, _bundle(world, 3, issued=60), _anchors(world))
    assert not (folder / BUNDLE_FILE).exists()
    assert install_bundle(folder, first, _anchors(world)).version == 3  # the accepted bytes come back
    assert (folder / BUNDLE_FILE).read_bytes() == first


@pytest.mark.parametrize("kind", ["trust list", "revocation list"])
def test_loose_equivocation_survives_removing_the_file(
    world: World, folder: Path, tmp_path: Path, kind: str
) -> None:
    """trust add v1, trust remove it, trust add another v1: the folder forgot, so it was accepted."""
    if kind == "trust list":
        first, second = world.trust_list, _other_v1(world)
    else:
        first, second = (
            make_revocation_list(world.root, version=1, added=[i * 16], issued_at=ts(T0), expires_at=2**31)
            for i in (b"\x01", b"\x02")
        )
    (tmp_path / "first.cose").write_bytes(first)
    (tmp_path / "second.cose").write_bytes(second)
    run("trust", "add", folder, tmp_path / "first.cose")
    run("trust", "remove", folder, "first.cose")
    before = _snapshot(folder)
    output = run("trust", "add", folder, tmp_path / "second.cose", code=1).output
    assert "trust_equivocation" in output and f"{kind} " in output
    assert _snapshot(folder) == before
    run("trust", "add", folder, tmp_path / "first.cose")  # the accepted content itself is welcome back


def test_a_trust_list_and_a_revocation_list_of_one_id_are_not_an_equivocation(
    world: World, folder: Path, tmp_path: Path
) -> None:
    """Trust and revocation lists share a version floor (``signer-kid/id``) but not a content:
    a revocation list named like the national trust list, same version, is no second content."""
    revocations = make_revocation_list(
        world.root, version=1, added=[b"\x01" * 16], issued_at=ts(T0), expires_at=2**31, list_id="national"
    )
    (tmp_path / "list.cose").write_bytes(world.trust_list)
    (tmp_path / "revocations.cose").write_bytes(revocations)
    run("trust", "add", folder, tmp_path / "list.cose")
    run("trust", "add", folder, tmp_path / "revocations.cose")
    digests = json.loads((folder / STATE_FILE).read_text())["digests"]
    series = f"{kid_of(world.root).hex()}/national"
    assert digests[series]["sha256"] == hashlib.sha256(world.trust_list).hexdigest()
    assert digests[f"revocations:{series}"]["sha256"] == hashlib.sha256(revocations).hexdigest()


def test_state_without_digests_still_loads_and_learns_them(world: World, folder: Path) -> None:
    """A state.json written before digests existed loads; the next write adds the accepted digest."""
    data = _bundle(world, 3)
    install_bundle(folder, data, _anchors(world))
    state = json.loads((folder / STATE_FILE).read_text())
    assert state["digests"][f"bundle:{kid_of(world.root).hex()}/national"] == {
        "version": 3,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (folder / STATE_FILE).write_text(json.dumps({"versions": state["versions"]}))  # the old format
    assert load_trust(folder).lists and load_state(folder / STATE_FILE) == state["versions"]
    install_bundle(folder, data, _anchors(world))  # the installed bundle again: the digest is learnt
    assert json.loads((folder / STATE_FILE).read_text()) == state


@pytest.mark.parametrize(
    "digests",
    [
        [],
        {"s": "ab"},
        {"s": {"version": 1}},
        {"s": {"version": -1, "sha256": "0" * 64}},
        {"s": {"version": 1, "sha256": "A" * 64}},
    ],
)
def test_damaged_digests_are_a_trust_store_error(folder: Path, digests: object) -> None:
    """The digests member is checked like the versions: a damaged one is refused, never half-used."""
    (folder / STATE_FILE).write_text(json.dumps({"versions": {"s": 1}, "digests": digests}))
    with pytest.raises(TrustStoreError, match="digest"):
        load_trust(folder)


def test_a_format_2_record_rolls_its_digests_forward(world: World, folder: Path) -> None:
    """A writer killed after its commit point: the next writer writes the record's digests into the state."""
    digest = hashlib.sha256(b"x").hexdigest()
    document = {
        "format": 2,
        "puts": [],
        "deletes": [],
        "versions": {"s/a": 4},
        "digests": {"s/a": {"version": 4, "sha256": digest}},
    }
    (folder / RECORD_FILE).write_text(json.dumps(document))
    assert folder_view(folder).floor == {"s/a": 4}
    with folder_transaction(folder):
        pass
    assert json.loads((folder / STATE_FILE).read_text())["digests"] == document["digests"]


def test_state_file_that_is_a_fifo_does_not_block(folder: Path) -> None:
    """load_state checked the size with stat(), then read_text(): a FIFO named state.json hung the loader."""
    os.mkfifo(folder / STATE_FILE)
    keeper = os.open(folder / STATE_FILE, os.O_RDWR | os.O_NONBLOCK)  # a writer that never writes
    outcome: list[BaseException] = []
    reader = threading.Thread(target=_load_into, args=(folder, outcome), daemon=True)
    reader.start()
    reader.join(60)  # a liveness guard, not a timing assert: the fixed loader returns at once
    os.close(keeper)
    assert not reader.is_alive(), "the loader blocked on a FIFO"
    assert len(outcome) == 1 and isinstance(outcome[0], TrustStoreError)
    assert "not a regular file" in str(outcome[0])


def _load_into(folder: Path, outcome: list[BaseException]) -> None:
    try:
        load_trust(folder)
    except BaseException as exc:  # handed to the test thread, which checks its type
        outcome.append(exc)


def test_add_says_already_installed_for_a_no_op_bundle(world: World, folder: Path, tmp_path: Path) -> None:
    """trust add printed "installed bundle" for the installed bundle offered again, which changes nothing."""
    (tmp_path / "b.cose").write_bytes(_bundle(world, 2))
    assert "installed bundle 'national' v2" in run("trust", "add", folder, tmp_path / "b.cose").output
    again = run("trust", "add", folder, tmp_path / "b.cose").output
    assert "already installed" in again and "installed bundle" not in again
