"""Shared builders for the tests: import them from here; ``conftest.py`` files hold only fixtures."""
