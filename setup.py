"""Build the optional C decoder (``healthcred.codec._fast``); everything else is in pyproject.toml.

``optional=True``: where no C compiler or Python headers exist the build of the extension is
skipped with a warning and the package installs on its pure-Python path, which stays complete.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "healthcred.codec._fast",
            sources=["src/healthcred/codec/_fast.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
    ]
)
