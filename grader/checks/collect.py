"""Collect a student's answers as plain data, for a judge that runs somewhere else.

At grade time a test cell of a converted assignment runs only::

    from grader.checks.collect import collect
    collect("<plan>")

The *plan* (made by the trusted grader, :mod:`grader.judging`) lists the names to read from the
notebook and the calls to make (``Call(name, args, kwargs)``: the student's function on inputs
the student has never seen). :func:`collect` reads, calls each function on fresh copies of the
inputs with warnings, stdout and stderr silenced (a call that changes its positional inputs in
place also sends them back as they are after the call, so the judge sees what the call did),
catches every exception (its type name and the first 200 characters of its message;
``NotImplementedError`` means "not attempted"), notes a call that changed NumPy's global random
generator (``"rng": true``), encodes
everything with :mod:`grader.checks.wire` under a size cap, and emits one ``display_data`` output
of MIME type :data:`MIME`. It never raises and prints nothing else. Nothing here judges: the
payload is hostile data to the grader, which compares it with the key outside the kernel.

A call may name a *view* (``Call(name, args, kwargs, view="m04.pipeline_steps")``): instead of
calling the student's object, :func:`gather` calls the view, a function registered with
:func:`view` in a student-side module ``grader.checks.mNN``, as ``view(obj, *args, **kwargs)``.
That is how an object that cannot cross the wire is judged: a figure becomes its properties, a
fitted pipeline its steps or its scores on fresh data. The key asks for one with :func:`viewed`.

A matplotlib ``Figure`` returned by a call is replaced by its plain description
(:func:`grader.checks.figures.describe`) and closed, so that chart questions can be judged
outside the kernel. The same :func:`gather` serves the offline visible check
(:mod:`grader.checks.offline`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import figures, wire
from .core import ViewTarget, global_rng_state

MIME = "application/vnd.grader.collected+json"
#: The largest encoded result kept (bigger ones are sent as an opaque "too large").
MAX_ITEM_BYTES = 64 * 1024
#: The largest payload emitted.
MAX_PAYLOAD_BYTES = 256 * 1024
_json_dumps = json.dumps


_VIEWS: dict[str, Callable] = {}
_VIEW_NAME = re.compile(r"(m\d{2})\.([A-Za-z_][A-Za-z0-9_]{0,59})")


def view(fn: Callable) -> Callable:
    """Decorator: register ``fn(obj, *args, **kwargs)`` as the view ``mNN.name`` (``fn`` lives in
    the student-side module ``grader.checks.mNN``). A view turns a student's object (or what
    calling it returns) into plain data; it runs in the student's kernel, so it holds no key."""
    name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
    if not _VIEW_NAME.fullmatch(name):
        raise ValueError(f"views live in grader.checks.mNN, not {fn.__module__}")
    _VIEWS[name] = fn
    return fn


def view_function(name: str) -> Callable:
    """The registered view ``name`` (its module imported on demand); KeyError if there is none."""
    m = _VIEW_NAME.fullmatch(name) if type(name) is str else None
    if m is None:
        raise KeyError(name)
    if name not in _VIEWS:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"grader.checks.{m.group(1)}")
    return _VIEWS[name]


def viewed(target: Any, name: str) -> Callable:
    """For a key: a function of ``(*args, **kwargs)`` that returns the view ``name`` of the
    student's ``target`` (recorded into the plan, or replayed from the collected results, when
    the grader judges outside the kernel; computed here when the key judges in the kernel)."""
    if isinstance(target, ViewTarget):
        return target.view(name)
    return functools.partial(view_function(name), target)


@dataclass(frozen=True)
class Call:
    """Call the student's function ``name(*args, **kwargs)``; with ``view``, call the view on the
    student's object instead: ``view(obj, *args, **kwargs)``."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    view: str = ""

    def row(self) -> list:
        """The call as JSON-ready data (``[name, args, kwargs]``, and the view if there is one)."""
        row = [self.name, wire.encode(tuple(self.args)), wire.encode(dict(self.kwargs))]
        return row + [self.view] if self.view else row

    @classmethod
    def from_row(cls, row: object, *, objects: bool = False) -> Call:
        """The inverse of :meth:`row`; :class:`wire.WireError` if ``row`` is malformed.
        ``objects``: the row is trusted (a plan, package data): statistics and estimators are
        rebuilt (see :func:`grader.checks.wire.decode`)."""
        if type(row) is not list or len(row) not in (3, 4) or type(row[0]) is not str:
            raise wire.WireError("bad call")
        if len(row) == 4 and (type(row[3]) is not str or not _VIEW_NAME.fullmatch(row[3])):
            raise wire.WireError("bad call view")
        args, kwargs = wire.decode(row[1], objects=objects), wire.decode(row[2], objects=objects)
        if type(args) is not tuple or type(kwargs) is not dict:
            raise wire.WireError("bad call")
        return cls(row[0], args, kwargs, row[3] if len(row) == 4 else "")

    def key(self) -> str:
        """A canonical text for this call (the same inputs give the same key)."""
        return _json_dumps(self.row(), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Read:
    """Read the variable (or function) ``name`` from the notebook."""

    name: str


def plan_text(names: list[str], calls: list[Call]) -> str:
    """The plan as text (what a test cell passes to :func:`collect`)."""
    return _json_dumps({
        "v": 1, "names": list(names),
        "calls": [c.row() for c in calls],
    }, sort_keys=True, separators=(",", ":"))


def parse_plan(text: str) -> tuple[list[str], list[Call]]:
    """The names and calls of a plan; :class:`wire.WireError` if it is malformed."""
    data = wire.parse(text)
    if type(data) is not dict or data.get("v") != 1:
        raise wire.WireError("not a plan")
    names, calls = data.get("names"), data.get("calls")
    if type(names) is not list or not all(type(n) is str for n in names) or type(calls) is not list:
        raise wire.WireError("not a plan")
    return names, [Call.from_row(item, objects=True) for item in calls]


@contextlib.contextmanager
def _silenced():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            yield


def _capped(value: object) -> object:
    data = wire.encode(value)
    if len(_json_dumps(data)) > MAX_ITEM_BYTES:
        return {"t": "obj", "type": type(value).__name__[:60], "repr": "(too large to collect)"}
    return data


def _figure(fig: Any) -> dict:
    """The plain description of a student's figure (:mod:`grader.checks.figures`), then close it."""
    try:
        return figures.describe(fig)
    finally:
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001
            pass


def gather(names: list[str], calls: list[Call], ns: dict[str, Any]) -> dict:
    """Read ``names`` from ``ns`` and make ``calls``; the payload as JSON-ready data."""
    read: dict[str, dict] = {}
    for name in names:
        if name not in ns:
            read[name] = {"missing": True}
        elif callable(ns[name]):
            read[name] = {"callable": True}
        else:
            read[name] = {"value": _capped(ns[name])}
    results: list[dict] = []
    for c in calls:
        func = ns.get(c.name)
        if c.view:
            try:
                fn = view_function(c.view)
            except KeyError:
                fn = None
            if c.name not in ns or fn is None:
                results.append({"skipped": True})
                continue
            func = functools.partial(fn, func)
        elif not callable(func):
            results.append({"skipped": True})
            continue
        try:  # fresh copies: decode the call's own encoding again
            args = wire.decode(wire.encode(tuple(c.args)), objects=True)
            kwargs = wire.decode(wire.encode(dict(c.kwargs)), objects=True)
            before = [_json_dumps(wire.encode(a)) for a in args]
            rng_before = global_rng_state()
            with _silenced():
                value = func(*args, **kwargs)
                if figures.is_figure(value):  # a chart: its description crosses, not the object
                    value = _figure(value)
            result = {"ok": _capped(value)}
            changed = [_json_dumps(wire.encode(a)) != b for a, b in zip(args, before, strict=True)]
            if any(changed):  # it changed its inputs in place: send those back as they are now
                result["mutated"] = _capped(tuple(a if c else None
                                                  for a, c in zip(args, changed, strict=True)))
            if global_rng_state() != rng_before:
                result["rng"] = True
            results.append(result)
        except NotImplementedError:
            results.append({"todo": True})
        except BaseException as exc:  # noqa: BLE001 - the student's bug is data here
            if isinstance(exc, KeyboardInterrupt):
                raise
            try:
                message = str(exc)[:200]
            except BaseException:  # noqa: BLE001
                message = ""
            results.append({"raised": [type(exc).__name__[:60], message]})
    payload = {"v": 1, "names": read, "calls": results}
    if len(_json_dumps(payload)) > MAX_PAYLOAD_BYTES:
        payload = {"v": 1, "too_large": True}
    return payload


def _namespace() -> dict[str, Any]:
    from .core import _user_namespace

    return _user_namespace()


def collect(plan: str) -> None:
    """Collect what ``plan`` asks for from the notebook and emit it as one ``display_data``."""
    try:
        names, calls = parse_plan(plan)
        payload = gather(names, calls, _namespace())
    except Exception:  # a broken plan is the grader's bug: send an empty payload, never a traceback
        payload = {"v": 1, "broken_plan": True}
    try:
        from IPython.display import publish_display_data

        publish_display_data({MIME: payload, "text/plain": "(answers collected for grading)"})
    except Exception:
        pass
