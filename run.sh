#!/usr/bin/env bash
# One entry point for instructors, developers and CI. On first use it creates .venv with
# Python >= 3.11 and installs the course's pinned packages from PyPI (a few minutes), then:
#
#   ./run.sh demo               the whole instructor cycle on the bundled example class
#   ./run.sh test [PYTEST ARGS] the test suite
#   ./run.sh lab                JupyterLab on the course (students and self-learners)
#   ./run.sh site [--execute]   the course website, offline, in build/site/
#   ./run.sh grader ARGS...     any grader command, e.g. ./run.sh grader verify
set -euo pipefail
cd "$(dirname "$0")"

pick_python() {
    for cand in "${PYTHON:-}" python3.12 python3.11 python3.13 python3; do
        [ -n "$cand" ] || continue
        if command -v "$cand" >/dev/null 2>&1 &&
           "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    echo "run.sh: error: no Python 3.11 or newer found; install one or set PYTHON=/path/to/python3.11" >&2
    exit 2
}

stamp=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
    py=$(pick_python)
    echo "run.sh: setting up .venv with $("$py" --version) (first run only; takes a few minutes)" >&2
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev,site]'
    echo "$stamp" > .venv/.installed
fi
# nbgrader runs the `alembic` executable when it creates a gradebook: keep the env's bin/ first.
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"

cmd="${1:-help}"; [ $# -gt 0 ] && shift
case "$cmd" in
    demo)   exec grader demo "$@" ;;
    test)   exec python -m pytest "$@" ;;
    lab)    exec jupyter lab --notebook-dir=. "$@" ;;
    site)   exec grader site "$@" ;;
    grader) exec grader "$@" ;;
    *)      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
