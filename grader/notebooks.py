"""Small, pure operations on notebooks: safe reading, solution regions, hidden tests."""

from __future__ import annotations

import codecs
import copy
import json
import os
import re
import stat
import textwrap
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .config import MAX_NOTEBOOK_BYTES, MAX_NOTEBOOK_CELLS

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
HIDDEN_NOTICE = "# (hidden tests run here when your work is graded; their code is not shown)"


class NotebookError(Exception):
    """A notebook that cannot be read: the message is one line and says what to do."""


#: A cell id as nbformat 4.5 allows it.
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
#: The keys each cell type has in nbformat 4 (anything else is dropped on intake).
_CELL_KEYS = {
    "code": {"id", "cell_type", "metadata", "source", "outputs", "execution_count"},
    "markdown": {"id", "cell_type", "metadata", "source", "attachments"},
    "raw": {"id", "cell_type", "metadata", "source", "attachments"},
}
_CHUNK = 2**20


def whole(text: str, width: int = 200) -> str:
    """``text`` on one line, at most ``width`` characters, shortened at a word boundary."""
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" ...") or "no detail"


def open_regular(path: Path, max_bytes: int) -> int:
    """Open ``path`` for reading only if it is a regular file of at most ``max_bytes`` bytes.

    The file is checked with ``lstat`` before it is opened, and opened with ``O_NOFOLLOW`` and
    ``O_NONBLOCK`` (a named pipe or device can never block the caller), then checked again on the
    open descriptor. Returns the descriptor (the caller closes it). Raises :class:`NotebookError`
    with one line naming the file and what to do.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise NotebookError(f"{path.name} cannot be read ({exc.strerror})") from None
    _check_regular(path, st, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise NotebookError(f"{path.name} cannot be read ({exc.strerror}); submit the notebook file itself") from None
    try:
        _check_regular(path, os.fstat(fd), max_bytes)  # it may have been swapped since lstat
    except NotebookError:
        os.close(fd)
        raise
    return fd


def _check_regular(path: Path, st: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise NotebookError(f"{path.name} is a symbolic link; submit the notebook file itself")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a named pipe" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise NotebookError(f"{path.name} is {kind}, not a notebook file; submit the .ipynb file itself")
    if st.st_size > max_bytes:
        raise NotebookError(
            f"{path.name} is {st.st_size / 2**20:.0f} MiB, over the grader's {max_bytes / 2**20:.0f} MiB limit "
            "for a notebook; clear its outputs (Edit > Clear Outputs of All Cells), save and resubmit"
        )


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, read in chunks after :func:`open_regular`; never more than
    ``max_bytes`` (a file that grows past it while read is refused)."""
    fd = open_regular(path, max_bytes)
    try:
        chunks, size = [], 0
        while chunk := os.read(fd, _CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise NotebookError(f"{Path(path).name} grew past the grader's limit while it was read; resubmit it")
            chunks.append(chunk)
    except BlockingIOError:
        raise NotebookError(f"{Path(path).name} cannot be read without waiting; submit the notebook file itself") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def hash_regular(h, path: Path, max_bytes: int) -> None:
    """Feed ``path``'s bytes into the hash object ``h`` in 1 MiB chunks (same checks as
    :func:`open_regular`); memory use does not grow with the file."""
    fd = open_regular(path, max_bytes)
    try:
        while chunk := os.read(fd, _CHUNK):
            h.update(chunk)
    finally:
        os.close(fd)


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> NotebookNode:
    """Read a notebook as Jupyter does (:func:`read_submission`), without the list of repairs."""
    return read_submission(path, max_bytes)[0]


def read_submission(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> tuple[NotebookNode, list[str]]:
    """Read a submitted notebook as tolerantly as JupyterLab and ``nbformat.read`` do.

    Returns the notebook as a validated nbformat 4.5 node (every cell has an id) and the list of
    repairs made, each a short phrase (empty for a clean notebook). Accepted and repaired: a UTF-8
    byte order mark; nbformat 3 and older 4.x (upgraded by nbformat); cell ids under
    ``nbformat_minor`` < 5, and missing, invalid or duplicate ids; keys a cell type does not have
    (``execution_count``/``outputs`` on markdown); a code cell without ``execution_count``,
    ``outputs`` or ``metadata``; source given as a list of lines; malformed standard metadata.
    Outputs are dropped (grading clears them anyway). Raises :class:`NotebookError` with one whole
    line naming the file and what to do for what cannot be repaired: not a regular file, over
    ``max_bytes``, empty, not UTF-8 JSON, not a notebook, a newer major nbformat, more than
    ``MAX_NOTEBOOK_CELLS`` cells.
    """
    path = Path(path)
    raw = read_regular(path, max_bytes)
    if not raw.strip():
        raise NotebookError(f"{path.name} is empty (0 bytes of notebook); save the notebook and resubmit")
    repairs: list[str] = []
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
        repairs.append("a UTF-8 byte order mark removed")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(
            f"{path.name} is not valid notebook JSON ({whole(exc, 80)}); re-download it from JupyterLab "
            "(File > Download) and resubmit"
        ) from None
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no 'cells'); resubmit the .ipynb file")
    major = data.get("nbformat", 4)
    if not isinstance(major, int) or major > 4 or major < 1:
        raise NotebookError(
            f"{path.name} declares nbformat {whole(repr(major), 20)}, which this grader cannot read; "
            "open it in JupyterLab, save it (nbformat 4) and resubmit"
        )
    if major < 4:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                upgraded = nbformat.reads(json.dumps(data), as_version=4, capture_validation_error={})
            data = json.loads(json.dumps(upgraded))
        except Exception as exc:  # nbformat raises several types for malformed old notebooks
            raise NotebookError(
                f"{path.name} is an nbformat {major} notebook that nbformat cannot upgrade ({whole(exc, 100)}); "
                "open it in JupyterLab, save it and resubmit"
            ) from None
        repairs.append(f"upgraded from nbformat {major}")
    cells = data.get("cells")
    if isinstance(cells, list) and len(cells) > MAX_NOTEBOOK_CELLS:
        raise NotebookError(
            f"{path.name} has {len(cells)} cells, over the grader's limit of {MAX_NOTEBOOK_CELLS}; "
            "remove the cells you added in bulk, save and resubmit"
        )
    nb = _repair(data, repairs)
    try:
        nbformat.validate(nb)
    except Exception:  # nbformat raises several types for malformed notebooks
        _repair_metadata(nb, repairs)
        try:
            nbformat.validate(nb)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise NotebookError(
                f"{path.name} is not a valid notebook and could not be repaired ({whole(first, 160)}); "
                "open it in JupyterLab, save it and resubmit"
            ) from None
    return nb, repairs


def _repair(data: dict, repairs: list[str]) -> NotebookNode:
    """An nbformat 4.5 notebook from a 4.x dict: cells given the keys their type has, ids made
    valid and unique, outputs dropped. Appends a phrase per kind of repair to ``repairs``."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("the notebook's 'cells' is not a list; open it in JupyterLab, save it and resubmit")
    fixed: list[dict] = []
    seen_ids: set[str] = set()
    done: set[str] = set()

    def note(what: str) -> None:
        if what not in done:
            done.add(what)
            repairs.append(what)

    for cell in cells:
        if not isinstance(cell, dict):
            note("a cell that was not a JSON object dropped")
            continue
        ctype = cell.get("cell_type")
        if ctype not in _CELL_KEYS:
            note(f"a cell of unknown type {whole(repr(ctype), 30)} read as raw text")
            ctype = "raw"
        new = {k: v for k, v in cell.items() if k in _CELL_KEYS[ctype]}
        if set(cell) - _CELL_KEYS[ctype] - {"cell_type"}:
            note(f"keys a {ctype} cell does not have ({', '.join(sorted(set(cell) - _CELL_KEYS[ctype]))[:60]}) dropped")
        new["cell_type"] = ctype
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        elif not isinstance(source, str):
            note("a cell source that was not text emptied")
            source = ""
        new["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            if "metadata" in cell:
                note("cell metadata that was not an object reset")
            new["metadata"] = {}
        if ctype == "code":
            if "execution_count" not in cell:
                note("a missing execution_count added")
            new["execution_count"] = None
            new["outputs"] = []
        elif "attachments" in new and not isinstance(new["attachments"], dict):
            del new["attachments"]
        cid = cell.get("id")
        if not (isinstance(cid, str) and _CELL_ID.match(cid)) or cid in seen_ids:
            if cid is not None:
                note("invalid or duplicate cell ids replaced")
            cid = _new_id(seen_ids)
        seen_ids.add(cid)
        new["id"] = cid
        fixed.append(new)
    minor = data.get("nbformat_minor")
    if not isinstance(minor, int) or minor < 5:
        if isinstance(minor, int) and any("id" in c for c in cells if isinstance(c, dict)):
            note(f"cell ids under nbformat_minor {minor} kept (minor version raised to 5)")
        minor = 5
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    return nbformat.from_dict({"cells": fixed, "metadata": meta, "nbformat": 4, "nbformat_minor": minor})


def _new_id(taken: set[str]) -> str:
    while (cid := uuid.uuid4().hex[:8]) in taken:
        pass
    return cid


_META_TYPES = {"collapsed": bool, "deletable": bool, "editable": bool, "name": str, "format": str,
               "jupyter": dict, "execution": dict}


def _repair_metadata(nb: NotebookNode, repairs: list[str]) -> None:
    """Drop standard metadata entries of the wrong shape (nbformat's schema), cells and notebook."""
    for cell in nb.cells:
        md = cell.metadata
        for key, kind in _META_TYPES.items():
            if key in md and not isinstance(md[key], kind):
                del md[key]
        if "scrolled" in md and not (isinstance(md["scrolled"], bool) or md["scrolled"] == "auto"):
            del md["scrolled"]
        if "tags" in md and not (isinstance(md["tags"], list)
                                 and all(isinstance(t, str) and "," not in t for t in md["tags"])):
            del md["tags"]
    md = nb.metadata
    ks = md.get("kernelspec")
    if "kernelspec" in md and not (isinstance(ks, dict) and isinstance(ks.get("name"), str)
                                   and isinstance(ks.get("display_name"), str)):
        del md["kernelspec"]
    li = md.get("language_info")
    if "language_info" in md and not (isinstance(li, dict) and isinstance(li.get("name"), str)):
        del md["language_info"]
    for key, kind in (("title", str), ("authors", list), ("orig_nbformat", int)):
        if key in md and not isinstance(md[key], kind):
            del md[key]
    repairs.append("malformed metadata dropped")


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
    """Truncate each cell's outputs to ``max_bytes`` of text; True if anything was cut.

    Error outputs are always kept (their traceback cut to one line), wherever they stand: they
    decide the cell's grade, so no amount of output before them may push them out.
    """
    cut = False
    for cell in nb.cells:
        total = 0
        kept = []
        noted = False
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if total + len(json.dumps(out)) > max_bytes:
                    cut = True
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {str(out.get('evalue', ''))[:500]}"]
                kept.append(out)
                continue
            size = len(json.dumps(out))
            if total + size > max_bytes:
                cut = True
                if not noted:
                    kept.append(nbformat.v4.new_output(
                        "stream", name="stdout", text=f"[output truncated by the grader: over {max_bytes // 1024} kB]\n"))
                    noted = True
                continue
            total += size
            kept.append(out)
        if cell.get("outputs") is not None and (len(kept) != len(cell["outputs"]) or noted):
            cell["outputs"] = kept
    return cut


@dataclass
class Recovery:
    """What :func:`recover_cells` did to a submitted notebook.

    ``notes``: plain phrases for the student and instructor (cells repaired, an answer missing);
    ``tamper``: ``tamper:...`` flags for test code that was edited or is nowhere in the notebook;
    ``missing_answers``: grade ids of manually graded answers restored empty (scored 0).
    """

    notes: list[str] = field(default_factory=list)
    tamper: list[str] = field(default_factory=list)
    missing_answers: list[str] = field(default_factory=list)


def _kind(meta: dict, ctype: str) -> str:
    if meta.get("grade") and not meta.get("solution") and ctype == "code":
        return "test"
    if meta.get("grade"):
        return "written"
    if meta.get("solution"):
        return "answer"
    return "locked"


def _contains(text: str, part: str) -> tuple[str, str] | None:
    """(before, after) if ``part`` occurs in ``text`` as whole lines, else None."""
    if not part:
        return None
    start = 0
    while (i := text.find(part, start)) >= 0:
        j = i + len(part)
        if (i == 0 or text[i - 1] == "\n") and (j == len(text) or text[j] in "\r\n"):
            return text[:i], text[j:]
        start = i + 1
    return None


def _plain(cell: NotebookNode) -> NotebookNode:
    cell.metadata.pop("nbgrader", None)
    return cell


def _new_cell(ctype: str, source: str, taken: set[str], metadata: dict | None = None) -> NotebookNode:
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[ctype]
    cell = make(source=source, metadata=copy.deepcopy(metadata or {}))
    cell.id = _new_id(taken)
    taken.add(cell.id)
    return cell


def recover_cells(nb: NotebookNode, source: NotebookNode, tests: dict[str, set[str]]) -> Recovery:
    """Bring a student's notebook back to one cell per source grade id, in place, never failing.

    ``source`` is the released notebook (its cells' ``metadata.nbgrader`` is the truth);
    ``tests`` maps each test cell's grade id to the stripped sources it may have (release and
    solution versions). After this, nbgrader's DeduplicateIds, OverwriteCells and
    CheckCellMetadata find nothing to reject. Rules, in order:

    1. nbgrader metadata that is not a dict, has no ``grade_id``, or names a grade id the
       assignment does not have (a cell pasted from another notebook) is removed: the cell runs as
       plain student code;
    2. of several cells claiming one grade id, the one whose nbformat id is the source's, whose
       type matches and (for a test) whose code is intact is kept, else the first; the others run
       as plain code;
    3. a grade id with no cell adopts, in order: the cell carrying the source cell's nbformat id
       (metadata stripped by an editor); for a test, a plain code cell holding its code; for an
       answer, the one plain cell of its type between its source neighbours;
    4. a locked cell (test, prompt, set-up code) whose text holds the source's text plus more
       (cells merged in JupyterLab) is split: the source text stays, the rest becomes plain cells
       beside it, so nothing the student wrote is lost; a test cell's code found inside another
       cell is split out the same way;
    5. a test, written answer or locked code cell still missing is restored from the source next
       to its nearest source neighbour present (any cell), else appended; a restored written
       answer is empty and scores 0 (``missing_answers``).

    Tampering keeps its policy: a test cell whose code was changed is ``tamper:edited-test-cell``;
    a test whose code is nowhere in the notebook is ``tamper:deleted-test-cell``. Every kept cell
    gets the source's nbgrader metadata and cell type.
    """
    rec = Recovery()
    src_cells = [c for c in source.cells if isinstance(nbgrader_meta(c).get("grade_id"), str)]
    order = [grade_id(c) for c in src_cells]
    src = dict(zip(order, src_cells, strict=True))
    kind = {g: _kind(nbgrader_meta(c), c.cell_type) for g, c in src.items()}
    allowed = {g: tests.get(g) or {src[g].source.strip()} for g in order if kind[g] == "test"}
    cells = nb.cells
    taken = {c.get("id") for c in cells}
    counts: dict[str, int] = {}

    def count(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    # 1. metadata that names nothing in this assignment
    for cell in cells:
        md = cell.metadata
        if "nbgrader" not in md:
            continue
        meta = md["nbgrader"]
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(gid, str) or not gid:
            _plain(cell)
            count("grading metadata without a grade id removed")
        elif gid not in src:
            _plain(cell)
            count("cells from another notebook run as plain code")
    # 2. one cell per grade id
    claims: dict[str, list[NotebookNode]] = {}
    for cell in cells:
        if (gid := grade_id(cell)) is not None:
            claims.setdefault(gid, []).append(cell)
    owner: dict[str, NotebookNode] = {}
    for gid, group in claims.items():
        def rank(item: tuple[int, NotebookNode], gid: str = gid) -> tuple:
            pos, cell = item
            intact = kind[gid] != "test" or cell.source.strip() in allowed[gid]
            return (cell.get("id") != src[gid].get("id"), cell.cell_type != src[gid].cell_type,
                    not intact, pos)
        keep = min(enumerate(group), key=rank)[1]
        owner[gid] = keep
        for cell in group:
            if cell is not keep:
                _plain(cell)
                count("cells repeating a graded cell's id (copied or pasted) run as plain code")

    def adopt(gid: str, cell: NotebookNode, why: str) -> None:
        owner[gid] = cell
        owned.add(id(cell))
        cell.metadata["nbgrader"] = copy.deepcopy(nbgrader_meta(src[gid]))
        count(why)

    owned = {id(c) for c in owner.values()}

    def free(cell: NotebookNode) -> bool:
        return "nbgrader" not in cell.metadata and id(cell) not in owned

    # 3a. by nbformat cell id (an editor dropped the metadata but kept the ids)
    by_id = {c.get("id"): c for c in cells}
    for gid in order:
        cell = by_id.get(src[gid].get("id"))
        if gid not in owner and cell is not None and free(cell):
            adopt(gid, cell, "cells' grading metadata restored by cell id")
    # 4a. locked cells merged with others: the source text stays, the rest becomes plain cells
    def rebuild(splits: dict[int, list[NotebookNode]]) -> list[NotebookNode]:
        return [piece for cell in cells for piece in splits.get(id(cell), [cell])]

    splits: dict[int, list[NotebookNode]] = {}
    for gid in order:
        cell = owner.get(gid)
        if cell is None or not nbgrader_meta(src[gid]).get("locked"):
            continue
        text = cell.source.strip()
        wanted = allowed[gid] if kind[gid] == "test" else {src[gid].source.strip()}
        if text in wanted:
            continue
        parts = next((p for w in sorted(wanted, key=len, reverse=True) if (p := _contains(text, w))), None)
        if parts is None:
            if kind[gid] == "test":
                rec.tamper.append("tamper:edited-test-cell")
            elif text and text not in src[gid].source:  # edited prompt or set-up: the student's text kept
                splits[id(cell)] = [cell, _new_cell(cell.cell_type, cell.source, taken)]
            continue
        before, after = (p.strip("\n") for p in parts)
        pieces = [_new_cell(cell.cell_type, before, taken)] if before.strip() else []
        pieces.append(cell)
        if after.strip():
            pieces.append(_new_cell(cell.cell_type, after, taken))
        splits[id(cell)] = pieces
        count("merged cells split")
    cells = rebuild(splits)
    # 3b/4b. a test whose code stands alone in a plain cell, or was merged into another cell (split
    # out); repeated, since splitting one merge can free the code of the next test
    def find_tests() -> bool:
        for gid in order:
            if gid not in owner and kind[gid] == "test":
                for cell in cells:
                    if free(cell) and cell.source.strip() in allowed[gid]:
                        adopt(gid, cell, "test cells recognised by their code")
                        return True
        for gid in order:
            if gid in owner or kind[gid] != "test":
                continue
            for cell in cells:
                cgid = grade_id(cell)
                if cgid is not None and nbgrader_meta(src[cgid]).get("locked"):
                    continue
                parts = next((p for w in sorted(allowed[gid], key=len, reverse=True)
                              if (p := _contains(cell.source.strip(), w))), None)
                if parts is None:
                    continue
                before, after = (p.strip("\n") for p in parts)
                test = _new_cell("code", src[gid].source, taken)
                owner[gid] = test
                owned.add(id(test))
                test.metadata["nbgrader"] = copy.deepcopy(nbgrader_meta(src[gid]))
                cell.source = before
                pieces = [cell, test] + ([_new_cell(cell.cell_type, after, taken)] if after.strip() else [])
                cells[:] = rebuild({id(cell): pieces})
                count("merged cells split")
                return True
        return False

    while find_tests():
        pass
    # 3b'. a prompt or set-up cell whose text is unchanged
    for gid in order:
        if gid not in owner and kind[gid] == "locked":
            text = src[gid].source.strip()
            for cell in cells:
                if free(cell) and cell.cell_type == src[gid].cell_type and cell.source.strip() == text:
                    adopt(gid, cell, "locked cells recognised by their text")
                    break
    # 3c. an answer that lost its metadata: the one plain cell of its type between its neighbours
    for gid in order:
        if gid in owner or kind[gid] not in ("written", "answer"):
            continue
        idx = order.index(gid)
        at = {id(c): i for i, c in enumerate(cells)}
        lo = next((at[id(owner[g])] for g in reversed(order[:idx]) if g in owner), -1)
        hi = next((at[id(owner[g])] for g in order[idx + 1:] if g in owner), len(cells))
        between = [c for c in cells[lo + 1:hi] if c.cell_type == src[gid].cell_type and free(c)] if lo < hi else []
        if len(between) == 1 or (between and kind[gid] == "written"):
            adopt(gid, between[0], "answer cells recognised by their place")
    # 5. restore what is still missing
    for idx, gid in enumerate(order):
        if gid in owner:
            continue
        meta = nbgrader_meta(src[gid])
        if kind[gid] == "answer" or (kind[gid] == "locked" and src[gid].cell_type != "code"):
            continue
        if kind[gid] == "locked" and not meta.get("locked"):
            continue
        cell = copy.deepcopy(src[gid])
        cell.metadata = {"nbgrader": copy.deepcopy(meta)}
        cid = src[gid].get("id")
        cell.id = cid if cid and cid not in {c.get("id") for c in cells} else _new_id(taken)
        taken.add(cell.id)
        at = {id(c): i for i, c in enumerate(cells)}
        prev = next((at[id(owner[g])] for g in reversed(order[:idx]) if g in owner), None)
        nxt = next((at[id(owner[g])] for g in order[idx + 1:] if g in owner), None)
        where = prev + 1 if prev is not None else nxt if nxt is not None else len(cells)
        cells.insert(where, cell)
        owner[gid] = cell
        owned.add(id(cell))
        if kind[gid] == "test":
            rec.tamper.append("tamper:deleted-test-cell")
        elif kind[gid] == "written":
            rec.missing_answers.append(gid)
        else:
            count("deleted set-up cells restored")
    # every graded cell carries the source's metadata and type
    for gid, cell in owner.items():
        cell.metadata["nbgrader"] = copy.deepcopy(nbgrader_meta(src[gid]))
        if cell.cell_type != src[gid].cell_type:
            _retype(cell, src[gid].cell_type)
            count("converted graded cells given back their type")
    nb.cells = cells
    rec.notes = [f"{what} ({n})" if n > 1 else what for what, n in counts.items()]
    rec.tamper = sorted(set(rec.tamper))
    return rec


def _retype(cell: NotebookNode, ctype: str) -> None:
    cell.cell_type = ctype
    if ctype == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def ipc_kernel_config(folder: Path):
    """A traitlets ``Config`` for an nbclient kernel on this machine that talks over local
    sockets (ZeroMQ IPC) in ``folder``, a private temporary directory, instead of TCP on
    localhost: no port another local user can reach, and no "running over TCP without
    encryption" warning from ipykernel >= 7 on the instructor's terminal."""
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(Path(folder) / "kernel")
    return config
