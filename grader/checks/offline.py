"""Visible checks without the answer key: compare with data precomputed from the key.

A converted assignment's student-side module (``grader.checks.m05``) holds only titles, names
and hints; its questions are :class:`OfflineQuestion` s. ``qN.check()`` collects the student's
answers in-process for the check's *fixed* inputs (:func:`grader.checks.collect.gather`) and
compares them with ``grader/checks/data/mNN.json``, which ``grader release`` writes from the
instructor's key (:mod:`grader.precompute`):

- the visible plan (the names to read, the calls to make and their inputs);
- the reference result of each call on those fixed inputs (plain data: grading uses fresh inputs);
- each single-value answer (a number, an option, a string, a list of names) as salted hashes of
  a canonical form quantised at the check's tolerance (a list of names in order, or sorted when
  the key's question lists it in ``unordered``; a structured single value, such as a dict of
  options, hashed whole as the canonical text that its question's public ``canonical`` gives);
  the student's value is tested against its own quantum and both neighbours, so a value within
  tolerance never fails on a rounding boundary;
- for each catalogued mistake (``mutants.yml``): where its answers first differ from the
  reference, what they are there (hashed for single values) and the message the key gives it.

The first difference is matched against the mistakes (-> their message), else reported with the
student's value. Messages follow the tiers of :mod:`grader.checks.core`.

``qN.check_hidden(seed)`` judges in this kernel with the key when it can be found (a course
checkout: ``solutions/<aid>/key.py`` above the working folder, or ``$GRADER_KEY_DIR``): that is
what stock ``nbgrader autograde`` and self-learners run. Without the key it says that hidden
tests run when the instructor grades, and fails.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from . import core, wire
from .collect import Call, gather
from .core import Incorrect, NotAttempted, Question, _arg, _quiet, question
from .values import (
    as_array,
    as_bool,
    as_dict,
    as_float,
    as_int,
    as_labelled_series,
    as_str,
    as_tuple,
    show,
)

__all__ = ["OfflineQuestion", "question", "find_key", "load_key_file", "canon_hashes", "compare"]

_INT_T = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
_FLOAT_T = (float, np.float16, np.float32, np.float64)


# --- the key (instructor-only) -------------------------------------------------------------------
def load_key_file(path: Path) -> ModuleType:
    """Import an answer key (``solutions/<aid>/key.py``) as a module of its own."""
    path = Path(path).resolve()
    name = "grader_key_" + "".join(c if c.isalnum() else "_" for c in path.parent.name)
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:  # a key that failed to load is not left half-made for the next caller
        sys.modules.pop(name, None)
        raise
    return module


def find_key(aid: str, start: Path | None = None) -> Path | None:
    """``solutions/<aid>/key.py`` under ``$GRADER_KEY_DIR`` or above ``start`` (the cwd), if any."""
    roots = []
    if os.environ.get("GRADER_KEY_DIR"):
        base = Path(os.environ["GRADER_KEY_DIR"])
        roots += [base / aid / "key.py", base / "solutions" / aid / "key.py", base / "key.py"]
    here = Path(start or Path.cwd()).resolve()
    roots += [p / "solutions" / aid / "key.py" for p in (here, *here.parents)]
    return next((p for p in roots if p.is_file()), None)


# --- the precomputed data -----------------------------------------------------------------------
@functools.cache
def _data(module: str) -> dict:
    path = Path(__file__).with_name("data") / f"{module}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def canon_forms(value: object, quantum: float | None, neighbours: bool = True) -> list[str]:
    """The canonical forms of a single value (with its neighbouring quanta); [] if not single."""
    if type(value) in _INT_T and type(value) is not bool and quantum is None:
        return [f"i:{int(value)}"]
    if type(value) in _FLOAT_T or type(value) in _INT_T:
        x = float(value)
        if not math.isfinite(x):
            return [f"f:{x}"]
        k = round(x / quantum)
        return [f"f:{k + d}" for d in ((-1, 0, 1) if neighbours else (0,))]
    if type(value) in (str, np.str_):
        return [f"s:{value}"]
    if type(value) in (bool, np.bool_):
        return [f"b:{bool(value)}"]
    if type(value) is tuple and all(type(v) is str for v in value):  # names (see as_names)
        return ["n:" + json.dumps(list(value))]
    if type(value) is wire.Fitted:  # exact: the same data and seeds fit the same estimator
        attrs = {k: v for k, v in value.attrs.items() if k != "feature_names_in_"}
        return ["F:" + value.type + json.dumps(wire.encode(attrs), sort_keys=True)]
    return []


def _hash(salt: str, name: str, form: str) -> str:
    return hashlib.sha256(f"{salt}|{name}|{form}".encode()).hexdigest()[:32]


def canon_hashes(value: object, salt: str, name: str, quantum: float | None,
                 neighbours: bool = True) -> list[str]:
    """Salted hashes of the canonical forms of a single value (with its neighbouring quanta)."""
    return [_hash(salt, name, f) for f in canon_forms(value, quantum, neighbours)]


def _keystream(n: int, salt: str, name: str, form: str) -> bytes:
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(f"{salt}|seal|{name}|{form}|{i}".encode()).digest()
        i += 1
    return out[:n]


def seal(text: str, salt: str, name: str, form: str) -> str:
    """``text`` sealed with a key derived from a canonical ``form``: the message of a mistake
    whose answer is hashed can be read only by a student who gives that answer."""
    raw = text.encode()
    pad = _keystream(len(raw), salt, name, form)
    return base64.b64encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode()


def unseal(sealed: str, salt: str, name: str, form: str) -> str:
    """The text :func:`seal` sealed (undecodable bytes replaced)."""
    raw = base64.b64decode(sealed)
    pad = _keystream(len(raw), salt, name, form)
    return bytes(a ^ b for a, b in zip(raw, pad, strict=True)).decode("utf-8", "replace")


def as_names(value: object, name: str, ordered: bool = True) -> tuple[str, ...]:
    """A list (or tuple) of names as a plain tuple of str, sorted unless ``ordered``: the
    canonical form a list of names is hashed in; Incorrect (type tier) if it is not one."""
    if type(value) not in (list, tuple):
        raise Incorrect(f"`{name}` should be a list of names, but it is a {type(value).__name__}: "
                        f"{show(value)}.")
    items = tuple(as_str(v, f"an item of {name}") for v in value)
    return items if ordered else tuple(sorted(items))


def single(q: Question, value: object, spec: dict, name: str) -> object:
    """The student's single value in the plain, canonical form its hashes were made of: a list
    of names as :func:`as_names`, a structured value as ``q.canonical`` gives it (kind
    ``canon``), else a plain int, float, str or bool; Incorrect (type tier) if it is none."""
    kind = spec["kind"]
    if kind == "names":
        return as_names(value, name, spec.get("ordered", True))
    if kind == "canon":
        return q.canonical(name, value)
    if kind == "fitted":
        return conform(value, _FittedType(spec["type"]), name)
    return _AS[kind](value, name)


# --- comparison -------------------------------------------------------------------------------------
def _kind(ref: object) -> str:
    t = type(ref)
    if t is bool or t is np.bool_:
        return "bool"
    if t in _INT_T:
        return "int"
    if t in _FLOAT_T:
        return "float"
    if t in (str, np.str_):
        return "str"
    if t in (tuple, list):
        return "seq"
    if t is dict:
        return "dict"
    if t is pd.Series:
        return "series"
    if t is wire.Fitted:
        return "fitted"
    if t is np.ndarray:
        return "array"
    if t is pd.DataFrame:
        return "frame"
    return "other"


def _labels(series: pd.Series) -> tuple[str, ...]:
    return tuple(str(k) if type(k) in (str, np.str_) else show(k) for k in series.index)


def conform(value: object, ref: object, name: str, *, ordered: bool = False) -> object:
    """``value`` made plain in the shape of ``ref``; Incorrect (type or shape tier) if it cannot."""
    kind = _kind(ref)
    if kind == "int":
        return as_int(value, name)
    if kind == "float":
        return as_float(value, name, finite=False)
    if kind == "str":
        return as_str(value, name)
    if kind == "seq":
        items = as_tuple(value, name, len(ref))
        return tuple(conform(v, r, f"{name}[{i}]", ordered=ordered)
                     for i, (v, r) in enumerate(zip(items, ref, strict=True)))
    if kind == "dict":
        got = as_dict(value, name)
        if set(got) != set(ref) or not all(type(k) is str for k in got):
            keys = ", ".join(sorted(show(k) for k in got))
            want = ", ".join(f'"{k}"' for k in ref)
            raise Incorrect(f"`{name}` returned a dict with keys {keys}; it needs the keys {want}.")
        return {k: conform(got[k], ref[k], f'{name}["{k}"]', ordered=ordered) for k in ref}
    if kind == "array":
        return as_array(value, name, shape=np.asarray(ref).shape)
    if kind == "series":  # its values and its index labels (by label in any order, unless the
        # key's question lists the name in ``ordered``: a ranking must come sorted)
        if not ordered and len(ref) and all(type(k) is str for k in ref.index):  # by label, any order
            return (_labels(ref), as_labelled_series(value, name, list(ref.index), "label"))
        if type(value) is not pd.Series:
            raise Incorrect(f"`{name}` should be a pandas Series indexed by name, but it is a "
                            f"{type(value).__name__}: {show(value)}.")
        return (_labels(value), as_array(value, name, shape=ref.shape))
    if kind == "fitted":
        if type(value) is not wire.Fitted or value.type != ref.type:
            raise Incorrect(f"`{name}` should be a fitted {ref.type}, but it is a "
                            f"{type(value).__name__ if type(value) is not wire.Fitted else value.type}.")
        return value
    if kind == "frame":
        if type(value) is not pd.DataFrame:
            raise Incorrect(f"`{name}` should be a pandas DataFrame, but it is a {type(value).__name__}: "
                            f"{show(value)}.")
        return value
    return value


def _frame_values(df: pd.DataFrame, rows: list[str], cols: list[str]) -> np.ndarray:
    """``df`` as floats, its rows and columns put in the order of the labels (as text) given."""
    pos_r = {str(r): i for i, r in enumerate(df.index)}
    pos_c = {str(c): i for i, c in enumerate(df.columns)}
    values = np.array(df.to_numpy(dtype=float), dtype=float)
    return values[np.ix_([pos_r[r] for r in rows], [pos_c[c] for c in cols])]


def _same_frame(a: pd.DataFrame, b: pd.DataFrame, tol: dict) -> bool:
    """Same row and column labels (as text, in any order) and the same numbers (NaN where NaN)."""
    rows, cols = [str(r) for r in b.index], [str(c) for c in b.columns]
    if (sorted(str(r) for r in a.index) != sorted(rows) or len(set(rows)) != len(rows)
            or sorted(str(c) for c in a.columns) != sorted(cols) or len(set(cols)) != len(cols)):
        return False
    x, y = _frame_values(a, rows, cols), _frame_values(b, rows, cols)
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    if not np.array_equal(nan_x, nan_y):
        return False
    x, y = np.where(nan_x, 0.0, x), np.where(nan_y, 0.0, y)
    return bool(np.all(np.abs(x - y) <= tol.get("atol", 1e-9) + tol.get("rtol", 1e-6) * np.abs(y)))


def same(a: object, b: object, tol: dict) -> bool:
    """Plain ``a`` (conformed) equals the reference ``b`` within ``tol`` (rtol, atol)."""
    kind = _kind(b)
    try:
        if kind == "int":
            return type(a) is int and a == int(b)
        if kind == "float":
            x, y = float(a), float(b)
            if math.isnan(y) or math.isnan(x):
                return math.isnan(x) and math.isnan(y)
            return math.isclose(x, y, rel_tol=tol.get("rtol", 1e-6), abs_tol=tol.get("atol", 1e-9))
        if kind in ("str", "bool"):
            return a == b and type(a) is type(b)
        if kind == "seq":
            return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b, strict=True))
        if kind == "dict":
            return set(a) == set(b) and all(same(a[k], b[k], tol) for k in b)
        if kind == "series":
            index, values = a
            return index == _labels(b) and same(values, b.to_numpy(), tol)
        if kind == "fitted":  # the fitted attributes the reference has (feature names aside)
            return a.type == b.type and all(
                k in a.attrs and _same_fact(a.attrs[k], v, tol)
                for k, v in b.attrs.items() if k != "feature_names_in_")
        if kind == "array":
            x = np.asarray(a, dtype=float)
            y = np.asarray(b, dtype=float)
            return x.shape == y.shape and bool(np.all(np.abs(x - y) <= tol.get("atol", 1e-9)
                                                        + tol.get("rtol", 1e-6) * np.abs(y)))
        if kind == "frame":
            return _same_frame(a, b, tol)
    except (TypeError, ValueError, KeyError):
        return False
    return False


def _same_fact(a: object, b: object, tol: dict) -> bool:
    """One fitted attribute (plain, decoded) equals the reference's, numbers within ``tol``."""
    if type(b) is dict:
        return type(a) is dict and set(a) == set(b) and all(_same_fact(a[k], b[k], tol) for k in b)
    if type(b) is np.ndarray:
        if type(a) is not np.ndarray or a.shape != b.shape:
            return False
        if b.dtype.kind in "biuf" and a.dtype.kind in "biuf":
            return same(a, b, tol)
        return a.dtype.kind == b.dtype.kind and bool(np.all(a == b))
    if type(b) in _INT_T + _FLOAT_T and type(a) in _INT_T + _FLOAT_T:
        return same(float(a), float(b), tol)
    return type(a) is type(b) and a == b


def _FittedType(name: str) -> wire.Fitted:  # noqa: N802 - stands for the reference's type
    return wire.Fitted(name, {}, {})


def _calls(entry: dict) -> list[Call]:
    """The calls of a precomputed entry (trusted package data: statistics and models rebuilt)."""
    return [Call.from_row(c, objects=True) for c in entry["calls"]]


def _shown_call(name: str, c: Call) -> str:
    return ", ".join([_arg(a) for a in c.args] + [f"{k}={_arg(v)}" for k, v in c.kwargs.items()])


def compare(q: Question, entry: dict, payload: dict, *, with_mutants: bool = True) -> tuple[str, int | str] | None:
    """Compare a collected ``payload`` with a question's precomputed ``entry``.

    Returns None when everything matches, else ``(where, index-or-name)`` of the first
    difference after raising nothing; raises the tiered :class:`Incorrect` when ``with_mutants``
    (the student's check). With ``with_mutants=False`` only the location is returned (used by
    :mod:`grader.precompute` to place each mistake).
    """
    tol = entry.get("tolerance", {})
    salt = entry["salt"]
    read = payload.get("names", {})
    ns: dict[str, Any] = {}
    for n in q.names:
        got = read.get(n, {"missing": True})
        if got.get("callable"):
            ns[n] = _FUNCTION
        elif "value" in got:
            ns[n] = wire.decode(got["value"])
    q._values_from(ns)  # NotAttempted tiers (missing, placeholder)
    functions = entry["functions"]
    for n in functions:
        if ns[n] is not _FUNCTION:
            raise Incorrect(f"`{n}` should be a function, but it is a {type(ns[n]).__name__}.")
    ordered = set(entry.get("ordered", ()))
    calls = _calls(entry)
    for i, (c, res) in enumerate(zip(calls, payload.get("calls", []), strict=False)):
        shown = _shown_call(c.name, c)
        if res.get("todo"):
            raise NotAttempted(f"`{c.name}` still raises NotImplementedError: replace it with your code.")
        if "raised" in res:
            ename, msg = res["raised"]
            if not with_mutants:
                return ("call", i)
            _mismatch(entry, ("call", i), None, with_mutants, tol, raised=ename)
            raise Incorrect(f"Calling `{c.name}({shown})` raised {ename}: {msg}")
        if res.get("rng") is True and entry.get("rng_message"):
            if not with_mutants:
                return ("call", i)
            raise Incorrect(entry["rng_message"])
        value = _canon(q, c.name, wire.decode(res["ok"]))
        if value is None:
            raise NotAttempted(f"`{c.name}({shown})` returned None. Did you forget a `return` statement?")
        if res.get("mutated"):
            if not with_mutants:
                return ("call", i)
            _mismatch(entry, ("call", i), value, with_mutants, tol, mutated=True, q=q, name=c.name)
            raise Incorrect(
                f"For {c.name}({shown}), your function changed the inputs it was given (it modifies "
                "them in place). Work on a copy, e.g. `X_new = X.copy()`, so that the caller's "
                "data stay untouched."
            )
        ref = _canon(q, c.name, wire.decode(entry["results"][i]))
        if not with_mutants:
            try:
                plain = conform(value, ref, f"{c.name}(...)", ordered=c.name in ordered)
            except Incorrect:
                return ("call", i)
            if not same(plain, ref, tol):
                return ("call", i)
            continue
        try:
            plain = conform(value, ref, f"{c.name}(...)", ordered=c.name in ordered)
        except Incorrect:
            _mismatch(entry, ("call", i), value, with_mutants, tol, q=q, name=c.name)
            raise
        if not same(plain, ref, tol):
            _mismatch(entry, ("call", i), value, with_mutants, tol, q=q, name=c.name)  # raw: conform() again
            raise Incorrect(
                f"For {c.name}({shown}), your function returned {show(value)}; that is not the "
                "right value. Work through this input by hand and compare."
            )
    # In the question's order of names: the JSON data keeps its keys sorted, and the first
    # difference must be the same one that grader.precompute placed each mistake at.
    for n, spec in sorted(entry["reads"].items(), key=lambda item: _order(q, item[0])):
        value = ns[n]
        if "value" in spec:
            ref = wire.decode(spec["value"])
            ok = False
            try:
                plain = conform(value, ref, n, ordered=n in ordered)
                ok = same(plain, ref, tol)
            except Incorrect:
                if with_mutants:
                    _mismatch(entry, ("read", n), value, True, tol)
                    raise
            if not ok:
                if not with_mutants:
                    return ("read", n)
                _mismatch(entry, ("read", n), value, True, tol)
                raise Incorrect(f"`{n}` ({show(value)}) is not the right value.")
            continue
        try:
            plain = single(q, value, spec, n)
        except Incorrect:
            if not with_mutants:
                return ("read", n)
            _mismatch(entry, ("read", n), value, True, tol, salt=salt, quantum=spec.get("quantum"))
            raise
        mine = set(canon_hashes(plain, salt, n, spec.get("quantum")))
        if mine & set(spec["hashes"]):
            continue
        if not with_mutants:
            return ("read", n)
        _mismatch(entry, ("read", n), plain, True, tol, salt=salt, quantum=spec.get("quantum"))
        raise Incorrect(f"`{n}` = {show(value)} is not the right value.")
    return None


_FUNCTION = object()
_AS = {"int": as_int, "float": as_float, "str": as_str, "bool": as_bool}


def _order(q: Question, name: str) -> int:
    return q.names.index(name) if name in q.names else len(q.names)


def _canon(q: Question, name: str, value: object) -> object:
    """``value`` in the question's canonical form for ``name`` (``result_form(name, value)``, for
    answers whose right form is not unique, e.g. a list of unordered pairs); else unchanged."""
    form = getattr(q, "result_form", None)
    if form is None:
        return value
    try:
        return form(name, value)
    except Exception:  # a value the canonical form does not fit: compared as it is
        return value


def _mismatch(entry: dict, where: tuple, value: object, active: bool, tol: dict, *, raised: str | None = None,
              salt: str | None = None, quantum: float | None = None, q: Question | None = None,
              name: str = "", mutated: bool = False) -> None:
    """Raise the message of the catalogued mistake whose answer at ``where`` equals ``value``."""
    if not active:
        return
    for m in entry.get("mutants", []):
        if tuple(m["at"]) != where or bool(m.get("mutated")) != mutated:
            continue
        if raised is not None or "raised" in m:
            if m.get("raised") == raised and raised is not None:
                _raise(m)
            continue
        if "hash" in m:
            for form in canon_forms(value, quantum) if salt is not None else ():
                if _hash(salt, where[1], form) == m["hash"]:
                    _raise(m, salt, where[1], form)
            continue
        ref = wire.decode(m["value"])
        if q is not None:
            ref = _canon(q, name, ref)
        label = where[1] if where[0] == "read" else name
        try:
            plain = conform(value, ref, "x", ordered=label in set(entry.get("ordered", ())))
        except Incorrect:
            continue
        if same(plain, ref, tol):
            _raise(m)


def _raise(m: dict, salt: str = "", name: str = "", form: str = "") -> None:
    cls = NotAttempted if m.get("ename") == "NotAttempted" else Incorrect
    if "message" not in m:  # sealed with the mistake's own answer
        raise cls(unseal(m["sealed"], salt, name, form))
    raise cls(m["message"])


class OfflineQuestion(Question):
    """A question of a converted assignment, as the student's package knows it (no key)."""

    aid: str = ""
    module: str = ""

    def check(self) -> None:
        """Check your answer; prints ``Correct`` or raises ``Incorrect`` with the reason."""
        entry = dict(_data(self.module)["questions"][self.label])
        entry["salt"] = _data(self.module)["salt"]
        calls = _calls(entry)
        payload = gather(list(self.names), calls, core._user_namespace())
        with _quiet():
            compare(self, entry, payload)
        self._say_correct()

    def check_hidden(self, seed: int) -> None:
        """The hidden test: judged with the instructor's key when it is here, else at grading."""
        path = find_key(self.aid)
        if path is None:
            print(f"{self.label}: the hidden tests run when your instructor grades the assignment.")
            raise NotAttempted(
                "Hidden tests are not available in this notebook; they run at grading time."
            )
        key = load_key_file(path)
        key.QUESTIONS[self.label].check_hidden(seed)

    def verify(self, **values: Any) -> None:  # the key's job
        raise NotImplementedError
