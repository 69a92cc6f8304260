"""Per-student feedback HTML that names what went wrong and never shows hidden test source.

nbgrader's own feedback (``generate_feedback``) renders the autograded notebook as it is, hidden
tests included (nbgrader issues #917, #1363). Here the notebook is first *scrubbed*: every hidden
test region is replaced by a one-line notice, and the error outputs of test cells are cut down
to their one-line message (a traceback could quote hidden test lines). Then nbgrader's feedback
template renders it, with a summary table of every test and its message on top.
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
    from .grading import SubmissionResult


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
        f"## Feedback for {html.escape(result.student_id)}: {html.escape(result.assignment)}\n\n"
        f"<p><strong>Autograded score: {result.auto_score:g} / {auto_max:g}</strong>{pending}</p>\n"
        '<table class="table table-condensed">'
        "<thead><tr><th>test</th><th>points</th><th>what the check said</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{notes}"
    )


def render(nb: NotebookNode, resources: dict, result: SubmissionResult | None = None) -> str:
    """HTML feedback for one graded notebook (``resources`` as for nbgrader's GetGrades)."""
    from nbgrader.preprocessors import GetGrades

    safe = scrub(nb)
    if result is not None:
        safe.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(result)))
    resources = copy.deepcopy(resources)
    safe, resources = GetGrades().preprocess(safe, resources)
    body, _ = _exporter().from_notebook_node(safe, resources=resources)
    return body


@functools.lru_cache(maxsize=1)
def _exporter():
    """nbgrader's feedback template, loaded once (compiling it costs more than rendering)."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    cfg = Config()
    cfg.HTMLExporter.template_name = "feedback"
    cfg.HTMLExporter.extra_template_basedirs = [str(templates)]
    bootstrap = templates.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    cfg.HTMLExporter.extra_template_paths = [str(bootstrap)]

    class FeedbackExporter(HTMLExporter):
        """HTMLExporter without its second pass when it has nothing to do.

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
    tmp.write_text(render(nb, resources, result), encoding="utf-8")
    os.replace(tmp, path)
    return path
