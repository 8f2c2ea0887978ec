"""`-` (stdin) for every file input: a walk of the click tree, one run per command, two `-` refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from healthcred.cli.exits import REFUSED, USAGE
from healthcred.cli.log import NOW_DEPRECATED
from healthcred.cli.main import main
from tests.batch.test_batch import resident_id
from tests.helpers.cli import DECLARATION, run

OUTPUTS = frozenset({"out", "png", "svg", "regenerate", "trust_dir"})
"""Parameter names of files a command writes, and of --trust (a folder or foreign trust file)."""

NOT_STDIN = {
    ("idkey new", "path"): "the key file it writes",
    ("conformance", "vectors"): "a folder of cases",
    **{
        (f"log {name}", "db"): "the SQLite scan log"
        for name in ("init", "record", "export", "purge", "stats")
    },
    ("station", "log_db"): "the SQLite scan log",
}
"""File parameters that cannot be stdin, and why."""


def _leaves(group: click.Group, ctx: click.Context, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from _leaves(command, ctx, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def _file_inputs() -> Iterator[tuple[str, click.Parameter]]:
    for name, command in _leaves(main, click.Context(main)):
        for param in command.params:
            kind = param.type
            if isinstance(kind, click.Path) and kind.file_okay and param.name not in OUTPUTS:
                yield name, param


def test_every_file_input_allows_stdin() -> None:
    refusing = [
        f"healthcred {name} {param.name}"
        for name, param in _file_inputs()
        if not (isinstance(param.type, click.Path) and param.type.allow_dash)
        and (name, param.name) not in NOT_STDIN
    ]
    assert not refusing, "file inputs that refuse `-` (use support.INPUT_FILE):\n" + "\n".join(refusing)


def test_the_walk_finds_the_file_inputs() -> None:
    found = {(name, param.name) for name, param in _file_inputs()}
    assert {("batch", "source"), ("issue", "key"), ("family show", "family_file")} <= found
    assert set(NOT_STDIN) <= found, "drop the NOT_STDIN entries of parameters that are gone"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stdin") / "demo"
    run("demo", "--out", out)
    return out


def _key(demo: Path) -> bytes:
    return (demo / "keys" / "zhejiang.key.pem").read_bytes()


def test_issue_reads_its_key_from_stdin(demo: Path) -> None:
    result = run(
        *("issue", "--key", "-", "--status", "green", "--name", "张三", "--birth-date", "1990-01-01"),
        *("--doc-number", "330106199001010011", "--region", "330106", "--json"),
        stdin=_key(demo),
    )
    assert json.loads(result.stdout)["region"] == "330106"


def test_issue_reads_its_id_key_from_stdin(demo: Path) -> None:
    result = run(
        *("issue", "--key", demo / "keys" / "zhejiang.key.pem", "--paper", "--id-key", "-"),
        *("--status", "green", "--name", "张三", "--birth-date", "1950-01-01"),
        *("--doc-number", resident_id(1), "--region", "330106", "--json"),
        stdin=(demo / "keys" / "id-check.json").read_bytes(),
    )
    assert json.loads(result.stdout)["kind"] == "paper"


def test_a_key_on_stdin_that_is_not_one_is_named_stdin(demo: Path) -> None:
    result = run(
        *("issue", "--key", "-", "--status", "green", "--name", "张三", "--birth-date", "1990-01-01"),
        *("--doc-number", "330106199001010011", "--region", "330106"),
        stdin=b"not a key",
        code=3,
    )
    assert "stdin" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_national_reads_its_key_from_stdin(demo: Path) -> None:
    # The demo's trust grants no national key: the key is read (from stdin) and then refused.
    result = run(
        "national", demo / "codes" / "green-hangzhou.txt", "--trust", demo / "trust", "--key", "-",
        stdin=_key(demo), code=REFUSED,
    )  # fmt: skip
    assert "stdin" not in result.stderr and "national" in result.stderr


def test_place_issue_reads_its_key_from_stdin(demo: Path) -> None:
    result = run(
        *("place", "issue", "--key", "-", "--venue-id", "hz-01", "--name", "北门", "--region", "330106"),
        *("--scene", "mall", "--json"),
        stdin=_key(demo),
    )
    assert json.loads(result.stdout)["venue_id"] == "hz-01"


def test_rules_sign_reads_its_spec_from_stdin(demo: Path, tmp_path: Path) -> None:
    spec = run("rules", "default", "policy").stdout
    out = tmp_path / "policy.cose"
    root = demo / "keys" / "national-root.key.pem"
    result = run("rules", "sign", "-", "--key", root, "--out", out, "--json", stdin=spec)
    assert json.loads(result.stdout)["kind"] == "policy" and out.is_file()


def test_rules_sign_reads_its_key_from_stdin(demo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "policy.json"
    spec.write_text(run("rules", "default", "policy").stdout, encoding="utf-8")
    root = (demo / "keys" / "national-root.key.pem").read_bytes()
    run("rules", "sign", spec, "--key", "-", "--out", tmp_path / "p.cose", stdin=root)


def test_declare_reads_the_declaration_from_stdin(demo: Path) -> None:
    result = run(
        *("declare", "--declaration", "-", "--key", demo / "keys" / "zhejiang.key.pem"),
        *("--region", "330106", "--json"),
        stdin=json.dumps(DECLARATION, ensure_ascii=False),
    )
    assert json.loads(result.stdout)["status"] == "green"


def test_a_bad_declaration_on_stdin_is_named_stdin(demo: Path) -> None:
    result = run(
        "declare", "--declaration", "-", "--key", demo / "keys" / "zhejiang.key.pem", "--region", "330106",
        stdin="[]", code=REFUSED,
    )  # fmt: skip
    assert "declaration stdin" in result.stderr


def _family(demo: Path, tmp_path: Path) -> Path:
    bundle = tmp_path / "family.cbor"
    run(
        "family", "export", demo / "codes" / "green-hangzhou.txt", "--member",
        f"{demo}/codes/paper-grandmother.txt={demo}/codes/binding-grandmother.cose", "--out", bundle,
    )  # fmt: skip
    return bundle


def test_family_show_and_verify_read_the_bundle_from_stdin(demo: Path, tmp_path: Path) -> None:
    data = _family(demo, tmp_path).read_bytes()
    shown = json.loads(run("family", "show", "-", "--json", stdin=data).stdout)
    assert shown["count"] == 1 and shown["verified"] is False
    verified = json.loads(
        run("family", "verify", "-", "--trust", demo / "trust", "--json", stdin=data).stdout
    )
    assert verified["valid"] is True


def test_a_huge_family_bundle_on_stdin_is_refused(demo: Path) -> None:
    result = run("family", "show", "-", stdin=b"\0" * 100_000, code=REFUSED)
    assert "[bad_binding]" in result.stderr and "stdin" in result.stderr


def test_family_check_reads_the_binding_from_stdin(demo: Path) -> None:
    result = run(
        "family", "check", demo / "codes" / "paper-grandmother.txt", "--binding", "-",
        "--trust", demo / "trust", "--guardian", demo / "codes" / "green-hangzhou.txt",
        stdin=(demo / "codes" / "binding-grandmother.cose").read_bytes(),
    )  # fmt: skip
    assert result.stdout.startswith("VALID")


def test_family_bind_reads_its_key_from_stdin(demo: Path, tmp_path: Path) -> None:
    run(
        "family", "bind", demo / "codes" / "green-hangzhou.txt", demo / "codes" / "paper-grandmother.txt",
        "--relation", "grandparent", "--slot", "2", "--key", "-", "--region", "330106",
        "--trust", demo / "trust", "--out", tmp_path / "b.cose",
        stdin=_key(demo),
    )  # fmt: skip
    assert (tmp_path / "b.cose").is_file()


ROWS = f"name,birth_date,document_number,status,region\n张三,1950-01-01,{resident_id(1)},green,330106\n"


def test_batch_reads_its_rows_from_stdin_with_a_format(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    args = ("batch", "-", "--format", "csv", "--key", demo / "keys" / "zhejiang.key.pem", "--out", out)
    first = json.loads(run(*args, "--kind", "health", "--no-pdf", "--quiet", "--json", stdin=ROWS).stdout)
    assert first["issued"] == 1 and first["rows"] == 1
    again = json.loads(run(*args, "--kind", "health", "--no-pdf", "--quiet", "--json", stdin=ROWS).stdout)
    assert again["issued"] == 0 and again["already_issued"] == 1  # the same rows resume


def test_batch_from_stdin_needs_a_format(demo: Path, tmp_path: Path) -> None:
    result = run(
        "batch",
        "-",
        "--key",
        demo / "keys" / "zhejiang.key.pem",
        "--out",
        tmp_path / "b",
        stdin=ROWS,
        code=USAGE,
    )
    assert "--format csv" in result.stderr and "stdin" in result.stderr


def test_batch_names_stdin_in_its_errors(demo: Path, tmp_path: Path) -> None:
    result = run(
        *("batch", "-", "--format", "csv", "--key", demo / "keys" / "zhejiang.key.pem"),
        *("--out", tmp_path / "b", "--kind", "health", "--no-pdf", "--quiet"),
        stdin="nom,date\nx,y\n".encode("gb18030"),
        code=REFUSED,
    )
    assert "stdin: CSV header must name" in result.stderr


def test_batch_reads_its_key_from_stdin(demo: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, encoding="utf-8")
    run(
        "batch", rows, "--key", "-", "--out", tmp_path / "b", "--kind", "health", "--no-pdf", "--quiet",
        stdin=_key(demo),
    )  # fmt: skip


def test_idkey_show_and_log_read_their_keys_from_stdin(demo: Path, tmp_path: Path) -> None:
    shown = run("idkey", "show", "-", "--json", stdin=(demo / "keys" / "id-check.json").read_bytes())
    assert json.loads(shown.stdout)["mode"] is None
    db, key = tmp_path / "scans.db", tmp_path / "log.key"
    run("log", "init", db, "--key", key)
    stats = run("log", "stats", db, "--key", "-", "--json", stdin=key.read_bytes())
    assert json.loads(stats.stdout)["rows"] == 0


TWO_DASHES = [
    ("rules", "sign", "-", "--key", "-", "--out", "{tmp}/x.cose"),
    ("batch", "-", "--format", "csv", "--key", "-", "--out", "{tmp}/b"),
    ("issue", "--key", "-", "--paper", "--id-key", "-", "--status", "green", "--name", "张三",
     "--birth-date", "1990-01-01", "--doc-number", "330106199001010011", "--region", "330106"),
    ("declare", "--declaration", "-", "--key", "-", "--region", "330106"),
    ("family", "check", "-", "--binding", "-", "--trust", "{demo}/trust"),
    ("family", "bind", "-", "{demo}/codes/paper-grandmother.txt", "--relation", "grandparent",
     "--slot", "2", "--key", "-", "--region", "330106", "--trust", "{demo}/trust", "--out", "{tmp}/b.cose"),
    ("national", "-", "--trust", "{demo}/trust", "--key", "-"),
    ("verify", "-", "--trust", "{demo}/trust", "--id-key", "-"),
]  # fmt: skip


@pytest.mark.parametrize("args", TWO_DASHES, ids=lambda a: " ".join(a[:2]))
def test_two_stdin_inputs_on_one_line_are_a_usage_error(
    args: tuple[str, ...], demo: Path, tmp_path: Path
) -> None:
    filled = [a.format(demo=demo, tmp=tmp_path) for a in args]
    result = run(*filled, stdin=_key(demo), code=USAGE)
    (line,) = result.stderr.strip().splitlines()
    assert "stdin can hold only one input" in line and "are both `-`" in line
    assert not list(tmp_path.iterdir()), "nothing is written"


def test_log_init_json(tmp_path: Path) -> None:
    db, key = tmp_path / "a" / "scans.db", tmp_path / "k" / "log.key"
    first = json.loads(run("log", "init", db, "--key", key, "--json").stdout)
    assert first == {"db": str(db), "key": str(key), "new_key": True, "key_mode": "0600"}
    again = json.loads(run("log", "init", db, "--key", key, "--json").stdout)
    assert again["new_key"] is False


def test_log_init_refuses_stdin_as_one_of_its_files(tmp_path: Path) -> None:
    result = run("log", "init", tmp_path / "s.db", "--key", "-", "--json", code=USAGE)
    assert json.loads(result.stdout)["exit"] == USAGE


def _log_with_a_row(demo: Path, tmp_path: Path) -> tuple[Path, Path]:
    db, key = tmp_path / "scans.db", tmp_path / "log.key"
    run("log", "init", db, "--key", key)
    run(
        "log", "record", db, demo / "codes" / "green-hangzhou.txt", "--key", key, "--trust", demo / "trust",
        "--place", demo / "codes" / "place-mall.txt",
    )  # fmt: skip
    return db, key


def test_log_purge_at_is_the_time_it_is_judged_at(demo: Path, tmp_path: Path) -> None:
    db, key = _log_with_a_row(demo, tmp_path)
    kept = json.loads(run("log", "purge", db, "--key", key, "--at", "2000-01-01T00:00:00Z", "--json").stdout)
    assert kept == {"purged": 0, "days": 21, "before": "1999-12-11T00:00:00+00:00"}
    gone = run("log", "purge", db, "--key", key, "--at", "2099-01-01T00:00:00Z", "--json")
    assert json.loads(gone.stdout)["purged"] == 1 and not gone.stderr


def test_log_purge_now_still_works_with_a_warning(demo: Path, tmp_path: Path) -> None:
    db, key = _log_with_a_row(demo, tmp_path)
    result = run("log", "purge", db, "--key", key, "--now", "2099-01-01T00:00:00Z", "--json")
    assert json.loads(result.stdout)["purged"] == 1
    assert result.stderr.strip() == NOW_DEPRECATED
    both = ("--at", "2099-01-01T00:00:00Z", "--now", "2099-01-01T00:00:00Z")
    assert "--now" in run("log", "purge", db, "--key", key, *both, code=USAGE).stderr
    bad = run("log", "purge", db, "--key", key, "--now", "yesterday", code=USAGE)
    assert len(bad.stderr.strip().splitlines()) == 1  # the bad time only, no warning


def test_log_purge_help_shows_at_not_now() -> None:
    text = run("log", "purge", "--help").stdout
    assert "--at TIME" in text and "--now" not in text


VECTORS = Path(__file__).parents[2] / "vectors"


def test_conformance_json_counts_the_cases() -> None:
    result = run("conformance", VECTORS, "--area", "validity", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["failed"] == 0 and report["failures"] == []
    assert report["cases"] == report["passed"] == report["areas"]["validity"]["cases"] > 0
    assert set(report["areas"]) == {"validity"}


def test_conformance_json_lists_failures_with_their_reasons(tmp_path: Path) -> None:
    broken = tmp_path / "vectors" / "validity"
    broken.mkdir(parents=True)
    (broken / "bad.json").write_text("{not json", encoding="utf-8")
    result = run("conformance", tmp_path / "vectors", "--json", code=REFUSED)
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["failed"] == 1 and report["cases"] == 1
    (failure,) = report["failures"]
    assert failure["area"] == "validity" and failure["reason"]
