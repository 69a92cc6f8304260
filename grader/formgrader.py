"""``grader formgrader``: nbgrader's formgrader, in JupyterLab, on a ``grader grade`` output.

nbgrader 0.9's formgrader is a Jupyter server extension. Started by hand it finds nothing to
grade, because it looks for graded notebooks under ``<course>/autograded/`` and submissions under
``<course>/submitted/``, while ``grader grade`` writes ``OUT/autograded/``. This module starts
JupyterLab on 127.0.0.1 with the formgrader pointed at that output (gradebook URL, autograded and
submitted folders), and with two of its buttons replaced:

- *Autograde* would re-grade with stock nbgrader, running student code as the instructor with no
  sandbox; *Generate Feedback* would render pages that show the hidden tests. Both (and
  nbgrader's student-side extensions, whose *Validate* runs a notebook) are turned off: the
  formgrader answers with a one-line note pointing to ``grader grade`` and ``grader feedback``.
- Math renders offline: the notebook view loads MathJax from ``jupyter-server-mathjax``.

It also keeps, after each ``grader grade`` batch (:func:`after_grade`), what the formgrader needs:
timestamps and late penalties (:mod:`grader.late`), why a broken submission scores zero (a
notebook that says so, the submission flagged), where the submissions were, and MathJax for the
feedback pages.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .config import Course, UserError, ensure_env_bin_on_path

#: Written into OUT by :func:`after_grade`: where each assignment's submissions were read from.
STATE_FILE = ".grader-formgrader.json"
#: nbgrader's own server extensions, replaced here by :data:`EXTENSION` (formgrader) or left off
#: (the student-side ones: assignment list, course list, validate).
NBGRADER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
EXTENSION = "grader.formgrader"
STARTUP_TIMEOUT_S = 120

AUTOGRADE_NOTE = (
    "Autograde is turned off in this formgrader: stock nbgrader would run the student's code "
    "without a sandbox. Grade with `grader grade ASSIGNMENT --submissions DIR --out OUT` instead."
)
FEEDBACK_NOTE = (
    "Generate Feedback is turned off in this formgrader: stock nbgrader's pages show the hidden "
    "tests. After manual grading run `grader feedback ASSIGNMENT --out OUT` instead."
)


# --------------------------------------------------------------------------- server extension

def _jupyter_server_extension_points():
    return [{"module": EXTENSION}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Load nbgrader's formgrader with :data:`AUTOGRADE_NOTE`/:data:`FEEDBACK_NOTE` handlers."""
    from jupyter_server.utils import url_path_join
    from nbgrader.server_extensions.formgrader.apihandlers import BaseApiHandler
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
    from tornado import web
    from traitlets.config import Config

    from .mathjax import SERVER_URL, use_local

    class Refused(BaseApiHandler):
        """Answers a formgrader action that would bypass ``grader`` with a note, and runs nothing."""

        def initialize(self, note: str) -> None:
            self.note = note

        @web.authenticated
        def post(self, *args) -> None:
            self.write(json.dumps({"success": False, "error": self.note, "log": self.note}))

    class GraderFormgrade(FormgradeExtension):
        """nbgrader's formgrader whose course settings cannot be overridden by config files.

        nbgrader re-reads ``nbgrader_config.py`` files on every request; the folders and the
        gradebook ``grader formgrader`` chose are put back on top each time.
        """

        def __init__(self, **kw):
            super().__init__(**kw)
            self._pinned = Config({"CourseDirectory": Config(self.parent.config.CourseDirectory)})

        def load_config_file(self, **kw):
            super().load_config_file(**kw)
            self.update_config(self._pinned)

        def initialize(self, argv=None, root=""):
            super().initialize(argv, root=root)
            self.update_config(self._pinned)
            if getattr(self, "coursedir", None) is not None:
                for key, value in self._pinned.CourseDirectory.items():
                    setattr(self.coursedir, key, value)

        def init_tornado_settings(self, webapp):
            super().init_tornado_settings(webapp)
            # a submission's Markdown and HTML outputs would run as script in this page, with the
            # instructor's session (its API runs code): the page shows them sanitised
            exporter = formgrade_exporter(self.config)
            webapp.settings["nbgrader_exporter"] = exporter
            use_local(exporter, url_path_join(webapp.settings.get("base_url", "/"), SERVER_URL))

        def init_handlers(self, webapp):
            refused = [
                (r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde", Refused, {"note": AUTOGRADE_NOTE}),
                (r"/formgrader/api/assignment/([^/]+)/generate_feedback", Refused, {"note": FEEDBACK_NOTE}),
                (r"/formgrader/api/assignment/([^/]+)/([^/]+)/generate_feedback", Refused,
                 {"note": FEEDBACK_NOTE}),
            ]
            base = webapp.settings["base_url"]
            # a host rule added earlier wins: these go in before nbgrader's own handlers
            webapp.add_handlers(".*$", [(url_path_join(base, p.lstrip("/")), *rest) for p, *rest in refused])
            super().init_handlers(webapp)

    serverapp.log.info("Loading the grader formgrader (nbgrader's, with Autograde and Generate Feedback off)")
    formgrader = GraderFormgrade(parent=serverapp)
    formgrader.root_dir = serverapp.root_dir
    formgrader.log = serverapp.log
    formgrader.initialize([])
    formgrader.init_tornado_settings(serverapp.web_app)
    formgrader.init_handlers(serverapp.web_app)


def formgrade_exporter(config):
    """The exporter of the formgrader's submission pages: nbgrader's ``HTMLExporter`` (its
    ``formgrade`` template, from ``config``) that renders a submission's Markdown cells and HTML
    outputs sanitised and its JavaScript not at all (:func:`grader.feedback.safe_html_exporter`)."""
    from .feedback import safe_html_exporter

    return safe_html_exporter()(config=config)


# --------------------------------------------------------------------------- the command

@dataclass
class GradedNotebook:
    student_id: str
    assignment: str
    notebook: str
    submission_id: str
    score: float  # after the late penalty
    max_score: float
    needs_manual_grade: bool
    flagged: bool


def graded_notebooks(db_url: str) -> list[GradedNotebook]:
    """Every submitted notebook in the gradebook, sorted by assignment, student and notebook."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    score = float(nb.score) - float(nb.late_submission_penalty or 0.0)
                    rows.append(GradedNotebook(sub.student.id, assignment.name, nb.name, nb.id,
                                               max(0.0, score), float(nb.max_score),
                                               bool(nb.needs_manual_grade), bool(nb.flagged)))
    return sorted(rows, key=lambda r: (r.assignment, r.student_id, r.notebook))


def server_settings(course: Course, out: Path, db_url: str, port: int, submissions: Path | None,
                    open_browser: bool) -> dict:
    """The Jupyter server configuration (as ``jupyter_server_config.json``) for one output."""
    out = Path(out).resolve()
    extensions = {name: False for name in NBGRADER_EXTENSIONS}
    extensions.update({EXTENSION: True, "jupyter_server_mathjax": True, "jupyterlab": True})
    return {
        "ServerApp": {
            "ip": "127.0.0.1",
            "port": port,
            "port_retries": 0,
            "open_browser": open_browser,
            "root_dir": str(course.root),
            "jpserver_extensions": extensions,
            "allow_root": os.geteuid() == 0,  # CI containers run as root
        },
        "LabApp": {"default_url": "/formgrader"},
        "CourseDirectory": {
            "root": str(course.root),
            "db_url": db_url,
            "autograded_directory": str(out / "autograded"),
            "submitted_directory": str(submissions.resolve() if submissions else out / "submitted"),
            "feedback_directory": str(out / "feedback"),
        },
    }


def submissions_dir(out: Path) -> Path | None:
    """The submissions folder ``grader grade`` last read for this output (None if unknown)."""
    try:
        state = json.loads((Path(out) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    paths = {p for p in state.get("submissions", {}).values() if isinstance(p, str)}
    return Path(sorted(paths)[0]) if len(paths) == 1 else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(course: Course, out: Path, *, db_url: str | None = None, port: int | None = None,
          submissions: Path | None = None, open_browser: bool = True) -> tuple[subprocess.Popen, str]:
    """Start JupyterLab with the formgrader on ``out``; return (process, URL with its token).

    The server's log goes to ``OUT/.formgrader/server.log``. Raises ``UserError`` if ``out``
    holds no grading output or the server does not answer within STARTUP_TIMEOUT_S seconds.
    """
    from .export import _db_url

    out = Path(out).resolve()
    if not (out / "autograded").is_dir():
        raise UserError(f"{out}: no graded notebooks (no autograded/); run `grader grade ASSIGNMENT "
                        f"--submissions DIR --out {out}` first")
    url = _db_url(out, db_url)
    if submissions is None:
        submissions = submissions_dir(out)
    port = port or _free_port()
    home = out / ".formgrader"
    (home / "config").mkdir(parents=True, exist_ok=True)
    settings = server_settings(course, out, url, port, submissions, open_browser)
    cfg = home / "config" / "jupyter_server_config.json"
    cfg.write_text(json.dumps(settings, indent=1))
    os.chmod(cfg, 0o600)  # the gradebook URL may name a user
    token = secrets.token_hex(24)
    ensure_env_bin_on_path()
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"))
    with open(home / "server.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", f"--config={cfg}"],
            cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base, token, home)
    except BaseException:
        stop(proc)
        raise
    return proc, f"{base}/formgrader?token={token}"


def _wait_until_up(proc: subprocess.Popen, base: str, token: str, home: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            tail = (home / "server.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise UserError(f"the formgrader server stopped at start-up ({' '.join(tail)[:200]}); "
                            f"see {home / 'server.log'}")
        try:
            req = urllib.request.Request(f"{base}/formgrader/api/status",
                                         headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise UserError(f"the formgrader did not answer at {base} within {STARTUP_TIMEOUT_S} s; "
                            f"see {home / 'server.log'}")
        time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by :func:`start` (SIGTERM, then SIGKILL after 10 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- after `grader grade`

def after_grade(course: Course, aid: str, submissions: Path, out_dir: Path, db_url: str,
                results: list) -> None:
    """What the formgrader and the export need from a finished ``grader grade`` batch.

    Timestamps and late penalties (:func:`grader.late.apply`, which lowers each result's score
    by its penalty), a notebook that says why each broken submission scores zero, the
    submissions folder (for ``grader formgrader``) and MathJax for the feedback pages.
    """
    from . import late
    from .mathjax import install

    late.apply(course, aid, submissions, db_url, results)
    explain_zeros(course, aid, out_dir, db_url, results)
    state_file = Path(out_dir) / STATE_FILE
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        state = {}
    state.setdefault("submissions", {})[aid] = str(Path(submissions).resolve())
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(state_file)
    if (Path(out_dir) / "feedback").is_dir():
        try:
            install(Path(out_dir) / "feedback")
        except (ImportError, OSError) as exc:
            print(f"grader: warning: MathJax not copied for offline feedback pages ({exc})", file=sys.stderr)


def explain_zeros(course: Course, aid: str, out_dir: Path, db_url: str, results: list) -> None:
    """For each submission that could not be graded (status ``error``): flag it in the gradebook
    and put beside the graded notebooks the released notebook headed by the reason, so the
    formgrader shows why the score is zero (and the written answers can still be marked).
    A submission whose autograded score is withheld for tampering is flagged too."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    for res in results:
        tampered = any(f.startswith("tamper:") for f in res.flags)
        if res.status != "error" and not tampered:
            continue
        try:
            with Gradebook(db_url) as gb:
                sub = gb.find_submission(aid, res.student_id)
                for nb in sub.notebooks:
                    nb.flagged = True
                gb.db.commit()
        except MissingEntry:
            continue
        if res.status != "error":
            continue
        written = {Path(p).resolve() for p in getattr(res, "graded_notebooks", [])}
        for released in sorted((course.assignments / aid).glob("*.ipynb")):
            dest = Path(out_dir) / "autograded" / res.student_id / aid / released.name
            if dest.resolve() in written:
                continue  # this run graded it (partly): the student's own work stays
            # (a graded notebook of an earlier submission goes: its grades were zeroed)
            nb = nbformat.read(released, as_version=4)
            nb.metadata["grader_placeholder"] = True
            note = nbformat.v4.new_markdown_cell(
                "## This submission was not graded: it scores zero\n\n"
                f"**Reason:** {_md_escape(res.reason or res.status)}\n\n"
                "Below is the *released* notebook, not the student's work. Ask the student to "
                "resubmit, then run `grader grade` again.")
            nb.cells.insert(0, note)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".ipynb.tmp")
            nbformat.write(nb, tmp)
            os.replace(tmp, dest)


def _md_escape(text: str) -> str:
    import html

    return html.escape(" ".join(str(text).split()))[:400]
