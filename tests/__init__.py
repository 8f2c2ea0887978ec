"""The test suite: ``tests/X/`` tests ``healthcred.X``; tests that span layers sit here at the top.

Shared builders are in ``tests.helpers`` (``conftest.py`` holds only fixtures); third-party test
vectors, each with its licence, in ``tests/data``.
"""
