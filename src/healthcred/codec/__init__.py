"""Codec layer: Base45, bounded zlib, strict CBOR, text prefixes and QR images.

Every function here is pure and stateless; each raises its own typed error.
"""
