"""Collect a student's answers as plain data, for a judge that runs somewhere else.

At grade time a test cell of a converted assignment runs only::

    from grader.checks.collect import collect
    collect("<plan>")

The *plan* (made by the trusted grader, :mod:`grader.judging`) lists the names to read from the
notebook and the calls to make (``Call(name, args, kwargs)``: the student's function on inputs
the student has never seen). :func:`collect` reads, calls each function on fresh copies of the
inputs with warnings, stdout and stderr silenced, catches every exception (its type name and the
first 200 characters of its message; ``NotImplementedError`` means "not attempted"), encodes
everything with :mod:`grader.checks.wire` under a size cap, and emits one ``display_data`` output
of MIME type :data:`MIME`. It never raises and prints nothing else. Nothing here judges: the
payload is hostile data to the grader, which compares it with the key outside the kernel.

A matplotlib ``Figure`` returned by a call is replaced by its plain description
(:func:`grader.checks.figures.describe`) and closed, so that chart questions can be judged
outside the kernel. The same :func:`gather` serves the offline visible check
(:mod:`grader.checks.offline`).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from . import figures, wire

MIME = "application/vnd.grader.collected+json"
#: The largest encoded result kept (bigger ones are sent as an opaque "too large").
MAX_ITEM_BYTES = 64 * 1024
#: The largest payload emitted.
MAX_PAYLOAD_BYTES = 256 * 1024
_json_dumps = json.dumps


@dataclass(frozen=True)
class Call:
    """Call the student's function ``name(*args, **kwargs)``."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def key(self) -> str:
        """A canonical text for this call (the same inputs give the same key)."""
        return _json_dumps([self.name, wire.encode(tuple(self.args)), wire.encode(dict(self.kwargs))],
                           sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Read:
    """Read the variable (or function) ``name`` from the notebook."""

    name: str


def plan_text(names: list[str], calls: list[Call]) -> str:
    """The plan as text (what a test cell passes to :func:`collect`)."""
    return _json_dumps({
        "v": 1, "names": list(names),
        "calls": [[c.name, wire.encode(tuple(c.args)), wire.encode(dict(c.kwargs))] for c in calls],
    }, sort_keys=True, separators=(",", ":"))


def parse_plan(text: str) -> tuple[list[str], list[Call]]:
    """The names and calls of a plan; :class:`wire.WireError` if it is malformed."""
    data = wire.parse(text)
    if type(data) is not dict or data.get("v") != 1:
        raise wire.WireError("not a plan")
    names, calls = data.get("names"), data.get("calls")
    if type(names) is not list or not all(type(n) is str for n in names) or type(calls) is not list:
        raise wire.WireError("not a plan")
    out = []
    for item in calls:
        if type(item) is not list or len(item) != 3 or type(item[0]) is not str:
            raise wire.WireError("bad call")
        args, kwargs = wire.decode(item[1]), wire.decode(item[2])
        if type(args) is not tuple or type(kwargs) is not dict:
            raise wire.WireError("bad call")
        out.append(Call(item[0], args, kwargs))
    return names, out


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
        if not callable(func):
            results.append({"skipped": True})
            continue
        try:  # fresh copies: decode the call's own encoding again
            args = wire.decode(wire.encode(tuple(c.args)))
            kwargs = wire.decode(wire.encode(dict(c.kwargs)))
            with _silenced():
                value = func(*args, **kwargs)
                if figures.is_figure(value):  # a chart: its description crosses, not the object
                    value = _figure(value)
            results.append({"ok": _capped(value)})
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
