"""The command-line contract (docs/cli.md), over every command and a corpus of bad inputs.

Every leaf command has a template: a valid invocation whose input slots are marked. The baseline
runs each template as written and must succeed; then every slot gets every bad value of its kind
(``tests/cli/corpus.py``), the others staying valid. Each run must end with a documented exit code
that is not 0 or 4, one line on stderr that names the input as the user gave it, and no traceback.
A test walks the click tree, so a new command without a template fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from healthcred.cli.exits import INTERNAL, OK, REFUSED, SETUP, USAGE
from healthcred.cli.main import LazyGroup, main
from tests.batch.test_batch import resident_id
from tests.cli.corpus import Bad, build_corpus
from tests.helpers.cli import DECLARATION
from tests.helpers.softhsm import SoftToken, new_label

SLOT = re.compile(r"^@(?P<kind>[a-z]+):(?P<valid>.*)$")


@dataclass(frozen=True)
class Template:
    """A valid invocation; an argument ``@kind:VALUE`` is a slot of that kind holding VALUE."""

    args: tuple[str, ...]
    ok: frozenset[int] = frozenset({OK})
    """Exit codes the valid invocation may end with (``verify`` of a red code is still 0)."""

    @property
    def command(self) -> str:
        return " ".join(a for a in self.args if not a.startswith(("-", "@")) and a == a.lower())


def t(*args: str, ok: frozenset[int] = frozenset({OK})) -> Template:
    return Template(args, ok)


GREEN = "@code:{demo}/codes/green-hangzhou.txt"
TRUST = "@trust:{demo}/trust"
ZJ_KEY = "@key:{demo}/keys/zhejiang.key.pem"
ROOT_KEY = "@key:{demo}/keys/national-root.key.pem"
ROOT_PUB = "@pub:{trust}/anchors/national-root.pem"
PAPER = "@code:{demo}/codes/paper-grandmother.txt"
ID_KEY = "@file:{demo}/keys/id-check.json"
GRANDMOTHER = "330106194205081229"

TEMPLATES: dict[str, Template] = {
    "batch": t(
        "batch",
        "@csv:{data}/rows.csv",
        "--key",
        ZJ_KEY,
        "--out",
        "@outdir:{out}/batch",
        "--no-pdf",
        "--quiet",
        "--kind",
        "health",
        "--issued",
        "@time:{now}",
    ),
    "conformance": t("conformance", "@file:{repo}/vectors", "--area", "validity"),
    "decide": t(
        "decide", GREEN, "--trust", TRUST, "--scene", "mall", "--level", "low", "--at", "@time:{now}"
    ),
    "declare": t(
        "declare", "--declaration", "@json:{data}/declaration.json", "--key", ZJ_KEY, "--region", "330106"
    ),
    "demo": t("demo", "--out", "@outdir:{out}/demo"),
    "family bind": t(
        "family",
        "bind",
        GREEN,
        "@code:{demo}/codes/paper-grandmother.txt",
        "--relation",
        "grandparent",
        "--slot",
        "1",
        "--key",
        ZJ_KEY,
        "--region",
        "330106",
        "--trust",
        TRUST,
        "--out",
        "@out:{out}/binding.cose",
    ),
    "family check": t(
        "family",
        "check",
        "@code:{demo}/codes/paper-grandmother.txt",
        "--binding",
        "@file:{demo}/codes/binding-grandmother.cose",
        "--trust",
        TRUST,
        "--guardian",
        "@code:{demo}/codes/green-hangzhou.txt",
    ),
    "family export": t(
        "family",
        "export",
        GREEN,
        "--member",
        "{demo}/codes/paper-grandmother.txt={demo}/codes/binding-grandmother.cose",
        "--out",
        "@out:{out}/family.json",
    ),
    "family show": t("family", "show", "@file:{data}/family.json"),
    "family verify": t("family", "verify", "@file:{data}/family.json", "--trust", TRUST),
    "idkey new": t("idkey", "new", "@out:{out}/id-check.json", "--region", "330000"),
    "idkey show": t("idkey", "show", "@file:{demo}/keys/id-check.json"),
    "issue": t(
        "issue",
        "--key",
        ZJ_KEY,
        "--status",
        "green",
        "--name",
        "张三",
        "--birth-date",
        "1990-01-01",
        "--doc-number",
        "330106199001010011",
        "--region",
        "330106",
    ),
    "keygen": t("keygen", "k1", "--dir", "@outdir:{out}/keys"),
    # A key made in the session's SoftHSM2 token (a fresh object label per run: see _fresh).
    "keygen#pkcs11": t(
        "keygen", "k1", "--alg", "ES256", "--dir", "@outdir:{out}/keys", "--pkcs11", "{pkcs11}"
    ),
    "log export": t(
        "log",
        "export",
        "@db:{data}/scans.db",
        "--key",
        "@file:{data}/log.key",
        "--out",
        "@out:{out}/export.csv",
    ),
    "log init": t("log", "init", "@out:{out}/new.db", "--key", "@out:{out}/new-log.key"),
    "log purge": t(
        "log",
        "purge",
        "@db:{data}/scans.db",
        "--key",
        "@file:{data}/log.key",
        "--days",
        "30",
        "--at",
        "@time:{now}",
    ),
    "log record": t(
        "log",
        "record",
        "@db:{data}/scans.db",
        GREEN,
        "--key",
        "@file:{data}/log.key",
        "--trust",
        TRUST,
        "--place",
        "@code:{demo}/codes/place-mall.txt",
        "--at",
        "@time:{now}",
    ),
    "log stats": t("log", "stats", "@db:{data}/scans.db", "--key", "@file:{data}/log.key"),
    "national": t(
        "national",
        GREEN,
        "--trust",
        "@trust:{data}/national-trust",
        "--key",
        "@key:{data}/national.key.pem",
        "--at",
        "@time:{now}",
    ),
    "place issue": t(
        "place",
        "issue",
        "--key",
        ZJ_KEY,
        "--venue-id",
        "hz-01",
        "--name",
        "北门",
        "--region",
        "330106",
        "--scene",
        "mall",
        "--issued",
        "@time:{now}",
    ),
    "place show": t("place", "show", "@code:{demo}/codes/place-mall.txt"),
    "place verify": t(
        "place", "verify", "@code:{demo}/codes/place-mall.txt", "--trust", TRUST, "--at", "@time:{now}"
    ),
    "print": t("print", GREEN, "--trust", TRUST, "--out", "@out:{out}/card.pdf"),
    "schema": t("schema", "declaration", "--out", "@out:{out}/declaration.schema.json"),
    "rules default": t("rules", "default", "policy"),
    "rules sign": t(
        "rules", "sign", "@json:{data}/policy.json", "--key", ROOT_KEY, "--out", "@out:{out}/policy.cose"
    ),
    # --check: every input is checked and the command exits before it would serve.
    "station": t(
        "station",
        "--trust",
        TRUST,
        "--scene",
        "mall",
        "--level",
        "high",
        "--place",
        "@code:{demo}/codes/place-mall.txt",
        "--id-key",
        ID_KEY,
        "--log",
        "@db:{data}/scans.db",
        "--log-key",
        "@file:{data}/log.key",
        "--check",
    ),
    "trust add": t("trust", "add", "{trust}", "@list:{demo}/trust/lists/national.cose"),
    "trust diff": t(
        "trust", "diff", "@list:{data}/bundle.cose", "@list:{data}/bundle.cose", "--anchor", ROOT_PUB
    ),
    "trust init": t("trust", "init", "@outdir:{out}/new-trust", "--anchor", ROOT_PUB),
    "trust remove": t("trust", "remove", "{trust}", "national.cose"),
    "trust revoke": t(
        "trust",
        "revoke",
        "--key",
        ZJ_KEY,
        "--id",
        "00" * 16,
        "--version",
        "1",
        "--out",
        "@out:{out}/revocations.cose",
    ),
    "trust rotate": t(
        "trust",
        "rotate",
        "@list:{demo}/trust/lists/national.cose",
        "--root",
        ROOT_KEY,
        "--anchor",
        ROOT_PUB,
        "--old",
        "{zj_kid}",
        "--new",
        "@pub:{demo}/keys/shanghai.pub.pem",
        "--effective",
        "@time:{now}",
        "--out",
        "@out:{out}/rotated.cose",
    ),
    "trust show": t("trust", "show", "@list:{data}/bundle.cose", "--anchor", ROOT_PUB),
    "trust sign": t(
        "trust", "sign", TRUST, "--root", ROOT_KEY, "--version", "1", "--out", "@out:{out}/bundle.cose"
    ),
    "trust verify": t("trust", "verify", "@list:{data}/bundle.cose", "--anchor", ROOT_PUB),
    "trustlist build": t(
        "trustlist",
        "build",
        "--entry",
        "{demo}/keys/zhejiang.pub.pem=330000",
        "--version",
        "9",
        "--out",
        "@out:{out}/list.json",
    ),
    "trustlist edit": t(
        "trustlist",
        "edit",
        "@list:{demo}/trust/lists/national.cose",
        "--anchor",
        ROOT_PUB,
        "--out",
        "@out:{out}/next.json",
    ),
    "trustlist show": t("trustlist", "show", "@list:{demo}/trust/lists/national.cose", "--anchor", ROOT_PUB),
    "trustlist sign": t(
        "trustlist", "sign", "@json:{data}/list.json", "--root", ROOT_KEY, "--out", "@out:{out}/signed.cose"
    ),
    "verify": t("verify", GREEN, "--trust", TRUST, "--at", "@time:{now}"),
    # Second templates (NAME#what) reach the options the first leaves out.
    "verify#paper": t("verify", PAPER, "--trust", TRUST, "--id-key", ID_KEY, "--id-number", GRANDMOTHER),
    "decide#paper": t(
        "decide",
        PAPER,
        "--trust",
        TRUST,
        "--scene",
        "mall",
        "--level",
        "high",
        "--id-key",
        ID_KEY,
        "--id-number",
        GRANDMOTHER,
    ),
    "issue#paper": t(
        "issue",
        "--key",
        ZJ_KEY,
        "--status",
        "green",
        "--name",
        "王秀英",
        "--birth-date",
        "1942-05-08",
        "--doc-number",
        GRANDMOTHER,
        "--region",
        "330106",
        "--paper",
        "--id-key",
        ID_KEY,
        "--status-rules",
        "@json:{data}/status.json",
    ),
    "declare#rules": t(
        "declare",
        "--declaration",
        "@json:{data}/declaration.json",
        "--key",
        ZJ_KEY,
        "--region",
        "330106",
        "--background",
        "@json:{data}/background.json",
        "--rules",
        "@json:{data}/status.json",
    ),
    "batch#paper": t(
        "batch",
        "@csv:{data}/rows.csv",
        "--key",
        ZJ_KEY,
        "--out",
        "@outdir:{out}/batch",
        "--no-pdf",
        "--quiet",
        "--id-key",
        ID_KEY,
        "--status-rules",
        "@json:{data}/status.json",
    ),
}
"""Every leaf command's valid invocation, with its input slots marked."""


def _leaves(group: click.Group, ctx: click.Context, prefix: str = "") -> Iterator[str]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _leaves(command, ctx, f"{path} ")
        else:
            yield path


def test_every_command_has_a_template() -> None:
    leaves = set(_leaves(main, click.Context(main)))
    commands = {name.partition("#")[0] for name in TEMPLATES}
    assert leaves == commands, "add a template for each new command, drop those of removed ones"


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo, a writable copy of its trust folder, the data files templates name, the corpus."""
    root = tmp_path_factory.mktemp("contract")
    demo = root / "demo"
    assert CliRunner().invoke(main, ["demo", "--out", str(demo)]).exit_code == 0
    data = root / "data"
    data.mkdir()
    _data_files(demo, data)
    return {"root": str(root), "demo": str(demo), "data": str(data)}


def _national_trust(demo: Path, data: Path) -> None:
    """The demo's trust folder with list v2, which adds a national platform key (kind national)."""
    shutil.copytree(demo / "trust", data / "national-trust")
    steps = [
        ["keygen", "national", "--dir", str(data)],
        ["trustlist", "edit", f"{demo}/trust/lists/national.cose", "--anchor",
         f"{demo}/trust/anchors/national-root.pem", "--add", f"{data}/national.pub.pem=000000",
         "--kinds", "national", "--out", str(data / "v2.json")],
        ["trustlist", "sign", str(data / "v2.json"), "--root", f"{demo}/keys/national-root.key.pem",
         "--out", str(data / "v2.cose")],
        ["trust", "add", str(data / "national-trust"), str(data / "v2.cose")],
    ]  # fmt: skip
    for args in steps:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)


def _data_files(demo: Path, data: Path) -> None:
    _national_trust(demo, data)
    import json

    from healthcred.crypto.keys import kid_of, load_public_key

    runner = CliRunner()
    (data / "rows.csv").write_text(
        f"name,birth_date,document_number,status,region\n张三,1950-01-01,{resident_id(1)},green,330106\n",
        encoding="utf-8",
    )
    (data / "declaration.json").write_text(json.dumps(DECLARATION, ensure_ascii=False), encoding="utf-8")
    (data / "policy.json").write_text(runner.invoke(main, ["rules", "default", "policy"]).output)
    (data / "status.json").write_text(runner.invoke(main, ["rules", "default", "status"]).output)
    (data / "background.json").write_text(
        json.dumps({"risk_areas": [{"region": "310101", "level": "high", "start": "2026-11-01"}]})
    )
    made = runner.invoke(
        main,
        [
            "trustlist",
            "build",
            "--entry",
            f"{demo}/keys/zhejiang.pub.pem=330000",
            "--version",
            "7",
            "--out",
            str(data / "list.json"),
        ],
    )
    assert made.exit_code == 0, made.output
    family = runner.invoke(
        main,
        [
            "family",
            "export",
            f"{demo}/codes/green-hangzhou.txt",
            "--member",
            f"{demo}/codes/paper-grandmother.txt={demo}/codes/binding-grandmother.cose",
            "--out",
            str(data / "family.json"),
        ],
    )
    assert family.exit_code == 0, family.output
    log = runner.invoke(main, ["log", "init", str(data / "scans.db"), "--key", str(data / "log.key")])
    assert log.exit_code == 0, log.output
    (data / "no-vectors").mkdir()
    bundle = runner.invoke(
        main,
        [
            "trust",
            "sign",
            f"{demo}/trust",
            "--root",
            f"{demo}/keys/national-root.key.pem",
            "--version",
            "1",
            "--out",
            str(data / "bundle.cose"),
        ],
    )
    assert bundle.exit_code == 0, bundle.output
    (data / "zj_kid").write_text(kid_of(load_public_key(demo / "keys" / "zhejiang.pub.pem")).hex())


@pytest.fixture(scope="module")
def corpus(place: dict[str, str]) -> dict[str, list[Bad]]:
    return build_corpus(Path(place["demo"]), Path(place["root"]) / "corpus")


TOKEN_OBJECT = "contract-key"
"""The object label in a ``{pkcs11}`` template's URI; each run gets a fresh one (:func:`_fresh`)."""


def _token_uri(template: Template, request: pytest.FixtureRequest) -> str:
    """For a template naming ``{pkcs11}``: a URI on the session's SoftHSM2 token; else nothing."""
    if not any("{pkcs11}" in arg for arg in template.args):
        return ""
    token: SoftToken = request.getfixturevalue("soft_token")  # only these templates need SoftHSM2
    return token.uri(TOKEN_OBJECT)


def _fresh(args: list[str]) -> list[str]:
    """``args`` with the token object label made new: keygen never reuses a label."""
    label = new_label("contract")
    return [arg.replace(f"object={TOKEN_OBJECT}", f"object={label}") for arg in args]


def _fill(
    template: Template, place: dict[str, str], out: Path, pkcs11: str = ""
) -> tuple[list[str], list[tuple[int, str]]]:
    """The template's arguments with placeholders filled, and its slots as (index, kind)."""
    trust = out / "trust"
    if not trust.exists():
        shutil.copytree(Path(place["demo"]) / "trust", trust)
    values = {
        **place,
        "out": str(out),
        "repo": str(Path(__file__).parents[2]),
        "trust": str(trust),
        "now": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "zj_kid": (Path(place["data"]) / "zj_kid").read_text(),
        "pkcs11": pkcs11,
    }
    args: list[str] = []
    slots: list[tuple[int, str]] = []
    for arg in template.args:
        match = SLOT.match(arg)
        if match:
            slots.append((len(args), match["kind"]))
            arg = match["valid"]
        args.append(arg.format(**values))
    return args, slots


def _invoke(args: list[str], stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, args, input=stdin)


CONTRACT_EXITS = {REFUSED, USAGE, SETUP}


def _check_refusal(result: Result, bad: Bad, where: str) -> None:
    err = result.stderr.strip()
    out = result.stdout.strip()
    assert "Traceback" not in result.output, f"{where}: traceback\n{result.output}"
    assert result.exit_code != INTERNAL, f"{where}: internal error\n{err}"
    assert result.exit_code in CONTRACT_EXITS, f"{where}: exit {result.exit_code}\n{result.output}"
    named = "stdin" if bad.value == "-" else bad.value
    lines = err.splitlines()
    if not lines and result.exit_code == REFUSED:  # verify and decide report a bad CODE as their result
        lines = [line for line in out.splitlines() if line.startswith(("INVALID", "DENY"))]
    assert len(lines) == 1, f"{where}: expected one line, got\n{err or out}"
    if bad.value:
        names = (named, repr(bad.value)) if bad.value == "-" else (named,)
        assert any(n in lines[0] for n in names), f"{where}: the line does not name {named!r}\n{lines[0]}"
        if "/" in named or named == "stdin":  # a path or stdin: said once, not once per layer
            said = len(re.findall(re.escape(named) + r"(?![\w/.-])", lines[0]))  # not a path below it
            assert said <= 1, f"{where}: the line names {named!r} twice\n{lines[0]}"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_valid_invocation_succeeds(
    name: str, place: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    args, _ = _fill(TEMPLATES[name], place, tmp_path, _token_uri(TEMPLATES[name], request))
    result = _invoke(_fresh(args))
    assert result.exit_code in TEMPLATES[name].ok, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_bad_inputs_get_one_line_and_a_documented_exit_code(
    name: str,
    place: dict[str, str],
    corpus: dict[str, list[Bad]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.chdir(tmp_path)  # a command given `-` as a path must not leave a file in the repository
    template = TEMPLATES[name]
    args, slots = _fill(template, place, tmp_path, _token_uri(template, request))
    failures: list[str] = []
    for index, kind in slots:
        for bad in corpus[kind]:
            if bad.value == args[index]:
                continue  # the corpus holds real files; one of them may be this slot's valid value
            trial = _fresh(args)
            trial[index] = bad.value.replace("{name}", Path(args[index]).name)
            if bad.label == "a folder" and kind == "out":
                Path(trial[index]).mkdir(parents=True, exist_ok=True)
            bad = Bad(bad.label, trial[index], bad.stdin)
            option = args[index - 1] if index and args[index - 1].startswith("-") else "arg"
            where = f"healthcred {name} [{option} = {bad.label}]"
            try:
                _check_refusal(_invoke(trial, bad.stdin), bad, where)
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)


def test_an_unexpected_exception_is_one_line_exit_4() -> None:
    @click.command()
    def broken() -> None:
        raise ZeroDivisionError("boom")

    group = LazyGroup(lazy={"broken": ("broken", "Fails.")})
    group.add_command(broken)
    result = CliRunner().invoke(group, ["broken"])
    assert result.exit_code == INTERNAL, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "internal error" in line and "ZeroDivisionError: boom" in line and "report" in line
    assert "Traceback" not in result.output


def test_a_fifo_named_as_input_does_not_hang(place: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    shutil.copytree(Path(place["demo"]) / "trust", tmp_path / "t")
    root_key = f"{place['demo']}/keys/national-root.key.pem"
    for args in (
        ["verify", str(fifo), "--trust", f"{place['demo']}/trust"],
        ["trust", "add", str(tmp_path / "t"), str(fifo)],
        ["trustlist", "sign", str(fifo), "--root", root_key, "--out", str(tmp_path / "x.cose")],
        ["rules", "sign", str(fifo), "--key", root_key, "--out", str(tmp_path / "y.cose")],
    ):
        run = subprocess.run(
            [sys.executable, "-m", "healthcred", *args], capture_output=True, text=True, timeout=60
        )
        assert run.returncode in CONTRACT_EXITS, (args, run.stderr)
        lines = run.stderr.strip().splitlines() or [
            line for line in run.stdout.splitlines() if line.startswith("INVALID")
        ]
        assert "Traceback" not in run.stderr and len(lines) == 1 and str(fifo) in lines[0], (args, run)


def _commands() -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(main)
    for name in _leaves(main, ctx):
        command: click.Command | None = main
        for part in name.split():
            assert isinstance(command, click.Group)
            command = command.get_command(ctx, part)
        assert command is not None
        yield name, command


def test_every_option_has_help_text() -> None:
    missing = [
        f"healthcred {name} {param.opts[0]}"
        for name, command in _commands()
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert not missing, "options without help text:\n" + "\n".join(missing)


DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def test_every_json_output_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        name
        for name, command in _commands()
        if any(isinstance(p, click.Option) and "--json" in p.opts for p in command.params)
        and not re.search(rf"`(healthcred )?{re.escape(name)}( [^`]*)? --json", text)
    ]
    assert not missing, "document the --json shape of: " + ", ".join(missing)


def test_every_exit_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for code, name in (
        (OK, "OK"),
        (REFUSED, "REFUSED"),
        (USAGE, "USAGE"),
        (SETUP, "SETUP"),
        (INTERNAL, "INTERNAL"),
    ):
        assert f"| {code} | `{name}` |" in text


def _has_json(name: str) -> bool:
    command = dict(_commands())[name.partition("#")[0]]
    return any(isinstance(p, click.Option) and "--json" in p.opts for p in command.params)


@pytest.mark.parametrize("name", sorted(n for n in TEMPLATES if _has_json(n)))
def test_json_mode_is_one_object_on_stdout_for_success_and_failure(
    name: str,
    place: dict[str, str],
    corpus: dict[str, list[Bad]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.chdir(tmp_path)
    args, slots = _fill(TEMPLATES[name], place, tmp_path, _token_uri(TEMPLATES[name], request))
    good = _invoke([*_fresh(args), "--json"])
    assert good.exit_code in TEMPLATES[name].ok, good.output
    assert isinstance(json.loads(good.stdout), dict), good.stdout
    for index, kind in slots:
        bad = next(b for b in corpus[kind] if b.value != args[index] and b.stdin is None)
        trial = _fresh(args)
        trial[index] = bad.value
        result = _invoke([*trial, "--json"])
        assert result.exit_code in CONTRACT_EXITS, (trial, result.output)
        payload = json.loads(result.stdout)  # one object: nothing else on stdout
        assert isinstance(payload, dict), result.stdout
        assert "error" in payload or payload.get("valid") is False or "outcome" in payload, payload
