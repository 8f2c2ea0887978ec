"""Helpers of ``healthcred trust``: JSON-ready views of a store, anchors, bundles, lists, key rotation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from healthcred.cli.support import input_name, iso_epoch, load_public_file, naming, read_input
from healthcred.crypto.keys import kid_of
from healthcred.errors import InvalidRule, UntrustedList
from healthcred.rules.policy import PolicySet
from healthcred.rules.status import StatusRuleSet
from healthcred.trust.bundle import open_bundle
from healthcred.trust.envelope import Anchor
from healthcred.trust.folder import load_anchors, load_trust
from healthcred.trust.grants import ROLE_NAMES, KeyGrant, TrustEntry
from healthcred.trust.history import retire_grant, successor_grant
from healthcred.trust.lists import parse_trust_list
from healthcred.trust.store import TrustStore

__all__ = [
    "LoadedList",
    "anchors_of",
    "describe_change",
    "diff_views",
    "entry_view",
    "grant_brief",
    "is_stdin",
    "load_list",
    "open_any",
    "retire_grant",
    "signed_by",
    "store_view",
    "successor_grant",
    "validate_rule_sets",
    "when",
    "written",
]


def _roles(e: TrustEntry) -> tuple[bool, bool, bool]:
    return e.may_issue, e.may_delegate, e.may_sign_rules


def when(epoch: int | None) -> str | None:
    """Epoch seconds as ISO 8601 with offset (``support.iso_epoch``), as every view shows times."""
    return iso_epoch(epoch)


def entry_view(e: TrustEntry) -> dict[str, Any]:
    """A JSON-ready description of one key on a trust list."""
    return {
        "kid": e.kid.hex(),
        "alg": e.alg.label,
        "region": e.region,
        "not_before": when(e.not_before),
        "not_after": when(e.not_after),
        "kinds": sorted(e.kinds) if e.kinds is not None else "any",
        "statuses": sorted(e.statuses) if e.statuses is not None else "any",
        "roles": [r for r, on in zip(ROLE_NAMES, _roles(e), strict=True) if on],
        "compromised_at": when(e.compromised_at),
        "delegated_by": e.delegated_by.hex() if e.delegated_by else None,
    }


def grant_brief(g: KeyGrant) -> dict[str, str]:
    """A key on a list being written, as the ``--json`` reports of the writing commands name it."""
    return {"kid": kid_of(g.public_key).hex(), "region": g.region}


def written(path: Path, data: bytes | str) -> dict[str, Any]:
    """The file a command wrote and its size, as every writing command's ``--json`` starts."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    return {"file": str(path), "bytes": size}


def store_view(store: TrustStore) -> dict[str, Any]:
    """A JSON-ready description of everything a trust store holds."""
    return {
        "anchors": [a.kid.hex() for a in store.anchors],
        "lists": [
            {
                "id": t.id,
                "version": t.version,
                "signer": t.signer_kid.hex(),
                "delegated": t.delegated,
                "issued_at": when(t.issued_at),
                "expires_at": when(t.expires_at),
                "entries": [entry_view(e) for e in t.entries],
            }
            for t in store.lists
        ],
        "revocations": [
            {
                "series": r.series,
                "scope": r.scope,
                "version": r.version,
                "revoked": len(r.hashes),
                "expires_at": when(r.expires_at),
            }
            for r in store.revocations
        ],
        "rule_sets": [
            {
                "id": r.id,
                "kind": r.kind,
                "version": r.version,
                "signer": r.signer_kid.hex(),
                "issued_at": when(r.issued_at),
                "expires_at": when(r.expires_at),
            }
            for r in store.rule_sets
        ],
        "conflicts": {kid.hex(): why for kid, why in store.conflicts.items()},
        "versions": store.versions,
        "dscs": [
            {
                "kid": d.kid.hex(),
                "country": d.country,
                "usages": sorted(d.usages),
                "not_before": d.not_before.isoformat(),
                "not_after": d.not_after.isoformat(),
            }
            for d in store.dscs
        ],
        "shc_issuers": [
            {
                "iss": i.iss,
                "keys": [k.kid for k in i.keys],
                "revoked": sum(len(r) for r in i.revocations.values()),
            }
            for i in store.shc_issuers
        ],
    }


def validate_rule_sets(store: TrustStore) -> None:
    """Compile every rule set in ``store`` so an invalid one is refused before it is installed."""
    for signed in store.rule_sets:
        try:
            (StatusRuleSet if signed.kind == "status" else PolicySet)(signed.body)
        except InvalidRule as exc:
            raise InvalidRule(f"rule set {signed.id!r} v{signed.version}: {exc.message}") from exc


def anchors_of(options: tuple[Path, ...], fallback: Path | None = None) -> list[Anchor]:
    """The anchors given by ``--anchor`` options, else those of the ``fallback`` trust folder."""
    if options:
        anchors = []
        for p in options:
            with naming(p):
                anchors.append(Anchor.from_key(load_public_file(p)))
        return anchors
    if fallback is not None and fallback.is_dir():
        return load_anchors(fallback)
    raise click.UsageError("give the root public key(s) with --anchor")


def is_stdin(path: Path | str) -> bool:
    """True for the ``-`` that names stdin (a folder or file named ``-`` is given as ``./-``)."""
    return str(path) == "-"


def open_any(path: Path, anchor: tuple[Path, ...]) -> TrustStore:
    """The store of a trust folder, or of a bundle file (or ``-``, stdin) checked against ``--anchor``."""
    if not is_stdin(path) and path.is_dir():
        with naming(path):
            return load_trust(path)
    anchors = anchors_of(anchor)
    with signed_by(path, anchor):
        return open_bundle(read_input(path, what="bundle"), anchors).store


@dataclass
class LoadedList:
    """The grants and header of a verified trust list, the starting point of its next version."""

    grants: list[KeyGrant]
    version: int
    list_id: str
    expires_at: int
    issued_at: int


@contextmanager
def signed_by(path: Path, anchor: tuple[Path, ...]) -> Iterator[None]:
    """Name ``path`` in any error inside, and the ``--anchor`` files when none of them signed it."""
    try:
        with naming(path):
            yield
    except UntrustedList as exc:
        if anchor:
            exc.message += f" (--anchor gave {', '.join(map(input_name, anchor))})"
            exc.args = (exc.message,)
        raise


def load_list(
    path: Path, anchors: list[Anchor], anchor: tuple[Path, ...] = (), data: bytes | None = None
) -> LoadedList:
    """The trust list in the file at ``path`` (or ``data``, read from it already), verified against
    ``anchors`` (from the ``anchor`` files)."""
    with signed_by(path, anchor):
        if data is None:
            data = read_input(path, what="trust list")
        parsed = parse_trust_list(data, anchors)
    return LoadedList(
        [e.grant() for e in parsed.entries], parsed.version, parsed.id, parsed.expires_at, parsed.issued_at
    )


def _keyed(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{t['signer']}/{t['id']}/{e['kid']}": {**e, "list": f"{t['signer']}/{t['id']}"}
        for t in view["lists"]
        for e in t["entries"]
    }


def diff_views(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changes from one :func:`store_view` to another, one object per change.

    ``change`` is ``version`` (``series``, ``from``, ``to``), ``added`` or ``removed`` (``kid``,
    ``region``, ``list``), ``changed`` (``kid``, ``list``, ``field``, ``from``, ``to``) or
    ``conflict`` (``kid``, ``why``): the shape ``trust diff --json`` documents.
    """
    changes: list[dict[str, Any]] = []
    old_versions, new_versions = before["versions"], after["versions"]
    for series in sorted({*old_versions, *new_versions}):
        a, b = old_versions.get(series), new_versions.get(series)
        if a != b:
            changes.append({"change": "version", "series": series, "from": a, "to": b})
    old_keys, new_keys = _keyed(before), _keyed(after)
    for name in sorted({*old_keys, *new_keys}):
        a, b = old_keys.get(name), new_keys.get(name)
        if a is None or b is None:
            e = a or b or {}
            kind = "added" if a is None else "removed"
            changes.append({"change": kind, "kid": e["kid"], "region": e["region"], "list": e["list"]})
            continue
        for f in a:
            if a[f] != b[f]:
                changes.append(
                    {
                        "change": "changed",
                        "kid": a["kid"],
                        "list": a["list"],
                        "field": f,
                        "from": a[f],
                        "to": b[f],
                    }
                )
    for kid in sorted(set(after["conflicts"]) - set(before["conflicts"])):
        changes.append({"change": "conflict", "kid": kid, "why": after["conflicts"][kid]})
    return changes


def describe_change(c: dict[str, Any]) -> str:
    """One line of ``trust diff`` (and ``trust add``) for a change of :func:`diff_views`."""
    if c["change"] == "version":
        return f"{c['series']}: version {c['from']} → {c['to']}"
    if c["change"] in ("added", "removed"):
        return f"{'+' if c['change'] == 'added' else '-'} key {c['kid']} ({c['region']})"
    if c["change"] == "changed":
        return f"~ key {c['kid']} {c['field']}: {c['from']} → {c['to']}"
    return f"! new conflict {c['kid']}: {c['why']}"
