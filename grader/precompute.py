"""Precompute the offline visible checks of a converted assignment from its answer key.

``grader release`` calls :func:`write` for each assignment with ``solutions/<aid>/key.py``. It
writes ``grader/checks/data/mNN.json`` (package data, read by :mod:`grader.checks.offline`):

- per question, the visible plan (the calls the key's ``verify`` makes, on its fixed inputs),
  the reference result of each call (plain), each variable's reference: single values (numbers,
  options, strings, lists of names) as salted hashes quantised at the question's ``tolerance``,
  anything else plain;
- per catalogued mistake (``mutants.yml``), where its answers first differ from the reference,
  its answer there (hashed for single values) and the message the key's ``verify`` gives it
  (for a hashed answer, sealed with a key derived from that answer: it may explain the right one).

The mistakes' answers come from the source notebook itself: its setup and answer cells run once in
a local kernel (nbclient; instructor code, no sandbox), then each mutant's answer cell runs, its
answers are collected for the question's plan (:mod:`grader.checks.collect`), and the original
cell runs again. :func:`build` also proves the offline path: every mutant must fail the offline
check, and with its ``expect`` text when it has one.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import nbformat
import numpy as np

from . import judging
from .checks import wire
from .checks.collect import MIME, plan_text
from .checks.core import Incorrect
from .checks.offline import _kind, as_names, canon_forms, canon_hashes, compare, seal, single
from .config import Course, UserError
from .notebooks import find_cell, ipc_kernel_config, nbgrader_meta, replace_solution

DATA_DIR = Path(__file__).resolve().parent / "checks" / "data"


def module_name(aid: str) -> str:
    """``05-evaluation-metrics`` -> ``m05`` (the student-side module of the assignment)."""
    return "m" + aid[:2]


def data_path(aid: str) -> Path:
    return DATA_DIR / f"{module_name(aid)}.json"


def digest(course: Course, aid: str) -> str:
    """What the precomputed data depends on: the key, the source notebook(s), the mutants."""
    folder = course.solutions / aid
    h = hashlib.sha256()
    for path in [folder / "key.py", folder / "mutants.yml", *course.source_notebooks(aid)]:
        if path.exists():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _entry(q, salt: str) -> dict:
    names, recorded = judging.record(q, None)
    refs = q.references()
    tol = dict(getattr(q, "tolerance", None) or {"rtol": 1e-6, "atol": 1e-9})
    functions = [n for n in q.names if callable(refs[n])]
    objects = [n for n in q.names if n not in functions and judging.viewable(refs[n], q, n)]
    reads: dict[str, dict] = {}
    for n in q.names:
        if n in functions or n in objects:
            continue
        ref, kind = refs[n], _kind(refs[n])
        if kind == "seq" and ref and all(type(v) in (str, np.str_) for v in ref):
            ordered = n not in getattr(q, "unordered", ())
            canon = as_names([str(v) for v in ref], n, ordered)
            reads[n] = {"kind": "names", "ordered": ordered, "quantum": None,
                        "hashes": canon_hashes(canon, salt, n, None, neighbours=False)}
        elif (form := q.canonical(n, ref)) is not None:  # a structured single value: hashed whole
            reads[n] = {"kind": "canon", "quantum": None,
                        "hashes": canon_hashes(form, salt, n, None, neighbours=False)}
        elif kind in ("int", "float", "str", "bool"):
            quantum = max(tol["atol"], tol["rtol"]) if kind == "float" else None
            reads[n] = {"kind": "float" if kind == "float" else kind, "quantum": quantum,
                        "hashes": canon_hashes(ref, salt, n, quantum, neighbours=False)}
        elif kind == "other" and type(wire.facts(ref)) is wire.Fitted:
            # a fitted estimator (e.g. a tree): its facts would show the answers read from it
            facts = wire.facts(ref)
            reads[n] = {"kind": "fitted", "type": facts.type, "quantum": None,
                        "hashes": canon_hashes(facts, salt, n, None)}
        else:
            reads[n] = {"value": wire.encode(ref)}
    extra = {"rng_message": q.global_rng_message} if getattr(q, "global_rng_message", "") else {}
    if getattr(q, "ordered", ()):  # names whose labelled Series must come in the key's order
        extra["ordered"] = sorted(q.ordered)
    return {
        **extra,
        "names": names, "functions": functions, "tolerance": tol, "reads": reads,
        **({"objects": objects} if objects else {}),
        "calls": [c.row() for c, _ in recorded],
        "results": [wire.encode(r) for _, r in recorded],
        "mutants": [],
    }


def _collect_in_kernel(client, nb, text: str) -> dict:
    cell = nbformat.v4.new_code_cell(f"from grader.checks.collect import collect\ncollect({text!r})")
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    nb.cells.pop()
    for out in cell.outputs:
        if MIME in out.get("data", {}):
            return json.loads(json.dumps(out["data"][MIME]))
    raise UserError(f"the collector emitted nothing ({[o.get('ename') for o in cell.outputs]})")


def _run_mutants(course: Course, aid: str, plans: dict[str, str]) -> tuple[dict, dict]:
    """Payloads of the solution (per question) and of each mutant, collected in a local kernel."""
    from nbclient import NotebookClient

    from .mutants import load_mutants, question_of

    (src,) = course.source_notebooks(aid)
    nb = nbformat.read(src, as_version=4)
    sockets = tempfile.TemporaryDirectory(prefix="grader-precompute-")
    client = NotebookClient(nb, config=ipc_kernel_config(sockets.name), timeout=120,
                            kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(src.parent)}})
    solution, mutants = {}, {}
    with sockets, client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            meta = nbgrader_meta(cell)
            if cell.cell_type == "code" and not (meta.get("grade") and not meta.get("solution")):
                client.execute_cell(cell, i)
        for label, text in plans.items():
            solution[label] = _collect_in_kernel(client, nb, text)
        for m in load_mutants(course, aid):
            label = question_of(m.cell)[:-1]
            if label not in plans:
                continue
            cell = find_cell(nb, m.cell)
            index = nb.cells.index(cell)
            original = cell.source
            cell.source = replace_solution(original, m.code)
            client.execute_cell(cell, index)
            mutants[m.id] = (m, label, _collect_in_kernel(client, nb, plans[label]))
            cell.source = original
            client.execute_cell(cell, index)
    return solution, mutants


def build(course: Course, aid: str) -> tuple[dict, list[str]]:
    """The precomputed data of ``aid`` and the problems found (a mutant the offline check does
    not catch or does not name)."""
    def broken(what: str, exc: BaseException) -> UserError:
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        return UserError(f"solutions/{aid}/key.py: {what} ({why}); fix the key, then run "
                         f"`grader release {aid}` again")

    try:
        key = judging.load_key(course, aid)
        qs = judging.questions(key) if key is not None else {}
    except Exception as exc:  # an instructor's key with a bug: one line, not a traceback
        raise broken("cannot be loaded (it must define QUESTIONS)", exc) from None
    if key is None:
        raise UserError(f"solutions/{aid}/key.py is missing: {aid} is not converted")
    salt = hashlib.sha256(b"salt|" + (course.solutions / aid / "key.py").read_bytes()).hexdigest()[:16]
    entries = {}
    for label, q in qs.items():
        try:
            entries[label] = _entry(q, salt)
        except Exception as exc:
            raise broken(f"{label}: its references() or its visible check fail on the references",
                         exc) from None
    plans = {label: plan_text(e["names"], [judging.Call.from_row(c, objects=True) for c in e["calls"]])
             for label, e in entries.items()}
    solution, mutants = _run_mutants(course, aid, plans)
    problems: list[str] = []
    verdicts: dict[str, judging.Verdict] = {}
    for label, payload in solution.items():
        verdict = judging.judge(qs[label], None, payload)
        if not verdict.ok:
            problems.append(f"{aid}: the solution fails the visible {label} check ({verdict.message})")
    for mid, (_m, label, payload) in mutants.items():
        q, entry = qs[label], dict(entries[label], salt=salt)
        verdict = judging.judge(q, None, payload)
        verdicts[mid] = verdict
        if verdict.ok:  # caught by the hidden test only (e.g. a rounded value)
            continue
        try:
            where = compare(q, entry, payload, with_mutants=False)
        except Incorrect:
            where = None  # a tier message (not attempted, a crash) names it already
        if where is None:
            continue
        record = {"at": list(where), "ename": verdict.ename, "message": verdict.message, "id": mid}
        if where[0] == "call":
            res = payload["calls"][where[1]]
            if "raised" in res:
                record["raised"] = res["raised"][0]
            else:
                record["value"] = res["ok"]
                if res.get("mutated"):
                    record["mutated"] = True
        else:
            spec = entry["reads"][where[1]]
            got = payload["names"].get(where[1], {})
            if "value" not in got:
                continue
            if "hashes" in spec:
                try:
                    value = single(q, wire.decode(got["value"]), spec, where[1])
                except Incorrect:
                    continue
                if not canon_forms(value, spec.get("quantum"), neighbours=False):
                    continue
                form = canon_forms(value, spec.get("quantum"), neighbours=False)[0]
                record["hash"] = canon_hashes(value, salt, where[1], spec.get("quantum"),
                                              neighbours=False)[0]
                # The message may tell the right answer ("ICE is local"): only this answer opens it.
                record["sealed"] = seal(record.pop("message"), salt, where[1], form)
            else:
                record["value"] = got["value"]
        entries[label]["mutants"].append(record)
    for label, payload in solution.items():  # the offline check must pass the solution too
        try:
            compare(qs[label], dict(entries[label], salt=salt), payload)
        except Incorrect as exc:
            problems.append(f"{aid}: the solution fails the offline {label} check ({str(exc)[:160]!r})")
    for mid, (m, label, payload) in mutants.items():
        entry = dict(entries[label], salt=salt)
        said = verdicts[mid].message
        try:
            compare(qs[label], entry, payload)
        except Incorrect as exc:
            if verdicts[mid].ok:
                problems.append(f"{aid}: mutant {mid} passes the key's visible {label} check but "
                                f"fails the offline one ({str(exc)[:160]!r})")
            elif m.expect and m.expect.lower() in said.lower() and m.expect.lower() not in str(exc).lower():
                problems.append(f"{aid}: mutant {mid}: the offline {label} check does not name the "
                                f"mistake (expected {m.expect!r}; it said {str(exc)[:160]!r})")
            continue
        if not verdicts[mid].ok:
            problems.append(f"{aid}: mutant {mid} passes the offline {label} check")
    data = {"assignment": aid, "digest": digest(course, aid), "salt": salt, "questions": entries}
    return data, problems


def write(course: Course, aid: str) -> tuple[Path, list[str]]:
    """Build and write ``grader/checks/data/mNN.json``; return its path and the problems found."""
    data, problems = build(course, aid)
    path = data_path(aid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    return path, problems


def out_of_date(course: Course, aid: str) -> list[str]:
    """Problems if ``aid`` is converted and its precomputed data is missing or stale."""
    if not judging.key_path(course, aid).is_file():
        return []
    path = data_path(aid)
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError):
        stored = None
    if stored != digest(course, aid):
        return [f"grader/checks/data/{path.name} is missing or older than solutions/{aid}/key.py, "
                f"its notebook or mutants.yml; run `grader release {aid}`"]
    return []
