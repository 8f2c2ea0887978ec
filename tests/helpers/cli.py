"""Running the ``healthcred`` command in-process, as the CLI tests do."""

from __future__ import annotations

from click.testing import CliRunner, Result

from healthcred.cli.main import main

__all__ = ["DECLARATION", "run"]

DECLARATION: dict[str, object] = {
    "subject": {
        "name": "王五",
        "birth_date": "1970-01-01",
        "document_type": 1,
        "document_number": "3301**********0011",
    },
    "document_number": "330106197001010011",
    "declared_at": "2026-11-23T08:00:00+08:00",
}
"""A health declaration in its JSON form, with nothing to declare: `declare` gives it a green code."""


def run(*args: object, code: int = 0, stdin: bytes | str | None = None) -> Result:
    """``healthcred ARGS…`` with ``stdin``: the exit code must be ``code``, and nothing may escape.

    No exception other than the command's own exit, and never a traceback in what it printed.
    """
    result = CliRunner().invoke(main, [str(a) for a in args], input=stdin)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result
