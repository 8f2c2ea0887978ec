"""One verifier for every code a traveller carries: native, EU DCC (HC1) and SMART Health Cards.

What the format-specific suites (test_dcc, test_hc1, test_shc) do not cover: the one entry point
``healthcred.verify`` / ``verify_all`` dispatching on the prefix, the common result model, foreign
trust in the trust store, folder, bundle and ``--trust``, and policies on foreign credentials.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import io
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
import segno
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

import healthcred
from healthcred import HealthCredError, TrustStore, verify
from healthcred.cli.main import main
from healthcred.codec.base45 import b45encode
from healthcred.flows.verify import verify_all
from healthcred.foreign.dcc.hc1 import HC1_PREFIX, read_dsc
from healthcred.foreign.shc.issuers import load_shc_issuer
from healthcred.model import ForeignCredential, SourceFormat
from healthcred.rules.policy import DEFAULT_POLICIES, PolicySet
from healthcred.trust.bundle import install_bundle, make_bundle
from healthcred.trust.folder import load_anchors
from tests.helpers.folders import trust_folder
from tests.helpers.paths import TEST_DATA
from tests.helpers.world import CHECKED, ISSUED, T0, World, ts

pytestmark = pytest.mark.usefixtures("decode_path")  # each test on the C and the pure path

SHC = TEST_DATA / "shc" / "examples"
SHC_ISS = "https://spec.smarthealth.cards/examples/issuer"


def shc_issuer_doc() -> dict[str, Any]:
    jwks = json.loads((SHC / "issuer" / ".well-known" / "jwks.json").read_text())
    crls = [
        json.loads(p.read_text()) for p in sorted((SHC / "issuer" / ".well-known" / "crl").glob("*.json"))
    ]
    return {"iss": SHC_ISS, "keys": jwks["keys"], "crls": crls}


def shc_jws(n: int) -> str:
    """The QR text of a one-chunk example (00, 01, 03)."""
    return shc_chunks(n)[0]


def shc_chunks(n: int) -> list[str]:
    return [p.read_text().strip() for p in sorted(SHC.glob(f"example-0{n}-f-qr-code-numeric-value-*.txt"))]


# --- A test-made EU DCC issuer: a self-signed P-256 DSC and HC1 codes signed with it ----------------


def make_dsc(key: ec.EllipticCurvePrivateKey, country: str = "DE") -> bytes:
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, "DSC")]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


DGC: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Mustermann", "fnt": "MUSTERMANN", "gn": "Erika", "gnt": "ERIKA"},
    "dob": "1964-08-12",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2026-05-29",
            "co": "DE",
            "is": "Robert Koch-Institut",
            "ci": "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W",
        }
    ],
}


def make_hc1(
    key: ec.EllipticCurvePrivateKey, der: bytes, dgc: dict[str, Any] = DGC, *, kid: bytes | None = None
) -> str:
    protected = cbor2.dumps({1: -7, 4: kid if kid is not None else read_dsc(der).kid})
    payload = cbor2.dumps({1: "DE", 6: ts(ISSUED), 4: ts(ISSUED + timedelta(days=365)), -260: {1: dgc}})
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    return HC1_PREFIX + b45encode(zlib.compress(message))


@pytest.fixture(scope="module")
def eu() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, make_dsc(key)


@pytest.fixture(scope="module")
def mixed(world: World, eu: tuple[ec.EllipticCurvePrivateKey, bytes]) -> TrustStore:
    """Native trust plus one DSC and the SMART Health Card example issuer, in one store."""
    return world.store.with_foreign(dscs=[read_dsc(eu[1])], shc_issuers=[load_shc_issuer(shc_issuer_doc())])


# --- one entry point, one result --------------------------------------------------------------------


def test_hc1_through_verify(mixed: TrustStore, eu: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    result = verify(make_hc1(*eu), mixed, at=CHECKED)
    assert result.format is SourceFormat.HC1
    assert result.kind == "vaccination"
    assert result.status is None and result.region is None and result.health_code is None
    assert result.issuer == "DE" and result.key_region == "DE" and result.alg == "ES256"
    assert result.subject.name == "Mustermann, Erika" and result.subject.birth_date == "1964-08-12"
    assert result.subject.masked_name == "M********n, E***a"
    assert result.issued_at == ISSUED
    assert result.facts["dose"] == 2 and result.facts["doses_required"] == 2
    assert result.facts["product"] == "EU/1/20/1528" and result.facts["date"] == "2026-05-29"
    assert isinstance(result.credential, ForeignCredential)
    assert result.credential.id == DGC["v"][0]["ci"]
    summary = result.summary()
    assert summary["format"] == "hc1" and summary["name"] == "M********n, E***a"
    json.dumps(summary)


def test_hc1_test_and_recovery_facts(mixed: TrustStore, eu: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    base = {k: v for k, v in DGC.items() if k != "v"}
    entry = {"tg": "840539006", "tt": "LP6464-4", "sc": "2026-11-22T08:00:00Z", "tr": "260415000"}
    test = {**base, "t": [{**entry, "tc": "Testzentrum", "co": "DE", "is": "RKI", "ci": "URN:UVCI:01DE/T/1"}]}
    result = verify(make_hc1(*eu, test), mixed, at=CHECKED)
    assert result.kind == "test" and result.facts["result"] == "negative"
    assert result.facts["sampled_at"] == "2026-11-22T08:00:00Z"
    recovery = {**base, "r": [{"tg": "840539006", "fr": "2026-10-01", "df": "2026-10-12", "du": "2027-03-30",
                               "co": "DE", "is": "RKI", "ci": "URN:UVCI:01DE/R/1"}]}  # fmt: skip
    result = verify(make_hc1(*eu, recovery), mixed, at=CHECKED)
    assert result.kind == "recovery" and result.facts["valid_until"] == "2027-03-30"


def test_shc_through_verify(mixed: TrustStore) -> None:
    result = verify(shc_chunks(0)[0], mixed, at=CHECKED)
    assert result.format is SourceFormat.SHC
    assert result.kind == "vaccination"
    assert result.issuer == SHC_ISS and result.key_region == SHC_ISS
    assert result.subject.name.startswith("Anyperson") and result.subject.birth_date == "1951-01-20"
    assert result.facts["dose"] == 3 and result.facts["date"] == "2022-09-05"
    assert len(result.kid) == 32
    json.dumps(result.summary())


def test_shc_chunks_in_any_order(mixed: TrustStore) -> None:
    chunks = shc_chunks(2)
    assert len(chunks) == 3
    one = verify(chunks, mixed, at=CHECKED)
    other = verify(tuple(reversed(chunks)), mixed, at=CHECKED)
    assert one.credential == other.credential


def test_mixed_batch_through_one_call(world: World, mixed: TrustStore, eu: tuple[Any, bytes]) -> None:
    native = world.code()[1]
    outcomes = verify_all(
        [native, make_hc1(*eu), shc_chunks(0)[0], shc_chunks(2), shc_chunks(3)[0], "XYZ1:nothing",
         healthcred.render_qr(native)],
        mixed,
        at=CHECKED,
    )  # fmt: skip
    formats = [o.format.value if not isinstance(o, HealthCredError) else o.code for o in outcomes]
    assert formats == ["native", "hc1", "shc", "shc", "revoked", "bad_prefix", "native"]


def test_verify_all_rejects_a_bare_string(mixed: TrustStore) -> None:
    with pytest.raises(HealthCredError) as info:
        verify_all("JKM1:ABC", mixed)  # one code is verify's job
    assert info.value.code == "bad_input"


def test_foreign_trust_is_needed(world: World, eu: tuple[Any, bytes]) -> None:
    with pytest.raises(HealthCredError) as info:
        verify(make_hc1(*eu), world.store, at=CHECKED)
    assert info.value.code == "unknown_kid"
    with pytest.raises(HealthCredError) as info:
        verify(shc_chunks(0)[0], world.store, at=CHECKED)
    assert info.value.code == "unknown_issuer"


def test_a_store_of_foreign_trust_only(eu: tuple[Any, bytes], world: World) -> None:
    store = TrustStore([], dscs=[read_dsc(eu[1])])
    assert verify(make_hc1(*eu), store, at=CHECKED).kind == "vaccination"
    with pytest.raises(HealthCredError) as info:
        verify(world.code()[1], store, at=CHECKED)
    assert info.value.code == "unknown_kid"
    with pytest.raises(HealthCredError) as info:
        TrustStore([])
    assert info.value.code == "trust_store_error"


# --- foreign trust on disk, in bundles and in --trust --------------------------------------------------


def _trust_folder(tmp: Path, world: World) -> Path:
    return trust_folder(tmp, world.root, world.trust_list)


def _foreign_files(
    tmp: Path, der: bytes, *, dsc: str = "dsc.der", issuer: str = "shc-issuer.json"
) -> tuple[Path, Path]:
    """A DSC file and an SHC issuer file (the example issuer), as an operator would keep them."""
    dsc_file, issuer_file = tmp / dsc, tmp / issuer
    dsc_file.write_bytes(der)
    issuer_file.write_text(json.dumps(shc_issuer_doc()))
    return dsc_file, issuer_file


def test_load_trust_mixes_folder_dsc_files_and_shc_issuers(
    tmp_path: Path, world: World, eu: tuple[Any, bytes]
) -> None:
    folder = _trust_folder(tmp_path, world)
    der, issuer = _foreign_files(tmp_path, eu[1])
    pem = tmp_path / "dsc.pem"
    pem.write_bytes(x509.load_der_x509_certificate(eu[1]).public_bytes(Encoding.PEM))
    listing = tmp_path / "dsc-list.json"
    listing.write_text(json.dumps([{"kid": base64.b64encode(read_dsc(eu[1]).kid).decode(), "country": "DE",
                                    "rawData": base64.b64encode(eu[1]).decode()}]))  # fmt: skip
    for dsc_source in (der, pem, listing):
        store = healthcred.load_trust([folder, dsc_source, issuer])
        kinds = [
            verify(c, store, at=CHECKED).format.value for c in (world.code()[1], make_hc1(*eu), shc_jws(0))
        ]
        assert kinds == ["native", "hc1", "shc"]
    # The same, as sub-folders of the trust folder.
    (folder / "dsc").mkdir()
    (folder / "dsc" / "de.der").write_bytes(eu[1])
    (folder / "shc").mkdir()
    (folder / "shc" / "example.json").write_text(json.dumps(shc_issuer_doc()))
    store = healthcred.load_trust(folder)
    assert verify(make_hc1(*eu), store, at=CHECKED).format is SourceFormat.HC1
    assert verify(shc_jws(0), store, at=CHECKED).format is SourceFormat.SHC


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ({"keys": []}, "trust_store_error"),  # a JWKS alone: whose keys?
        ("not json", "trust_store_error"),
        ([{"rawData": "bm90IGEgY2VydA=="}], "bad_certificate"),
    ],
)
def test_bad_foreign_trust_files(tmp_path: Path, content: Any, code: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(HealthCredError) as info:
        healthcred.load_trust(path)
    assert info.value.code == code
    assert "trust.json" in info.value.message


def test_load_trust_of_nothing(tmp_path: Path) -> None:
    for bad in ([], [tmp_path / "missing"], tmp_path):
        with pytest.raises(HealthCredError) as info:
            healthcred.load_trust(bad)
        assert info.value.code == "trust_store_error"


def test_bundle_carries_foreign_trust(tmp_path: Path, world: World, eu: tuple[Any, bytes]) -> None:
    folder = _trust_folder(tmp_path, world)
    (folder / "lists" / "national.cose").unlink()
    issuer = load_shc_issuer(shc_issuer_doc())
    data = make_bundle(
        world.root,
        version=1,
        issued_at=ts(T0),
        trust_lists=[world.trust_list],
        dscs=[eu[1]],
        shc_issuers=[issuer],
    )
    assert data == make_bundle(
        world.root,
        version=1,
        issued_at=ts(T0),
        trust_lists=[world.trust_list],
        dscs=[eu[1]],
        shc_issuers=[issuer],
    )  # deterministic
    install_bundle(folder, data, load_anchors(folder))
    store = healthcred.load_trust(folder)
    assert [d.kid for d in store.dscs] == [read_dsc(eu[1]).kid]
    assert [i.iss for i in store.shc_issuers] == [SHC_ISS]
    outcomes = verify_all([world.code()[1], make_hc1(*eu), shc_jws(0), shc_jws(3)], store, at=CHECKED)
    assert [o.code if isinstance(o, HealthCredError) else o.format.value for o in outcomes] == [
        "native", "hc1", "shc", "revoked",
    ]  # fmt: skip
    # A bundle without foreign trust keeps exactly keys 1-7 (older verifiers read it).
    plain = make_bundle(world.root, version=2, issued_at=ts(T0), trust_lists=[world.trust_list])
    body = cbor2.loads(cbor2.loads(plain).value[2])
    assert sorted(body) == list(range(1, 8))


def test_cli_verify_any_format(tmp_path: Path, world: World, eu: tuple[Any, bytes]) -> None:
    folder = _trust_folder(tmp_path, world)
    der, issuer = _foreign_files(tmp_path, eu[1])
    runner = CliRunner()
    at = CHECKED.isoformat()
    trust = ["--trust", str(folder), "--trust", str(der), "--trust", str(issuer), "--at", at]
    out = runner.invoke(main, ["verify", make_hc1(*eu), *trust, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["results"][0]["format"] == "hc1"
    out = runner.invoke(main, ["verify", *shc_chunks(2), *trust, "--json"])  # three chunks, one card
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["results"][0]["format"] == "shc"  # a lab panel: kind "unknown"
    out = runner.invoke(main, ["verify", world.code()[1], make_hc1(*eu), shc_jws(0), shc_jws(3), *trust])
    assert out.exit_code == 1  # one of them is revoked
    lines = out.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["VALID", "VALID", "VALID", "INVALID"]
    assert "[revoked]" in lines[3]
    out = runner.invoke(main, ["verify", make_hc1(*eu), "--trust", str(folder), "--at", at])
    assert out.exit_code == 1 and "unknown_kid" in out.output


# --- policies on any format --------------------------------------------------------------------------


def test_policies_evaluate_on_foreign_credentials(mixed: TrustStore, eu: tuple[Any, bytes]) -> None:
    hc1 = verify(make_hc1(*eu), mixed, at=CHECKED).credential
    shc = verify(shc_jws(0), mixed, at=CHECKED).credential
    seed = PolicySet(DEFAULT_POLICIES)
    # The seed policy is about colours: a foreign credential has none, so it is never admitted by it.
    assert seed.decide(hc1, scene="mall", level="high", at=CHECKED).outcome == "deny"
    assert seed.decide(hc1, scene="mall", level="low", at=CHECKED).outcome == "not_checked"
    travel = {
        "id": "travellers",
        "version": 1,
        "kind": "policy",
        "rules": [
            {
                "id": "complete-vaccination",
                "scenes": ["transport"],
                "levels": ["low", "medium", "high"],
                "when": {"and": [
                    {"===": [{"var": "code.kind"}, "vaccination"]},
                    {"in": [{"var": "code.format"}, ["hc1", "shc"]]},
                    {">=": [{"var": "code.facts.dose"}, 2]},
                ]},
                "decision": "admit",
                "message": "完成疫苗接种 — vaccinated",
            },
            *DEFAULT_POLICIES["rules"],
        ],
    }  # fmt: skip
    policy = PolicySet(travel)
    for credential in (hc1, shc):
        decision = policy.decide(credential, scene="transport", level="high", at=CHECKED)
        assert (decision.outcome, decision.rule) == ("admit", "complete-vaccination")


# --- bad input of every kind ------------------------------------------------------------------------


def test_bad_input_across_formats(mixed: TrustStore, eu: tuple[Any, bytes], world: World) -> None:
    good = make_hc1(*eu)
    cases: list[tuple[Any, str]] = [
        ("XYZ1:ABCDEF", "bad_prefix"),
        ("hc1:" + good[4:], "bad_prefix"),  # prefixes are case-sensitive
        (good[:20] + " " + good[20:], "bad_base45"),  # stray whitespace
        ('"' + good + '"', "bad_prefix"),  # quotes around the text
        (good + '"', "bad_base45"),
        (make_hc1(*eu, kid=b"\x01\x02\x03"), "malformed_cose"),  # kid of the wrong length
        (make_hc1(*eu, kid=b"\x00" * 8), "unknown_kid"),
        ("shc:/" + "9" * 20, "bad_chunk"),  # digit pair 99 > 77
        ("shc:/1/2/" + "56" * 10, "bad_chunk"),  # half a card
        ("shc:/" + "56" * 5000, "too_large"),  # oversized chunk
        ([world.code()[1]], "bad_input"),  # a list is the chunks of one SHC
        ([], "bad_input"),
    ]
    for code, expected in cases:
        with pytest.raises(HealthCredError) as info:
            verify(code, mixed, at=CHECKED)
        assert info.value.code == expected, (str(code)[:40], info.value)


def test_der_encoded_ecdsa_signature_is_refused(mixed: TrustStore, eu: tuple[Any, bytes]) -> None:
    key, der = eu
    protected = cbor2.dumps({1: -7, 4: read_dsc(der).kid})
    payload = cbor2.dumps({1: "DE", 6: ts(ISSUED), 4: ts(ISSUED) + 86400, -260: {1: DGC}})
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(hashes.SHA256()))
    text = HC1_PREFIX + b45encode(
        zlib.compress(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))
    )
    with pytest.raises(HealthCredError) as info:
        verify(text, mixed, at=CHECKED)
    assert info.value.code == "bad_signature"


def test_public_key_formats_agree(eu: tuple[Any, bytes]) -> None:
    # A DSC loaded from DER and from PEM is one trust entry (same kid, same key).
    pem = x509.load_der_x509_certificate(eu[1]).public_bytes(Encoding.PEM)
    a, b = read_dsc(eu[1]), read_dsc(pem)
    assert a.kid == b.kid
    assert a.public_key.public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    ) == b.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_times_are_checked_for_foreign_formats(mixed: TrustStore, eu: tuple[Any, bytes]) -> None:
    with pytest.raises(HealthCredError) as info:
        verify(make_hc1(*eu), mixed, at=ISSUED + timedelta(days=400))
    assert info.value.code == "expired"
    with pytest.raises(HealthCredError) as info:
        verify(make_hc1(*eu), mixed, at=ISSUED - timedelta(hours=1))
    assert info.value.code == "not_yet_valid"
    with pytest.raises(HealthCredError) as info:
        verify(shc_jws(0), mixed, at=datetime(2020, 1, 1, tzinfo=UTC))
    assert info.value.code == "not_yet_valid"


def test_images_of_every_format(mixed: TrustStore, eu: tuple[Any, bytes], world: World) -> None:
    for text in (world.code()[1], make_hc1(*eu), shc_jws(0)):
        assert verify(healthcred.render_qr(text), mixed, at=CHECKED).format.value in ("native", "hc1", "shc")
    # A multi-part card as three images (its chunks need level L, as SMART Health Cards prescribe).
    chunks = []
    for chunk in shc_chunks(2):
        out = io.BytesIO()
        segno.make(chunk, error="l", micro=False).save(out, kind="png", scale=2)
        chunks.append(out.getvalue())
    assert verify(chunks, mixed, at=CHECKED).format is SourceFormat.SHC


def test_unchecked_revocation_is_a_warning(world: World, mixed: TrustStore) -> None:
    doc = {**shc_issuer_doc(), "crls": []}
    store = world.store.with_foreign(shc_issuers=[load_shc_issuer(doc)])
    nbf = json.loads((SHC / "example-03-c-jws-payload-minified.json").read_text())["nbf"]
    result = verify(shc_jws(3), store, at=int(nbf) + 3600)  # revoked, but this store cannot know
    assert result.warnings and "revocation not checked" in result.warnings[0]
    assert not verify(shc_jws(0), mixed, at=CHECKED).warnings  # the store with the CRL: no warning


def test_cli_trust_folder_takes_foreign_trust_and_bundles_it(
    tmp_path: Path, world: World, eu: tuple[Any, bytes]
) -> None:
    from healthcred.crypto.keys import save_private_key

    folder = _trust_folder(tmp_path, world)
    der, issuer = _foreign_files(tmp_path, eu[1], dsc="de.der", issuer="example-issuer.json")
    runner = CliRunner()
    out = runner.invoke(main, ["trust", "add", str(folder), str(der), str(issuer)])
    assert out.exit_code == 0, out.output
    assert "1 DSCs, 1 SHC issuers" in out.output
    assert (folder / "dsc" / "de.der").is_file() and (folder / "shc" / "example-issuer.json").is_file()
    shown = json.loads(runner.invoke(main, ["trust", "show", str(folder), "--json"]).output)
    assert shown["dscs"][0]["country"] == "DE" and shown["shc_issuers"][0]["iss"] == SHC_ISS
    # Removing and re-adding a foreign file (how a DSC or CRL is updated).
    assert runner.invoke(main, ["trust", "remove", str(folder), "de.der"]).exit_code == 0
    assert not (folder / "dsc" / "de.der").exists()
    assert runner.invoke(main, ["trust", "add", str(folder), str(der)]).exit_code == 0
    # A bad foreign file is refused before anything is copied.
    bad = tmp_path / "bad.der"
    bad.write_bytes(b"not a certificate")
    out = runner.invoke(main, ["trust", "add", str(folder), str(bad)])
    assert out.exit_code == 1 and "bad_certificate" in out.output
    assert not (folder / "dsc" / "bad.der").exists()
    # trust sign puts everything, foreign trust included, into one bundle for another verifier.
    root_key = tmp_path / "root.key.pem"
    save_private_key(world.root, root_key)
    bundle = tmp_path / "bundle.cose"
    sign = ["trust", "sign", str(folder), "--root", str(root_key), "--version", "1", "--out", str(bundle)]
    out = runner.invoke(main, sign)
    assert out.exit_code == 0, out.output
    other = _trust_folder(tmp_path / "other", world)
    (other / "lists" / "national.cose").unlink()
    assert runner.invoke(main, ["trust", "add", str(other), str(bundle)]).exit_code == 0
    store = healthcred.load_trust(other)
    outcomes = verify_all([world.code()[1], make_hc1(*eu), shc_jws(0)], store, at=CHECKED)
    formats = [o.format.value for o in outcomes if not isinstance(o, HealthCredError)]
    assert formats == ["native", "hc1", "shc"]


def test_smart_health_card_files(tmp_path: Path, mixed: TrustStore, world: World) -> None:
    from healthcred.foreign.shc.cards import load_health_cards

    cards = [load_health_cards(SHC / f"example-0{n}-e-file.smart-health-card")[0] for n in range(4)]
    outcomes = verify_all(cards, mixed, at=CHECKED)  # parsed cards verify like QR texts
    assert [o.code if isinstance(o, HealthCredError) else o.format.value for o in outcomes] == [
        "shc", "shc", "shc", "revoked",
    ]  # fmt: skip
    assert verify(cards[0], mixed, at=CHECKED).credential == verify(shc_jws(0), mixed, at=CHECKED).credential
    folder = _trust_folder(tmp_path, world)
    issuer = tmp_path / "shc-issuer.json"
    issuer.write_text(json.dumps(shc_issuer_doc()))
    runner = CliRunner()
    trust = ["--trust", str(folder), "--trust", str(issuer), "--at", CHECKED.isoformat()]
    files = [str(SHC / f"example-0{n}-e-file.smart-health-card") for n in (0, 2)]
    out = runner.invoke(main, ["verify", files[0], world.code()[1], files[1], *trust])
    assert out.exit_code == 0, out.output
    assert [line.split()[1] for line in out.output.strip().splitlines()] == ["SHC", "GREEN", "SHC"]
    broken = tmp_path / "broken.smart-health-card"
    broken.write_text('{"verifiableCredential": 3}')
    out = runner.invoke(main, ["verify", str(broken), *trust])
    assert out.exit_code == 1 and "[malformed_jws]" in out.output and "broken.smart-health-card" in out.output


_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["JKM1:", "HC1:", "shc:/", "shc:/1/2/", "shc:/2/2/", "JKP1:", ""]),
    body=st.one_of(st.text(alphabet=_B45, max_size=600), st.text(alphabet="0123456789", max_size=600),
                   st.text(max_size=200)),
)  # fmt: skip
def test_any_text_gives_a_result_or_a_typed_error(prefix: str, body: str) -> None:
    with contextlib.suppress(HealthCredError):
        verify(prefix + body, FUZZ_STORE, at=CHECKED)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="shc:/0123456789", max_size=80), min_size=1, max_size=20))
def test_any_chunk_list_gives_a_result_or_a_typed_error(chunks: list[str]) -> None:
    with contextlib.suppress(HealthCredError):
        verify(chunks, FUZZ_STORE, at=CHECKED)


def _fuzz_store() -> TrustStore:
    key = ec.generate_private_key(ec.SECP256R1())
    return TrustStore([], dscs=[read_dsc(make_dsc(key))], shc_issuers=[load_shc_issuer(shc_issuer_doc())])


FUZZ_STORE = _fuzz_store()


def test_scan_log_records_foreign_credentials(
    tmp_path: Path, mixed: TrustStore, eu: tuple[Any, bytes]
) -> None:
    from healthcred.flows.scanlog import close_log, export_rows, generate_log_key, open_log, record_scan

    log = open_log(tmp_path / "scans.db", generate_log_key())
    try:
        hc1 = verify(make_hc1(*eu), mixed, at=CHECKED)
        shc = verify(shc_jws(0), mixed, at=CHECKED)  # example 00 carries no rid: no id to hash
        for result in (hc1, shc):
            record_scan(log, place="PEK-T3-07", outcome="admit", result=result, at=CHECKED)
        out = io.StringIO()
        export_rows(log, out, credential_id=str(DGC["v"][0]["ci"]).encode())
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert len(rows) == 1 and rows[0]["kind"] == "vaccination" and rows[0]["colour"] is None
        assert "Mustermann" not in (tmp_path / "scans.db").read_bytes().decode("latin-1")
    finally:
        close_log(log)


def test_renamed_readers_keep_their_old_names_for_one_release() -> None:
    from healthcred.conformance import reference
    from healthcred.foreign.dcc import dsc, hc1
    from healthcred.foreign.shc import cards

    for module, old, new, bad in (
        (hc1, "decode_hc1", "read_hc1", "x"),
        (cards, "decode_shc", "read_shc", "x"),
        (dsc, "load_dsc", "read_dsc", b"x"),
    ):
        alias = getattr(module, old)
        assert alias.__wrapped__ is getattr(module, new)
        assert alias.__doc__.startswith("Deprecated alias of")
        with pytest.warns(DeprecationWarning, match=f"{old} is renamed"), pytest.raises(HealthCredError):
            alias(bad)
    assert inspect.unwrap(reference.load_store) is reference.make_store
