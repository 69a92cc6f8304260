"""Turn a student's answer into plain Python/NumPy values before anything compares it.

A check never calls ``==``, ``-`` or ``abs`` on the student's object: an answer object can define
``__eq__`` to return True, or ``__sub__`` to return 0. Each helper here accepts only *exact* types
(``type(x) is float``, not ``isinstance``), converts to a fresh plain value and raises
:class:`~grader.checks.errors.Incorrect` with the student's value (never the expected one) when the
answer has the wrong type or shape. Comparisons then run on plain floats and ndarrays only.

The helpers capture the functions they use at import time, so monkeypatching ``math.isclose`` or
``numpy.allclose`` after the check library is imported does not change how answers are compared.
"""

from __future__ import annotations

import math
import reprlib

import numpy as np
import pandas as pd

from .errors import Incorrect

_isclose = math.isclose
_isfinite = math.isfinite
_np_array = np.array
_np_abs = np.abs
_np_max = np.max
_np_all = np.all
_np_isfinite = np.isfinite
_ndarray = np.ndarray
_Series = pd.Series
_DataFrame = pd.DataFrame

_INT_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
_FLOAT_TYPES = (float, np.float16, np.float32, np.float64)

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = 8
_repr.maxdict = 8


def show(value: object) -> str:
    """A short, safe description of a student's value for a feedback message."""
    try:
        if type(value) in _FLOAT_TYPES:
            return f"{float(value):.4g}"
        if type(value) in (_ndarray, _Series):
            arr = _np_array(value, copy=True)
            body = np.array2string(arr.ravel()[:8], precision=4, separator=", ")
            more = ", ..." if arr.size > 8 else ""
            return f"{type(value).__name__} of shape {arr.shape}: {body[:-1]}{more}]"
        if type(value) is _DataFrame:
            return f"DataFrame of shape {value.shape}"
        text = _repr.repr(value)
    except Exception:  # a hostile __repr__ must not break the feedback
        text = f"<{type(value).__name__} object>"
    return text


def type_name(value: object) -> str:
    """The class name of a student's value (an estimator read as facts: the estimator's class)."""
    from .wire import Fitted

    return value.type if type(value) is Fitted else type(value).__name__


def as_float(value: object, name: str, *, finite: bool = True) -> float:
    """Return ``value`` as a plain float if it is a real number of an exact built-in/NumPy type."""
    if type(value) is bool:
        raise Incorrect(f"`{name}` should be a number, but it is a boolean ({value}).")
    if type(value) in _FLOAT_TYPES or type(value) in _INT_TYPES:
        out = float(value.item()) if hasattr(value, "item") else float(value)
    elif type(value) is _ndarray and value.shape == () and value.dtype.kind in "fiu":
        out = float(value.item())
    else:
        raise Incorrect(
            f"`{name}` should be a single number (a float), but it is a {type_name(value)}: "
            f"{show(value)}."
        )
    if finite and not _isfinite(out):
        raise Incorrect(f"`{name}` is {out}; it should be a finite number.")
    return out


def as_int(value: object, name: str) -> int:
    """Return ``value`` as a plain int (accepts Python and NumPy integers, not floats or bools)."""
    if type(value) in _INT_TYPES:
        return int(value.item()) if hasattr(value, "item") else int(value)
    raise Incorrect(
        f"`{name}` should be a whole number (an int), but it is a {type_name(value)}: {show(value)}."
    )


def as_str(value: object, name: str) -> str:
    if type(value) is np.str_:
        return str(value.item())
    if type(value) is not str:
        raise Incorrect(f"`{name}` should be a string, but it is a {type_name(value)}: {show(value)}.")
    return str.__str__(value)


def as_bool(value: object, name: str) -> bool:
    if type(value) is bool or type(value) is np.bool_:
        return bool(value)
    raise Incorrect(f"`{name}` should be True or False, but it is a {type_name(value)}: {show(value)}.")


def as_array(value: object, name: str, *, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return a fresh float ndarray from a list, tuple, ndarray or Series of numbers."""
    if type(value) in (list, tuple):
        items = [as_float(v, f"{name}[{i}]") for i, v in enumerate(value)]
        arr = _np_array(items, dtype=float)
    elif type(value) is _ndarray:
        if value.dtype.kind not in "fiub":
            raise Incorrect(f"`{name}` should hold numbers, but its dtype is {value.dtype}.")
        arr = _np_array(value, dtype=float, copy=True, subok=False)
    elif type(value) is _Series:
        try:
            arr = _np_array(value.to_numpy(), dtype=float, copy=True, subok=False)
        except (TypeError, ValueError):
            raise Incorrect(f"`{name}` should hold numbers, but its dtype is {value.dtype}.") from None
    else:
        raise Incorrect(
            f"`{name}` should be an array of numbers, but it is a {type_name(value)}: {show(value)}."
        )
    if shape is not None and arr.shape != shape:
        raise Incorrect(f"`{name}` should have shape {shape}, but it has shape {arr.shape}.")
    if not bool(_np_all(_np_isfinite(arr))):
        raise Incorrect(f"`{name}` contains NaN or infinite values: {show(arr)}.")
    return arr


def as_tuple(value: object, name: str, length: int) -> tuple:
    """Return ``value`` as a plain tuple of ``length`` items (a list is accepted too)."""
    if type(value) not in (tuple, list):
        raise Incorrect(
            f"`{name}` should return a tuple of {length} values, but it returned a "
            f"{type_name(value)}: {show(value)}."
        )
    items = tuple(value)
    if len(items) != length:
        raise Incorrect(
            f"`{name}` should return {length} values, but it returned {len(items)}: {show(value)}."
        )
    return items


def as_dict(value: object, name: str) -> dict:
    if type(value) is not dict:
        raise Incorrect(f"`{name}` should be a dict, but it is a {type_name(value)}: {show(value)}.")
    return dict.copy(value)


def close(a: float, b: float, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Plain-float closeness (both arguments must already be plain floats)."""
    return _isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)


def allclose(a: np.ndarray, b: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Plain-array closeness (both arguments must already be plain float ndarrays)."""
    a = _np_array(a, dtype=float, subok=False)
    b = _np_array(b, dtype=float, subok=False)
    if a.shape != b.shape:
        return False
    return bool(_np_all(_np_abs(a - b) <= atol + rtol * _np_abs(b)))


def as_labelled_series(value: object, name: str, labels: list[str], what: str = "feature") -> np.ndarray:
    """A Series indexed by ``labels`` (any order), as a plain array in the order of ``labels``."""
    if type(value) is _ndarray:
        raise Incorrect(
            f"`{name}` is a NumPy array {show(value)}: the numbers have lost their {what} names. "
            f"Return a pandas Series whose index is the {what} names."
        )
    if type(value) is _DataFrame:
        raise Incorrect(
            f"`{name}` is a DataFrame of shape {value.shape}; it should be a pandas Series "
            f"(one number per {what}, indexed by {what} name)."
        )
    if type(value) is not _Series:
        raise Incorrect(
            f"`{name}` should be a pandas Series indexed by {what} name, but it is a "
            f"{type(value).__name__}: {show(value)}."
        )
    index = list(value.index)
    if not all(type(label) is str for label in index) or not set(index) <= set(labels):
        raise Incorrect(
            f"The index of `{name}` is {show(index)}, not the {what} names. Build the Series with "
            f"`index=` the {what} names, so that each number says which {what} it belongs to."
        )
    if len(index) != len(labels) or len(set(index)) != len(index):
        raise Incorrect(
            f"`{name}` has {len(index)} entries; it should have one per {what} "
            f"({len(labels)}), each {what} once."
        )
    numbers = as_array(value, name)
    by_label = dict(zip(index, numbers.tolist(), strict=True))
    return _np_array([by_label[label] for label in labels], dtype=float)
