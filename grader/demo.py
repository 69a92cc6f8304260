"""``grader demo``: the whole instructor cycle on the bundled example class.

release check -> example class -> grade every assignment into one SQLite gradebook ->
feedback pages -> a per-student summary table -> written answers marked (an instructor's
formgrader step, simulated) -> grade export -> class report -> certificates and transcripts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .config import Course, UserError, sqlite_url
from .example_class import generate as generate_class
from .export import export
from .grading import grade
from .release import out_of_sync
from .results import SubmissionResult


def run_demo(course: Course, out: Path, *, workers: int | None = None, progress: bool = True,
             echo=print) -> dict[str, list[SubmissionResult]]:
    out = Path(out).resolve()
    if out.exists():
        if not (out / ".grader-demo").exists():
            raise UserError(f"{out} exists and is not a demo output; choose another --out or remove it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ".grader-demo").write_text("made by `grader demo`; safe to delete\n")
    ids = [aid for aid in course.resolve(None) if (course.assignments / aid).is_dir()]
    if not ids:
        raise UserError(f"{course.assignments}: nothing released; run `grader release` first")
    for aid in ids:
        for problem in out_of_sync(course, aid):
            echo(f"warning: {aid}: {problem}")
    from .engine.sandbox import bwrap

    sandboxed = bwrap() is not None
    if not sandboxed:
        echo("note: bubblewrap is not installed, so the (trusted) example class runs without a sandbox")
    submitted = out / "submitted"
    echo(f"1. example class: {len(ids)} assignments -> {submitted}")
    generate_class(course, submitted, ids)
    db_url = sqlite_url(out / "gradebook.db")
    results: dict[str, list[SubmissionResult]] = {}
    for aid in ids:
        echo(f"2. grading {aid} ...")
        results[aid] = grade(course, aid, submitted, out, workers=workers, db_url=db_url, progress=progress,
                             sandbox=sandboxed)
    echo("")
    echo(summary_table(results))
    echo("")
    marked = grade_written_answers(db_url)
    echo(f"3. manual grading (simulated, as an instructor in formgrader): {marked} written answers marked")
    n = export(out / "gradebook-export.csv", db_url=db_url)
    echo(f"4. exported {n} gradebook rows")
    from .certify import certify
    from .report import build_report

    report = build_report(db_url, out / "report", out_dir=out, solutions=course.solutions,
                          title="Example class: report")
    echo(f"5. class report: {report.html}")
    certs = certify(course, db_url, out / "certificates", secret_file=out / "demo-certificate.key",
                    allow_secret_inside=True)
    passed = ", ".join(sid for sid, _, _ in certs.issued + certs.kept) or "nobody"
    echo(f"6. certificates for {passed}: {out / 'certificates'}/STUDENT.pdf")
    echo(f"   ledger {certs.ledger}; {len(certs.transcripts)} transcripts of what is missing in "
         f"{out / 'certificates' / 'transcripts'}")
    echo("")
    echo(f"grades (per run):   {out / 'grades.csv'}")
    echo(f"gradebook (SQLite): {out / 'gradebook.db'}  (export: {out / 'gradebook-export.csv'})")
    echo(f"feedback pages:     {out / 'feedback'}/STUDENT/ASSIGNMENT/*.html")
    echo(f"graded notebooks:   {out / 'autograded'}")
    echo(f"formgrader:         grader formgrader --out {out}")
    echo(f"class report:       {out / 'report' / 'report.html'}  (CSV tables beside it)")
    echo(f"certificates:       {out / 'certificates'}  (check one: grader certify --out {out} "
         f"--secret-file {out / 'demo-certificate.key'} --check CODE)")
    return results


def grade_written_answers(db_url: str) -> int:
    """The demo's stand-in for an instructor in formgrader: every written answer that awaits
    manual grading gets its full marks (the example class writes sound answers). Returns how
    many were marked. Tampered code cells awaiting review are left alone."""
    from nbgrader.api import Gradebook

    marked = 0
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for nb in assignment.notebooks:
                for sub_nb in nb.submissions:
                    for g in sub_nb.grades:
                        if g.needs_manual_grade and g.cell.cell_type == "markdown":
                            g.manual_score = g.max_score
                            g.needs_manual_grade = False
                            marked += 1
        gb.db.commit()
    return marked


def summary_table(results: dict[str, list[SubmissionResult]], width: int = 100) -> str:
    """The per-student summary: one short column per assignment (its two-digit label), in as
    many blocks of columns as ``width`` needs, then notes and a legend of the full names; every
    line at most ``width`` columns."""
    students = sorted({r.student_id for rs in results.values() for r in rs})
    aids = list(results)
    labels = _labels(aids)
    by = {(r.student_id, aid): r for aid, rs in results.items() for r in rs}
    marks: dict[tuple[str, str], str] = {}
    notes: dict[str, dict[tuple, tuple[str, list[str]]]] = {}
    for sid in students:
        for aid in aids:
            r = by.get((sid, aid))
            if r is None:
                marks[sid, aid] = "-"
                continue
            if r.status == "graded":
                marks[sid, aid] = f"{r.score:g}/{r.max_score:g}" + ("*" if r.needs_manual_grade else "")
            else:
                marks[sid, aid] = r.status
            if r.status != "graded" or r.flags:  # one note per student and kind of problem
                why = _strip_prefix(r.reason, sid, aid).replace(aid, "<id>") or ";".join(r.flags)
                kind = (r.status, tuple(r.flags))
                notes.setdefault(sid, {}).setdefault(kind, (why, []))[1].append(labels[aid])
    sw = max(7, *(len(s) for s in students)) if students else 7
    cw = max(5, *(len(m) for m in marks.values())) + 1 if marks else 6
    per_block = max(1, (width - sw) // cw)  # as many assignment columns as fit; then a new block
    lines: list[str] = []
    for start in range(0, len(aids), per_block):
        block = aids[start:start + per_block]
        head = f"{'student':<{sw}}" + "".join(f"{labels[a]:>{cw}}" for a in block)
        lines += ([""] if lines else []) + [head, "-" * len(head)]
        for sid in students:
            lines.append(f"{sid:<{sw}}" + "".join(f"{marks[sid, a]:>{cw}}" for a in block))
    lines.append("* written answers await manual grading (formgrader)")
    if notes:
        lines += ["", "notes:"]
        for sid, kinds in notes.items():
            for why, where in kinds.values():
                lines.append(_clip(f"  {sid} ({_span(where)}): {why}", width))
    entries = [f"{labels[a]} {a}" for a in aids if labels[a] != a]
    if entries:
        ew = max(len(e) for e in entries) + 3
        per = max(1, (width - 2) // ew)
        lines += ["", "assignments:"]
        lines += ["  " + "".join(f"{e:<{ew}}" for e in entries[i:i + per]).rstrip()
                  for i in range(0, len(entries), per)]
    return "\n".join(lines)


def _labels(aids: list[str]) -> dict[str, str]:
    """Short column labels: the two-digit prefix, or the full id if two share a prefix."""
    short = {aid: aid[:2] for aid in aids}
    clash = {v for v in short.values() if list(short.values()).count(v) > 1}
    return {aid: (aid if short[aid] in clash else short[aid]) for aid in aids}


def _strip_prefix(reason: str, sid: str, aid: str) -> str:
    for prefix in (f"{sid}/{aid}/", f"{sid}/{aid}: ", f"{sid}/{aid}"):
        if reason.startswith(prefix):
            return reason[len(prefix):].strip()
    return reason.strip()


def _span(labels: list[str]) -> str:
    if len(labels) > 2 and all(len(x) == 2 and x.isdigit() for x in labels):
        nums = [int(x) for x in labels]
        if nums == list(range(nums[0], nums[-1] + 1)):
            return f"{labels[0]}-{labels[-1]}"
    return ",".join(labels)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    text = "  " + text
    return text if len(text) <= width else text[: width - 3] + "..."
