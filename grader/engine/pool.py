"""Run submissions' notebooks: a cold sandbox each, or warm sandboxes reused one student at a time.

Both runners take a job (the sanitized notebooks with their hidden tests) and return the same
*outcome* dict (``ok``, ``notebooks``, ``findings``, ``limits``, or ``error``/``timeout``):

- :func:`run_cold` starts bubblewrap, a fresh Python and a fresh kernel for one submission
  (:mod:`grader.engine.worker`), as stock nbgrader does, plus the sandbox;
- :class:`WarmPool` keeps one long-lived sandbox per grading worker, each running the zygote of
  :mod:`grader.engine.warm`, which has imported the kernel machinery and the assignment's libraries
  once and forks a fresh, isolated kernel per submission. A sandbox that a student left in a
  state the zygote cannot restore, or that died, or ran past its time, is thrown away and a new
  one started; the student it was grading gets the same outcome as in a cold sandbox.

The job travels to the sandbox on a pipe and the result comes back on another, both handed
over as file descriptors; nothing of it is written to disk.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import sandbox as sb
from .sandbox import Limits
from .worker import kill_after  # the worker stops the student's code in time to report

#: Libraries worth importing ahead whatever the notebook says (besides grader.engine.probe.WATCHED,
#: which the zygote always imports because every kernel's first probe does).
ALWAYS = ("numpy", "pandas", "sklearn")
READY_TIMEOUT_S = 180
#: A warm sandbox's start costs about as much CPU as grading this many submissions in one that
#: is running (measured on 05-evaluation-metrics: ~4 s against ~1 s), so a pool has one sandbox
#: per this many submissions, at most one per worker: a second sandbox for three submissions
#: would finish after the first had graded them all.
SUBMISSIONS_PER_SANDBOX = 4


def pool_size(workers: int, submissions: int) -> int:
    """How many warm sandboxes to start for ``submissions`` submissions and ``workers`` workers:
    ceil(submissions / SUBMISSIONS_PER_SANDBOX), at least 1, at most ``workers``."""
    return max(1, min(workers, -(-submissions // SUBMISSIONS_PER_SANDBOX)))


def imports_of(sources: list[str]) -> list[str]:
    """Modules a trusted (source) notebook imports, as dotted names, in order of appearance."""
    found: list[str] = []
    for src in sources:
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
            found += [n for n in names if n not in found]
    return found


def write_files(dest: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative name -> content: an assignment's data files) under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _drain(fd: int, chunks: list[bytes], cap: int) -> None:
    total = 0
    with os.fdopen(fd, "rb") as pipe:
        while True:
            block = pipe.read(1 << 16)
            if not block:
                break
            total += len(block)
            if total <= cap:
                chunks.append(block)


def _feed(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
    except OSError:  # the reader died: its outcome says why
        pass


def _parse(chunks: list[bytes], hits: list[str], ended: str, elapsed: float) -> dict:
    outcome = _parse_result(chunks, hits, ended)
    outcome["elapsed"] = elapsed
    return outcome


def _parse_result(chunks: list[bytes], hits: list[str], ended: str) -> dict:
    try:
        outcome = json.loads(b"".join(chunks).decode("utf-8"))
    except ValueError:
        what = f"hit the {' and '.join(hits)} limit" if hits else ended
        return {"ok": False, "limits": hits, "error": f"the grading process {what}"}
    if not isinstance(outcome, dict):
        return {"ok": False, "limits": hits, "error": "the grading process returned no result"}
    # the worker capped the outputs inside the sandbox (grader.engine.worker)
    outcome["limits"] = [*hits, "output"] if outcome.pop("output_capped", False) is True else hits
    return outcome


def job_spec(job, limits: Limits) -> bytes:
    """The job as the worker reads it: notebooks, per-cell timeout, the time budget within which
    the worker stops and sends what ran (before the parent's kill), and the output caps."""
    from .worker import time_budget

    return json.dumps({
        "notebooks": job.payload, "cell_timeout": limits.cell_timeout,
        "time_budget_s": time_budget(limits.submission_timeout),
        "output_caps": {"cell_bytes": limits.max_output_kb * 1024,
                        "notebook_bytes": limits.max_notebook_output_mb * 2**20,
                        "cell_outputs": limits.max_outputs_per_cell,
                        "notebook_outputs": limits.max_outputs_per_notebook},
    }).encode()


def run_cold(job, limits: Limits, sandboxed: bool) -> dict:
    """One submission in a sandbox (and kernel) of its own, started for it and torn down after."""
    read_fd, write_fd = os.pipe()
    argv = [os.path.abspath(sys.executable), "-m", "grader.engine.worker", str(write_fd)]
    if sandboxed:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        env = dict(os.environ, **{k: v for k, v in sb.sandbox_env(str(job.jobdir)).items()
                                  if k not in ("PATH", "HOME", "TMPDIR")})
    cgroup = sb.Cgroup(limits)
    chunks: list[bytes] = []
    job.started = time.perf_counter()
    with open(job.jobdir.parent / f"{job.student_id}.log", "wb") as log:
        try:
            options = dict(cwd=job.jobdir, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                           pass_fds=(write_fd,), start_new_session=True, env=env,
                           preexec_fn=sb.preexec(limits, cgroup))
            if sandboxed:
                proc = sb.popen(argv, jobdir=job.jobdir, **options)
            else:
                proc = subprocess.Popen(argv, **options)
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            cgroup.remove()
            return {"ok": False, "error": f"could not start the grading process ({exc.strerror})"}
        os.close(write_fd)
        reader = threading.Thread(target=_drain, args=(read_fd, chunks, 256 * 2**20), daemon=True)
        reader.start()
        timed_out = False
        try:
            try:
                proc.stdin.write(job_spec(job, limits))
                proc.stdin.close()
            except OSError:
                pass
            proc.wait(timeout=kill_after(limits.submission_timeout))
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc)
            hits = cgroup.hit()
            cgroup.kill_all()
            reader.join(timeout=30)
            cgroup.remove()
    elapsed = time.perf_counter() - job.started
    if timed_out:
        return {"ok": False, "timeout": True, "limits": hits, "elapsed": elapsed,
                "error": f"ran longer than {limits.submission_timeout} s"}
    return _parse(chunks, hits, f"ended abruptly (exit {proc.returncode})", elapsed)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


class SlotFailed(Exception):
    """A warm sandbox could not take a job (it never ran any of the student's code)."""


class WarmSlot:
    """One long-lived sandbox running the zygote; grades one submission at a time.

    ``launch`` starts it; ``wait_ready`` waits for its zygote. Launch from a thread that lives as
    long as the slot: bubblewrap's ``--die-with-parent`` follows the thread that started it.
    """

    def __init__(self, template: Path, modules: list[str], limits: Limits, log: Path,
                 kernel_modules: list[str] | None = None):
        self.limits = limits
        self.alive = False
        self.info: dict = {}
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.cgroup = sb.Cgroup(limits)
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [os.path.abspath(sys.executable), "-m", "grader.engine.warm", str(child.fileno()),
                json.dumps(modules)]
        if kernel_modules is not None:
            argv.append(json.dumps(kernel_modules))
        # The log is the zygote's own stdout and stderr (what it prints before any student's
        # code runs); kernels never hold it (grader.engine.warm._run_kernel).
        with open(log, "ab") as out:
            try:
                self.proc = sb.popen(
                    argv, jobdir=None, template=template, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, pass_fds=(child.fileno(),), start_new_session=True,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                    preexec_fn=sb.preexec(limits, self.cgroup),
                )
            except OSError as exc:
                self.failure = f"could not start a sandbox ({exc.strerror})"
            else:
                self.failure = ""
            finally:
                child.close()

    def last_log_line(self) -> str:
        """The last non-empty line of the sandbox's log (printable, at most 200 characters)."""
        try:
            with open(self.log, "rb") as fh:
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - 4096))
                tail = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
        line = lines[-1] if lines else ""
        return "".join(c if c.isprintable() else "?" for c in line)[:200]

    def _failed(self, why: str) -> SlotFailed:
        self.close()
        last = self.last_log_line()
        return SlotFailed(f"{why}; its log ({self.log.name}) ends: {last}" if last else why)

    def wait_ready(self) -> None:
        """Wait for the zygote's first message; :class:`SlotFailed` as soon as the sandbox is
        gone (its end of the socket closes with it) or says it could not start, or after
        ``READY_TIMEOUT_S``."""
        if self.failure:
            self.close()
            raise SlotFailed(self.failure)
        self.sock.settimeout(READY_TIMEOUT_S)
        try:
            raw = self.sock.recv(1 << 20)
            self.info = json.loads(raw) if raw else {}
        except TimeoutError:
            raise self._failed(f"the warm sandbox did not start within {READY_TIMEOUT_S} s") from None
        except (OSError, ValueError) as exc:
            raise self._failed(f"the warm sandbox did not start ({exc})") from exc
        if not isinstance(self.info, dict) or not self.info.get("ready"):
            said = self.info.get("error") if isinstance(self.info, dict) else None
            if not raw:
                try:
                    code = self.proc.wait(5) if self.proc is not None else None
                except subprocess.TimeoutExpired:
                    code = None
                said = f"it exited with status {code}" if code is not None else "it closed its socket"
            raise self._failed(f"the warm sandbox did not start ({str(said or 'not ready')[:200]})")
        self.alive = True

    @property
    def isolated(self) -> bool:
        return bool(self.info.get("isolated"))

    def run(self, job) -> dict:
        """Grade ``job`` here. :class:`SlotFailed` (the slot is closed) when the sandbox could
        not take the job before any of its code ran: its socket is gone, or the kernel forked
        for it did not start, so the caller may run the job elsewhere."""
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            socket.send_fds(self.sock, [json.dumps({"notebooks": len(job.payload)}).encode()], [job_r, res_w])
        except OSError as exc:
            for fd in (job_r, job_w, res_r, res_w):
                os.close(fd)
            raise self._failed(f"the warm sandbox is gone ({exc.strerror})") from exc
        os.close(job_r)
        os.close(res_w)
        job.started = time.perf_counter()
        before = self.cgroup.counters()
        chunks: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(res_r, chunks, 256 * 2**20), daemon=True)
        writer = threading.Thread(target=_feed, args=(job_w, job_spec(job, self.limits)), daemon=True)
        reader.start()
        writer.start()
        reply: dict = {}
        timed_out = False
        self.sock.settimeout(kill_after(self.limits.submission_timeout))
        try:
            raw = self.sock.recv(1 << 16)
            reply = json.loads(raw) if raw else {}
        except TimeoutError:
            timed_out = True
        except (OSError, ValueError):
            reply = {}
        if not isinstance(reply, dict):
            reply = {}
        hits = self.cgroup.hit(since=before)
        if timed_out or not reply.get("clean"):
            self.close()  # kills everything in it, which ends the reader
        reader.join(timeout=30)
        writer.join(timeout=5)
        if reply.get("unused") is True:  # the job never reached a kernel: not the student's doing
            raise self._failed(f"the warm sandbox's kernel did not start (exit {reply.get('exit')})")
        elapsed = time.perf_counter() - job.started
        if timed_out:
            return {"ok": False, "timeout": True, "limits": hits, "elapsed": elapsed,
                    "error": f"ran longer than {self.limits.submission_timeout} s"}
        ended = f"ended abruptly (exit {reply['exit']})" if "exit" in reply else "ended abruptly (its sandbox died)"
        return _parse(chunks, hits, ended, elapsed)

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass
        proc = getattr(self, "proc", None)
        if proc is not None:
            _kill_group(proc)
        self.cgroup.kill_all()
        self.cgroup.remove()


def _kernel_modules_cache() -> Path:
    """Where the list of modules a kernel imports at start-up is kept between runs, per
    environment (learning it costs each new warm sandbox a throwaway kernel)."""
    import hashlib

    import ipykernel
    import IPython

    key = hashlib.sha256(f"{sys.prefix}|{sys.version}|{ipykernel.__version__}|{IPython.__version__}".encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader"
    return base / f"kernel-modules-{key.hexdigest()[:16]}.json"


def _cached_kernel_modules() -> list[str] | None:
    try:
        names = json.loads(_kernel_modules_cache().read_text())
    except (OSError, ValueError):
        return None
    return names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None


def _cache_kernel_modules(names) -> None:
    """Keep the list a zygote learnt (before any student code ran in its sandbox)."""
    if not isinstance(names, list) or not names or _cached_kernel_modules() is not None:
        return
    path = _kernel_modules_cache()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([n for n in names if isinstance(n, str)]))
        os.replace(tmp, path)
    except OSError:  # a read-only home: learn again next time
        pass


class WarmPool:
    """Up to ``size`` warm sandboxes for one assignment, shared by the grading threads.

    A sandbox that fails to start is noticed at once (see :meth:`WarmSlot.wait_ready`); when
    none is left running or starting, :meth:`acquire` raises :class:`SlotFailed` with the last
    failure's one-line reason instead of waiting.
    """

    def __init__(self, template: Path, modules: list[str], limits: Limits, size: int, logdir: Path):
        self.template, self.limits = template, limits
        self.modules = list(dict.fromkeys(modules))
        self.size, self.logdir = size, logdir
        self.idle: queue.Queue[WarmSlot | None] = queue.Queue()
        self.requests: queue.Queue[bool] = queue.Queue()
        self.lock = threading.Lock()
        self.error: str | None = None
        self.closed = False
        self.live = 0  # slots starting, idle or busy
        self.deferred = 0  # slots of :meth:`prestart` that start once the one before is ready
        self._all: list[WarmSlot] = []
        self._spawner = threading.Thread(target=self._spawn_loop, daemon=True)
        self._spawner.start()

    def _spawn_loop(self) -> None:
        """Start sandboxes on request; this thread lives as long as the pool (see WarmSlot)."""
        n = 0
        while self.requests.get():
            slot = WarmSlot(self.template, self.modules, self.limits, self.logdir / f"warm-{n}.log",
                            kernel_modules=_cached_kernel_modules())
            n += 1
            with self.lock:
                self._all.append(slot)
                if self.closed:
                    slot.close()
                    continue
            threading.Thread(target=self._await, args=(slot,), daemon=True).start()

    def _await(self, slot: WarmSlot) -> None:
        try:
            slot.wait_ready()
        except SlotFailed as exc:
            self._lost(str(exc))
            return
        _cache_kernel_modules(slot.info.get("kernel_modules"))
        self.idle.put(slot)
        with self.lock:
            start_next = self.deferred > 0 and not self.closed
            if start_next:
                self.deferred -= 1
        if start_next:
            self._request()

    def _lost(self, why: str) -> None:
        """A slot is gone for good: wake the threads waiting in :meth:`acquire`."""
        with self.lock:
            self.error = why
            self.live -= 1
        self.idle.put(None)

    def _request(self) -> None:
        with self.lock:
            self.live += 1
        self.requests.put(True)

    def prestart(self) -> None:
        """Begin warming the slots in the background (while the caller prepares the jobs), one
        after another: the first starts now, each further one when the one before is ready.

        A sandbox's start is CPU-bound (its imports, ~4 s of CPU here), so starting all of them
        at once on a machine with few cores makes the first one, and with it the first result,
        wait for all of them (issue 19: 18 s to the first result at 2 workers, 10 s at 1). A
        slot that fails to start starts no further one: :meth:`acquire` then reports its reason.
        """
        if self.size < 1:
            return
        with self.lock:
            self.deferred = self.size - 1
        self._request()

    def acquire(self) -> WarmSlot:
        deadline = time.monotonic() + READY_TIMEOUT_S + 10
        while True:
            with self.lock:
                if self.live <= 0 or self.closed:
                    raise SlotFailed(self.error or "no warm sandbox is left")
            try:
                slot = self.idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise SlotFailed(self.error or "no warm sandbox became ready") from None
            if slot is None:  # a slot failed: give up if none is left, else keep waiting
                with self.lock:
                    gone = self.live <= 0 or self.closed
                if gone:
                    self.idle.put(None)  # wake the next waiting thread too
                    raise SlotFailed(self.error or "no warm sandbox is left")
                continue
            if slot.alive:
                return slot

    def release(self, slot: WarmSlot) -> None:
        if slot.alive and not self.closed:
            self.idle.put(slot)
        elif not self.closed:
            self.requests.put(True)  # a fresh sandbox in place of the one thrown away

    def first_ready(self) -> WarmSlot:
        """Wait for one slot and put it back (to see whether it can isolate kernels)."""
        slot = self.acquire()
        self.idle.put(slot)
        return slot

    def run(self, job) -> dict:
        """Grade ``job`` in a warm sandbox; a sandbox that could not take it (SlotFailed before
        any of the student's code ran) is replaced and the job tried once more."""
        for attempt in range(2):
            slot = self.acquire()
            try:
                return slot.run(job)
            except SlotFailed:
                if attempt:
                    raise
            finally:
                self.release(slot)
        raise SlotFailed("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self.lock:
            self.closed = True
            slots = list(self._all)
        self.requests.put(False)
        self.idle.put(None)
        for slot in slots:
            slot.close()
