"""Crypto layer: the allow-listed signature algorithms, keys and kids, and COSE_Sign1.

``crypto.algorithms.verify_signature`` is the raw layer: one signature, one key, no trust.
"""
