"""The feedback page a student receives after grading, as the student sees it in Chromium:
it renders, its summary table is visible and names the mistake, and no hidden test shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from browser_support import browser, keep_offline, require_browser, serve
from conftest import run_grader

AID = "99-toy"


def test_feedback_page_renders_its_summary_and_no_hidden_test(toy_course, tmp_path):
    require_browser()
    src = nbformat.read(toy_course.solutions / AID / f"{AID}.ipynb", as_version=4)
    for cell in src.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "def double(x):\n    return 2 * abs(x)"  # the catalogued mutant q1-abs
    (tmp_path / "submitted" / "abs" / AID).mkdir(parents=True)
    nbformat.write(src, tmp_path / "submitted" / "abs" / AID / f"{AID}.ipynb")
    out = tmp_path / "out"
    proc = run_grader("grade", AID, "--submissions", str(tmp_path / "submitted"), "--out", str(out),
                      "--workers", "1", cwd=toy_course.root)
    assert proc.returncode == 0, proc.stderr
    page_file = out / "feedback" / "abs" / AID / f"{AID}.html"
    assert page_file.exists(), proc.stdout

    shots = Path(__file__).resolve().parent.parent / "build" / "browser-artefacts" / "feedback"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    errors: list[str] = []
    with serve(out / "feedback") as base, browser() as b:
        page = b.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        keep_offline(page)  # the page is read offline: nothing it needs may come from elsewhere
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{base}abs/{AID}/{AID}.html", wait_until="load")
            table = page.locator("table", has_text="what the check said").first
            table.wait_for(state="visible")
            assert table.bounding_box()["height"] > 40
            rows = table.locator("tbody tr")
            assert rows.count() >= 3
            hidden_row = rows.filter(has_text="q1_hidden")
            assert hidden_row.is_visible() and "SECRET_HIDDEN_TEST_MARKER" in hidden_row.inner_text()
            text = page.locator("body").inner_text()
            assert "Autograded score" in text
            for secret in ("assert double(-4) == -8", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                assert secret not in text and secret not in page.content()
            assert errors == []
        except Exception as exc:
            page.screenshot(path=str(shots / "feedback-failed.png"), full_page=True)
            shutil.copy(page_file, shots / page_file.name)
            raise AssertionError(f"feedback page: {exc!r:.300}; screenshot and page in {shots}") from exc
