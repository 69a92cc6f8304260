"""Small, pure operations on notebooks: safe reading, solution regions, hidden tests."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
HIDDEN_NOTICE = "# (hidden tests run here when your work is graded; their code is not shown)"


class NotebookError(Exception):
    """A notebook that cannot be read: the message is one line and says what to do."""


def read_notebook(path: Path) -> NotebookNode:
    """Read and validate a notebook; raise :class:`NotebookError` with a one-line reason."""
    path = Path(path)
    if path.is_symlink():
        raise NotebookError(f"{path.name} is a symbolic link; submit the notebook file itself")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"{path.name} cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise NotebookError(f"{path.name} is empty (0 bytes of notebook); save the notebook and resubmit")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(
            f"{path.name} is not valid notebook JSON ({str(exc)[:80]}); re-download it from JupyterLab "
            "(File > Download) and resubmit"
        ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise NotebookError(f"{path.name} is JSON but not a notebook (no 'cells'); resubmit the .ipynb file")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for malformed notebooks
        raise NotebookError(f"{path.name} is not a valid notebook ({str(exc).splitlines()[0][:80]})") from None
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def find_cell(nb: NotebookNode, gid: str) -> NotebookNode:
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return cell
    raise KeyError(gid)


def is_test_cell(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def replace_solution(source: str, code: str) -> str:
    """Replace what lies between BEGIN and END SOLUTION (markers kept) with ``code``."""
    lines = source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION)
        end = next(i for i, line in enumerate(lines) if line.strip() == END_SOLUTION and i > start)
    except StopIteration:
        raise ValueError("cell has no BEGIN/END SOLUTION region") from None
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    body = [indent + line if line.strip() else line for line in code.rstrip("\n").splitlines()]
    return "\n".join(lines[: start + 1] + body + lines[end:])


def strip_hidden_tests(source: str) -> str:
    """The source with every hidden-test region replaced by a one-line notice."""
    out: list[str] = []
    hidden = False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            hidden = True
            out.append(HIDDEN_NOTICE)
        elif line.strip() == END_HIDDEN:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def cell_output_text(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def error_line(cell: NotebookNode) -> str | None:
    """The one-line error of a cell (``ename: evalue``), or None if it did not raise."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "wrote to stderr (a warning or progress bar), which fails a test cell"
    return None


def cap_outputs(nb: NotebookNode, max_bytes: int) -> bool:
    """Truncate each cell's outputs to ``max_bytes`` of text; True if anything was cut."""
    cut = False
    for cell in nb.cells:
        total = 0
        kept = []
        for out in cell.get("outputs", []):
            size = len(json.dumps(out))
            if total + size > max_bytes:
                cut = True
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {str(out.get('evalue', ''))[:500]}"]
                    kept.append(out)
                else:
                    kept.append(nbformat.v4.new_output(
                        "stream", name="stdout", text=f"[output truncated by the grader: over {max_bytes // 1024} kB]\n"))
                break
            total += size
            kept.append(out)
        if cell.get("outputs") is not None and len(kept) != len(cell.get("outputs", [])):
            cell["outputs"] = kept
        elif cut and cell.get("outputs"):
            cell["outputs"] = kept
    return cut
