"""Case builders, one module per area; importing this package registers them all."""

from tools.conformance.cases import (  # noqa: F401 - imported to register their builders
    bundle,
    dependents,
    formats,
    lifecycle,
    loading,
    native,
    paper,
    place,
    policy,
    recognition,
    revocation,
    sm2,
    trust,
)
