"""Build the optional C parts of the verifier's hot path; everything else is in pyproject.toml.

``healthcred.codec._fast`` reads a code's text (Base45, zlib, COSE, CBOR) and chooses QR masks
(it inflates with the system zlib where that links, else through Python's ``zlib``);
``healthcred.model._slots`` fills records slot by slot; ``healthcred.native._claims`` builds the
credential from a decoded claims map. ``optional=True``:
where no C compiler or Python headers exist their build is skipped with a warning and the package
installs on its pure-Python path, which stays complete.
"""

import tempfile
from pathlib import Path
from typing import Any

from setuptools import Extension, setup

_FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]


def _zlib() -> dict[str, Any]:
    """Inflate in C with the system zlib where its header and library link; else _fast.c calls Python's."""
    probe = "#include <zlib.h>\nint main(void) { z_stream s = {0}; return inflateInit(&s); }\n"
    try:
        from distutils.ccompiler import new_compiler  # setuptools' own copy (imported above)
        from distutils.sysconfig import customize_compiler

        compiler = new_compiler()
        customize_compiler(compiler)
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp, "zlib_probe.c")
            source.write_text(probe)
            objects = compiler.compile([str(source)], output_dir=tmp)
            compiler.link_executable(objects, "zlib_probe", output_dir=tmp, libraries=["z"])
    except Exception:  # no header, no library or no compiler: the Python inflater it is
        return {}
    return {"define_macros": [("HEALTHCRED_ZLIB", "1")], "libraries": ["z"]}


setup(
    ext_modules=[
        Extension(
            "healthcred.codec._fast",
            sources=["src/healthcred/codec/_fast.c"],
            optional=True,
            extra_compile_args=_FLAGS,
            **_zlib(),
        ),
        Extension(
            "healthcred.model._slots",
            sources=["src/healthcred/model/_slots.c"],
            optional=True,
            extra_compile_args=_FLAGS,
        ),
        Extension(
            "healthcred.native._claims",
            sources=["src/healthcred/native/_claims.c"],
            optional=True,
            extra_compile_args=_FLAGS,
        ),
    ]
)
