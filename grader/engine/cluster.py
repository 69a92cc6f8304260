"""``grader grade --scheduler ADDRESS``: execute submissions on a Dask distributed cluster.

The trusted grading process stays where it is: it sanitizes every submission, sends each job
(the sanitized notebooks with their hidden tests, the assignment's data files, the limits) to
the cluster as one task, and records the outcomes as they come back, as the single writer of
the gradebook. A Dask worker runs the job exactly as ``grader grade`` does locally: in a
bubblewrap sandbox, through a pool of warm sandboxes it keeps per assignment
(:class:`grader.engine.pool.WarmPool`, one per worker process, as many slots as the worker has
threads), or a cold sandbox per submission.

Every machine of the cluster needs the course environment (``./run.sh`` makes it) and
bubblewrap; see the README's "Grading on a cluster". The jobs carry hidden tests, so the
cluster must be the instructor's own machines, and its connections should use TLS
(``tls://`` addresses and distributed's security settings) when they cross a network.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..config import UserError
from .sandbox import Limits

CONNECT_TIMEOUT_S = 10


@dataclass
class RemoteJob:
    """What a cluster worker needs to run one submission (and nothing of the course)."""

    student_id: str
    payload: dict[str, str]
    data_files: dict[str, bytes]
    modules: list[str]
    limits: Limits
    sandboxed: bool
    warm: bool
    jobdir: Path | None = None
    started: float = 0.0
    host: str = field(default="")

    def pool_key(self) -> str:
        h = hashlib.sha256(repr((sorted(self.modules), self.limits, self.sandboxed)).encode())
        for name in sorted(self.data_files):
            h.update(name.encode() + b"\0" + self.data_files[name])
        return h.hexdigest()[:16]


def connect(address: str):
    """A Dask client for ``address``, or a one-line :class:`UserError`."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise UserError("--scheduler needs the 'distributed' package; run ./run.sh once to install the pins") from exc
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise UserError(
            f"--scheduler {address}: cannot reach a Dask scheduler there ({first}); start one with "
            "'dask scheduler' and workers with 'dask worker ADDRESS' (see the README), or drop --scheduler"
        ) from exc


# --- on the cluster's workers -------------------------------------------------------------

_pools: dict[str, tuple] = {}
_lock = threading.Lock()


def _close_all() -> None:
    with _lock:
        for pool, tmp in _pools.values():
            pool.close()
            shutil.rmtree(tmp, ignore_errors=True)
        _pools.clear()


atexit.register(_close_all)


def _threads() -> int:
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


def _pool_for(job: RemoteJob):
    """This worker process's warm pool for the job's assignment (started on first use)."""
    from .pool import WarmPool, write_files

    key = job.pool_key()
    with _lock:
        if key in _pools:
            return _pools[key][0]
        for old, tmp in _pools.values():  # one assignment at a time per worker
            old.close()
            shutil.rmtree(tmp, ignore_errors=True)
        _pools.clear()
        tmp = Path(tempfile.mkdtemp(prefix="grader-dask-"))
        os.chmod(tmp, 0o755)
        template = tmp / "data"
        write_files(template, job.data_files)
        (tmp / "logs").mkdir()
        pool = WarmPool(template, job.modules, job.limits, _threads(), tmp / "logs")
        pool.prestart()
        _pools[key] = (pool, tmp)
        return pool


def execute(job: RemoteJob) -> dict:
    """Run one job on this (cluster) machine and return its outcome; never raises."""
    import socket

    from . import sandbox as sb
    from .pool import SlotFailed, run_cold, write_files

    host = socket.gethostname()
    try:
        if job.sandboxed and sb.bwrap() is None:
            return {"ok": False, "error": f"the Dask worker on {host} has no working bubblewrap "
                                          "(install it there, or grade with --no-sandbox)"}
        if job.sandboxed and job.warm:
            pool = _pool_for(job)
            try:
                return pool.run(job)
            except SlotFailed:
                pass  # this machine cannot keep warm sandboxes: fall back to a cold one
        with tempfile.TemporaryDirectory(prefix="grader-dask-job-") as tmp:
            os.chmod(tmp, 0o755)
            job.jobdir = Path(tmp) / job.student_id
            write_files(job.jobdir, job.data_files)
            return run_cold(job, job.limits, job.sandboxed)
    except Exception as exc:  # reported as this submission's error, never lost
        return {"ok": False, "error": f"the Dask worker on {host} failed ({type(exc).__name__}: {str(exc)[:200]})"}
