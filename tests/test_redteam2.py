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
3. A certificate PDF with a result painted over (a white box, then "Overall: 12/12 (100 %) - with
   distinction") verified as VALID: ``check_pdf`` compared only the metadata and looked for the
   name, code and course in the text. Its pages are now compared with the certificate rendered
   again from the ledger.
4. ``grader export`` (csv, Canvas, Moodle) and the certificate ledger's CSV wrote the roster's
   names as they are: a name a student typed into the LMS (``=HYPERLINK(...)``) became a formula
   in the instructor's spreadsheet. Every cell now gets grades.csv's guard.
5. The answer key reached the sandbox: nbgrader copies every file of ``solutions/<aid>/`` that
   ``CourseDirectory.ignore`` does not name into the release, and the release's files are what
   ``/submission`` holds. The fixture course's config did not name ``key.py``: a submission
   listed ``/submission`` and found ``key.py`` there (a course of one's own would be the same).
   ``key.py`` and ``mutants.yml`` are now always ignored, whatever the config says.
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
    styled = clean_html('<style scoped>.dataframe td {color: red}</style><table></table>')
    assert "scoped" not in styled and "color" not in styled and "<table>" in styled
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


def test_a_certificate_with_a_result_painted_over_is_invalid(tmp_path):
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    from grader import certify

    key = tmp_path / "certificate.key"
    key.write_text("ab" * 32)
    key.chmod(0o600)
    body = {"version": 1, "student_id": "mallory", "name": "Mallory", "course": "A course",
            "issuer": "Test issuer", "date": "2026-11-29", "results": [["01-why-interpret", 6.0, 12.0]],
            "overall": [6.0, 12.0]}
    code = certify.sign(body, key.read_text().encode())
    pdf = certify.write_pdf(tmp_path / "mallory.pdf", body, code)
    certify.write_ledger(tmp_path, [{"code": code, "content": body, "pdf": pdf.name}])
    ledger = tmp_path / "ledger.json"
    assert certify.check_pdf(pdf, ledger, secret_file=key).valid

    overlay = FPDF(orientation="L", unit="mm", format="A4")
    overlay.add_page()
    overlay.set_fill_color(255, 255, 255)
    overlay.rect(40, 95, 220, 20, style="F")
    overlay.set_font("helvetica", "B", 11)
    overlay.set_xy(10, 100)
    overlay.cell(277, 7, "Overall: 12/12 (100 %) - with distinction", align="C")
    overlay.output(str(tmp_path / "overlay.pdf"))
    writer = PdfWriter(clone_from=str(pdf))
    writer.pages[0].merge_page(PdfReader(str(tmp_path / "overlay.pdf")).pages[0])
    edited = tmp_path / "edited.pdf"
    with open(edited, "wb") as fh:
        writer.write(fh)
    result = certify.check_pdf(edited, ledger, secret_file=key)
    assert not result.valid and "edited" in result.message, result.message
    # the code alone still verifies (the ledger is intact): the file is what was changed
    assert certify.check(code, ledger, secret_file=key).valid


@pytest.mark.parametrize("fmt", ["csv", "canvas", "moodle"])
def test_an_exported_name_never_starts_a_formula(tmp_path, fmt):
    import csv

    from nbgrader.api import Gradebook

    from grader.config import ensure_env_bin_on_path
    from grader.export import export

    ensure_env_bin_on_path()
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    evil = '=HYPERLINK("http://example.org/?"&A1,"x")'
    with Gradebook(url) as gb:
        gb.add_assignment(AID)
        gb.add_student("s1", first_name=evil, last_name="+SUM(1)", email="@cmd")
    out = tmp_path / f"grades-{fmt}.csv"
    export(out, db_url=url, fmt=fmt)
    with open(out, newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert any("HYPERLINK" in c for c in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not c[1:2].isdigit())]


@pytest.mark.parametrize("config", ["as-is", "no-ignore"])
def test_the_answer_key_never_reaches_a_release_or_a_sandbox(toy_course, tmp_path, config):
    from grader.release import generate

    if config == "no-ignore":  # a course of one's own whose config never heard of key.py
        cfg = toy_course.root / "nbgrader_config.py"
        cfg.write_text("c = get_config()\nc.CourseDirectory.course_id = 'mine'\n")
    aid = "98-checks"
    assert (toy_course.solutions / aid / "key.py").is_file()
    (toy_course.solutions / aid / "table.csv").write_text("x\n1\n")  # a data file: released
    generate(toy_course, aid, tmp_path / "release", f"sqlite:///{tmp_path / 'gradebook.db'}")
    released = sorted(p.name for p in (tmp_path / "release" / aid).iterdir())
    assert "table.csv" in released and "key.py" not in released and "mutants.yml" not in released
