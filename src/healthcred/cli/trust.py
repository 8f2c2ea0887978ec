"""``healthcred trust``: manage a verifier's trust folder and the lists and bundles it holds.

Every command that changes a folder verifies the result completely first; on
any failure the folder is left as it was, and a crash at any instant leaves it
in the old state or the new one (one folder transaction per command, see
:mod:`healthcred.trust.transaction`). Signed ``--out`` files are written
atomically and replace an existing file only with ``--force``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click

from healthcred.cli.exits import REFUSED, SETUP, CommandFailure, setup_step
from healthcred.cli.support import (
    EXISTING_FILE,
    echo_json,
    fail_typed,
    json_option,
    load_public_file,
    naming,
    read_input,
    time_option,
    write_file,
)
from healthcred.cli.trust_views import (
    anchors_of,
    describe_change,
    diff_views,
    load_list,
    open_any,
    retire_grant,
    store_view,
    successor_grant,
    validate_rule_sets,
    when,
)
from healthcred.crypto.cose import Sign1
from healthcred.crypto.keys import kid_of, load_private_key, save_public_key
from healthcred.errors import TrustStoreError
from healthcred.foreign.dcc.dsc import DSC_SUFFIXES
from healthcred.trust.bundle import BUNDLE_CONTENT_TYPE, BUNDLE_FILE, Bundle, make_bundle, stage_bundle
from healthcred.trust.envelope import Anchor, open_signed
from healthcred.trust.folder import (
    ANCHORS_DIR,
    DSC_DIR,
    LISTS_DIR,
    REVOCATIONS_DIR,
    RULES_DIR,
    SHC_DIR,
    load_anchors,
    load_folder_view,
    load_foreign,
    load_trust,
)
from healthcred.trust.grants import TrustEntry
from healthcred.trust.history import invalidations
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE, make_trust_list, parse_list_body
from healthcred.trust.revocation import (
    MAX_REVOCATION_BYTES,
    REVOCATION_CONTENT_TYPE,
    make_revocation_list,
    parse_revocation_body,
)
from healthcred.trust.rulesets import RULES_CONTENT_TYPE, parse_rule_set_body
from healthcred.trust.series import Versioned
from healthcred.trust.state import digest_key
from healthcred.trust.store import TrustStore
from healthcred.trust.transaction import Transaction, build_folder, folder_transaction

__all__ = ["store_view", "trust", "validate_rule_sets"]

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_ANY = click.Path(exists=True, path_type=Path)
_FORCE = click.option("--force", is_flag=True, help="Replace an existing --out file.")


def _refuse_clobber(out: Path, force: bool) -> None:
    # Signed output is written whole (atomically) and never replaces a file silently.
    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; give another --out, or --force to replace it")


@click.group()
def trust() -> None:
    """Manage a verifier's trust folder: anchors, lists, revocations and bundles."""


@trust.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--anchor", type=EXISTING_FILE, multiple=True, required=True, help="Root public key(s) to trust."
)
@fail_typed
def trust_init(folder: Path, anchor: tuple[Path, ...]) -> None:
    """Create a trust folder that trusts the given root keys."""
    if (folder / ANCHORS_DIR).exists():
        raise click.UsageError(f"{folder} is a trust folder already")
    if folder.is_dir() and any(folder.iterdir()):
        raise click.UsageError(f"{folder} exists and is not empty: give a new or empty folder")
    keys = [load_public_file(path) for path in anchor]

    def populate(building: Path) -> None:
        for sub in (ANCHORS_DIR, LISTS_DIR, REVOCATIONS_DIR):
            (building / sub).mkdir()
        for key in keys:
            save_public_key(key, building / ANCHORS_DIR / f"{kid_of(key).hex()}.pem")

    build_folder(folder, populate)  # complete under a hidden name, then renamed into place
    click.echo(f"trust folder {folder}: {len(anchor)} anchor(s); add lists with `trust add`")


@trust.command("add")
@click.argument("folder", type=_DIR)
@click.argument("files", type=EXISTING_FILE, nargs=-1, required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Add the files even if they would invalidate codes the folder accepts now (each is named).",
)
@fail_typed
def trust_add(folder: Path, files: tuple[Path, ...], force: bool) -> None:
    """Add signed trust lists, revocation lists, rule sets, a bundle, or foreign trust.

    Foreign trust is EU DCC signing certificates (.der/.pem/.crt/.cer, or a .json DSC list) and
    SMART Health Card issuer files (.json with "iss"): they are checked, then copied to dsc/ or shc/.
    All files are added in one change: all of them or, on any failure or crash, none. The change
    to the folder's keys is shown first; one that would make codes the folder accepts now fail
    (a key removed, a window shortened, a region, kind or colour narrowed) is refused unless --force.
    """
    with folder_transaction(folder) as change:
        anchors = load_anchors(folder)
        before = load_trust(folder)  # the folder as it is must load; then with the additions
        added, bundles = 0, list[tuple[Bundle, bool]]()
        for path in files:
            with naming(path):
                added += _stage(change, folder, path, anchors, bundles)
        store = load_folder_view(change.view())
        validate_rule_sets(store)
        _check_history(before, store, force)
        change.raise_floor(store.versions)
        change.commit()
    for bundle, fresh in bundles:
        what = "installed bundle" if fresh else "already installed: bundle"
        click.echo(f"{what} {bundle.id!r} v{bundle.version} ({len(bundle.store.lists)} lists)")
    click.echo(
        f"added {added} file(s); {len(store.lists)} lists, {len(store.revocations)} revocation series, "
        f"{len(store.dscs)} DSCs, {len(store.shc_issuers)} SHC issuers"
    )
    for kid, why in store.conflicts.items():
        click.echo(f"warning: conflict for kid {kid.hex()}: {why}", err=True)


def _stage(
    change: Transaction, folder: Path, path: Path, anchors: list[Anchor], bundles: list[tuple[Bundle, bool]]
) -> int:
    # One file of `trust add` staged in the change (a bundle remembered in ``bundles``); 1 if it is new.
    data = read_input(path, what="file")
    rel = _placement(folder, path, data)
    if rel is None:
        fresh = change.view().read(BUNDLE_FILE) != data
        bundles.append((stage_bundle(change, data, anchors), fresh))
        return 0
    held = change.view().read(rel)
    if held is not None and held != data:
        raise click.UsageError(f"{folder / rel} exists with other content; remove it first")
    _remember(change, rel, data)
    if held is not None:
        return 0
    change.put(rel, data)
    return 1


def _entries(store: TrustStore) -> list[TrustEntry]:
    return [e for t in store.lists for e in t.entries]


def _check_history(before: TrustStore, after: TrustStore, force: bool) -> None:
    # Show what changes; refuse (unless forced) a change that makes codes accepted now fail.
    for change in diff_views(store_view(before), store_view(after)):
        click.echo(describe_change(change))
    lost = invalidations(_entries(before), _entries(after), int(datetime.now(UTC).timestamp()))
    for why in lost:  # a refusal's reasons go to stdout: stderr holds its one error line
        click.echo(f"overridden with --force: {why}" if force else f"would invalidate: {why}", err=force)
    if lost and not force:
        raise CommandFailure(
            f"[would_invalidate] refused: the new lists would make codes the folder accepts now fail "
            f"({len(lost)} grant(s), above); publish a list that keeps them, or add it with --force",
            REFUSED,
            code="would_invalidate",
        )


def _remember(change: Transaction, rel: str, data: bytes) -> None:
    # A signed list's digest goes into the state: a second content for its version is refused even
    # after this file is removed (trust_equivocation). Foreign trust has no versions to remember.
    kind = _IDENTITIES.get(rel.split("/")[0])
    if kind is not None:
        what, parse = kind
        item = parse(open_signed(data, MAX_REVOCATION_BYTES))
        key = digest_key(item.series, revocation=rel.startswith(REVOCATIONS_DIR + "/"))
        change.accept(key, item.version, data, f"{what} {item.id!r}")


_IDENTITIES: dict[str, tuple[str, Callable[[Sign1], Versioned]]] = {
    LISTS_DIR: ("trust list", partial(parse_list_body, delegated_by=None)),
    REVOCATIONS_DIR: ("revocation list", parse_revocation_body),
    RULES_DIR: ("rule set", parse_rule_set_body),
}
"""How a signed file of each sub-folder tells its series and version (its signature is checked later)."""


def _placement(folder: Path, path: Path, data: bytes) -> str | None:
    # Where a file goes in the folder (relative path), or None for a bundle; checked on the way.
    if path.suffix.lower() in DSC_SUFFIXES:
        _, issuers = load_foreign(path)
        return f"{SHC_DIR if issuers else DSC_DIR}/{path.name}"
    kind = open_signed(data, MAX_REVOCATION_BYTES).content_type
    if kind == BUNDLE_CONTENT_TYPE:
        return None
    sub = {
        TRUST_LIST_CONTENT_TYPE: LISTS_DIR,
        REVOCATION_CONTENT_TYPE: REVOCATIONS_DIR,
        RULES_CONTENT_TYPE: RULES_DIR,
    }.get(kind or "")
    if sub is None:
        raise click.UsageError(f"{path} is not a trust list, revocation list, rule set or bundle ({kind!r})")
    if path.name.startswith("."):
        raise click.UsageError(f"{path}: a hidden file name; rename it (trust folders ignore hidden files)")
    return f"{sub}/{path.name}"


@trust.command("remove")
@click.argument("folder", type=_DIR)
@click.argument("names", nargs=-1, required=True)
@fail_typed
def trust_remove(folder: Path, names: tuple[str, ...]) -> None:
    """Remove list files or foreign trust files (by file name) if the folder still loads without them."""
    subs = (LISTS_DIR, REVOCATIONS_DIR, RULES_DIR, DSC_DIR, SHC_DIR)
    with folder_transaction(folder) as change:
        view = change.view()
        for name in names:
            found = [f"{sub}/{name}" for sub in subs if folder / sub / name in view.listing(folder / sub)]
            if not found:
                raise click.UsageError(f"no list file {name!r} in {folder}")
            change.delete(found[0])
        load_folder_view(change.view())  # refused unless the folder still loads without them
        change.commit()
    click.echo(f"removed {len(names)} file(s)")


@trust.command("rotate")
@click.argument("listfile", type=EXISTING_FILE)
@click.option("--root", type=EXISTING_FILE, required=True, help="The private key that signs the list.")
@click.option(
    "--anchor", type=EXISTING_FILE, multiple=True, help="Root public key(s) the current list is signed by."
)
@click.option("--old", "old_kid", required=True, help="Kid (hex) of the key to retire.")
@click.option(
    "--new", "new_key", type=EXISTING_FILE, default=None, help="Public key that takes over its grant."
)
@click.option("--at", metavar="TIME", callback=time_option, default=None, help="When (default now).")
@click.option("--compromised", is_flag=True, help="The old key leaked: refuse its codes issued from --at on.")
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="New list's validity."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed next version (.cose).",
)
@_FORCE
@fail_typed
def trust_rotate(
    listfile: Path,
    root: Path,
    anchor: tuple[Path, ...],
    old_kid: str,
    new_key: Path | None,
    at: datetime | None,
    compromised: bool,
    valid_days: int,
    out: Path,
    force: bool,
) -> None:
    """Retire (or mark compromised) a key and let a new one take over its grant, as version + 1."""
    _refuse_clobber(out, force)
    signer = load_private_key(root)
    # Without --anchor, the list must be signed by the key that signs its successor.
    current = load_list(
        listfile, anchors_of(anchor) if anchor else [Anchor.from_key(signer.public_key())], anchor
    )
    moment = int((at or datetime.now(UTC)).timestamp())
    grants, old = retire_grant(current.grants, old_kid, moment, compromised=compromised)
    if old is None:
        raise click.UsageError(f"no key with kid {old_kid} on {listfile}")
    if new_key is not None:
        grants.append(successor_grant(old, load_public_file(new_key), moment))
    signed = make_trust_list(
        signer,
        grants,
        version=current.version + 1,
        list_id=current.list_id,
        issued_at=moment,
        expires_at=moment + valid_days * 86400,
    )
    write_file(out, signed, overwrite=force)
    what = "marked compromised" if compromised else "retired"
    click.echo(
        f"wrote {out}: list {current.list_id!r} v{current.version + 1}, key {old_kid} {what}"
        + (f", new key {kid_of(load_public_file(new_key)).hex()}" if new_key else "")
    )


@trust.command("revoke")
@click.option(
    "--key", type=EXISTING_FILE, required=True, help="Issuer (or root) private key that signs the list."
)
@click.option("--id", "ids", multiple=True, help="Credential id (hex, as `verify --json` shows) to revoke.")
@click.option("--unrevoke", multiple=True, help="Credential id to take off again (deltas only).")
@click.option(
    "--version", "version", type=click.IntRange(min=1), required=True, help="Revocation list version."
)
@click.option(
    "--base",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Version this delta builds on (0: a full list).",
)
@click.option("--list-id", default="revocations", show_default=True, help="The revocation series id.")
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="Days the list is valid."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed revocation list (.cose).",
)
@_FORCE
@fail_typed
def trust_revoke(
    key: Path,
    ids: tuple[str, ...],
    unrevoke: tuple[str, ...],
    version: int,
    base: int,
    list_id: str,
    valid_days: int,
    out: Path,
    force: bool,
) -> None:
    """Write a signed revocation list (full, or a delta on --base) of credential ids."""
    try:
        added = [bytes.fromhex(i) for i in ids]
        removed = [bytes.fromhex(i) for i in unrevoke]
    except ValueError as exc:
        raise click.BadParameter(f"credential ids are hex: {exc}") from exc
    _refuse_clobber(out, force)
    now = int(datetime.now(UTC).timestamp())
    signed = make_revocation_list(
        load_private_key(key),
        version=version,
        base=base,
        list_id=list_id,
        issued_at=now,
        expires_at=now + valid_days * 86400,
        added=added,
        removed=removed,
    )
    write_file(out, signed, overwrite=force)
    click.echo(
        f"wrote {out}: revocation list {list_id!r} v{version} (base {base}), +{len(added)} -{len(removed)}"
    )


@trust.command("sign")
@click.argument("folder", type=_DIR)
@click.option(
    "--root", type=EXISTING_FILE, required=True, help="Root private key (an anchor) that signs the bundle."
)
@click.option("--version", "version", type=click.IntRange(min=1), required=True, help="Bundle version.")
@click.option("--id", "bundle_id", default="national", show_default=True, help="The bundle's series id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed bundle (.cose).",
)
@_FORCE
@fail_typed
def trust_sign(folder: Path, root: Path, version: int, bundle_id: str, out: Path, force: bool) -> None:
    """Sign the folder's lists, revocation lists, rule sets and foreign trust into one bundle."""
    _refuse_clobber(out, force)
    store = load_trust(folder)
    key = load_private_key(root)
    if kid_of(key) not in {a.kid for a in store.anchors}:
        raise TrustStoreError("the bundle must be signed by one of the folder's anchors")
    now = int(datetime.now(UTC).timestamp())
    data = make_bundle(
        key,
        version=version,
        issued_at=now,
        trust_lists=store.raw_lists,
        revocations=store.raw_revocations,
        rule_sets=store.raw_rule_sets,
        bundle_id=bundle_id,
        dscs=store.dscs,
        shc_issuers=store.shc_issuers,
    )
    write_file(out, data, overwrite=force)
    click.echo(
        f"wrote {out}: bundle {bundle_id!r} v{version}, {len(store.raw_lists)} lists, "
        f"{len(store.raw_revocations)} revocation lists, {len(data)} bytes"
    )


@trust.command("show")
@click.argument("source", type=_ANY)
@click.option("--anchor", type=EXISTING_FILE, multiple=True, help="Root public key(s), for a bundle file.")
@json_option("Print the folder or bundle as one JSON object (docs/cli.md, trust show).")
@fail_typed
def trust_show(source: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Show what a trust folder or bundle holds: lists, keys, revocations, conflicts."""
    view = store_view(open_any(source, anchor))
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(f"anchors: {', '.join(view['anchors'])}")
    for t in view["lists"]:
        kind = "delegated" if t["delegated"] else "root"
        click.echo(f"list {t['id']!r} v{t['version']} ({kind}, signer {t['signer']}) until {t['expires_at']}")
        for e in t["entries"]:
            extra = f" compromised {e['compromised_at']}" if e["compromised_at"] else ""
            click.echo(
                f"  {e['kid']} {e['alg']:5} {e['region']} {'+'.join(e['roles'])} kinds={e['kinds']} "
                f"statuses={e['statuses']} {e['not_before']} → {e['not_after']}{extra}"
            )
    for r in view["revocations"]:
        click.echo(f"revocations {r['series']} v{r['version']}: {r['revoked']} revoked, scope {r['scope']}")
    for r in view["rule_sets"]:
        click.echo(f"rule set {r['id']!r} ({r['kind']}) v{r['version']} until {r['expires_at']}")
    for kid, why in view["conflicts"].items():
        click.echo(f"CONFLICT {kid}: {why}")
    for d in view["dscs"]:
        click.echo(
            f"DSC {d['kid']} {d['country']} {'+'.join(d['usages'])} {d['not_before']} → {d['not_after']}"
        )
    for i in view["shc_issuers"]:
        click.echo(f"SHC issuer {i['iss']}: {len(i['keys'])} keys, {i['revoked']} revoked rids")


@trust.command("verify")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--anchor", type=EXISTING_FILE, multiple=True, help="Root public key(s), for a bundle file.")
@click.option("--at", metavar="TIME", callback=time_option, default=None, help="Check validity at TIME.")
@click.option(
    "--expiring-days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Warn about lists that expire within this many days of --at.",
)
@json_option()
@fail_typed
def trust_verify(
    source: Path, anchor: tuple[Path, ...], at: datetime | None, expiring_days: int, as_json: bool
) -> None:
    """Verify a trust folder or bundle completely; exit 0 if it is usable at --at (default now).

    Warnings (no lists, lists expiring soon, anchors with no list) leave the exit code 0; a list
    expired or not yet valid, or a key conflict, is exit 3, as is a missing or corrupt folder.
    """
    with setup_step(f"trust {'bundle' if source.is_file() else 'folder'}"), naming(source):
        if not source.exists():
            raise TrustStoreError("no such file or folder")
        store = open_any(source, anchor)
    report = _verify_report(store, int((at or datetime.now(UTC)).timestamp()), expiring_days)
    report["source"] = str(source)
    if as_json:
        echo_json(report)
    else:
        for problem in report["problems"]:
            click.echo(f"problem: {problem}")
        for warning in report["warnings"]:
            click.echo(f"warning: {warning}")
        click.echo(
            ("OK" if report["usable"] else "NOT USABLE") + f": {report['lists']} lists, "
            f"{report['keys']} keys, {report['revocation_series']} revocation series"
            + (f", {len(report['warnings'])} warning(s)" if report["warnings"] else "")
        )
    if not report["usable"]:
        raise SystemExit(SETUP)


def _verify_report(store: TrustStore, moment: int, expiring_days: int) -> dict[str, Any]:
    # What `trust verify` reports (its --json shape, docs/cli.md): problems make the store unusable.
    problems = [
        f"list {t.id!r} v{t.version} expired {when(t.expires_at)}"
        for t in store.lists
        if t.expires_at < moment
    ]
    problems += [
        f"list {t.id!r} v{t.version} not valid before {when(t.issued_at)}"
        for t in store.lists
        if t.issued_at > moment
    ]
    problems += [f"conflict for kid {kid.hex()}: {why}" for kid, why in store.conflicts.items()]
    soon = moment + expiring_days * 86400
    warnings = [] if store.lists else ["no trust lists: no code can verify; add one with `trust add`"]
    warnings += [
        f"list {t.id!r} v{t.version} expires {when(t.expires_at)}, within {expiring_days} days"
        for t in store.lists
        if moment <= t.expires_at <= soon
    ]
    signers = {t.signer_kid for t in store.lists if not t.delegated}
    warnings += [
        f"anchor {a.kid.hex()} has signed no list here" for a in store.anchors if a.kid not in signers
    ]
    if not store.anchors and not (store.dscs or store.shc_issuers):
        warnings.append("no anchors: no native list can be trusted")
    return {
        "usable": not problems,
        "at": when(moment),
        "lists": len(store.lists),
        "keys": sum(len(t.entries) for t in store.lists),
        "revocation_series": len(store.revocations),
        "problems": problems,
        "warnings": warnings,
    }


@trust.command("diff")
@click.argument("old", type=_ANY)
@click.argument("new", type=_ANY)
@click.option("--anchor", type=EXISTING_FILE, multiple=True, help="Root public key(s), for bundle files.")
@json_option()
@fail_typed
def trust_diff(old: Path, new: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Show what changes from OLD to NEW (folders or bundles): lists, keys, grants, revocations.

    Also names every grant of OLD whose codes, issued by now, NEW would refuse (as `trust add` does).
    """
    before, after = open_any(old, anchor), open_any(new, anchor)
    changes = diff_views(store_view(before), store_view(after))
    lost = invalidations(_entries(before), _entries(after), int(datetime.now(UTC).timestamp()))
    if as_json:
        echo_json({"changes": changes, "count": len(changes), "would_invalidate": lost})
        return
    for change in changes:
        click.echo(describe_change(change))
    for why in lost:
        click.echo(f"would invalidate: {why}")
    click.echo(f"{len(changes)} change(s)")
