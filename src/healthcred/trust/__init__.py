"""Trust: grants, signed lists and delegation, the store, revocation, rule-set envelopes, bundles, folders.

The modules, from the bottom up: :mod:`~healthcred.trust.envelope` (opening a signed
object, its signer, trust anchors), :mod:`~healthcred.trust.series` (newest version,
no rollback), :mod:`~healthcred.trust.grants` (what a key may do),
:mod:`~healthcred.trust.lists` (signed trust lists and delegation),
:mod:`~healthcred.trust.revocation`, :mod:`~healthcred.trust.rulesets`,
:mod:`~healthcred.trust.store` (the :class:`TrustStore`), :mod:`~healthcred.trust.state`,
:mod:`~healthcred.trust.bundle` and :mod:`~healthcred.trust.folder`. This package
re-exports their public names (and is what the old ``healthcred.signing.trust`` path
gives); code inside the package imports each name from its module.
"""

from healthcred.regions import NATIONAL_REGION as NATIONAL_REGION  # old signing.trust name
from healthcred.regions import region_contains as region_contains  # old signing.trust name
from healthcred.trust.bundle import (
    BUNDLE_CONTENT_TYPE,
    BUNDLE_FILE,
    Bundle,
    install_bundle,
    make_bundle,
    open_bundle,
)
from healthcred.trust.envelope import MAX_LIST_BYTES, Anchor, open_signed, verify_anchor, verify_signer
from healthcred.trust.folder import (
    ANCHORS_DIR,
    DSC_DIR,
    LISTS_DIR,
    REVOCATIONS_DIR,
    RULES_DIR,
    SHC_DIR,
    load_anchors,
    load_foreign,
    load_trust,
)
from healthcred.trust.grants import (
    MAX_GRANT_SET,
    ROLE_DELEGATE,
    ROLE_ISSUE,
    ROLE_RULES,
    KeyGrant,
    TrustEntry,
    grant_conflict,
    permitting_entry,
    subset_of,
)
from healthcred.trust.lists import (
    TRUST_LIST_CONTENT_TYPE,
    TRUST_LIST_FORMAT,
    EntryKey,
    ListKey,
    TrustList,
    check_delegation,
    make_trust_list,
    parse_list_body,
    parse_trust_list,
)
from healthcred.trust.revocation import (
    HASH_BYTES,
    MAX_REVOCATION_BYTES,
    REVOCATION_CONTENT_TYPE,
    RevocationList,
    Revocations,
    RevocationSet,
    fold_revocations,
    make_revocation_list,
    parse_revocation_body,
    revocation_hash,
)
from healthcred.trust.rulesets import (
    RULES_CONTENT_TYPE,
    SignedRuleSet,
    make_rule_set,
    parse_rule_set_body,
)
from healthcred.trust.series import Versioned, newest_versions
from healthcred.trust.state import STATE_FILE, load_state, merge_state, save_state
from healthcred.trust.store import TrustStore

__all__ = [
    "ANCHORS_DIR",
    "BUNDLE_CONTENT_TYPE",
    "BUNDLE_FILE",
    "DSC_DIR",
    "HASH_BYTES",
    "LISTS_DIR",
    "MAX_GRANT_SET",
    "MAX_LIST_BYTES",
    "MAX_REVOCATION_BYTES",
    "REVOCATIONS_DIR",
    "REVOCATION_CONTENT_TYPE",
    "ROLE_DELEGATE",
    "ROLE_ISSUE",
    "ROLE_RULES",
    "RULES_CONTENT_TYPE",
    "RULES_DIR",
    "SHC_DIR",
    "STATE_FILE",
    "TRUST_LIST_CONTENT_TYPE",
    "TRUST_LIST_FORMAT",
    "Anchor",
    "Bundle",
    "EntryKey",
    "KeyGrant",
    "ListKey",
    "RevocationList",
    "RevocationSet",
    "Revocations",
    "SignedRuleSet",
    "TrustEntry",
    "TrustList",
    "TrustStore",
    "Versioned",
    "check_delegation",
    "fold_revocations",
    "grant_conflict",
    "install_bundle",
    "load_anchors",
    "load_foreign",
    "load_state",
    "load_trust",
    "make_bundle",
    "make_revocation_list",
    "make_rule_set",
    "make_trust_list",
    "merge_state",
    "newest_versions",
    "open_bundle",
    "open_signed",
    "parse_list_body",
    "parse_revocation_body",
    "parse_rule_set_body",
    "parse_trust_list",
    "permitting_entry",
    "revocation_hash",
    "save_state",
    "subset_of",
    "verify_anchor",
    "verify_signer",
]
