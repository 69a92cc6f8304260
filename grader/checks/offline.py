"""Visible checks without the answer key: compare with data precomputed from the key.

A converted assignment's student-side module (``grader.checks.m05``) holds only titles, names
and hints; its questions are :class:`OfflineQuestion` s. ``qN.check()`` collects the student's
answers in-process for the check's *fixed* inputs (:func:`grader.checks.collect.gather`) and
compares them with ``grader/checks/data/mNN.json``, which ``grader release`` writes from the
instructor's key (:mod:`grader.precompute`):

- the visible plan (the names to read, the calls to make and their inputs);
- the reference result of each call on those fixed inputs (plain data: grading uses fresh inputs);
- each single-value answer (a number, an option, a string) as salted hashes of a canonical form
  quantised at the check's tolerance; the student's value is tested against its own quantum and
  both neighbours, so a value within tolerance never fails on a rounding boundary;
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
from .values import as_array, as_dict, as_float, as_int, as_labelled_series, as_str, as_tuple, show

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
    spec.loader.exec_module(module)
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


def canon_hashes(value: object, salt: str, name: str, quantum: float | None,
                 neighbours: bool = True) -> list[str]:
    """Salted hashes of the canonical forms of a single value (with its neighbouring quanta)."""
    if type(value) in _INT_T and type(value) is not bool and quantum is None:
        forms = [f"i:{int(value)}"]
    elif type(value) in _FLOAT_T or type(value) in _INT_T:
        x = float(value)
        if not math.isfinite(x):
            forms = [f"f:{x}"]
        else:
            k = round(x / quantum)
            forms = [f"f:{k + d}" for d in ((-1, 0, 1) if neighbours else (0,))]
    elif type(value) in (str, np.str_):
        forms = [f"s:{value}"]
    elif type(value) in (bool, np.bool_):
        forms = [f"b:{bool(value)}"]
    elif type(value) is wire.Fitted:  # exact: the same data and seeds fit the same estimator
        attrs = {k: v for k, v in value.attrs.items() if k != "feature_names_in_"}
        forms = ["F:" + value.type + json.dumps(wire.encode(attrs), sort_keys=True)]
    else:
        return []
    return [hashlib.sha256(f"{salt}|{name}|{f}".encode()).hexdigest()[:32] for f in forms]


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
    if t is pd.Series and len(ref) and all(type(k) is str for k in ref.index):
        return "series"  # numbers labelled by name (features): the labels are checked too
    if t is wire.Fitted:
        return "fitted"
    if t in (np.ndarray, pd.Series):
        return "array"
    return "other"


def conform(value: object, ref: object, name: str) -> object:
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
        return tuple(conform(v, r, f"{name}[{i}]") for i, (v, r) in enumerate(zip(items, ref, strict=True)))
    if kind == "dict":
        got = as_dict(value, name)
        if set(got) != set(ref) or not all(type(k) is str for k in got):
            keys = ", ".join(sorted(show(k) for k in got))
            want = ", ".join(f'"{k}"' for k in ref)
            raise Incorrect(f"`{name}` returned a dict with keys {keys}; it needs the keys {want}.")
        return {k: conform(got[k], ref[k], f'{name}["{k}"]') for k in ref}
    if kind == "array":
        return as_array(value, name, shape=np.asarray(ref).shape)
    if kind == "series":
        return as_labelled_series(value, name, list(ref.index))
    if kind == "fitted":
        if type(value) is not wire.Fitted or value.type != ref.type:
            raise Incorrect(f"`{name}` should be a fitted {ref.type}, but it is a "
                            f"{type(value).__name__ if type(value) is not wire.Fitted else value.type}.")
        return value
    return value


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
            return same(a, b.to_numpy(dtype=float), tol)
        if kind == "fitted":  # the fitted attributes the reference has (feature names aside)
            return a.type == b.type and all(
                k in a.attrs and _same_fact(a.attrs[k], v, tol)
                for k, v in b.attrs.items() if k != "feature_names_in_")
        if kind == "array":
            x = np.asarray(a, dtype=float)
            y = np.asarray(b, dtype=float)
            return x.shape == y.shape and bool(np.all(np.abs(x - y) <= tol.get("atol", 1e-9)
                                                        + tol.get("rtol", 1e-6) * np.abs(y)))
    except (TypeError, ValueError):
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
    calls = [Call(c[0], wire.decode(c[1], plan=True), wire.decode(c[2], plan=True)) for c in entry["calls"]]
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
        value = wire.decode(res["ok"])
        if value is None:
            raise NotAttempted(f"`{c.name}({shown})` returned None. Did you forget a `return` statement?")
        if res.get("mutated"):
            if not with_mutants:
                return ("call", i)
            _mismatch(entry, ("call", i), value, with_mutants, tol, mutated=True)
            raise Incorrect(
                f"For {c.name}({shown}), your function changed the inputs it was given (it modifies "
                "them in place). Work on a copy, e.g. `X_new = X.copy()`, so that the caller's "
                "data stay untouched."
            )
        ref = wire.decode(entry["results"][i])
        if not with_mutants:
            try:
                plain = conform(value, ref, f"{c.name}(...)")
            except Incorrect:
                return ("call", i)
            if not same(plain, ref, tol):
                return ("call", i)
            continue
        try:
            plain = conform(value, ref, f"{c.name}(...)")
        except Incorrect:
            _mismatch(entry, ("call", i), value, with_mutants, tol)
            raise
        if not same(plain, ref, tol):
            _mismatch(entry, ("call", i), value, with_mutants, tol)
            raise Incorrect(
                f"For {c.name}({shown}), your function returned {show(value)}; that is not the "
                "right value. Work through this input by hand and compare."
            )
    for n in [m for m in q.names if m in entry["reads"]]:  # the question's order, as the key's
        spec, value = entry["reads"][n], ns[n]  # (the JSON file's keys are sorted)
        if "value" in spec:
            ref = wire.decode(spec["value"])
            ok = False
            try:
                plain = conform(value, ref, n)
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
        kind = spec["kind"]
        try:
            if kind == "fitted":
                plain = conform(value, _FittedType(spec["type"]), n)
            else:
                plain = {"int": as_int, "float": as_float, "str": as_str}[kind](value, n)
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


def _FittedType(name: str) -> wire.Fitted:  # noqa: N802 - stands for the reference's type
    return wire.Fitted(name, {}, {})


def _mismatch(entry: dict, where: tuple, value: object, active: bool, tol: dict, *, raised: str | None = None,
              salt: str | None = None, quantum: float | None = None, mutated: bool = False) -> None:
    """Raise the message of the catalogued mistake whose answer at ``where`` equals ``value``
    (with ``mutated``, only a mistake that also changed its inputs in place)."""
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
            if salt is not None and m["hash"] in canon_hashes(value, salt, where[1], quantum):
                _raise(m, value)
            continue
        ref = wire.decode(m["value"])
        try:
            plain = conform(value, ref, "x")
        except Incorrect:
            continue
        if same(plain, ref, tol):
            _raise(m)


#: Stands, in a stored message, for the student's own single value (see :func:`hide_value`).
VALUE_MARK = "\u27e8value\u27e9"
_SPELLINGS = {"r": repr, "s": str, ".4g": lambda v: format(v, ".4g"),
              ".3g": lambda v: format(v, ".3g"), ".6g": lambda v: format(v, ".6g")}


def hide_value(message: str, name: str, value: object) -> tuple[str, str | None]:
    """``message`` with the mistake's own single value, shown as "`name` = <value>",
    replaced by :data:`VALUE_MARK`; and how it was spelled. A wrong value can give the right one
    away (a sign flipped, a rank off by one), so the offline data never stores it: the student's
    own value (which matched the mistake's hash) is shown in its place."""
    for fmt, spell in _SPELLINGS.items():
        try:
            shown = f"`{name}` = {spell(value)}"
        except (TypeError, ValueError):
            continue
        if shown in message:
            return message.replace(shown, f"`{name}` = {VALUE_MARK}"), fmt
    return message, None


def _raise(m: dict, value: object = None) -> None:
    cls = NotAttempted if m.get("ename") == "NotAttempted" else Incorrect
    message = m["message"]
    if m.get("shown") in _SPELLINGS and VALUE_MARK in message:
        message = message.replace(VALUE_MARK, _SPELLINGS[m["shown"]](value))
    raise cls(message)


class OfflineQuestion(Question):
    """A question of a converted assignment, as the student's package knows it (no key)."""

    aid: str = ""
    module: str = ""

    def check(self) -> None:
        """Check your answer; prints ``Correct`` or raises ``Incorrect`` with the reason."""
        entry = dict(_data(self.module)["questions"][self.label])
        entry["salt"] = _data(self.module)["salt"]
        calls = [Call(c[0], wire.decode(c[1], plan=True), wire.decode(c[2], plan=True)) for c in entry["calls"]]
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
