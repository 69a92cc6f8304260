"""The student's flow in JupyterLab 4 with nbgrader's extension, in headless Chromium.

A student opens the released assignment 05, runs the setup cell, writes a catalogued wrong answer
and reads its named misconception under the check cell, asks for a hint, writes the right answer
and reads ``Correct``, then presses nbgrader's **Validate** and reads the dialog. JupyterLab runs
on a free loopback port with a token, in a temporary copy of the release. Each step leaves a
screenshot; a failing step names the folder that holds them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from browser_support import Steps, browser, keep_offline, require_browser

ROOT = Path(__file__).resolve().parent.parent
AID = "05-evaluation-metrics"
MUTANT = "q1-fp-fn-swapped"
TIMEOUT_MS = 120_000  # one cell, or one Validate, on a loaded 2-core machine
# screenshots of each step: in build/ (git-ignored), not in pytest's tmp dirs, which other runs
# on the machine rotate away
ARTEFACTS = ROOT / "build" / "browser-artefacts" / "student-flow"
OPEN_TIMEOUT_MS = 300_000  # JupyterLab's first page load (seen: 60-120 s on a machine shared by 7 jobs)

# Server extensions the student flow does not use: off, so the server starts sooner.
_OFF = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.assignment_list",
        "nbgrader.server_extensions.course_list", "jupyter_lsp", "jupyter_server_terminals"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab on a copy of the release of ``AID``; yields (base URL, token)."""
    require_browser()
    work = tmp_path / "work" / AID
    work.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / AID / f"{AID}.ipynb", work)
    cfg = tmp_path / "jupyter-config"
    (cfg / "labconfig").mkdir(parents=True)
    # no "get notified about Jupyter news?" toast over the notebook (it would also go online)
    (cfg / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    (cfg / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": dict.fromkeys(_OFF, False)}}))
    port, token = _free_port(), secrets.token_hex(16)
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(cfg), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    log = tmp_path / "jupyter-lab.log"
    cmd = [str(Path(bindir) / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path / 'work'}",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
           f"--LabApp.user_settings_dir={tmp_path / 'settings'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path / "work", stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited ({proc.returncode}); see {log}", pytrace=False)
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within 180 s; see {log}", pytrace=False)
                time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cell_source(path: Path, grade_id: str) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(cell["source"])


def _with_body(release_source: str, body: str) -> str:
    """The released answer cell with its ``# YOUR CODE HERE`` stub replaced by ``body``."""
    lines = release_source.splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
    j = next(k for k, line in enumerate(lines) if line.strip() == "raise NotImplementedError()" and k > i)
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    code = [indent + line if line.strip() else line for line in textwrap.dedent(body).strip("\n").splitlines()]
    return "\n".join(lines[:i] + code + lines[j + 1:])


def _solution_body(source: str) -> str:
    lines = source.splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
    j = next(k for k, line in enumerate(lines) if line.strip() == "### END SOLUTION")
    return "\n".join(lines[i + 1:j])


def test_student_flow_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect

    from grader.checks.m05 import q1
    from grader.config import Course
    from grader.verify import load_mutants

    base, token = lab
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    release = ROOT / "assignments" / AID / f"{AID}.ipynb"
    stub = _cell_source(release, "q1_answer")
    mutant = next(m for m in load_mutants(Course(ROOT), AID) if m.id == MUTANT)
    wrong = _with_body(stub, mutant.code)
    right = _with_body(stub, _solution_body(_cell_source(ROOT / "solutions" / AID / f"{AID}.ipynb", "q1_answer")))
    assert mutant.expect and wrong != right

    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        keep_offline(page)
        steps = Steps(page, ARTEFACTS)
        cells = page.locator(".jp-Notebook .jp-Cell")
        runs = 0

        run_button = page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="run"]').get_by_role("button")

        def run(index: int) -> None:
            """Select cell ``index``, press the toolbar's Run button (Shift+Enter) and wait until
            the kernel has finished it (its prompt shows the kernel's next execution count)."""
            nonlocal runs
            cell, prompt = cells.nth(index), cells.nth(index).locator(".jp-InputArea-prompt")
            before = prompt.inner_text().strip()
            prompt.click()
            expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"))
            run_button.click()
            runs += 1
            try:  # the click is taken when the prompt turns to [*] (or straight to the count)
                expect(prompt).not_to_have_text(before, timeout=20_000)
            except AssertionError:  # a click lost while JupyterLab was busy: once more
                run_button.click()
            expect(prompt).to_have_text(f"[{runs}]:")
            expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_visible()

        def type_into(index: int, text: str) -> None:
            cells.nth(index).locator(".cm-content").click()
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.insert_text(text)
            expect(cells.nth(index).locator(".cm-content")).to_contain_text(text.splitlines()[-1].strip())
            page.keyboard.press("Escape")

        def output(index: int):
            return cells.nth(index).locator(".jp-OutputArea-output")

        with steps.step("open"):
            page.goto(f"{base}/lab/tree/{AID}/{AID}.ipynb?token={token}")
            expect(cells.nth(4)).to_contain_text("q1.check()", timeout=OPEN_TIMEOUT_MS)
            expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_visible(
                timeout=OPEN_TIMEOUT_MS)
        with steps.step("setup-cell"):
            run(1)
            expect(output(1)).not_to_contain_text("Error")
        with steps.step("wrong-answer"):
            type_into(3, wrong)
            run(3)
            run(4)
            expect(output(4)).to_contain_text(mutant.expect)
            expect(output(4)).to_contain_text("Incorrect")
        with steps.step("hint"):
            cells.nth(4).locator(".jp-InputArea-prompt").click()
            expect(cells.nth(4)).to_have_class(re.compile(r"\bjp-mod-active\b"))
            page.keyboard.press("b")  # a new cell of the student's own, below the check
            expect(cells.nth(5)).to_have_class(re.compile(r"jp-mod-active"))
            type_into(5, "q1.hint()")
            run(5)
            hint = cells.nth(5).locator('[data-mime-type="application/vnd.jupyter.stdout"]')
            expect(hint).to_contain_text(f"Hint 1/{len(q1.hints)}")  # on stdout, not stderr
            expect(hint).to_contain_text(q1.hints[0][:40])
        with steps.step("right-answer"):
            type_into(3, right)
            run(3)
            run(4)
            expect(output(4)).to_contain_text("Correct")
            expect(output(4)).not_to_contain_text("Incorrect")
        with steps.step("validate"):
            page.get_by_role("button", name="Validate").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_be_visible()
            expect(dialog).not_to_contain_text("Validating", timeout=TIMEOUT_MS)
            expect(dialog).to_contain_text("Validation Results")
            # the questions still to do are listed with their checks' own one-line messages;
            # q1, answered right, is not; and nothing crashed
            expect(dialog).to_contain_text("q2.check()")
            expect(dialog).to_contain_text("NotAttempted: `precision_recall_f1` still raises NotImplementedError")
            text = dialog.inner_text()
            (tmp_path / "validate-dialog.txt").write_text(text)
            assert "q1.check()" not in text and "Traceback" not in text, text
