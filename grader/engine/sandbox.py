"""Isolation and resource limits for the process that runs a student's code.

Each submission's worker (:mod:`grader.engine.worker`, which starts the Jupyter kernel) runs inside
bubblewrap (``bwrap``) with:

- its own user, PID, network, IPC, UTS and cgroup namespaces (``--unshare-all``): no network but
  its own loopback, no view of the host's processes, nothing left running when it ends;
- a root file system made of read-only binds of the system (``/usr``, ``/lib``, ``/etc`` files
  the runtime needs), the Python installation (the virtual environment and the interpreter it
  was made from) and the ``grader`` package; a private ``/tmp``; and one writable folder,
  ``/submission``, holding only the assignment's declared data files. The course directory, the
  solutions, the gradebook, other students' files and the instructor's home are not there;
- all capabilities dropped, a new terminal session, and death with its parent;
- a seccomp filter (:func:`seccomp_program`) that denies the kernel-keyring system calls
  (``add_key``, ``request_key``, ``keyctl``): the sandbox's uid maps onto the grader's own host
  uid, whose keyrings would otherwise be shared with every sandbox;
- no host descriptor beyond stdin, stdout and stderr; student code (the kernel) gets none of
  them (:mod:`grader.engine.warm`, :mod:`grader.engine.worker`).

Limits: wall time (per cell, and per submission, enforced by the parent), memory and process
count (a cgroup per submission where the host lets the grader create one, else ``RLIMIT_AS``),
file size (``RLIMIT_FSIZE``) and no core dumps.
"""

from __future__ import annotations

import functools
import os
import platform
import resource
import shutil
import struct
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..config import (
    CELL_TIMEOUT_S,
    MAX_CELL_OUTPUT_KB,
    MAX_NOTEBOOK_OUTPUT_MB,
    MAX_OUTPUTS_PER_CELL,
    MAX_OUTPUTS_PER_NOTEBOOK,
    SUBMISSION_TIMEOUT_S,
    UserError,
)

SANDBOX_WORKDIR = "/submission"


@dataclass(frozen=True)
class Limits:
    cell_timeout: int = CELL_TIMEOUT_S
    submission_timeout: int = SUBMISSION_TIMEOUT_S
    memory_mb: int = 4096
    max_processes: int = 256
    max_file_mb: int = 256
    #: outputs kept per cell (bytes of JSON), per notebook (MiB) and counted per cell and
    #: notebook; the worker drops the rest inside the sandbox and flags ``limit:output``
    max_output_kb: int = MAX_CELL_OUTPUT_KB
    max_notebook_output_mb: int = MAX_NOTEBOOK_OUTPUT_MB
    max_outputs_per_cell: int = MAX_OUTPUTS_PER_CELL
    max_outputs_per_notebook: int = MAX_OUTPUTS_PER_NOTEBOOK


# --- the system-call filter -------------------------------------------------------------

#: ``AUDIT_ARCH_*`` (linux/audit.h) -> the numbers of add_key, request_key and keyctl in that
#: architecture's system-call table (arch/*/entry/syscalls, include/uapi/asm-generic/unistd.h).
#: A 64-bit process can also enter the kernel through its 32-bit table (``int 0x80`` on x86_64)
#: and, on x86_64, the x32 one (numbers with bit 30 set), so every entry point is listed.
_X32 = 0x40000000
KEYRING_SYSCALLS = {
    0xC000003E: (248, 249, 250, _X32 | 248, _X32 | 249, _X32 | 250),  # x86_64 (and x32)
    0x40000003: (286, 287, 288),                                       # i386
    0xC00000B7: (217, 218, 219),                                       # aarch64
    0x40000028: (309, 310, 311),                                       # arm (EABI)
}
#: The machines whose system-call numbers the filter knows (``platform.machine()``).
KNOWN_MACHINES = ("x86_64", "amd64", "aarch64", "arm64")
_EPERM = 1


@functools.lru_cache(maxsize=1)
def seccomp_program() -> bytes:
    """The sandbox's seccomp filter as a classic BPF program (``struct sock_filter[]``, native
    byte order), the form ``bwrap --seccomp FD`` reads.

    It fails ``add_key``, ``request_key`` and ``keyctl`` with ``EPERM`` (as container
    runtimes' default profiles do) and allows every other call; a call made through an
    architecture the filter does not know kills the process (fail closed). Raises
    :class:`UserError` (one line) on a machine whose system-call numbers it does not know.
    """
    machine = platform.machine().lower()
    if machine not in KNOWN_MACHINES:
        raise UserError(
            f"the sandbox's system-call filter knows x86_64 and aarch64, not this machine's "
            f"{machine or 'unknown'} architecture; grade trusted submissions with --no-sandbox"
        )
    ld_w_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    allow, deny, kill = 0x7FFF0000, 0x00050000 | _EPERM, 0x80000000
    # seccomp_data: int nr at offset 0, __u32 arch at offset 4
    blocks = [[(ld_w_abs, 0, 0, 0), *[(jeq_k, "deny", 0, nr) for nr in nrs], (ret_k, 0, 0, allow)]
              for nrs in KEYRING_SYSCALLS.values()]
    head = [(ld_w_abs, 0, 0, 4)]
    head += [(jeq_k, f"arch{i}", 0, arch) for i, arch in enumerate(KEYRING_SYSCALLS)]
    head += [(ret_k, 0, 0, kill)]
    program, labels = list(head), {}
    for i, block in enumerate(blocks):
        labels[f"arch{i}"] = len(program)
        program += block
    labels["deny"] = len(program)
    program.append((ret_k, 0, 0, deny))
    out = bytearray()
    for pc, (code, jt, jf, k) in enumerate(program):
        jt = labels[jt] - pc - 1 if isinstance(jt, str) else jt
        out += struct.pack("=HBBI", code, jt, jf, k)
    return bytes(out)


def seccomp_fd() -> int:
    """A new readable descriptor holding :func:`seccomp_program` (for ``bwrap --seccomp``; the
    caller passes it to bwrap and closes it after the start)."""
    program = seccomp_program()
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, program)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_fd)
    return read_fd


@functools.lru_cache(maxsize=1)
def bwrap() -> str | None:
    """The bubblewrap executable, if it is installed and can create namespaces here."""
    exe = shutil.which("bwrap")
    if not exe:
        return None
    try:
        probe = subprocess.run(
            [exe, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--proc", "/proc",
             "--dev", "/dev", "true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return exe if probe.returncode == 0 else None


def popen(argv: list[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` of ``argv`` wrapped by :func:`command` (``jobdir``/``template``
    keywords as there), with the seccomp filter's descriptor handed to bubblewrap."""
    jobdir, template = kwargs.pop("jobdir"), kwargs.pop("template", None)
    fd = seccomp_fd()
    try:
        kwargs["pass_fds"] = (*kwargs.get("pass_fds", ()), fd)
        return subprocess.Popen(command(argv, jobdir, template, seccomp=fd), **kwargs)
    finally:
        os.close(fd)


def _python_roots() -> list[Path]:
    """Folders the sandboxed Python needs: the venv, its base interpreter, the grader package."""
    import grader

    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.executable).resolve().parent.parent, Path(os.path.abspath(sys.prefix))}
    pkg = Path(grader.__file__).resolve().parent
    if not any(pkg.is_relative_to(r) for r in roots):
        roots.add(pkg)
    # drop folders already inside another one
    ordered = sorted(roots, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for p in ordered:
        if not any(p.is_relative_to(k) for k in kept):
            kept.append(p)
    return kept


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "nsswitch.conf",
        "passwd", "group", "hosts", "alternatives", "mime.types", "ssl")


def command(argv: list[str], jobdir: Path | None, template: Path | None = None,
            seccomp: int | None = None) -> list[str]:
    """``argv`` wrapped in bubblewrap (``seccomp``: a descriptor from :func:`seccomp_fd`, which
    the caller passes on; :func:`popen` does all of it).

    ``jobdir`` (a host folder) is bound writable at ``/submission``, the one writable folder
    besides ``/tmp``. With ``jobdir`` None, ``/submission`` is a private tmpfs instead, and
    ``template`` (a host folder of data files, read-only) appears at
    :data:`grader.engine.warm.DATA_TEMPLATE`: the layout of a warm sandbox, which outlives one student.
    The root and ``/dev`` are remounted read-only, so ``/tmp``, ``/dev/shm`` and ``/submission``
    are all a student can write to.
    """
    from .warm import DATA_TEMPLATE

    exe = bwrap()
    if exe is None:  # pragma: no cover - callers check first
        raise RuntimeError("bubblewrap is not available")
    # --as-pid-1: no bubblewrap process inside (its pid-1 reaper would keep the host's stdout
    # and stderr, readable through /proc/1/fd); the command is pid 1, and non-dumpable
    cmd = [exe, "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--as-pid-1",
           "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp",
           "--dir", "/tmp/home"]
    if seccomp is not None:
        cmd += ["--seccomp", str(seccomp)]
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            cmd += ["--ro-bind", str(path), str(path)]
    # /etc/pythonX.Y: Debian's interpreter reads its sitecustomize.py there
    for name in (*_ETC, f"python{sys.version_info.major}.{sys.version_info.minor}"):
        path = Path("/etc") / name
        if path.exists():
            cmd += ["--ro-bind", str(path), str(path)]
    for root in _python_roots():
        cmd += ["--ro-bind", str(root), str(root)]
    if jobdir is not None:
        cmd += ["--bind", str(jobdir), SANDBOX_WORKDIR]
    else:
        cmd += ["--tmpfs", SANDBOX_WORKDIR]
        if template is not None:
            cmd += ["--ro-bind", str(template), DATA_TEMPLATE]
    cmd += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SANDBOX_WORKDIR, "--clearenv"]
    for key, value in sandbox_env(SANDBOX_WORKDIR).items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def sandbox_env(workdir: str) -> dict[str, str]:
    """The whole environment of a student's process: nothing inherited from the instructor."""
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    return {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/home/.mpl",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/home/.jupyter-runtime",
        "NUMBA_CACHE_DIR": "/tmp/home/.numba",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # debugpy's "frozen modules" note would be every warm sandbox log's last line
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "GRADER_WORKDIR": workdir,
    }


class Cgroup:
    """A per-submission cgroup for memory and process limits (v1 or v2), when the host allows.

    Falls back to nothing (``available`` False); the caller then uses ``RLIMIT_AS`` for memory.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.paths: dict[str, Path] = {}
        name = f"grader-{uuid.uuid4().hex[:12]}"
        base = Path("/sys/fs/cgroup")
        try:
            if (base / "cgroup.controllers").exists():  # unified (v2)
                own = Path(open("/proc/self/cgroup").read().strip().split("::", 1)[-1].lstrip("/"))
                path = base / own / name
                path.mkdir()
                (path / "memory.max").write_text(str(limits.memory_mb * 2**20))
                (path / "pids.max").write_text(str(limits.max_processes))
                self.paths = {"memory": path, "pids": path}
                self.v2 = True
            else:
                self.v2 = False
                for ctl, setting, value in (("memory", "memory.limit_in_bytes", limits.memory_mb * 2**20),
                                            ("pids", "pids.max", limits.max_processes)):
                    path = base / ctl / name
                    path.mkdir()
                    (path / setting).write_text(str(value))
                    self.paths[ctl] = path
        except OSError:
            self.remove()
            self.paths = {}

    @property
    def available(self) -> bool:
        return bool(self.paths)

    @property
    def has_memory(self) -> bool:
        return "memory" in self.paths

    def join(self) -> None:
        """Move the calling process in (called in the child before exec)."""
        for path in {p for p in self.paths.values()}:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def counters(self) -> dict[str, int]:
        """How often each limit has been reached so far (they only grow)."""
        counts: dict[str, int] = {}
        try:
            if self.has_memory:
                if self.v2:
                    events = (self.paths["memory"] / "memory.events").read_text()
                    counts["memory"] = sum(int(line.split()[1]) for line in events.splitlines()
                                           if line.split()[0] in ("oom_kill", "max"))
                else:
                    counts["memory"] = int((self.paths["memory"] / "memory.failcnt").read_text() or 0)
            if "pids" in self.paths:
                events = (self.paths["pids"] / "pids.events").read_text()
                counts["processes"] = sum(int(line.split()[1]) for line in events.splitlines()
                                          if line.startswith("max "))
        except (OSError, ValueError, IndexError):
            pass
        return counts

    def hit(self, since: dict[str, int] | None = None) -> list[str]:
        """Which limits were reached (since the ``since`` counters): ``memory``, ``processes``."""
        now, since = self.counters(), since or {}
        return [what for what in ("memory", "processes") if now.get(what, 0) > since.get(what, 0)]

    def kill_all(self) -> None:
        for path in {p for p in self.paths.values()}:
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, PermissionError):
                        pass
            except OSError:
                pass

    def remove(self) -> None:
        import time

        for path in {p for p in self.paths.values()}:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.05)


def preexec(limits: Limits, cgroup: Cgroup | None):
    """A ``preexec_fn`` that applies the limits to the child and everything it starts."""

    def apply() -> None:
        if cgroup is not None and cgroup.available:
            cgroup.join()
        if cgroup is None or not cgroup.has_memory:
            mem = limits.memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = limits.max_file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply
