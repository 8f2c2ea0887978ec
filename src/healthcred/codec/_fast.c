/* healthcred.codec._fast: the native read path in one C call (optional; the pure path stays).
 *
 * read_native(text, prefix) takes a code's QR text through prefix, canonical Base45, the
 * bare-or-zlib body, the COSE_Sign1 envelope, its protected header and the deterministic-CBOR
 * claims, and returns plain Python objects. It is an ACCEPT-ONLY fast path: it never raises
 * for bad input. Whatever it cannot take with certainty (any rule broken, anything unusual) it
 * declines by returning None, and the caller runs the pure-Python path on the same text, which
 * raises the one error class and code that path defines. So the two paths cannot disagree on an
 * error: only on acceptance, which the differential tests and fuzz target hold equal.
 *
 * Bounds come from healthcred.limits through configure(), checked before any work; the CBOR
 * walk recurses at most max_depth levels (a small constant) and counts items.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef HEALTHCRED_ZLIB
#include <zlib.h>
#endif

static Py_ssize_t max_text_chars = 4296, max_cose_bytes = 8192;
static int max_depth = 8;
static Py_ssize_t max_items = 512;
static PyObject *inflate_fn = NULL; /* healthcred.codec.compression.decompress */

static unsigned char b45_value[256];
static const char ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#define DECLINE (-1)

/* ---- Base45 (RFC 9285), canonical only ---- */

static int b45(const unsigned char *s, Py_ssize_t n, unsigned char *out, Py_ssize_t *outlen) {
    Py_ssize_t groups = n / 3, rest = n % 3, o = 0;
    if (rest == 1) return DECLINE;
    for (Py_ssize_t g = 0; g < groups; g++) {
        unsigned a = b45_value[s[3 * g]], b = b45_value[s[3 * g + 1]], c = b45_value[s[3 * g + 2]];
        if (a > 44 || b > 44 || c > 44) return DECLINE;
        unsigned v = a + 45 * b + 2025 * c;
        if (v > 0xFFFF) return DECLINE;
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)(v & 0xFF);
    }
    if (rest == 2) {
        unsigned a = b45_value[s[n - 2]], b = b45_value[s[n - 1]];
        if (a > 44 || b > 44) return DECLINE;
        unsigned v = a + 45 * b;
        if (v > 0xFF) return DECLINE;
        out[o++] = (unsigned char)v;
    }
    *outlen = o;
    return 0;
}

/* ---- a strict deterministic-CBOR cursor ---- */

typedef struct {
    const unsigned char *d;
    Py_ssize_t len, pos, items;
    int any_order; /* 1: map keys in any order (HC1), still never twice */
} Cur;

/* One head of any major type, shortest form, definite: its major type and argument. */
static int head_any(Cur *c, int *major, uint64_t *value) {
    if (c->pos >= c->len) return DECLINE;
    unsigned char initial = c->d[c->pos];
    unsigned info = initial & 0x1F;
    *major = initial >> 5;
    if (info < 24) {
        c->pos += 1;
        *value = info;
        return 0;
    }
    if (info > 27) return DECLINE;
    Py_ssize_t size = (Py_ssize_t)1 << (info - 24);
    if (c->len - c->pos - 1 < size) return DECLINE;
    uint64_t v = 0;
    for (Py_ssize_t i = 0; i < size; i++) v = (v << 8) | c->d[c->pos + 1 + i];
    uint64_t least = size == 1 ? 24 : (uint64_t)1 << (4 * size);
    if (v < least) return DECLINE;
    c->pos += 1 + size;
    *value = v;
    return 0;
}

static int head(Cur *c, int major, uint64_t *value) {
    int found;
    if (head_any(c, &found, value) < 0 || found != major) return DECLINE;
    return 0;
}

static int span(Cur *c, int major, const unsigned char **start, Py_ssize_t *length) {
    uint64_t n;
    if (head(c, major, &n) < 0) return DECLINE;
    if (n > (uint64_t)(c->len - c->pos)) return DECLINE;
    *start = c->d + c->pos;
    *length = (Py_ssize_t)n;
    c->pos += (Py_ssize_t)n;
    return 0;
}

/* An integer of either sign that fits in int64. */
static int integer(Cur *c, int64_t *out) {
    int major;
    uint64_t v;
    if (head_any(c, &major, &v) < 0 || major > 1 || v > (uint64_t)INT64_MAX) return DECLINE;
    *out = major == 0 ? (int64_t)v : -1 - (int64_t)v;
    return 0;
}

/* One item as a Python object; NULL and no exception set = declined. */
static PyObject *item(Cur *c, int depth) {
    Py_ssize_t at = c->pos;
    int major;
    uint64_t v;
    if (head_any(c, &major, &v) < 0) return NULL;
    switch (major) {
    case 0:
        return PyLong_FromUnsignedLongLong(v);
    case 1:
        if (v > (uint64_t)INT64_MAX) return NULL; /* -2**64..: rare, the pure path decides */
        return PyLong_FromLongLong(-1 - (int64_t)v);
    case 2:
    case 3: {
        if (v > (uint64_t)(c->len - c->pos)) return NULL;
        const char *s = (const char *)c->d + c->pos;
        c->pos += (Py_ssize_t)v;
        if (major == 2) return PyBytes_FromStringAndSize(s, (Py_ssize_t)v);
        PyObject *u = PyUnicode_DecodeUTF8(s, (Py_ssize_t)v, "strict");
        if (u == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) PyErr_Clear();
        return u;
    }
    case 4:
    case 5: {
        if (depth >= max_depth) return NULL;
        if (v > (uint64_t)max_items || (c->items += (Py_ssize_t)v) > max_items) return NULL;
        if (v > (uint64_t)(c->len - c->pos)) return NULL; /* each entry takes a byte at least */
        Py_ssize_t n = (Py_ssize_t)v;
        if (major == 4) {
            PyObject *list = PyList_New(n);
            if (list == NULL) return NULL;
            for (Py_ssize_t i = 0; i < n; i++) {
                PyObject *child = item(c, depth + 1);
                if (child == NULL) {
                    Py_DECREF(list);
                    return NULL;
                }
                PyList_SET_ITEM(list, i, child);
            }
            return list;
        }
        PyObject *dict = PyDict_New();
        if (dict == NULL) return NULL;
        const unsigned char *prev = NULL;
        Py_ssize_t prev_len = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_ssize_t key_at = c->pos;
            if (key_at >= c->len || (c->d[key_at] >> 5) == 2 || (c->d[key_at] >> 5) > 3) goto fail;
            PyObject *key = item(c, depth + 1);
            if (key == NULL) goto fail;
            /* Deterministic order: encoded keys strictly ascending bytewise (no duplicates). */
            const unsigned char *enc = c->d + key_at;
            Py_ssize_t enc_len = c->pos - key_at;
            if (prev != NULL && !c->any_order) {
                Py_ssize_t common = prev_len < enc_len ? prev_len : enc_len;
                int order = memcmp(prev, enc, (size_t)common);
                if (order > 0 || (order == 0 && prev_len >= enc_len)) {
                    Py_DECREF(key);
                    goto fail;
                }
            }
            prev = enc;
            prev_len = enc_len;
            PyObject *value = item(c, depth + 1);
            if (value == NULL) {
                Py_DECREF(key);
                goto fail;
            }
            Py_ssize_t before = PyDict_GET_SIZE(dict);
            int bad = PyDict_SetItem(dict, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (bad || PyDict_GET_SIZE(dict) == before) goto fail; /* a duplicate key: cbor2 keeps the last */
        }
        return dict;
    fail:
        Py_DECREF(dict);
        return NULL;
    }
    case 7:
        if (c->pos - at != 1) return NULL; /* simple values in one byte only */
        if (v == 20) Py_RETURN_FALSE;
        if (v == 21) Py_RETURN_TRUE;
        if (v == 22) Py_RETURN_NONE;
        return NULL; /* undefined, other simple values, floats: the pure path decides */
    default:
        return NULL; /* tags */
    }
}

/* The claims: one item, nothing after it. A new reference, or Py_None to let the pure path decode. */
static PyObject *claims(const unsigned char *d, Py_ssize_t len, int any_order) {
    Cur c = {d, len, 0, 0, any_order};
    PyObject *value = len <= max_cose_bytes ? item(&c, 0) : NULL;
    if (value != NULL && c.pos != len) Py_CLEAR(value);
    if (value == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    return value;
}

/* ---- COSE_Sign1 and its protected header ---- */

static void bstr_head(Py_ssize_t n, unsigned char *out, Py_ssize_t *used) {
    if (n < 24) {
        out[0] = (unsigned char)(0x40 | n);
        *used = 1;
    } else if (n < 0x100) {
        out[0] = 0x58, out[1] = (unsigned char)n;
        *used = 2;
    } else if (n < 0x10000) {
        out[0] = 0x59, out[1] = (unsigned char)(n >> 8), out[2] = (unsigned char)n;
        *used = 3;
    } else {
        out[0] = 0x5a;
        for (int i = 0; i < 4; i++) out[1 + i] = (unsigned char)(n >> (24 - 8 * i));
        *used = 5;
    }
}

/* ["Signature1", protected, h'', payload] (RFC 9052 §4.4). */
static PyObject *sig_structure(const unsigned char *prot, Py_ssize_t plen, const unsigned char *pay,
                               Py_ssize_t paylen) {
    static const unsigned char start[] = "\x84\x6aSignature1";
    unsigned char h1[5], h2[5];
    Py_ssize_t u1, u2;
    bstr_head(plen, h1, &u1);
    bstr_head(paylen, h2, &u2);
    Py_ssize_t total = 12 + u1 + plen + 1 + u2 + paylen;
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) return NULL;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(out);
    memcpy(p, start, 12), p += 12;
    memcpy(p, h1, (size_t)u1), p += u1;
    memcpy(p, prot, (size_t)plen), p += plen;
    *p++ = 0x40;
    memcpy(p, h2, (size_t)u2), p += u2;
    memcpy(p, pay, (size_t)paylen);
    return out;
}

/* The envelope of a tagged COSE_Sign1 as crypto/cose.parse_sign1 reads it. */
static PyObject *sign1(const unsigned char *d, Py_ssize_t len) {
    Cur c = {d, len, 0, 0, 0};
    uint64_t v;
    const unsigned char *prot, *pay, *sig, *kid, *ctype = NULL;
    Py_ssize_t plen, paylen, siglen, kidlen, ctlen = 0;
    if (head(&c, 6, &v) < 0 || v != 18 || head(&c, 4, &v) < 0 || v != 4) Py_RETURN_NONE;
    if (span(&c, 2, &prot, &plen) < 0 || head(&c, 5, &v) < 0 || v != 0) Py_RETURN_NONE;
    if (span(&c, 2, &pay, &paylen) < 0 || span(&c, 2, &sig, &siglen) < 0 || c.pos != len) Py_RETURN_NONE;

    Cur h = {prot, plen, 0, 0, 0};
    int64_t label, alg;
    uint64_t count;
    if (head(&h, 5, &count) < 0 || integer(&h, &label) < 0 || label != 1 || integer(&h, &alg) < 0)
        Py_RETURN_NONE;
    if (count == 3) {
        if (integer(&h, &label) < 0 || label != 3 || span(&h, 3, &ctype, &ctlen) < 0) Py_RETURN_NONE;
    } else if (count != 2) {
        Py_RETURN_NONE;
    }
    if (integer(&h, &label) < 0 || label != 4 || span(&h, 2, &kid, &kidlen) < 0 || h.pos != plen ||
        kidlen == 0)
        Py_RETURN_NONE;

    PyObject *content_type = Py_None;
    Py_INCREF(Py_None);
    if (ctype != NULL) {
        Py_DECREF(Py_None);
        content_type = PyUnicode_DecodeUTF8((const char *)ctype, ctlen, "strict");
        if (content_type == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return NULL;
            PyErr_Clear();
            Py_RETURN_NONE;
        }
    }
    PyObject *decoded = claims(pay, paylen, 0);
    if (decoded == NULL) {
        Py_DECREF(content_type);
        return NULL;
    }
    PyObject *tbs = sig_structure(prot, plen, pay, paylen);
    if (tbs == NULL) {
        Py_DECREF(content_type);
        Py_DECREF(decoded);
        return NULL;
    }
    /* (protected, alg, kid, content_type, payload, signature, claims or None, Sig_structure) */
    return Py_BuildValue("(y#Ly#Ny#y#NN)", prot, plen, (long long)alg, kid, kidlen, content_type, pay,
                         paylen, sig, siglen, decoded, tbs);
}

/* ---- module functions ---- */

/* The Base45 body of prefix || Base45(body) as bytes, or None. */
static PyObject *body_of(PyObject *text, PyObject *prefix) {
    if (!PyUnicode_CheckExact(text) || !PyUnicode_CheckExact(prefix) || !PyUnicode_IS_ASCII(text) ||
        !PyUnicode_IS_ASCII(prefix))
        Py_RETURN_NONE;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), pn = PyUnicode_GET_LENGTH(prefix);
    const unsigned char *s = PyUnicode_1BYTE_DATA(text);
    if (n > max_text_chars || n < pn || memcmp(s, PyUnicode_1BYTE_DATA(prefix), (size_t)pn) != 0)
        Py_RETURN_NONE;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (n - pn) / 3 * 2 + 1);
    if (out == NULL) return NULL;
    Py_ssize_t used;
    if (b45(s + pn, n - pn, (unsigned char *)PyBytes_AS_STRING(out), &used) < 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&out, used) < 0) return NULL;
    return out;
}

PyDoc_STRVAR(read_native_doc,
             "read_native(text, prefix) -> tuple | None\n\n"
             "(protected, alg, kid, content_type, payload, signature, claims, sig_structure) of a code's "
             "text, claims None when the pure path must decode them; None when the pure path must decide.");

#ifdef HEALTHCRED_ZLIB
/* One zlib stream (RFC 1950, window up to 32 KiB, no preset dictionary) inflated to at most
 * max_cose_bytes, or None: a corrupt, truncated, over-long or trailing-data stream is the pure
 * path's to refuse. One inflater is kept and reset per code (the GIL serialises its use): setting
 * up a Python decompressobj costs more than the inflate of a 300-byte DCC. */
static z_stream zs;
static int zs_ready = 0;
static unsigned char *inflate_buf = NULL; /* max_cose_bytes + 1 */

static PyObject *inflated(const unsigned char *in, Py_ssize_t n) {
    if (inflate_buf == NULL || n > (Py_ssize_t)UINT_MAX) Py_RETURN_NONE;
    if (!zs_ready) {
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 15) != Z_OK) Py_RETURN_NONE;
        zs_ready = 1;
    } else if (inflateReset(&zs) != Z_OK) {
        Py_RETURN_NONE;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = inflate_buf;
    zs.avail_out = (uInt)(max_cose_bytes + 1);
    int ret = inflate(&zs, Z_FINISH);
    Py_ssize_t used = (Py_ssize_t)(max_cose_bytes + 1 - zs.avail_out);
    if (ret != Z_STREAM_END || zs.avail_in != 0 || used > max_cose_bytes) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)inflate_buf, used);
}
#endif

/* The COSE message of prefix || Base45(body): a bare body as it is (tag 18; for HC1 also an
 * untagged array), a zlib one inflated (bounded: in C when built with zlib, else by the Python
 * inflater); a new reference, or None. */
static PyObject *message_of(PyObject *text, PyObject *prefix, int hc1) {
    PyObject *body = body_of(text, prefix);
    if (body == NULL || body == Py_None) return body;
    Py_ssize_t n = PyBytes_GET_SIZE(body);
    const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(body);
    int first = n ? bytes[0] : -1;
    if (first == 0xD2 || (hc1 && first == 0x84)) {
        if (n <= max_cose_bytes) return body;
    } else if (first >= 0 && (first & 0x0F) == 8 && first >> 4 <= 7) {
#ifdef HEALTHCRED_ZLIB
        PyObject *message = inflated(bytes, n);
        Py_DECREF(body);
        return message;
#else
        if (inflate_fn == NULL) {
            Py_DECREF(body);
            Py_RETURN_NONE;
        }
        PyObject *message = PyObject_CallOneArg(inflate_fn, body);
        Py_DECREF(body);
        if (message != NULL && PyBytes_CheckExact(message)) return message;
        Py_XDECREF(message); /* the pure path raises the error */
        PyErr_Clear();
        Py_RETURN_NONE;
#endif
    }
    Py_DECREF(body);
    Py_RETURN_NONE;
}

static PyObject *read_native(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "read_native(text, prefix)");
        return NULL;
    }
    PyObject *message = message_of(args[0], args[1], 0);
    if (message == NULL || message == Py_None) return message;
    PyObject *out = sign1((const unsigned char *)PyBytes_AS_STRING(message), PyBytes_GET_SIZE(message));
    Py_DECREF(message);
    return out;
}

/* An HCERT COSE_Sign1 as foreign/dcc/hc1.parse_hc1_cose reads it, for the shapes met in the wild:
 * tag 18 or none, array(4), protected bstr (empty, or a map), unprotected map, payload, signature;
 * maps in any key order (never a key twice), shortest forms. */
static PyObject *hc1_envelope(const unsigned char *d, Py_ssize_t len) {
    Cur c = {d, len, 0, 0, 1};
    uint64_t v;
    const unsigned char *prot, *pay, *sig;
    Py_ssize_t plen, paylen, siglen;
    if (len > 0 && d[0] == 0xD2) c.pos = 1;
    if (head(&c, 4, &v) < 0 || v != 4 || span(&c, 2, &prot, &plen) < 0) Py_RETURN_NONE;
    PyObject *unprotected = item(&c, 1);
    if (unprotected == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    if (!PyDict_CheckExact(unprotected) || span(&c, 2, &pay, &paylen) < 0 || span(&c, 2, &sig, &siglen) < 0 ||
        c.pos != len) {
        Py_DECREF(unprotected);
        Py_RETURN_NONE;
    }
    PyObject *headers = plen ? claims(prot, plen, 1) : PyDict_New();
    if (headers == NULL || !PyDict_CheckExact(headers)) {
        Py_DECREF(unprotected);
        if (headers == NULL) return NULL;
        Py_DECREF(headers);
        Py_RETURN_NONE;
    }
    PyObject *decoded = claims(pay, paylen, 1);
    PyObject *tbs = decoded == NULL ? NULL : sig_structure(prot, plen, pay, paylen);
    if (tbs == NULL) {
        Py_DECREF(unprotected);
        Py_DECREF(headers);
        Py_XDECREF(decoded);
        return NULL;
    }
    /* (protected, protected header map, unprotected header map, payload, signature, claims or None,
     * Sig_structure) */
    return Py_BuildValue("(y#NNy#y#NN)", prot, plen, headers, unprotected, pay, paylen, sig, siglen, decoded,
                         tbs);
}

PyDoc_STRVAR(read_hc1_doc,
             "read_hc1(text, prefix) -> tuple | None\n\n"
             "(protected, protected header, unprotected header, payload, signature, claims, sig_structure) "
             "of an EU DCC's text (claims decoded in any key order, None when the pure path must decode "
             "them), or None when the pure path must decide.");

static PyObject *read_hc1(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "read_hc1(text, prefix)");
        return NULL;
    }
    PyObject *message = message_of(args[0], args[1], 1);
    if (message == NULL || message == Py_None) return message;
    PyObject *out = hc1_envelope((const unsigned char *)PyBytes_AS_STRING(message), PyBytes_GET_SIZE(message));
    Py_DECREF(message);
    return out;
}

PyDoc_STRVAR(b45decode_doc, "b45decode(text, prefix='') -> bytes | None\n\n"
                            "The canonical Base45 after prefix, or None (the pure path then decides).");

static PyObject *b45decode(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "b45decode(text, prefix)");
        return NULL;
    }
    return body_of(args[0], args[1]);
}

PyDoc_STRVAR(loads_doc, "loads(data) -> object | None\n\n"
                        "One strict deterministic-CBOR item of the plain types, or None to let the pure "
                        "path decide (so a CBOR null also gives None).");

static PyObject *loads(PyObject *self, PyObject *data) {
    (void)self;
    if (!PyBytes_CheckExact(data)) Py_RETURN_NONE;
    return claims((const unsigned char *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), 0);
}

PyDoc_STRVAR(loads_any_order_doc,
             "loads_any_order(data) -> object | None\n\n"
             "As loads, but map keys may come in any order (never twice): the EU DCC's CBOR, which is not "
             "always deterministic. Still shortest forms, definite lengths, no tags or floats.");

static PyObject *loads_any_order(PyObject *self, PyObject *data) {
    (void)self;
    if (!PyBytes_CheckExact(data)) Py_RETURN_NONE;
    return claims((const unsigned char *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), 1);
}

/* Whether value is JSON as it is: None, bool, str, int within +-(2**53 - 1), and lists and dicts
 * with str keys of those, no container deeper than max_depth (value itself at depth). Exact types
 * only: anything else is for the Python walk to convert or refuse. */
static int plain_json(PyObject *value, int depth, int max) {
    if (value == Py_None || PyBool_Check(value) || PyUnicode_CheckExact(value)) return 1;
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return !overflow && v <= 9007199254740991LL && v >= -9007199254740991LL;
    }
    if (depth > max) return 0;
    if (PyList_CheckExact(value)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++)
            if (!plain_json(PyList_GET_ITEM(value, i), depth + 1, max)) return 0;
        return 1;
    }
    if (PyDict_CheckExact(value)) {
        Py_ssize_t at = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &at, &key, &item))
            if (!PyUnicode_CheckExact(key) || !plain_json(item, depth + 1, max)) return 0;
        return 1;
    }
    return 0;
}

PyDoc_STRVAR(plain_json_doc, "plain_json(value, depth, max_depth) -> bool\n\n"
                             "Whether value is already in JSON form (plain types, text keys, integers within "
                             "+-(2**53 - 1), containers at most max_depth deep counting value at depth).");

static PyObject *plain_json_py(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *value;
    int depth, max;
    if (!PyArg_ParseTuple(args, "Oii", &value, &depth, &max)) return NULL;
    if (max > 64) max = 64; /* the walk recurses: bounded whatever the caller asks */
    return PyBool_FromLong(plain_json(value, depth, max));
}

PyDoc_STRVAR(dss_der_doc, "dss_der(signature) -> bytes | None\n\n"
                          "The DER ECDSA-Sig-Value of a 64-byte raw r || s, or None for another length.");

static Py_ssize_t der_int(const unsigned char *x, unsigned char *out) {
    Py_ssize_t i = 0;
    while (i < 31 && x[i] == 0) i++;
    Py_ssize_t n = 32 - i, pad = x[i] & 0x80 ? 1 : 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(n + pad);
    if (pad) out[2] = 0;
    memcpy(out + 2 + pad, x + i, (size_t)n);
    return 2 + pad + n;
}

static PyObject *dss_der(PyObject *self, PyObject *sig) {
    (void)self;
    if (!PyBytes_CheckExact(sig) || PyBytes_GET_SIZE(sig) != 64) Py_RETURN_NONE;
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(sig);
    unsigned char buf[2 + 2 * 35];
    Py_ssize_t n = der_int(s, buf + 2);
    n += der_int(s + 32, buf + 2 + n);
    buf[0] = 0x30;
    buf[1] = (unsigned char)n;
    return PyBytes_FromStringAndSize((const char *)buf, n + 2);
}

/* ---- QR mask choice: the mask zxing-cpp's encoder (zint) would choose, without its cost ----
 *
 * zxing-cpp spends ~85 % of a QR encode scoring the eight mask patterns (~1.8 ms for a version-13
 * code). qr_remask takes a symbol zxing-cpp encoded with one fixed mask, removes that mask (read
 * from the symbol's own format information), applies each of the eight, scores them as zint does
 * and returns the symbol with the lowest score: the same modules zxing-cpp's automatic choice
 * gives (tests/codec/test_qr_mask.py compares them over every version and level). */

#define QR_MAX 177 /* the side of a version-40 symbol */

/* The centres of the alignment patterns of a version (row and column alike); their count. */
static int qr_align_centres(int version, int *out) {
    if (version == 1) return 0;
    int count = version / 7 + 2, size = 17 + 4 * version;
    int step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
    out[0] = 6;
    for (int i = count - 1, pos = size - 7; i >= 1; i--, pos -= step) out[i] = pos;
    return count;
}

static int qr_mask_bit(int mask, int i, int j) { /* i row, j column */
    switch (mask) {
    case 0: return (i + j) % 2 == 0;
    case 1: return i % 2 == 0;
    case 2: return j % 3 == 0;
    case 3: return (i + j) % 3 == 0;
    case 4: return (i / 2 + j / 3) % 2 == 0;
    case 5: return (i * j) % 2 + (i * j) % 3 == 0;
    case 6: return ((i * j) % 2 + (i * j) % 3) % 2 == 0;
    default: return ((i + j) % 2 + (i * j) % 3) % 2 == 0;
    }
}

static int qr_format_bits(int ec, int mask) { /* ec: L 1, M 0, Q 3, H 2 */
    int data = ec << 3 | mask, rem = data;
    for (int i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    return (data << 10 | (rem & 0x3FF)) ^ 0x5412;
}

/* Where format bit b (0..14) sits, first copy: (row, column). */
static void qr_format_at(int b, int size, int copy, int *r, int *c) {
    if (copy == 0) {
        if (b <= 5) *r = b, *c = 8;
        else if (b == 6) *r = 7, *c = 8;
        else if (b == 7) *r = 8, *c = 8;
        else if (b == 8) *r = 8, *c = 7;
        else *r = 8, *c = 14 - b;
    } else {
        if (b <= 7) *r = 8, *c = size - 1 - b;
        else *r = size - 15 + b, *c = 8;
    }
}

/* 1 where a module belongs to a function pattern (finders, separators, timing, alignment, format
 * and version information, the dark module). */
static void qr_function_map(int version, unsigned char *fn) {
    int size = 17 + 4 * version;
    memset(fn, 0, (size_t)size * size);
    for (int i = 0; i < size; i++) fn[6 * size + i] = fn[i * size + 6] = 1; /* timing */
    for (int r = 0; r < 9; r++)
        for (int c = 0; c < 9; c++) { /* finders, separators and format areas, all three corners */
            fn[r * size + c] = 1;
            if (c < 8) fn[r * size + size - 1 - c] = 1, fn[(size - 1 - c) * size + r] = 1;
        }
    for (int c = 0; c < 8; c++) fn[8 * size + size - 1 - c] = 1; /* format, second copy */
    for (int r = 0; r < 8; r++) fn[(size - 1 - r) * size + 8] = 1;
    int centres[7], n = qr_align_centres(version, centres);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            if ((a == 0 && b == 0) || (a == 0 && b == n - 1) || (a == n - 1 && b == 0)) continue;
            for (int dr = -2; dr <= 2; dr++)
                for (int dc = -2; dc <= 2; dc++) fn[(centres[a] + dr) * size + centres[b] + dc] = 1;
        }
    if (version >= 7)
        for (int r = 0; r < 6; r++)
            for (int c = size - 11; c < size - 8; c++) fn[r * size + c] = fn[c * size + r] = 1;
}

/* The mask penalty (ISO/IEC 18004 §7.8.3) as zint scores it, so that the mask chosen is the one
 * zxing-cpp's own encoder chooses: N1 a run of 5+ like modules in a line, 3 + the excess; N2 each
 * 2x2 block of one colour, 3; N3 each 1011101 inside a line with 4 light modules (or the edge)
 * before it, else after it, 40; N4 10 per whole 5 % that the dark share is off 50 %.
 * On lines as bit sets (bit i: module i; 1 dark), a few word operations a line: a byte-wise scan
 * of a random-looking symbol spends its time on mispredicted branches. */

typedef struct {
    uint64_t w[3]; /* 177 modules at most */
} QrLine;

static int qr_popcount(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(x);
#else
    int n = 0;
    for (; x; x &= x - 1) n++;
    return n;
#endif
}

static int qr_count(QrLine x) { return qr_popcount(x.w[0]) + qr_popcount(x.w[1]) + qr_popcount(x.w[2]); }

static QrLine qr_up(QrLine x, int k) { /* module i to i + k (1 <= k < 64), light shifted in */
    QrLine o = {{x.w[0] << k, x.w[1] << k | x.w[0] >> (64 - k), x.w[2] << k | x.w[1] >> (64 - k)}};
    return o;
}

static QrLine qr_down(QrLine x, int k) { /* module i + k to i */
    QrLine o = {{x.w[0] >> k | x.w[1] << (64 - k), x.w[1] >> k | x.w[2] << (64 - k), x.w[2] >> k}};
    return o;
}

#define QR_OP(name, expr)                                                                                  \
    static QrLine name(QrLine a, QrLine b) {                                                               \
        QrLine o;                                                                                          \
        for (int i = 0; i < 3; i++) o.w[i] = expr;                                                         \
        return o;                                                                                          \
    }
QR_OP(qr_and, a.w[i] & b.w[i])
QR_OP(qr_or, a.w[i] | b.w[i])
QR_OP(qr_andnot, a.w[i] & ~b.w[i])
QR_OP(qr_same, ~(a.w[i] ^ b.w[i]))

static QrLine qr_first(int n) { /* modules 0 .. n-1 */
    QrLine o = {{0, 0, 0}};
    for (int i = 0; i < 3; i++) o.w[i] = n >= 64 * (i + 1) ? ~(uint64_t)0 : n > 64 * i ? ((uint64_t)1 << (n - 64 * i)) - 1 : 0;
    return o;
}

/* N1 and N3 of one line (its modules beyond size light). */
static long qr_line_penalty(QrLine x, QrLine all) {
    QrLine same = qr_andnot(qr_and(qr_same(x, qr_up(x, 1)), all), qr_first(1)); /* module i == i - 1 */
    QrLine u5 = qr_and(qr_and(same, qr_up(same, 1)), qr_and(qr_up(same, 2), qr_up(same, 3)));
    QrLine u6 = qr_and(u5, qr_up(same, 4));
    /* 1011101 starting at module i */
    QrLine p = qr_andnot(qr_and(qr_and(x, qr_down(x, 2)), qr_and(qr_down(x, 3), qr_down(x, 4))),
                         qr_or(qr_down(x, 1), qr_down(x, 5)));
    p = qr_and(p, qr_down(x, 6));
    QrLine before = qr_or(qr_or(qr_up(x, 1), qr_up(x, 2)), qr_or(qr_up(x, 3), qr_up(x, 4)));
    QrLine after = qr_or(qr_or(qr_down(x, 7), qr_down(x, 8)), qr_or(qr_down(x, 9), qr_down(x, 10)));
    return 3L * qr_count(u5) - 2L * qr_count(u6) + 40L * qr_count(qr_andnot(p, qr_and(before, after)));
}

static long qr_penalty(const QrLine *rows, const QrLine *cols, int size) {
    QrLine all = qr_first(size), pairs = qr_first(size - 1);
    long score = 0, dark = 0;
    for (int i = 0; i < size; i++) {
        score += qr_line_penalty(rows[i], all) + qr_line_penalty(cols[i], all);
        dark += qr_count(rows[i]);
    }
    for (int r = 0; r + 1 < size; r++) { /* N2: a pair of like columns over a pair of like rows */
        QrLine a = rows[r], same = qr_same(a, rows[r + 1]);
        QrLine block = qr_and(qr_and(same, qr_down(same, 1)), qr_and(qr_same(a, qr_down(a, 1)), pairs));
        score += 3L * qr_count(block);
    }
    double off = (100.0 * (double)dark) / (double)((long)size * size) - 50.0; /* zint's arithmetic */
    return score + 10 * (long)((off < 0 ? -off : off) / 5.0);
}

/* Per version, made on first use and kept (a batch meets a few versions; all 40 take ~1.5 MB):
 * each mask's pattern over the data modules, as row bit sets then column bit sets. */
static QrLine *qr_patterns[41];
static unsigned char qr_function[QR_MAX * QR_MAX];

static QrLine *qr_prepare(int version) {
    if (qr_patterns[version] != NULL) return qr_patterns[version];
    int size = 17 + 4 * version;
    QrLine *lines = (QrLine *)PyMem_Calloc((size_t)16 * size, sizeof(QrLine));
    if (lines == NULL) return NULL;
    qr_function_map(version, qr_function);
    for (int r = 0; r < size; r++)
        for (int c = 0; c < size; c++)
            for (int k = 0; k < 8; k++)
                if (!qr_function[r * size + c] && qr_mask_bit(k, r, c)) {
                    lines[k * size + r].w[c / 64] |= (uint64_t)1 << (c % 64);
                    lines[(8 + k) * size + c].w[r / 64] |= (uint64_t)1 << (r % 64);
                }
    return qr_patterns[version] = lines;
}

static void qr_set(QrLine *rows, QrLine *cols, int r, int c, int dark) {
    uint64_t rb = (uint64_t)1 << (c % 64), cb = (uint64_t)1 << (r % 64);
    rows[r].w[c / 64] = dark ? rows[r].w[c / 64] | rb : rows[r].w[c / 64] & ~rb;
    cols[c].w[r / 64] = dark ? cols[c].w[r / 64] | cb : cols[c].w[r / 64] & ~cb;
}

PyDoc_STRVAR(qr_remask_doc,
             "qr_remask(bitmap, size, ec) -> bytes | None\n\n"
             "A QR symbol (one byte a module, row by row, below 128 dark; no quiet zone) re-masked with "
             "the pattern zint's scoring prefers, in the same form (0 dark, 255 light); ec is the level's "
             "format code (L 1, M 0, Q 3, H 2). None when the input is not such a symbol.");

static PyObject *qr_remask(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3 || !PyBytes_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "qr_remask(bitmap: bytes, size: int, ec: int)");
        return NULL;
    }
    long size = PyLong_AsLong(args[1]), ec = PyLong_AsLong(args[2]);
    if ((size == -1 || ec == -1) && PyErr_Occurred()) return NULL;
    long version = (size - 17) / 4;
    Py_ssize_t n = PyBytes_GET_SIZE(args[0]);
    if (version < 1 || version > 40 || size != 17 + 4 * version || n != size * size || ec < 0 || ec > 3)
        Py_RETURN_NONE;
    const unsigned char *in = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    int side = (int)size, used = -1, bits = 0;
    for (int b = 0; b < 15; b++) {
        int r, c;
        qr_format_at(b, side, 0, &r, &c);
        bits |= (in[r * side + c] < 128) << b;
    }
    for (int k = 0; k < 8; k++)
        if (qr_format_bits((int)ec, k) == bits) used = k;
    if (used < 0) Py_RETURN_NONE; /* not a symbol of this level: the caller keeps what it has */
    QrLine *patterns = qr_prepare((int)version);
    if (patterns == NULL) return PyErr_NoMemory();
#define MASK_ROW(k, i) patterns[(k) * side + (i)]
#define MASK_COL(k, i) patterns[(8 + (k)) * side + (i)]
    static QrLine rows[QR_MAX], cols[QR_MAX], base_rows[QR_MAX], base_cols[QR_MAX];
    memset(base_rows, 0, sizeof base_rows);
    memset(base_cols, 0, sizeof base_cols);
    for (int r = 0; r < side; r++)
        for (int c = 0; c < side; c++)
            if (in[r * side + c] < 128) qr_set(base_rows, base_cols, r, c, 1);
    for (int i = 0; i < side; i++) /* the symbol unmasked */
        for (int w = 0; w < 3; w++)
            base_rows[i].w[w] ^= MASK_ROW(used, i).w[w], base_cols[i].w[w] ^= MASK_COL(used, i).w[w];
    long best = -1;
    int chosen = 0;
    for (int k = 0; k < 8; k++) {
        for (int i = 0; i < side; i++)
            for (int w = 0; w < 3; w++)
                rows[i].w[w] = base_rows[i].w[w] ^ MASK_ROW(k, i).w[w],
                cols[i].w[w] = base_cols[i].w[w] ^ MASK_COL(k, i).w[w];
        int format = qr_format_bits((int)ec, k);
        for (int copy = 0; copy < 2; copy++)
            for (int b = 0; b < 15; b++) {
                int r, c;
                qr_format_at(b, side, copy, &r, &c);
                qr_set(rows, cols, r, c, (format >> b) & 1);
            }
        long score = qr_penalty(rows, cols, side);
        if (best < 0 || score < best) best = score, chosen = k; /* ties keep the lower pattern, as zint */
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    int format = qr_format_bits((int)ec, chosen);
    for (int r = 0; r < side; r++) {
        const QrLine *line = &MASK_ROW(chosen, r);
        for (int c = 0; c < side; c++) {
            int dark = ((base_rows[r].w[c / 64] ^ line->w[c / 64]) >> (c % 64)) & 1;
            o[r * side + c] = dark ? 0 : 255;
        }
    }
    for (int copy = 0; copy < 2; copy++)
        for (int b = 0; b < 15; b++) {
            int r, c;
            qr_format_at(b, side, copy, &r, &c);
            o[r * side + c] = (format >> b) & 1 ? 0 : 255;
        }
#undef MASK_ROW
#undef MASK_COL
    return out;
}

PyDoc_STRVAR(configure_doc, "configure(max_text_chars, max_cose_bytes, max_depth, max_items, inflate)\n\n"
                            "Set the bounds (healthcred.limits) and the bounded zlib inflater.");

static PyObject *configure(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "nninO", &max_text_chars, &max_cose_bytes, &max_depth, &max_items, &fn))
        return NULL;
    if (max_cose_bytes < 0 || max_cose_bytes >= (Py_ssize_t)UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "max_cose_bytes must be 0..UINT_MAX-1 (one zlib call)");
        return NULL;
    }
    if (max_depth < 0 || max_depth > 64) {
        PyErr_SetString(PyExc_ValueError, "max_depth must be 0..64 (the walk recurses)");
        return NULL;
    }
#ifdef HEALTHCRED_ZLIB
    unsigned char *buf = PyMem_Realloc(inflate_buf, (size_t)max_cose_bytes + 1);
    if (buf == NULL) return PyErr_NoMemory();
    inflate_buf = buf;
#endif
    Py_INCREF(fn);
    Py_XSETREF(inflate_fn, fn);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"read_native", (PyCFunction)(void (*)(void))read_native, METH_FASTCALL, read_native_doc},
    {"read_hc1", (PyCFunction)(void (*)(void))read_hc1, METH_FASTCALL, read_hc1_doc},
    {"b45decode", (PyCFunction)(void (*)(void))b45decode, METH_FASTCALL, b45decode_doc},
    {"loads", loads, METH_O, loads_doc},
    {"loads_any_order", loads_any_order, METH_O, loads_any_order_doc},
    {"dss_der", dss_der, METH_O, dss_der_doc},
    {"plain_json", plain_json_py, METH_VARARGS, plain_json_doc},
    {"qr_remask", (PyCFunction)(void (*)(void))qr_remask, METH_FASTCALL, qr_remask_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "healthcred.codec._fast",
    "The native read path in C: an accept-only fast path; None means the pure path decides.", -1, methods,
};

PyMODINIT_FUNC PyInit__fast(void) {
    memset(b45_value, 0xFF, sizeof b45_value);
    for (int i = 0; i < 45; i++) b45_value[(unsigned char)ALPHABET[i]] = (unsigned char)i;
    PyObject *m = PyModule_Create(&module);
#ifdef HEALTHCRED_ZLIB
    int zlib_built = 1;
#else
    int zlib_built = 0;
#endif
    /* INFLATES_IN_C: built against the system zlib (else the Python inflater is called) */
    if (m != NULL && PyModule_AddIntConstant(m, "INFLATES_IN_C", zlib_built) < 0) Py_CLEAR(m);
    return m;
}
