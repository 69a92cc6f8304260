"""The install story: pins agree, the README's commands are the ones CI and users run."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    pins = {}
    for dep in deps:
        name, sep, version = dep.partition("==")
        assert sep, f"{dep} is not pinned exactly"
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_agrees_with_pip_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[name.lower().replace("_", "-")] = version
    assert conda.pop("python").startswith("3.1")
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section["pip"][-1] == "-e ."
    for dep in pip_section["pip"][:-1]:  # PyPI-only wheels, pinned the same way
        name, sep, version = dep.partition("==")
        assert sep, f"environment.yml: {dep} is not pinned exactly"
        conda[name.lower()] = version
    assert conda == _pins()


def test_core_stack_is_pinned():
    pins = _pins()
    for name in ("jupyterlab", "nbgrader", "shap", "lime", "scikit-learn", "seaborn", "pandas", "numpy",
                 "matplotlib", "nbclient"):
        assert name in pins


def test_readme_gives_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["./run.sh demo", "./run.sh test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./run.sh test" in ci


def test_nbgrader_config_points_at_solutions_and_assignments():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in text
    assert 'release_directory = "assignments"' in text
    assert '"mutants.yml"' in text  # never released to students


def _grader_imports() -> dict[str, set[str]]:
    """module -> the grader modules it imports anywhere in its body (function-level too)."""
    import ast

    pkg = ROOT / "grader"
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in pkg.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
                stem = ".".join(x for x in (base, node.module or "") if x)
                names = [stem] + [f"{stem}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {n for n in names if n in modules and n != mod}
        graph[mod] = deps
    return graph


def test_the_package_has_no_import_cycle():
    """Issue 19: no module of grader/ imports, directly or through others, a module that imports
    it back (a package's __init__ re-exporting its own submodules does not count)."""
    graph = _grader_imports()
    assert len(graph) > 20
    cycles = []
    state: dict[str, int] = {}

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for dep in sorted(graph[mod]):
            if mod.startswith(dep + ".") or dep.startswith(mod + "."):
                continue  # a package and its own submodules
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[mod] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    assert not cycles, cycles


def test_the_sandboxed_side_imports_nothing_of_the_trusted_side():
    """Issue 19: the execution engine is a folder of its own, and what runs inside a sandbox (the
    worker, the zygote, the probe the student's kernel imports) loads neither the trusted runner
    nor the judging code nor the course configuration."""
    code = ("import sys, grader.engine.probe, grader.engine.worker, grader.engine.warm; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('grader'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert {"grader.engine.probe", "grader.engine.worker", "grader.engine.warm"} <= loaded
    trusted = {"grader.engine.runner", "grader.engine.pool", "grader.engine.cluster", "grader.grading",
               "grader.judging", "grader.config", "grader.precompute"}
    assert not loaded & trusted, sorted(loaded & trusted)


def test_grade_options_are_one_object_and_an_unknown_option_is_refused(tmp_path):
    """Issue 19: grade() takes a GradeOptions; keyword overrides replace its fields, a misspelt
    one is a TypeError, not silently ignored."""
    import dataclasses

    import pytest

    from grader.config import Course
    from grader.grading import GradeOptions, grade

    fields = {f.name for f in dataclasses.fields(GradeOptions)}
    assert {"workers", "warm", "scheduler", "sandbox", "limits", "db_url", "force", "budget"} <= fields
    with pytest.raises(TypeError):
        grade(Course(ROOT), "05-evaluation-metrics", tmp_path, tmp_path / "out", wokers=2)
