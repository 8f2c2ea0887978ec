"""Signing layer: algorithms, keys and kids, COSE_Sign1, signed trust lists.

``verify_signature`` is the raw layer: one signature, one key, no trust.
"""

from healthcred.signing.algorithms import Alg, PrivateKey, PublicKey, sign, verify_signature
from healthcred.signing.cose import Signer
from healthcred.signing.folder import load_trust
from healthcred.signing.keys import (
    generate_key,
    kid_of,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from healthcred.signing.trust import KeyGrant, TrustStore, make_trust_list

__all__ = [
    "Alg",
    "KeyGrant",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "TrustStore",
    "generate_key",
    "kid_of",
    "load_private_key",
    "load_public_key",
    "load_trust",
    "make_trust_list",
    "save_private_key",
    "save_public_key",
    "sign",
    "verify_signature",
]
