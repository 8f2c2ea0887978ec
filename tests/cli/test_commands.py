"""The command line: every command's help, the demo, verify's exit codes and JSON, keys and lists."""

from __future__ import annotations

import importlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from healthcred.cli.main import COMMANDS as REGISTRY
from healthcred.cli.main import LazyGroup, main

COMMANDS = [
    [],
    *([name] for name in sorted(REGISTRY)),
    ["trustlist", "build"],
    ["trustlist", "edit"],
    ["trustlist", "sign"],
    ["trustlist", "show"],
    ["rules", "default"],
    ["rules", "sign"],
    *(
        ["trust", sub]
        for sub in ("init", "add", "remove", "rotate", "revoke", "sign", "show", "verify", "diff")
    ),
]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for colour in ("green", "yellow", "red"):
        assert colour in result.output
    assert result.output.count("VALID") == 3
    return out


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "main")
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def _command(name: str) -> click.Command:
    command = getattr(importlib.import_module(f"healthcred.cli.{name}"), REGISTRY[name][0])
    assert isinstance(command, click.Command)
    return command


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_registry_names_each_command_with_its_docstring(name: str) -> None:
    # `healthcred --help` lists the registry's short help: it must be the command's own.
    command = _command(name)
    assert command.name == name
    assert (command.help or "").splitlines()[0] == REGISTRY[name][1]


def test_help_lists_the_commands_as_click_would() -> None:
    eager = click.Group("healthcred", commands=[_command(name) for name in REGISTRY])
    lazy = LazyGroup("healthcred", lazy=REGISTRY)  # fresh: nothing imported through it yet
    listings = []
    for group in (eager, lazy):
        formatter = click.HelpFormatter()
        group.format_commands(click.Context(group), formatter)
        listings.append(formatter.getvalue())
    assert listings[0] == listings[1] and all(f"  {name} " in listings[1] for name in REGISTRY)


def _modules_after(code: str) -> tuple[str, set[str]]:
    """The output of ``code`` run in a fresh interpreter, and the modules it imported."""
    script = (
        f"import sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\n"
        "names = sorted(sys.modules)\nimport json\nprint(json.dumps(names))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    *output, modules = run.stdout.splitlines()
    return "\n".join(output), set(json.loads(modules))


def test_help_imports_no_command_module() -> None:
    output, modules = _modules_after("from healthcred.cli.main import main; main(['--help'])")
    assert all(f"  {name} " in output for name in REGISTRY)
    assert not {f"healthcred.cli.{name}" for name in REGISTRY} & modules
    assert {m for m in modules if m.startswith("healthcred")} == {
        "healthcred", "healthcred._moved", "healthcred.cli", "healthcred.cli.main",
        "healthcred.cli.exits", "healthcred.errors",
    }  # fmt: skip


def test_verify_of_a_text_code_reads_no_images(demo_dir: Path) -> None:
    # A code given as text needs no QR reader, imaging, PDF or font library.
    trust, code = demo_dir / "trust", demo_dir / "codes" / "green-hangzhou.txt"
    output, modules = _modules_after(
        f"from healthcred.cli.main import main; main(['verify', '--trust', {str(trust)!r}, {str(code)!r}])"
    )
    assert output.startswith("VALID")
    assert not {"PIL", "segno", "zxingcpp", "fpdf", "fontTools"} & {m.split(".")[0] for m in modules}
    # ... nor the QR module or the foreign codecs (only the DSC and SHC issuer entries a folder holds).
    unneeded = {"healthcred.codec.qr", "healthcred.foreign.dcc.hc1", "healthcred.foreign.shc.cards",
                "healthcred.foreign.shc.verify", "healthcred.foreign.shc.fhir"}  # fmt: skip
    assert not unneeded & modules


@pytest.mark.parametrize(
    ("old", "name", "home"),
    [
        ("cli_places", "log", "log"),
        ("cli_rules", "declare", "declare"),
        ("cli_rules", "decide", "decide"),
        ("cli_batch", "print_command", "print"),
    ],
)
def test_old_cli_modules_still_give_the_commands_that_left_them(old: str, name: str, home: str) -> None:
    sys.modules.pop(f"healthcred.{old}", None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(f"healthcred.{old}")
    with pytest.warns(DeprecationWarning, match=f"{name} moved to healthcred.cli.{home}.{name}"):
        assert getattr(module, name) is getattr(importlib.import_module(f"healthcred.cli.{home}"), name)
    with pytest.raises(AttributeError):
        _ = module.no_such_name


def test_register_places_still_adds_place_and_log() -> None:
    from healthcred.cli.place import register_places

    group = click.Group("old")
    register_places(group)
    assert sorted(group.commands) == ["log", "place"]


def test_demo_leaves_a_usable_folder(demo_dir: Path) -> None:
    codes = sorted((demo_dir / "codes").glob("*.png"))
    assert [p.stem for p in codes] == [
        "green-hangzhou", "paper-grandmother-card", "place-mall", "red-ningbo", "yellow-shanghai",
    ]  # fmt: skip
    assert (demo_dir / "codes" / "paper-grandmother-card.pdf").read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE((demo_dir / "keys" / "id-check.json").stat().st_mode) == 0o600
    paper = CliRunner().invoke(
        main, ["verify", "--trust", str(demo_dir / "trust"), "--json", str(codes[1])]
    )  # read back from the printed card
    assert paper.exit_code == 0 and json.loads(paper.output)["results"][0]["kind"] == "paper"
    place_text = str(demo_dir / "codes" / "place-mall.txt")
    place = CliRunner().invoke(main, ["place", "verify", "--trust", str(demo_dir / "trust"), place_text])
    assert place.exit_code == 0, place.output
    assert stat.S_IMODE((demo_dir / "keys" / "national-root.key.pem").stat().st_mode) == 0o600
    assert (demo_dir / "trust" / "anchors" / "national-root.pem").is_file()
    assert (demo_dir / "trust" / "lists" / "national.cose").is_file()
    red = demo_dir / "codes" / "red-ningbo.png"
    denied = CliRunner().invoke(
        main,
        [
            "decide",
            "--trust",
            str(demo_dir / "trust"),
            "--scene",
            "mall",
            "--level",
            "high",
            "--json",
            str(red),
        ],
    )
    assert denied.exit_code == 1 and json.loads(denied.output)["rule"] == "red"


@pytest.mark.parametrize("stem", ["green-hangzhou", "yellow-shanghai", "red-ningbo"])
def test_verify_demo_png_json(demo_dir: Path, stem: str) -> None:
    result = CliRunner().invoke(
        main,
        ["verify", "--json", "--trust", str(demo_dir / "trust"), str(demo_dir / "codes" / f"{stem}.png")],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)["results"][0]
    assert payload["valid"] is True and payload["status"] == stem.split("-")[0]


def _verify(
    demo_dir: Path, code: str, *extra: str, trust: Path | None = None
) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(
        main, ["verify", "--json", "--trust", str(trust or demo_dir / "trust"), *extra, code]
    )
    payload = json.loads(result.stdout)  # a setup failure is also one JSON object on stdout
    return result.exit_code, payload["results"][0] if "results" in payload else payload["error"]


def test_verify_fails_with_distinct_codes_when_tampered(demo_dir: Path, tmp_path: Path) -> None:
    text = (demo_dir / "codes" / "green-hangzhou.txt").read_text().strip()
    assert _verify(demo_dir, text)[0] == 0
    assert _verify(demo_dir, str(demo_dir / "codes" / "green-hangzhou.txt"))[0] == 0
    # tampered text: change one Base45 character in the middle
    middle = len(text) // 2
    tampered = text[:middle] + ("0" if text[middle] != "0" else "1") + text[middle + 1 :]
    code, out = _verify(demo_dir, tampered)
    assert code == 1 and out["error"] in {"bad_signature", "malformed_cose", "bad_base45", "bad_claims"}
    # time: a year later the list has expired: this verifier's setup, not the code (exit 3)
    code, out = _verify(demo_dir, text, "--at", "2099-01-01T00:00:00Z")
    assert code == 3 and out["error"] == "trust_list_expired"
    code, out = _verify(demo_dir, text, "--at", "2000-01-01T00:00:00+08:00")
    assert code == 3 and out["error"] == "trust_list_not_yet_valid"
    # trust list tampered with
    trust = tmp_path / "trust"
    (trust / "anchors").mkdir(parents=True)
    (trust / "lists").mkdir()
    (trust / "anchors" / "root.pem").write_bytes(
        (demo_dir / "trust" / "anchors" / "national-root.pem").read_bytes()
    )
    signed = bytearray((demo_dir / "trust" / "lists" / "national.cose").read_bytes())
    signed[-70] ^= 0x01
    (trust / "lists" / "national.cose").write_bytes(bytes(signed))
    code, out = _verify(demo_dir, text, trust=trust)  # a trust folder that does not load: exit 3
    assert code == 3 and out["code"] in {"untrusted_list", "trust_list_malformed"}
    # a foreign code is read as one (and this one is garbage); an unknown prefix is named
    assert _verify(demo_dir, "HC1:NCFOXN")[1]["error"] == "bad_compression"
    assert _verify(demo_dir, "XYZ1:NCFOXN")[1]["error"] == "bad_prefix"


def test_verify_usage_errors_exit_2(demo_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["verify", "JKM1:00"]).exit_code == 2  # no --trust
    assert (
        runner.invoke(main, ["verify", "--trust", str(demo_dir / "trust"), "--at", "tomorrow", "x"]).exit_code
        == 2
    )
    assert (
        runner.invoke(
            main, ["verify", "--trust", str(demo_dir / "trust"), "--at", "2026-01-01T00:00", "x"]
        ).exit_code
        == 2
    )


def test_keygen_trustlist_issue_verify(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    for name, alg in (("root", "EdDSA"), ("beijing", "ES256")):
        result = runner.invoke(main, ["keygen", name, "--alg", alg, "--dir", str(keys)])
        assert result.exit_code == 0 and "kid" in result.output, result.output
    assert runner.invoke(main, ["keygen", "root", "--dir", str(keys)]).exit_code == 2  # never overwrite a key
    spec = tmp_path / "list.json"
    result = runner.invoke(
        main,
        [
            "trustlist",
            "build",
            "--entry",
            f"{keys / 'beijing.pub.pem'}=110000",
            "--version",
            "3",
            "--out",
            str(spec),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(spec.read_text())["entries"][0]["region"] == "110000"
    trust = tmp_path / "trust"
    (trust / "anchors").mkdir(parents=True)
    (trust / "anchors" / "root.pem").write_bytes((keys / "root.pub.pem").read_bytes())
    result = runner.invoke(
        main,
        [
            "trustlist",
            "sign",
            str(spec),
            "--root",
            str(keys / "root.key.pem"),
            "--out",
            str(trust / "lists" / "x.cose"),
        ],
    )
    assert result.exit_code == 0, result.output  # lists/ is created as needed
    unwritable = runner.invoke(
        main,
        ["trustlist", "sign", str(spec), "--root", str(keys / "root.key.pem"), "--out", str(spec / "x.cose")],
    )
    assert unwritable.exit_code == 2 and not isinstance(unwritable.exception, OSError)
    result = runner.invoke(
        main,
        [
            "trustlist",
            "show",
            "--json",
            "--anchor",
            str(keys / "root.pub.pem"),
            str(trust / "lists" / "x.cose"),
        ],
    )
    assert result.exit_code == 0 and json.loads(result.output)["version"] == 3
    wrong_anchor = runner.invoke(
        main,
        ["trustlist", "show", "--anchor", str(keys / "beijing.pub.pem"), str(trust / "lists" / "x.cose")],
    )
    assert wrong_anchor.exit_code == 3 and "untrusted_list" in wrong_anchor.output
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    result = runner.invoke(
        main,
        [
            "issue",
            "--key",
            str(keys / "beijing.key.pem"),
            "--status",
            "yellow",
            "--name",
            "赵六",
            "--birth-date",
            "1970-05-05",
            "--doc-number",
            "110101197005051234",
            "--region",
            "110105",
            "--png",
            str(png),
            "--svg",
            str(svg),
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    assert (
        text.startswith("JKM1:") and png.is_file() and svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    )
    for code in (text, str(png)):
        result = runner.invoke(main, ["verify", "--trust", str(trust), code])
        assert result.exit_code == 0 and "YELLOW" in result.output and "赵*" in result.output, result.output
    result = runner.invoke(main, ["verify", "--trust", str(trust), "-"], input=text + "\n")
    assert result.exit_code == 0
    bad = runner.invoke(
        main,
        [
            "issue",
            "--key",
            str(keys / "beijing.key.pem"),
            "--status",
            "green",
            "--name",
            "x",
            "--birth-date",
            "1970-13-01",
            "--doc-number",
            "110101197005051234",
            "--region",
            "110105",
        ],
    )
    assert bad.exit_code == 2 and "birth" in bad.output


@pytest.mark.parametrize(
    "content",
    [b"", b"II*\x00" + b"\x00" * 200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["empty", "tiff", "png"],
)
def test_verify_of_an_unreadable_code_file_is_one_line(
    demo_dir: Path, tmp_path: Path, content: bytes
) -> None:
    """A CODE file that is no readable image gives one typed line and exit 1, never a traceback."""
    code = tmp_path / "code.png"
    code.write_bytes(content)
    result = CliRunner().invoke(main, ["verify", "--trust", str(demo_dir / "trust"), str(code)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[bad_image]" in result.output and str(code) in result.output
    assert "Traceback" not in result.output


def test_python_dash_m_runs_the_command_and_importing_the_module_runs_nothing() -> None:
    # An import hook (coverage, atheris) imports every module: __main__ must not run the CLI then.
    imported = subprocess.run(
        [sys.executable, "-c", "import healthcred.__main__"], capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0 and imported.stdout == imported.stderr == ""
    ran = subprocess.run([sys.executable, "-m", "healthcred", "--help"], capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.startswith("Usage: healthcred ")
