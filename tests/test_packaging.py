"""The install story: pins agree, the README's commands are the ones CI and users run."""

import re
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
