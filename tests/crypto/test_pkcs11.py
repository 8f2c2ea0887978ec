"""Token keys through SoftHSM2: generated inside, non-extractable, signing codes that verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthcred import GREEN, DocumentType, HealthCode, KeyGrant, Subject, TrustStore, generate_key, verify
from healthcred.crypto.algorithms import Alg, verify_signature
from healthcred.crypto.pkcs11 import generate_token_key, open_token_key
from healthcred.errors import BadInput, BadKey
from healthcred.flows.issue import issue
from tests.helpers.softhsm import SoftToken, new_label
from tests.helpers.world import signed_list, ts


@pytest.mark.parametrize("alg", [Alg.ES256, Alg.EDDSA])
def test_a_key_generated_in_the_token_signs_what_its_public_key_verifies(
    soft_token: SoftToken, alg: Alg
) -> None:
    label = new_label()
    with generate_token_key(soft_token.uri(label), alg) as key:
        assert key.alg is alg
        signature = key.sign(b"to be signed")
        assert len(signature) == 64
        verify_signature(alg, key.public_key, b"to be signed", signature)
    with open_token_key(soft_token.uri(label)) as again:  # found again by label, kid from the token
        assert again.kid == key.kid
        assert again.public_key == key.public_key


def test_the_generated_private_key_is_sensitive_and_never_extractable(soft_token: SoftToken) -> None:
    import pkcs11

    label = new_label()
    with generate_token_key(soft_token.uri(label), Alg.ES256) as key:
        kid = key.kid
    lib = pkcs11.lib("/usr/lib/softhsm/libsofthsm2.so")
    with lib.get_token(token_label=soft_token.label).open(user_pin=soft_token.pin) as session:
        private = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label)
        attribute = pkcs11.Attribute
        assert private[attribute.SENSITIVE] is True
        assert private[attribute.EXTRACTABLE] is False
        assert private[attribute.ALWAYS_SENSITIVE] is True
        assert private[attribute.NEVER_EXTRACTABLE] is True
        assert private[attribute.ID] == kid  # no id= given: the kid is the key's CKA_ID
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            private[attribute.VALUE]


def test_a_token_signer_issues_a_code_that_verifies_against_a_list_holding_its_key(
    soft_token: SoftToken,
) -> None:
    with generate_token_key(soft_token.uri(new_label()), Alg.ES256) as key:
        now = datetime.now(UTC).replace(microsecond=0)
        root = generate_key(Alg.EDDSA)
        grant = KeyGrant(key.public_key, "330000", ts(now - timedelta(days=1)), ts(now + timedelta(days=30)))
        listed = signed_list(
            root, [grant], issued_at=now - timedelta(days=1), expires_at=now + timedelta(days=9)
        )
        code = HealthCode.create(
            subject=Subject.create(
                "张三丰", "1985-03-12", DocumentType.RESIDENT_ID_CARD, "330106198503121234"
            ),
            status=GREEN,
            region="330100",
            issued_at=now,
            valid_for=timedelta(days=1),
        )
        text = issue(code, key.signer())
    result = verify(text, TrustStore([root.public_key()], [listed]), at=now + timedelta(hours=1))
    assert (result.kid, result.alg, result.credential) == (key.kid, "ES256", code)


def test_a_wrong_pin_is_bad_key_and_the_message_never_holds_the_pin(soft_token: SoftToken) -> None:
    label = new_label()
    generate_token_key(soft_token.uri(label), Alg.EDDSA).close()
    with pytest.raises(BadKey, match="refused the PIN") as caught:
        open_token_key(soft_token.uri(label, pin="97531"))
    assert "97531" not in caught.value.message


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("pkcs11:token=healthcred-test;object=no-such-key?pin-value=246810", "holds no private key"),
        ("pkcs11:token=no-such-token;object=x?pin-value=246810", "has no token labelled 'no-such-token'"),
        (
            "pkcs11:token=healthcred-test;object=x?pin-value=1&module-path=/nowhere/lib.so",
            "/nowhere/lib.so does not",
        ),
        ("pkcs11:token=healthcred-test;object=x?pin-source=file:/nowhere/pin", "PIN file"),
    ],
)
def test_what_the_token_lacks_is_one_bad_key_in_the_operators_terms(
    soft_token: SoftToken, uri: str, says: str
) -> None:
    with pytest.raises(BadKey, match=says):
        open_token_key(uri)


def test_a_key_is_found_only_after_login_and_the_message_says_so(soft_token: SoftToken) -> None:
    label = new_label()
    generate_token_key(soft_token.uri(label), Alg.ES256).close()
    with pytest.raises(BadKey, match="no PIN given"):
        open_token_key(f"pkcs11:token={soft_token.label};object={label}")


def test_keygen_never_replaces_a_key_of_the_same_name(soft_token: SoftToken) -> None:
    label = new_label()
    generate_token_key(soft_token.uri(label), Alg.ES256).close()
    with pytest.raises(BadKey, match="already holds a key of that name"):
        generate_token_key(soft_token.uri(label), Alg.EDDSA)


def test_a_uri_naming_no_private_key_is_refused_before_the_token_is_opened(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="type=private"):
        open_token_key("pkcs11:object=x;type=cert")
    with pytest.raises(BadInput, match="module-name is not supported"):
        open_token_key("pkcs11:object=x?module-name=softhsm2")
