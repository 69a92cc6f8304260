"""A tagged-JSON codec for plain values: what crosses from the student's kernel to the judge.

:func:`encode` turns a value into JSON-ready data; :func:`decode` turns it back, with the *exact*
type preserved (a tuple stays a tuple, ``np.float64`` stays ``np.float64``) because the checks in
:mod:`grader.checks.values` accept exact types only. Supported: ``None``, ``Ellipsis``, ``bool``
and ``np.bool_``, ``int`` and NumPy integers, ``float`` and NumPy floats (nan and inf too),
``str``, ``list``, ``tuple``, ``dict``, ``set``, ``ndarray`` (dtype kinds b, i, u, f, U, and
object arrays of plain values), pandas ``Series`` and ``DataFrame``, and *data callables*: inputs
such as a test function or a cooperative game that a check passes to a student's function, defined
by plain data in a student-side module and registered with :func:`data_callable`. Anything else is
encoded as an
*opaque* ``{type name, short repr}`` and decodes to an instance of a fresh stand-in class of that
(sanitised) name, so that "it is a LinearRegression" still reads right in feedback.

A :class:`Formula` (a model given as an expression over the columns of ``X``) crosses as data
too: it is how a check passes a *model* to a student's function (``exact_shapley(f, ...)``,
``lime_explain(predict_fn, ...)``) on inputs drawn from a seed, in the kernel and in the judge.

Two more kinds serve as *inputs* of a check's calls (a plan the grader sends into the kernel, the
precomputed offline data): a statistic from a short list of NumPy functions (``np.mean``, or
``functools.partial(np.std, ddof=1)``), tag ``fn``; and a model the key built with
:func:`fitted`, tag ``recipe``: its classes, parameters and training data, so that the kernel
fits the same model again. Only ``decode(..., objects=True)`` (trusted data: plans, package data)
rebuilds a statistic or builds a recipe; an untrusted payload decodes a ``fn`` as a named
stand-in and refuses a ``recipe``. A fitted estimator read *out of* a kernel crosses as
plain facts (tag ``fitted``, :class:`Fitted`).

Decoding is written for hostile input (the payload comes out of a sandbox): it is bounded in
bytes, depth and element count, validates every tag and shape, never calls ``eval`` or ``pickle``,
and raises a single :class:`WireError` on anything malformed.
"""

from __future__ import annotations

import functools
import json
import math
import re
import reprlib

import numpy as np
import pandas as pd

#: Decoding limits (a payload over them is rejected whole).
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 24
MAX_ELEMENTS = 2_000_000
MAX_STR = 100_000
#: The largest str array decoded, in bytes of its declared dtype (4 bytes a character).
_MAX_STR_ARRAY_BYTES = 4 * MAX_BYTES
#: What converting one column of a frame to its dtype costs of the element budget.
_COLUMN_COST = 5000
#: What building one pandas object (a Series or a DataFrame) or one data callable costs of it.
_OBJECT_COST = 500
_CALLABLE_COST = 20_000
_STANDIN_COST = 100
#: The most nodes (and weights) in one formula: a model's cost to evaluate is its size times rows.
MAX_FORMULA_SIZE = 10_000

_INTS = {np.dtype(t).name: t for t in (np.int8, np.int16, np.int32, np.int64,
                                       np.uint8, np.uint16, np.uint32, np.uint64)}
_FLOATS = {np.dtype(t).name: t for t in (np.float16, np.float32, np.float64)}
_NAME = re.compile(r"[^A-Za-z0-9_]")
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlist = _repr.maxdict = 6


class WireError(ValueError):
    """The data is not a well-formed, bounded encoding of a plain value."""


#: Statistics a check may pass to a student's function (tag ``fn``), by name.
FUNCTIONS = {f"numpy.{f.__name__}": f for f in (np.mean, np.median, np.std, np.var, np.min,
                                                 np.max, np.sum)}


def _function_name(value: object) -> str | None:
    for name, f in FUNCTIONS.items():
        if value is f:
            return name
    return None


# --- data callables: callable inputs that cross the wire as their defining data ----------------
_CALLABLES: dict[str, type] = {}
_CALLABLE_KIND = re.compile(r"(m\d{2})\.([A-Za-z][A-Za-z0-9_]{0,59})")


def data_callable(cls: type) -> type:
    """Class decorator: instances of ``cls`` cross the wire as data, under the kind ``mNN.Name``.

    ``cls`` is defined in a student-side module ``grader.checks.mNN`` (so the kernel can rebuild
    it), holds no part of the answer key, and provides ``wire_state(self)`` (plain data) and the
    classmethod ``from_wire_state(state)``, which validates ``state`` (it comes out of a sandbox
    too) and raises ValueError or TypeError when it is malformed.
    """
    kind = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
    if not _CALLABLE_KIND.fullmatch(kind):
        raise ValueError(f"data callables live in grader.checks.mNN, not {cls.__module__}")
    _CALLABLES[kind] = cls
    return cls


def _callable_class(kind: object) -> type:
    m = _CALLABLE_KIND.fullmatch(kind) if type(kind) is str else None
    _need(m is not None, "bad callable kind")
    if kind not in _CALLABLES:  # registered when its student-side module is imported
        import importlib

        try:
            importlib.import_module(f"grader.checks.{m.group(1)}")
        except ImportError:
            raise WireError("unknown callable kind") from None
    _need(kind in _CALLABLES, "unknown callable kind")
    return _CALLABLES[kind]


# --- encoding (runs in the student's kernel: must not trust the value's methods) --------------
def _float(x: float) -> object:
    return x if math.isfinite(x) else repr(x)  # "nan", "inf", "-inf"


def _opaque(value: object) -> dict:
    try:
        text = _repr.repr(value)
    except Exception:
        text = "?"
    return {"t": "obj", "type": type(value).__name__[:60], "repr": text[:200]}


def encode(value: object, _depth: int = 0) -> object:
    """``value`` as JSON-ready tagged data (never raises: unknown kinds become opaque)."""
    if _depth > MAX_DEPTH:
        return _opaque(value)
    t = type(value)
    d = _depth + 1
    try:
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        if t is bool:
            return {"t": "bool", "v": bool(value)}
        if t is np.bool_:
            return {"t": "np.bool", "v": bool(value)}
        if t is int:
            return {"t": "int", "v": int.__repr__(value)}
        if t is float:
            return {"t": "float", "v": _float(float.__float__(value))}
        if t in _INTS.values():
            return {"t": "np.int", "dtype": np.dtype(t).name, "v": str(int(value))}
        if t in _FLOATS.values():
            return {"t": "np.float", "dtype": np.dtype(t).name, "v": _float(float(value))}
        if t is str:
            return {"t": "str", "v": str.__str__(value)[:MAX_STR]}
        if t is np.str_:
            return {"t": "np.str", "v": str(value)[:MAX_STR]}
        if t in (list, tuple, set, frozenset):
            items = list(value) if t is not set and t is not frozenset else sorted(value, key=repr)
            return {"t": t.__name__, "v": [encode(v, d) for v in items]}
        if t is dict:
            return {"t": "dict", "v": [[encode(k, d), encode(v, d)] for k, v in dict.items(value)]}
        if t is np.ndarray:
            return _encode_array(value, d)
        if t in _CALLABLES.values():  # the exact registered class: its own method, not the value's
            kind = f"{t.__module__.rsplit('.', 1)[-1]}.{t.__name__}"
            return {"t": "dc", "kind": kind, "v": encode(t.wire_state(value), d)}
        if t is pd.Series:
            return {"t": "series", "values": _encode_array(np.array(value.to_numpy(), copy=True), d),
                    "index": encode(list(value.index), d), "name": encode(value.name, d)}
        if t is Formula:
            return {"t": "formula", "expr": value.expr, "text": str(value.text)[:200],
                    "classifier": bool(value.classifier)}
        if (name := _function_name(value)) is not None:
            return {"t": "fn", "name": name}
        if t is functools.partial and _function_name(value.func) and not value.args:
            return {"t": "fn", "name": _function_name(value.func),
                    "kw": encode(dict(value.keywords), d)}
        recipe = _recipe_of(value)  # a model the key built with fitted(): rebuilt from its recipe
        if recipe is not None:
            return recipe
        if t is pd.DataFrame:
            return {"t": "frame", "values": _encode_array(np.array(value.to_numpy(), copy=True), d),
                    "index": encode(list(value.index), d),
                    "columns": encode(list(value.columns), d),
                    "dtypes": [str(x) for x in value.dtypes]}
        facts = _estimator_facts(value, d)
        if facts is not None:
            return facts
    except Exception:
        pass
    return _opaque(value)


def _encode_array(arr: np.ndarray, depth: int) -> dict:
    kind = arr.dtype.kind
    flat = np.asarray(arr).ravel()
    if kind == "b":
        vals = [bool(x) for x in flat]
    elif kind in "iu":
        vals = [str(int(x)) for x in flat]
    elif kind == "f":
        vals = [_float(float(x)) for x in flat]
    elif kind == "U":
        vals = [str(x) for x in flat]
    elif kind == "O":
        vals = [encode(x, depth) for x in flat]
    else:
        raise TypeError(kind)
    return {"t": "ndarray", "dtype": arr.dtype.str if kind == "U" else arr.dtype.name,
            "shape": list(arr.shape), "v": vals}


def dumps(value: object) -> str:
    """Encode ``value`` and serialise it (compact, keys sorted: a canonical form)."""
    return json.dumps(encode(value), sort_keys=True, separators=(",", ":"))


# --- formulas: a model sent as data ----------------------------------------------------------
#: Node -> number of operands (None: any number, at least one).
_OPS = {"x": 1, "c": 1, "+": None, "*": None, "^": 2, "max": 2, "tanh": 1, "sigmoid": 1, "lin": 2}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + exp(-z)), without overflow warnings


class Formula:
    """A model ``f(X)`` given by an expression over the columns of ``X`` (plain JSON data).

    ``expr`` is a tree of lists: ``["x", j]`` (column j), ``["c", v]`` (a constant),
    ``["+", a, b, ...]``, ``["*", a, b, ...]``, ``["^", a, k]`` (integer power, 0 <= k <= 8),
    ``["max", a, b]``, ``["tanh", a]``, ``["sigmoid", a]`` (1 / (1 + exp(-a))) and
    ``["lin", [w_0, ...], b]`` (``X @ w + b``). Calling it on an (n, p) array (or one row) returns
    the n outputs as a float array of shape (n,). With ``classifier=True`` the expression is the
    log-odds of class 1 and the object also answers ``decision_function``, ``predict_proba``
    ((n, 2): classes 0 and 1) and ``predict``, as a fitted scikit-learn classifier does.
    ``text`` describes it in feedback (e.g. ``"f(X) = (x0 + x1)**2"``).
    """

    def __init__(self, expr: list, text: str = "", *, classifier: bool = False) -> None:
        self.expr, self.text, self.classifier = expr, text, classifier
        if classifier:
            self.classes_ = np.array([0, 1])

    def _eval(self, node: list, X: np.ndarray) -> np.ndarray:
        op, args = node[0], node[1:]
        if op == "x":
            return X[:, args[0]]
        if op == "c":
            return np.full(X.shape[0], float(args[0]))
        if op == "lin":
            return X @ np.asarray(args[0], dtype=float) + float(args[1])
        if op == "^":
            return self._eval(args[0], X) ** int(args[1])
        vals = [self._eval(a, X) for a in args]
        if op == "+":
            return np.sum(vals, axis=0)
        if op == "*":
            return np.prod(vals, axis=0)
        if op == "max":
            return np.maximum(vals[0], vals[1])
        if op == "tanh":
            return np.tanh(vals[0])
        return _sigmoid(vals[0])  # "sigmoid"

    def __call__(self, X) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return np.asarray(self._eval(self.expr, X), dtype=float).reshape(X.shape[0])

    def decision_function(self, X) -> np.ndarray:
        return self(X)

    def predict_proba(self, X) -> np.ndarray:
        p = _sigmoid(self(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self(X) > 0).astype(int)

    def __repr__(self) -> str:
        return f"<model {self.text}>" if self.text else "<model>"

    def __eq__(self, other: object) -> bool:
        return type(other) is Formula and dumps(self) == dumps(other)

    def __hash__(self) -> int:
        return hash(dumps(self))


def _check_expr(node: object, depth: int, budget: _Budget) -> None:
    """Validate a formula's expression tree (hostile data): known nodes, bounded, finite."""
    _need(depth <= 40 and type(node) is list and node and type(node[0]) is str, "bad formula node")
    budget.take()
    op, args = node[0], node[1:]
    _need(op in _OPS and (len(args) == _OPS[op] if _OPS[op] else len(args) >= 1), "bad formula op")
    if op == "x":
        _need(type(args[0]) is int and 0 <= args[0] < 100_000, "bad formula column")
    elif op == "c":
        _need(type(args[0]) in (int, float) and math.isfinite(args[0]), "bad formula constant")
    elif op == "lin":
        w, b = args
        _need(type(w) is list and all(type(v) in (int, float) and math.isfinite(v) for v in w)
              and type(b) in (int, float) and math.isfinite(b), "bad formula weights")
        budget.take(len(w))
    elif op == "^":
        _need(type(args[1]) is int and 0 <= args[1] <= 8, "bad formula power")
        _check_expr(args[0], depth + 1, budget)
    else:
        for a in args:
            _check_expr(a, depth + 1, budget)


# --- decoding (runs in the trusted grader: the input is hostile) ------------------------------
class _Budget:
    def __init__(self, plan: bool = False, limit: int = MAX_ELEMENTS) -> None:
        self.left = limit
        self.plan = plan

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise WireError("too many elements")


_STANDINS: dict[str, type] = {}
_MAX_STANDINS = 1024


def standin(type_name: str) -> type:
    """A fresh class named ``type_name`` (sanitised), standing for an object that was not sent."""
    name = _NAME.sub("_", str(type_name))[:60] or "object"
    if name[0].isdigit():
        name = "_" + name
    if name in _STANDINS:
        return _STANDINS[name]
    cls = type(name, (), {"__repr__": lambda self: self._repr})
    if len(_STANDINS) < _MAX_STANDINS:  # beyond, not kept: hostile names must not pile up
        _STANDINS[name] = cls
    return cls


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise WireError(what)


def _num(v: object, what: str) -> float:
    if type(v) in (int, float) and type(v) is not bool:
        return float(v)
    if type(v) is str and v in ("nan", "inf", "-inf"):
        return float(v)
    raise WireError(f"bad {what}")


def _intval(v: object) -> int:
    _need(type(v) is str and len(v) <= 40 and re.fullmatch(r"-?\d+", v) is not None, "bad int")
    return int(v)


def _decode(data: object, depth: int, budget: _Budget, objects: bool = False) -> object:
    _need(depth <= MAX_DEPTH + 2, "too deep")
    _need(type(data) is dict and type(data.get("t")) is str, "not a tagged value")
    budget.take()
    t, v = data["t"], data.get("v")
    d = depth + 1
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t in ("bool", "np.bool"):
        _need(type(v) is bool, "bad bool")
        return v if t == "bool" else np.bool_(v)
    if t == "int":
        return _intval(v)
    if t == "float":
        return _num(v, "float")
    if t == "np.int":
        _need(type(data.get("dtype")) is str and data["dtype"] in _INTS, "bad int dtype")
        try:
            return _INTS[data["dtype"]](_intval(v))
        except OverflowError:
            raise WireError("int out of range") from None
    if t == "np.float":
        _need(type(data.get("dtype")) is str and data["dtype"] in _FLOATS, "bad float dtype")
        return _FLOATS[data["dtype"]](_num(v, "float"))
    if t in ("str", "np.str"):
        _need(type(v) is str and len(v) <= MAX_STR, "bad str")
        return v if t == "str" else np.str_(v)
    if t in ("list", "tuple", "set", "frozenset"):
        _need(type(v) is list, "bad sequence")
        budget.take(len(v))
        items = [_decode(x, d, budget, objects) for x in v]
        if t in ("set", "frozenset"):
            try:
                return set(items) if t == "set" else frozenset(items)
            except TypeError:
                raise WireError("unhashable set item") from None
        return items if t == "list" else tuple(items)
    if t == "dict":
        _need(type(v) is list, "bad dict")
        budget.take(len(v))
        out = {}
        for pair in v:
            _need(type(pair) is list and len(pair) == 2, "bad dict item")
            key = _decode(pair[0], d, budget)
            try:
                out[key] = _decode(pair[1], d, budget, objects)
            except TypeError:
                raise WireError("unhashable dict key") from None
        return out
    if t == "ndarray":
        return _decode_array(data, d, budget)
    if t == "series":
        budget.take(_OBJECT_COST)
        values = _decode_array(data.get("values"), d, budget)
        index = _decode(data.get("index"), d, budget)
        _need(type(index) is list and len(index) == len(values) and values.ndim == 1, "bad series")
        name = _decode(data.get("name"), d, budget)
        try:
            return pd.Series(values, index=index, name=name)
        except Exception:
            raise WireError("bad series") from None
    if t == "frame":
        budget.take(_OBJECT_COST)
        values = _decode_array(data.get("values"), d, budget)
        index = _decode(data.get("index"), d, budget)
        columns = _decode(data.get("columns"), d, budget)
        dtypes = data.get("dtypes")
        _need(values.ndim == 2 and type(index) is list and type(columns) is list
              and values.shape == (len(index), len(columns)), "bad frame")
        _need(type(dtypes) is list and len(dtypes) == len(columns)
              and all(type(x) is str and len(x) < 40 for x in dtypes), "bad frame dtypes")
        convert = [(i, dt) for i, dt in enumerate(dtypes) if dt != values.dtype.name
                   and (dt in _INTS or dt in _FLOATS or dt in ("bool", "object", "category"))]
        budget.take(_COLUMN_COST * len(convert))  # each costs pandas milliseconds: bound them
        try:
            frame = pd.DataFrame(values, index=index, columns=columns)
            for i, dt in convert:
                frame.isetitem(i, frame.iloc[:, i].astype(dt))
            return frame
        except WireError:
            raise
        except Exception:
            raise WireError("bad frame") from None
    if t == "formula":
        text, classifier = data.get("text"), data.get("classifier")
        _need(type(text) is str and len(text) <= 200 and type(classifier) is bool, "bad formula")
        size = _Budget(limit=MAX_FORMULA_SIZE)
        _check_expr(data.get("expr"), 0, size)
        budget.take(MAX_FORMULA_SIZE - size.left)
        return Formula(data["expr"], text, classifier=classifier)
    if t == "fn":
        name = data.get("name")
        _need(type(name) is str and name in FUNCTIONS, "unknown function")
        kw = _decode(data["kw"], d, budget) if "kw" in data else {}
        _need(type(kw) is dict and all(type(k) is str for k in kw), "bad function keywords")
        if not objects:
            obj = standin("function")()
            obj._repr = name[:200]
            return obj
        return functools.partial(FUNCTIONS[name], **kw) if kw else FUNCTIONS[name]
    if t == "dc":
        budget.take(_CALLABLE_COST)
        cls = _callable_class(data.get("kind"))
        state = _decode(v, d, budget)
        try:
            return cls.from_wire_state(state)
        except (TypeError, ValueError, KeyError, OverflowError):
            raise WireError("bad callable state") from None
    if t == "fitted":
        return _decode_fitted(data, d, budget)
    if t == "recipe":
        _need(budget.plan, "a recipe is only allowed in a plan")
        return _build(data)
    if t == "obj":
        name, text = data.get("type"), data.get("repr")
        _need(type(name) is str and type(text) is str, "bad opaque object")
        budget.take(_STANDIN_COST)
        obj = standin(name)()
        obj._repr = text[:200]
        return obj
    raise WireError(f"unknown tag {t[:20]!r}")


def _decode_array(data: object, depth: int, budget: _Budget) -> np.ndarray:
    _need(type(data) is dict and data.get("t") == "ndarray", "bad array")
    shape, vals, dtype = data.get("shape"), data.get("v"), data.get("dtype")
    _need(type(shape) is list and len(shape) <= 8
          and all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape), "bad shape")
    _need(type(vals) is list and type(dtype) is str, "bad array")
    size = math.prod(shape)
    _need(size == len(vals), "array size does not match its shape")
    budget.take(size)
    try:
        if dtype == "bool":
            _need(all(type(x) is bool for x in vals), "bad bool array")
            arr = np.array(vals, dtype=bool)
        elif dtype in _INTS:
            arr = np.array([_intval(x) for x in vals], dtype=dtype)
        elif dtype in _FLOATS:
            arr = np.array([_num(x, "float") for x in vals], dtype=dtype)
        elif re.fullmatch(r"[<>|=]U\d{1,6}", dtype):
            # the declared width, not the strings sent, sizes the array: bound it
            _need(np.dtype(dtype).itemsize * size <= _MAX_STR_ARRAY_BYTES, "str array too large")
            _need(all(type(x) is str and len(x) <= MAX_STR for x in vals), "bad str array")
            arr = np.array(vals, dtype=dtype)
        elif dtype == "object":
            arr = np.empty(len(vals), dtype=object)
            for i, x in enumerate(vals):
                arr[i] = _decode(x, depth, budget)
        else:
            raise WireError("unsupported dtype")
        return arr.reshape(shape)
    except (OverflowError, ValueError, TypeError) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError("bad array values") from None


def decode(data: object, *, objects: bool = False, plan: bool = False) -> object:
    """The value encoded in ``data`` (already parsed JSON); :class:`WireError` if malformed.

    ``objects=True`` (trusted data only: a plan, the package's precomputed data; ``plan=True`` is
    the same) rebuilds the statistics (``fn``) a check passes as inputs, and builds the estimators
    of ``recipe`` tags (:func:`fitted`); otherwise a ``fn`` decodes as a named stand-in and a
    ``recipe`` is refused: a collected payload never may."""
    objects = objects or plan
    try:
        return _decode(data, 0, _Budget(objects), objects)
    except RecursionError:
        raise WireError("too deep") from None
    except WireError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError) as exc:  # a case the checks above missed: still one WireError
        raise WireError(f"malformed ({type(exc).__name__})") from None


def loads(text: str | bytes) -> object:
    """Parse and decode ``text``; :class:`WireError` if it is too large or malformed."""
    _need(type(text) in (str, bytes) and len(text) <= MAX_BYTES, "payload too large or not text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise WireError("not JSON") from None
    return decode(data)


def parse(text: str | bytes) -> object:
    """Parse ``text`` as bounded JSON (not decoded); :class:`WireError` if too large or malformed."""
    _need(type(text) in (str, bytes) and len(text) <= MAX_BYTES, "payload too large or not text")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise WireError("not JSON") from None


# --- estimators: sent into the kernel as recipes, read back out of it as plain facts -----------
#: The attribute of an estimator built by :func:`fitted` that holds its recipe.
RECIPE_ATTR = "_grader_recipe"
#: Where a recipe's classes may come from.
_RECIPE_MODULES = ("sklearn.", "grader.checks.")
_TREE_FIELDS = ("node_count", "max_depth", "n_outputs", "feature", "threshold", "children_left",
                "children_right", "value")


class Fitted:
    """Plain facts about an estimator read from the student's kernel (decoded): ``type`` (its
    class name), ``params`` (``get_params(deep=False)``, plain values only) and ``attrs`` (its
    public fitted attributes ``name_``, plain values only; a tree's ``tree_`` as a dict of
    :data:`_TREE_FIELDS`). ``facts.tree_`` reads ``attrs["tree_"]``."""

    __slots__ = ("type", "params", "attrs")

    def __init__(self, type: str, params: dict, attrs: dict):  # noqa: A002 - the class name
        self.type, self.params, self.attrs = type, params, attrs

    def __getattr__(self, name: str) -> object:
        try:
            return object.__getattribute__(self, "attrs")[name]
        except (KeyError, AttributeError):
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"{self.type}(...)"


def _recipe_of(value: object) -> dict | None:
    try:
        rec = object.__getattribute__(value, "__dict__").get(RECIPE_ATTR)
    except Exception:
        return None
    return rec if type(rec) is dict and rec.get("t") == "recipe" else None


def _estimator_facts(value: object, depth: int) -> dict | None:
    """The ``fitted`` encoding of a scikit-learn estimator (None for anything else)."""
    module = type(value).__module__
    if type(module) is not str or not module.startswith("sklearn.") or depth > MAX_DEPTH - 4:
        return None
    state = object.__getattribute__(value, "__dict__")
    attrs = []
    for k, v in list(state.items())[:200]:
        if type(k) is not str or not k.endswith("_") or k.startswith("_"):
            continue
        if type(v).__name__ == "Tree" and type(v).__module__.startswith("sklearn."):
            enc = {"t": "dict", "v": [[encode(f), encode(getattr(v, f), depth + 2)]
                                      for f in _TREE_FIELDS]}
        else:
            enc = encode(v, depth + 1)
        if enc.get("t") != "obj":
            attrs.append([k, enc])
    params = []
    for k, v in list(value.get_params(deep=False).items())[:200]:
        enc = encode(v, depth + 1)
        if type(k) is str and enc.get("t") != "obj":
            params.append([k, enc])
    return {"t": "fitted", "type": type(value).__name__[:60], "params": params, "attrs": attrs}


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


def _decode_fitted(data: dict, depth: int, budget: _Budget) -> Fitted:
    name, params, attrs = data.get("type"), data.get("params"), data.get("attrs")
    _need(type(name) is str and _IDENT.fullmatch(name) is not None, "bad estimator type")
    out = []
    for items in (params, attrs):
        _need(type(items) is list and len(items) <= 200, "bad estimator")
        got = {}
        for pair in items:
            _need(type(pair) is list and len(pair) == 2 and type(pair[0]) is str
                  and _IDENT.fullmatch(pair[0]) is not None and not pair[0].startswith("__"),
                  "bad estimator item")
            got[pair[0]] = _decode(pair[1], depth, budget)
        out.append(got)
    return Fitted(name, *out)


def facts(value: object) -> object:
    """``value`` as the judge sees it once read from a kernel: a scikit-learn estimator becomes its
    :class:`Fitted` facts (an already decoded value is returned as is)."""
    if type(value) is Fitted:
        return value
    return decode(json.loads(json.dumps(encode(value))))


def _resolve(path: object) -> type:
    import importlib

    _need(type(path) is str and path.startswith(_RECIPE_MODULES)
          and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,200}", path) is not None, "bad recipe class")
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise WireError("bad recipe class") from None
    _need(isinstance(cls, type), "bad recipe class")
    return cls


_BUILT: dict[str, object] = {}


def _build(data: dict) -> object:
    """The estimator of a recipe: its steps made (a pipeline when several), then fitted on X, y.
    Built once per recipe and copied (the same library, data and seeds give the same model)."""
    import copy

    key = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if key not in _BUILT:
        steps = data.get("steps")
        _need(type(steps) is list and 1 <= len(steps) <= 8, "bad recipe")
        made = []
        for step in steps:
            _need(type(step) is list and len(step) == 2, "bad recipe step")
            params = decode(step[1])
            _need(type(params) is dict and all(type(k) is str for k in params), "bad recipe step")
            made.append(_resolve(step[0])(**params))
        if len(made) == 1:
            model = made[0]
        else:
            from sklearn.pipeline import make_pipeline

            model = make_pipeline(*made)
        if data.get("fit") is not None:
            fit = decode(data["fit"])
            _need(type(fit) is list and len(fit) == 2, "bad recipe fit")
            model.fit(*fit)
        object.__getattribute__(model, "__dict__")[RECIPE_ATTR] = data
        if len(_BUILT) > 64:
            _BUILT.clear()
        _BUILT[key] = model
    return copy.deepcopy(_BUILT[key])


def fitted(steps: list[tuple[type, dict]], X: object = None, y: object = None) -> object:
    """An estimator the key can pass to a student's function: ``steps`` (classes from scikit-learn
    or ``grader.checks`` with their parameters; several make a pipeline) fitted on ``X``, ``y``
    (not fitted when ``X`` is None). It travels in a plan as its recipe, and the kernel builds the
    same estimator again (same library, same data, same seeds)."""
    data = {
        "t": "recipe",
        "steps": [[f"{cls.__module__}.{cls.__qualname__}", encode(dict(params))]
                  for cls, params in steps],
        "fit": None if X is None else encode([X, y]),
    }
    return _build(data)
