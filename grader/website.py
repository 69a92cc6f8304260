"""``grader site``: the course as a static website, built offline with Sphinx, myst-nb and
sphinx-book-theme (the engine of Jupyter Book 1.x, at current versions).

The source tree is assembled in a temporary folder laid out like the repository:
``index.md`` (``website/index.md``, with the README's module table and the table of contents
filled in), ``course/NN-slug.ipynb`` (the lectures, shown with their stored outputs unless
``execute``) and ``assignments/NN-slug/NN-slug.ipynb`` (the student release, never
``solutions/``), so the notebooks' own relative links resolve unchanged. Every page gets a box
that opens the same notebook in the reader's local JupyterLab (``./run.sh lab``). Math is
rendered by MathJax 3 served from the site itself; a page that would load a script, a style
sheet or a font from another host fails the build.
"""

from __future__ import annotations

import copy
import html
import io
import json
import posixpath
import re
import shutil
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from .config import Course, UserError

#: where ``./run.sh lab`` serves the course (JupyterLab's default port, the course root as its
#: folder); each page links to its notebook there.
LAB_URL = "http://localhost:8888/lab/tree/"

#: text that only a source (instructor) notebook holds; the release never does.
SOURCE_ONLY_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LECTURE = re.compile(r"^\d\d-[a-z0-9-]+\.ipynb$")


@dataclass
class SiteBuild:
    """What ``build_site`` made: the output folder, the page count, the wall time in seconds and
    Sphinx's warnings (one line each)."""

    out: Path
    pages: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def _open_box(path: str, what: str) -> str:
    url, path = html.escape(LAB_URL + urllib.parse.quote(path)), html.escape(path)
    return (
        f'<div class="course-open">Work on this {what} in JupyterLab: start it with '
        f"<code>./run.sh lab</code> in your copy of the course, then "
        f'<a class="course-open-lab" href="{url}">open {path}</a>; '
        f"or download the notebook with the button at the top of the page.</div>\n\n"
    )


_NB_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+?\.ipynb)(#[^)\s]*)?\)")


def _unlink_missing(source: str, rel: str, pages: set[str]) -> str:
    """``source`` with each Markdown link to a notebook that is not on the site (a module still
    being written) turned into its text, marked "(not yet published)"."""
    here = PurePosixPath(rel).parent

    def fix(m: re.Match) -> str:
        if "://" in m.group(2):
            return m.group(0)
        target = posixpath.normpath((here / m.group(2)).as_posix())
        return m.group(0) if target in pages else f"{m.group(1)} (not yet published)"

    return _NB_LINK.sub(fix, source)


def _for_site(nb: dict, rel: str, what: str, pages: set[str]) -> dict:
    """A copy of notebook ``nb`` for the site: its first markdown title is followed by the
    JupyterLab box, and links to notebooks that are not on the site become text."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = _unlink_missing(source, rel, pages)
    box = _open_box(rel, what)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = source.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("# "):
                lines.insert(i + 1, "\n" + box)
                cell["source"] = "".join(lines)
                return nb
        break
    nb.setdefault("cells", []).insert(0, {"cell_type": "markdown", "id": "course-open", "metadata": {},
                                          "source": box})
    return nb


def _read_nb(path: Path, course: Course) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path.relative_to(course.root)}: not a readable notebook ({exc})") from None


def _write_nb(nb: dict, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def _module_table(course: Course) -> str:
    """The README's ``## Modules`` section (its table and notes): one list of modules, whose
    ``course/...`` and ``assignments/...`` links resolve in the site's source tree as they do in
    the repository."""
    readme = course.root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    found = re.search(r"^## Modules\s*\n(.*?)(?=^## )", text, re.S | re.M)
    if found:
        return found.group(1).strip() + "\n"
    return "\n".join(f"- [{p.stem}](course/{p.name})" for p in _lectures(course)) + "\n"


def _lectures(course: Course) -> list[Path]:
    if not course.lectures.is_dir():
        raise UserError(f"{course.lectures}: no lectures folder; the site is built from course/*.ipynb")
    return sorted(p for p in course.lectures.iterdir() if _LECTURE.match(p.name))


def _released(course: Course) -> list[Path]:
    notebooks = []
    for aid in course.resolve(None):
        found = sorted((course.assignments / aid).glob("*.ipynb"))
        if not found:
            raise UserError(f"assignments/{aid}: no released notebook; run `grader release {aid}` first")
        notebooks.extend(found)
    return notebooks


def assemble(course: Course, src: Path) -> tuple[list[str], list[str]]:
    """Lay out the site's source tree in the empty folder ``src``; return the lectures' and the
    assignments' document names, in module order.

    Raises UserError when ``website/`` is missing, a notebook is unreadable, an assignment has no
    release, or a released notebook holds source-only text (a solution or hidden tests).
    """
    template = course.root / "website"
    if not (template / "conf.py").exists() or not (template / "index.md").exists():
        raise UserError(f"{template}: no conf.py and index.md; the site's template lives there")
    shutil.copytree(template, src, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("_build", "__pycache__", ".ipynb_checkpoints"))
    lectures, assignments = [], []
    released = _released(course)
    pages = {f"course/{p.name}" for p in _lectures(course)}
    pages |= {p.relative_to(course.root).as_posix() for p in released}
    for path in _lectures(course):
        rel = f"course/{path.name}"
        _write_nb(_for_site(_read_nb(path, course), rel, "lecture", pages), src / rel)
        lectures.append(rel.removesuffix(".ipynb"))
    for path in released:
        rel = path.relative_to(course.root).as_posix()
        nb = _read_nb(path, course)
        text = json.dumps(nb)
        leaked = [m for m in SOURCE_ONLY_MARKERS if m in text]
        if leaked:
            raise UserError(
                f"{rel}: holds {leaked[0]!r}, which only a source notebook may; "
                f"regenerate the release with `grader release {path.parent.name}`"
            )
        _write_nb(_for_site(nb, rel, "assignment", pages), src / rel)
        assignments.append(rel.removesuffix(".ipynb"))
    index = (src / "index.md").read_text(encoding="utf-8")
    index = (index.replace("<!-- MODULE-TABLE -->", _module_table(course).rstrip())
                  .replace("<!-- LECTURES -->", "\n".join(lectures))
                  .replace("<!-- ASSIGNMENTS -->", "\n".join(assignments)))
    (src / "index.md").write_text(index, encoding="utf-8")
    return lectures, assignments


class _Assets(HTMLParser):
    """Collects the URLs a page loads (scripts, style sheets, fonts, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "preload", "icon", "modulepreload"}:
            self.urls.append(a["href"])


def remote_assets(out: Path) -> list[str]:
    """``page: url`` for every script, style sheet, font or image that a built page in ``out``
    loads from another host (``http:``, ``https:`` or protocol-relative ``//``); CSS ``url()``
    and ``@import`` in ``_static`` are scanned too. Links (``<a href>``) are not assets."""
    found = []
    remote = re.compile(r"^(https?:)?//", re.I)
    for page in sorted(out.rglob("*.html")):
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        found += [f"{page.relative_to(out)}: {u}" for u in parser.urls if remote.match(u.strip())]
    css_url = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])((?:https?:)?//[^'")\s]+)""", re.I)
    for sheet in sorted(out.glob("_static/**/*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        found += [f"{sheet.relative_to(out)}: {u}" for u in css_url.findall(text)]
    return found


def build_site(course: Course, out: Path, execute: bool = False) -> SiteBuild:
    """Build the course website into ``out`` (a new folder, or one a previous build made).

    ``execute`` re-runs every lecture (minutes) instead of showing its stored outputs; the
    assignments are never executed. Returns the output folder, the number of HTML pages, the
    build time in seconds and Sphinx's warnings.

    Raises UserError (one line) when ``out`` holds files that are not a previous build, when
    the sources are incomplete (see ``assemble``), when Sphinx fails or a lecture raises while
    executing, or when a built page would load anything from another host.
    """
    from myst_nb.core.execute.base import ExecutionError
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError

    start = time.perf_counter()
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / ".buildinfo").exists())):
        raise UserError(f"{out}: exists and is not a site built by `grader site`; choose another --out")
    with tempfile.TemporaryDirectory(prefix="grader-site-") as tmp:
        src = Path(tmp) / "src"
        assemble(course, src)
        if out.exists():
            shutil.rmtree(out)
        overrides = {"nb_execution_mode": "force" if execute else "off",
                     "nb_execution_excludepatterns": ["assignments/*/*.ipynb"]}
        status, warning = io.StringIO(), io.StringIO()
        try:
            app = Sphinx(str(src), str(src), str(out), str(Path(tmp) / "doctrees"), "html",
                         confoverrides=overrides, status=status, warning=warning,
                         freshenv=True)
            app.build()
        except ExecutionError as exc:
            where = str(exc).replace(str(src) + "/", "") or "a lecture"
            cause = [ln for ln in _ANSI.sub("", str(exc.__cause__ or "")).splitlines() if ln.strip()]
            raise UserError(f"{where}: failed while re-executing (--execute): "
                            f"{cause[-1].strip()[:200] if cause else 'see it in JupyterLab'}") from None
        except (SphinxError, OSError, ValueError) as exc:
            raise UserError(f"the site did not build: {str(exc).splitlines()[0] if str(exc) else exc}") from None
        # a second build in one process (tests) re-registers docutils' global node classes and
        # directives: Sphinx warns "... is already registered"; that says nothing about the site
        warnings = [_ANSI.sub("", line).replace(str(src) + "/", "")
                    for line in warning.getvalue().splitlines()
                    if line.strip() and "is already registered" not in line]
        if app.statuscode:
            last = warnings[-1] if warnings else "see the messages above"
            raise UserError(f"the site did not build: {last}")
    leaks = remote_assets(out)
    if leaks:
        raise UserError(f"{out}/{leaks[0]} is loaded from another host; the site must work offline")
    pages = sum(1 for _ in out.rglob("*.html"))
    return SiteBuild(out=out, pages=pages, seconds=time.perf_counter() - start, warnings=warnings)
