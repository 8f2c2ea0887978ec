#!/bin/sh
# Build the C extensions (codec/_fast, model/_slots, native/_claims) in place for a
# development checkout (pip install builds them itself).
# CFLAGS adds flags, e.g. CFLAGS="-fsanitize=address,undefined -g" for a sanitizer build.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SUFFIX=$($PY -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
INCLUDE=$($PY -c "import sysconfig; print(sysconfig.get_paths()['include'])")
# codec/_fast inflates with the system zlib where its header exists (as setup.py decides).
ZLIB=""
if printf '#include <zlib.h>\nint main(void){return inflateReset(0);}\n' | ${CC:-gcc} -x c - -lz -o /dev/null 2>/dev/null; then
    ZLIB="-DHEALTHCRED_ZLIB=1 -lz"
fi
for ext in codec/_fast model/_slots native/_claims; do
    EXTRA=""
    [ "$ext" = codec/_fast ] && EXTRA=$ZLIB
    ${CC:-gcc} -shared -fPIC -O2 -Wall -Wextra -Wno-missing-field-initializers ${CFLAGS:-} -I"$INCLUDE" \
        "src/healthcred/$ext.c" $EXTRA -o "src/healthcred/$ext$SUFFIX"
done
