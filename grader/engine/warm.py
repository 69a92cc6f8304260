"""Warm kernels: pay for ``import numpy, pandas, sklearn`` once per sandbox, not per student.

A fresh Jupyter kernel spends most of its start-up importing: the Python interpreter, ipykernel
and IPython, then numpy, pandas, scikit-learn and friends when the first cell runs (about 2 s
here, per submission). This module is a fork server, the *zygote*, that runs inside one
long-lived bubblewrap sandbox per grading worker (:mod:`grader.engine.pool` starts it with
``python -m grader.engine.warm``). It imports that machinery once and then, for each submission:

1. forks a *worker* (the role :mod:`grader.engine.worker` plays in a cold sandbox), which forks one
   *kernel* per notebook **before** it reads the job, so no kernel ever holds the hidden tests
   or another student's notebook in memory. The next worker and kernel are forked as soon as
   the previous student's are gone, so they are ready when the job arrives;
2. each kernel closes every descriptor it inherited (the sandbox's log is the zygote's stdout
   and stderr) and takes ``/dev/null`` as 0, 1 and 2, moves itself into new user and IPC
   namespaces and drops every capability, so System V IPC objects and POSIX message queues
   die with it, then serves the notebook. A worker whose kernel does not answer before its
   job arrives exits without reading it; the zygote then reports the job ``unused`` and the
   sandbox dirty, and the parent runs the job elsewhere;
3. the worker reads the job from a pipe the parent handed over (file descriptors passed over
   the control socket, never through the zygote's memory), executes, and writes the result to
   the parent's private pipe;
4. when the worker has exited, the zygote kills every other process in the sandbox, empties
   every writable file system (``/tmp``, ``/dev/shm``, ``/submission``; the rest of the sandbox
   is read-only), copies the assignment's data files back in, and reports ``clean``. Anything it cannot restore
   makes it report ``dirty`` and exit, and the parent starts a fresh sandbox.

So each student still gets a brand-new process forked from the same untouched image: no state
passes from one student to the next (``tests/test_warm.py`` tries every channel it knows).
The zygote and the worker are non-dumpable, so a kernel can neither read nor write their
memory nor open their descriptors through ``/proc``; the zygote is the sandbox's process 1
(``bwrap --as-pid-1``), which no process inside can signal, so a kernel that kills all it can
see only ends its own grading.

Control protocol (``AF_UNIX``/``SOCK_SEQPACKET``, one JSON message each way per job):
parent -> zygote ``{"notebooks": N}`` with two descriptors (job reader, result writer), which
the zygote forwards to the waiting worker without reading either;
zygote -> parent ``{"exit": CODE, "clean": bool, "unused": bool}`` (``unused``: the job never
reached a kernel). The first message the zygote
sends is ``{"ready": bool, "isolated": bool, "preloaded": [...], "kernel_modules": [...],
"error": "why not ready, or empty"}``.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import threading
import time
import warnings

from .worker import RETRY_WAITS_S  # one retry schedule for the zygote's and nbclient's waits

DATA_TEMPLATE = "/opt/grader-data"
WORKDIR = "/submission"
HOME = "/tmp/home"
#: What every worker and kernel needs, imported once by the zygote.
MACHINERY = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "zmq", "tornado",
    "jupyter_client", "jupyter_client.manager", "jupyter_client.provisioning", "nbclient",
    "nbformat", "nbgrader.preprocessors", "grader.engine.worker", "grader.engine.probe",
)

#: How long a forked kernel may take to answer its first request.
KERNEL_START_TIMEOUT_S = 60
#: A worker's exit status when its kernel did not start (before it read any job).
KERNEL_FAILED = 4

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWIPC = 0x08000000
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_libc = ctypes.CDLL(None, use_errno=True)


def preload(modules: list[str]) -> list[str]:
    """Import ``modules`` (the assignment's own imports), skipping any that fail."""
    from .probe import WATCHED

    done = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in dict.fromkeys([*MACHINERY, *WATCHED, *modules]):
            try:
                importlib.import_module(name)
                done.append(name)
            except Exception:  # a name that is an attribute, or a library missing here
                pass
    return done


def _kernel_imports() -> list[str]:
    """The modules a kernel imports as it starts and runs its first request (learnt once, in
    a throwaway child, so the zygote can import them ahead)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            from jupyter_client.connect import write_connection_file

            from .probe import probe_expression

            before = set(sys.modules)
            runtime = os.environ.get("JUPYTER_RUNTIME_DIR", "/tmp")
            os.makedirs(runtime, exist_ok=True)
            path, _ = write_connection_file(os.path.join(runtime, "learn.json"), ip="127.0.0.1")
            from ipykernel.kernelapp import IPKernelApp

            app = IPKernelApp.instance()
            app.initialize(["-f", path, "--HistoryManager.hist_file=:memory:"])
            app.shell.run_cell("None", store_history=False, silent=True)
            app.shell.user_expressions({"probe": probe_expression("warm")})
            os.write(write_fd, json.dumps(sorted(set(sys.modules) - before)).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    raw = b""
    deadline = time.monotonic() + KERNEL_START_TIMEOUT_S
    with os.fdopen(read_fd, "rb", buffering=0) as fh:
        while (left := deadline - time.monotonic()) > 0 and select.select([fh], [], [], left)[0]:
            block = fh.read(1 << 16)
            if not block:
                break
            raw += block
    if deadline - time.monotonic() <= 0:  # a kernel that will not start: learn nothing
        os.kill(pid, signal.SIGKILL)
        raw = b""
    os.waitpid(pid, 0)
    try:
        return [m for m in json.loads(raw or b"[]") if isinstance(m, str)]
    except ValueError:
        return []


# --- the kernel side --------------------------------------------------------------------


class _Caps(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def private_namespaces() -> bool:
    """Move the calling (single-threaded) process into new user and IPC namespaces.

    The user namespace maps only our own uid and gid, and every capability it grants is then
    dropped, so the process ends up with no more rights than before, but with System V IPC
    and POSIX message queues of its own that vanish with it. Returns False if the kernel here
    does not allow it.
    """
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWIPC) != 0:
        return False
    try:
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"{gid} {gid} 1")
    except OSError:
        return False
    for cap in range(64):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_Caps * 2)()
    return _libc.capset(ctypes.byref(header), data) == 0


def _nondumpable() -> None:
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _only_own_descriptors(keep: int) -> None:
    """Close every inherited descriptor but ``keep``, and point 0, 1 and 2 at ``/dev/null``.

    A kernel runs the student's code: it must hold nothing of the host's (the sandbox's log is
    the zygote's stdout and stderr) nor of the zygote's or the worker's.
    """
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2 and null != keep:
        os.close(null)


def _run_kernel(connection_file: str, ready_w: int) -> None:
    """Become a Jupyter kernel (in the forked child; never returns)."""
    code = 1
    try:
        _only_own_descriptors(ready_w)
        os.setsid()
        isolated = private_namespaces()
        os.write(ready_w, b"1" if isolated else b"0")
        os.close(ready_w)
        if not isolated:
            os._exit(3)
        try:  # every student starts from fresh random state, not the zygote's
            import numpy

            numpy.random.seed()
        except Exception:
            pass
        os.chdir(WORKDIR)
        sys.argv = ["ipykernel_launcher.py", "-f", connection_file]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", connection_file, "--HistoryManager.hist_file=:memory:"])
        app.start()
        code = 0
    finally:
        os._exit(code)


def _idle_seen(client, msg_id: str, wait: float) -> bool:
    """Whether ``client``'s IOPub channel shows the kernel going idle after request ``msg_id``.

    IOPub is a subscription, which misses messages until it is connected: seeing the status of
    a request of ours proves it is. (jupyter_client's ``wait_for_ready`` instead always waits
    0.2 s for silence.)
    """
    from queue import Empty

    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = client.get_iopub_msg(timeout=left)
        except Empty:
            return False
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"):
            return True
    return False


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie counts); works from any process, not only
    its parent (``warm_up`` runs in a sibling of the kernel)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class ForkedKernel:
    """A kernel forked from this (warm) process: ``Popen``'s surface for jupyter_client."""

    def __init__(self, close_fds: tuple[int, ...] = ()):
        from jupyter_client.connect import write_connection_file

        runtime = os.environ.get("JUPYTER_RUNTIME_DIR", "/tmp")
        os.makedirs(runtime, exist_ok=True)
        self.connection_file, self.info = write_connection_file(
            os.path.join(runtime, f"kernel-{os.getpid()}-{time.monotonic_ns()}.json"),
            ip="127.0.0.1", transport="tcp", key=os.urandom(16).hex().encode(),
        )
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            for fd in close_fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            _run_kernel(self.connection_file, ready_w)
        os.close(ready_w)
        self.pid = pid
        self.returncode: int | None = None
        with os.fdopen(ready_r, "rb") as fh:
            self.isolated = fh.read(1) == b"1"

    def warm_up(self) -> bool:
        """Wait until the kernel answers, and take its first execution's one-off costs now;
        whether it answered.

        The request is silent and stores nothing: the student's first cell is still ``In [1]``.
        """
        from jupyter_client.blocking import BlockingKernelClient

        from .probe import probe_expression

        client = BlockingKernelClient()
        client.load_connection_info(self.info)
        client.start_channels()
        try:
            deadline = time.monotonic() + KERNEL_START_TIMEOUT_S
            attempt = 0
            while not _idle_seen(client, client.kernel_info(),
                                 RETRY_WAITS_S[min(attempt, len(RETRY_WAITS_S) - 1)]):
                attempt += 1
                if time.monotonic() > deadline or _exited(self.pid):
                    return False
            reply = client.execute("", silent=True, store_history=False, reply=True,
                                   timeout=KERNEL_START_TIMEOUT_S,
                                   user_expressions={"warm": probe_expression(os.urandom(8).hex())})
            return reply.get("content", {}).get("status") == "ok"
        except (RuntimeError, TimeoutError):
            return False
        finally:
            client.stop_channels()

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -9
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                os.killpg(self.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def manager(self):
        """An ``AsyncKernelManager`` that owns this kernel, as if it had started it."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_client.provisioning import LocalProvisioner

        km = AsyncKernelManager(kernel_name="python3")
        km.grader_warm = True
        km.load_connection_info(self.info)
        km.connection_file = self.connection_file
        prov = LocalProvisioner(kernel_id=km.kernel_id or "warm", kernel_spec=km.kernel_spec, parent=km)
        prov.process, prov.pid, prov.pgid = self, self.pid, self.pid
        km.provisioner = prov
        return km


# --- the worker side --------------------------------------------------------------------


def _worker(chan: socket.socket) -> int:
    """One submission, in a process forked from the zygote (returns the exit code).

    Its first kernel is forked and warmed up at once, before the job arrives; the job's pipes
    come over ``chan``, any further kernels (one per notebook) are forked next, and the job is
    read only after every kernel exists. This process talks to no kernel (so has no ZeroMQ
    state) until all its kernels are forked: warming up happens in a throwaway child.
    """
    from .worker import run_job, write_result

    _nondumpable()
    kernels = [ForkedKernel(close_fds=(chan.fileno(),))]
    if not _warm_up_in_child(kernels[0]):  # before any job: the sandbox's fault, not a student's
        kernels[0].kill()
        return KERNEL_FAILED
    msg, fds, _flags, _addr = socket.recv_fds(chan, 4096, 2)
    chan.close()
    if not msg or len(fds) != 2:
        return 2
    job_fd, result_fd = fds
    count = max(1, int(json.loads(msg).get("notebooks", 1)))
    kernels += [ForkedKernel(close_fds=(job_fd, result_fd)) for _ in range(count - 1)]
    if not all(k.isolated for k in kernels):
        write_result(result_fd, {"ok": False, "error": "the kernel could not be isolated"})
        return 3
    with os.fdopen(job_fd, "rb") as fh:
        raw = fh.read()
    try:
        job = json.loads(raw.decode("utf-8"))
        result = run_job(job, kernels=kernels)
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        for k in kernels:
            k.kill()
            k.wait(5)
    write_result(result_fd, result)
    return 0


def _warm_up_in_child(kernel: ForkedKernel) -> bool:
    """:meth:`ForkedKernel.warm_up` in a throwaway child (so this process keeps no ZeroMQ
    state); whether the kernel answered."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if kernel.warm_up() else 1
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _prefork(ctl: socket.socket) -> tuple[int, socket.socket]:
    """Fork the next submission's worker (and so its kernel) now, before its job exists."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ctl.close()
            ours.close()
            code = _worker(theirs)
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


# --- the zygote -------------------------------------------------------------------------


def _mounts() -> list[tuple[str, str, bool]]:
    """This sandbox's mounts: (mount point, file-system type, writable)."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            fields, fstype = left.split(), right.split()[0]
            point = fields[4].replace("\\040", " ")
            found.append((point, fstype, "rw" in fields[5].split(",")))
    return found


def _scratch_mounts() -> list[str]:
    """The writable file systems of this sandbox: all a student could leave anything behind in.

    The sandbox's root and ``/dev`` are remounted read-only (:func:`grader.engine.sandbox.command`),
    so these are the tmpfs mounts ``/tmp``, ``/dev/shm`` and ``/submission``.
    """
    return sorted(point for point, fstype, rw in _mounts() if fstype == "tmpfs" and rw)


def _kept_paths(scratch: list[str]) -> set[str]:
    """Mount points inside the scratch mounts, and the folders leading to them: the Python
    environment may live under ``/tmp`` (a virtual environment made there), and its read-only
    bind sits on a folder of the ``/tmp`` tmpfs that emptying must leave in place."""
    kept: set[str] = set()
    for point, _fstype, _rw in _mounts():
        for top in scratch:
            if point != top and point.startswith(top.rstrip("/") + "/"):
                path = point
                while path != top and path not in kept:
                    kept.add(path)
                    path = os.path.dirname(path)
    return kept


def _kill_others() -> bool:
    """SIGKILL every process in this sandbox but pid 1 (bwrap) and ourselves, until none."""
    me = os.getpid()
    for _ in range(200):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return True
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:  # reap our own children; bwrap reaps the rest
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.005)
    return False


def _unlock(func, target, _exc) -> None:
    os.chmod(os.path.dirname(target), 0o700)
    if not os.path.islink(target):
        os.chmod(target, 0o700)
    func(target)


def _empty(folder: str, kept: set[str]) -> bool:
    """Remove everything in ``folder`` but the ``kept`` paths (recursing into kept folders that
    are not mount points themselves); whether only kept paths remain."""
    os.chmod(folder, 0o755)
    for name in os.listdir(folder):
        full = os.path.join(folder, name)
        if full in kept:
            if not os.path.ismount(full) and not _empty(full, kept):
                return False
        elif os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, onerror=_unlock)
        else:
            os.unlink(full)
    return all(os.path.join(folder, name) in kept for name in os.listdir(folder))


def _restore(mounts: list[str], kept: set[str] | None = None) -> str:
    """Empty every writable file system (and check nothing else became writable); "" when
    done, else why not (one line)."""
    kept = _kept_paths(mounts) if kept is None else kept
    try:
        if _scratch_mounts() != mounts:
            return "a writable file system appeared or vanished"
        for mount in mounts:
            if not _empty(mount, kept):
                return f"{mount} could not be emptied"
        os.makedirs(HOME, exist_ok=HOME in kept)
        return ""
    except OSError as exc:
        return f"could not empty the writable folders ({exc})"


def _stage() -> None:
    """Copy the assignment's data files into the (empty) working folder."""
    if os.path.isdir(DATA_TEMPLATE):
        shutil.copytree(DATA_TEMPLATE, WORKDIR, dirs_exist_ok=True, symlinks=False)


def _isolation_works() -> bool:
    pid = os.fork()
    if pid == 0:
        os._exit(0 if private_namespaces() else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def serve(ctl: socket.socket, modules: list[str], kernel_modules: list[str] | None = None) -> int:
    """Preload ``modules``, and ``kernel_modules`` (what a kernel imports as it starts; learnt
    here when the parent has no list from an earlier run), then serve jobs until told to stop.

    Anything that keeps the sandbox from serving is reported at once, in one line, as the
    first message's ``error`` (the parent gives up on the sandbox then, not minutes later)."""
    _nondumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    loaded = preload(modules)
    learnt = _kernel_imports() if kernel_modules is None else kernel_modules
    loaded += preload(learnt)
    if threading.active_count() > 1:  # forking a threaded process is unsafe: stay cold
        ctl.send(json.dumps({"ready": False, "error": "a preloaded module started a thread"}).encode())
        return 1
    isolated = _isolation_works()
    mounts = _scratch_mounts()
    kept = _kept_paths(mounts)
    problem = _restore(mounts, kept)
    clean = not problem
    pending = _prefork(ctl) if clean else None
    ctl.send(json.dumps({"ready": clean, "isolated": isolated, "preloaded": loaded,
                         "kernel_modules": learnt, "error": problem}).encode())
    while clean and pending is not None:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, 4096, 4)
        except OSError:
            return 0
        if not msg:
            return 0  # the parent has gone
        pid, chan = pending
        sent = False
        try:
            if len(fds) != 2:
                raise OSError("a job needs two descriptors")
            _stage()
            socket.send_fds(chan, [msg], fds)
            sent = True
        except OSError:  # the worker is gone (its kernel did not start) or the message was bad
            os.kill(pid, signal.SIGKILL)
        finally:
            for fd in fds:
                os.close(fd)
            chan.close()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        # a worker whose kernel did not start never read the job: the sandbox is at fault, so
        # it is thrown away (dirty) and the parent runs the job elsewhere
        unused = not sent or code == KERNEL_FAILED
        clean = _kill_others() and not _restore(mounts, kept) and not unused
        pending = _prefork(ctl) if clean else None
        ctl.send(json.dumps({"exit": code, "clean": clean, "unused": unused}).encode())
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ctl = socket.socket(fileno=int(argv[0]))
    modules = json.loads(argv[1]) if len(argv) > 1 else []
    kernel_modules = json.loads(argv[2]) if len(argv) > 2 else None
    return serve(ctl, modules, kernel_modules)


if __name__ == "__main__":
    sys.exit(main())
