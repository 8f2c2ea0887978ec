"""Running the ``healthcred`` command in-process, as the CLI tests do."""

from __future__ import annotations

from click.testing import CliRunner, Result

from healthcred.cli.main import main

__all__ = ["run"]


def run(*args: object, code: int = 0, stdin: bytes | str | None = None) -> Result:
    """``healthcred ARGS…`` with ``stdin``: the exit code must be ``code``, and nothing may escape.

    No exception other than the command's own exit, and never a traceback in what it printed.
    """
    result = CliRunner().invoke(main, [str(a) for a in args], input=stdin)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result
