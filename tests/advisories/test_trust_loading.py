"""Trust loading: security and robustness regressions kept as named tests (issue 12).

Each test names the class of defect it guards against: an untyped exception out of a trust
loader (certificates, keys, DSC lists), a decoder bound that contradicts a documented limit
(a "hidden cap"), or unbounded work while reading a trust folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa, x448
from cryptography.x509.oid import NameOID

from healthcred import Alg, TrustStore, generate_key, kid_of, load_trust, verify
from healthcred.codec.cbor import dumps, loads
from healthcred.crypto.cose import Sign1, sign_content
from healthcred.crypto.keys import load_public_key, public_key_der, public_key_from_der
from healthcred.errors import (
    BadCertificate,
    BadKey,
    HealthCredError,
    TooLarge,
    TrustListMalformed,
    TrustStoreError,
)
from healthcred.files import read_bounded
from healthcred.foreign.dcc.dsc import load_dsc_list, read_dsc
from healthcred.trust import folder as trust_folder_module
from healthcred.trust.bundle import MAX_BUNDLE_PARTS, make_bundle, open_bundle
from healthcred.trust.envelope import MAX_LIST_BYTES, Anchor
from healthcred.trust.grants import MAX_GRANT_SET, KeyGrant
from healthcred.trust.lists import (
    MAX_LIST_ENTRIES,
    TRUST_LIST_CONTENT_TYPE,
    parse_list_body,
    parse_trust_list,
)
from healthcred.trust.revocation import make_revocation_list
from healthcred.trust.rulesets import make_rule_set
from tests.helpers.folders import trust_folder
from tests.helpers.world import CHECKED, KEY_NOT_AFTER, LIST_EXPIRES, T0, World, grants, signed_list, ts

P256_OID = bytes.fromhex("2a8648ce3d030107")  # prime256v1
EC_KEY_OID = bytes.fromhex("2a8648ce3d0201")  # id-ecPublicKey
UNKNOWN_CURVE = bytes.fromhex("2a8648ce3d030109")  # an arc cryptography does not know
UNKNOWN_KEY_TYPE = bytes.fromhex("2a8648ce3d0209")


def _certificate(key: Any, *, serial: int = 1, country: str = "DE", extensions: int = 0) -> bytes:
    signer = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime(2021, 1, 1))
        .not_valid_after(datetime(2030, 1, 1))
    )
    if extensions:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def good_der() -> bytes:
    return _certificate(ec.generate_private_key(ec.SECP256R1()))


# A tiny DER tree editor: certificates whose faults the builder refuses to make are made by hand.
Node = tuple[int, "bytes | list[Node]"]


def _parse(der: bytes) -> Node:
    node, end = _parse_at(der, 0)
    assert end == len(der)
    return node


def _parse_at(der: bytes, pos: int) -> tuple[Node, int]:
    tag, length, pos = der[pos], der[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        length, pos = int.from_bytes(der[pos : pos + count], "big"), pos + count
    body = der[pos : pos + length]
    if not tag & 0x20:
        return (tag, body), pos + length
    children: list[Node] = []
    inner = 0
    while inner < len(body):
        child, inner = _parse_at(body, inner)
        children.append(child)
    return (tag, children), pos + length


def _encode(node: Node) -> bytes:
    tag, body = node
    raw = body if isinstance(body, bytes) else b"".join(_encode(c) for c in body)
    if len(raw) < 0x80:
        return bytes((tag, len(raw))) + raw
    size = (len(raw).bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + len(raw).to_bytes(size, "big") + raw


def _children(node: Node) -> list[Node]:
    body = node[1]
    assert isinstance(body, list)
    return body


def _with_duplicate_extension(der: bytes) -> bytes:
    cert = _parse(der)
    tbs = _children(cert)[0]
    extensions = _children(_children(tbs)[-1])[0]  # [3] { SEQUENCE OF Extension }
    _children(extensions).append(_children(extensions)[0])
    return _encode(cert)


def _typed(call: Callable[[], object], error: type[HealthCredError]) -> HealthCredError:
    with pytest.raises(error) as caught:
        call()
    assert caught.value.code in {error.code}
    return caught.value


# --- certificates: every lazily parsed part is read inside one typed conversion -------------------


def test_certificate_with_invalid_version_is_bad_certificate(good_der: bytes) -> None:
    """cryptography's InvalidVersion (not a ValueError) leaked from read_dsc for version 6 (v = 5)."""
    at = good_der.find(b"\xa0\x03\x02\x01\x02")
    edited = good_der[: at + 4] + b"\x05" + good_der[at + 5 :]
    _typed(lambda: read_dsc(edited), BadCertificate)


@pytest.mark.parametrize(("old", "new"), [(P256_OID, UNKNOWN_CURVE), (EC_KEY_OID, UNKNOWN_KEY_TYPE)])
def test_certificate_with_unknown_key_type_or_curve_is_bad_certificate(
    good_der: bytes, old: bytes, new: bytes
) -> None:
    """cryptography's UnsupportedAlgorithm leaked from cert.public_key() for an unknown curve or key type."""
    _typed(lambda: read_dsc(good_der.replace(old, new)), BadCertificate)


def test_certificate_with_malformed_subject_name_is_bad_certificate(good_der: bytes) -> None:
    """A subject country that is not UTF-8 raised ValueError lazily, from cert.subject, outside the try."""
    attribute = b"\x06\x03\x55\x04\x06\x13\x02DE"  # countryName PrintableString "DE": issuer, then subject
    at = good_der.rfind(attribute)
    edited = good_der[:at] + b"\x06\x03\x55\x04\x06\x0c\x02\xff\xfe" + good_der[at + len(attribute) :]
    _typed(lambda: read_dsc(edited), BadCertificate)


def test_certificate_with_malformed_issuer_name_is_bad_certificate(good_der: bytes) -> None:
    """A malformed issuer name is refused at load, not later when something displays the certificate."""
    attribute = b"\x06\x03\x55\x04\x06\x13\x02DE"
    at = good_der.find(attribute)
    edited = good_der[:at] + b"\x06\x03\x55\x04\x06\x0c\x02\xff\xfe" + good_der[at + len(attribute) :]
    _typed(lambda: read_dsc(edited), BadCertificate)


def test_certificate_with_negative_serial_is_bad_certificate(good_der: bytes) -> None:
    """A negative serial (RFC 5280 forbids it) made cryptography warn, an exception under -W error."""
    at = good_der.find(b"\x02\x01\x01")
    edited = good_der[: at + 2] + b"\xff" + good_der[at + 3 :]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _typed(lambda: read_dsc(edited), BadCertificate)


def test_certificate_with_duplicate_extension_is_bad_certificate() -> None:
    """cryptography's DuplicateExtension (not a ValueError) leaked from cert.extensions."""
    der = _certificate(ec.generate_private_key(ec.SECP256R1()), extensions=1)
    with pytest.raises(x509.DuplicateExtension):  # the input really is what the test says
        _ = x509.load_der_x509_certificate(_with_duplicate_extension(der)).extensions
    _typed(lambda: read_dsc(_with_duplicate_extension(der)), BadCertificate)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: rsa.generate_private_key(65537, 1024),
        lambda: ed25519.Ed25519PrivateKey.generate(),
    ],
    ids=["secp384r1", "rsa-1024", "ed25519"],
)
def test_certificate_with_a_key_hc1_cannot_use_is_bad_certificate(make_key: Callable[[], Any]) -> None:
    """A P-384 or 1024-bit RSA DSC loaded and then failed (or passed weakly) at every verification."""
    _typed(lambda: read_dsc(_certificate(make_key())), BadCertificate)


def test_certificate_of_unusual_but_valid_form_still_loads() -> None:
    """The typed conversion must not refuse what HCERT allows: P-256 and RSA 2048 certificates."""
    for key in (ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)):
        assert read_dsc(_certificate(key, extensions=1)).country == "DE"


# --- DSC lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "!!!", "ÄÖÜ"], ids=["padding", "garbage", "non-ascii"])
def test_dsc_list_with_bad_base64_is_bad_certificate(raw: str) -> None:
    """binascii.Error and ValueError leaked from base64.b64decode of a list entry's rawData."""
    _typed(lambda: load_dsc_list(json.dumps([{"rawData": raw}]).encode()), BadCertificate)


def test_dsc_list_with_bad_base64_kid_is_bad_certificate(good_der: bytes) -> None:
    """The listed kid is decoded with the same care as the certificate."""
    entry = {"rawData": base64.b64encode(good_der).decode(), "kid": "abc"}
    _typed(lambda: load_dsc_list(json.dumps([entry]).encode()), BadCertificate)


@pytest.mark.parametrize("document", [b"5", b'"text"', b"null", b'{"rawData": "x"}', b"[" * 100_000])
def test_dsc_list_that_is_not_an_array_is_bad_certificate(document: bytes) -> None:
    """A number raised TypeError (not iterable), a deep array RecursionError; an object iterated its keys."""
    _typed(lambda: load_dsc_list(document), BadCertificate)


def test_dsc_list_file_that_is_not_an_array_fails_the_trust_load(tmp_path: Path) -> None:
    """The same through load_trust: a JSON file in dsc/ that no loader can read is a typed error."""
    (tmp_path / "list.json").write_bytes(b"[" * 100_000)
    with pytest.raises(HealthCredError) as caught:
        load_trust(tmp_path / "list.json")
    assert caught.value.code in {"bad_certificate", "trust_store_error"}


@pytest.mark.parametrize(("field", "value"), [("country", 5), ("kid", 7)])
def test_dsc_list_entry_field_of_wrong_type_is_bad_certificate(
    good_der: bytes, field: str, value: int
) -> None:
    """A numeric country became the Dsc's country (and broke --json later); a numeric kid was ignored."""
    entry: dict[str, Any] = {"rawData": base64.b64encode(good_der).decode(), field: value}
    _typed(lambda: load_dsc_list(json.dumps([entry]).encode()), BadCertificate)


# --- keys: anchors and trust-list entries ----------------------------------------------------------


def _spki(der: bytes) -> bytes:
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"


def _public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _unknown_curve_pem() -> bytes:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    return _spki(public_key_der(p256).replace(P256_OID, UNKNOWN_CURVE))


@pytest.mark.parametrize(
    "pem",
    [
        lambda: _public_pem(ec.generate_private_key(ec.SECP384R1())),
        lambda: _public_pem(rsa.generate_private_key(65537, 2048)),
        lambda: _public_pem(x448.X448PrivateKey.generate()),
        lambda: _public_pem(dsa.generate_private_key(1024)),
        lambda: x509.load_der_x509_certificate(
            _certificate(ec.generate_private_key(ec.SECP256R1()))
        ).public_bytes(serialization.Encoding.PEM),
        _unknown_curve_pem,
    ],
    ids=["secp384r1", "rsa", "x448", "dsa", "certificate", "unknown-curve"],
)
def test_anchor_of_unsupported_key_type_is_trust_store_error(
    tmp_path: Path, world: World, pem: Callable[[], bytes]
) -> None:
    """An anchor PEM on an unknown curve leaked cryptography's UnsupportedAlgorithm from load_trust."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    (folder / "anchors" / "odd.pem").write_bytes(pem())
    _typed(lambda: load_trust(folder), TrustStoreError)


def test_public_key_on_unknown_curve_is_bad_key(tmp_path: Path) -> None:
    """public_key_from_der and load_public_key leaked UnsupportedAlgorithm for an unknown curve OID."""
    (tmp_path / "odd.pem").write_bytes(_unknown_curve_pem())
    _typed(lambda: load_public_key(tmp_path / "odd.pem"), BadKey)
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    _typed(lambda: public_key_from_der(public_key_der(p256).replace(EC_KEY_OID, UNKNOWN_KEY_TYPE)), BadKey)


@pytest.mark.parametrize("edit", [(P256_OID, UNKNOWN_CURVE), (EC_KEY_OID, UNKNOWN_KEY_TYPE)])
def test_trust_list_key_on_unknown_curve_is_malformed(world: World, edit: tuple[bytes, bytes]) -> None:
    """A signed list whose entry key is on a curve cryptography does not know leaked UnsupportedAlgorithm."""
    key = public_key_der(world.zhejiang.public_key()).replace(*edit)
    entry = {1: hashlib.sha256(key).digest()[:8], 2: -7, 3: key, 4: "330000", 5: ts(T0), 6: ts(KEY_NOT_AFTER)}
    payload = {1: 1, 2: 1, 3: ts(T0), 4: ts(LIST_EXPIRES), 5: [entry], 6: "national"}
    signed = sign_content(payload, world.root, TRUST_LIST_CONTENT_TYPE)
    _typed(lambda: parse_trust_list(signed, [Anchor.from_key(world.root.public_key())]), TrustListMalformed)
    _typed(lambda: TrustStore([world.root.public_key()], [signed]), TrustListMalformed)


def test_key_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A key path naming a huge file was read whole before its size was checked."""
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as out:
        out.truncate(1 << 30)  # sparse: 1 GiB that costs nothing to make
    _typed(lambda: load_public_key(huge), BadKey)


# --- hidden caps: each container's decoder bounds follow from its documented limits -----------------


def test_trust_list_of_73_issuers_loads(world: World) -> None:
    """make_trust_list signed a list of 73 issuers that no TrustStore loaded (a 512-item CBOR bound)."""
    keys = [generate_key(Alg.EDDSA) for _ in range(73)]
    data = signed_list(world.root, grants(*((k, "330000") for k in keys)))
    store = TrustStore([world.root.public_key()], [data])
    assert len(store.lists[0].entries) == 73


def test_trust_list_of_5000_entries_signs_loads_and_verifies(world: World) -> None:
    """A national list well inside the documented 10,000 entries signs, loads and verifies a code."""
    keys = [generate_key(Alg.EDDSA) for _ in range(5_000)]
    data = signed_list(world.root, grants(*((k, "330000") for k in keys)))
    store = TrustStore([world.root.public_key()], [data])
    assert len(store.lists[0].entries) == 5_000
    _, text = world.code(keys[-1])
    assert verify(text, store, at=CHECKED).credential is not None


def test_largest_trust_list_fits_the_decoder_bounds(world: World) -> None:
    """10,000 entries of the largest form the format allows must pass the decoder (bytes, items, depth)."""
    biggest = 2**64 - 1
    sets = list(range(biggest - MAX_GRANT_SET + 1, biggest + 1))
    key = public_key_der(world.zhejiang.public_key())
    entry = {1: kid_of(world.zhejiang), 2: -7, 3: key, 4: "330000", 5: biggest - 1, 6: biggest}
    entry |= {7: sets, 8: sets, 9: 7, 10: biggest}
    payload = dumps(
        {1: 1, 2: biggest, 3: biggest - 1, 4: biggest, 5: [entry] * MAX_LIST_ENTRIES, 6: "n" * 64}
    )
    overhead = 256  # the COSE envelope around the payload: tag, headers, signature
    assert len(payload) + overhead <= MAX_LIST_BYTES
    message = Sign1(b"", -7, b"\x00" * 8, TRUST_LIST_CONTENT_TYPE, payload, b"")
    assert len(parse_list_body(message, None).entries) == MAX_LIST_ENTRIES


def test_make_trust_list_refuses_what_no_verifier_loads(world: World) -> None:
    """More than the documented 10,000 entries is refused when signing, not by every verifier later."""
    grant = KeyGrant(world.zhejiang.public_key(), "330000", ts(T0), ts(KEY_NOT_AFTER))
    with pytest.raises(TrustListMalformed, match=str(MAX_LIST_ENTRIES)):
        signed_list(world.root, [grant] * (MAX_LIST_ENTRIES + 1))


def test_revocation_list_has_no_item_cap_below_its_byte_bound(world: World) -> None:
    """A revocation list of 200,000 hashes (1.6 MB) loads: its bound is bytes (80 MiB), not items."""
    data = make_revocation_list(
        world.root, version=1, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES), added=range(1, 200_001)
    )
    store = world.store.with_revocations(data)
    assert len(store.revocations[0].hashes) == 200_000


def test_rule_set_has_no_item_cap_below_its_byte_bound(world: World) -> None:
    """30 rules of 10,000 CertLogic parts (~300,000 items) were refused by a 200,000-item bound."""
    logic = {"and": [{"var": "x"}] * 5_000}
    body = {
        "id": "big",
        "version": 1,
        "kind": "status",
        "rules": [{"id": f"r{i}", "logic": logic} for i in range(30)],
    }
    data = make_rule_set(world.root, body, issued_at=ts(T0), expires_at=ts(LIST_EXPIRES))
    assert world.store.with_rule_set(data).rule_sets[0].id == "big"


def test_bundle_of_600_dscs_opens(world: World) -> None:
    """A bundle with more DSCs than 512 items (the EU list holds several hundred) did not open."""
    key = ec.generate_private_key(ec.SECP256R1())
    ders = [_certificate(key, serial=n) for n in range(1, 601)]
    data = make_bundle(world.root, version=1, issued_at=ts(T0), trust_lists=[world.trust_list], dscs=ders)
    bundle = open_bundle(data, [Anchor.from_key(world.root.public_key())])
    assert len(bundle.store.dscs) == 600


def test_make_bundle_refuses_more_parts_than_a_verifier_opens(world: World) -> None:
    """A bundle array longer than its documented bound is refused when signing."""
    with pytest.raises(TrustListMalformed, match=str(MAX_BUNDLE_PARTS)):
        make_bundle(
            world.root, version=1, issued_at=ts(T0), trust_lists=[world.trust_list] * (MAX_BUNDLE_PARTS + 1)
        )


def test_cbor_input_is_bounded_before_decoding() -> None:
    """The decoder refuses an input over its byte bound before cbor2 sees it (typed: too_large)."""
    with pytest.raises(TooLarge):
        loads(b"\x5a\x00\x10\x00\x00" + bytes(0x100000))
    assert loads(b"\x5a\x00\x10\x00\x00" + bytes(0x100000), max_bytes=0x100005) == bytes(0x100000)


# --- trust folders: a cap on names, bounded work per file -------------------------------------------


def test_trust_sub_folder_with_too_many_names_is_refused(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lists/ folder of millions of names was listed, sorted and globbed whole on every load."""
    monkeypatch.setattr(trust_folder_module, "MAX_FOLDER_ENTRIES", 5)
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    for n in range(5):
        (folder / "lists" / f"junk{n}.txt").write_bytes(b"")  # every name counts, whatever its suffix
    error = _typed(lambda: load_trust(folder), TrustStoreError)
    assert "lists" in error.message and "5" in error.message


def test_trust_folder_with_too_many_names_in_all_is_refused(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The total cap counts every sub-folder together."""
    monkeypatch.setattr(trust_folder_module, "MAX_TRUST_FILES", 3)
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    for sub in ("revocations", "rules"):
        (folder / sub).mkdir()
        (folder / sub / "junk.txt").write_bytes(b"")
    error = _typed(lambda: load_trust(folder), TrustStoreError)
    assert "3" in error.message


def test_trust_folder_byte_budget_is_enforced(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All files of one load together are bounded, not only each file."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    monkeypatch.setattr(trust_folder_module, "MAX_TRUST_BYTES", len(world.trust_list))
    _typed(lambda: load_trust(folder), TrustStoreError)


def test_huge_bundle_file_is_refused_before_it_is_read(tmp_path: Path, world: World) -> None:
    """bundle.cose was read whole (read_bytes) before open_bundle checked its size."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    with (folder / "bundle.cose").open("wb") as out:
        out.truncate(200 * 1024 * 1024)  # sparse
    _typed(lambda: load_trust(folder), TrustListMalformed)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_in_trust_folder_is_refused_without_blocking(tmp_path: Path, world: World) -> None:
    """A FIFO named like a list (or an anchor) blocked the loader forever on open or read."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    os.mkfifo(folder / "lists" / "stuck.cose")
    os.mkfifo(folder / "anchors" / "stuck.pem")
    _typed(lambda: load_trust(folder), TrustStoreError)


def test_symlink_out_of_the_trust_folder_is_refused(tmp_path: Path, world: World) -> None:
    """A link in the folder made the loader read any file on the verifier's disk; inside links still work."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    outside = tmp_path / "elsewhere.cose"
    outside.write_bytes(world.trust_list)
    (folder / "lists" / "inside.cose").symlink_to(folder / "lists" / "national.cose")
    assert load_trust(folder).lists
    (folder / "lists" / "outside.cose").symlink_to(outside)
    error = _typed(lambda: load_trust(folder), TrustStoreError)
    assert "outside" in error.message


def test_read_bounded_never_reads_past_its_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grows after its size was checked is still read no further than the cap + 1 byte."""
    path = tmp_path / "growing.cose"
    path.write_bytes(bytes(10 * 1024 * 1024))
    real_fstat, real_read = os.fstat, os.read
    seen = [0]

    def shrunk(fd: int) -> os.stat_result:  # the size as it was before the file grew
        values = list(real_fstat(fd))
        values[6] = 0  # st_size
        return os.stat_result(values)

    def counted(fd: int, size: int) -> bytes:
        chunk = real_read(fd, size)
        seen[0] += len(chunk)
        return chunk

    monkeypatch.setattr(os, "fstat", shrunk)
    monkeypatch.setattr(os, "read", counted)
    with pytest.raises(TrustListMalformed):
        read_bounded(path, 4096, error=TrustStoreError, too_large=TrustListMalformed)
    assert seen[0] == 4097


def test_rotated_old_list_folder_still_loads(tmp_path: Path, world: World) -> None:
    """The bounded readers keep a normal folder loading: anchors, lists, leftovers of other names."""
    folder = trust_folder(tmp_path, world.root, world.trust_list)
    newer = signed_list(
        world.root, grants((world.zhejiang, "330000")), version=2, issued_at=T0 + timedelta(days=1)
    )
    (folder / "lists" / "national-v2.cose").write_bytes(newer)
    (folder / "lists" / "README").write_text("not a list\n")
    assert [t.version for t in load_trust(folder).lists] == [2]
