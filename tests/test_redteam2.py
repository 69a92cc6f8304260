"""Findings of the second red-team review (2026-11-29: the engine in grader/engine/, judgement
outside the kernel, models crossing only as recipes), each kept as a test of its whole kind.

1. A submission's Markdown and HTML outputs ran as script in the instructor's formgrader page
   (nbgrader's formgrade template renders Markdown cells unsanitised and ``text/html`` and
   ``application/javascript`` outputs as they are), with the instructor's Jupyter session, whose
   API starts kernels: student code ran as the instructor, outside every sandbox. The page is now
   rendered sanitised (``grader.formgrader.formgrade_exporter``; ``tests/test_formgrader.py``
   grades such a submission and reads its page from a running formgrader).
2. The feedback page escaped a student's Markdown HTML but kept its links: ``[x](javascript:...)``
   became a live ``javascript:`` link. Links and images now keep only http(s), mailto and
   relative addresses.
"""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT
from test_formgrader import live_markup

from grader.safetext import clean_html

AID = "99-toy"


@pytest.mark.parametrize("markup", [
    '<script>window.XSS=1</script>',
    '<img src=x onerror="window.XSS=1">',
    '<svg onload="window.XSS=1"></svg>',
    '<a href="javascript:window.XSS=1">x</a>',
    '<a href="JaVaScRiPt:window.XSS=1">x</a>',
    '<a href="java&#x09;script:window.XSS=1">x</a>',
    '<iframe src="javascript:window.XSS=1"></iframe>',
    '<details open ontoggle="window.XSS=1">x</details>',
    '<p style="background:url(javascript:window.XSS=1)">x</p>',
    '<!--><script>window.XSS=1</script>-->',
])
def test_clean_html_leaves_no_live_script(markup):
    page = clean_html(markup)
    assert live_markup(page) == [] and "<script" not in page and "style=" not in page, page


def test_clean_html_keeps_what_markdown_and_pandas_write():
    page = clean_html('<h2 id="t">Title<a class="anchor-link" href="#t">¶</a></h2><p><em>a</em> '
                      '<a href="https://example.org">link</a> <img src="fig.png" alt="f"></p>'
                      '<table class="dataframe"><thead><tr><th>x</th></tr></thead>'
                      '<tbody><tr><td>1</td></tr></tbody></table>')
    for kept in ('<h2 id="t">', 'href="https://example.org"', '<img src="fig.png" alt="f">',
                 "<thead>", "<td>1</td>"):
        assert kept in page, page


def test_a_feedback_page_keeps_no_javascript_link_from_the_students_markdown():
    from grader.feedback import render

    nb = nbformat.read(ROOT / "tests" / "fixtures" / "course" / "solutions" / AID / f"{AID}.ipynb",
                       as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(
        "see [my answer](javascript:window.LINKXSS=1) and ![f](javascript:window.IMGXSS=1) and "
        "[ref][1]\n\n[1]: javascript:window.REFXSS=1\n"))
    resources = {"nbgrader": {"assignment": AID, "notebook": AID, "student": "s", "db_url": "unused"},
                 "metadata": {"path": ""}}
    page = render(nb, resources, None, grades={"cells": {}, "score": 0, "max_score": 5})
    assert "my answer" in page and "ref" in page
    assert live_markup(page) == [], live_markup(page)
