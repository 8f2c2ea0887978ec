"""``healthcred station`` on the command line: inputs checked before serving, lazy imports."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from click.testing import CliRunner

from healthcred.cli.exits import SETUP, USAGE
from healthcred.cli.main import main
from tests.station.conftest import Demo


def _args(demo: Demo, *extra: str) -> list[str]:
    return ["station", "--trust", str(demo.trust), "--scene", "mall", "--level", "high", *extra]


def test_check_says_what_it_would_serve_and_exits(station_demo: Demo) -> None:
    log = ["--log", str(station_demo.log), "--log-key", str(station_demo.log_key)]
    place = ["--place", str(station_demo.root / "codes" / "place-mall.txt")]
    result = CliRunner().invoke(main, [*_args(station_demo, *log, *place), "--check"])
    assert result.exit_code == 0, result.output
    assert "place HZ-MALL-0001, policy seed-policy v1" in result.output
    assert "no ID-check key" in result.output and "token" not in result.output


def test_bad_inputs_fail_before_the_server_starts(station_demo: Demo) -> None:
    codes = station_demo.root / "codes"
    cases = [
        (["--log", str(station_demo.log)], USAGE),  # without its key
        (["--place", str(codes / "green-hangzhou.txt")], SETUP),  # a health code is not a place code
        (["--id-key", str(codes / "green-hangzhou.txt")], SETUP),
        (["--log", str(codes / "green-hangzhou.txt"), "--log-key", str(station_demo.log_key)], SETUP),
        (["--log", "-", "--log-key", str(station_demo.log_key)], USAGE),  # a database is no stream
        (["--place", "-", "--id-key", "-"], USAGE),  # one input at most from stdin
    ]
    for extra, code in cases:
        result = CliRunner().invoke(main, [*_args(station_demo, *extra), "--check"])
        assert result.exit_code == code, (extra, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    wrong = CliRunner().invoke(main, ["station", "--trust", str(codes), "--scene", "mall", "--level", "high"])
    assert wrong.exit_code == SETUP and "--trust" in wrong.stderr


def test_a_port_in_use_is_one_line_not_a_server(station_demo: Demo) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, [*_args(station_demo), "--port", str(port)])
    assert result.exit_code == SETUP and f"--port {port}" in result.stderr


def test_help_and_check_load_no_web_framework(station_demo: Demo) -> None:
    script = (
        "import json, sys\nfrom healthcred.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    for args in (["station", "--help"], [*_args(station_demo), "--check"]):
        run = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
        )
        modules = {m.split(".")[0] for m in json.loads(run.stdout.splitlines()[-1])}
        assert not {"starlette", "uvicorn", "anyio"} & modules, args


def test_every_page_asset_is_package_data() -> None:
    # A plain install must serve the whole page: a file the patterns miss would be a 404 there.
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = root / "src" / "healthcred"
    assets = [
        p.relative_to(package).as_posix() for p in (package / "station" / "static").rglob("*") if p.is_file()
    ]
    assert assets
    missed = [a for a in assets if not any(fnmatch.fnmatch(a, pattern) for pattern in patterns["healthcred"])]
    assert not missed
