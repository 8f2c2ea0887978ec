"""Fuzz one target with atheris: ``python -m fuzz.run TARGET [CORPUS_DIR…] [libFuzzer flags]``.

Every ``healthcred`` module is imported under atheris's instrumentation first (the package loads
its modules lazily, and only instrumented code gives coverage), then the target. With no corpus
folder named, the target's seeds are written to a temporary one. libFuzzer's flags pass through
(``-runs=N``, ``-max_total_time=S``, ``-timeout=S``, ``-rss_limit_mb=M``, ``-artifact_prefix=…``);
:data:`DEFAULTS` are added unless given, and so is the target's libFuzzer dictionary
(``-dict=fuzz/dicts/<name>.dict``, :data:`DICTIONARIES`) unless a ``-dict=`` is. The fuzzing
runs in a child process, given a folder for the target's own files (in memory where the system
allows, :mod:`fuzz.tmpfs`) that is removed when it ends.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from fuzz.tmpfs import SCRATCH_ENV, memory_folder

__all__ = ["DEFAULTS", "DICTIONARIES", "dictionary_flags", "instrumented_imports", "main"]

DEFAULTS = ("-timeout=10", "-rss_limit_mb=2048", "-max_len=65536")
"""A hang is an input over 10 s, unbounded memory one over 2 GiB; inputs up to 64 KiB."""
_DICTS = Path(__file__).resolve().parent / "dicts"
_CBOR = ("trust_list", "revocation_list", "rule_set", "bundle", "binding", "place", "verify_bytes")
DICTIONARIES = {
    "certlogic": "certlogic",
    "shc_issuer": "shc_issuer",
    "shc_card": "shc_card",
    "verify_text": "verify_text",
    "decode_paths": "verify_text",
    **dict.fromkeys(_CBOR, "cbor"),
}
"""Target → the dictionary of its format's tokens under ``fuzz/dicts/`` (the others have none)."""
# Not instrumented: the interface layers, which no target calls and which import click and PDF code.
_SKIP = (
    "healthcred.cli",
    "healthcred.printing",
    "healthcred.batch",
    "healthcred.conformance",
    "healthcred._moved",
)


def instrumented_imports() -> None:
    """Import every healthcred module (but the interface layers) under atheris's instrumentation."""
    import atheris

    with atheris.instrument_imports(include=["healthcred"]):
        import healthcred

        _import_below(healthcred)


def _import_below(package: ModuleType) -> None:
    # Not pkgutil.walk_packages: it imports every package to look inside, the skipped ones too,
    # and instrumenting the interface layers (and the image and PDF code they load) cost more
    # than a second of every target's start.
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        if info.name in _SKIP or info.name.startswith(tuple(f"{s}." for s in _SKIP)):
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:
            _import_below(module)


def dictionary_flags(name: str, flags: list[str]) -> list[str]:
    """``-dict=`` of the target's dictionary, unless ``flags`` name one or the target has none."""
    if name not in DICTIONARIES or any(f.startswith("-dict=") for f in flags):
        return []
    return [f"-dict={_DICTS / DICTIONARIES[name]}.dict"]


def main(argv: list[str]) -> None:
    """Set atheris up on the target named by ``argv[1]`` and fuzz until libFuzzer stops."""
    import atheris

    if len(argv) < 2:
        raise SystemExit("usage: python -m fuzz.run TARGET [CORPUS_DIR…] [libFuzzer flags]")
    if SCRATCH_ENV not in os.environ:
        # libFuzzer ends the process past Python's clean-up: run in a child, remove its files after.
        with tempfile.TemporaryDirectory(prefix="healthcred-fuzz-", dir=memory_folder()) as files:
            env = {**os.environ, SCRATCH_ENV: files}
            raise SystemExit(subprocess.call([sys.executable, "-m", "fuzz.run", *argv[1:]], env=env))
    instrumented_imports()
    from fuzz.seeds import write_corpus
    from fuzz.targets import load

    target = load(argv[1])
    flags = [a for a in argv[2:] if a.startswith("-")]
    folders = [a for a in argv[2:] if not a.startswith("-")]
    if not folders:
        folders = [tempfile.mkdtemp(prefix=f"healthcred-fuzz-{target.name}-")]
        write_corpus(target.seeds(), Path(folders[0]))
    flags += dictionary_flags(target.name, flags)
    flags += [d for d in DEFAULTS if not any(f.startswith(d.split("=")[0] + "=") for f in flags)]
    extra = {} if target.mutate is None else {"custom_mutator": target.mutate}
    atheris.Setup([argv[0], *flags, *folders], target.one_input, **extra)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
