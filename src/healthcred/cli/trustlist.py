"""``healthcred trustlist``: build, edit, sign and show a signed trust list of regional issuer keys.

`build` and `edit` write the list's source JSON (:mod:`healthcred.trust.sources`) for review;
`sign` signs it. `edit` starts from the previous *signed* version, so every entry it is not told
to change is carried over exactly (the same CBOR bytes once signed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

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
    read_input,
    read_text_input,
    time_option,
    write_file,
)
from healthcred.cli.trust_views import (
    LoadedList,
    anchors_of,
    entry_view,
    grant_brief,
    is_stdin,
    load_list,
    signed_by,
    when,
    written,
)
from healthcred.clock import epoch_seconds
from healthcred.crypto.keys import kid_of
from healthcred.errors import BadInput
from healthcred.regions import NATIONAL_REGION, check_region, region_words
from healthcred.trust.grants import ROLE_NAMES, KeyGrant
from healthcred.trust.history import KEY_VALID_DAYS, retire_grant, successor_grant
from healthcred.trust.lists import TRUST_LIST_CONTENT_TYPE, make_trust_list, parse_trust_list
from healthcred.trust.sources import (
    KIND_NAMES,
    KeySource,
    TrustListSource,
    grant_source,
    kind_numbers,
    read_source,
    status_numbers,
)

__all__ = ["trustlist"]

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def trustlist() -> None:
    """Build, edit, sign and show signed trust lists of regional issuer keys."""


@dataclass(frozen=True)
class Given:
    """A grant option the user gave: ``value`` is the set (``None``: any kind / colour)."""

    value: frozenset[int] | None


def _set_option(convert: Callable[[list[str | int]], frozenset[int] | None], allowed: str) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Given | None:
        if value is None:
            return None
        if value.strip().lower() == "any":
            return Given(None)
        items: list[str | int] = [
            int(v) if v.isdigit() else v for v in (p.strip() for p in value.split(",")) if v
        ]
        try:
            return Given(convert(items))
        except BadInput as exc:
            raise click.BadParameter(f"{exc.message} (allowed: {allowed}, comma-separated, or any)") from exc

    return callback


def _roles_option(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    roles = frozenset(r.strip() for r in value.split(",") if r.strip())
    unknown = sorted(roles - set(ROLE_NAMES))
    if unknown or not roles:
        raise click.BadParameter(
            f"{', '.join(unknown) or value!r}: roles are {', '.join(ROLE_NAMES)}, comma-separated"
        )
    return roles


def grant_options(func: F) -> F:
    """The options that set a grant: kinds, colours, roles and issue window (build and edit)."""
    options = [
        click.option(
            "--kinds",
            metavar="NAMES",
            callback=_set_option(kind_numbers, ", ".join(KIND_NAMES)),
            help=f"Credential kinds the key(s) may sign: {', '.join(KIND_NAMES)} or numbers, "
            "comma-separated; any (the default) for all.",
        ),
        click.option(
            "--statuses",
            "--colours",
            "statuses",
            metavar="NAMES",
            callback=_set_option(status_numbers, "green, yellow, red or codes"),
            help="Colours (statuses) the key(s) may issue: green, yellow, red or codes, comma-separated; "
            "any (the default) for all.",
        ),
        click.option(
            "--roles",
            metavar="ROLES",
            callback=_roles_option,
            help="What the key(s) may sign: issue, delegate (a list of its own), rules; comma-separated "
            "(default issue).",
        ),
        click.option(
            "--not-before",
            metavar="TIME",
            callback=time_option,
            help="Earliest issue time of the key(s)' codes (default: the list's --issued).",
        ),
        click.option(
            "--not-after",
            metavar="TIME",
            callback=time_option,
            help="Latest issue time of the key(s)' codes (default: --key-valid-days after --not-before).",
        ),
        click.option(
            "--key-valid-days",
            type=click.IntRange(min=1),
            default=KEY_VALID_DAYS,
            show_default=True,
            help="Days a new key may issue, when --not-after is not given.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class GrantOptions:
    """The grant options as given (``None``: not given)."""

    kinds: Given | None
    statuses: Given | None
    roles: frozenset[str] | None
    not_before: datetime | None
    not_after: datetime | None
    key_valid_days: int

    def new(self, key: Any, region: str, start: datetime) -> KeyGrant:
        """A new key's grant: the options given, defaults for the rest (window from ``start``)."""
        begin = self.not_before or start
        roles = self.roles or frozenset({"issue"})
        return KeyGrant(
            key,
            region,
            epoch_seconds(begin),
            epoch_seconds(self.not_after or begin + timedelta(days=self.key_valid_days)),
            self.kinds.value if self.kinds else None,
            self.statuses.value if self.statuses else None,
            "issue" in roles,
            "delegate" in roles,
            None,
            "rules" in roles,
        )

    def changed(self, g: KeyGrant, region: str | None) -> KeyGrant:
        """``g`` with only the options given (and ``region``, if given) changed."""
        changes: dict[str, Any] = {}
        if region:
            changes["region"] = region
        if self.kinds:
            changes["kinds"] = self.kinds.value
        if self.statuses:
            changes["statuses"] = self.statuses.value
        if self.roles:
            changes.update(
                may_issue="issue" in self.roles,
                may_delegate="delegate" in self.roles,
                may_sign_rules="rules" in self.roles,
            )
        if self.not_before:
            changes["not_before"] = epoch_seconds(self.not_before)
        if self.not_after:
            changes["not_after"] = epoch_seconds(self.not_after)
        return replace(g, **changes)


def _pair(item: str, option: str, right: str) -> tuple[str, str]:
    left, sep, value = item.rpartition("=")
    if not sep or not left or not value:
        raise click.BadParameter(f"{item!r}: expected {right}", param_hint=option)
    return left, value


def _region(value: str, option: str) -> str:
    # A code the GB/T 2260 table names at no level can never match a real code's region.
    try:
        check_region(value)
    except BadInput as exc:
        raise click.BadParameter(f"{value!r}: {exc.message}", param_hint=option) from exc
    if value != NATIONAL_REGION and region_words(value)[0] == value:
        raise click.BadParameter(
            f"{value}: no province, city or county of the GB/T 2260 table has this code", param_hint=option
        )
    return value


def _refuse_clobber(out: Path, force: bool) -> None:
    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; give another --out, or --force to replace it")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _write_source(out: Path, source: TrustListSource, force: bool) -> dict[str, Any]:
    # The source JSON written for review; returns the head of the --json report.
    _refuse_clobber(out, force)
    text = source.model_dump_json(indent=2, exclude_none=True) + "\n"
    write_file(out, text, overwrite=force)
    return {
        **written(out, text),
        "id": source.id,
        "version": source.version,
        "issued_at": iso(source.issued_at),
        "expires_at": iso(source.expires_at),
    }


_OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the unsigned list (JSON, for review before `trustlist sign`).",
)
_ISSUED = click.option(
    "--issued", metavar="TIME", callback=time_option, default=None, help="List issue time (default now)."
)
_VALID_DAYS = click.option(
    "--valid-days", type=click.IntRange(min=1), default=30, show_default=True, help="Days the list is valid."
)


@trustlist.command("build")
@click.option(
    "--entry",
    "entries",
    multiple=True,
    required=True,
    metavar="PUB.pem=REGION",
    help="An issuer public key and the GB/T 2260 region it may issue for (repeatable; PUB `-` reads "
    "the key from stdin and embeds it).",
)
@click.option("--version", "list_version", type=click.IntRange(min=1), required=True, help="List version.")
@click.option("--id", "list_id", default="national", show_default=True, help="The list's series id.")
@_ISSUED
@_VALID_DAYS
@grant_options
@click.option(
    "--embed",
    is_flag=True,
    help="Put each public key in the JSON (PEM) instead of its path relative to --out.",
)
@_OUT
@force_option("Replace an existing --out file.")
@json_option("Print the source written and its keys as one JSON object (docs/cli.md).")
@fail_typed
def trustlist_build(
    entries: tuple[str, ...],
    list_version: int,
    list_id: str,
    issued: datetime | None,
    valid_days: int,
    embed: bool,
    out: Path,
    force: bool,
    as_json: bool,
    **grant: Any,
) -> None:
    """Write an unsigned trust list as JSON, for review and then `trustlist sign`.

    The grant options apply to every --entry; give keys with different grants in separate
    `trustlist edit --add` steps, or edit the JSON.
    """
    one_stdin(**{"--entry": tuple(e.rpartition("=")[0] for e in entries)})
    start = issued or _now()
    options = GrantOptions(**grant)
    sources, keys = [], []
    for item in entries:
        pub, region = _pair(item, "--entry", "PUB.pem=REGION")
        g = options.new(load_public_file(pub), _region(region, "--entry"), start)
        # A key from stdin has no path to point at: it is embedded.
        rel = None if embed or is_stdin(pub) else os.path.relpath(Path(pub).resolve(), out.parent.resolve())
        sources.append(grant_source(g, key_path=rel))
        keys.append(grant_brief(g))
    source = TrustListSource(
        id=list_id,
        version=list_version,
        issued_at=start,
        expires_at=start + timedelta(days=valid_days),
        entries=sources,
    )
    report = _write_source(out, source, force)
    if as_json:
        echo_json({**report, "entries": keys})
        return
    click.echo(f"wrote {out}: {len(sources)} entries, version {list_version}; sign it with `trustlist sign`")


@trustlist.command("edit")
@click.argument("previous", type=INPUT_FILE)
@click.option(
    "--anchor",
    type=INPUT_FILE,
    multiple=True,
    help="Public key(s) a signed PREVIOUS must be signed by (the root, or the delegating key of a "
    "delegated list).",
)
@click.option(
    "--add",
    "adds",
    multiple=True,
    metavar="PUB.pem=REGION",
    help="Add a key for a region, with the grant options (repeatable).",
)
@click.option(
    "--retire",
    "retires",
    multiple=True,
    metavar="KID",
    help="End a key's issue window at --effective: its earlier codes stay valid until they expire.",
)
@click.option(
    "--compromise",
    "compromises",
    multiple=True,
    metavar="KID",
    help="Refuse every code the key signed from --effective on, even ones already issued.",
)
@click.option(
    "--rotate",
    "rotations",
    multiple=True,
    metavar="KID=NEW.pub.pem",
    help="Retire a key at --effective and give a new key its grant (region, kinds, colours, roles) "
    "from then.",
)
@click.option(
    "--grant",
    "regrants",
    multiple=True,
    metavar="KID[=REGION]",
    help="Change a key's grant: its region if given, and the grant options given; the rest is kept.",
)
@click.option(
    "--effective",
    metavar="TIME",
    callback=time_option,
    default=None,
    help="When --retire, --compromise and --rotate take effect (default: the new list's --issued).",
)
@click.option(
    "--version",
    "list_version",
    type=click.IntRange(min=1),
    default=None,
    help="New list version (default: a signed PREVIOUS's + 1, a draft's own).",
)
@_ISSUED
@_VALID_DAYS
@grant_options
@_OUT
@force_option("Replace an existing --out file.")
@json_option("Print the source written and each change made as one JSON object (docs/cli.md).")
@fail_typed
def trustlist_edit(
    previous: Path,
    anchor: tuple[Path, ...],
    adds: tuple[str, ...],
    retires: tuple[str, ...],
    compromises: tuple[str, ...],
    rotations: tuple[str, ...],
    regrants: tuple[str, ...],
    effective: datetime | None,
    list_version: int | None,
    issued: datetime | None,
    valid_days: int,
    out: Path,
    force: bool,
    as_json: bool,
    **grant: Any,
) -> None:
    """Write the next version of a signed list as JSON: every entry not named is kept exactly.

    PREVIOUS is the signed list (.cose, checked against --anchor; the new version is its + 1) or an
    unsigned draft (.json, from `build` or `edit`; its version is kept), so keys with different
    grants are added one `edit` at a time. Keys are embedded in the JSON (PEM), so it carries to
    an offline signing machine.
    """
    one_stdin(
        **{
            "PREVIOUS": previous,
            "--anchor": anchor,
            "--add": tuple(a.rpartition("=")[0] for a in adds),
            "--rotate": tuple(r.rpartition("=")[2] for r in rotations),
        }
    )
    current, version, kept = _previous(previous, anchor, list_version, out)
    start = issued or _now()
    moment = epoch_seconds(effective or start)
    options = GrantOptions(**grant)
    grants, done = current.grants, []
    made: dict[str, list[Any]] = {
        key: [] for key in ("retired", "compromised", "rotated", "regranted", "added")
    }
    for kid, compromised in [*((k, False) for k in retires), *((k, True) for k in compromises)]:
        grants, old = retire_grant(grants, kid, moment, compromised=compromised)
        _must_hold(old, kid, previous)
        done.append(f"{'compromised' if compromised else 'retired'} {kid}")
        made["compromised" if compromised else "retired"].append(kid.lower())
    for item in rotations:
        kid, pub = _pair(item, "--rotate", "KID=NEW.pub.pem")
        grants, old = retire_grant(grants, kid, moment, compromised=False)
        grants.append(successor_grant(_must_hold(old, kid, previous), load_public_file(pub), moment))
        done.append(f"rotated {kid} → {kid_of(grants[-1].public_key).hex()}")
        made["rotated"].append({"from": kid.lower(), "to": kid_of(grants[-1].public_key).hex()})
    for item in regrants:
        kid, _, region = item.partition("=")
        grants, found = _regrant(grants, kid, options, _region(region, "--grant") if region else None)
        _must_hold(found, kid, previous)
        done.append(f"re-granted {kid}")
        made["regranted"].append(kid.lower())
    for item in adds:
        pub, region = _pair(item, "--add", "PUB.pem=REGION")
        g = options.new(load_public_file(pub), _region(region, "--add"), start)
        if any(kid_of(h.public_key) == kid_of(g.public_key) for h in grants):
            raise click.BadParameter(
                f"{input_name(pub)} is on the list already; change its grant with --grant", param_hint="--add"
            )
        grants.append(g)
        done.append(f"added {kid_of(g.public_key).hex()} ({g.region})")
        made["added"].append(grant_brief(g))
    source = TrustListSource(
        id=current.list_id,
        version=version,
        issued_at=start,
        expires_at=start + timedelta(days=valid_days),
        entries=[kept.get(id(g)) or grant_source(g) for g in grants],
    )
    report = _write_source(out, source, force)
    if as_json:
        echo_json({**report, "effective": when(moment), "entries": [grant_brief(g) for g in grants], **made})
        return
    click.echo(
        f"wrote {out}: list {current.list_id!r} v{version}, {len(grants)} entries"
        f" ({'; '.join(done) or 'no key changed'}); sign it with `trustlist sign`"
    )


def _previous(
    previous: Path, anchor: tuple[Path, ...], version: int | None, out: Path
) -> tuple[LoadedList, int, dict[int, KeySource]]:
    # A signed list (checked against --anchor) and its next version, or an unsigned draft and its
    # own version; with a draft, the entries of its grants (by identity) keep their key paths.
    # On stdin (no suffix to go by) a draft is told by its first character: a signed list is CBOR.
    data = read_input(previous, what="previous list") if is_stdin(previous) else None
    if previous.suffix.lower() == ".json" or (data is not None and _looks_like_json(data)):
        draft = _read_draft(previous, data)
        with naming(previous):
            grants = draft.grants(previous.parent)
        current = LoadedList(
            grants, draft.version, draft.id, epoch_seconds(draft.expires_at), epoch_seconds(draft.issued_at)
        )
        kept = {
            id(g): _rebased(e, previous.parent, out.parent)
            for g, e in zip(grants, draft.entries, strict=True)
        }
        return current, version or draft.version, kept
    current = load_list(previous, anchors_of(anchor), anchor, data)
    version = version or current.version + 1
    if version <= current.version:
        raise click.BadParameter(
            f"{version} is not after {previous}'s version {current.version}", param_hint="--version"
        )
    return current, version, {}


def _rebased(entry: KeySource, source_dir: Path, out_dir: Path) -> KeySource:
    # A relative key path stays relative, now to the folder of the file written.
    if entry.key is None or Path(entry.key).is_absolute():
        return entry
    resolved = (source_dir / entry.key).resolve()
    return entry.model_copy(update={"key": os.path.relpath(resolved, out_dir.resolve())})


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _read_draft(spec: Path, data: bytes | None = None) -> TrustListSource:
    # ``data``: the draft's bytes, when stdin has been read already to tell what it holds.
    with naming(spec):
        if data is None:
            return read_source(read_text_input(spec, what="trust list source"))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})") from exc
        return read_source(text)


def _must_hold(grant: KeyGrant | None, kid: str, previous: Path) -> KeyGrant:
    if grant is None:
        raise click.UsageError(f"no key with kid {kid} on {previous} (`trustlist show` lists them)")
    return grant


def _regrant(
    grants: list[KeyGrant], kid: str, options: GrantOptions, region: str | None
) -> tuple[list[KeyGrant], KeyGrant | None]:
    out, found = [], None
    for g in grants:
        if kid_of(g.public_key).hex() == kid.lower():
            found = g
            g = options.changed(g, region)
        out.append(g)
    return out, found


@trustlist.command("sign")
@click.argument("spec", type=INPUT_FILE)
@click.option(
    "--root",
    "--key",
    "root",
    type=SIGNING_KEY,
    required=True,
    help="The private key that signs: the national root (an anchor), or a key granted the delegate "
    "role for its delegated list; a PEM file (`-`: stdin)" + KEY_URI_HELP,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed list (.cose).",
)
@force_option("Replace an existing --out file.")
@json_option("Print the list signed and its keys as one JSON object (docs/cli.md).")
@fail_typed
def trustlist_sign(spec: Path, root: Path, out: Path, force: bool, as_json: bool) -> None:
    """Sign a JSON trust list (from `trustlist build` or `edit`) with the root key.

    Key paths in the JSON are read relative to the JSON file's folder (for `-`, stdin: the
    current folder).
    """
    one_stdin(**{"SPEC": spec, "--root": root})
    _refuse_clobber(out, force)
    source = _read_draft(spec)
    with naming(spec):
        grants = source.grants(spec.parent)
    signed = make_trust_list(
        load_signing_key(root, "signing key", content_type=TRUST_LIST_CONTENT_TYPE),
        grants,
        version=source.version,
        issued_at=epoch_seconds(source.issued_at),
        expires_at=epoch_seconds(source.expires_at),
        list_id=source.id,
    )
    write_file(out, signed, overwrite=force)
    if as_json:
        echo_json(
            {
                **written(out, signed),
                "id": source.id,
                "version": source.version,
                "issued_at": iso(source.issued_at),
                "expires_at": iso(source.expires_at),
                "entries": [grant_brief(g) for g in grants],
            }
        )
        return
    click.echo(f"wrote {out} ({len(signed)} bytes, {len(grants)} entries, version {source.version})")


@trustlist.command("show")
@click.argument("listfile", type=INPUT_FILE)
@click.option(
    "--anchor",
    type=INPUT_FILE,
    multiple=True,
    required=True,
    help="Public key(s) the list must be signed by (the root, or a delegating key).",
)
@json_option()
@fail_typed
def trustlist_show(listfile: Path, anchor: tuple[Path, ...], as_json: bool) -> None:
    """Verify a signed trust list against anchor(s) and show its entries."""
    one_stdin(**{"LISTFILE": listfile, "--anchor": anchor})
    anchors = anchors_of(anchor)
    with signed_by(listfile, anchor):
        parsed = parse_trust_list(read_input(listfile, what="trust list"), anchors)
    view: dict[str, Any] = {
        "id": parsed.id,
        "version": parsed.version,
        "issued_at": when(parsed.issued_at),
        "expires_at": when(parsed.expires_at),
        "signed_by": parsed.signer_kid.hex(),
        "entries": [entry_view(e) for e in parsed.entries],
    }
    if as_json:
        echo_json(view)
        return
    click.echo(
        f"trust list {view['id']!r} v{view['version']} signed by {view['signed_by']}, "
        f"valid {view['issued_at']} → {view['expires_at']}"
    )
    for e in view["entries"]:
        click.echo(
            f"  {e['kid']}  {e['alg']:5}  region {e['region']}  {'+'.join(e['roles'])}  kinds={e['kinds']} "
            f"statuses={e['statuses']}  {e['not_before']} → {e['not_after']}"
            + (f"  compromised {e['compromised_at']}" if e["compromised_at"] else "")
        )
