"""The test suite (a package, so tests import shared builders as ``tests.helpers.*``)."""
