"""Judgement outside the student's process, for assignments that have an answer key.

An assignment is *converted* when ``solutions/<aid>/key.py`` exists (instructor-only, never
released). Its test cells keep their released source (``q1.check()``, ``q1.check_hidden(seed=N)``)
but at grade time they only collect:

1. :func:`prepare` (trusted, after nbgrader's sanitising): for each graded test cell of a question
   in the key, make the *plan* by running the key's ``verify_graded`` (visible cell) or
   ``verify_hidden`` (hidden cell) with *recording* stand-ins: each reference function is wrapped
   so that every call is recorded with its inputs, each variable is read by name. The seed comes
   from a per-course secret (:func:`secret`) with the assignment, the student and the cell's
   grade_id, so the inputs are fresh, reproducible when re-grading, and unknown to the student.
   The executed source becomes ``collect("<plan>")`` (:mod:`grader.checks.collect`).
2. The sandboxed kernel runs the notebook; each collecting cell emits one ``display_data`` of
   MIME :data:`grader.checks.collect.MIME` with the student's values and call results.
3. :func:`apply` (trusted, before nbgrader's SaveAutoGrades): rebuild the plan, decode the payload
   (hostile data: at most one, bounded, validated), run the same key method with *replay*
   stand-ins (a call is answered from the collected result for the same inputs, a recorded
   exception is raised again under its name, an uncollected call is Incorrect), and replace the
   cell's outputs with the verdict: ``Correct: ...`` on stdout, or an ``error`` output
   (``Incorrect``/``NotAttempted`` and the one-line message). The original source is restored.
   Points come only from that verdict.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import numpy as np

from .checks import wire
from .checks.collect import MIME, Call, ViewTarget, parse_plan, plan_text, view_function
from .checks.core import Incorrect, NotAttempted, Question, _quiet
from .checks.offline import load_key_file
from .config import Course, user_dir

_VISIBLE = re.compile(r"\b(q\d+)\.check\(\s*\)")
_HIDDEN = re.compile(r"\b(q\d+)\.check_hidden\(\s*seed\s*=\s*\d+\s*\)")
_COLLECT_HEAD = "from grader.checks.collect import collect\n"


# --- the key and the secret ------------------------------------------------------------------

def _run_check(q, values: dict, seed: int | None, hidden: bool) -> None:
    """The key's check of question ``q`` on ``values``: the visible one (``seed`` None), the
    graded visible one, or the hidden one; raises the key's ``Incorrect`` on a wrong answer."""
    with _quiet():
        if seed is None:
            q.verify(**values)
        elif hidden:
            q.verify_hidden(seed=seed, **values)
        else:
            q.verify_graded(seed=seed, **values)

def key_path(course: Course, aid: str) -> Path:
    return course.solutions / aid / "key.py"


def load_key(course: Course, aid: str) -> ModuleType | None:
    """The assignment's answer key, or None when the assignment is not converted."""
    path = key_path(course, aid)
    if not path.is_file():
        return None
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: int) -> ModuleType:
    return load_key_file(Path(path))


def questions(key: ModuleType) -> dict[str, Question]:
    return dict(key.QUESTIONS)


def secret(course: Course) -> bytes:
    """The per-course judging secret: ``$GRADER_SECRET_FILE``, else a 0600 file in
    ``~/.config/grader/`` (``$XDG_CONFIG_HOME``), created on first use. It never enters the
    course folder or a sandbox; keep it to re-grade with the same inputs."""
    if os.environ.get("GRADER_SECRET_FILE"):
        path = Path(os.environ["GRADER_SECRET_FILE"])
    else:
        base = user_dir("config")
        tag = hashlib.sha256(str(course.root.resolve()).encode()).hexdigest()[:12]
        path = base / f"judge-secret-{tag}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def derive_seed(key: bytes, aid: str, student: str, grade_id: str) -> int:
    """A seed for one test cell of one student's submission (HMAC-SHA256, first 4 bytes)."""
    digest = hmac.new(key, f"{aid}\0{student}\0{grade_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


# --- plans ------------------------------------------------------------------------------------
def viewable(ref: object, q: Question | None = None, name: str = "") -> bool:
    """True if the key reads ``name`` only through views (:func:`grader.checks.collect.viewed`):
    its reference cannot cross the wire (a figure), or the key's question lists it in ``viewed``
    (e.g. a fitted pipeline judged by what it does rather than by its fitted attributes, which
    would otherwise cross as :class:`grader.checks.wire.Fitted` facts)."""
    if callable(ref):
        return False
    return name in getattr(q, "viewed", ()) or wire.encode(ref).get("t") == "obj"


class _Recording(ViewTarget):
    """A reference function (or object) that records every call and view made of it, with the
    result."""

    def __init__(self, name: str, ref, log: list):
        self.name, self.ref, self.log = name, ref, log

    def __call__(self, *args, **kwargs):
        c = Call(self.name, copy.deepcopy(args), copy.deepcopy(kwargs))
        result = self.ref(*args, **kwargs)
        self.log.append((c, result))
        return result

    def view(self, name: str):
        def recorded(*args, **kwargs):
            c = Call(self.name, copy.deepcopy(args), copy.deepcopy(kwargs), name)
            result = view_function(name)(self.ref, *args, **kwargs)
            self.log.append((c, result))
            return result

        return recorded


def record(q: Question, seed: int | None, *, hidden: bool = False) -> tuple[list[str], list[tuple[Call, Any]]]:
    """The plan of one check: the names it reads and the calls it makes, with the references'
    results. ``seed=None`` is the visible check (``verify``); else ``verify_hidden`` (``hidden``)
    or ``verify_graded``. Raises RuntimeError if the key's references fail the key's own check."""
    log: list = []
    refs = q.references()
    values = {n: _Recording(n, r, log) if callable(r) or viewable(r, q, n) else r
              for n, r in refs.items()}
    try:
        _run_check(q, values, seed, hidden)
    except Incorrect as exc:
        raise RuntimeError(f"{q.label}: the key's references fail its own check ({exc})") from None
    if getattr(q, "repeat_calls", False):  # a check that calls twice to see state: keep both
        return list(q.names), log
    seen, calls = set(), []
    for c, result in log:
        if c.key() not in seen:
            seen.add(c.key())
            calls.append((c, result))
    return list(q.names), calls


# --- replaying a collected payload ------------------------------------------------------------
class CollectError(Exception):
    """The payload is missing or malformed: the verdict is 'could not collect'."""


def _exception(name: str) -> type[Exception]:
    import builtins

    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not NotImplementedError:
        return cls
    return type(wire.standin(name).__name__, (Exception,), {})


class _Replay(ViewTarget):
    """The student's function (or object, through its views), answered from what the kernel
    collected. The same inputs called again get the next collected answer for them (a question
    with ``repeat_calls``), and ``touched_global_rng`` says whether the last call changed NumPy's
    global generator."""

    def __init__(self, name: str, answers: dict[str, list[dict]]):
        self.name, self.answers, self.seen = name, answers, {}
        self.touched_global_rng = False

    def __call__(self, *args, **kwargs):
        return self._answer(Call(self.name, args, kwargs))

    def view(self, name: str):
        return lambda *args, **kwargs: self._answer(Call(self.name, args, kwargs, name))

    def _answer(self, call: Call):
        key = call.key()
        entries = self.answers.get(key)
        if not entries:
            raise Incorrect(f"`{self.name}` was called on inputs the grader did not collect.")
        n = self.seen[key] = self.seen.get(key, 0) + 1
        entry = entries[min(n, len(entries)) - 1]
        self.touched_global_rng = entry.get("rng", False)
        if "todo" in entry:
            raise NotImplementedError
        if "raised" in entry:
            ename, message = entry["raised"]
            raise _exception(ename)(message)
        if "mutated" in entry:
            _write_back(call.args, entry["mutated"])
        return entry["value"]


def _write_back(args: tuple, after: object) -> None:
    """Make the key's inputs what the student's call left them (it changed them in place): the
    collected arrays where they fit, else a mark (nan) that no check mistakes for the input.
    Only writeable NumPy arrays are touched: a key passes copies (never its cached data) to the
    student's functions, or read-only arrays."""
    for i, arg in enumerate(args):
        new = after[i] if type(after) is tuple and i < len(after) else None
        try:
            if type(arg) is np.ndarray and arg.flags.writeable:
                if type(new) is np.ndarray and new.shape == arg.shape:
                    if not np.array_equal(new, arg, equal_nan=arg.dtype.kind == "f"):
                        arg[...] = new
                elif arg.dtype.kind == "f" and arg.size:
                    arg.flat[0] = np.nan
        except (TypeError, ValueError):
            continue


class _Function:
    """Stands for a function the student defined where a value was expected."""

    def __repr__(self) -> str:
        return "<function>"


_Function.__name__ = "function"


def _clean(text: object, limit: int = 200) -> str:
    text = text if type(text) is str else ""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit]


def replay_values(q: Question, key_refs: dict, calls: list[Call], payload: object) -> dict[str, Any]:
    """The keyword values for the key's check, rebuilt from ``payload``; CollectError if bad."""
    if type(payload) is not dict or payload.get("v") != 1:
        raise CollectError("the collected answers are malformed")
    if payload.get("too_large"):
        raise CollectError("your answers were too large to collect (over 256 kB)")
    names, results = payload.get("names"), payload.get("calls")
    if type(names) is not dict or type(results) is not list or len(results) != len(calls):
        raise CollectError("the collected answers are incomplete")
    answers: dict[str, list[dict]] = {}
    try:
        for c, res in zip(calls, results, strict=True):
            if type(res) is not dict:
                raise CollectError("the collected answers are malformed")
            if "ok" in res:
                entry = {"value": wire.decode(res["ok"])}
                if "mutated" in res:
                    entry["mutated"] = wire.decode(res["mutated"])
            elif res.get("todo") is True:
                entry = {"todo": True}
            elif type(res.get("raised")) is list and len(res["raised"]) == 2:
                entry = {"raised": (_clean(res["raised"][0], 60) or "Exception", _clean(res["raised"][1]))}
            else:
                continue  # skipped: the name is not a function (the check says so)
            entry["rng"] = res.get("rng") is True
            answers.setdefault(c.key(), []).append(entry)
        ns: dict[str, Any] = {}
        for n in q.names:
            got = names.get(n)
            if type(got) is not dict or got.get("missing"):
                continue
            if viewable(key_refs.get(n), q, n) and (got.get("callable") is True or "value" in got):
                # an object the key judges through its views only; a placeholder stays one
                value = wire.decode(got["value"]) if "value" in got else None
                ns[n] = Ellipsis if value is Ellipsis else _Replay(n, answers)
            elif got.get("callable") is True:
                ns[n] = _Replay(n, answers) if callable(key_refs.get(n)) else _Function()
            elif "value" in got:
                ns[n] = wire.decode(got["value"])
    except wire.WireError as exc:
        raise CollectError(f"the collected answers are malformed ({exc})") from None
    return ns


@dataclass
class Verdict:
    ok: bool
    ename: str = ""
    message: str = ""

    def output(self):
        if self.ok:
            return nbformat.v4.new_output("stream", name="stdout", text=self.message + "\n")
        return nbformat.v4.new_output("error", ename=self.ename, evalue=self.message,
                                      traceback=[f"{self.ename}: {self.message}"])


def judge(q: Question, seed: int | None, payload: object, *, hidden: bool = False) -> Verdict:
    """The verdict of the key's check on a collected payload (see :func:`record` for ``seed``)."""
    try:
        names, recorded = record(q, seed, hidden=hidden)
        refs = q.references()
    except Exception as exc:  # the key's own bug: the cell fails with a message for the instructor
        return Verdict(False, "Incorrect", f"The grader could not check {q.label}: its answer key "
                       f"failed ({type(exc).__name__}: {str(exc)[:120]}); tell your instructor.")
    calls = [c for c, _ in recorded]
    try:
        ns = replay_values(q, refs, calls, payload)
    except CollectError as exc:
        return Verdict(False, "Incorrect", f"The grader could not check {q.label}: {exc}.")
    try:
        values = q._values_from(ns)
        _run_check(q, values, seed, hidden)
    except NotAttempted as exc:
        return Verdict(False, "NotAttempted", " ".join(str(exc).split()))
    except Incorrect as exc:
        return Verdict(False, "Incorrect", " ".join(str(exc).split()))
    except Exception as exc:  # a bug in the key, on hostile values: fail the cell, plainly
        return Verdict(False, "Incorrect",
                       f"The grader could not check {q.label} ({type(exc).__name__}); tell your instructor.")
    return Verdict(True, message=q.correct_text())


# --- the two hooks of grading.py --------------------------------------------------------------
def _test_cells(nb):
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            yield cell, str(meta.get("grade_id", ""))


def _which(source: str) -> tuple[str, bool] | None:
    if m := _HIDDEN.search(source):
        return m.group(1), True
    if m := _VISIBLE.search(source):
        return m.group(1), False
    return None


@functools.lru_cache(maxsize=16)
def _sources(solutions: str, mtime: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(Path(solutions).glob("*.ipynb")):
        for cell, gid in _test_cells(nbformat.read(path, as_version=4)):
            out[gid] = cell.source
    return out


def original_sources(course: Course, aid: str) -> dict[str, str]:
    """grade_id -> the test cell's source in ``solutions/<aid>`` (hidden tests included)."""
    folder = course.solutions / aid
    mtime = max((p.stat().st_mtime_ns for p in folder.glob("*.ipynb")), default=0)
    return _sources(str(folder), mtime)


def prepare(nb, course: Course, aid: str, student: str):
    """Replace the executed source of each graded test cell with its collecting plan (in place);
    return ``nb``. A no-op for an assignment without ``solutions/<aid>/key.py``."""
    key = load_key(course, aid)
    if key is None:
        return nb
    qs, sources, k = questions(key), original_sources(course, aid), secret(course)
    for cell, gid in _test_cells(nb):
        which = _which(sources.get(gid, ""))
        if which is None or which[0] not in qs:
            continue
        label, hidden = which
        try:
            names, recorded = record(qs[label], derive_seed(k, aid, student, gid), hidden=hidden)
            text = plan_text(names, [c for c, _ in recorded])
        except Exception as exc:  # the key's bug, not the student's: collect nothing, apply says so
            print(f"grader: solutions/{aid}/key.py: {label} failed for {student} ({exc})", file=sys.stderr)
            text = plan_text([], [])
        cell.source = f"{_COLLECT_HEAD}collect({text!r})"
    return nb


def _payloads(cell) -> list:
    found = []
    for out in cell.get("outputs", []) or []:
        data = out.get("data") if isinstance(out, dict) else None
        if isinstance(data, dict) and MIME in data:
            found.append(data[MIME])
    return found


def apply(nb, course: Course, aid: str, student: str) -> list[str]:
    """Judge each collecting cell of an executed notebook (in place): its outputs become the
    verdict and its source the original. Returns flags (``tamper:forged-collection`` when a
    cell carries more than one payload). A no-op without a key."""
    key = load_key(course, aid)
    if key is None:
        return []
    qs, sources, k = questions(key), original_sources(course, aid), secret(course)
    flags: list[str] = []
    for cell, gid in _test_cells(nb):
        source = sources.get(gid, "")
        which = _which(source)
        if which is None or which[0] not in qs:
            continue
        label, hidden = which
        found = _payloads(cell)
        if len(found) == 1:
            payload = found[0]
            try:  # nbformat keeps +json data parsed (as NotebookNodes): back to plain, bounded JSON
                try:
                    text = payload if isinstance(payload, str) else json.dumps(payload)
                except (TypeError, ValueError, RecursionError):
                    raise wire.WireError("not JSON") from None
                payload = wire.parse(text)
                verdict = judge(qs[label], derive_seed(k, aid, student, gid), payload, hidden=hidden)
            except wire.WireError:
                verdict = Verdict(False, "Incorrect", f"The grader could not check {label}: "
                                  "the collected answers are malformed.")
        else:
            if len(found) > 1 and "tamper:forged-collection" not in flags:
                flags.append("tamper:forged-collection")
            verdict = Verdict(False, "Incorrect", (
                f"The grader could not collect your answers for {label}: the cell did not finish "
                "normally (an error or a time-out before it, or code that interferes with the "
                "grader). Run the whole notebook from the top and check that it completes."))
        cell.outputs = [verdict.output()]
        cell.source = source
    return flags


def collecting_source(text: str) -> bool:
    """True if ``text`` is a collecting cell made by :func:`prepare`."""
    return text.startswith(_COLLECT_HEAD)


__all__ = ["prepare", "apply", "judge", "record", "load_key", "secret", "derive_seed", "parse_plan"]
