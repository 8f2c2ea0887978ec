"""The C decoder against the pure-Python path: on every mutated native and HC1 text, the same outcome.

Each input is taken through Base45, the strict CBOR decoder, ``read_text``, the claims map to
credential step (``read_payload``), ``read_health_code`` and ``verify`` twice: with the C parts
in use (:mod:`healthcred.codec._fast`, :mod:`healthcred.native._claims`) and with the pure
path forced.
Both must give equal values, or errors of the same class, code and message. Without the C
extension built the target compares the pure path with itself (and says so nowhere else: the
suite's ``HEALTHCRED_REQUIRE_FAST=1`` test is what fails then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fuzz import seeds
from fuzz.harness import Target
from fuzz.layers import text_mutator
from fuzz.targets.common import moment
from fuzz.world import STORE
from healthcred.codec import fast
from healthcred.codec.base45 import b45decode
from healthcred.codec.cbor import loads
from healthcred.codec.prefix import HC1_PREFIX, NATIVE_PREFIX, PLACE_PREFIX
from healthcred.errors import HealthCredError
from healthcred.flows.verify import verify
from healthcred.foreign.dcc.hc1 import MAX_DGC_DEPTH, json_dgc, read_hc1
from healthcred.foreign.dcc.hc1 import _one_item as hc1_cbor
from healthcred.native import claims as claims_module
from healthcred.native.claims import read_payload
from healthcred.native.text import read_health_code, read_text

__all__ = ["TARGET", "outcome", "same_on_both_paths"]


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", value)`` or ``("error", (class, code, message))`` of one call."""
    try:
        return ("ok", call())
    except HealthCredError as exc:
        return ("error", (type(exc).__name__, exc.code, exc.message))


def same_on_both_paths(call: Callable[[], Any]) -> tuple[str, Any]:
    """The call's outcome, asserted equal with the C decoder in use and with the pure path forced."""
    native, compiled = fast.native, claims_module.compiled
    with_c = outcome(call)
    fast.native, claims_module.compiled = None, None
    try:
        pure = outcome(call)
    finally:
        fast.native, claims_module.compiled = native, compiled
    assert with_c == pure, f"C path {with_c!r} != pure path {pure!r}"
    return pure


def compare_text(text: str) -> None:
    """Every decode step of ``text`` on both paths."""
    prefix = next((p for p in (NATIVE_PREFIX, PLACE_PREFIX, HC1_PREFIX) if text.startswith(p)), "")
    same_on_both_paths(lambda: b45decode(text[len(prefix) :]))
    found = same_on_both_paths(lambda: read_text(text))
    if found[0] == "ok":
        same_on_both_paths(lambda: loads(found[1].payload, "claims"))
        same_on_both_paths(lambda: loads(found[1].payload, "claims", walk=False))
        same_on_both_paths(lambda: read_payload(found[1].payload))
        compare_any_order(found[1].payload)
    same_on_both_paths(lambda: read_health_code(text))
    same_on_both_paths(lambda: read_hc1(text))
    same_on_both_paths(lambda: verify(text, STORE, at=moment(text)))


def compare_any_order(data: bytes) -> None:
    """What the C decoder takes as EU DCC CBOR, cbor2 decodes alike; what it calls JSON, the walk keeps."""
    native = fast.native
    if native is None:
        return
    value = native.loads_any_order(data)
    if value is not None:
        assert outcome(lambda: hc1_cbor(data, "item")) == ("ok", value)
        if isinstance(value, dict) and native.plain_json(value, 1, MAX_DGC_DEPTH):
            fast.native = None
            try:
                assert json_dgc(value) == value
            finally:
                fast.native = native


def run(data: bytes) -> None:
    """Compare both paths on the input as text (and its bytes as CBOR)."""
    compare_text(data.decode("utf-8", errors="replace"))
    same_on_both_paths(lambda: loads(data, "item"))
    compare_any_order(data)


def seed_inputs() -> Iterator[bytes]:
    """Every vector's code text and the EU DCC test codes."""
    for text in (*seeds.vector_texts(), *seeds.hc1_texts()):
        yield text.encode("utf-8")


TARGET = Target("decode_paths", run, seed_inputs, text_mutator)
