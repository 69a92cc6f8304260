"""Execute one submission's notebooks (``python -m grader.engine.worker RESULT_FD``).

This is the only part of grading that runs student code, so it runs in a process of its own,
normally inside the sandbox (:mod:`grader.engine.sandbox`), which the trusted parent times out and
kills with everything it started. The protocol keeps the student's code away from the grading
data:

- the job (the sanitized notebooks, with their hidden tests, and the per-cell timeout) arrives
  on stdin and is never written to a file the kernel could read;
- the results (the executed notebooks, the tamper probes' findings) leave through a private
  pipe, ``RESULT_FD``, that the kernel does not inherit, so nothing the kernel writes to disk or
  to stdout can forge them;
- the worker makes itself non-dumpable, so the kernel cannot read its memory.

Before the first cell and before every graded test cell it asks the kernel for a fingerprint
of the machinery that grading relies on (:mod:`grader.engine.probe`) and reports any change.

Outputs are capped here, as they arrive from the kernel and before anything leaves the sandbox
(:class:`OutputCaps`; the caps are :class:`grader.engine.sandbox.Limits`'): beyond them an output is
dropped, the cell gets one line saying so, and the result says ``output_capped``.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import sys
import time
import warnings

#: How long to wait for a request's idle status before asking again: a new IOPub subscription
#: misses what the kernel publishes before it is connected, so the first request's status is
#: often lost; short first waits, doubling up to the last, keep that from costing 0.25 s.
RETRY_WAITS_S = (0.02, 0.04, 0.08, 0.16, 0.25)


async def connected(client, timeout: float) -> None:
    """Wait until a warm kernel answers on IOPub (the idle status of its kernel_info reply),
    for nbclient's client of a kernel forked by :mod:`grader.engine.warm` (the async twin of the loop
    in ``warm._idle_seen``); RuntimeError after ``timeout`` seconds."""
    from queue import Empty

    deadline = time.monotonic() + timeout
    attempt = 0
    while time.monotonic() < deadline:
        msg_id = client.kernel_info()
        until = time.monotonic() + RETRY_WAITS_S[min(attempt, len(RETRY_WAITS_S) - 1)]
        attempt += 1
        while (left := until - time.monotonic()) > 0:
            try:
                msg = await client.get_iopub_msg(timeout=left)
            except Empty:
                break
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"):
                return
    raise RuntimeError("the warm kernel did not answer")


def _nondumpable() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # best effort (not Linux, or no libc symbol)
        pass


#: The kernel messages that add (or replace) a cell's outputs.
OUTPUT_MESSAGES = ("stream", "display_data", "execute_result", "update_display_data", "error")
#: An error's traceback is always kept (a test cell's error decides its grade), cut to this.
ERROR_LINES, ERROR_LINE_CHARS = 60, 2000
CAPPED_NOTE = "[output limit reached: the grader dropped this cell's further outputs]\n"


class OutputCaps:
    """What a notebook's outputs may add up to, counted as the kernel sends them.

    ``caps``: ``cell_bytes`` and ``notebook_bytes`` (JSON size of the outputs),
    ``cell_outputs`` and ``notebook_outputs`` (outputs; a print that continues the cell's
    last stream output adds none). What a cell clears stops counting; an update of a display
    counts as a new output. Errors are always kept, their tracebacks cut to
    ``ERROR_LINES`` lines of ``ERROR_LINE_CHARS`` characters.
    """

    def __init__(self, caps: dict):
        self.cell_bytes = int(caps["cell_bytes"])
        self.notebook_bytes = int(caps["notebook_bytes"])
        self.cell_outputs = int(caps["cell_outputs"])
        self.notebook_outputs = int(caps["notebook_outputs"])
        self.cells: dict[int, list[int]] = {}  # cell index -> [bytes, outputs]
        self.total = [0, 0]
        self.capped: set[int] = set()

    def _add(self, index: int, size: int, count: int) -> None:
        used = self.cells.setdefault(index, [0, 0])
        used[0] += size
        used[1] += count
        self.total[0] += size
        self.total[1] += count

    def resync(self, cell, index: int) -> None:
        """Recount a cell whose outputs were cleared (they now hold fewer than counted)."""
        used = self.cells.get(index)
        if used is None or len(cell.get("outputs", [])) >= used[1]:
            return
        size = sum(len(json.dumps(o, default=str)) for o in cell["outputs"])
        self._add(index, size - used[0], len(cell["outputs"]) - used[1])

    def admit(self, msg: dict, cell, index: int, coalesce: bool) -> bool:
        """Whether the output message ``msg`` may join ``cell`` (``coalesce``: it continues
        the cell's last stream output); counts it if so."""
        content = msg.get("content") or {}
        if msg.get("msg_type") == "error":
            tb = [str(line)[:ERROR_LINE_CHARS] for line in (content.get("traceback") or [])]
            content["traceback"] = tb[:5] + tb[5:][-ERROR_LINES:] if len(tb) > ERROR_LINES else tb
            content["evalue"] = str(content.get("evalue", ""))[:ERROR_LINE_CHARS]
            self._add(index, len(json.dumps(content, default=str)), 1)
            return True
        size = len(json.dumps(content, default=str))
        count = 0 if coalesce else 1
        used = self.cells.get(index, [0, 0])
        if (used[0] + size > self.cell_bytes or self.total[0] + size > self.notebook_bytes
                or used[1] + count > self.cell_outputs or self.total[1] + count > self.notebook_outputs):
            if index not in self.capped:
                self.capped.add(index)
                from nbformat.v4 import new_output

                cell.setdefault("outputs", []).append(new_output("stream", name="stderr", text=CAPPED_NOTE))
            return False
        self._add(index, size, count)
        return True


def _executor_class():
    from nbclient.util import run_sync
    from nbgrader.preprocessors import Execute

    from .probe import DIGEST_KEY, NONCE_KEY, check_modules, compare, probe_expression

    class ProbingExecute(Execute):
        """nbgrader's Execute, plus a fingerprint of the grading machinery before each test cell."""

        baseline: dict | None = None
        findings: list[str]
        output_caps: dict | None = None
        caps: OutputCaps | None = None

        def process_message(self, msg, cell, cell_index):
            """nbclient's, with the outputs counted and capped (:class:`OutputCaps`)."""
            kind = msg.get("msg_type")
            if kind == "error":  # remembered: a test cell's error must still be there at the end
                self.errors_seen.add(cell_index)
            if self.caps is None or (kind not in OUTPUT_MESSAGES and kind != "clear_output"):
                return super().process_message(msg, cell, cell_index)
            if kind == "clear_output":
                try:
                    return super().process_message(msg, cell, cell_index)
                finally:
                    self.caps.resync(cell, cell_index)
            outs = cell.get("outputs", [])
            parent = (msg.get("parent_header") or {}).get("msg_id")
            coalesce = (kind == "stream" and outs and outs[-1].get("output_type") == "stream"
                        and outs[-1].get("name") == msg["content"].get("name")
                        and not self.clear_before_next_output and not self.output_hook_stack[parent])
            if not self.caps.admit(msg, cell, cell_index, bool(coalesce)):
                return None
            if coalesce:  # one output per stream, as a notebook shows it
                outs[-1]["text"] += msg["content"].get("text", "")
                return outs[-1]
            try:
                return super().process_message(msg, cell, cell_index)
            finally:
                self.caps.resync(cell, cell_index)  # a clear_output(wait=True) applies now

        def _probe(self, digest: bool = False) -> dict | None:
            nonce = os.urandom(8).hex()
            try:
                msg_id = self.kc.execute(
                    "", silent=True, store_history=False,
                    user_expressions={"probe": probe_expression(nonce, self.watch, digest)},
                )
                reply = self.wait_for_reply(msg_id) or {}
            except Exception:
                return None
            result = reply.get("content", {}).get("user_expressions", {}).get("probe", {})
            if result.get("status") != "ok":
                return None
            try:
                state = json.loads(ast.literal_eval(result["data"]["text/plain"]))
            except (KeyError, ValueError, TypeError, SyntaxError):
                return None
            if not isinstance(state, dict):
                return None
            return state if state.get(NONCE_KEY) == nonce else None

        async def async_start_new_kernel_client(self):
            if not getattr(self.km, "grader_warm", False):
                return await super().async_start_new_kernel_client()
            from nbclient.util import run_hook


            self.kc = self.km.client()
            self.kc.start_channels()
            await connected(self.kc, self.startup_timeout)
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        def preprocess(self, nb, resources=None, km=None):
            self.findings = []
            self.baseline = None
            self.caps = OutputCaps(self.output_caps) if self.output_caps else None
            self.current = 0
            self.errors_seen = set()
            self.blocked_at = -1
            self.kernel_dead = False
            self.watch = check_modules([c.source for c in nb.cells if c.cell_type == "code"])
            return super().preprocess(nb, resources, km)

        def preprocess_cell(self, cell, resources, index):
            self.current = index
            meta = cell.get("metadata", {}).get("nbgrader", {})
            is_test = cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
            if self.baseline is None:
                self.baseline = self._probe() or {}
            if is_test and self.baseline and "tamper:probe-blocked" not in self.findings:
                state = self._probe(digest=True)
                if state is not None and state.get(DIGEST_KEY) != self.baseline.get(DIGEST_KEY):
                    state = self._probe()  # something changed: fetch it all, to say what
                    if state is not None:
                        for finding in compare(self.baseline, state):
                            self._note(finding)
                if state is None:
                    self._note("tamper:probe-blocked")
                    self.blocked_at = index
            try:
                done = super().preprocess_cell(cell, resources, index)
            except Exception:
                self.kernel_dead = not self.kernel_alive()  # before nbclient shuts it down
                raise
            if is_test and index in self.errors_seen:
                # the kernel reported an error for this test cell, yet its final outputs hold none:
                # student code cleared it (e.g. a post_run_cell hook that removes itself)
                outs = (done[0] if isinstance(done, tuple) else cell).get("outputs", [])
                if not any(o.get("output_type") == "error" for o in outs):
                    self._note("tamper:cleared-error")
            return done

        def kernel_alive(self) -> bool:
            """Whether the kernel's process still runs."""
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            try:
                return process is None or process.poll() is None
            except Exception:
                return False

        def _note(self, finding: str) -> None:
            if finding not in self.findings:
                self.findings.append(finding)

    return ProbingExecute


def time_budget(submission_timeout: float) -> float:
    """Seconds the worker lets the student's code run, counted from its own start, for a
    submission limited to ``submission_timeout``: 10 % less (at least 2 s, at most 10 s less),
    for the sandbox's start-up, which the parent counts too."""
    margin = min(10.0, max(2.0, 0.1 * submission_timeout))
    return max(1.0, submission_timeout - margin)


def kill_after(submission_timeout: float) -> float:
    """Seconds after which the parent kills a worker that has not reported: the limit plus a
    grace (20 %, at least 10 s, at most 60 s) for the worker, which stopped the student's code at
    :func:`time_budget`, to send what ran. Only trusted code runs during the grace."""
    return submission_timeout + min(60.0, max(10.0, 0.2 * submission_timeout))


class _Watchdog:
    """Kills the kernel at the worker's deadline, so the notebook stops where time ran out and
    what ran so far is sent before the parent's own limit."""

    def __init__(self, deadline: float | None, executor):
        import threading

        self.fired = False
        self.executor = executor
        self.timer = None
        if deadline is not None:
            self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
            self.timer.daemon = True
            self.timer.start()

    def _fire(self) -> None:
        import signal

        self.fired = True
        prov = getattr(getattr(self.executor, "km", None), "provisioner", None)
        pid = getattr(prov, "pid", None)
        if not pid:
            return
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def run_job(job: dict, kernels: list | None = None, started: float | None = None) -> dict:
    """Execute the job's notebooks, each in a new kernel (``kernels``: already started ones,
    :class:`grader.engine.warm.ForkedKernel`, one per notebook; default: start them here).

    A notebook whose kernel dies (a memory limit, ``os._exit``, a segfault) or that runs past the
    job's ``time_budget_s`` is sent as far as it ran, with ``stopped[name] = {"cell": INDEX,
    "why": "died" | "time" | "error", "error": ONE_LINE}`` naming the cell (0-based) where it
    stopped; the next notebook still runs (it has a kernel of its own) if time is left. The
    budget counts from ``started`` (``time.monotonic()``; default: now).
    """
    budget = job.get("time_budget_s")
    deadline = (started or time.monotonic()) + float(budget) if budget else None
    import nbformat

    executor_cls = _executor_class()
    out: dict = {"ok": True, "notebooks": {}, "seconds": {}, "findings": [], "stopped": {}}
    for i, (name, text) in enumerate(job["notebooks"].items()):
        nb = nbformat.reads(text, as_version=4)
        if deadline is not None and time.monotonic() >= deadline:
            out["stopped"][name] = {"cell": 0, "why": "time", "error": "no time left to run it"}
            out["notebooks"][name] = text
            continue
        start = time.perf_counter()
        executor = executor_cls(timeout=int(job["cell_timeout"]), kernel_name="python3")
        executor.output_caps = job.get("output_caps")
        # nbgrader fails a cell whose outputs are still arriving 4 s after it ended: a flood
        # (capped above, but each message is still read) gets the cell's own time limit instead
        executor.iopub_timeout = max(executor.iopub_timeout, int(job["cell_timeout"]))
        executor.log.setLevel(logging.CRITICAL)
        km = kernels[i].manager() if kernels and i < len(kernels) else None
        watchdog = _Watchdog(deadline, executor)
        try:
            nb, _ = executor.preprocess(nb, {"metadata": {"path": os.getcwd()}}, km=km)
        except Exception as exc:
            nb = getattr(executor, "nb", None) or nb
            dead = type(exc).__name__ == "DeadKernelError" or executor.kernel_dead
            why = "time" if watchdog.fired else ("died" if dead else "error")
            first = str(exc).split(". ")[0].splitlines()[0][:160] if str(exc) else ""
            out["stopped"][name] = {"cell": int(getattr(executor, "current", 0)), "why": why,
                                    "error": f"{type(exc).__name__}: {first}"}
            if why != "error" and executor.blocked_at == executor.current:
                # the kernel was gone when the probe asked: not a blocked probe
                executor.findings.remove("tamper:probe-blocked")
        finally:
            watchdog.cancel()
        out["seconds"][name] = time.perf_counter() - start
        out["notebooks"][name] = nbformat.writes(nb)
        out["findings"] += [f for f in executor.findings if f not in out["findings"]]
        if executor.caps is not None and executor.caps.capped:
            out["output_capped"] = True
    return out


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    argv = sys.argv[1:] if argv is None else argv
    result_fd = int(argv[0])
    os.set_inheritable(result_fd, False)
    _nondumpable()
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.CRITICAL)
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    _private_stdio()
    try:
        result = run_job(job, started=started)
    except Exception as exc:  # reported to the parent through the private pipe
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    write_result(result_fd, result)
    return 0


def _private_stdio() -> None:
    """Point descriptors 0, 1 and 2 at ``/dev/null`` before any kernel starts (a kernel inherits
    them: in a cold sandbox 1 and 2 are the host's log file); this process keeps a private,
    non-inheritable copy of the log for its own messages."""
    log = os.dup(2)  # not inherited by the kernel (os.dup makes it non-inheritable)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdout = sys.stderr = os.fdopen(log, "w", buffering=1)


def write_result(fd: int, result: dict) -> None:
    """Send the result to the parent through the private pipe ``fd`` (and close it)."""
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(json.dumps(result).encode("utf-8"))
    except OSError:  # the parent gave up on us (timeout): nothing to report to
        pass


if __name__ == "__main__":
    sys.exit(main())
