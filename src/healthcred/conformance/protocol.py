"""The conformance protocol: the case schema name, the operations a case may ask and their inputs.

``docs/conformance.md`` specifies the JSON-lines protocol in full; the runner and the reference
adapter check requests against these, and the generator (``tools/conformance``, not installed)
writes cases with them.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["INPUTS", "OPERATIONS", "SCHEMA"]

SCHEMA = "healthcred-conformance/1"
"""Schema name and version every case file carries."""

OPERATIONS = ("verify", "decide", "verify_dependent", "verify_family", "verify_place", "check_id")
"""What a case asks (docs/conformance.md, "Operations"): verify a code; verify it and decide at a place
with the signed policy; verify a dependent's code with its binding (and the guardian's code); verify a
family bundle; verify a place code; verify a paper code and check an ID number against its ID tag."""

INPUTS: Mapping[str, tuple[str, ...]] = {
    "verify": ("text",),
    "decide": ("text",),
    "verify_dependent": ("text", "binding", "guardian"),
    "verify_family": ("family",),
    "verify_place": ("text",),
    "check_id": ("text", "id_number", "id_keys"),
}
"""The fields of ``input`` each operation takes (all required; ``guardian`` may be ``null``)."""
