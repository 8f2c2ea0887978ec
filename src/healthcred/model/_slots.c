/* Record builders in C: slot_builder(cls) -> a callable that makes a cls from its slots' values.
 *
 * What model.record.unchecked_builder generates in Python (object.__new__, then one slot store
 * per field, in __slots__ order, no checks), as one call: the verifier builds a result, a
 * credential and its subject for every code, and a worker pool rebuilds them in the parent.
 * Only for values already checked, exactly as the Python builder.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

enum { MAX_SLOTS = 32 };

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    Py_ssize_t count;
    Py_ssize_t offset[MAX_SLOTS];
} Builder;

static PyObject *build(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Builder *b = (Builder *)self;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (n != b->count || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_Format(PyExc_TypeError, "building a %s takes %zd positional values, not %zd", b->cls->tp_name,
                     b->count, n);
        return NULL;
    }
    PyObject *r = b->cls->tp_alloc(b->cls, 0);
    if (r == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(args[i]);
        *(PyObject **)((char *)r + b->offset[i]) = args[i];
    }
    return r;
}

static void builder_dealloc(PyObject *self) {
    Py_XDECREF(((Builder *)self)->cls);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *builder_repr(PyObject *self) {
    return PyUnicode_FromFormat("<slot builder of %s>", ((Builder *)self)->cls->tp_name);
}

static PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "healthcred.model._slots.SlotBuilder",
    .tp_basicsize = sizeof(Builder),
    .tp_dealloc = builder_dealloc,
    .tp_repr = builder_repr,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Builder, vectorcall),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Builds one record class from its slots' values, in order, without checks.",
};

/* A builder for `cls`: each of `names` must be a plain, writable object member of it. */
static PyObject *slot_builder(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cls, *names;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &cls, &PyTuple_Type, &names)) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (count > MAX_SLOTS) {
        PyErr_Format(PyExc_ValueError, "at most %d slots", MAX_SLOTS);
        return NULL;
    }
    Builder *b = PyObject_New(Builder, &BuilderType);
    if (b == NULL) return NULL;
    b->vectorcall = build;
    b->cls = (PyTypeObject *)Py_NewRef(cls);
    b->count = count;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *descr = PyObject_GetAttr(cls, PyTuple_GET_ITEM(names, i));
        if (descr == NULL) goto fail;
        int plain = Py_IS_TYPE(descr, &PyMemberDescr_Type) &&
                    PyType_IsSubtype((PyTypeObject *)cls, ((PyMemberDescrObject *)descr)->d_common.d_type);
        if (plain) {
            PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
            plain = m->type == T_OBJECT_EX && !(m->flags & READONLY);
            b->offset[i] = m->offset;
        }
        Py_DECREF(descr);
        if (!plain) {
            PyErr_Format(PyExc_ValueError, "%R is not a plain slot of %s", PyTuple_GET_ITEM(names, i),
                         ((PyTypeObject *)cls)->tp_name);
            goto fail;
        }
    }
    return (PyObject *)b;
fail:
    Py_DECREF(b);
    return NULL;
}

PyDoc_STRVAR(slot_builder_doc,
             "slot_builder(cls, names) -> builder\n\n"
             "A callable that makes a cls holding its arguments in the slots `names`, without checks.");

static PyMethodDef methods[] = {
    {"slot_builder", slot_builder, METH_VARARGS, slot_builder_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "healthcred.model._slots", "Record builders in C (model.record.unchecked_builder).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__slots(void) {
    if (PyType_Ready(&BuilderType) < 0) return NULL;
    return PyModule_Create(&module);
}
