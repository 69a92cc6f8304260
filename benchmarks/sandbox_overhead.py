"""What the sandbox costs per submission: the same batch graded with and without it.

    python benchmarks/sandbox_overhead.py [--assignment 05-evaluation-metrics] [--n 6] [--rounds 2]

Grades N copies of the assignment's solution with one worker, alternating sandboxed and
unsandboxed runs (so load drifts hit both), and prints the mean seconds per submission of each,
their difference and ratio. Both modes run the same worker and tamper probes; the difference
is bubblewrap and the per-submission cgroup.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.config import Course  # noqa: E402
from grader.engine.sandbox import bwrap  # noqa: E402
from grader.grading import grade  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="05-evaluation-metrics")
    ap.add_argument("--n", type=int, default=6, help="submissions per batch")
    ap.add_argument("--rounds", type=int, default=2, help="batches per mode")
    args = ap.parse_args()
    if bwrap() is None:
        print("bubblewrap is not installed: nothing to compare", file=sys.stderr)
        return 2
    course = Course(ROOT)
    src = course.source_notebooks(args.assignment)[0]
    per = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        for i in range(args.n):
            d = subs / f"s{i:03d}" / args.assignment
            d.mkdir(parents=True)
            shutil.copy(src, d / src.name)
        for r in range(args.rounds):
            for sandboxed in (True, False):
                out = Path(tmp) / f"out-{r}-{sandboxed}"
                start = time.perf_counter()
                results = grade(course, args.assignment, subs, out, workers=1, sandbox=sandboxed, progress=False)
                wall = time.perf_counter() - start
                assert all(res.status == "graded" for res in results), [res.reason for res in results]
                per[sandboxed].append(wall / args.n)
                print(f"round {r + 1} {'sandbox   ' if sandboxed else 'no sandbox'}: {wall:6.1f} s "
                      f"for {args.n} submissions ({wall / args.n:.2f} s each)")
    s, u = statistics.mean(per[True]), statistics.mean(per[False])
    print(f"\nper submission: sandbox {s:.2f} s, no sandbox {u:.2f} s, "
          f"overhead {s - u:+.2f} s ({s / u:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
