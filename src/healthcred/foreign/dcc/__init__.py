"""EU Digital COVID Certificates (``HC1:``): the COSE/CWT codec, DSC trust entries and the mapping."""

from healthcred._lazy import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers see the names; at run time each loads on first use
    from healthcred.foreign.dcc.dsc import (
        DSC_SUFFIXES,
        EKU_OIDS,
        Dsc,
        load_dsc,
        load_dsc_list,
        read_dsc,
    )
    from healthcred.foreign.dcc.hc1 import (
        HC1_PREFIX,
        Hc1Credential,
        Hc1Message,
        decode_hc1,
        hc1_signer,
        parse_hc1_cose,
        read_hc1,
        to_foreign,
        verify_hc1,
    )

__all__ = [
    "DSC_SUFFIXES",
    "EKU_OIDS",
    "HC1_PREFIX",
    "Dsc",
    "Hc1Credential",
    "Hc1Message",
    "decode_hc1",
    "hc1_signer",
    "load_dsc",
    "load_dsc_list",
    "parse_hc1_cose",
    "read_dsc",
    "read_hc1",
    "to_foreign",
    "verify_hc1",
]

__getattr__, __dir__ = lazy_package(__name__, ("dsc", "hc1"), __all__)
