"""The conformance-vector generator: builds ``vectors/`` deterministically (not installed)."""
