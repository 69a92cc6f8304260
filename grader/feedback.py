"""Per-student feedback HTML that names what went wrong and never shows hidden test source.

nbgrader's own feedback (``generate_feedback``) renders the autograded notebook as it is, hidden
tests included (nbgrader issues #917, #1363). Here the notebook is first *scrubbed*: every hidden
test region is replaced by a one-line notice, and the error outputs of test cells are cut down
to their one-line message (a traceback could quote hidden test lines). Then nbgrader's feedback
template renders it, with a summary table of every test and its message on top.

Outputs are hostile data, so the page is also *bounded* (:func:`bound`): only plain text and
PNG/JPEG images are rendered (HTML, JavaScript, SVG and the like become their plain-text form
or a notice), at most :data:`MAX_OUTPUTS_PER_CELL` outputs of :data:`MAX_TEXT_CHARS` each, and
:data:`MAX_PAGE_OUTPUT_BYTES` in all; the student's own Markdown is shown with its HTML escaped.
Rendering a bounded page is bounded work; a :class:`grader.config.Deadline` is checked between
the steps.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode

from .notebooks import BEGIN_HIDDEN, END_HIDDEN, is_test_cell, strip_hidden_tests

if TYPE_CHECKING:
    from .config import Deadline
    from .results import SubmissionResult

#: What one feedback page renders at most (outputs beyond these become a one-line notice).
MAX_OUTPUTS_PER_CELL = 20
MAX_TEXT_CHARS = 20_000
MAX_PAGE_OUTPUT_BYTES = 4 * 2**20
#: Output data rendered as such; any other kind is shown as its text/plain form.
SHOWN_MIMETYPES = ("text/plain", "image/png", "image/jpeg")
_TEXT_NOTICE = "\n[... cut by the grader: the output was longer than {} characters]\n"


def _notice(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=f"[{text}]\n")


def _cut(text: object) -> str:
    if isinstance(text, list):
        text = "".join(t for t in text if isinstance(t, str))
    if not isinstance(text, str):
        return ""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + _TEXT_NOTICE.format(MAX_TEXT_CHARS)


def bound(nb: NotebookNode) -> NotebookNode:
    """Bound what a page renders (in place): see the module's docstring."""
    budget = MAX_PAGE_OUTPUT_BYTES
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
            cell.source = html.escape(_cut(cell.source), quote=False)
        if cell.cell_type != "code":
            continue
        kept = []
        for i, out in enumerate(cell.get("outputs", [])):
            if i >= MAX_OUTPUTS_PER_CELL:
                kept.append(_notice(f"{len(cell.outputs) - i} more outputs not shown"))
                break
            kind = out.get("output_type")
            if kind == "stream":
                out["text"] = _cut(out.get("text", ""))
            elif kind == "error":
                out["ename"], out["evalue"] = _cut(out.get("ename", "")), _cut(out.get("evalue", ""))
                out["traceback"] = [_cut(t) for t in out.get("traceback", [])[:MAX_OUTPUTS_PER_CELL]]
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                shown = {k: (_cut(v) if k == "text/plain" else v) for k, v in data.items()
                         if k in SHOWN_MIMETYPES and isinstance(v, (str, list))}
                if not shown:
                    shown = {"text/plain": f"[{', '.join(sorted(data))[:200]} output not shown here]"}
                out["data"], out["metadata"] = shown, {}
            else:
                continue
            size = len(json.dumps(out))
            if size > budget:
                kept.append(_notice("further outputs not shown: the page is at its size limit"))
                budget = 0
                break
            budget -= size
            kept.append(out)
        cell["outputs"] = kept
    return nb


def _hidden_lines(nb: NotebookNode) -> set[str]:
    lines: set[str] = set()
    for cell in nb.cells:
        if is_test_cell(cell) and BEGIN_HIDDEN in cell.source:
            inside = False
            for line in cell.source.splitlines():
                if line.strip() == BEGIN_HIDDEN:
                    inside = True
                elif line.strip() == END_HIDDEN:
                    inside = False
                elif inside and len(line.strip()) >= 6:
                    lines.add(line.strip())
    return lines


def _quotes(out: dict, secrets: set[str]) -> bool:
    text = json.dumps(out)
    return any(json.dumps(secret)[1:-1] in text for secret in secrets)


def scrub(nb: NotebookNode) -> NotebookNode:
    """A copy of a graded notebook that is safe to show the student.

    Hidden test regions become a one-line notice, test-cell tracebacks shrink to their message,
    and any output that quotes a hidden test line (a student can print IPython's input history)
    is replaced by a notice.
    """
    nb = copy.deepcopy(nb)
    secrets = _hidden_lines(nb)
    for cell in nb.cells:
        if secrets and cell.get("outputs"):
            cell["outputs"] = [
                nbformat.v4.new_output("stream", name="stdout", text="[output removed: it quoted hidden test code]\n")
                if _quotes(out, secrets) else out
                for out in cell["outputs"]
            ]
        if not is_test_cell(cell):
            continue
        if BEGIN_HIDDEN in cell.source:
            cell.source = strip_hidden_tests(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    return nb


def summary_markdown(result: SubmissionResult) -> str:
    """A summary of every autograded test (points and its one-line message), as HTML in Markdown."""
    auto_max = sum(c.max_points for c in result.cells)
    pending = " (written answers are graded by your instructor)" if result.needs_manual_grade else ""
    rows = []
    for cell in result.cells:
        got = "–" if cell.points is None else f"{cell.points:g}"
        passed = cell.points is not None and cell.points >= cell.max_points
        said = html.escape(cell.message or "passed")
        style = "success" if passed else "danger"
        rows.append(
            f'<tr class="{style}"><td><code>{html.escape(cell.grade_id)}</code></td>'
            f"<td>{got} / {cell.max_points:g}</td><td>{said}</td></tr>"
        )
    notes = f"<p>Notes from the grader: {html.escape(', '.join(result.flags))}.</p>" if result.flags else ""
    return (
        f"## Feedback for {html.escape(result.student_id)}: {html.escape(result.assignment)}"
        + (f" (edition {html.escape(str(result.edition))})" if getattr(result, "edition", "") else "")
        + "\n\n"
        f"<p><strong>Autograded score: {result.auto_score:g} / {auto_max:g}</strong>{pending}</p>\n"
        '<table class="table table-condensed">'
        "<thead><tr><th>test</th><th>points</th><th>what the check said</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{notes}"
    )


def _put_grades(nb: NotebookNode, resources: dict, grades: dict) -> None:
    """What nbgrader's GetGrades reads from the gradebook, from ``grades`` instead:
    ``{"cells": {grade_id: {"score", "points", "comment"}}, "score", "max_score"}``."""
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        got = grades["cells"].get(meta.get("grade_id"), {})
        if meta.get("solution") or meta.get("task"):
            meta["comment"] = got.get("comment")
        if meta.get("grade") or meta.get("task"):
            meta["score"], meta["points"] = got.get("score"), got.get("points", meta.get("points"))
    resources["nbgrader"].update(score=grades["score"], max_score=grades["max_score"], late_penalty=0)


def render(nb: NotebookNode, resources: dict, result: SubmissionResult | None = None,
           deadline: Deadline | None = None, grades: dict | None = None) -> str:
    """HTML feedback for one graded notebook (``resources`` as for nbgrader's GetGrades, which
    reads the scores from the gradebook unless ``grades`` gives them, see :func:`_put_grades`).

    Raises :class:`grader.config.OverBudget` if ``deadline`` passes between its steps.
    """
    from nbgrader.preprocessors import GetGrades

    check = deadline.check if deadline is not None else (lambda: None)
    check()
    safe = scrub(bound(copy.deepcopy(nb)))
    if result is not None:
        safe.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(result)))
    check()
    resources = copy.deepcopy(resources)
    if grades is not None:
        _put_grades(safe, resources, grades)
    else:
        safe, resources = GetGrades().preprocess(safe, resources)
    check()
    body, _ = _exporter().from_notebook_node(safe, resources=resources)
    check()
    return body


@functools.lru_cache(maxsize=1)
def safe_html_exporter() -> type:
    """nbconvert's ``HTMLExporter`` made safe for pages that show a submission: Markdown (every
    cell's, whatever the template) and HTML or Markdown outputs pass through
    :func:`grader.safetext.clean_html`, and JavaScript outputs are not rendered
    (``sanitize_html``). nbgrader's formgrade and feedback templates render Markdown cells
    without nbconvert's sanitiser, so a student's ``<script>`` would otherwise run in the page."""
    from nbconvert.exporters import HTMLExporter

    from .safetext import clean_html

    class SafeHTMLExporter(HTMLExporter):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.sanitize_html = True

        def default_filters(self):
            yield from super().default_filters()
            yield ("clean_html", clean_html)

        def markdown2html(self, context, source):
            return clean_html(HTMLExporter.markdown2html(self, context, source))

        markdown2html.jinja_pass_arg = HTMLExporter.markdown2html.jinja_pass_arg

    return SafeHTMLExporter


@functools.lru_cache(maxsize=1)
def _exporter():
    """nbgrader's feedback template, loaded once (compiling it costs more than rendering)."""
    import nbgrader
    from nbconvert.exporters import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    cfg = Config()
    cfg.HTMLExporter.template_name = "feedback"
    cfg.HTMLExporter.extra_template_basedirs = [str(templates)]
    bootstrap = templates.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    cfg.HTMLExporter.extra_template_paths = [str(bootstrap)]

    class FeedbackExporter(safe_html_exporter()):
        """:func:`safe_html_exporter` without its second pass when it has nothing to do.

        HTMLExporter re-parses its whole output with BeautifulSoup to give images alt text and
        JupyterLab-style cells a tabindex, which costs more than rendering the page. nbgrader's
        feedback template has classic markup (no such cells), so the pass matters only for a
        page with an image; without one the page is rendered as the template produces it.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            if any(k.startswith("image/") for c in nb.cells for o in c.get("outputs", [])
                   for k in o.get("data", {})):
                return super().from_notebook_node(nb, resources, **kw)
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = FeedbackExporter(config=cfg)
    from .mathjax import FEEDBACK_URL, use_local  # MathJax from OUT/feedback/mathjax, not a CDN

    use_local(exporter, FEEDBACK_URL)
    return exporter


def write_feedback(nb: NotebookNode, resources: dict, path: Path, result: SubmissionResult) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render(nb, resources, result), encoding="utf-8", errors="replace")
    os.replace(tmp, path)
    return path
