"""Where a submission runs: the execution engine.

:class:`Engine` (in :mod:`grader.engine.runner`) is the one entry point: the trusted grading
process hands it a sanitized :class:`Job` and gets back the job's outcome. Everything else here
serves it:

- :mod:`~grader.engine.sandbox`: the bubblewrap command, resource limits and seccomp filter;
- :mod:`~grader.engine.pool`: cold sandboxes and the pool of warm ones;
- :mod:`~grader.engine.warm`: the zygote inside a warm sandbox that forks one kernel per student;
- :mod:`~grader.engine.worker`: executes a submission's notebooks inside a sandbox;
- :mod:`~grader.engine.probe`: fingerprints, inside the kernel, what grading relies on;
- :mod:`~grader.engine.cluster`: the same jobs on a Dask cluster.

Where a score is decided is elsewhere, outside every sandbox: :mod:`grader.judging` (the answer
key's verdicts) and :mod:`grader.grading` (nbgrader's autograde semantics and the gradebook).

Importing this package imports nothing else: the sandboxed side (the worker, the zygote, the probe
inside the student's kernel) loads only the modules it runs, never the trusted runner.
"""

__all__ = ["Engine", "Job", "Limits", "isolation"]


def __getattr__(name: str):
    if name in ("Engine", "Job", "isolation"):
        from . import runner

        return getattr(runner, name)
    if name == "Limits":
        from .sandbox import Limits

        return Limits
    raise AttributeError(f"module 'grader.engine' has no attribute {name!r}")
