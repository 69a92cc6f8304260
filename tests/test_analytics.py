"""What instructors and learners see after grading: item analysis, misconception counts, the
class report, certificates and the progress board.

One module-scoped run grades the example class (grader/example_class.py, seeded mistakes) on one
real assignment; the report and certificate tests read its gradebook.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser

import pandas as pd
import pytest
from conftest import FIXTURE_COURSE, run_grader

from grader.config import Course, UserError, sqlite_url

AID = "01-why-interpret"


# --- item statistics against hand-computed values ----------------------------------------------
def test_item_statistics_match_hand_computed_values():
    from grader.report import item_analysis

    scores = pd.DataFrame({"q1": [2, 2, 1, 0], "q2": [1, 0, 1, 0], "q3": [1, 1, 0, 0], "q4": [1, 1, 1, 1]},
                          index=["A", "B", "C", "D"])
    items = item_analysis(scores, {"q1": 2, "q2": 1, "q3": 1, "q4": 1}).set_index("question")
    # facility = mean / max; sd of score/max with n - 1; discrimination = r(item, total - item)
    assert items.loc["q1", "facility"] == pytest.approx(0.625)
    assert items.loc["q1", "sd"] == pytest.approx(math.sqrt(0.6875 / 3))
    assert items.loc["q1", "discrimination"] == pytest.approx(2 / math.sqrt(5.5))
    assert items.loc["q2", "discrimination"] == pytest.approx(0.5 / math.sqrt(6.75))
    assert items.loc["q3", "discrimination"] == pytest.approx(1.5 / math.sqrt(4.75))
    assert items.loc["q1", "flag"] == "" and items.loc["q3", "flag"] == ""
    assert items.loc["q2", "flag"].startswith("poor")  # r = 0.192 < 0.20
    assert items.loc["q4", "facility"] == 1.0 and items.loc["q4", "sd"] == 0.0
    assert math.isnan(items.loc["q4", "discrimination"]) and items.loc["q4", "flag"].startswith("undefined")
    assert list(items["n"]) == [4, 4, 4, 4]


def test_discrimination_flags():
    from grader.report import POOR_DISCRIMINATION, discrimination_flag

    assert POOR_DISCRIMINATION == 0.20
    assert discrimination_flag(-0.1).startswith("negative")
    assert discrimination_flag(0.19).startswith("poor")
    assert discrimination_flag(0.2) == ""


# --- the demo's summary fits 100 columns --------------------------------------------------------
def test_demo_summary_fits_a_100_column_terminal():
    from grader.demo import summary_table
    from grader.grading import SubmissionResult

    aids = ["01-why-interpret", "02-statistics", "03-linear-algebra-calculus", "04-data-analysis",
            "05-evaluation-metrics", "06-interpretable-models", "07-global-methods", "08-shap", "09-lime",
            "10-counterfactuals-gradients", "11-simplification", "12-fairness-governance",
            "13-documentation-reproducibility", "14-monitoring", "15-communication-capstone"]
    results = {aid: [
        SubmissionResult("ada", aid, "graded", 17.5, 22.0, needs_manual_grade=True),
        SubmissionResult("gus", aid, "error", 0, 22.0, reason=f"gus/{aid}/{aid}.ipynb is not valid notebook JSON " + "x" * 200),
        SubmissionResult("hana", aid, "missing", 0, 22.0, flags=["misnamed"], reason=f"hana/{aid}/ has a misnamed file"),
    ] for aid in aids}
    text = summary_table(results)
    assert max(len(line) for line in text.splitlines()) <= 100
    for aid in aids:
        assert f"{aid[:2]} {aid}" in text  # the legend
    assert "17.5/22*" in text and "gus (01-15)" in text
    # all 15 columns are there, in blocks that fit (each student once per block)
    assert sum(line.startswith("ada ") for line in text.splitlines()) >= 2


# --- a graded example class --------------------------------------------------------------------
@pytest.fixture(scope="module")
def graded(tmp_path_factory, course):
    """The example class on one assignment, graded; its seeded mistakes."""
    from grader.engine.sandbox import bwrap
    from grader.example_class import generate
    from grader.grading import grade

    root = tmp_path_factory.mktemp("analytics")
    seeded: dict = {}
    generate(course, root / "submitted", [AID], seeded=seeded)
    out = root / "graded"
    grade(course, AID, root / "submitted", out, progress=False, sandbox=bwrap() is not None)
    return out, seeded[AID]


def test_misconception_counts_equal_the_seeded_mistakes(graded, course):
    from grader.misconceptions import TIERS, catalogue, load, question_of
    from grader.report import misconception_table

    out, seeded = graded
    url = sqlite_url(out / "gradebook.db")
    rows = load(url, AID)
    by_id = {m.code: m for m in catalogue(course.solutions, AID)}
    expected = Counter()
    for mistakes in seeded.values():
        for cell, mid in mistakes.items():
            assert by_id[mid].expect, f"{mid} names no expect text"
            expected[(question_of(cell), mid)] += 1
    named = {(r["question"], r["code"], r["student_id"]) for r in rows if r["code"] not in TIERS}
    assert Counter((q, c) for q, c, _ in named) == expected
    for sid, mistakes in seeded.items():  # and each student got exactly the ones planted
        assert {c for q, c, s in named if s == sid} == set(mistakes.values())
    # the blank notebook: every question not attempted; the correct one: nothing recorded
    assert {r["code"] for r in rows if r["student_id"] == "femi"} == {"not-attempted"}
    assert not [r for r in rows if r["student_id"] == "ada"]
    table = misconception_table(url, AID, course.solutions, graded=6)
    counted = {(r.question, r.code): r.students for r in table.itertuples() if r.code not in TIERS}
    assert counted == dict(expected)
    assert table["students"].is_monotonic_decreasing


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.links, self.tables = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "table":
            self.tables += 1
        for key in ("href", "src"):
            if key in a and tag != "img":
                self.links.append(a[key])


def test_report_is_self_contained_and_has_every_table(graded, course, tmp_path):
    out, seeded = graded
    proc = run_grader("report", AID, "--out", str(out), "--to", str(tmp_path / "report"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "report" / "report.html").read_text()
    parser = _Page()
    parser.feed(page)
    assert len(parser.imgs) >= 4 and all(link.startswith("#") for link in parser.links)  # in-page only
    for src in parser.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in page and "https://" not in page
    assert parser.tables >= 5
    reteach = pd.read_csv(tmp_path / "report" / "reteach.csv")
    assert reteach.iloc[0]["code"] == "q5-raw-values" and reteach.iloc[0]["students"] == 3  # seeded 3 times
    for name in ("course-scores", "assignments", f"{AID}-scores", f"{AID}-items", f"{AID}-misconceptions",
                 f"{AID}-submissions"):
        with open(tmp_path / "report" / f"{name}.csv", newline="") as fh:
            assert list(csv.DictReader(fh)), name
    items = pd.read_csv(tmp_path / "report" / f"{AID}-items.csv")
    assert {"facility", "sd", "discrimination", "flag"} <= set(items.columns)
    mis = pd.read_csv(tmp_path / "report" / f"{AID}-misconceptions.csv")
    top = mis.iloc[0]
    assert top["code"] in page and str(top["what it means"]).split("(")[0].strip()[:30] in page
    subs = pd.read_csv(tmp_path / "report" / f"{AID}-submissions.csv")
    assert set(subs["status"]) == {"graded", "error", "missing"}


def test_report_renders_in_headless_chromium(graded, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (the CI installs it with the site's browser tests)")
    from grader.report import build_report

    out, _ = graded
    html = build_report(sqlite_url(out / "gradebook.db"), tmp_path / "r", [AID], out_dir=out).html
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1200,2400", html.as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # figures drawn, not a blank page


def test_report_refuses_an_unknown_assignment(graded):
    from grader.report import build_report

    out, _ = graded
    with pytest.raises(UserError, match="not in the gradebook"):
        build_report(sqlite_url(out / "gradebook.db"), out / "r", ["07-global-methods"])


# --- certificates ------------------------------------------------------------------------------
@pytest.fixture()
def certified(graded, course, tmp_path):
    """A copy of the graded gradebook with written answers marked, certificates issued."""
    from grader.certify import certify
    from grader.demo import grade_written_answers

    out, _ = graded
    db = tmp_path / "gradebook.db"
    shutil.copy(out / "gradebook.db", db)
    url = sqlite_url(db)
    grade_written_answers(url)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'course = "Interpreting and Explaining Machine Learning Models"\n'
                      f'issuer = "Test issuer"\nassignments = ["{AID}"]\npass_mark = 0.5\n'
                      "overall_pass_mark = 0.5\nrequire_manual_grading = true\n")
    key = tmp_path / "secret" / "certificate.key"
    res = certify(course, url, tmp_path / "certs", policy_file=policy, secret_file=key)
    return res, url, policy, key


def test_certificates_issue_verify_and_catch_tampering(certified, course, tmp_path):
    from pypdf import PdfReader

    from grader.certify import check, check_pdf

    res, url, policy, key = certified
    issued = {sid: (pdf, code) for sid, pdf, code in res.issued}
    assert "ada" in issued and "femi" not in issued
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    pdf, code = issued["ada"]
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "ada" in text and code in text and "Interpreting and Explaining" in text
    kw = {"secret_file": key, "db_url": url, "course": course, "policy_file": policy}
    assert check(code, res.ledger, **kw).valid
    assert check(code.lower().replace("-", ""), res.ledger, **kw).valid
    assert check_pdf(pdf, res.ledger, **kw).valid
    # a forged code
    forged = ("0" if code[0] != "0" else "1") + code[1:]
    assert not check(forged, res.ledger, **kw).valid
    # a PDF whose embedded content was edited (a better score)
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(pdf))
    body = json.loads(reader.metadata["/Subject"])
    body["name"] = "Mallory"
    writer.add_metadata({"/Subject": json.dumps(body, sort_keys=True, separators=(",", ":"))})
    edited = tmp_path / "edited.pdf"
    with open(edited, "wb") as fh:
        writer.write(fh)
    assert not check_pdf(edited, res.ledger, **kw).valid
    # an edited ledger entry
    entries = json.loads(res.ledger.read_text())
    entry = next(e for e in entries if e["content"]["student_id"] == "ada")
    entry["content"]["overall"][0] += 1
    tampered = tmp_path / "ledger.json"
    tampered.write_text(json.dumps(entries))
    assert "altered" in check(code, tampered, **kw).message
    # another secret: nothing verifies
    other = tmp_path / "other.key"
    other.write_text("f" * 64)
    other.chmod(0o600)
    assert not check(code, res.ledger, **{**kw, "secret_file": other}).valid


def test_a_certificate_the_gradebook_no_longer_supports_fails(certified, course):
    from nbgrader.api import Gradebook

    from grader.certify import check

    res, url, policy, key = certified
    code = dict((sid, c) for sid, _, c in res.issued)["ada"]
    with Gradebook(url) as gb:
        grade = gb.find_submission(AID, "ada").notebooks[0].grades[0]
        grade.manual_score = 0.0
        gb.db.commit()
    result = check(code, res.ledger, secret_file=key, db_url=url, course=course, policy_file=policy)
    assert not result.valid and "changed" in result.message


def test_transcripts_say_what_is_missing_and_reissue_keeps_codes(certified, course, tmp_path):
    from grader.certify import certify

    res, url, policy, key = certified
    transcripts = dict(res.transcripts)
    assert "femi" in transcripts and "ivan" in transcripts
    femi = transcripts["femi"].read_text()
    assert "below the pass mark" in femi and AID in femi
    assert "not submitted" in transcripts["ivan"].read_text()
    again = certify(course, url, tmp_path / "certs", policy_file=policy, secret_file=key)
    assert not again.issued and {c for _, _, c in again.kept} == {c for _, _, c in res.issued}
    ledger = json.loads(res.ledger.read_text())
    assert len(ledger) == len(res.issued)
    assert (res.ledger.parent / "ledger.csv").read_text().count("\n") == len(ledger) + 1


def test_policy_and_secret_errors_are_one_line(course, tmp_path):
    from grader.certify import load_policy, load_secret

    bad = tmp_path / "p.toml"
    bad.write_text('course = "C"\nissuer = "I"\npass_mark = 50\n')
    with pytest.raises(UserError, match="fraction between 0 and 1"):
        load_policy(course, bad)
    bad.write_text('course = "C"\nissuer = "I"\nassignments = ["99-nope"]\n')
    with pytest.raises(UserError, match="unknown assignment"):
        load_policy(course, bad)
    bad.write_text("course = [")
    with pytest.raises(UserError, match="not valid TOML"):
        load_policy(course, bad)
    with pytest.raises(UserError, match="outside the course directory"):
        load_secret(course.root / "certificate.key", course)
    loose = tmp_path / "loose.key"
    loose.write_text("a" * 64)
    loose.chmod(0o644)
    with pytest.raises(UserError, match="chmod 600"):
        load_secret(loose, course)
    assert load_policy(course).assignments == course.assignment_ids()  # the course's own policy


def test_certify_check_cli_exit_status(certified, tmp_path):
    res, url, policy, key = certified
    code = res.issued[0][2]
    ok = run_grader("certify", "--db", url, "--to", str(res.ledger.parent), "--secret-file", str(key),
                    "--policy", str(policy), "--check", code)
    assert ok.returncode == 0 and ok.stdout.startswith("VALID"), ok.stderr
    bad = run_grader("certify", "--to", str(res.ledger.parent), "--secret-file", str(key), "--check", "0000-1111-2222-3333-4444")
    assert bad.returncode == 1 and bad.stdout.startswith("INVALID")


# --- the learner's progress board --------------------------------------------------------------
def test_progress_board_runs_the_learners_own_notebook(tmp_path):
    import nbformat

    from grader.progress import board, run_progress

    course = Course(tmp_path / "course")
    shutil.copytree(FIXTURE_COURSE, course.root)
    mine = tmp_path / "mine"
    mine.mkdir()
    nb = nbformat.read(course.assignments / "99-toy" / "99-toy.ipynb", as_version=4)
    for cell in nb.cells:  # q1 answered, q2 left as released
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "def double(x):\n    return 2 * x"
    nbformat.write(nb, mine / "99-toy.ipynb")
    before = (mine / "99-toy.ipynb").read_bytes()
    result = run_progress(course, mine, progress=False)
    text = board(result)
    assert max(len(line) for line in text.splitlines()) <= 100
    toy = next(m for m in result.modules if m.assignment == "99-toy")
    states = {q.question: q.state for q in toy.questions}
    assert states == {"q1": "passed", "q2": "failed", "written_sign": "written"}
    assert "name 'answer' is not defined" in text
    other = next(m for m in result.modules if m.assignment == "98-checks")
    assert other.problem == "no notebook found" and all(q.state != "passed" for q in other.questions)
    assert result.share == pytest.approx(1 / 4)
    assert "Certificate: 1/4" in text
    assert (mine / "99-toy.ipynb").read_bytes() == before  # nothing written
    assert not [p for p in mine.iterdir() if p.name != "99-toy.ipynb"]


def test_progress_refuses_a_missing_directory(tmp_path):
    proc = run_grader("progress", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "no such directory" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert os.path.exists(FIXTURE_COURSE)


@pytest.mark.parametrize("verb", ["report", "certify", "progress"])
def test_new_verbs_have_help_with_an_example(verb):
    proc = run_grader(verb, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout
    if verb == "progress":
        assert "no sandbox" in " ".join(proc.stdout.split())
