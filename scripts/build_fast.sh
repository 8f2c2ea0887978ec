#!/bin/sh
# Build healthcred.codec._fast in place for a development checkout (pip install builds it itself).
# CFLAGS adds flags, e.g. CFLAGS="-fsanitize=address,undefined -g" for a sanitizer build.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SUFFIX=$($PY -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
INCLUDE=$($PY -c "import sysconfig; print(sysconfig.get_paths()['include'])")
${CC:-gcc} -shared -fPIC -O2 -Wall -Wextra -Wno-missing-field-initializers ${CFLAGS:-} -I"$INCLUDE" \
    src/healthcred/codec/_fast.c -o "src/healthcred/codec/_fast$SUFFIX"
