"""Every converted assignment (one with ``solutions/<aid>/key.py``): nothing of its key reaches a
student (issue 10, "Done when", first item).

The scan uses the key's own names and values: its private functions and classes, the hidden
tests' seeds of the source notebook, and the single-value reference answers of ``references()``.
Searched: every released file of the assignment, its student module ``grader/checks/mNN.py``, its
precomputed data ``grader/checks/data/mNN.json``, and (for the key's function definitions) the
whole installable package. ``tests/test_judging.py`` tests the mechanism itself on 05.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from grader import judging
from grader.config import Course
from grader.precompute import data_path, module_name, out_of_date

COURSE = Course(ROOT)
KEYED = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/key.py"))
#: Helpers that the key shares with the generic check library by name (not key content).
GENERIC = {name for f in ("core.py", "values.py", "offline.py", "collect.py", "wire.py")
           for name in re.findall(r"^def (\w+)\(", (ROOT / "grader/checks" / f).read_text(), re.M)}


def test_at_least_one_assignment_is_converted():
    assert "05-evaluation-metrics" in KEYED


def _private_names(text: str) -> set[str]:
    defs = set(re.findall(r"^(?:def|class) (_\w+)\b", text, re.M))
    consts = set(re.findall(r"^(_[A-Z][A-Z0-9_]+)\s*=", text, re.M))
    return {n for n in defs | consts if len(n) >= 4} - GENERIC


def _student_files(aid: str) -> list[Path]:
    files = [p for p in (ROOT / "assignments" / aid).rglob("*") if p.is_file()]
    return files + [ROOT / "grader/checks" / f"{module_name(aid)}.py", data_path(aid)]


def _hidden_seeds(aid: str) -> set[str]:
    src = nbformat.read(ROOT / "solutions" / aid / f"{aid}.ipynb", as_version=4)
    return {m for c in src.cells if "BEGIN HIDDEN TESTS" in c.source
            for m in re.findall(r"seed\s*=\s*(\d+)", c.source)}


def _is_single(value) -> bool:
    """A single-value answer: a number, an option, a string, a list of names."""
    if isinstance(value, (bool, int, float, str)) and not callable(value):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)


def _float_forms(value) -> list[str]:
    """Regular expressions for the readable forms of a float answer with enough digits to be
    recognised (a short one like 0.5 could be anything in the data)."""
    if not isinstance(value, float) or isinstance(value, bool) or not math.isfinite(value):
        return []
    forms = {repr(value), f"{value:.6f}".rstrip("0"), f"{value:.4f}".rstrip("0")}
    # at least four significant digits after the point: 0.82 or 0.8200 could be anything
    return [re.escape(t) + r"(?!\d)" for t in forms
            if len(t.split(".")[-1].lstrip("0")) >= 4 and "e" not in t]


@pytest.mark.parametrize("aid", KEYED)
def test_key_is_instructor_only(aid):
    assert not (ROOT / "assignments" / aid / "key.py").exists()
    assert "key.py" in COURSE.nbgrader_config().CourseDirectory.ignore
    assert out_of_date(COURSE, aid) == [], f"run `grader release {aid}`"


@pytest.mark.parametrize("aid", KEYED)
def test_student_files_hold_no_private_name_or_hidden_seed(aid):
    names = _private_names((ROOT / "solutions" / aid / "key.py").read_text())
    seeds = _hidden_seeds(aid)
    assert names and seeds, (aid, names, seeds)
    for path in _student_files(aid):
        body = path.read_text(errors="ignore")
        for name in names:
            assert not re.search(rf"\b{name}\b", body), (path, name)
        for seed in seeds:
            assert not re.search(rf"seed\s*=\s*{seed}\b", body), (path, seed)
            if path.suffix in (".ipynb", ".py") and int(seed) >= 100:
                assert not re.search(rf"(?<![\d.]){seed}(?!\d)", body), (path, seed)


@pytest.mark.parametrize("aid", KEYED)
def test_no_package_file_defines_the_keys_functions(aid):
    names = {n for n in _private_names((ROOT / "solutions" / aid / "key.py").read_text())
             if not n.isupper() and not n.startswith("_Q")}
    keyed_modules = {f"{module_name(a)}.py" for a in KEYED}
    for path in (ROOT / "grader").rglob("*.py"):
        if re.fullmatch(r"m\d\d\.py", path.name) and path.name not in keyed_modules:
            continue  # a module not converted yet still holds its own references (issue 10)
        defined = set(re.findall(r"^\s*(?:def|class) (_\w+)\b", path.read_text(), re.M))
        assert not (defined & names) - GENERIC, (path, sorted(defined & names))


@pytest.mark.parametrize("aid", KEYED)
def test_single_value_answers_are_not_readable(aid):
    """Each single-value answer a question reads is stored hashed in the offline data, never as
    a value; and no float answer appears in readable form in the student's files. (A string
    answer can legitimately appear elsewhere, e.g. as one column name among many.)"""
    key = judging.load_key(COURSE, aid)
    data = json.loads(data_path(aid).read_text())
    bodies = {p: p.read_text(errors="ignore") for p in _student_files(aid)
              if p.suffix in (".json", ".py") or p.name == f"{aid}.ipynb"}
    for label, q in judging.questions(key).items():
        reads = data["questions"][label]["reads"]
        for name, value in q.references().items():
            if callable(value) or not _is_single(value) or name not in reads:
                continue
            assert "hashes" in reads[name] and "value" not in reads[name], (aid, label, name)
            for form in _float_forms(value):
                for path, body in bodies.items():
                    assert not re.search(r"(?<![\d.])" + form, body), (path, name, form)


@pytest.mark.parametrize("key", sorted((ROOT / "editions").glob("*/*/key.py")),
                         ids=lambda p: f"{p.parent.parent.name}-{p.parent.name}")
def test_a_retired_editions_key_stays_out_of_the_student_package(key):
    """A retired edition (grader/editions.py) keeps its key beside its frozen release; the
    student-side module it imports (e.g. grader/checks/m05_edition1.py) and the installed data
    must hold none of the key's private names, like any current key's."""
    names = _private_names(key.read_text())
    assert names
    student = list((ROOT / "grader" / "checks").glob("m*.py")) + list((ROOT / "grader" / "checks" / "data").glob("*.json"))
    for path in student:
        body = path.read_text(errors="ignore")
        found = [n for n in names if re.search(rf"\b{n}\b", body)]
        assert not found, (path, found)
    assert not list((ROOT / "assignments").rglob("key.py"))
