"""GB/T 2260 administrative-division codes: what a region code is, which codes one covers, their names.

One home for every region rule: the models validate codes with :data:`REGION_PATTERN`, trust
grants test coverage with :func:`region_contains`, printed cards and verdicts name regions with
:func:`region_words` (from the bundled ``data/regions.tsv``, read on first use).
"""

from __future__ import annotations

from functools import cache

from healthcred.errors import BadInput

__all__ = [
    "NATIONAL_REGION",
    "REGION_PATTERN",
    "check_known_region",
    "check_region",
    "region_contains",
    "region_words",
]

NATIONAL_REGION = "000000"
"""The national platform's region code: a key scoped to it covers every region."""

REGION_PATTERN = r"^[0-9]{6}$"
"""A region code: six ASCII digits (GB/T 2260)."""


def check_region(code: object, what: str = "a region") -> str:
    """Return ``code`` if it is a 6-digit GB/T 2260 code; raise :class:`BadInput` otherwise."""
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        raise BadInput(f"{what} is a 6-digit GB/T 2260 code, not {code!r}")
    return code


def region_contains(scope: str, region: str) -> bool:
    """Whether a key scoped to ``scope`` may issue for ``region`` (GB/T 2260 hierarchy).

    ``000000`` covers all; ``330000`` (a province) covers ``33xxxx``; ``330100``
    (a city) covers ``3301xx``; any other code covers only itself.
    """
    if scope == NATIONAL_REGION:
        return True
    if scope.endswith("0000"):
        return region[:2] == scope[:2]
    if scope.endswith("00"):
        return region[:4] == scope[:4]
    return region == scope


def check_known_region(code: object, what: str = "region") -> str:
    """Return ``code`` if it names a GB/T 2260 division an issuer may sign for; raise :class:`BadInput`.

    The shape is checked first (:func:`check_region`). Then its first two digits must name one of
    the 34 provincial-level divisions, and its levels must nest: ``XX0000`` a province, ``XXYY00``
    a prefecture, ``XXYYZZ`` a county (a county code never has ``YY`` = ``00``). The bundled table
    names every province but not every county, so a county it does not list is accepted when its
    province is real; ``000000`` (the national platform) is accepted only where the caller allows.
    """
    check_region(code, what)
    assert isinstance(code, str)  # check_region returned
    table = _names()
    province = code[:2] + "0000"
    if province not in table:
        provinces = sorted(c[:2] for c in table if c.endswith("0000"))
        raise BadInput(
            f"{what} {code} is not a GB/T 2260 division: its first two digits must name a province"
            f" ({provinces[0]}–{provinces[-1]}: {', '.join(provinces)}), e.g. 330100 for Hangzhou"
        )
    if code[2:4] == "00" and code[4:] != "00":
        raise BadInput(
            f"{what} {code} is not a GB/T 2260 division: a county code names its prefecture"
            f" (digits 3–4 are not 00), e.g. {code[:2]}0101"
        )
    return code


@cache
def _names() -> dict[str, tuple[str, str]]:
    from importlib import resources  # here: slow to import, and only printing needs the names

    table: dict[str, tuple[str, str]] = {}
    text = (resources.files("healthcred") / "data" / "regions.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, chinese, english = line.split("\t")
            table[code] = (chinese, english)
    return table


def region_words(code: str) -> tuple[str, str]:
    """A GB/T 2260 region in words: ``330100`` → ``("浙江省杭州市", "Hangzhou, Zhejiang")``.

    The province, prefecture and county levels known to the bundled table are
    joined; a code the table does not name itself is shown after the levels it
    does name (``"浙江省杭州市 330199"``), and a wholly unknown code as the code.
    """
    check_region(code)
    table = _names()
    levels = dict.fromkeys((code[:2] + "0000", code[:4] + "00", code))
    known = [table[c] for c in levels if c in table]
    if not known:
        return code, code
    chinese = "".join(zh for zh, _ in known)
    english = ", ".join(en for _, en in reversed(known))
    if code not in table:
        return f"{chinese} {code}", f"{english} {code}"
    return chinese, english
