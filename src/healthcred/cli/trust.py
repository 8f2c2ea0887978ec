"""``healthcred trust``: manage a verifier's trust folder and the lists and bundles it holds.

Every command that changes a folder verifies the result completely first; on
any failure the folder is left as it was, and a crash at any instant leaves it
in the old state or the new one (one folder transaction per command, see
:mod:`healthcred.trust.transaction`). Signed ``--out`` files are written
atomically and replace an existing file only with ``--force``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click

from healthcred.cli.exits import REFUSED, SETUP, CommandFailure, setup_step
from healthcred.cli.support import (
    INPUT_FILE,
    KEY_URI_HELP,
    SIGNING_KEY,
    echo_json,
    fail_typed,
    force_option,
    input_name,
    iso,
    json_option,
    load_public_file,
    load_signing_key,
    naming,
    one_stdin,
    public_of,
    read_input,
    time_option,
    write_file,
)
from healthcred.cli.trust_views import (
    anchors_of,
    describe_change,
    diff_views,
    grant_brief,
    is_stdin,
    load_list,
    open_any,
    retire_grant,
    store_view,
    successor_grant,
    validate_rule_sets,
    when,
    written,
)
from healthcred.crypto.cose import Sign1
from healthcred.crypto.keys import kid_of, save_public_key
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
_ANY = click.Path(exists=True, allow_dash=True, path_type=Path)
"""A trust folder, or a bundle file (`-`: a bundle on stdin)."""


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
    "--anchor",
    type=INPUT_FILE,
    multiple=True,
    required=True,
    help="Root public key(s) to trust (PEM; `-` for stdin).",
)
@json_option("Print the folder made and its anchors as one JSON object (docs/cli.md).")
@fail_typed
def trust_init(folder: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Create a trust folder that trusts the given root keys."""
    one_stdin(**{"--anchor": anchor})
    if (folder / ANCHORS_DIR).exists():
        raise click.UsageError(f"{folder} is a trust folder already")
    if folder.is_dir() and any(folder.iterdir()):
        raise click.UsageError(f"{folder} exists and is not empty: give a new or empty folder")
    keys = [load_public_file(path, "anchor") for path in anchor]

    def populate(building: Path) -> None:
        for sub in (ANCHORS_DIR, LISTS_DIR, REVOCATIONS_DIR):
            (building / sub).mkdir()
        for key in keys:
            save_public_key(key, building / ANCHORS_DIR / f"{kid_of(key).hex()}.pem")

    build_folder(folder, populate)  # complete under a hidden name, then renamed into place
    if as_json:
        echo_json({"folder": str(folder), "anchors": [kid_of(key).hex() for key in keys]})
        return
    click.echo(f"trust folder {folder}: {len(anchor)} anchor(s); add lists with `trust add`")


_STDIN_STEM = "stdin-"
"""How `trust add` names a file read from stdin in the folder: this and its content's SHA-256 (12 hex)."""


@trust.command("add")
@click.argument("folder", type=_DIR)
@click.argument("files", type=INPUT_FILE, nargs=-1, required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Add the files even if they would invalidate codes the folder accepts now (each is named).",
)
@json_option("Print the change, the diff and the folder's counts as one JSON object (docs/cli.md).")
@fail_typed
def trust_add(folder: Path, files: tuple[Path, ...], force: bool, as_json: bool) -> None:
    """Add signed trust lists, revocation lists, rule sets, a bundle, or foreign trust.

    Foreign trust is EU DCC signing certificates (.der/.pem/.crt/.cer, or a .json DSC list) and
    SMART Health Card issuer files (.json with "iss"): they are checked, then copied to dsc/ or shc/.
    All files are added in one change: all of them or, on any failure or crash, none. The change
    to the folder's keys is shown first; one that would make codes the folder accepts now fail
    (a key removed, a window shortened, a region, kind or colour narrowed) is refused unless --force.
    A signed file may come on stdin (`-`): it is kept as stdin-HASH.cose.
    """
    one_stdin(**{"FILES": files})
    try:
        report = _add(folder, files, force, as_json)
    except _Refusal as refusal:
        if not as_json:
            raise refusal.failure from None
        failure = refusal.failure  # one object on stdout carries the reasons, one line on stderr
        error = {"code": failure.code, "message": failure.format_message()}
        echo_json({"error": error, "exit": REFUSED, **refusal.details})
        failure.show()
        raise click.exceptions.Exit(REFUSED) from None
    if as_json:
        echo_json(report)
        return
    for bundle in report["bundles"]:
        what = "installed bundle" if bundle["installed"] else "already installed: bundle"
        click.echo(f"{what} {bundle['id']!r} v{bundle['version']} ({bundle['lists']} lists)")
    click.echo(
        f"added {report['added']} file(s); {report['lists']} lists, {report['revocation_series']} "
        f"revocation series, {report['dscs']} DSCs, {report['shc_issuers']} SHC issuers"
    )
    for kid, why in report["conflicts"].items():
        click.echo(f"warning: conflict for kid {kid}: {why}", err=True)


class _Refusal(Exception):
    """`trust add` refused a change: the failure, and what --json reports beside it."""

    def __init__(self, failure: CommandFailure, details: dict[str, Any]) -> None:
        super().__init__(failure.format_message())
        self.failure = failure
        self.details = details


def _add(folder: Path, files: tuple[Path, ...], force: bool, as_json: bool) -> dict[str, Any]:
    # The one transaction of `trust add`; its report is the --json shape (docs/cli.md).
    with folder_transaction(folder) as change:
        anchors = load_anchors(folder)
        before = load_trust(folder)  # the folder as it is must load; then with the additions
        placed, bundles = list[dict[str, Any]](), list[tuple[Bundle, bool]]()
        for path in files:
            with naming(path):
                placed.append(_stage(change, folder, path, anchors, bundles))
        store = load_folder_view(change.view())
        validate_rule_sets(store)
        history = _check_history(before, store, force, as_json)
        change.raise_floor(store.versions)
        change.commit()
    return {
        "folder": str(folder),
        "files": placed,
        "added": sum(1 for p in placed if p["new"] and p["placed"] is not None),
        "bundles": [
            {"id": b.id, "version": b.version, "lists": len(b.store.lists), "installed": fresh}
            for b, fresh in bundles
        ],
        **history,
        "lists": len(store.lists),
        "revocation_series": len(store.revocations),
        "dscs": len(store.dscs),
        "shc_issuers": len(store.shc_issuers),
        "conflicts": {kid.hex(): why for kid, why in store.conflicts.items()},
    }


def _stage(
    change: Transaction, folder: Path, path: Path, anchors: list[Anchor], bundles: list[tuple[Bundle, bool]]
) -> dict[str, Any]:
    # One file of `trust add` staged in the change (a bundle remembered in ``bundles``): where it
    # goes (None: a bundle) and whether it is new to the folder.
    data = read_input(path, what="file")
    rel = _placement(folder, path, data)
    entry: dict[str, Any] = {"input": input_name(path), "placed": rel, "new": True}
    if rel is None:
        fresh = change.view().read(BUNDLE_FILE) != data
        bundles.append((stage_bundle(change, data, anchors), fresh))
        entry["new"] = fresh
        return entry
    held = change.view().read(rel)
    if held is not None and held != data:
        raise click.UsageError(f"{folder / rel} exists with other content; remove it first")
    _remember(change, rel, data)
    if held is not None:
        entry["new"] = False
        return entry
    change.put(rel, data)
    return entry


def _entries(store: TrustStore) -> list[TrustEntry]:
    return [e for t in store.lists for e in t.entries]


def _check_history(before: TrustStore, after: TrustStore, force: bool, as_json: bool) -> dict[str, Any]:
    # Show what changes; refuse (unless forced) a change that makes codes accepted now fail.
    changes = diff_views(store_view(before), store_view(after))
    lost = invalidations(_entries(before), _entries(after), int(datetime.now(UTC).timestamp()))
    history = {"changes": changes, "count": len(changes), "would_invalidate": lost, "forced": bool(lost)}
    if not as_json:
        for change in changes:
            click.echo(describe_change(change))
        for why in lost:  # a refusal's reasons go to stdout: stderr holds its one error line
            click.echo(f"overridden with --force: {why}" if force else f"would invalidate: {why}", err=force)
    if lost and not force:
        failure = CommandFailure(
            f"[would_invalidate] refused: the new lists would make codes the folder accepts now fail "
            f"({len(lost)} grant(s), above); publish a list that keeps them, or add it with --force",
            REFUSED,
            code="would_invalidate",
        )
        raise _Refusal(failure, {key: history[key] for key in ("changes", "count", "would_invalidate")})
    return history


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
    # Foreign trust is told by its suffix, so only a signed file can come on stdin; it is named by
    # its content, so the same file twice is one file and two different ones never collide.
    name = f"{_STDIN_STEM}{hashlib.sha256(data).hexdigest()[:12]}.cose" if is_stdin(path) else path.name
    if not is_stdin(path) and path.suffix.lower() in DSC_SUFFIXES:
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
        raise click.UsageError(
            f"{input_name(path)} is not a trust list, revocation list, rule set or bundle ({kind!r})"
        )
    if name.startswith("."):
        raise click.UsageError(f"{path}: a hidden file name; rename it (trust folders ignore hidden files)")
    return f"{sub}/{name}"


@trust.command("remove")
@click.argument("folder", type=_DIR)
@click.argument("names", nargs=-1, required=True)
@json_option("Print the files removed as one JSON object (docs/cli.md).")
@fail_typed
def trust_remove(folder: Path, names: tuple[str, ...], as_json: bool) -> None:
    """Remove list files or foreign trust files (by file name) if the folder still loads without them."""
    subs = (LISTS_DIR, REVOCATIONS_DIR, RULES_DIR, DSC_DIR, SHC_DIR)
    removed = []
    with folder_transaction(folder) as change:
        view = change.view()
        for name in names:
            found = [f"{sub}/{name}" for sub in subs if folder / sub / name in view.listing(folder / sub)]
            if not found:
                raise click.UsageError(f"no list file {name!r} in {folder}")
            change.delete(found[0])
            removed.append(found[0])
        store = load_folder_view(change.view())  # refused unless the folder still loads without them
        change.commit()
    if as_json:
        echo_json({"folder": str(folder), "removed": removed, "lists": len(store.lists)})
        return
    click.echo(f"removed {len(names)} file(s)")


def _deprecated_at(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    # `--at` is the validation time everywhere else; here it meant when the rotation takes effect.
    moment = time_option(ctx, param, value)
    if moment is not None:
        click.echo(
            "warning: `trust rotate --at` is deprecated: use --effective (when the rotation takes effect)",
            err=True,
        )
    return moment


@trust.command("rotate")
@click.argument("listfile", type=INPUT_FILE)
@click.option(
    "--root",
    type=SIGNING_KEY,
    required=True,
    help="The private key that signs the list: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option(
    "--anchor",
    type=INPUT_FILE,
    multiple=True,
    help="Root public key(s) the current list is signed by (default: --root's public key).",
)
@click.option("--old", "old_kid", required=True, help="Kid (hex) of the key to retire.")
@click.option(
    "--new",
    "new_key",
    type=INPUT_FILE,
    default=None,
    help="Public key that takes over its grant (`-` for stdin).",
)
@click.option(
    "--effective",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="When the old key is retired (or compromised) and the new one takes over (default: --issued).",
)
@click.option(
    "--issued",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="The new list's issue time (default now).",
)
@click.option(
    "--at",
    metavar="TIME",
    callback=_deprecated_at,
    default=None,
    hidden=True,
    help="Deprecated: --effective (and --issued, unless given).",
)
@click.option(
    "--compromised", is_flag=True, help="The old key leaked: refuse its codes issued from --effective on."
)
@click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="New list's validity."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed next version (.cose).",
)
@force_option("Replace an existing --out file.")
@json_option("Print the list written and the keys retired and added as one JSON object (docs/cli.md).")
@fail_typed
def trust_rotate(
    listfile: Path,
    root: Path,
    anchor: tuple[Path, ...],
    old_kid: str,
    new_key: Path | None,
    effective: datetime | None,
    issued: datetime | None,
    at: datetime | None,
    compromised: bool,
    valid_days: int,
    out: Path,
    force: bool,
    as_json: bool,
) -> None:
    """Retire (or mark compromised) a key and let a new one take over its grant, as version + 1."""
    one_stdin(**{"LISTFILE": listfile, "--root": root, "--anchor": anchor, "--new": new_key})
    if at is not None and effective is not None:
        raise click.UsageError("give --effective only (--at is its old name)")
    _refuse_clobber(out, force)
    signer = load_signing_key(root, "signing key", content_type=TRUST_LIST_CONTENT_TYPE)
    # Without --anchor, the list must be signed by the key that signs its successor.
    current = load_list(
        listfile, anchors_of(anchor) if anchor else [Anchor.from_key(public_of(signer))], anchor
    )
    issue_time = int((issued or at or datetime.now(UTC)).timestamp())
    moment = int(effective.timestamp()) if effective else issue_time
    grants, old = retire_grant(current.grants, old_kid, moment, compromised=compromised)
    if old is None:
        raise click.UsageError(f"no key with kid {old_kid} on {input_name(listfile)}")
    successor = None
    if new_key is not None:
        successor = successor_grant(old, load_public_file(new_key, "new key"), moment)
        grants.append(successor)
    version = current.version + 1
    expires = issue_time + valid_days * 86400
    signed = make_trust_list(
        signer, grants, version=version, list_id=current.list_id, issued_at=issue_time, expires_at=expires
    )
    write_file(out, signed, overwrite=force)
    if as_json:
        echo_json(
            {
                **written(out, signed),
                "id": current.list_id,
                "version": version,
                "issued_at": when(issue_time),
                "expires_at": when(expires),
                "effective": when(moment),
                "retired": old_kid.lower(),
                "compromised": compromised,
                "new": grant_brief(successor) if successor else None,
            }
        )
        return
    what = "marked compromised" if compromised else "retired"
    click.echo(
        f"wrote {out}: list {current.list_id!r} v{version}, key {old_kid} {what}"
        + (f", new key {grant_brief(successor)['kid']}" if successor else "")
    )


@trust.command("revoke")
@click.option(
    "--key",
    type=SIGNING_KEY,
    required=True,
    help="Issuer (or root) private key that signs the list: a PEM file (`-`: stdin)" + KEY_URI_HELP,
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
@force_option("Replace an existing --out file.")
@json_option("Print the revocation list written as one JSON object (docs/cli.md).")
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
    as_json: bool,
) -> None:
    """Write a signed revocation list (full, or a delta on --base) of credential ids."""
    try:
        added = [bytes.fromhex(i) for i in ids]
        removed = [bytes.fromhex(i) for i in unrevoke]
    except ValueError as exc:
        raise click.BadParameter(f"credential ids are hex: {exc}") from exc
    _refuse_clobber(out, force)
    now = int(datetime.now(UTC).timestamp())
    expires = now + valid_days * 86400
    signed = make_revocation_list(
        load_signing_key(key, "signing key", content_type=REVOCATION_CONTENT_TYPE),
        version=version,
        base=base,
        list_id=list_id,
        issued_at=now,
        expires_at=expires,
        added=added,
        removed=removed,
    )
    write_file(out, signed, overwrite=force)
    if as_json:
        echo_json(
            {
                **written(out, signed),
                "id": list_id,
                "version": version,
                "base": base,
                "revoked": len(added),
                "unrevoked": len(removed),
                "issued_at": when(now),
                "expires_at": when(expires),
            }
        )
        return
    click.echo(
        f"wrote {out}: revocation list {list_id!r} v{version} (base {base}), +{len(added)} -{len(removed)}"
    )


@trust.command("sign")
@click.argument("folder", type=_DIR)
@click.option(
    "--root",
    type=SIGNING_KEY,
    required=True,
    help="Root private key (an anchor) that signs the bundle: a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option("--version", "version", type=click.IntRange(min=1), required=True, help="Bundle version.")
@click.option("--id", "bundle_id", default="national", show_default=True, help="The bundle's series id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed bundle (.cose).",
)
@force_option("Replace an existing --out file.")
@json_option("Print the bundle written and what it holds as one JSON object (docs/cli.md).")
@fail_typed
def trust_sign(
    folder: Path, root: Path, version: int, bundle_id: str, out: Path, force: bool, as_json: bool
) -> None:
    """Sign the folder's lists, revocation lists, rule sets and foreign trust into one bundle."""
    _refuse_clobber(out, force)
    store = load_trust(folder)
    key = load_signing_key(root, "signing key", content_type=BUNDLE_CONTENT_TYPE)
    if kid_of(public_of(key)) not in {a.kid for a in store.anchors}:
        raise TrustStoreError("the bundle must be signed by one of the folder's anchors")
    now = datetime.now(UTC).replace(microsecond=0)
    data = make_bundle(
        key,
        version=version,
        issued_at=int(now.timestamp()),
        trust_lists=store.raw_lists,
        revocations=store.raw_revocations,
        rule_sets=store.raw_rule_sets,
        bundle_id=bundle_id,
        dscs=store.dscs,
        shc_issuers=store.shc_issuers,
    )
    write_file(out, data, overwrite=force)
    if as_json:
        echo_json(
            {
                **written(out, data),
                "id": bundle_id,
                "version": version,
                "issued_at": iso(now),
                "lists": len(store.raw_lists),
                "revocation_lists": len(store.raw_revocations),
                "rule_sets": len(store.raw_rule_sets),
                "dscs": len(store.dscs),
                "shc_issuers": len(store.shc_issuers),
            }
        )
        return
    click.echo(
        f"wrote {out}: bundle {bundle_id!r} v{version}, {len(store.raw_lists)} lists, "
        f"{len(store.raw_revocations)} revocation lists, {len(data)} bytes"
    )


@trust.command("show")
@click.argument("source", type=_ANY)
@click.option("--anchor", type=INPUT_FILE, multiple=True, help="Root public key(s), for a bundle file.")
@json_option("Print the folder or bundle as one JSON object (docs/cli.md, trust show).")
@fail_typed
def trust_show(source: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Show what a trust folder or bundle holds: lists, keys, revocations, conflicts."""
    one_stdin(**{"SOURCE": source, "--anchor": anchor})
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
@click.argument("source", type=click.Path(allow_dash=True, path_type=Path))
@click.option("--anchor", type=INPUT_FILE, multiple=True, help="Root public key(s), for a bundle file.")
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
    one_stdin(**{"SOURCE": source, "--anchor": anchor})
    bundle = is_stdin(source) or source.is_file()
    with setup_step(f"trust {'bundle' if bundle else 'folder'}"), naming(source):
        if not bundle and not source.exists():
            raise TrustStoreError("no such file or folder")
        store = open_any(source, anchor)
    report = _verify_report(store, int((at or datetime.now(UTC)).timestamp()), expiring_days)
    report["source"] = input_name(source)
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
@click.option("--anchor", type=INPUT_FILE, multiple=True, help="Root public key(s), for bundle files.")
@json_option()
@fail_typed
def trust_diff(old: Path, new: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Show what changes from OLD to NEW (folders or bundles): lists, keys, grants, revocations.

    Also names every grant of OLD whose codes, issued by now, NEW would refuse (as `trust add` does).
    """
    one_stdin(**{"OLD": old, "NEW": new, "--anchor": anchor})
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
