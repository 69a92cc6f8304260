"""The engine's one entry point: :class:`Engine` runs prepared jobs and returns their outcomes.

The trusted grading process (:mod:`grader.grading`) reads and sanitizes a submission into a
:class:`Job`; the engine decides *where* the job's notebooks execute and hands back the outcome
dict (``ok``, ``notebooks``, ``findings``, ``limits``, or ``error``/``timeout``) that grading then
judges and records. The three places, in the order the engine prefers them:

- a warm sandbox (:class:`grader.engine.pool.WarmPool`): a long-lived bubblewrap sandbox whose
  zygote (:mod:`grader.engine.warm`) forks a fresh kernel per student;
- a cold sandbox (:func:`grader.engine.pool.run_cold`): bubblewrap, a fresh Python and a fresh
  kernel for one submission (:mod:`grader.engine.worker`), when warm sandboxes are off, failed to
  start or cannot isolate forked kernels on this machine;
- a Dask cluster (:mod:`grader.engine.cluster`), when a scheduler's address is given.

Nothing here reads a score: an outcome is hostile data until grading has bounded and judged it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import UserError
from . import cluster
from . import sandbox as sb
from .pool import ALWAYS, SlotFailed, WarmPool, imports_of, pool_size, run_cold, write_files
from .sandbox import Limits


@dataclass
class Job:
    """One submission, sanitized by the trusted side and ready to execute.

    ``payload`` maps each notebook's name to its sanitized JSON (hidden tests included);
    ``jobdir`` is the directory the cold sandbox mounts as the submission's working directory.
    """

    student_id: str
    jobdir: Path
    notebooks: list[str]
    flags: list[str]
    started: float
    payload: dict[str, str] = field(default_factory=dict)  # name -> sanitized notebook JSON
    digest: str = ""
    notes: list[str] = field(default_factory=list)  # what intake repaired, in plain words


def isolation(sandbox: bool | None) -> bool:
    """Whether jobs run sandboxed: ``None`` (the default) and ``True`` require bubblewrap and a
    seccomp filter for this machine, and raise :class:`UserError` (one line) without them;
    ``False`` runs trusted notebooks without isolation."""
    if sandbox is False:
        return False
    if sb.bwrap() is None:
        raise UserError(
            "bubblewrap (bwrap) is not available here, so student code cannot be isolated; install it "
            "(Debian/Ubuntu: apt-get install bubblewrap) or pass --no-sandbox to grade trusted submissions"
        )
    sb.seccomp_program()  # a machine whose system calls the filter does not know: one line
    return True


class Engine:
    """Where the jobs of one assignment run; a context manager that stops every sandbox it started.

    ``workdir`` is a private temporary directory (the jobs' directories go in ``jobs_root``),
    ``sources`` the assignment's code cells (their imports are pre-imported by warm sandboxes),
    ``submissions`` how many jobs may come (a warm sandbox pays off over several). Warm sandboxes
    start warming at construction, while the caller prepares the gradebook; call
    :meth:`provide` with the assignment's data files before the first :meth:`run`.
    """

    def __init__(self, workdir: Path, sources: list[str], limits: Limits, *, workers: int,
                 submissions: int, sandboxed: bool, warm: bool | None = None,
                 scheduler: str | None = None):
        self.limits, self.sandboxed, self.workers = limits, sandboxed, workers
        self.warm = warm is not False
        self.modules = list(dict.fromkeys([*ALWAYS, *imports_of(sources)]))
        self.jobs_root = Path(workdir) / "jobs"
        self.jobs_root.mkdir()
        self.data_files: dict[str, bytes] = {}
        self.client = cluster.connect(scheduler) if scheduler else None
        self.pool: WarmPool | None = None
        self._template = Path(workdir) / "data"
        if sandboxed and self.warm and self.client is None and submissions:
            self._template.mkdir()
            self.pool = WarmPool(self._template, self.modules, limits,
                                 pool_size(workers, submissions), self.jobs_root)
            self.pool.prestart()
        self._checked = self.pool is None
        self._check_once = threading.Lock()
        # as many jobs at once as warm sandboxes (a thread that waited for a busy one would time
        # out into a cold sandbox); ``workers`` at once if grading falls back to cold sandboxes
        self._turns = threading.Semaphore(self.pool.size if self.pool is not None else workers)

    @property
    def remote(self) -> bool:
        """True if the jobs run on a cluster (:meth:`run_remote`), not here (:meth:`run`)."""
        return self.client is not None

    def provide(self, data_files: dict[str, bytes]) -> None:
        """The assignment's data files (name -> bytes), copied into every job's directory."""
        self.data_files = dict(data_files)
        if self.pool is not None:
            write_files(self._template, self.data_files)

    def run(self, job: Job) -> dict:
        """Execute ``job`` here and return its outcome; thread-safe. A warm sandbox that could not
        take the job before any student code ran hands it to a cold sandbox."""
        slots = self._usable_pool()
        if slots is not None:
            with self._turns:
                try:
                    return slots.run(job)
                except SlotFailed:
                    pass
        write_files(job.jobdir, self.data_files)
        return run_cold(job, self.limits, self.sandboxed)

    def run_remote(self, jobs: list[Job], aid: str) -> Iterator[tuple[Job, dict]]:
        """Run ``jobs`` on the cluster; yield ``(job, outcome)`` as each one finishes. A task that
        failed as a whole (a worker died twice, say) yields an ``error`` outcome, never raises."""
        import os

        from distributed import as_completed as dask_completed

        by_key, futures = {}, []
        for job in jobs:
            remote = cluster.RemoteJob(job.student_id, job.payload, self.data_files, self.modules,
                                       self.limits, self.sandboxed, self.warm)
            fut = self.client.submit(cluster.execute, remote, pure=False,
                                     key=f"grade-{aid}-{job.student_id}-{os.urandom(4).hex()}")
            by_key[fut.key] = job
            futures.append(fut)
        for fut in dask_completed(futures, loop=self.client.loop):
            job = by_key[fut.key]
            try:
                outcome = fut.result()
            except Exception as exc:
                outcome = {"ok": False,
                           "error": f"the cluster could not run it ({type(exc).__name__}: {str(exc)[:160]})"}
            yield job, outcome

    def _usable_pool(self) -> WarmPool | None:
        """The warm pool, checked once (by the first job that needs it), or None (cold)."""
        with self._check_once:
            if not self._checked:
                self._checked = True
                self.pool = _usable(self.pool)
            return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _usable(pool: WarmPool) -> WarmPool | None:
    """The pool, if its first sandbox came up and can isolate forked kernels; else None (cold)."""
    try:
        slot = pool.first_ready()
    except SlotFailed as exc:
        why = str(exc)
    else:
        if slot.isolated:
            return pool
        why = "this kernel does not let a sandbox create user namespaces of its own"
    pool.close()
    print(f"grader: warm kernels unavailable ({why}); grading each submission in a cold sandbox",
          file=sys.stderr)
    return None


__all__ = ["Engine", "Job", "Limits", "isolation"]
