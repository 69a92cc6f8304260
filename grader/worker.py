"""Execute the notebooks of one prepared job directory (``python -m grader.worker JOBDIR``).

This is the only part of grading that runs student code, so it runs in a process of its own
that the trusted parent can time out and kill with everything it started. It reads
``JOBDIR/job.json`` (the notebooks to run and the per-cell timeout), executes each notebook with
nbgrader's ``Execute`` preprocessor (the kernel's working directory is the job directory, which
holds nothing but the student's sanitized notebook and the assignment's data files), and writes
``<name>.executed.ipynb`` beside it. It never opens the gradebook.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path


def run_job(jobdir: Path) -> dict:
    import nbformat
    from nbgrader.preprocessors import Execute

    spec = json.loads((jobdir / "job.json").read_text())
    timings: dict[str, float] = {}
    for name in spec["notebooks"]:
        nb = nbformat.read(jobdir / name, as_version=4)
        start = time.perf_counter()
        executor = Execute(timeout=int(spec["cell_timeout"]), kernel_name="python3")
        executor.log.setLevel(logging.ERROR)
        nb, _ = executor.preprocess(nb, {"metadata": {"path": str(jobdir)}})
        timings[name] = time.perf_counter() - start
        nbformat.write(nb, jobdir / (name + ".executed"))
    return timings


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    jobdir = Path(argv[0]).resolve()
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.ERROR)
    try:
        timings = run_job(jobdir)
    except Exception as exc:  # reported to the parent through the result file
        (jobdir / "result.json").write_text(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    (jobdir / "result.json").write_text(json.dumps({"ok": True, "seconds": timings}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
