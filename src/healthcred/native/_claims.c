/* The verifier's lean claims path in C: a decoded claims map -> HealthCode, or None.
 *
 * An accept-only fast path, as codec/_fast.c is: it builds the credential only when every check
 * of the model's constructors passes, and returns None for anything else (the Python path,
 * healthcred.native.claims, then decides and says what is wrong). It knows the shape rules
 * (which keys, which types, which text patterns); the claim numbers, the classes, the enum tables,
 * the palette and every bound come from native/claims.py through configure(), the one place that
 * knows them, and so do the record builders (model.record.unchecked_builder) it fills them with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>


enum { CLAIM_KEYS = 5, HCODE_KEYS = 8, SUBJECT_KEYS = 4 };
enum { CODE_SLOTS = 12, SUBJECT_SLOTS = 4, TAG_SLOTS = 2 };

static int configured = 0;
static long claim_key[CLAIM_KEYS];     /* iss, exp, iat, cti, hcode: the claims map's keys in order */
static long hcode_key[HCODE_KEYS];     /* version, kind, status, reason, subject, source region, source id, tag */
static long subject_key[SUBJECT_KEYS]; /* name, birth date, document type, document number */
static PyObject *claim_keys, *hcode_keys, *subject_keys; /* the same keys as int objects, for look-ups */
static PyObject *hcode_shapes;         /* frozenset of the health-code map's key tuples */
static PyObject *kinds, *documents, *palette; /* code -> CredentialKind, DocumentType; national Status */
static PyObject *paper_kind, *national_kind, *format_version;
static PyObject *build_code, *build_subject, *build_tag; /* unchecked builders, in slot order */
static long long max_epoch, paper_max_seconds;
static Py_ssize_t id_bytes, tag_key_id_bytes, tag_bytes;
static Py_ssize_t name_chars, birth_chars, number_chars, region_chars;

/* --- configuration ------------------------------------------------------------------------- */

static int keys_of(PyObject *seq, long *out, Py_ssize_t n, const char *what) {
    if (!PyTuple_Check(seq) || PyTuple_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_ValueError, "%s: a tuple of %zd keys", what, n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyLong_AsLong(PyTuple_GET_ITEM(seq, i));
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *ck, *hk, *sk, *shapes, *kind_map, *doc_map, *pal, *paper, *national, *version;
    PyObject *code_builder, *subject_builder, *tag_builder;
    if (!PyArg_ParseTuple(args, "OOOO!O!O!O!OOOOOOLLnnnnnnn", &ck, &hk, &sk, &PyFrozenSet_Type, &shapes,
                          &PyDict_Type, &kind_map, &PyDict_Type, &doc_map, &PyDict_Type, &pal, &paper,
                          &national, &version, &code_builder, &subject_builder, &tag_builder, &max_epoch,
                          &paper_max_seconds, &id_bytes, &tag_key_id_bytes, &tag_bytes, &name_chars,
                          &birth_chars, &number_chars, &region_chars))
        return NULL;
    configured = 0;
    if (keys_of(ck, claim_key, CLAIM_KEYS, "claim keys") || keys_of(hk, hcode_key, HCODE_KEYS, "health-code keys") ||
        keys_of(sk, subject_key, SUBJECT_KEYS, "subject keys"))
        return NULL;
    if (!PyCallable_Check(code_builder) || !PyCallable_Check(subject_builder) || !PyCallable_Check(tag_builder)) {
        PyErr_SetString(PyExc_TypeError, "the record builders must be callable");
        return NULL;
    }
    Py_XSETREF(claim_keys, Py_NewRef(ck));
    Py_XSETREF(hcode_keys, Py_NewRef(hk));
    Py_XSETREF(subject_keys, Py_NewRef(sk));
    Py_XSETREF(build_code, Py_NewRef(code_builder));
    Py_XSETREF(build_subject, Py_NewRef(subject_builder));
    Py_XSETREF(build_tag, Py_NewRef(tag_builder));
    Py_XSETREF(hcode_shapes, Py_NewRef(shapes));
    Py_XSETREF(kinds, Py_NewRef(kind_map));
    Py_XSETREF(documents, Py_NewRef(doc_map));
    Py_XSETREF(palette, Py_NewRef(pal));
    Py_XSETREF(paper_kind, Py_NewRef(paper));
    Py_XSETREF(national_kind, Py_NewRef(national));
    Py_XSETREF(format_version, Py_NewRef(version));
    configured = 1;
    Py_RETURN_NONE;
}

/* --- the checks ---------------------------------------------------------------------------- */

/* The map's keys are exactly `keys[0..n)` in this order, each a plain int (a bool key is not). */
static int keys_are(PyObject *map, const long *keys, Py_ssize_t n) {
    if (!PyDict_CheckExact(map) || PyDict_GET_SIZE(map) != n) return 0;
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(map, &pos, &key, &value)) {
        if (!PyLong_CheckExact(key)) return 0;
        int overflow;
        long k = PyLong_AsLongAndOverflow(key, &overflow);
        if (overflow || k != keys[i++]) return 0;
    }
    return 1;
}

/* The health-code map's key sequence is one of the shapes (a bool key never is). */
static int hcode_shape(PyObject *map) {
    Py_ssize_t n = PyDict_CheckExact(map) ? PyDict_GET_SIZE(map) : 0;
    if (n == 0 || n > HCODE_KEYS) return 0;
    PyObject *keys = PyTuple_New(n);
    if (keys == NULL) return -1;
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    int plain = 1;
    while (PyDict_Next(map, &pos, &key, &value)) {
        plain &= PyLong_CheckExact(key);
        Py_INCREF(key);
        PyTuple_SET_ITEM(keys, i++, key);
    }
    int found = plain ? PySet_Contains(hcode_shapes, keys) : 0;
    Py_DECREF(keys);
    return found;
}

/* A plain int in low..high, else -1 (every range here is non-negative). */
static long long plain_uint(PyObject *value, long long high) {
    if (value == NULL || !PyLong_CheckExact(value)) return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    return (overflow || v < 0 || v > high) ? -1 : v;
}

/* map[keys[i]] (borrowed), or NULL when absent (or on an error: PyErr_Occurred tells). */
static PyObject *item(PyObject *map, PyObject *keys, Py_ssize_t i) {
    return PyDict_GetItemWithError(map, PyTuple_GET_ITEM(keys, i));
}

static int is_space(Py_UCS4 c) { /* Unicode White_Space, as credential._SPACE */
    return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* credential._NAME: no white space at either end, no line feed, UTF-8 encodable (no surrogate). */
static int name_ok(PyObject *s) {
    if (!PyUnicode_CheckExact(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0 || n > name_chars) return 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (is_space(PyUnicode_READ(kind, data, 0)) || is_space(PyUnicode_READ(kind, data, n - 1))) return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\n' || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    }
    return 1;
}

static int digits(const Py_UCS1 *p, int n, int *value) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (p[i] - '0');
    }
    *value = v;
    return 1;
}

/* credential._BIRTH_DATE (YYYY, YYYY-MM or YYYY-MM-DD) and, in full, a real date (date.fromisoformat). */
static int birth_ok(PyObject *s) {
    if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    const Py_UCS1 *p = PyUnicode_1BYTE_DATA(s);
    int year, month, day;
    if ((n != 4 && n != 7 && n != 10) || n > birth_chars || !digits(p, 4, &year)) return 0;
    if (n == 4) return 1;
    if (p[4] != '-' || !digits(p + 5, 2, &month) || month < 1 || month > 12) return 0;
    if (n == 7) return 1;
    if (p[7] != '-' || !digits(p + 8, 2, &day) || day < 1 || day > 31) return 0;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return year >= 1 && day <= days[month - 1] + (month == 2 && leap);
}

static int alnum(Py_UCS1 c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* credential._MASKED_DOC: up to 6 letters or digits, one or more '*', up to 4 letters or digits. */
static int number_ok(PyObject *s) {
    if (!PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), i = 0, start;
    const Py_UCS1 *p = PyUnicode_1BYTE_DATA(s);
    if (n > number_chars) return 0;
    while (i < n && alnum(p[i])) i++;
    if (i > 6) return 0;
    start = i;
    while (i < n && p[i] == '*') i++;
    if (i == start) return 0;
    start = i;
    while (i < n && alnum(p[i])) i++;
    return i == n && n - start <= 4;
}

/* REGION_PATTERN: exactly six ASCII digits. */
static int region_ok(PyObject *s) {
    if (s == NULL || !PyUnicode_CheckExact(s) || !PyUnicode_IS_ASCII(s) || PyUnicode_GET_LENGTH(s) != region_chars)
        return 0;
    int ignored;
    return digits(PyUnicode_1BYTE_DATA(s), (int)region_chars, &ignored);
}

static int bytes_of(PyObject *v, Py_ssize_t n) { return v != NULL && PyBytes_CheckExact(v) && PyBytes_GET_SIZE(v) == n; }

/* --- building ------------------------------------------------------------------------------ */

/* datetime.fromtimestamp(seconds, UTC) for 0 <= seconds <= MAX_EPOCH (days to civil, H. Hinnant). */
static PyObject *moment(long long seconds) {
    long long days = seconds / 86400, rest = seconds % 86400;
    long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1), month = (int)(mp < 10 ? mp + 3 : mp - 9);
    int year = (int)(yoe + era * 400 + (month <= 2));
    return PyDateTimeAPI->DateTime_FromDateAndTime(year, month, day, (int)(rest / 3600), (int)(rest / 60 % 60),
                                                   (int)(rest % 60), 0, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

static PyObject *health_code(PyObject *self, PyObject *claims) {
    (void)self;
    if (!configured || !keys_are(claims, claim_key, CLAIM_KEYS)) Py_RETURN_NONE;
    PyObject *hcode = item(claims, claim_keys, 4);
    if (hcode == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    int shaped = hcode_shape(hcode);
    if (shaped <= 0) return shaped < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *subject = item(hcode, hcode_keys, 4);
    if (subject == NULL || !keys_are(subject, subject_key, SUBJECT_KEYS)) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    /* Every look-up below is of a key the shapes above guarantee, or may be absent (NULL). */
    PyObject *version = item(hcode, hcode_keys, 0), *kind_code = item(hcode, hcode_keys, 1);
    PyObject *status_code = item(hcode, hcode_keys, 2), *reason = item(hcode, hcode_keys, 3);
    PyObject *source_region = item(hcode, hcode_keys, 5), *source_id = item(hcode, hcode_keys, 6);
    PyObject *tag = item(hcode, hcode_keys, 7);
    PyObject *name = item(subject, subject_keys, 0), *birth = item(subject, subject_keys, 1);
    PyObject *doc_code = item(subject, subject_keys, 2), *number = item(subject, subject_keys, 3);
    PyObject *region = item(claims, claim_keys, 0), *id = item(claims, claim_keys, 3);
    PyObject *exp = item(claims, claim_keys, 1), *iat = item(claims, claim_keys, 2);
    long long expires = plain_uint(exp, max_epoch), issued = plain_uint(iat, max_epoch);
    if (PyErr_Occurred()) return NULL;
    reason = reason == Py_None ? NULL : reason;
    source_region = source_region == Py_None ? NULL : source_region;
    source_id = source_id == Py_None ? NULL : source_id;
    tag = tag == Py_None ? NULL : tag;

    if (version == NULL || !PyLong_CheckExact(version) || PyObject_RichCompareBool(version, format_version, Py_EQ) != 1)
        Py_RETURN_NONE;
    long long status = plain_uint(status_code, 255);
    if (status < 1 || issued < 0 || expires < 0 || expires <= issued) Py_RETURN_NONE;
    if (kind_code == NULL || doc_code == NULL || !PyLong_CheckExact(kind_code) || !PyLong_CheckExact(doc_code))
        Py_RETURN_NONE;
    PyObject *kind = PyDict_GetItemWithError(kinds, kind_code); /* borrowed */
    PyObject *doc = kind ? PyDict_GetItemWithError(documents, doc_code) : NULL;
    if (doc == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    if (tag != NULL && !(PyList_CheckExact(tag) && PyList_GET_SIZE(tag) == 2 &&
                         bytes_of(PyList_GET_ITEM(tag, 0), tag_key_id_bytes) &&
                         bytes_of(PyList_GET_ITEM(tag, 1), tag_bytes)))
        Py_RETURN_NONE;
    if (tag == NULL && kind == paper_kind) Py_RETURN_NONE;
    if (!name_ok(name) || !birth_ok(birth) || !number_ok(number)) Py_RETURN_NONE;
    if (!bytes_of(id, id_bytes) || !region_ok(region)) Py_RETURN_NONE;
    if (reason != NULL && plain_uint(reason, 0xFFFF) < 0) Py_RETURN_NONE;
    if (source_region == NULL || source_id == NULL) {
        if (kind == national_kind || source_region != NULL || source_id != NULL) Py_RETURN_NONE;
    } else if (kind != national_kind || !region_ok(source_region) || !bytes_of(source_id, id_bytes)) {
        Py_RETURN_NONE;
    }
    if (kind == paper_kind && expires - issued > paper_max_seconds) Py_RETURN_NONE;
    PyObject *status_key = PyLong_FromLongLong(status);
    if (status_key == NULL) return NULL;
    PyObject *named = PyDict_GetItemWithError(palette, status_key); /* borrowed */
    Py_DECREF(status_key);
    if (named == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None); /* a named-on-the-fly colour */

    PyObject *id_tag = tag == NULL ? Py_NewRef(Py_None)
                                   : PyObject_Vectorcall(build_tag, &PyList_GET_ITEM(tag, 0), TAG_SLOTS, NULL);
    PyObject *who[SUBJECT_SLOTS] = {name, birth, doc, number};
    PyObject *person = PyObject_Vectorcall(build_subject, who, SUBJECT_SLOTS, NULL);
    PyObject *issued_at = moment(issued), *expires_at = moment(expires), *read = NULL;
    if (id_tag != NULL && person != NULL && issued_at != NULL && expires_at != NULL) {
        PyObject *fields[CODE_SLOTS] = {
            format_version, kind, id, named, reason ? reason : Py_None, person, region, issued_at, expires_at,
            source_region ? source_region : Py_None, source_id ? source_id : Py_None, id_tag,
        };
        PyObject *code = PyObject_Vectorcall(build_code, fields, CODE_SLOTS, NULL);
        if (code != NULL) read = PyTuple_Pack(3, code, iat, exp);
        Py_XDECREF(code);
    }
    Py_XDECREF(id_tag);
    Py_XDECREF(person);
    Py_XDECREF(issued_at);
    Py_XDECREF(expires_at);
    return read;
}

PyDoc_STRVAR(health_code_doc,
             "health_code(claims) -> (HealthCode, iat, exp) | None\n\n"
             "The credential of a decoded claims map and its times in epoch seconds, if every\n"
             "constructor check passes; else None.");
PyDoc_STRVAR(configure_doc, "configure(...): the claim numbers, classes, tables and bounds (native/claims.py).");

static PyMethodDef methods[] = {
    {"health_code", health_code, METH_O, health_code_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "healthcred.native._claims",
    "The lean claims path in C: an accept-only fast path; None means the Python path decides.", -1, methods,
};

PyMODINIT_FUNC PyInit__claims(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    return PyModule_Create(&module);
}
