"""The instructor's whole cycle on the fixture course: roster, due date, `grade`, the formgrader
(manual grading through its REST API), `feedback` and `export` (csv, Canvas, Moodle).

One class is graded once for the module (99-toy, about 20 s here):
  ontime  the solution, submitted before the due date (nbgrader's timestamp.txt)
  late    the solution, submitted exactly two days after the due date
  blank   the released notebook, untouched (no timestamp)
  broken  invalid notebook JSON
with a per-day late penalty of 10 % (grader.late.PerDayPenalty, set in nbgrader_config.py).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE, run_grader

AID = "99-toy"
HIDDEN = "assert double(-4) == -8"  # the hidden test's code (tests/fixtures/course/solutions)
DUE = "2026-12-01T23:59"


HOSTILE_MARKDOWN = ('Note <script>window.MDXSS=1</script><img src=x onerror="window.IMGXSS=1"> '
                    '[see](javascript:window.LINKXSS=1)')
HOSTILE_OUTPUTS = ("from IPython.display import HTML, Javascript, display\n"
                   "display(HTML('<img src=x onerror=\"window.OUTXSS=1\">'))\n"
                   "display(Javascript('window.JSXSS=1'))\n")


def _add_hostile_markup(path: Path) -> None:
    """A student's own cells whose Markdown and outputs carry script (the red-team review of
    2026-11-29: they ran in the formgrader page, with the instructor's Jupyter session)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN),
                 nbformat.v4.new_code_cell(HOSTILE_OUTPUTS)]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("formgrader")
    course = tmp / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.AssignLatePenalties.plugin_class = "grader.late.PerDayPenalty"\n'
                 "c.PerDayPenalty.percent_per_day = 10\n")
    subs = tmp / "submitted"
    stamps = {"ontime": "2026-12-01 20:00:00.000000 UTC", "late": "2026-12-03 23:59:00.000000 UTC"}
    for sid in ("ontime", "late", "blank", "broken"):
        d = subs / sid / AID
        d.mkdir(parents=True)
        if sid == "broken":
            (d / f"{AID}.ipynb").write_text('{"cells": [')
        else:
            src = (course / ("assignments" if sid == "blank" else "solutions") / AID / f"{AID}.ipynb")
            shutil.copy(src, d / f"{AID}.ipynb")
        if sid == "late":  # markup that would run in the instructor's formgrader page
            _add_hostile_markup(d / f"{AID}.ipynb")
        if sid in stamps:
            (d / "timestamp.txt").write_text(stamps[sid] + "\n")
    roster = tmp / "students.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "ontime,Ada,Lovelace,ada@example.org\nlate,Alan,Turing,alan@example.org\n")
    out = tmp / "out"
    for args in (["duedate", AID, DUE, "--out", str(out)],
                 ["roster", "import", str(roster), "--out", str(out)],
                 ["grade", AID, "--submissions", str(subs), "--out", str(out), "--quiet"]):
        proc = run_grader(*args, cwd=course)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return course, subs, out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _export(graded, fmt: str, name: str) -> Path:
    course, _, out = graded
    dest = out.parent / name
    proc = run_grader("export", "--out", str(out), "--format", fmt, "--to", str(dest), cwd=course)
    assert proc.returncode == 0, proc.stderr
    return dest


def test_two_days_late_costs_the_configured_penalty_everywhere(graded):
    from nbgrader.api import Gradebook

    course, subs, out = graded
    rows = {r["student_id"]: r for r in _csv(out / "grades.csv")}
    assert rows["ontime"]["score"] == "4" and "late" not in rows["ontime"]["flags"]
    assert rows["late"]["score"] == "3.2" and "late:2d" in rows["late"]["flags"]  # 4 - 2 days x 10 %
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        late = gb.find_submission(AID, "late")
        assert late.timestamp.isoformat() == "2026-12-03T23:59:00"
        assert late.total_seconds_late == 2 * 86400
        assert late.late_submission_penalty == pytest.approx(0.8)
        assert gb.find_submission(AID, "ontime").late_submission_penalty == 0
        assert gb.find_assignment(AID).duedate.isoformat() == "2026-12-01T23:59:00"
    exported = {r["student_id"]: r for r in _csv(_export(graded, "csv", "late.csv"))}
    assert exported["late"]["score"] == "3.2" and exported["late"]["late_penalty"] == "0.8"
    assert exported["late"]["timestamp"] == "2026-12-03T23:59:00"
    assert exported["ontime"]["late_penalty"] == "0"


def test_export_carries_status_reason_names_and_consistent_numbers(graded):
    rows = {r["student_id"]: r for r in _csv(_export(graded, "csv", "all.csv"))}
    assert rows["broken"]["status"] == "error" and "not valid notebook JSON" in rows["broken"]["reason"]
    assert rows["ontime"]["first_name"] == "Ada" and rows["ontime"]["email"] == "ada@example.org"
    assert rows["ontime"]["auto_score"] == "4" and rows["ontime"]["needs_manual_grade"] == "yes"
    numbers = [r[c] for r in rows.values() for c in ("score", "max_score", "auto_score", "manual_score")]
    assert all(re.fullmatch(r"\d+(\.\d{1,2})?", n) and not n.endswith(".0") for n in numbers), numbers


def test_canvas_layout(graded):
    path = _export(graded, "canvas", "canvas.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", AID]
    assert table[1][0] == "Points Possible" and table[1][5] == "5"
    by_sis = {row[2]: row for row in table[2:]}
    assert set(by_sis) == {"ontime", "late", "blank", "broken"}
    assert by_sis["ontime"][0] == "Lovelace, Ada" and by_sis["ontime"][3] == "ada@example.org"
    assert by_sis["late"][5] == "3.2" and by_sis["broken"][5] == "0"
    assert all(len(row) == 6 for row in table)


def test_moodle_layout(graded):
    path = _export(graded, "moodle", "moodle.csv")
    rows = _csv(path)
    assert list(rows[0]) == ["First name", "Last name", "ID number", "Email address", AID]
    by_id = {r["ID number"]: r for r in rows}
    assert by_id["late"]["Email address"] == "alan@example.org" and by_id["late"][AID] == "3.2"
    assert by_id["blank"][AID] == "0"


def test_feedback_pages_load_no_script_or_style_from_the_network(graded):
    _, _, out = graded
    page = (out / "feedback" / "ontime" / AID / f"{AID}.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", page)
    script = re.search(r'<script src="([^"?]+)\?config=', page).group(1)
    assert (out / "feedback" / "ontime" / AID / script).resolve().is_file()  # MathJax, locally


def test_bad_roster_and_due_date_are_one_line_errors(graded, tmp_path):
    course, _, out = graded
    bad = tmp_path / "students.csv"
    bad.write_text("name,email\nAda,ada@example.org\n")
    proc = run_grader("roster", "import", str(bad), "--out", str(out), cwd=course)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no 'id' column" in proc.stderr
    bad.write_text("id,first_name\nok,A\n../evil,B\n")
    proc = run_grader("roster", "import", str(bad), "--out", str(out), cwd=course)
    assert proc.returncode == 2 and f"{bad}:3" in proc.stderr and proc.stderr.count("\n") == 1
    proc = run_grader("duedate", AID, "next friday", "--out", str(out), cwd=course)
    assert proc.returncode == 2 and "2026-12-01T23:59" in proc.stderr and proc.stderr.count("\n") == 1
    proc = run_grader("formgrader", "--out", str(tmp_path / "nothing"), "--no-browser", cwd=course)
    assert proc.returncode == 2 and "grader grade" in proc.stderr and proc.stderr.count("\n") == 1


# --------------------------------------------------------------------------- the formgrader

class Formgrader:
    def __init__(self, proc: subprocess.Popen, url: str, lines: list[str]):
        self.proc, self.lines = proc, lines
        self.base, self.token = url.split("/formgrader?token=")

    def call(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read().decode()
        return json.loads(text) if text[:1] in "[{" else text


@pytest.fixture(scope="module")
def formgrader(graded):
    course, _, out = graded
    exe = Path(sys.executable).parent / "grader"
    proc = subprocess.Popen([str(exe), "formgrader", "--out", str(out), "--no-browser"], cwd=course,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    if not first.startswith("formgrader: "):
        proc.kill()
        pytest.fail(f"no URL line: {first!r} {proc.stderr.read()[-2000:]}")
    url = first.split()[1]
    lines = [first]
    while not (line := proc.stdout.readline()).startswith("Stop it"):
        lines.append(line)
    fg = Formgrader(proc, url, lines)
    try:
        yield fg
    finally:
        proc.send_signal(signal.SIGTERM)  # what `kill` or a closed terminal does
        proc.wait(30)
        time.sleep(0.5)
        with pytest.raises(OSError):  # the Jupyter server went with it
            urllib.request.urlopen(fg.base + "/api/status", timeout=5)


def test_formgrader_finds_every_graded_notebook_and_its_manual_grade_reaches_feedback_and_export(
        graded, formgrader):
    course, _, out = graded
    assert re.fullmatch(r"formgrader: http://127\.0\.0\.1:\d+/formgrader\?token=[0-9a-f]{48}\n", formgrader.lines[0])
    assert len(formgrader.lines) == 5  # the URL line and the four graded notebooks
    assignments = {a["name"]: a for a in formgrader.call("GET", "/formgrader/api/assignments")}
    assert assignments[AID]["num_submissions"] == 4
    subs = {s["student"]: s for s in formgrader.call("GET", f"/formgrader/api/submissions/{AID}")}
    assert all(s["autograded"] for s in subs.values()), subs  # timestamps agree with timestamp.txt
    assert subs["ontime"]["first_name"] == "Ada"
    notebooks = {n["student"]: n for n in formgrader.call("GET", f"/formgrader/api/submitted_notebooks/{AID}/{AID}")}
    assert set(notebooks) == {"ontime", "late", "blank", "broken"}
    # why a zero is a zero: the broken submission is flagged and its page gives the reason
    assert notebooks["broken"]["flagged"]
    page = formgrader.call("GET", f"/formgrader/submissions/{notebooks['broken']['id']}/")
    assert "not valid notebook JSON" in page and "resubmit" in page
    page = formgrader.call("GET", f"/formgrader/submissions/{notebooks['ontime']['id']}/")
    assert "/static/jupyter_server_mathjax/MathJax.js" in page and "cdnjs" not in page
    # a manual grade for the written answer, as the formgrader's page saves it
    grades = formgrader.call("GET", f"/formgrader/api/grades?submission_id={notebooks['ontime']['id']}")
    written = next(g for g in grades if g["name"] == "written_sign")
    saved = formgrader.call("PUT", f"/formgrader/api/grade/{written['id']}", {"manual_score": 1})
    assert saved["manual_score"] == 1 and not saved["needs_manual_grade"]

    proc = run_grader("feedback", AID, "--out", str(out), cwd=course)
    assert proc.returncode == 0, proc.stderr
    html = (out / "feedback" / "ontime" / AID / f"{AID}.html").read_text()
    assert re.search(r"Score:?\s*</?\w*>?\s*5(\.0)?\s*/\s*5", html) or "5.0 / 5.0" in html, html[:3000]
    rows = {r["student_id"]: r for r in _csv(_export(graded, "csv", "after.csv"))}
    assert rows["ontime"]["score"] == "5" and rows["ontime"]["manual_score"] == "1"
    assert rows["ontime"]["needs_manual_grade"] == "no"
    # one truth: grades.csv says the same
    assert {r["student_id"]: r for r in _csv(out / "grades.csv")}["ontime"]["score"] == "5"


def live_markup(page: str, marker: str = "XSS") -> list[str]:
    """What in an HTML page would run ``marker``'s code: a script element, an event-handler
    attribute, or a ``javascript:`` link or source that mentions it (escaped text does not)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        script = False

        def handle_starttag(self, tag, attrs):
            self.script = tag == "script"
            for name, value in attrs:
                value = value or ""
                if marker in value and (name.startswith("on") or "javascript:" in value.lower()):
                    found.append(f"<{tag} {name}={value!r}>")

        def handle_data(self, data):
            if self.script and marker in data:
                found.append(f"<script>{data[:80]}")

        def handle_endtag(self, tag):
            self.script = False

    Finder().feed(page)
    return found


def test_a_submission_page_runs_no_script_the_student_wrote(graded, formgrader):
    notebooks = {n["student"]: n for n in formgrader.call("GET", f"/formgrader/api/submitted_notebooks/{AID}/{AID}")}
    page = formgrader.call("GET", f"/formgrader/submissions/{notebooks['late']['id']}/")
    # the student's Markdown and code are shown (the script block itself is dropped whole)
    assert "Note" in page and "OUTXSS" in page and "MDXSS" not in page
    assert live_markup(page) == []


def test_formgrader_cannot_autograde_or_generate_feedback_that_shows_hidden_tests(graded, formgrader):
    from nbgrader.api import Gradebook

    course, _, out = graded
    before = {p: p.read_bytes() for p in (out / "feedback").rglob("*.html")}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        score = gb.find_submission(AID, "late").score
    for path in (f"/formgrader/api/assignment/{AID}/generate_feedback",
                 f"/formgrader/api/assignment/{AID}/late/generate_feedback",
                 f"/formgrader/api/submission/{AID}/late/autograde"):
        answer = formgrader.call("POST", path)
        assert answer["success"] is False and "grader " in answer["error"], answer
    pages = list(out.rglob("*.html")) + list(course.rglob("*.html"))
    assert pages and not any(HIDDEN in p.read_text(errors="replace") for p in pages)
    assert {p: p.read_bytes() for p in (out / "feedback").rglob("*.html")} == before
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_submission(AID, "late").score == score
    # nbgrader's student-side Validate (it runs the notebook) is not served either
    with pytest.raises(urllib.error.HTTPError) as err:
        formgrader.call("POST", "/assignments/validate", {"path": f"{AID}.ipynb"})
    assert err.value.code == 404



def _chromium() -> str | None:
    for path in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if path and Path(path).is_file():
            return path
    return None


def test_a_browser_grades_a_written_answer_in_the_formgrader(graded, formgrader):
    """Headless Chromium (Debian's) opens one submission, types the written answer's score, and
    the gradebook has it; the page's math and scripts come from the server, none from the network."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    notebooks = {n["student"]: n for n in formgrader.call("GET", f"/formgrader/api/submitted_notebooks/{AID}/{AID}")}
    sub_id = notebooks["late"]["id"]
    outside: list[str] = []
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        except Exception as exc:  # a chromium that cannot start here is not this test's subject
            pytest.skip(f"chromium does not start: {str(exc).splitlines()[0][:200]}")
        try:
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(formgrader.base):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            failed: list[str] = []
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(f"{formgrader.base}/formgrader?token={formgrader.token}")  # the printed URL logs in
            page.goto(f"{formgrader.base}/formgrader/submissions/{sub_id}/")
            box = page.locator("input.score#written_sign")
            box.wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")  # the grades are loaded and bound to the boxes
            box.fill("1")
            box.press("Tab")  # the formgrader saves a score when its box loses focus
            page.wait_for_function("() => typeof MathJax === 'object' && MathJax.Hub !== undefined",
                                   timeout=60_000)
            deadline = time.monotonic() + 60
            grade = None
            while time.monotonic() < deadline:
                grades = formgrader.call("GET", f"/formgrader/api/grades?submission_id={sub_id}")
                grade = next(g for g in grades if g["name"] == "written_sign")
                if grade["manual_score"] == 1:
                    break
                time.sleep(0.5)
        finally:
            browser.close()
    assert grade is not None and grade["manual_score"] == 1 and not grade["needs_manual_grade"]
    # MathJax and its fonts included; the one request allowed to fail is the late student's own
    # hostile <img src=x> (HOSTILE_MARKDOWN), inert after sanitising but still fetched
    failed = [f for f in failed if not f.endswith(f"/formgrader/submissions/{sub_id}/x")]
    assert outside == [] and failed == []


def test_a_zero_is_explained_but_a_notebook_graded_in_this_run_is_never_replaced(toy_course, tmp_path):
    import nbformat
    from nbgrader.api import Gradebook

    from grader.config import sqlite_url
    from grader.formgrader import explain_zeros
    from grader.grading import SubmissionResult
    from grader.release import generate

    url = sqlite_url(tmp_path / "gradebook.db")
    generate(toy_course, AID, tmp_path / "release", url)
    with Gradebook(url) as gb:
        for sid in ("stale", "partial"):
            gb.update_or_create_student(sid)
            gb.update_or_create_submission(AID, sid)
    out = tmp_path / "out"
    paths = {sid: out / "autograded" / sid / AID / f"{AID}.ipynb" for sid in ("stale", "partial")}
    for sid, path in paths.items():
        path.parent.mkdir(parents=True)
        path.write_text(f"graded notebook of {sid}")
    results = [  # stale: an earlier run's notebook; partial: written by this run before the kernel died
        SubmissionResult("stale", AID, "error", reason="stale/99-toy: the kernel died; graded as zero"),
        SubmissionResult("partial", AID, "error", reason="partial/99-toy: timeout", graded_notebooks=[paths["partial"]]),
    ]
    explain_zeros(toy_course, AID, out, url, results)
    assert paths["partial"].read_text() == "graded notebook of partial"
    nb = nbformat.read(paths["stale"], as_version=4)
    assert nb.metadata["grader_placeholder"] and "the kernel died" in nb.cells[0].source
    assert "BEGIN SOLUTION" not in paths["stale"].read_text()  # the released notebook, not the source
    with Gradebook(url) as gb:
        assert all(n.flagged for sid in ("stale", "partial") for n in gb.find_submission(AID, sid).notebooks)
