"""``grader progress``: a learner's progress board, from their own notebooks.

Runs each of the learner's notebooks with nbclient in a fresh kernel, **without a sandbox**: it is
the learner's own code, run by the learner on their own machine (do not point it at notebooks you
do not trust; instructors grade with ``grader grade``, which isolates student code). Nothing is
written to disk: the notebooks are executed in memory.

Each visible test cell (an nbgrader test cell other than the hidden-test placeholder) is judged by
its output: no error means it passed; an error gives the one-line reason and a code from
:mod:`grader.misconceptions` (``not-attempted`` is shown as *not attempted*). A question passes
when all its visible test cells pass. The share of the certificate is the share of the counted
modules' autograded questions that pass their visible checks; hidden tests and written answers
are judged when the work is graded.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import CELL_TIMEOUT_S, Course, UserError
from .misconceptions import classify, question_of
from .notebooks import (
    BEGIN_HIDDEN,
    HIDDEN_NOTICE,
    NotebookError,
    error_line,
    nbgrader_meta,
    read_notebook,
)

MAX_REASON_LINES = 4


@dataclass
class QuestionStatus:
    question: str
    state: str  # passed | failed | not attempted | written
    reason: str = ""


@dataclass
class ModuleStatus:
    assignment: str
    notebook: Path | None
    questions: list[QuestionStatus] = field(default_factory=list)
    problem: str = ""

    @property
    def autograded(self) -> list[QuestionStatus]:
        return [q for q in self.questions if q.state != "written"]

    @property
    def passed(self) -> int:
        return sum(q.state == "passed" for q in self.autograded)


@dataclass
class Progress:
    modules: list[ModuleStatus]

    @property
    def share(self) -> float:
        total = sum(len(m.autograded) for m in self.modules)
        return sum(m.passed for m in self.modules) / total if total else 0.0


def find_notebooks(course: Course, directory: Path, aids: list[str]) -> dict[str, Path | None]:
    """For each module: ``DIR/AID.ipynb`` or ``DIR/AID/AID.ipynb`` (or the one notebook in
    ``DIR/AID/``), else None."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory; pass the folder that holds your notebooks "
                        "(NN-name.ipynb or NN-name/NN-name.ipynb)")
    found: dict[str, Path | None] = {}
    for aid in aids:
        candidates = [directory / f"{aid}.ipynb", directory / aid / f"{aid}.ipynb"]
        sub = directory / aid
        if sub.is_dir():
            candidates += sorted(p for p in sub.glob("*.ipynb") if not p.name.startswith("."))
        found[aid] = next((p for p in candidates if p.is_file()), None)
    return found


def _visible_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
        return False
    return HIDDEN_NOTICE not in cell.source and BEGIN_HIDDEN not in cell.source


def judge(nb) -> list[QuestionStatus]:
    """Question statuses of an executed notebook, in notebook order."""
    order: list[str] = []
    cells: dict[str, list] = {}
    written: list[str] = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id", "")
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            written.append(gid)
        elif _visible_test(cell):
            q = question_of(gid)
            if q not in cells:
                order.append(q)
                cells[q] = []
            cells[q].append(cell)
    out = []
    for q in order:
        status = QuestionStatus(q, "passed")
        for cell in cells[q]:
            msg = error_line(cell)
            if msg is None:
                continue
            code = classify(nbgrader_meta(cell)["grade_id"], msg)
            reason = " ".join(msg.split(": ", 1)[-1].split())
            status = QuestionStatus(q, "not attempted" if code == "not-attempted" else "failed", reason)
            break
        out.append(status)
    out += [QuestionStatus(w, "written", "written answer: an instructor grades it") for w in written]
    return out


def run_notebook(path: Path, cell_timeout: int, on_cell=None):
    """Execute ``path`` in memory (cwd: its folder) with nbclient; return the executed notebook.

    The kernel talks over local sockets (IPC) in a private temporary folder, not TCP."""
    import tempfile

    from nbclient import NotebookClient

    from .notebooks import ipc_kernel_config

    nb = read_notebook(path)
    with tempfile.TemporaryDirectory(prefix="grader-progress-") as sockets:
        client = NotebookClient(nb, config=ipc_kernel_config(sockets), kernel_name="python3", timeout=cell_timeout,
                                allow_errors=True, resources={"metadata": {"path": str(path.parent)}})
        if on_cell is not None:
            client.on_cell_executed = lambda **_: on_cell()
        client.execute()  # owns its kernel: shuts it down at the end
    return nb


def run_progress(course: Course, directory: Path, *, aids: list[str] | None = None,
                 cell_timeout: int = CELL_TIMEOUT_S, progress: bool = True) -> Progress:
    """Run every module's notebook found in ``directory``; return the board's data. The modules
    are the certificate's (``certificate.toml``), else every assignment."""
    if aids is None:
        try:
            from .certify import load_policy

            aids = load_policy(course).assignments
        except UserError:
            aids = course.assignment_ids()
    found = find_notebooks(course, directory, aids)
    nbs = {}
    modules: dict[str, ModuleStatus] = {}
    for aid, path in found.items():
        modules[aid] = ModuleStatus(aid, path)
        if path is None:
            modules[aid].problem = "no notebook found"
            continue
        try:
            nbs[aid] = read_notebook(path)
        except NotebookError as exc:
            modules[aid].problem = str(exc)
    total = sum(len(nb.cells) for nb in nbs.values())
    bar = _bar(total, progress)
    for aid in nbs:
        mod = modules[aid]
        bar.set_description(aid[:24])
        try:
            executed = run_notebook(mod.notebook, cell_timeout, on_cell=lambda: bar.update(1))
        except Exception as exc:  # a kernel that dies, a timeout nbclient raises
            mod.problem = f"could not run: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''}"
            executed = None
        if executed is not None:
            mod.questions = judge(executed)
    bar.close()
    for aid, mod in modules.items():  # a module not run: its questions, not attempted
        if not mod.questions:
            src = course.source_notebooks(aid)
            if src:
                mod.questions = [QuestionStatus(q.question, "not attempted" if q.state != "written" else "written",
                                                q.reason if q.state == "written" else "")
                                 for q in judge(nbformat.read(src[0], as_version=4))]
    return Progress(list(modules.values()))


def board(p: Progress, width: int = 100) -> str:
    """The progress board as text, at most ``width`` columns."""
    marks = {"passed": "ok", "failed": "FAILED", "not attempted": "not attempted", "written": "written"}
    lines = []
    for m in p.modules:
        head = f"{m.assignment}: {m.passed}/{len(m.autograded)} questions pass"
        if m.problem:
            head += f" ({m.problem})"
        lines.append(head[:width])
        if m.notebook is None:  # not started: its questions need no list
            continue
        wide = max([8, *(len(q.question) for q in m.questions)])
        for q in m.questions:
            text = f"  {q.question:<{wide}} {marks[q.state]:<14}"
            if not q.reason or q.state == "not attempted":
                lines.append(text.rstrip()[:width])
                continue
            indent = " " * len(text)
            wrapped = textwrap.wrap(q.reason, max(20, width - len(text)), max_lines=MAX_REASON_LINES,
                                    placeholder=" ...")
            lines += [(text if i == 0 else indent) + part for i, part in enumerate(wrapped)]
    done = sum(m.passed for m in p.modules)
    total = sum(len(m.autograded) for m in p.modules)
    lines += ["", f"Certificate: {done}/{total} autograded questions pass their visible checks ({p.share:.0%}).",
              "Hidden tests and written answers are judged when your work is graded."]
    return "\n".join(lines)


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_description(self, d: str) -> None: ...
    def close(self) -> None: ...


def _bar(total: int, enabled: bool):
    if not enabled or not total:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="cell", file=sys.stderr, leave=False)
