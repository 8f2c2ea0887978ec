"""Build the optional C parts of the verifier's hot path; everything else is in pyproject.toml.

``healthcred.codec._fast`` reads a code's text (Base45, zlib, COSE, CBOR) and chooses QR masks;
``healthcred.model._slots`` fills records slot by slot; ``healthcred.native._claims`` builds the
credential from a decoded claims map. ``optional=True``:
where no C compiler or Python headers exist their build is skipped with a warning and the package
installs on its pure-Python path, which stays complete.
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        Extension(
            "healthcred.codec._fast",
            sources=["src/healthcred/codec/_fast.c"],
            optional=True,
            extra_compile_args=_FLAGS,
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
