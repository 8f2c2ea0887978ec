"""Security regressions kept as named tests, in the style of pyjwt's test_advisory.py.

Each test names the class of attack it guards against.
"""

from __future__ import annotations

import contextlib
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcred import Alg, TrustStore, generate_key, kid_of, verify
from healthcred.codec.base45 import ALPHABET, b45encode
from healthcred.codec.cbor import dumps
from healthcred.codec.prefix import NATIVE_PREFIX
from healthcred.errors import (
    AlgorithmMismatch,
    BadSignature,
    HealthCredError,
    MalformedCOSE,
    TooLarge,
    UnknownKid,
    UntrustedList,
)
from healthcred.native.claims import to_claims
from tests.helpers import forge
from tests.helpers.world import CHECKED, World


def test_alg_confusion_header_cannot_choose_the_algorithm(world: World) -> None:
    """The header's alg must equal the trust entry's; the entry decides (cf. CVE-2022-29217)."""
    credential, _ = world.code()
    payload = dumps(to_claims(credential))
    for alg in (Alg.EDDSA,):  # the Zhejiang key is ES256 in the trust list
        protected = dumps({1: int(alg), 4: kid_of(world.zhejiang)})
        with pytest.raises(AlgorithmMismatch):
            verify(
                forge.text(forge.message(payload, world.zhejiang, protected=protected, signature=bytes(64))),
                world.store,
                at=CHECKED,
            )


def test_kid_collision_does_not_confer_trust(world: World) -> None:
    """An attacker who copies a trusted kid into their own message gets nothing from it."""
    attacker = generate_key(Alg.ES256)
    credential, _ = world.code()
    payload = dumps(to_claims(credential))
    protected = dumps({1: int(Alg.ES256), 4: kid_of(world.zhejiang)})
    forged = forge.message(payload, attacker, protected=protected)
    with pytest.raises(BadSignature):
        verify(forge.text(forged), world.store, at=CHECKED)


def test_kid_in_unprotected_header_is_refused(world: World) -> None:
    """A kid outside the signature could be swapped without breaking it."""
    credential, _ = world.code()
    payload = dumps(to_claims(credential))
    protected = dumps({1: int(Alg.ES256)})
    forged = forge.message(
        payload, world.zhejiang, protected=protected, unprotected={4: kid_of(world.zhejiang)}
    )
    with pytest.raises(MalformedCOSE):
        verify(forge.text(forged), world.store, at=CHECKED)


def test_zlib_bomb(world: World) -> None:
    """A few KB must not inflate to gigabytes (cf. joserfc's decompressed-size cap)."""
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    text = NATIVE_PREFIX + b45encode(bomb)
    assert len(text) < 200_000
    with pytest.raises(TooLarge):
        verify(text, world.store, at=CHECKED)


def test_self_signed_trust_list_is_refused(world: World) -> None:
    """A list signed by a key it lists itself is not trusted unless that key is an anchor."""
    rogue = generate_key(Alg.EDDSA)
    from tests.helpers.world import grants, signed_list

    with pytest.raises(UntrustedList):
        TrustStore([world.root.public_key()], [signed_list(rogue, grants((rogue, "000000")))])


def test_trust_anchor_is_not_an_issuer(world: World) -> None:
    """The root signs lists, not codes: a code signed by the root is unknown unless listed."""
    credential, _ = world.code()
    text = forge.text(forge.message(dumps(to_claims(credential)), world.root))
    with pytest.raises(UnknownKid):
        verify(text, world.store, at=CHECKED)


def test_ecdsa_signature_malleability_does_not_change_identity(world: World) -> None:
    """(r, n - s) is also a valid ECDSA signature: nothing may key on signature bytes."""
    credential, text = world.code()
    import cbor2

    from healthcred.codec.base45 import b45decode
    from healthcred.codec.compression import unpack

    message = cbor2.loads(unpack(b45decode(text[len(NATIVE_PREFIX) :]))).value
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    r, s = message[3][:32], int.from_bytes(message[3][32:], "big")
    flipped = forge.message(
        message[2], world.zhejiang, protected=message[0], signature=r + (n - s).to_bytes(32, "big")
    )
    result = verify(forge.text(flipped), world.store, at=CHECKED)
    assert result.credential.id == credential.id  # same credential id: revocation keys on the id


@pytest.mark.parametrize("size", [0, 1, 2, 3, 100, 4000])
def test_random_garbage_yields_only_typed_errors(world: World, size: int) -> None:
    import os

    for _ in range(50):
        for text in (
            NATIVE_PREFIX + b45encode(os.urandom(size)),
            NATIVE_PREFIX + os.urandom(size).hex().upper(),
        ):
            with pytest.raises(HealthCredError):
                verify(text, world.store, at=CHECKED)


@given(
    st.text(max_size=600)
    | st.binary(max_size=600)
    | st.text(alphabet=ALPHABET, max_size=600).map(NATIVE_PREFIX.__add__)
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_input_gives_a_result_or_a_typed_error(world: World, code: str | bytes) -> None:
    """Totality: whatever arrives from a scanner, verify returns or raises HealthCredError."""
    with contextlib.suppress(HealthCredError):
        verify(code, world.store, at=CHECKED)
