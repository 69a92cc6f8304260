"""Warm sandboxes work whatever Python the grader runs on (issue 19, part 1).

On Debian, ``python3.11`` is Debian's own build (``/usr/bin/python3.11``: ``sys.base_prefix``
``/usr``, the standard library in ``/usr/lib/python3.11``, ``/etc/python3.11``); a fresh
clone's ``./run.sh`` makes its virtual environment from it. Warm grading once waited about
190 s on such a machine and fell back to cold sandboxes: the environment lived under ``/tmp``,
which the sandbox replaces with an empty tmpfs, and the zygote could not empty a ``/tmp``
holding the environment's mount point, so it reported itself unusable and the pool waited for
``READY_TIMEOUT_S`` instead of noticing.

This test builds, once per session, a virtual environment from Debian's interpreter under the
tests' temporary folder (so under ``/tmp``: both causes at once) and grades the fixture course
with it in a warm sandbox (the packages are this environment's, hard-linked: see the
fixture). It skips, saying why, where Debian's interpreter or its ``venv`` module is missing
(CI installs them: ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from grader.engine.sandbox import bwrap

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = Path("/usr/bin/python3.11")
AID = "99-toy"


def _link_tree(src: Path, dest: Path) -> None:
    """``src`` copied to ``dest`` as hard links (seconds), or as a plain copy across file systems."""
    try:
        shutil.copytree(src, dest, symlinks=True, copy_function=os.link)
    except (OSError, shutil.Error):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, symlinks=True)


@pytest.fixture(scope="session")
def debian_venv(tmp_path_factory) -> Path:
    """A virtual environment made by Debian's python3.11 holding the grader and its pins.

    When the tests run on a Python 3.11 too (same ABI), the environment gets this one's
    installed packages as hard links (a few seconds; ``pip install`` of the pins took 2 to 8
    minutes here); otherwise pip installs them, from the wheels it cached for ``.venv``.
    """
    if not DEBIAN_PYTHON.exists():
        pytest.skip(f"{DEBIAN_PYTHON} is not here (Debian's python3.11): warm grading under it not tested")
    probe = subprocess.run([str(DEBIAN_PYTHON), "-c", "import ensurepip, venv"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"{DEBIAN_PYTHON} has no venv module: apt-get install python3.11-venv")
    venv = tmp_path_factory.mktemp("debian-python") / "venv"
    start = time.monotonic()
    python = venv / "bin" / "python"
    if sys.version_info[:2] == (3, 11):
        subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True,
                       capture_output=True)
        site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        shutil.rmtree(site)
        _link_tree(Path(sysconfig.get_paths()["purelib"]), site)
        # the packages' data files too (nbconvert's templates, which feedback pages need)
        shared = Path(sysconfig.get_paths()["data"]) / "share"
        if shared.is_dir():
            _link_tree(shared, venv / "share")
    else:
        subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", str(venv)], check=True, capture_output=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "-e", str(ROOT)], capture_output=True, text=True, timeout=1500)
        if pip.returncode != 0:
            pytest.fail(f"installing the grader with {DEBIAN_PYTHON} failed: {pip.stderr.strip()[-500:]}",
                        pytrace=False)
    print(f"debian venv: built in {time.monotonic() - start:.0f} s", file=sys.stderr)
    return venv


@pytest.mark.skipif(bwrap() is None, reason="warm sandboxes need bubblewrap")
def test_warm_grading_under_debians_python(debian_venv, toy_course, tmp_path):
    subs = tmp_path / "submitted" / "honest" / AID
    subs.mkdir(parents=True)
    shutil.copy(toy_course.solutions / AID / f"{AID}.ipynb", subs / f"{AID}.ipynb")
    home = tmp_path / "home"  # a newcomer's: nothing learnt or cached yet
    home.mkdir()
    env = {"PATH": f"{debian_venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    check = subprocess.run([str(debian_venv / "bin" / "python"), "-c",
                            "import sys; print(sys.base_prefix)"], capture_output=True, text=True, env=env)
    assert check.stdout.strip() == "/usr", check.stdout  # really Debian's interpreter
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(debian_venv / "bin" / "python"), "-m", "grader.cli", "grade", AID, "--submissions", str(tmp_path / "submitted"),
         "--out", str(out), "--workers", "1", "--quiet"],
        cwd=toy_course.root, capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warm kernels unavailable" not in proc.stderr, proc.stderr
    row = (out / "grades.csv").read_text().splitlines()[1].split(",")
    assert row[2:5] == ["4", "5", "graded"], (out / "grades.csv").read_text()
    assert os.listdir(home / ".cache" / "grader"), "the warm sandbox's kernel imports were not learnt"


@pytest.mark.skipif(bwrap() is None, reason="warm sandboxes need bubblewrap")
def test_a_sandbox_that_cannot_start_is_noticed_at_once(tmp_path, monkeypatch):
    """The sandbox's process ends at once (here its interpreter cannot even find the zygote):
    the pool says so, with the last line of the sandbox's log, long before READY_TIMEOUT_S."""
    import threading

    from grader.engine import pool as P
    from grader.engine.sandbox import Limits

    monkeypatch.setattr(P, "READY_TIMEOUT_S", 3600)
    monkeypatch.setattr(P.sys, "executable", "/bin/sh")  # `sh -m grader.engine.warm ...`: no such file
    (tmp_path / "data").mkdir()
    pool = P.WarmPool(tmp_path / "data", [], Limits(), 1, tmp_path)
    failure: list[str] = []

    def acquire() -> None:
        try:
            pool.acquire()
        except P.SlotFailed as exc:
            failure.append(str(exc))

    pool.prestart()
    waiter = threading.Thread(target=acquire, daemon=True)
    waiter.start()
    waiter.join(timeout=300)  # a regression waits READY_TIMEOUT_S, an hour here
    pool.close()
    assert failure, "the pool still waits for a sandbox that has exited"
    assert "did not start" in failure[0] and "grader.engine.warm" in failure[0], failure[0]
    assert "\n" not in failure[0]
