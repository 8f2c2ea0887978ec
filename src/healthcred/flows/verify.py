"""The verifying flow: text (or image) → prefix → Base45 → bounded zlib → COSE_Sign1 → trusted key
→ signature → claims → credential → region, key-window and time checks → result.

:func:`verify` dispatches on the prefix: native ``JKM1:`` codes take the flow
above; EU DCCs (``HC1:``) and SMART Health Cards (``shc:/``) take their own
codecs (:mod:`healthcred.foreign`) against the store's DSCs and SHC issuers,
and all three end in one :class:`~healthcred.model.VerificationResult`.
Every stage raises its own :class:`~healthcred.errors.HealthCredError`; nothing
else escapes, whatever the input.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from healthcred._deprecated import renamed
from healthcred.clock import DEFAULT_SKEW, NO_GRACE, epoch_seconds
from healthcred.codec import fast
from healthcred.codec.prefix import FOREIGN_PREFIXES, NATIVE_PREFIX, SHC_PREFIX
from healthcred.crypto.algorithms import ALG_LABELS
from healthcred.errors import BadInput, CodeExpired, CodeNotYetValid, HealthCredError, Revoked, TooLarge
from healthcred.flows.checks import allowances
from healthcred.model import Status, VerificationResult
from healthcred.model.record import unchecked_builder
from healthcred.native.claims import read_claims, read_payload
from healthcred.native.text import read_health_code, read_text
from healthcred.trust.grants import permitting_entry
from healthcred.trust.store import TrustStore
from healthcred.workers import worker_count

TYPE_CHECKING = False
if TYPE_CHECKING:  # the QR reader and the foreign codecs load when an image or a foreign code arrives
    from healthcred.codec.qr import Backend
    from healthcred.foreign.shc.cards import ShcMessage

__all__ = [
    "DEFAULT_SKEW",
    "MAX_BATCH",
    "code_text",
    "decode_unverified",
    "read_health_code",
    "verify",
    "verify_all",
    "verify_text",
]

_TEXT_PREFIXES = (NATIVE_PREFIX, *FOREIGN_PREFIXES)
_BYTES_PREFIXES = tuple(p.encode("ascii") for p in _TEXT_PREFIXES)


def _read_image(code: Any, backend: Backend) -> str:
    from healthcred.codec.qr import read_qr  # imaging loads only when an image arrives

    return read_qr(code, backend=backend)


def code_text(code: Any, *, qr_backend: Backend = "zxing") -> str:
    """The QR text of ``code``: a ``str`` as it is; bytes as text or an image; a path or PIL image as QR.

    Data is never a path: a ``str`` is always code text, never opened as a
    file, whatever it holds (it may come out of a bundle, a binding or a scan).
    Image files are passed as :class:`os.PathLike` (e.g. :class:`pathlib.Path`).
    """
    if isinstance(code, str):
        return code
    if isinstance(code, bytes | bytearray | memoryview):
        raw = bytes(code)
        if raw.startswith(_BYTES_PREFIXES):
            try:
                return raw.decode("ascii")
            except UnicodeDecodeError as exc:
                raise BadInput("code text holds a non-ASCII byte") from exc
        return _read_image(raw, backend=qr_backend)
    pil = sys.modules.get("PIL.Image")  # a PIL image exists only once Pillow is loaded: import nothing
    if isinstance(code, os.PathLike) or (pil is not None and isinstance(code, pil.Image)):
        return _read_image(code, backend=qr_backend)
    raise BadInput(
        f"a code is text (str), bytes, an image path (os.PathLike) or a PIL image, not {type(code).__name__}"
    )


def verify_text(
    text: str,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = NO_GRACE,
    palette: Mapping[int, Status] | None = None,
) -> VerificationResult:
    """Verify a native code's QR text offline against ``trust``; see :func:`verify`."""
    allowance, allow_grace = allowances(trust, skew, grace)
    now = epoch_seconds(at)
    if palette is not None and not isinstance(palette, Mapping):
        raise BadInput("palette must map status codes to Status")

    native = fast.native
    read = native.read_native(text, NATIVE_PREFIX) if native is not None else None
    if read is not None:  # the C decoder took the text apart, checked, in one call
        _, alg, kid, _, payload, signature, claims, to_be_signed = read
        entries = trust.resolve_signed(alg, kid, to_be_signed, signature, now, allow_grace)
        # claims is None where the C decoder left them to the pure path (which then says why)
        read = read_payload(payload, palette) if claims is None else read_claims(claims, palette)
    else:  # the pure path, or a text the C decoder declined: read_text raises what is wrong
        message = read_text(text)
        entries = trust.resolve(message, now, allow_grace)
        read = read_payload(message.payload, palette)
    credential, issued, expires = read
    entry = permitting_entry(
        entries, region=credential.region, issued=issued, kind=credential.kind, status=credential.status.code
    )
    if trust.is_revoked(credential.id, credential.region):
        raise Revoked(f"credential {credential.id.hex()} is revoked by its issuer")
    if now > expires + allowance:
        raise CodeExpired(f"code expired at {credential.expires_at.isoformat()}")
    if issued > now + allowance:
        raise CodeNotYetValid(f"code is issued at {credential.issued_at.isoformat()}, in the future")
    warnings: tuple[str, ...] = ()
    if now > entry.list_expires_at:
        expired = datetime.fromtimestamp(entry.list_expires_at, UTC).isoformat()
        warnings = (f"trust list {entry.list_id!r} expired at {expired}; accepted within the grace period",)
    return _result(
        credential,
        entry.kid,
        ALG_LABELS[entry.alg],
        entry.region,
        entry.list_version,
        moment_at(now),
        warnings,
    )


_last_moment: tuple[int, datetime] = (0, datetime.fromtimestamp(0, UTC))


def moment_at(now: int) -> datetime:
    """Epoch seconds ``now`` as an aware datetime (a result's ``verified_at``).

    A batch verifies at one time, so the last one is kept: one datetime for the whole batch.
    """
    global _last_moment  # a cache of one immutable pair, replaced whole
    seconds, moment = _last_moment
    if seconds != now:
        moment = datetime.fromtimestamp(now, UTC)
        _last_moment = (now, moment)
    return moment


# A result's fields in slot order: the verifier fills them from checked parts (VerificationResult is a
# frozen dataclass without checks of its own; its __init__ costs three times the slot stores).
_result = unchecked_builder(VerificationResult)


decode_unverified = renamed(read_health_code, "decode_unverified")


_HC1_MODULE = "healthcred.foreign.dcc.hc1"


def _hc1() -> ModuleType:
    # Imported on the first EU DCC; then a dict lookup: an import statement per code cost ~1 µs
    loaded = sys.modules.get(_HC1_MODULE)
    return loaded if loaded is not None else importlib.import_module(_HC1_MODULE)


def _verify_hc1(text: str, trust: TrustStore, now: int, skew: timedelta) -> VerificationResult:
    hc1 = _hc1()
    seconds = int(skew.total_seconds())
    lean = hc1.verify_hc1_text(text, trust.dsc_index, now, seconds)
    if lean is not None:  # the usual DCC, in one pass over what the C decoder gave
        (credential, dsc), alg = lean, "ES256"
    else:  # the checked path: everything else, and the refusals it alone can tell
        message = hc1.read_hc1(text)
        checked = hc1.verify_hc1(message, trust.dscs, at=now, skew=seconds)
        credential, dsc = hc1.to_foreign(checked), checked.dsc
        alg = "PS256" if message.alg == hc1.PS256 else "ES256"
    return _result(credential, dsc.kid, alg, dsc.country or "", 0, moment_at(now), ())


def _verify_shc(
    chunks: list[str] | ShcMessage, trust: TrustStore, now: int, skew: timedelta
) -> VerificationResult:
    from healthcred.foreign.shc.cards import ShcMessage, read_shc
    from healthcred.foreign.shc.verify import verify_shc

    message = chunks if isinstance(chunks, ShcMessage) else read_shc(chunks)
    credential = verify_shc(message, trust.shc_issuers, at=now, skew=int(skew.total_seconds()))
    # A key that announces a revocation list the store lacks: valid, but the operator should know.
    unchecked = any(
        message.kid in issuer.missing_crls for issuer in trust.shc_issuers if issuer.iss == credential.issuer
    )
    warnings = (f"no revocation list of key {message.kid} is installed: revocation not checked",)
    return _result(
        credential, message.kid_bytes, "ES256", credential.issuer, 0, moment_at(now),
        warnings if unchecked else (),
    )  # fmt: skip


def verify(
    code: Any,
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = NO_GRACE,
    palette: Mapping[int, Status] | None = None,
    qr_backend: Backend = "zxing",
) -> VerificationResult:
    """Verify a health credential offline; return the result or raise one :class:`HealthCredError`.

    ``code`` is QR text (a ``str`` is always text, never a file name), its
    bytes, or an image (an :class:`os.PathLike` path, PNG or JPEG bytes, or a
    PIL image) of a native code (``JKM1:``), an EU DCC (``HC1:``) or a SMART Health Card
    (``shc:/``); a list or tuple holds the QR chunks of one multi-part SMART
    Health Card, in any order; a parsed ``ShcMessage`` (e.g. from a
    ``.smart-health-card`` file, :func:`healthcred.foreign.shc.cards.load_health_cards`)
    is verified as it is. ``trust`` comes from
    :func:`~healthcred.trust.folder.load_trust`; ``at`` is the validation
    time (default: now), ``skew`` the clock-skew allowance, ``grace`` how long
    past its expiry a native trust list is still used (the result then carries
    a warning), ``palette`` names regional colours.
    """
    shc: list[str] | ShcMessage | None = None
    cards = sys.modules.get("healthcred.foreign.shc.cards")  # no ShcMessage exists before it loads
    if cards is not None and isinstance(code, cards.ShcMessage):
        shc = code
    elif isinstance(code, list | tuple):
        from healthcred.foreign.shc.cards import MAX_CHUNKS as MAX_SHC_CHUNKS

        if not 1 <= len(code) <= MAX_SHC_CHUNKS:
            raise BadInput(f"a multi-part SMART Health Card has 1–{MAX_SHC_CHUNKS} chunks, not {len(code)}")
        shc = [code_text(part, qr_backend=qr_backend) for part in code]
        if not all(t.startswith(SHC_PREFIX) for t in shc):
            raise BadInput(
                "a list of codes is the chunks of one SMART Health Card (use verify_all for a batch)"
            )
    else:
        text = code_text(code, qr_backend=qr_backend)
        if not text.startswith(_FOREIGN):  # the native hot path: one prefix test, then verify_text
            return verify_text(text, trust, at=at, skew=skew, grace=grace, palette=palette)
        if text.startswith(SHC_PREFIX):
            shc = [text]
    allowances(trust, skew, grace)
    now = epoch_seconds(at)
    return _verify_shc(shc, trust, now, skew) if shc is not None else _verify_hc1(text, trust, now, skew)


_FOREIGN = tuple(FOREIGN_PREFIXES)


MAX_BATCH = 100_000
"""Most codes one :func:`verify_all` call takes."""


def verify_all(
    codes: Iterable[Any],
    trust: TrustStore,
    *,
    at: datetime | int | float | None = None,
    skew: timedelta = DEFAULT_SKEW,
    grace: timedelta = NO_GRACE,
    palette: Mapping[int, Status] | None = None,
    qr_backend: Backend = "zxing",
    workers: int | None = None,
    executor: Executor | None = None,
) -> list[VerificationResult | HealthCredError]:
    """Verify a batch of codes of any format at one validation time; one outcome per code, in order.

    Each item is what :func:`verify` takes (a list or tuple: the chunks of one
    SMART Health Card). A failing code gives its :class:`HealthCredError` in
    its place instead of stopping the batch.

    ``workers=N`` (2 or more) verifies in N processes made for this call, and
    ``executor`` in any :class:`concurrent.futures.Executor` (a Dask client's
    ``get_executor()``); ``None`` or 1 verifies here. The outcomes are the same;
    a worker that stops raises :class:`~healthcred.errors.WorkerFailed`. Starting
    processes costs ~0.2–0.5 s, so a caller that verifies batches again and again
    keeps a :class:`healthcred.flows.pool.VerifierPool` instead.
    """
    if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
        raise BadInput("codes must be an iterable of codes (a str is one code: use verify)")
    if workers is not None:
        worker_count(workers)
    if executor is not None or (workers is not None and workers > 1):
        from healthcred.flows.pool import verify_in_workers  # processes load only when asked for

        return verify_in_workers(
            codes,
            trust,
            workers=workers,
            executor=executor,
            at=at,
            skew=skew,
            grace=grace,
            palette=palette,
            qr_backend=qr_backend,
        )
    moment = epoch_seconds(at)  # one clock for the whole batch
    outcomes: list[VerificationResult | HealthCredError] = []
    for code in codes:
        if len(outcomes) >= MAX_BATCH:
            raise TooLarge(f"a batch holds at most {MAX_BATCH} codes")
        try:
            outcomes.append(
                verify(code, trust, at=moment, skew=skew, grace=grace, palette=palette, qr_backend=qr_backend)
            )
        except HealthCredError as exc:
            outcomes.append(exc)
    return outcomes
