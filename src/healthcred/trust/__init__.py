"""Trust: grants, signed lists and delegation, the store, revocation, rule-set envelopes, bundles, folders."""
