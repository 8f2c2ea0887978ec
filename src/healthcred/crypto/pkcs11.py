"""Issuer keys held in a PKCS#11 token (an HSM, a smart card, SoftHSM2 for tests).

:func:`open_token_key` finds the private key a PKCS#11 URI names (:mod:`healthcred.crypto.pkcs11uri`),
logs in and returns a :class:`TokenKey`; its :meth:`TokenKey.signer` is a
:class:`~healthcred.crypto.cose.Signer` that every issuing function takes where it takes a software
key. The private key never leaves the token: ES256 hashes outside (SHA-256) and has the token sign
the digest with ``CKM_ECDSA``, whose output is already the COSE form (raw ``r ‖ s``); EdDSA sends the
message to ``CKM_EDDSA``. The kid comes from the public key object read from the token.
:func:`generate_token_key` makes a new pair inside the token, sensitive and never extractable.

How a token signs for each algorithm is one table, :data:`MECHANISMS`: a token for another
algorithm (an SM2 device behind GM/T 0018, with vendor mechanisms) is one
:func:`register_mechanism` call away (docs/hsm.md). Needs the ``hsm`` extra (python-pkcs11).
Every PKCS#11 failure is a :class:`~healthcred.errors.BadKey` in the operator's terms; no message
holds the PIN.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from healthcred.crypto.algorithms import Alg, PublicKey, alg_of
from healthcred.crypto.cose import Signer
from healthcred.crypto.keys import kid_of, public_key_der
from healthcred.crypto.pkcs11uri import Pkcs11Uri, parse_uri
from healthcred.errors import BadInput, BadKey
from healthcred.files import read_bounded

__all__ = [
    "DEFAULT_MODULE",
    "MECHANISMS",
    "MODULE_ENV",
    "TokenKey",
    "TokenMechanism",
    "check_new_key_uri",
    "generate_token_key",
    "module_path",
    "open_token_key",
    "open_token_signer",
    "register_mechanism",
]

MODULE_ENV = "HEALTHCRED_PKCS11_MODULE"
"""Environment variable naming the PKCS#11 module when the URI has no ``module-path``."""
DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
"""The module used when neither the URI nor :data:`MODULE_ENV` names one: SoftHSM2 on Debian."""
MAX_PIN_FILE_BYTES = 1024
"""Largest PIN file read (``pin-source=file:…``)."""

# PKCS#11 constants (PKCS#11 v2.40 / v3.0), so the table below reads without python-pkcs11 imported.
CKK_EC = 0x03
CKK_EC_EDWARDS = 0x40
CKM_EC_KEY_PAIR_GEN = 0x1040
CKM_ECDSA = 0x1041
CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055
CKM_EDDSA = 0x1057
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")  # OID 1.2.840.10045.3.1.7 (prime256v1)
_ED25519_OID = bytes.fromhex("06032b6570")  # OID 1.3.101.112 (RFC 8410)
_ED25519_NAME = b"\x13\x0cedwards25519"  # PrintableString: the PKCS#11 v3.0 name form


@dataclass(frozen=True, slots=True)
class TokenMechanism:
    """How a token holds and signs with keys of one algorithm.

    ``key_type`` (``CKK_*``) and ``params`` (the ``CKA_EC_PARAMS`` DER the pair is generated with;
    ``also_params`` other encodings tokens write) identify a key of the algorithm; ``keygen`` and
    ``sign`` are the ``CKM_*`` mechanisms; ``to_sign(message, public_der)`` turns the COSE
    to-be-signed bytes into what ``C_Sign`` receives (a digest, for an algorithm hashed outside);
    ``public_key(point)`` reads ``CKA_EC_POINT``'s content into a public key.
    """

    key_type: int
    params: bytes
    keygen: int
    sign: int
    to_sign: Callable[[bytes, bytes], bytes]
    public_key: Callable[[bytes], PublicKey]
    also_params: tuple[bytes, ...] = ()


def _sha256(message: bytes, _public_der: bytes) -> bytes:
    return hashlib.sha256(message).digest()


def _as_is(message: bytes, _public_der: bytes) -> bytes:
    return message


def _p256_point(point: bytes) -> PublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def _ed25519_point(point: bytes) -> PublicKey:
    return ed25519.Ed25519PublicKey.from_public_bytes(point)


MECHANISMS: dict[Alg, TokenMechanism] = {
    Alg.ES256: TokenMechanism(CKK_EC, _P256_PARAMS, CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, _sha256, _p256_point),
    Alg.EDDSA: TokenMechanism(
        CKK_EC_EDWARDS,
        _ED25519_OID,
        CKM_EC_EDWARDS_KEY_PAIR_GEN,
        CKM_EDDSA,
        _as_is,
        _ed25519_point,
        also_params=(_ED25519_NAME,),
    ),
}
"""The mechanism table: one entry per algorithm a token can sign with."""


def register_mechanism(alg: Alg, mechanism: TokenMechanism) -> None:
    """Add or replace how tokens sign for ``alg`` (e.g. a vendor's SM2 mechanism; docs/hsm.md)."""
    MECHANISMS[alg] = mechanism


def module_path(uri: Pkcs11Uri) -> str:
    """The PKCS#11 module to load: the URI's ``module-path``, else :data:`MODULE_ENV`, else SoftHSM2's."""
    if uri.module_name is not None:
        raise BadInput(
            "PKCS#11 URI: module-name is not supported; give the module's file as module-path"
            f" or in {MODULE_ENV}"
        )
    return uri.module_path or os.environ.get(MODULE_ENV) or DEFAULT_MODULE


class TokenKey:
    """A private key in a token, logged in and ready to sign; close it (or use ``with``) when done.

    One session serves every signature; a lock keeps two threads from interleaving operations on it.
    """

    def __init__(
        self, session: Any, private: Any, alg: Alg, public: PublicKey, name: str, uri: Pkcs11Uri | None = None
    ):
        self._session = session
        self._uri = uri  # to open the same key in another process (Signer.reopen)
        self._private = private
        self._lock = threading.Lock()
        self.alg = alg
        """The key's algorithm, from its type and curve on the token."""
        self.public_key = public
        """The public key, read from the token's public key object."""
        self.kid = kid_of(public)
        """The key id of :attr:`public_key`."""
        self.name = name
        """The key as the operator named it (token and object), for messages."""
        self._mechanism = MECHANISMS[alg]
        self._der = public_key_der(public)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (COSE to-be-signed bytes) in the token; the signature in COSE form."""
        data = self._mechanism.to_sign(message, self._der)
        with self._lock, _token_errors(self.name):
            signature = bytes(self._private.sign(data, mechanism=_mechanism(self._mechanism.sign)))
        if len(signature) != 64:
            raise BadKey(f"{self.name}: the token gave a {len(signature)}-byte signature, not 64 bytes")
        return signature

    def signer(self, content_type: str | None = None) -> Signer:
        """A :class:`Signer` that signs with this key (for ``content_type``, as ``Signer.for_key``).

        Its ``reopen`` opens the key again in another process (its own module, login and session).
        """
        reopen = None if self._uri is None else functools.partial(open_token_signer, self._uri, content_type)
        return Signer.for_function(
            self.alg, self.public_key, self.sign, content_type=content_type, reopen=reopen
        )

    def close(self) -> None:
        """Log out and close the session."""
        with self._lock, _token_errors(self.name):
            self._session.close()

    def __enter__(self) -> TokenKey:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_token_key(uri: str | Pkcs11Uri) -> TokenKey:
    """Open the token ``uri`` names, log in with its PIN and find its private key."""
    parsed = parse_uri(uri) if isinstance(uri, str) else uri
    if parsed.type not in (None, "private"):
        raise BadInput(f"PKCS#11 URI: type={parsed.type} names no private key; a signing key is type=private")
    session = _open_session(parsed, rw=False)
    try:
        return _token_key(session, parsed)
    except BaseException:
        session.close()
        raise


def open_token_signer(uri: str | Pkcs11Uri, content_type: str | None = None) -> Signer:
    """The signer of the key ``uri`` names, open until the process exits (for a worker process).

    Each process initialises the module and logs in itself: python-pkcs11 initialises modules with
    ``C_Initialize(NULL)`` (no two threads in the module at once), so parallel signing is one
    process per signer, never threads sharing a module (docs/hsm.md).
    """
    token = open_token_key(uri)
    atexit.register(token.close)
    return token.signer(content_type)


def check_new_key_uri(parsed: Pkcs11Uri) -> Pkcs11Uri:
    """``parsed`` if it can name a key to generate (``object=`` given, no other type); else BadInput."""
    if parsed.object is None:
        raise BadInput("PKCS#11 URI: name the new key with object=LABEL")
    if parsed.type not in (None, "private"):
        raise BadInput(f"PKCS#11 URI: type={parsed.type}: keygen makes a private key (type=private or none)")
    return parsed


def generate_token_key(uri: str | Pkcs11Uri, alg: Alg) -> TokenKey:
    """Generate an ``alg`` key pair inside the token (sensitive, never extractable); return it open.

    The URI must name the new key with ``object=``; a key of that name (or ``id``) already on the
    token is refused. Without ``id=`` the pair's ``CKA_ID`` is set to its kid.
    """
    parsed = check_new_key_uri(parse_uri(uri) if isinstance(uri, str) else uri)
    session = _open_session(parsed, rw=True)
    try:
        _refuse_existing(session, parsed)
        _generate(session, parsed, alg)
        return _token_key(session, parsed)
    except BaseException:
        session.close()
        raise


def _import() -> Any:
    try:
        import pkcs11
    except ImportError as exc:
        raise BadKey(
            "PKCS#11 keys need python-pkcs11: install healthcred with the hsm extra"
            " (pip install 'healthcred[hsm]')"
        ) from exc
    return pkcs11


def _mechanism(value: int) -> Any:
    pkcs11 = _import()
    try:
        return pkcs11.Mechanism(value)
    except ValueError:  # a vendor mechanism python-pkcs11 has no name for: passed as the number
        return value


@contextmanager
def _token_errors(name: str) -> Iterator[None]:
    """Every PKCS#11 failure inside becomes one :class:`BadKey` naming ``name`` (never the PIN)."""
    pkcs11 = _import()
    errors = pkcs11.exceptions
    try:
        yield
    except (errors.PinIncorrect, errors.PinInvalid, errors.PinLenRange) as exc:
        raise BadKey(f"{name}: the token refused the PIN (wrong PIN)") from exc
    except errors.PinLocked as exc:
        raise BadKey(f"{name}: the token's user PIN is locked (too many wrong PINs)") from exc
    except errors.PinExpired as exc:
        raise BadKey(f"{name}: the token's user PIN has expired; set a new one on the token") from exc
    except (errors.UserNotLoggedIn, errors.UserPinNotInitialized) as exc:
        raise BadKey(f"{name}: not logged in: give the PIN (pin-source=file:PATH or pin-value=)") from exc
    except (errors.MechanismInvalid, errors.FunctionNotSupported, errors.KeyTypeInconsistent) as exc:
        raise BadKey(f"{name}: the token does not offer the signing mechanism this key needs") from exc
    except errors.PKCS11Error as exc:
        raise BadKey(f"{name}: the token failed ({type(exc).__name__})") from exc


def _read_pin(uri: Pkcs11Uri) -> str | None:
    if uri.pin_value is not None:
        return uri.pin_value
    if uri.pin_source is None:
        return None
    source = uri.pin_source
    if source.startswith("file://"):
        source = source[len("file://") :]
    elif source.startswith("file:"):
        source = source[len("file:") :]
    elif ":" in source.split("/", 1)[0] or source.startswith("|"):
        raise BadInput(f"PKCS#11 URI: pin-source {source!r}: only a file (file:PATH) is read")
    try:
        data = read_bounded(source, MAX_PIN_FILE_BYTES, error=BadKey)
    except BadKey as exc:
        raise BadKey(f"PIN file (pin-source): {exc.message}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadKey(f"PIN file {source} is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


def _open_session(uri: Pkcs11Uri, *, rw: bool) -> Any:
    pkcs11 = _import()
    path = module_path(uri)
    pin = _read_pin(uri)
    if not os.path.isfile(path):
        raise BadKey(f"PKCS#11 module {path} does not exist (set module-path= or {MODULE_ENV})")
    with _token_errors(f"PKCS#11 module {path}"):
        lib = pkcs11.lib(path)
    token = _find_token(lib, uri, path)
    name = f"token {token.label!r}"
    with _token_errors(name):
        try:
            session = token.open(rw=rw, user_pin=pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # PKCS#11 login is per application and token: while another key of this process is
            # open on the token, this session is logged in already (and the token checks no PIN).
            session = token.open(rw=rw)
    return session


def _find_token(lib: Any, uri: Pkcs11Uri, path: str) -> Any:
    pkcs11 = _import()
    with _token_errors(f"PKCS#11 module {path}"):
        if not _library_matches(lib, uri):
            raise BadKey(f"PKCS#11 module {path} is not the library the URI names (library-*)")
        slots = [s for s in lib.get_slots(token_present=True) if _slot_matches(s, uri)]
        tokens = [s.get_token() for s in slots]
        live = [t for t in tokens if t.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED]
    found = [t for t in live if _token_matches(t, uri)]
    if len(found) == 1:
        return found[0]
    labels = ", ".join(repr(t.label) for t in live) or "none"
    if not found:
        wanted = f"labelled {uri.token!r}" if uri.token is not None else "matching the URI"
        raise BadKey(f"PKCS#11 module {path} has no token {wanted} (tokens there: {labels})")
    raise BadKey(
        f"PKCS#11 module {path}: {len(found)} tokens match the URI ({labels}); add token= or serial="
    )


def _library_matches(lib: Any, uri: Pkcs11Uri) -> bool:
    version = ".".join(str(n) for n in lib.library_version)
    return (
        uri.library_manufacturer in (None, lib.manufacturer_id)
        and uri.library_description in (None, lib.library_description)
        and (uri.library_version is None or _same_version(uri.library_version, version))
    )


def _same_version(wanted: str, have: str) -> bool:
    major, _, minor = wanted.partition(".")
    have_major, _, have_minor = have.partition(".")
    return int(major) == int(have_major) and int(minor or 0) == int(have_minor or 0)


def _slot_matches(slot: Any, uri: Pkcs11Uri) -> bool:
    return (
        uri.slot_id in (None, slot.slot_id)
        and uri.slot_description in (None, slot.slot_description)
        and uri.slot_manufacturer in (None, slot.manufacturer_id)
    )


def _token_matches(token: Any, uri: Pkcs11Uri) -> bool:
    serial = token.serial.decode("ascii", "replace") if isinstance(token.serial, bytes) else token.serial
    return (
        uri.token in (None, token.label)
        and uri.manufacturer in (None, token.manufacturer_id)
        and uri.model in (None, token.model)
        and uri.serial in (None, serial)
    )


def _template(uri: Pkcs11Uri, object_class: Any) -> dict[Any, Any]:
    pkcs11 = _import()
    attrs: dict[Any, Any] = {pkcs11.Attribute.CLASS: object_class}
    if uri.object is not None:
        attrs[pkcs11.Attribute.LABEL] = uri.object
    if uri.id is not None:
        attrs[pkcs11.Attribute.ID] = uri.id
    return attrs


def _one(session: Any, attrs: dict[Any, Any], what: str, uri: Pkcs11Uri) -> Any:
    with _token_errors(uri.describe()):
        found = list(session.get_objects(attrs))
    if len(found) == 1:
        return found[0]
    if not found:
        hint = (
            "" if uri.pin_value or uri.pin_source else " (no PIN given: private keys show only after login)"
        )
        raise BadKey(f"{uri.describe()}: the token holds no {what} with that object/id{hint}")
    raise BadKey(f"{uri.describe()}: {len(found)} {what}s match; name one with object= or id=")


def _token_key(session: Any, uri: Pkcs11Uri) -> TokenKey:
    pkcs11 = _import()
    attribute = pkcs11.Attribute
    if uri.object is None and uri.id is None:
        raise BadInput("PKCS#11 URI: name the key with object=LABEL or id=…")
    private = _one(session, _template(uri, pkcs11.ObjectClass.PRIVATE_KEY), "private key", uri)
    with _token_errors(uri.describe()):
        key_type, label, key_id = (private[a] for a in (attribute.KEY_TYPE, attribute.LABEL, attribute.ID))
    exact = Pkcs11Uri(token=uri.token, object=label or None, id=key_id or None)
    public = _one(session, _template(exact, pkcs11.ObjectClass.PUBLIC_KEY), "public key", uri)
    with _token_errors(uri.describe()):
        params, point = public[attribute.EC_PARAMS], public[attribute.EC_POINT]
    alg = _alg_of(int(key_type), bytes(params), uri)
    key = MECHANISMS[alg].public_key(_unwrap_point(bytes(point)))
    if alg_of(key) is not alg:  # pragma: no cover - the table's reader and the alg disagree
        raise BadKey(f"{uri.describe()}: the public key is not a {alg.label} key")
    return TokenKey(session, private, alg, key, uri.describe(), uri)


def _alg_of(key_type: int, params: bytes, uri: Pkcs11Uri) -> Alg:
    for alg, mechanism in MECHANISMS.items():
        if key_type == mechanism.key_type and params in (mechanism.params, *mechanism.also_params):
            return alg
    allowed = ", ".join(alg.label for alg in MECHANISMS)
    raise BadKey(f"{uri.describe()}: the key is of a type or curve healthcred does not sign with ({allowed})")


def _unwrap_point(point: bytes) -> bytes:
    # CKA_EC_POINT is DER OCTET STRING(point) by the standard; some tokens store the bare point.
    if len(point) >= 2 and point[0] == 0x04 and point[1] == len(point) - 2 and len(point) - 2 in (32, 65):
        return point[2:]
    return point


def _refuse_existing(session: Any, uri: Pkcs11Uri) -> None:
    pkcs11 = _import()
    for object_class in (pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.ObjectClass.PUBLIC_KEY):
        for attrs in ({pkcs11.Attribute.LABEL: uri.object}, {pkcs11.Attribute.ID: uri.id}):
            if None in attrs.values():
                continue
            with _token_errors(uri.describe()):
                exists = next(
                    iter(session.get_objects({pkcs11.Attribute.CLASS: object_class, **attrs})), None
                )
            if exists is not None:
                raise BadKey(
                    f"{uri.describe()}: the token already holds a key of that name; keygen never replaces"
                    " a key (what it signed would lose its key): choose another object="
                )


def _generate(session: Any, uri: Pkcs11Uri, alg: Alg) -> None:
    pkcs11 = _import()
    attribute = pkcs11.Attribute
    mechanism = MECHANISMS[alg]
    private_template = {
        attribute.TOKEN: True,
        attribute.PRIVATE: True,
        attribute.SENSITIVE: True,
        attribute.EXTRACTABLE: False,
        attribute.SIGN: True,
    }
    public_template = {attribute.TOKEN: True, attribute.VERIFY: True}
    with _token_errors(uri.describe()):
        params = session.create_domain_parameters(
            pkcs11.KeyType(mechanism.key_type), {attribute.EC_PARAMS: mechanism.params}, local=True
        )
        public, private = params.generate_keypair(
            store=True,
            label=uri.object,
            id=uri.id,
            mechanism=_mechanism(mechanism.keygen),
            public_template=public_template,
            private_template=private_template,
        )
        if uri.id is None:  # the kid as CKA_ID: a key can then be named by id= as well
            point = _unwrap_point(bytes(public[attribute.EC_POINT]))
            kid = kid_of(mechanism.public_key(point))
            public[attribute.ID] = kid
            private[attribute.ID] = kid
