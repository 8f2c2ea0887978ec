"""Coverage-guided fuzzing of every healthcred entry point (atheris); see fuzz/README.md.

Each module of :mod:`fuzz.targets` is one entry point with a ``one_input(data)`` that keeps the
library's promise or lets the exception through: a result (whose ``summary()`` is JSON) or one
:class:`~healthcred.errors.HealthCredError` whose code is in ``ERROR_CODES``. The targets need
no atheris to run on their seeds (``tests/test_fuzz_targets.py``); ``python -m fuzz.run`` fuzzes
one target and ``python -m fuzz.campaign`` runs the long campaign over all of them.
"""
