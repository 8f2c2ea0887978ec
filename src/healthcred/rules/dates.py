"""CertLogic date-times: parsing the allowed forms, ``plusTime`` arithmetic, ``dccDateOfBirth``.

A CertLogic date-time is a :class:`DateTime`: a UTC :class:`~datetime.datetime` with millisecond
precision, made only by ``plusTime`` and ``dccDateOfBirth`` (a ``datetime`` that arrives in the
data is not one). The representable range is :data:`EARLIEST` to :data:`LATEST`
(0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z): a text whose instant, after applying its
offset, or a ``plusTime`` whose result falls outside it raises
:class:`~healthcred.errors.RuleEvaluationError` — the range is checked before the arithmetic, so
no ``OverflowError`` can escape. Amounts are bounded when a rule is compiled
(:data:`MAX_AMOUNT`), texts before they are parsed (:data:`MAX_DATE_CHARS`).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from healthcred.errors import RuleEvaluationError

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AMOUNT",
    "MAX_DATE_CHARS",
    "TIME_UNITS",
    "DateTime",
    "date_of_birth",
    "parse_date_time",
    "plus_time",
]


class DateTime(datetime):
    """A CertLogic date-time value (UTC, milliseconds); only this module makes them."""

    __slots__ = ()


EARLIEST = DateTime(1, 1, 1, tzinfo=UTC)
"""The earliest representable CertLogic date-time."""
LATEST = DateTime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
"""The latest representable CertLogic date-time."""
MAX_AMOUNT = 100_000_000
"""Largest ``plusTime`` amount (either sign) a rule may hold; larger ones are ``InvalidRule``.

10⁸ hours is more than the whole representable range, so no result a larger amount could give
is representable; the bound keeps every step of the arithmetic in fixed-size integers.
"""
MAX_DATE_CHARS = 64
"""Longest date(-time) text parsed (the longest allowed form is 29 characters plus decimals)."""
TIME_UNITS = ("year", "month", "day", "hour")
"""The units ``plusTime`` takes."""

_DIGITS = "[0-9]"  # \d would also match other scripts' digits, which int() then accepts
_DATE_TIME = re.compile(
    rf"({_DIGITS}{{4}})(?:-({_DIGITS}{{2}})(?:-({_DIGITS}{{2}})"
    rf"(?:T({_DIGITS}{{2}}):({_DIGITS}{{2}}):({_DIGITS}{{2}})(?:\.({_DIGITS}+))?"
    rf"(Z|[+-]{_DIGITS}{{1,2}}(?::?{_DIGITS}{{2}})?)?)?)?)?"
)
_DATE_OF_BIRTH = re.compile(rf"{_DIGITS}{{4}}(?:-{_DIGITS}{{2}}(?:-{_DIGITS}{{2}})?)?")


def parse_date_time(text: str, where: str) -> DateTime:
    """``text`` in one of the specification's date(-time) forms, as a UTC date-time.

    Partial dates (``YYYY``, ``YYYY-MM``) read as ``dccDateOfBirth`` reads them; a missing offset
    is ``Z``; decimals beyond milliseconds are dropped. Raise :class:`RuleEvaluationError` for
    any other text, an impossible date (``2021-02-30``, ``23:59:60``) or an instant outside the
    representable range.
    """
    match = _DATE_TIME.fullmatch(text) if len(text) <= MAX_DATE_CHARS else None
    if match is None:
        raise RuleEvaluationError(f"{where}: {_shown(text)} is not a date or date-time of an allowed form")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if day is None:
        return _last_day(int(year), None if month is None else int(month), text, where)
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    try:
        local = DateTime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            millis * 1000, tzinfo=UTC,
        )  # fmt: skip
    except ValueError as exc:
        raise RuleEvaluationError(f"{where}: {text!r} is not a valid date-time: {exc}") from exc
    return _shift(local, -_offset(offset, text, where), where)


def date_of_birth(text: str, where: str) -> DateTime:
    """``dccDateOfBirth``: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the last date it allows."""
    if len(text) > MAX_DATE_CHARS or _DATE_OF_BIRTH.fullmatch(text) is None:
        raise RuleEvaluationError(
            f"{where}: {_shown(text)} is not a date of birth (YYYY, YYYY-MM, YYYY-MM-DD)"
        )
    return parse_date_time(text, where)


def plus_time(moment: DateTime, amount: int, unit: str, where: str) -> DateTime:
    """JavaScript's ``setUTC<Unit>(getUTC<Unit>() + amount)`` on ``moment``, range-checked.

    Overflowing days roll into the next month (2020-02-29 plus one year is 2021-03-01).
    """
    if unit == "day":
        return _shift(moment, timedelta(days=amount), where)
    if unit == "hour":
        return _shift(moment, timedelta(hours=amount), where)
    months = moment.year * 12 + moment.month - 1 + amount * (12 if unit == "year" else 1)
    year, month = divmod(months, 12)
    if not EARLIEST.year <= year <= LATEST.year:
        raise _out_of_range(where, f"year {year}")
    start = moment.replace(year=year, month=month + 1, day=1)
    return _shift(start, timedelta(days=moment.day - 1), where)


def _last_day(year: int, month: int | None, text: str, where: str) -> DateTime:
    # A partial date is the last day it allows: YYYY → YYYY-12-31, YYYY-MM → that month's last.
    month = 12 if month is None else month
    if not (EARLIEST.year <= year and 1 <= month <= 12):
        raise RuleEvaluationError(f"{where}: {text!r} is not a valid date")
    return DateTime(year, month, calendar.monthrange(year, month)[1], tzinfo=UTC)


def _offset(text: str | None, whole: str, where: str) -> timedelta:
    if text is None or text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(hours) > 23 or int(minutes) > 59:
        raise RuleEvaluationError(f"{where}: {whole!r} has an impossible offset {text!r}")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def _shift(moment: DateTime, delta: timedelta, where: str) -> DateTime:
    # The range is checked on timedeltas (which cannot overflow here) before datetime arithmetic.
    if delta > LATEST - moment or delta < EARLIEST - moment:
        raise _out_of_range(
            where, f"{moment.isoformat()} {'+' if delta >= timedelta(0) else '-'} {abs(delta)}"
        )
    return moment + delta


def _out_of_range(where: str, what: str) -> RuleEvaluationError:
    return RuleEvaluationError(
        f"{where}: {what} is outside the date-times CertLogic can represent "
        f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
    )


def _shown(text: str) -> str:
    return repr(text) if len(text) <= MAX_DATE_CHARS else f"a text of {len(text)} characters"
