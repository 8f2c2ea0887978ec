"""What a checkpoint station decides for each code it reads, without HTTP.

One :class:`Checkpoint` per station: the trust folder (reloaded after an install), the
:class:`~healthcred.flows.gate.Gate` for the configured scene and risk level, the post's place
code, the ID-check key, the scan log and the day's counts. :meth:`Checkpoint.scan` turns one QR
text into a :class:`Verdict`:

- a place code (``JKP1:``) is told apart from a health code and not logged;
- a code whose credential was decided at this place within the repeat window is ``already``;
- a paper code the policy would admit is a ``prompt`` for its holder's ID number, answered
  through :meth:`Checkpoint.answer` (a wrong number denies; a replaced or cancelled prompt is
  logged as ``check_id``, never admitted);
- a dependent's code, while a guardian's relatives binding or family bundle is held
  (:meth:`Checkpoint.hold_binding`, :meth:`Checkpoint.hold_family`), is accepted through it:
  the binding, signed by an issuer who checked both people, stands in for the ID check;
- a fault of this station (expired trust list, no signed policy, no ID-check key) is
  ``station_error``: the person is neither admitted nor refused.

Every decision is one scan-log row with the policy that made it.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from healthcred.codec.prefix import PLACE_PREFIX
from healthcred.errors import SETUP_CODES, BadIdNumber, BadInput, HealthCredError
from healthcred.flows.binding import Binding, open_binding, subject_hash
from healthcred.flows.family import verify_family
from healthcred.flows.gate import CHECK_ID, Gate, GateDecision, with_id_check
from healthcred.flows.idcheck import IdCheck, IdCheckKey, check_holder
from healthcred.flows.places import PlaceResult, verify_place
from healthcred.flows.scanlog import ScanLog, export_rows, outcome_counts, record_scan
from healthcred.flows.verify import verify
from healthcred.model import VerificationResult
from healthcred.regions import region_words
from healthcred.rules.policy import AREA_LEVELS, SCENES, Decision
from healthcred.trust.bundle import install_bundle
from healthcred.trust.folder import load_anchors, load_trust
from healthcred.trust.store import TrustStore

__all__ = [
    "DEFAULT_REPEAT_SECONDS",
    "EXPIRY_WARNING_DAYS",
    "UNPLACED",
    "Checkpoint",
    "Verdict",
    "VerdictKind",
]

DEFAULT_REPEAT_SECONDS = 300
"""A credential decided at this place again within this many seconds is "already scanned"."""
EXPIRY_WARNING_DAYS = 7
"""The operator panel warns this many days before a trust list or the policy expires."""
UNPLACED = "station"
"""The scan log's place for a station started without a place code."""
PROMPT_SECONDS = 120
"""A paper-code prompt left unanswered this long is dropped (logged as ``check_id``)."""
GUARDIAN_SECONDS = 300
"""A guardian's binding or family bundle is held this long for their dependents' codes."""
SAME_SHOWING_SECONDS = 5
"""A code read again this soon after its verdict is the same showing (the camera lost it a moment):
the same verdict again, not "already scanned"."""
MAX_NUMBER_CHARS = 64
"""Longest ID number an answer may carry (a document number is ≤ 24 characters)."""

VerdictKind = Literal[
    "admit", "deny", "not_checked", "check_id", "prompt", "already", "place", "station_error"
]

_WORDS: dict[str, tuple[str, str]] = {
    "admit": ("通行", "ADMIT"),
    "deny": ("禁止通行", "DENY"),
    "not_checked": ("免检", "NOT CHECKED"),
    "check_id": ("未核验证件", "ID NOT CHECKED"),
    "prompt": ("请核验证件", "CHECK ID DOCUMENT"),
    "already": ("已扫描", "ALREADY SCANNED"),
    "place": ("场所码,非健康码", "PLACE CODE, NOT A HEALTH CODE"),
    "station_error": ("设备未就绪", "STATION NOT READY"),
}
"""Each verdict's title in Chinese and English (the page shows both, with an icon)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the page shows for one code: the outcome, its words and the holder's details."""

    kind: VerdictKind
    message: str
    rule: str = ""
    policy: str = ""
    name: str = ""
    region: tuple[str, str] = ("", "")
    colour: str = ""
    age_seconds: int | None = None
    id_check: IdCheck = "not_required"
    pending: str = ""
    via: str = ""

    def document(self) -> dict[str, Any]:
        """The verdict as the page's JSON (titles included, so the words live in one place)."""
        zh, en = _WORDS[self.kind]
        return {
            "kind": self.kind,
            "title_zh": zh,
            "title_en": en,
            "message": self.message,
            "rule": self.rule,
            "policy": self.policy,
            "name": self.name,
            "region_zh": self.region[0],
            "region_en": self.region[1],
            "colour": self.colour,
            "age": _age_words(self.age_seconds),
            "id_check": self.id_check,
            "pending": self.pending,
            "via": self.via,
        }


def _age_words(seconds: int | None) -> str:
    """A code's age as the page shows it: "3 分钟 min", "5 小时 h", "2 天 days"."""
    if seconds is None:
        return ""
    seconds = max(seconds, 0)
    if seconds < 60:
        return "刚刚 just issued"
    if seconds < 3600:
        return f"{seconds // 60} 分钟 min"
    if seconds < 86400:
        return f"{seconds // 3600} 小时 h"
    return f"{seconds // 86400} 天 days"


@dataclass(frozen=True)
class _Seen:
    """A credential decided at this place: when, the outcome, and the verdict shown."""

    at: datetime
    outcome: str
    verdict: Verdict


@dataclass
class _Pending:
    """A paper code waiting for its holder's ID number."""

    result: VerificationResult
    decision: Decision
    key: str
    at: datetime


@dataclass
class _Guardian:
    """A guardian's bindings, held for their dependents' codes until ``until``."""

    bindings: list[Binding]
    guardian_seen: bool
    until: datetime
    names: dict[bytes, str] = field(default_factory=dict)


class Checkpoint:
    """One station's state: trust, gate, place, ID key, scan log, repeat window, counts."""

    def __init__(
        self,
        trust_dir: Path,
        *,
        scene: str,
        level: str,
        place: PlaceResult | None = None,
        id_key: IdCheckKey | None = None,
        log: ScanLog | None = None,
        repeat_seconds: int = DEFAULT_REPEAT_SECONDS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """A station over the loaded ``trust_dir``; ``clock`` (default: now, UTC) is for tests."""
        self.trust_dir = trust_dir
        self.trust: TrustStore = load_trust(trust_dir)
        self.gate = Gate(self.trust, scene=scene, level=level)
        self.place, self.id_key, self.log = place, id_key, log
        self.venue = place.place.venue_id if place is not None else UNPLACED
        self.repeat = timedelta(seconds=repeat_seconds)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._seen: dict[str, _Seen] = {}
        self._pending: dict[str, _Pending] = {}
        self._guardian: _Guardian | None = None
        self._day: date | None = None
        self._counts: dict[str, int] = {}
        self.last_install: dict[str, Any] | None = None
        region_words("110000")  # loads the region table now, not for the first person in line

    # -- the configured post ------------------------------------------------------------------

    def configure(self, *, scene: str | None = None, level: str | None = None) -> None:
        """Change the scene or the risk level (the operator's panel); unknown values are refused."""
        new_scene, new_level = scene or self.gate.scene, level or self.gate.level
        if new_scene not in SCENES or new_level not in AREA_LEVELS:
            raise BadInput(f"scene must be one of {SCENES} and level one of {AREA_LEVELS}")
        self.gate = Gate(self.trust, scene=new_scene, level=new_level)

    def now(self) -> datetime:
        """The station's time (UTC)."""
        return self._clock().astimezone(UTC)

    # -- one code -----------------------------------------------------------------------------

    def scan(self, text: str) -> Verdict:
        """The verdict for one QR text read by the camera (logged when it is a decision)."""
        moment = self.now()
        self._drop_stale(moment)
        if text.startswith(PLACE_PREFIX):
            return self._place_code(text, moment)
        try:
            policy = self.gate.policy(moment)
            result = verify(text, self.trust, at=moment)
        except HealthCredError as exc:
            if exc.code in SETUP_CODES:
                return Verdict("station_error", f"[{exc.code}] {exc.message}", rule=exc.code)
            key = "text:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
            return self._invalid(exc, key, moment)
        key = _credential_key(result, text)
        for token, waiting in list(self._pending.items()):
            if waiting.key == key:  # the same paper code shown again: the same question
                return self._asking(token, waiting, moment)
            self.cancel(token)  # another code: whoever was asked for an ID has gone
        earlier = self._seen.get(key)
        if earlier is not None and moment - earlier.at < timedelta(seconds=SAME_SHOWING_SECONDS):
            return earlier.verdict
        if earlier is not None and moment - earlier.at < self.repeat:
            return self._already(result, earlier, moment)
        decision = policy.decide(result.credential, scene=self.gate.scene, level=self.gate.level, at=moment)
        via = self._through_guardian(result, moment)
        if via:
            return self._decided(with_id_check(decision, "not_required"), result, key, moment, via=via)
        if result.id_check_required and decision.outcome == "admit":
            return self._prompt(result, decision, key, moment)
        id_check: IdCheck = "not_checked" if result.id_check_required else "not_required"
        return self._decided(with_id_check(decision, id_check), result, key, moment)

    def answer(self, pending: str, number: str) -> Verdict:
        """The holder's ID number for a paper-code prompt: admit on a match, deny otherwise.

        A mistyped number (check digit, length) keeps the prompt open; an unknown or expired
        prompt is ``bad_input``.
        """
        moment = self.now()
        self._drop_stale(moment)
        waiting = self._pending.get(pending)
        if waiting is None:
            raise BadInput("no paper code is waiting for this ID number (scan it again)")
        if not isinstance(number, str) or not 1 <= len(number) <= MAX_NUMBER_CHARS:
            raise BadIdNumber("type the number on the holder's ID document")
        if self.id_key is None:
            return Verdict("station_error", "no ID-check key: start the station with --id-key")
        try:
            checked = check_holder(waiting.result, number, [self.id_key])
        except BadIdNumber:
            raise
        except HealthCredError as exc:  # the key cannot check this code (another region's key)
            return Verdict("station_error", f"[{exc.code}] {exc.message}", rule=exc.code)
        del self._pending[pending]
        return self._decided(with_id_check(waiting.decision, checked), waiting.result, waiting.key, moment)

    def cancel(self, pending: str) -> None:
        """Drop a paper-code prompt unanswered: logged as ``check_id`` (not admitted)."""
        waiting = self._pending.pop(pending, None)
        if waiting is not None:
            self._log(with_id_check(waiting.decision, "not_checked"), waiting.result, self.now())

    # -- guardians ----------------------------------------------------------------------------

    def hold_binding(self, data: bytes) -> str:
        """Hold a guardian's relatives binding: their next code and then the dependent's are accepted."""
        moment = self.now()
        binding = open_binding(data, self.trust, at=moment)
        self._guardian = _Guardian([binding], False, moment + timedelta(seconds=GUARDIAN_SECONDS))
        return "relatives binding held: scan the guardian's own code, then the dependent's"

    def hold_family(self, data: bytes) -> str:
        """Hold a verified family bundle: each dependent's code is accepted through it."""
        moment = self.now()
        family = verify_family(data, self.trust, at=moment)
        bindings = [d.binding for d in family.dependents]
        self._guardian = _Guardian(bindings, True, moment + timedelta(seconds=GUARDIAN_SECONDS))
        return (
            f"family bundle of {family.guardian.subject.masked_name} held: "
            f"{len(bindings)} dependent(s); scan each dependent's code"
        )

    def _through_guardian(self, result: VerificationResult, moment: datetime) -> str:
        held = self._guardian
        if held is None or moment > held.until:
            self._guardian = None
            return ""
        for binding in held.bindings:
            if subject_hash(result, binding.id) == binding.guardian:
                held.guardian_seen = True
                return ""  # the guardian's own code: decided as any code
            if held.guardian_seen and subject_hash(result, binding.id) == binding.dependent:
                return f"代办 · through {binding.relation.name.lower()} binding (slot {binding.slot})"
        return ""

    # -- results ------------------------------------------------------------------------------

    def _place_code(self, text: str, moment: datetime) -> Verdict:
        try:
            venue = verify_place(text, self.trust, at=moment).place
        except HealthCredError as exc:
            return Verdict(
                "place", f"an invalid place code ({exc.code}); ask the person for their health code"
            )
        return Verdict(
            "place",
            f"{venue.name} ({venue.venue_id}, {venue.scene}) — ask the person for their health code",
            region=region_words(venue.region),
        )

    def _invalid(self, error: HealthCredError, key: str, moment: datetime) -> Verdict:
        earlier = self._seen.get(key)
        if earlier is not None and moment - earlier.at < timedelta(seconds=SAME_SHOWING_SECONDS):
            return earlier.verdict
        if earlier is not None and moment - earlier.at < self.repeat:
            return Verdict("already", f"already scanned: {earlier.outcome}", rule=error.code)
        decision = with_id_check(self.gate.refuse(error, moment), "not_required")
        self._log(decision, None, moment)
        verdict = Verdict("deny", decision.message, rule=decision.rule, policy=decision.policy)
        self._seen[key] = _Seen(moment, decision.outcome, verdict)
        return verdict

    def _already(self, result: VerificationResult, earlier: _Seen, moment: datetime) -> Verdict:
        ago = int((moment - earlier.at).total_seconds())
        return Verdict(
            "already",
            f"this code was scanned here {ago} s ago ({earlier.outcome}): not entered again",
            **_holder(result, moment),
        )

    def _prompt(self, result: VerificationResult, decision: Decision, key: str, moment: datetime) -> Verdict:
        if self.id_key is None:
            return self._decided(with_id_check(decision, "not_checked"), result, key, moment)
        token = secrets.token_urlsafe(12)
        waiting = _Pending(result, decision, key, moment)
        self._pending[token] = waiting
        return self._asking(token, waiting, moment)

    def _asking(self, token: str, waiting: _Pending, moment: datetime) -> Verdict:
        return Verdict(
            "prompt",
            "纸质码 — 请输入或刷证件号码 / paper code — type or swipe the holder's ID number",
            rule="id_not_checked",
            policy=waiting.decision.policy,
            id_check="not_checked",
            pending=token,
            **_holder(waiting.result, moment),
        )

    def _decided(
        self, decision: GateDecision, result: VerificationResult, key: str, moment: datetime, via: str = ""
    ) -> Verdict:
        self._log(decision, result, moment)
        verdict = Verdict(
            cast(VerdictKind, decision.outcome),
            decision.message,
            rule=decision.rule,
            policy=decision.policy,
            id_check=decision.id_check,
            via=via,
            **_holder(result, moment),
        )
        self._seen[key] = _Seen(moment, decision.outcome, verdict)
        return verdict

    def _log(self, decision: GateDecision, result: VerificationResult | None, moment: datetime) -> None:
        outcome = "error" if result is None or decision.outcome == CHECK_ID else decision.outcome
        self._count(outcome, moment)
        if self.log is None:
            return
        error = decision.rule if outcome == "error" else None
        row_outcome = cast(Literal["admit", "deny", "not_checked", "error"], outcome)
        record_scan(
            self.log,
            place=self.venue,
            outcome=row_outcome,
            result=result,
            error=error,
            at=moment,
            policy=decision.policy,
        )

    def _drop_stale(self, moment: datetime) -> None:
        for token, waiting in list(self._pending.items()):
            if moment - waiting.at > timedelta(seconds=PROMPT_SECONDS):
                self.cancel(token)
        keep = max(self.repeat, timedelta(seconds=SAME_SHOWING_SECONDS))
        self._seen = {k: v for k, v in self._seen.items() if moment - v.at < keep}

    # -- counts, trust, export ----------------------------------------------------------------

    def _count(self, outcome: str, moment: datetime) -> None:
        self.counts(moment)
        self._counts[outcome] = self._counts.get(outcome, 0) + 1

    def counts(self, moment: datetime | None = None) -> dict[str, int]:
        """Today's (local day) decisions by outcome; from the scan log when there is one."""
        moment = moment or self.now()
        local = moment.astimezone()
        if self._day != local.date():
            self._day = local.date()
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            self._counts = {} if self.log is None else outcome_counts(self.log, since=midnight)
        return {k: self._counts.get(k, 0) for k in ("admit", "deny", "not_checked", "error")}

    def status(self) -> dict[str, Any]:
        """The operator panel's trust status: lists, policy, revocations, expiry countdowns."""
        moment = self.now()
        at = int(moment.timestamp())
        soon = EXPIRY_WARNING_DAYS * 86400
        lists = [
            {
                "id": t.id,
                "version": t.version,
                "expires": datetime.fromtimestamp(t.expires_at, UTC).isoformat(),
                "seconds_left": t.expires_at - at,
                "warning": t.expires_at - at < soon,
            }
            for t in self.trust.lists
        ]
        policy: dict[str, Any] | None
        try:
            signed = self.trust.rule_set("policy", at)
            policy = {
                "id": signed.id,
                "version": signed.version,
                "expires": datetime.fromtimestamp(signed.expires_at, UTC).isoformat(),
                "seconds_left": signed.expires_at - at,
                "warning": signed.expires_at - at < soon,
            }
        except HealthCredError as exc:
            policy = {"error": f"[{exc.code}] {exc.message}"}
        return {
            "scene": self.gate.scene,
            "level": self.gate.level,
            "scenes": list(SCENES),
            "levels": list(AREA_LEVELS),
            "place": self.venue,
            "lists": lists,
            "policy": policy,
            "revocations": [{"series": r.series, "version": r.version} for r in self.trust.revocations],
            "versions": dict(self.trust.versions),
            "warning_days": EXPIRY_WARNING_DAYS,
            "counts": self.counts(moment),
            "log": None if self.log is None else str(self.log.path),
            "last_install": self.last_install,
        }

    def install(self, data: bytes, source: str) -> dict[str, Any]:
        """Install a signed trust bundle atomically; on any failure the old trust stays in use."""
        try:
            bundle = install_bundle(self.trust_dir, data, load_anchors(self.trust_dir))
            trust = load_trust(self.trust_dir)
        except HealthCredError as exc:
            self.last_install = {"ok": False, "source": source, "error": f"[{exc.code}] {exc.message}"}
            raise
        self.trust = trust
        self.gate = Gate(trust, scene=self.gate.scene, level=self.gate.level)
        self.last_install = {"ok": True, "source": source, "bundle": bundle.id, "version": bundle.version}
        return self.last_install

    def export(self, fmt: Literal["csv", "jsonl"] = "csv") -> str:
        """The scan log's rows (credential ids as keyed hashes only); ``bad_input`` without a log."""
        if self.log is None:
            raise BadInput("this station keeps no scan log (start it with --log DB --log-key KEY)")
        buffer = io.StringIO(newline="")
        export_rows(self.log, buffer, fmt=fmt)
        return buffer.getvalue()


def _credential_key(result: VerificationResult, text: str) -> str:
    raw = result.credential.id
    if isinstance(raw, bytes):
        return "id:" + raw.hex()
    if raw:
        return "id:" + raw
    return "text:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _holder(result: VerificationResult, moment: datetime) -> dict[str, Any]:
    """The masked name, region in words, colour and age the page shows for a verified code."""
    region = result.region
    issued = result.issued_at
    return {
        "name": result.subject.masked_name,
        "region": region_words(region) if region else ("", ""),
        "colour": result.status.name if result.status else "",
        "age_seconds": None if issued is None else int((moment - issued).total_seconds()),
    }
