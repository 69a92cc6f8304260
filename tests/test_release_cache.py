"""The release cache of a grading run (grader.release.generate_for_grading, issue 19): a new SQLite
gradebook gets the assignment's rows and release copied from a cache kept by the first run,
instead of nbgrader's generate_assignment each time; anything odd falls back to nbgrader."""

from __future__ import annotations

import csv
import filecmp
import os
from pathlib import Path

import pytest

from grader import release
from grader.config import sqlite_url

AID = "99-toy"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls = []
    real = release.generate

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(release, "generate", counting)
    return calls


def _gen(course, where: Path) -> Path:
    where.mkdir(parents=True)
    release.generate_for_grading(course, AID, where / "release", sqlite_url(where / "gradebook.db"))
    return where


def _book(where: Path) -> tuple:
    from nbgrader.api import Gradebook

    with Gradebook(sqlite_url(where / "gradebook.db")) as gb:
        a = gb.find_assignment(AID)
        nb = a.notebooks[0]
        return (a.max_score, sorted(c.name for c in nb.grade_cells),
                sorted((c.name, c.source, c.checksum) for c in nb.source_cells))


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    return not (cmp.left_only or cmp.right_only or cmp.diff_files) and all(
        _same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_the_second_run_copies_what_nbgrader_generated_the_first_time(toy_course, tmp_path, cache):
    first = _gen(toy_course, tmp_path / "one")
    second = _gen(toy_course, tmp_path / "two")
    assert cache == [AID]  # nbgrader ran once
    assert _book(first) == _book(second) and _book(first)[0] > 0
    assert _same_tree(first / "release", second / "release")
    entry = release._release_cache(toy_course, AID)
    assert oct(entry.parent.stat().st_mode & 0o777) == "0o700"  # gradebooks hold hidden tests


def test_a_changed_source_is_generated_again(toy_course, tmp_path, cache):
    _gen(toy_course, tmp_path / "one")
    src = toy_course.solutions / AID / f"{AID}.ipynb"
    src.write_text(src.read_text().replace("Toy", "Toy, second edition", 1))
    _gen(toy_course, tmp_path / "two")
    assert cache == [AID, AID]


def test_an_existing_gradebook_is_synced_by_nbgrader(toy_course, tmp_path, cache):
    _gen(toy_course, tmp_path / "one")
    where = tmp_path / "one"
    release.generate_for_grading(toy_course, AID, where / "release2", sqlite_url(where / "gradebook.db"))
    assert cache == [AID, AID]


@pytest.mark.parametrize("damage", ["no-gradebook", "cache-is-a-file"])
def test_a_broken_or_unwritable_cache_falls_back_to_nbgrader(toy_course, tmp_path, cache, monkeypatch, damage):
    if damage == "cache-is-a-file":
        (tmp_path / "blocked").write_text("not a folder")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    else:
        _gen(toy_course, tmp_path / "seed")
        (release._release_cache(toy_course, AID) / "gradebook.db").unlink()
        cache.clear()
    where = _gen(toy_course, tmp_path / "one")
    assert cache == [AID]
    assert _book(where)[0] > 0 and (where / "release" / AID / f"{AID}.ipynb").is_file()
    assert not list(where.glob(".gradebook.db.*"))


def test_the_cache_keeps_only_the_most_recent_releases(tmp_path):
    base = tmp_path / "releases"
    for i in range(5):
        (base / f"e{i}").mkdir(parents=True)
        os.utime(base / f"e{i}", (1000 + i, 1000 + i))
    release._evict(base, keep=2)
    assert sorted(p.name for p in base.iterdir()) == ["e3", "e4"]


def test_grading_twice_gives_the_same_grades_with_the_cache(toy_course, tmp_path, cache):
    from test_grading import _submission

    from grader.grading import grade

    subs = _submission(toy_course, tmp_path, {"good": "solution"})
    rows = []
    for out in ("out1", "out2"):
        grade(toy_course, AID, subs, tmp_path / out, sandbox=False, warm=False, progress=False)
        with open(tmp_path / out / "grades.csv", newline="") as fh:
            rows.append([{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(fh)])
    assert cache == [AID]
    assert rows[0] == rows[1] and rows[0][0]["score"] == "4"
