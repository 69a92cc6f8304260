"""The course website (``grader site``): built once from the real course, then checked as files
and in headless Chromium (every lecture page loads without console errors, shows its figures and
its math, every internal link resolves, search answers, no page shows a solution)."""

from __future__ import annotations

import functools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from browser_support import browser, keep_offline, require_browser, serve
from conftest import run_grader

from grader.config import Course, UserError
from grader.website import assemble, build_site, remote_assets

ROOT = Path(__file__).resolve().parent.parent
LECTURES = sorted(p.stem for p in (ROOT / "course").glob("[0-9][0-9]-*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "assignments").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "html"
    result = build_site(Course(ROOT), out)
    assert result.warnings == [], result.warnings
    return result.out


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.links.append(a["href"])


@functools.cache
def _parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _secrets() -> set[str]:
    """Lines that only the instructor's notebooks hold: solution regions, hidden tests and model
    answers (25 characters or more, and found in no lecture and no released notebook, whatever
    the line breaks: a prompt may quote a line of the solution)."""
    public = _squeeze("\n".join("".join(c["source"]) for p in
                                [*ROOT.glob("course/*.ipynb"), *ROOT.glob("assignments/*/*.ipynb")]
                                for c in json.loads(p.read_text(encoding="utf-8"))["cells"]))
    found: set[str] = set()
    for path in ROOT.glob("solutions/*/*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            inside = False
            for line in "".join(cell["source"]).splitlines():
                text = line.strip()
                if re.match(r"#+ (BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)", text):
                    inside = "BEGIN" in text
                    continue
                secret = inside or (meta.get("solution") and cell["cell_type"] == "markdown")
                if secret and len(text) >= 25 and _squeeze(text) not in public:
                    found.add(text)
    return found


def test_the_site_has_every_lecture_and_assignment_in_module_order(site):
    for stem in LECTURES:
        assert (site / "course" / f"{stem}.html").exists()
    for aid in ASSIGNMENTS:
        assert (site / "assignments" / aid / f"{aid}.html").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    nav = index[index.index('class="bd-sidebar-primary'):]
    order = [nav.index(f'href="course/{s}.html"') for s in LECTURES]
    order += [nav.index(f'href="assignments/{a}/{a}.html"') for a in ASSIGNMENTS]
    assert order == sorted(order)
    for words in ("Who it is for", "The certificate", "interpretable models"):  # landing + module table
        assert words in index
    assert (site / "searchindex.js").exists() and (site / "search.html").exists()
    assert "Question 1" in (site / "assignments" / "05-evaluation-metrics" / "05-evaluation-metrics.html").read_text()


def test_each_page_opens_its_notebook_in_a_local_jupyterlab(site):
    for stem in LECTURES:
        html = (site / "course" / f"{stem}.html").read_text(encoding="utf-8")
        assert f'href="http://localhost:8888/lab/tree/course/{stem}.ipynb"' in html
    html = (site / "assignments" / "05-evaluation-metrics" / "05-evaluation-metrics.html").read_text()
    assert 'href="http://localhost:8888/lab/tree/assignments/05-evaluation-metrics/05-evaluation-metrics.ipynb"' in html


def test_every_internal_link_resolves(site):
    broken = []
    for page in sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts):
        for link in _parse(page).links:
            if urlparse(link).scheme or link.startswith(("//", "mailto:", "javascript:")):
                continue
            url, fragment = urldefrag(link)
            url = urlparse(url).path
            target = (page.parent / unquote(url)).resolve() if url else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in _parse(target).ids:
                broken.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    assert broken == []


def test_a_link_to_a_notebook_that_is_not_on_the_site_becomes_text():
    # every lecture is written now, so the rule is tested on a link to a module that is not
    from grader.website import _unlink_missing

    source = "See [module 16](16-future.ipynb) and [LIME](09-lime.ipynb)."
    out = _unlink_missing(source, "course/10-counterfactuals-gradients.ipynb", {"course/09-lime.ipynb"})
    assert out == "See module 16 (not yet published) and [LIME](09-lime.ipynb)."


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _readable(path: Path) -> str:
    """What a reader of ``path`` can see: an HTML page's text (code highlighting removed), a
    notebook's sources and outputs, any other file as it is."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(text)
        return "".join(parser.parts)
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        return "\n".join("".join(c.get("source", "")) + "\n" + json.dumps(c.get("outputs", []))
                         for c in nb.get("cells", []))
    return text


def _leaks(root: Path, secrets: set[str]) -> list[str]:
    pattern = re.compile("|".join(re.escape(_squeeze(s)) for s in sorted(secrets, key=len, reverse=True)))
    markers = re.compile(r"BEGIN SOLUTION|BEGIN HIDDEN TESTS|BEGIN MARK SCHEME|check_hidden")
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".html", ".js", ".ipynb", ".txt")):
        if "_static" in path.relative_to(root).parts:
            continue
        text = _squeeze(_readable(path))
        found += [f"{path.relative_to(root)}: {m.group(0)[:60]}" for m in markers.finditer(text)]
        found += [f"{path.relative_to(root)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    return found


def test_no_page_shows_a_solution_or_a_hidden_test(site, tmp_path):
    secrets = _secrets()
    assert len(secrets) > 50  # the scan has something to look for
    assert _leaks(site, secrets) == []
    # the scan finds a model answer in highlighted code, and a hidden test in a notebook
    (tmp_path / "p.html").write_text('<pre><span class="n">tp</span> <span class="o">=</span> '
                                     '<span class="nb">int</span>(np.sum(actual &amp; predicted))</pre>')
    (tmp_path / "n.ipynb").write_text(json.dumps({"cells": [{"source": ["q1.check_hidden(seed=1)"]}]}))
    assert _leaks(tmp_path, secrets | {"tp = int(np.sum(actual & predicted))"}) == [
        "n.ipynb: check_hidden", "p.html: tp = int(np.sum(actual & predicted))"]


def test_the_site_loads_nothing_from_another_host(site, tmp_path):
    assert remote_assets(site) == []
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    # and the scan would see one
    fake = tmp_path / "fake"
    shutil.copytree(site / "_static", fake / "_static", ignore=shutil.ignore_patterns("mathjax"))
    (fake / "p.html").write_text('<script src="https://cdn.example.org/x.js"></script><a href="https://ok.org">')
    (fake / "_static" / "x.css").write_text('@import "//fonts.example.org/f.css";')
    assert remote_assets(fake) == ["p.html: https://cdn.example.org/x.js", "_static/x.css: //fonts.example.org/f.css"]


def _toy_with_site(toy_course) -> Course:
    shutil.copytree(ROOT / "website", toy_course.root / "website")
    (toy_course.root / "course").mkdir()
    nb = {"cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# 99 · Toy\n\nSee [the assignment](../assignments/99-toy/99-toy.ipynb) and [later](98-later.ipynb)."},
                    {"cell_type": "code", "id": "answer", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": "print('answer', 6 * 7)"}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (toy_course.root / "course" / "99-toy.ipynb").write_text(json.dumps(nb))
    return toy_course


def test_the_site_is_built_from_the_release_and_refuses_a_leaky_one(toy_course, tmp_path):
    course = _toy_with_site(toy_course)
    lectures, assignments = assemble(course, tmp_path / "src")
    assert lectures == ["course/99-toy"] and assignments == ["assignments/98-checks/98-checks", "assignments/99-toy/99-toy"]
    lecture = (tmp_path / "src" / "course" / "99-toy.ipynb").read_text()
    assert "../assignments/99-toy/99-toy.ipynb" in lecture and "later (not yet published)" in lecture
    assert not (tmp_path / "src" / "solutions").exists()
    # a release that holds a solution (edited by hand, or copied from solutions/) is refused
    shutil.copy(course.solutions / "99-toy" / "99-toy.ipynb", course.assignments / "99-toy" / "99-toy.ipynb")
    with pytest.raises(UserError, match=r"assignments/99-toy/99-toy.ipynb: holds 'BEGIN SOLUTION'.*grader release 99-toy"):
        assemble(course, tmp_path / "src2")


def test_site_cli_never_overwrites_a_folder_it_did_not_build(toy_course, tmp_path):
    _toy_with_site(toy_course)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    proc = run_grader("--course", str(toy_course.root), "site", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a site built by `grader site`" in proc.stderr
    assert (out / "thesis.tex").read_text() == "precious"


def test_browser_tests_skip_in_one_line_without_chromium_but_fail_when_required(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("GRADER_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^browser test skipped: no Chromium \(apt-get install chromium"):
        require_browser()
    monkeypatch.setenv("GRADER_REQUIRE_BROWSER", "1")  # CI, once it has installed chromium
    with pytest.raises(pytest.fail.Exception, match="GRADER_REQUIRE_BROWSER=1, but no Chromium"):
        require_browser()


def test_execute_reruns_the_lectures_but_never_the_assignments(toy_course, tmp_path):
    course = _toy_with_site(toy_course)
    stored = build_site(course, tmp_path / "stored")
    assert "answer 42" not in (stored.out / "course" / "99-toy.html").read_text()
    fresh = build_site(course, tmp_path / "fresh", execute=True)  # the release would raise
    assert "answer 42" in (fresh.out / "course" / "99-toy.html").read_text()
    assert fresh.warnings == []


# --- in the browser ----------------------------------------------------------------------------

_STATE = """() => ({
  images: Array.from(document.querySelectorAll('main img')).map(i => ({src: i.src, w: i.naturalWidth, ok: i.complete})),
  math: document.querySelectorAll('main .math').length,
  typeset: document.querySelectorAll('main .math mjx-container').length,
  mathErrors: document.querySelectorAll('main mjx-merror').length,
})"""


def _png_outputs(nb_path: Path) -> int:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


def test_pages_render_in_chromium(site):
    pages = ["index.html", *[f"course/{s}.html" for s in LECTURES],
             *[f"assignments/{a}/{a}.html" for a in ASSIGNMENTS]]
    problems: list[str] = []
    with serve(site) as base, browser() as b:
        page = b.new_page()
        page.set_default_timeout(60_000)
        keep_offline(page)
        current = [""]
        page.on("console", lambda m: problems.append(f"{current[0]}: console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"{current[0]}: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"{current[0]}: failed {r.url}"))
        page.on("response", lambda r: problems.append(f"{current[0]}: {r.status} {r.url}") if r.status >= 400 else None)
        math_pages = 0
        for rel in pages:
            current[0] = rel
            page.goto(base + rel, wait_until="load")
            if page.locator("main .math").count():
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
                page.evaluate("() => MathJax.startup.promise")
                math_pages += 1
            state = page.evaluate(_STATE)
            bad = [i["src"] for i in state["images"] if not (i["ok"] and i["w"] > 0)]
            if bad:
                problems.append(f"{rel}: images not displayed: {bad}")
            if rel.startswith("course/"):
                want = _png_outputs(ROOT / "course" / (Path(rel).stem + ".ipynb"))
                if len(state["images"]) < want:
                    problems.append(f"{rel}: {len(state['images'])} images shown, the notebook has {want}")
            if state["typeset"] < state["math"] or state["mathErrors"]:
                problems.append(f"{rel}: math typeset {state['typeset']}/{state['math']}, {state['mathErrors']} errors")
            text = page.locator("main").inner_text()
            for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "check_hidden"):
                if marker in text:
                    problems.append(f"{rel}: shows {marker}")
        assert math_pages >= 3  # lectures 01, 03, 08 and 09 have formulas
        current[0] = "search"
        page.goto(base + "search.html?q=permutation")
        results = page.locator("#search-results li")
        results.first.wait_for()
        assert results.count() >= 3
        assert page.locator("#search-results").get_by_text("Global model-agnostic methods").count() >= 1
    assert problems == []


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_NB_LINK = re.compile(r"\]\(([^)\s#]+\.ipynb)#([^)\s]+)\)")


def _heading_anchors(nb_path: Path) -> tuple[set[str], set[str]]:
    """(JupyterLab's anchors, the site's anchors) of a notebook's headings up to level 3: JupyterLab
    keeps the text and turns spaces into hyphens; MyST (``myst_heading_anchors = 3``) slugifies."""
    from myst_parser.mdit_to_docutils.base import default_slugify

    lab, site = set(), set()
    for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for hashes, text in _HEADING.findall("".join(cell["source"])):
            lab.add(text.replace(" ", "-"))
            if len(hashes) <= 3:
                site.add(default_slugify(text))
    return lab, site


def test_a_link_into_another_notebook_lands_on_its_heading_in_jupyterlab_and_on_the_site():
    """Found by CI: lecture 09 linked ``10-...ipynb#4.-Gradients-of-a-neural-network``, JupyterLab's
    anchor, which the site spells ``4-gradients-of-a-neural-network``; the site build warned and
    every site test failed. A fragment into another notebook must be an anchor in both, checked here
    in a second without building the site."""
    notebooks = sorted((ROOT / "course").glob("*.ipynb")) + sorted((ROOT / "assignments").glob("*/*.ipynb"))
    broken = []
    for nb in notebooks:
        for target, fragment in _NB_LINK.findall(nb.read_text(encoding="utf-8")):
            lab, site = _heading_anchors((nb.parent / unquote(target)).resolve())
            if unquote(fragment) not in lab & site:
                broken.append(f"{nb.relative_to(ROOT)} -> {target}#{fragment}")
    assert not broken, ("link to a section by its notebook alone, or to a heading whose anchor is "
                        "the same in JupyterLab and on the site: " + "; ".join(broken))


def test_the_anchor_check_tells_the_two_spellings_apart(tmp_path):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": ["## 4. Gradients of a net\n",
                                                                           "### gradients\n"]}]}))
    lab, site = _heading_anchors(nb)
    assert "4.-Gradients-of-a-net" in lab and "4.-Gradients-of-a-net" not in site
    assert "gradients" in lab & site
