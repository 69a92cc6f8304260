"""Fingerprint the machinery that grading relies on, from inside the student's kernel.

The worker (:mod:`grader.engine.worker`) evaluates :func:`state` through the kernel's
``user_expressions`` (which bypass input transformers) once before the first cell and again
before every graded test cell, and compares the results with :func:`compare`. A fingerprint
records the identity of each object, so replacing ``numpy.allclose`` or a check's ``verify``
with another function, appending an input or AST transformer, installing a custom exception
handler or an event hook, adding an import hook, or shadowing a module all show up as a
difference, whatever route the student took to reach the object (``sys.modules``, ``gc``,
``importlib``, ``__builtins__``...).

This detects tampering; it does not prevent it. A submission with findings is flagged
``tamper:<what>`` and its autograded score is withheld for the instructor's review.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
import sys
import types

NONCE_KEY = "__nonce__"
DIGEST_KEY = "__digest__"

#: Modules whose public callables the checks and tests depend on.
WATCHED = (
    "builtins", "math", "operator", "functools", "numpy", "numpy.testing", "numpy.linalg",
    "pandas", "pandas.testing", "sklearn.metrics", "sklearn.inspection", "sklearn.model_selection",
    "grader", "grader.checks", "grader.checks.core", "grader.checks.errors", "grader.checks.values",
    "grader.datasets",
    "grader.checks.collect", "grader.checks.wire",  # what collects answers for the outside judge
)
#: Classes whose methods the checks call on students' answers.
WATCHED_CLASSES = (("pandas", "Series"), ("pandas", "DataFrame"), ("pandas", "Index"))
_BENIGN_HOOK_MODULES = ("matplotlib_inline", "ipykernel", "IPython", "matplotlib")

_id = builtins.id
_type = builtins.type
_getattr = builtins.getattr
_callable = builtins.callable
_isinstance = builtins.isinstance
_vars = builtins.vars
_dumps = json.dumps
_sha256 = hashlib.sha256
_ModuleType = types.ModuleType


def _fp(obj: object) -> str:
    code = _getattr(obj, "__code__", None) or _getattr(_getattr(obj, "__func__", None), "__code__", None)
    where = code.co_filename if code is not None else ""
    return f"{_type(obj).__name__}:{_id(obj)}:{where}"


def _import_watched(extra: tuple[str, ...] = ()) -> list[str]:
    import importlib

    names = list(WATCHED) + [m for m in extra if m.startswith("grader.checks.")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    return names


def _shell_items(items: dict[str, str]) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    for attr in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
        seq = _getattr(shell, attr, [])
        items[f"shell.{attr}.type"] = _type(seq).__name__
        items[f"shell.{attr}.len"] = str(len(seq))
        for i, t in enumerate(seq):
            items[f"shell.{attr}[{i}]"] = _fp(t)
    itm = _getattr(shell, "input_transformer_manager", None)
    for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
        seq = _getattr(itm, attr, [])
        items[f"shell.itm.{attr}.len"] = str(len(seq))
        for i, t in enumerate(seq):
            items[f"shell.itm.{attr}[{i}]"] = _fp(t)
    items["shell.itm"] = _fp(itm)
    items["shell.custom_exceptions"] = repr(shell.custom_exceptions)
    items["shell.CustomTB"] = _fp(_getattr(shell, "CustomTB", None))
    items["shell.compile"] = _fp(shell.compile)
    items["sys.excepthook"] = _fp(sys.excepthook)
    for name, value in sorted(_vars(shell).items()):
        if _callable(value) and not _isinstance(value, _type):
            items[f"shell.instance.{name}"] = _fp(value)
    for klass in _type(shell).__mro__:
        for name, value in sorted(_vars(klass).items()):
            if _callable(value):
                items[f"shell.class.{klass.__name__}.{name}"] = _fp(value)
    for event, callbacks in shell.events.callbacks.items():
        mine = [cb for cb in callbacks
                if not str(_getattr(cb, "__module__", "") or "").startswith(_BENIGN_HOOK_MODULES)]
        items[f"events.{event}.len"] = str(len(mine))
        for i, cb in enumerate(mine):
            items[f"events.{event}[{i}]"] = _fp(cb)


def state(nonce: str, extra: tuple[str, ...] = (), digest: bool = False) -> str:
    """A JSON fingerprint of the grading machinery (evaluated inside the kernel).

    ``extra`` names the check modules the notebook's tests import; they are imported (if they
    are not yet) so that the first fingerprint is taken before any student code runs. Every
    fingerprint carries a digest of itself; with ``digest`` only that is sent (a few bytes
    instead of a few hundred kB), and the worker asks for the whole state only when the digest
    differs from the baseline's.
    """
    items: dict[str, str] = {NONCE_KEY: nonce}
    for name in _import_watched(extra):
        mod = sys.modules.get(name)
        if mod is None:
            continue
        items[f"module.{name}"] = _fp(mod)
        items[f"file.{name}"] = str(_getattr(mod, "__file__", "") or "")
        ours = name == "grader" or name.startswith("grader.")
        for attr, value in sorted(_vars(mod).items()):
            if attr.startswith("_") and name != "builtins":
                continue
            if _callable(value):
                items[f"attr.{name}.{attr}"] = _fp(value)
            if not ours or _isinstance(value, _ModuleType):
                continue
            # the check library's classes and question instances: every method, wherever bound
            klass = value if _isinstance(value, _type) else _type(value)
            if _getattr(klass, "__module__", "").startswith("grader"):
                for base in klass.__mro__:
                    for m, fn in _vars(base).items():
                        if _callable(fn) or _isinstance(fn, (staticmethod, classmethod)):
                            items[f"attr.{name}.{attr}.{base.__name__}.{m}"] = _fp(fn)
                if not _isinstance(value, _type):
                    for m, fn in (_getattr(value, "__dict__", None) or {}).items():
                        items[f"attr.{name}.{attr}.instance.{m}"] = _fp(fn)
    for modname, clsname in WATCHED_CLASSES:
        klass = _getattr(sys.modules.get(modname), clsname, None)
        if klass is not None:
            for m, fn in sorted(_vars(klass).items()):
                if _callable(fn):
                    items[f"attr.{modname}.{clsname}.{m}"] = _fp(fn)
    items["sys.meta_path.len"] = str(len(sys.meta_path))
    for i, finder in enumerate(sys.meta_path):
        items[f"sys.meta_path[{i}]"] = _fp(finder)
    items["sys.path_hooks.len"] = str(len(sys.path_hooks))
    _shell_items(items)
    body = {k: v for k, v in items.items() if k != NONCE_KEY}
    items[DIGEST_KEY] = _sha256(_dumps(body, sort_keys=True).encode()).hexdigest()
    if digest:
        return _dumps({NONCE_KEY: nonce, DIGEST_KEY: items[DIGEST_KEY]})
    return _dumps(items)


CHECK_MODULE = re.compile(r"grader\.checks\.(m\d+)")


def check_modules(sources: list[str]) -> tuple[str, ...]:
    """The check modules (``grader.checks.mNN``) that these cell sources import."""
    return tuple(sorted({f"grader.checks.{m}" for src in sources for m in CHECK_MODULE.findall(src)}))


def probe_expression(nonce: str, extra: tuple[str, ...] = (), digest: bool = False) -> str:
    return f"__import__('grader.engine.probe', fromlist=['state']).state({nonce!r}, {extra!r}, {digest!r})"


def _category(key: str) -> str:
    if key.startswith(("shell.input_transformers", "shell.itm")):
        return "input-transformer"
    if key.startswith("shell.ast_transformers"):
        return "ast-transformer"
    if key.startswith(("shell.custom_exceptions", "shell.CustomTB", "sys.excepthook")):
        return "exception-handler"
    if key.startswith("events."):
        return "event-hook"
    if key.startswith(("shell.instance.", "shell.class.", "shell.compile")):
        return "shell-override"
    if key.startswith(("sys.meta_path", "sys.path_hooks")):
        return "import-hook"
    if key.startswith("module."):
        return "module-replaced:" + key.split(".", 1)[1]
    if key.startswith("file."):
        return "shadow-module:" + key.split(".", 1)[1]
    if key.startswith("attr."):
        # attr.<module>.<name>[.<Class>|instance.<method>]
        rest = key[len("attr."):]
        module = max((m for m in WATCHED if rest.startswith(m + ".")), key=len, default="")
        if rest.startswith("grader.checks.m"):
            module = ".".join(rest.split(".")[:3])
        tail = rest[len(module) + 1:].split(".") if module else rest.split(".")
        if len(tail) >= 3 and tail[1] == "instance":
            return f"monkeypatch:{module}.{tail[0]}.{tail[2]}"
        if len(tail) >= 2:  # a class's method, named once however many modules re-export it
            prefix = "" if module.startswith("grader") else f"{module}."
            return f"monkeypatch:{prefix}{tail[-2]}.{tail[-1]}"
        return f"monkeypatch:{module}.{'.'.join(tail)}" if module else f"monkeypatch:{rest}"
    return "other"


MAX_FINDINGS = 6


def compare(baseline: dict[str, str], current: dict[str, str]) -> list[str]:
    """``tamper:<what>`` findings: every fingerprint that differs from the baseline.

    A replaced module is reported once (not each of its attributes); at most
    :data:`MAX_FINDINGS` findings are listed, then ``tamper:and-more``.
    """
    findings = _compare(baseline, current)
    replaced = [f.split(":", 2)[2] for f in findings if f.startswith("tamper:module-replaced:")]
    findings = [f for f in findings
                if not any(f.startswith((f"tamper:monkeypatch:{m}.", f"tamper:shadow-module:{m}")) for m in replaced)]
    if len(findings) > MAX_FINDINGS:
        findings = findings[:MAX_FINDINGS] + ["tamper:and-more"]
    return findings


def _compare(baseline: dict[str, str], current: dict[str, str]) -> list[str]:
    findings: list[str] = []
    for key, value in baseline.items():
        if key in (NONCE_KEY, DIGEST_KEY):
            continue
        if current.get(key) != value:
            finding = "tamper:" + _category(key)
            if finding not in findings:
                findings.append(finding)
    for key in current:
        if key not in baseline and key.startswith(("shell.", "events.", "sys.meta_path", "attr.grader")):
            finding = "tamper:" + _category(key)
            if finding not in findings:
                findings.append(finding)
    return findings
