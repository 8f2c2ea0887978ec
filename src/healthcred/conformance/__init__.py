"""Conformance vectors for the native format, and a runner for other implementations.

The generator (``tools/conformance``, not installed) builds every case from fixed seeds
(deterministic keys, signatures, ids and times), so regenerating gives
byte-identical files; :mod:`~healthcred.conformance.runner` runs this
library, or any program speaking the JSON-lines protocol of
``docs/conformance.md``, against them and prints a pass table;
:mod:`~healthcred.conformance.reference` is this library's answer to one case.
"""

from healthcred.conformance.protocol import SCHEMA
from healthcred.conformance.reference import evaluate
from healthcred.conformance.runner import Report, run

__all__ = ["SCHEMA", "Report", "evaluate", "run"]
