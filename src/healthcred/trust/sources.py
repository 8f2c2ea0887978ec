"""The trust-list source: the JSON an operator reviews, `trustlist build`/`edit` write and `sign` reads.

One model, :class:`TrustListSource` (pydantic, unknown fields refused), so the file has a JSON
Schema (``TrustListSource.model_json_schema()``). Each entry names its public key by a path
*relative to the JSON file's folder* (absolute paths are accepted) or embeds it as PEM text, so
a source carries to an offline root-signing machine. Times are ISO 8601 with an offset. Not on
the verify path: a verifier never imports this module (nor pydantic).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from healthcred.clock import epoch_seconds
from healthcred.crypto.algorithms import PublicKey
from healthcred.crypto.keys import kid_of, load_public_key, public_key_pem
from healthcred.crypto.keys import public_key_from_pem as _from_pem
from healthcred.errors import BadInput, BadKey, HealthCredError
from healthcred.model.credential import CredentialKind
from healthcred.model.status import NATIONAL_PALETTE, STATUS_BY_NAME
from healthcred.trust.grants import MAX_GRANT_SET, PLACE_GRANT_KIND, ROLE_NAMES, KeyGrant
from healthcred.trust.lists import MAX_LIST_ENTRIES

__all__ = [
    "KIND_NAMES",
    "KeySource",
    "RoleName",
    "TrustListSource",
    "grant_source",
    "kind_numbers",
    "read_source",
    "status_numbers",
]

RoleName = Literal["issue", "delegate", "rules"]
"""A role by name (``trust.grants.ROLE_NAMES``)."""

KIND_NAMES: dict[str, int] = {**{k.name.lower(): int(k) for k in CredentialKind}, "place": PLACE_GRANT_KIND}
"""Credential kinds by the name the JSON and the command line give them (``health_status`` → 1)."""

_KINDS_HELP = (
    "Credential kinds the key may sign: names (" + ", ".join(KIND_NAMES) + ") or numbers; absent: any."
)
_STATUSES_HELP = (
    "Colours (statuses) the key may issue: names (" + ", ".join(STATUS_BY_NAME) + ") or codes; absent: any."
)
_TIME_HELP = "ISO 8601 with an offset, e.g. 2026-11-23T08:00:00+08:00"


class KeySource(BaseModel):
    """One key on the list and its grant: region, issue window, kinds, colours, roles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str | None = Field(
        None,
        description="Path of the PEM public key, relative to this JSON file's folder (or absolute). "
        "Give this or public_key.",
    )
    public_key: str | None = Field(
        None, description="The public key itself, SubjectPublicKeyInfo PEM text. Give this or key."
    )
    kid: str | None = Field(
        None, description="The key's kid in hex, for review; when present it must match the key."
    )
    region: str = Field(
        description="GB/T 2260 region code (6 digits) the key may issue for, and all within it."
    )
    not_before: AwareDatetime = Field(
        description=f"Earliest issue time of a code the key signs ({_TIME_HELP})."
    )
    not_after: AwareDatetime = Field(description=f"Latest issue time of a code the key signs ({_TIME_HELP}).")
    kinds: list[str | int] | None = Field(None, description=_KINDS_HELP, max_length=MAX_GRANT_SET)
    statuses: list[str | int] | None = Field(None, description=_STATUSES_HELP, max_length=MAX_GRANT_SET)
    roles: list[RoleName] = Field(
        ["issue"],
        min_length=1,
        description="What the key may sign: issue (codes), delegate (a list of its own, within its "
        "grant), rules (rule sets).",
    )
    compromised_at: AwareDatetime | None = Field(
        None, description=f"Codes the key signed at or after this time are refused ({_TIME_HELP})."
    )

    def public(self, base: Path) -> PublicKey:
        """The entry's public key: embedded, or read from ``key`` resolved against ``base``."""
        if (self.key is None) == (self.public_key is None):
            raise BadInput("give exactly one of key (a PEM file) and public_key (PEM text)")
        if self.public_key is not None:
            try:
                key = _from_pem(self.public_key.encode(), "public_key")
            except BadKey:
                raise BadInput("public_key is not PEM text (-----BEGIN PUBLIC KEY-----…)") from None
        else:
            path = base / Path(self.key or "")
            try:
                key = load_public_key(path)
            except HealthCredError as exc:  # exc names the path as resolved; say what it was resolved from
                raise BadInput(f"key {self.key!r}, relative to this file's folder: {exc.message}") from None
        if self.kid is not None and self.kid.lower() != kid_of(key).hex():
            raise BadInput(f"kid {self.kid} is not the kid of the key ({kid_of(key).hex()})")
        return key

    def grant(self, base: Path) -> KeyGrant:
        """The :class:`KeyGrant` this entry describes (its key file resolved against ``base``)."""
        return KeyGrant(
            self.public(base),
            self.region,
            epoch_seconds(self.not_before),
            epoch_seconds(self.not_after),
            kind_numbers(self.kinds),
            status_numbers(self.statuses),
            "issue" in self.roles,
            "delegate" in self.roles,
            None if self.compromised_at is None else epoch_seconds(self.compromised_at),
            "rules" in self.roles,
        )


class TrustListSource(BaseModel):
    """An unsigned trust list: series id, version, validity, and its keys (``docs/trust.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        "national",
        min_length=1,
        max_length=64,
        description="The list's series id; with the signer's kid it names the series (versions increase).",
    )
    version: int = Field(ge=1, description="List version: greater than every earlier version of the series.")
    issued_at: AwareDatetime = Field(description=f"When the list is issued ({_TIME_HELP}).")
    expires_at: AwareDatetime = Field(description=f"When the list expires ({_TIME_HELP}).")
    entries: list[KeySource] = Field(max_length=MAX_LIST_ENTRIES, description="The keys and their grants.")

    def grants(self, base: Path) -> list[KeyGrant]:
        """Every entry's grant, key files resolved against ``base`` (the JSON file's folder)."""
        out = []
        for i, entry in enumerate(self.entries):
            try:
                out.append(entry.grant(base))
            except HealthCredError as exc:
                raise BadInput(f"entries[{i}]: {exc.message}") from exc
        return out


def _numbers(values: list[str | int] | None, names: dict[str, int], what: str) -> frozenset[int] | None:
    if values is None:
        return None
    out = set()
    for v in values:
        if isinstance(v, int) and v >= 0:
            out.add(v)
        elif isinstance(v, str) and v in names:
            out.add(names[v])
        else:
            raise BadInput(f"{what}: {v!r} is not one of {', '.join(names)} or a number ≥ 0")
    return frozenset(out)


def kind_numbers(values: list[str | int] | None) -> frozenset[int] | None:
    """Kinds given by name or number as the grant's numbers (``None``: any)."""
    return _numbers(values, KIND_NAMES, "kinds")


def status_numbers(values: list[str | int] | None) -> frozenset[int] | None:
    """Colours given by name or code as the grant's status codes (``None``: any)."""
    return _numbers(values, {n: s.code for n, s in STATUS_BY_NAME.items()}, "statuses")


def _named(values: frozenset[int] | None, names: dict[int, str]) -> list[str | int] | None:
    return None if values is None else [names.get(v, v) for v in sorted(values)]


def grant_source(grant: KeyGrant, *, key_path: str | None = None) -> KeySource:
    """The source entry of ``grant``: its key as ``key_path`` if given, else embedded as PEM."""

    def iso(seconds: int) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    flags = {"issue": grant.may_issue, "delegate": grant.may_delegate, "rules": grant.may_sign_rules}
    return KeySource(
        key=key_path,
        public_key=None if key_path is not None else public_key_pem(grant.public_key),
        kid=kid_of(grant.public_key).hex(),
        region=grant.region,
        not_before=iso(grant.not_before),
        not_after=iso(grant.not_after),
        kinds=_named(grant.kinds, {v: k for k, v in KIND_NAMES.items()}),
        statuses=_named(grant.statuses, {c: s.name for c, s in NATIONAL_PALETTE.items()}),
        roles=[r for r in ROLE_NAMES if flags[r]],  # type: ignore[misc]  # ROLE_NAMES' keys are RoleNames
        compromised_at=None if grant.compromised_at is None else iso(grant.compromised_at),
    )


def _fields(loc: tuple[int | str, ...]) -> list[str]:
    # The fields allowed where an unknown one was met: an entry's, or the list's.
    model = KeySource if len(loc) > 2 and loc[0] == "entries" else TrustListSource
    return list(model.model_fields)


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


def _problem(error: Any) -> str:
    # One pydantic error in the user's terms: the field, the value, what is allowed.
    loc = tuple(error["loc"])
    kind: str = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field {loc[-1]!r} in {_where(loc[:-1])}; allowed: {', '.join(_fields(loc))}"
    if kind == "json_invalid":
        return f"not JSON: {error['msg'].removeprefix('Invalid JSON: ')}"
    if kind == "missing":
        return f"{_where(loc)} is missing"
    # str | int unions report each branch; the field path without the branch names it.
    loc = tuple(p for p in loc if p not in ("str", "int"))
    value = json.dumps(error.get("input"), ensure_ascii=False, default=str)[:80]
    if "datetime" in kind or "timezone" in kind:
        return f"{_where(loc)}: {value} is not a time; give {_TIME_HELP}"
    return f"{_where(loc)}: {value}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def read_source(text: str) -> TrustListSource:
    """The trust-list source in JSON ``text``; a problem is a :class:`BadInput` naming the field."""
    try:
        return TrustListSource.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise BadInput(_problem(errors[0]) + more) from None
