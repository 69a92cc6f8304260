"""``grader certify``: certificates for the students who meet the course's policy.

The policy is a TOML file in the course (``certificate.toml`` at its root)::

    course = "Interpreting and Explaining Machine Learning Models"
    issuer = "The course team"
    assignments = ["01-why-interpret", "02-statistics"]  # which count (default: all)
    pass_mark = 0.5             # per assignment, as a fraction of its maximum
    overall_pass_mark = 0.6     # of the counted assignments' total
    require_manual_grading = true   # written answers must be graded first
    [pass_marks]                # optional per-assignment overrides
    "05-evaluation-metrics" = 0.6

For each student who meets it, :func:`certify` writes a one-page PDF (fpdf2) with the name, the
course, the date, the per-module results and a **verification code**, and adds the certificate to
a ledger (``ledger.json`` and ``ledger.csv``). Students who do not yet meet it get a transcript
(``transcripts/STUDENT.txt``) saying what is missing.

The code is an HMAC-SHA256 (RFC 2104) of the certificate's canonical content (sorted-key JSON)
under an instructor secret kept outside the course directory (``~/.config/grader/certificate.key``,
created with mode 0600 on first use, or ``--secret-file``). :func:`check` finds the code in the
ledger, recomputes the HMAC of the entry (an edited entry fails) and compares the results with the
gradebook (a certificate the grades no longer support fails). The PDF carries its canonical
content in its metadata, so :func:`check_pdf` detects an edited certificate file too.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .config import Course, UserError, ensure_env_bin_on_path, user_dir

POLICY_FILE = "certificate.toml"
CODE_CHARS = 20  # hex digits shown (80 bits of the HMAC), grouped by 4
_CODE = re.compile(r"[^0-9a-f]")


@dataclass
class Policy:
    course: str
    issuer: str
    assignments: list[str]
    pass_mark: float = 0.5
    overall_pass_mark: float = 0.5
    require_manual_grading: bool = True
    pass_marks: dict[str, float] = field(default_factory=dict)

    def mark_for(self, aid: str) -> float:
        return self.pass_marks.get(aid, self.pass_mark)


def _fraction(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UserError(f"{where} must be a fraction between 0 and 1 (e.g. 0.5), not {value!r}")
    return float(value)


def load_policy(course: Course, path: Path | None = None) -> Policy:
    """Read and check the policy file; raise UserError naming the file and the fix."""
    path = Path(path) if path else course.root / POLICY_FILE
    if not path.exists():
        raise UserError(f"{path}: no certificate policy; create it (course, issuer, assignments, pass_mark, "
                        "overall_pass_mark, require_manual_grading) as the README shows")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    known = {"course", "issuer", "assignments", "pass_mark", "overall_pass_mark", "require_manual_grading", "pass_marks"}
    if unknown := sorted(set(raw) - known):
        raise UserError(f"{path}: unknown setting {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in ("course", "issuer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise UserError(f"{path}: `{key}` must be a non-empty string")
    aids = raw.get("assignments") or course.assignment_ids()
    if not isinstance(aids, list) or not all(isinstance(a, str) for a in aids):
        raise UserError(f"{path}: `assignments` must be a list of assignment ids")
    try:
        aids = course.resolve(aids)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    marks = raw.get("pass_marks", {})
    if not isinstance(marks, dict) or set(marks) - set(aids):
        raise UserError(f"{path}: `pass_marks` may only name counted assignments ({', '.join(aids)})")
    return Policy(
        course=raw["course"].strip(), issuer=raw["issuer"].strip(), assignments=list(aids),
        pass_mark=_fraction(raw.get("pass_mark", 0.5), f"{path}: pass_mark"),
        overall_pass_mark=_fraction(raw.get("overall_pass_mark", 0.5), f"{path}: overall_pass_mark"),
        require_manual_grading=bool(raw.get("require_manual_grading", True)),
        pass_marks={k: _fraction(v, f"{path}: pass_marks.{k}") for k, v in marks.items()},
    )


# --- the secret ---------------------------------------------------------------------------------
def default_secret_file() -> Path:
    return user_dir("config") / "certificate.key"


def load_secret(path: Path | None, course: Course | None = None, *, create: bool = True) -> bytes:
    """The instructor's secret: read it, or create it (32 random bytes, hex, mode 0600).

    Refuses a file inside the course directory (it would be shared with the course) and one that
    others can read.
    """
    path = Path(path) if path else default_secret_file()
    resolved = path.expanduser().resolve()
    if course is not None and resolved.is_relative_to(course.root.resolve()):
        raise UserError(f"{path}: the certificate secret must live outside the course directory "
                        f"(default {default_secret_file()})")
    if not resolved.exists():
        if not create:
            raise UserError(f"{path}: no certificate secret here; pass the --secret-file that issued the certificates")
        resolved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(resolved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    if resolved.stat().st_mode & 0o077:
        raise UserError(f"{path}: the certificate secret is readable by others; run `chmod 600 {path}`")
    key = resolved.read_text(encoding="utf-8").strip().encode()
    if len(key) < 32:
        raise UserError(f"{path}: the certificate secret is too short (at least 32 characters)")
    return key


# --- results ------------------------------------------------------------------------------------
@dataclass
class ModuleResult:
    assignment: str
    score: float
    max_score: float
    pass_mark: float
    submitted: bool
    awaiting_manual: bool

    @property
    def fraction(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0

    @property
    def passed(self) -> bool:
        return self.submitted and self.fraction >= self.pass_mark - 1e-9


@dataclass
class Standing:
    student_id: str
    name: str
    modules: list[ModuleResult]
    missing: list[str]

    @property
    def total(self) -> tuple[float, float]:
        return sum(m.score for m in self.modules), sum(m.max_score for m in self.modules)

    @property
    def eligible(self) -> bool:
        return not self.missing


def standings(db_url: str, policy: Policy) -> list[Standing]:
    """Every student's results on the counted assignments, and what keeps them from the certificate."""
    from nbgrader.api import Gradebook, MissingEntry

    from .editions import find_submission

    ensure_env_bin_on_path()
    out = []
    with Gradebook(db_url) as gb:
        maxima = {}
        for aid in policy.assignments:
            try:
                maxima[aid] = float(gb.find_assignment(aid).max_score)
            except MissingEntry:
                maxima[aid] = None
        for student in sorted(gb.students, key=lambda s: s.id):
            name = " ".join(p for p in (student.first_name, student.last_name) if p) or student.id
            modules, missing = [], []
            for aid in policy.assignments:
                mark = policy.mark_for(aid)
                try:  # graded on a retired edition: that edition's score and maximum
                    sub = find_submission(gb, aid, student.id)
                except MissingEntry:
                    modules.append(ModuleResult(aid, 0.0, maxima[aid] or 0.0, mark, False, False))
                    missing.append(f"{aid}: not submitted (or not graded yet)")
                    continue
                m = ModuleResult(aid, float(sub.score), float(sub.max_score), mark, True, bool(sub.needs_manual_grade))
                modules.append(m)
                if m.awaiting_manual and policy.require_manual_grading:
                    missing.append(f"{aid}: written answers await grading by an instructor")
                elif not m.passed:
                    missing.append(f"{aid}: {m.score:g}/{m.max_score:g} ({m.fraction:.0%}), "
                                   f"below the pass mark of {mark:.0%}")
            st = Standing(student.id, name, modules, missing)
            score, top = st.total
            if top and score / top < policy.overall_pass_mark - 1e-9:
                missing.append(f"overall: {score:g}/{top:g} ({score / top:.0%}), below the pass mark of "
                               f"{policy.overall_pass_mark:.0%}")
            out.append(st)
    return out


# --- the code -----------------------------------------------------------------------------------
def content(st: Standing, policy: Policy, date: str) -> dict:
    """The certificate's canonical content (what the code signs)."""
    score, top = st.total
    return {
        "version": 1, "student_id": st.student_id, "name": st.name, "course": policy.course,
        "issuer": policy.issuer, "date": date,
        "results": [[m.assignment, round(m.score, 4), round(m.max_score, 4)] for m in st.modules],
        "overall": [round(score, 4), round(top, 4)],
    }


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(body: dict, key: bytes) -> str:
    """The verification code: HMAC-SHA256 of the canonical content, first 20 hex digits, as
    ``XXXX-XXXX-XXXX-XXXX-XXXX``."""
    digest = hmac.new(key, canonical(body), hashlib.sha256).hexdigest()[:CODE_CHARS].upper()
    return "-".join(digest[i:i + 4] for i in range(0, CODE_CHARS, 4))


def normalise(code: str) -> str:
    return _CODE.sub("", code.lower())


# --- PDF ----------------------------------------------------------------------------------------
def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def write_pdf(path: Path, body: dict, code: str) -> Path:
    """A one-page A4 landscape certificate; its canonical content goes in the PDF's metadata."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Certificate: {body['name']}, {body['course']}")
    pdf.set_author(body["issuer"])
    pdf.set_subject(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    pdf.set_keywords(f"verification-code {code}")
    pdf.add_page()
    pdf.set_draw_color(40, 70, 140)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(24)
    pdf.set_font("DejaVu", "B", 28)
    pdf.cell(0, 14, "Certificate of completion", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 13)
    pdf.cell(0, 10, "This certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    size = 24
    pdf.set_font("DejaVu", "B", size)
    while size > 10 and pdf.get_string_width(body["name"][:120]) > 250:  # a long name: smaller type
        size -= 2
        pdf.set_font("DejaVu", "B", size)
    pdf.cell(0, 14, body["name"][:120], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 13)
    pdf.cell(0, 9, "has completed the course", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, body["course"][:160], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    rows = body["results"]
    per_col = (len(rows) + 1) // 2
    x0, width, y0 = 50, 100, pdf.get_y()
    for i, (aid, score, top) in enumerate(rows):
        col, row = divmod(i, per_col)
        pdf.set_xy(x0 + col * width, y0 + row * 6)
        pct = f"{100 * score / top:.0f} %" if top else "-"
        pdf.cell(70, 6, aid[:40])
        pdf.cell(28, 6, f"{score:g}/{top:g}  {pct}", align="R")
    pdf.set_xy(10, y0 + per_col * 6 + 3)
    score, top = body["overall"]
    pdf.set_font("DejaVu", "B", 11)
    pct = f" ({100 * score / top:.0f} %)" if top else ""
    pdf.cell(277, 7, f"Overall: {score:g}/{top:g}{pct}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.set_y(168)
    pdf.cell(0, 7, f"Issued by {body['issuer'][:100]} on {body['date']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, f"Verification code: {code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(0, 5, f"Verify with the issuer: grader certify --check {code}", align="C")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pdf.tmp")
    pdf.output(str(tmp))
    os.replace(tmp, path)
    return path


# --- ledger -------------------------------------------------------------------------------------
def read_ledger(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: the certificate ledger is not valid JSON ({exc}); restore it from a backup") from None
    if not isinstance(data, list):
        raise UserError(f"{path}: the certificate ledger must be a JSON list")
    return data


def write_ledger(directory: Path, entries: list[dict]) -> None:
    for name, text in (("ledger.json", json.dumps(entries, indent=1, ensure_ascii=False) + "\n"),
                       ("ledger.csv", _ledger_csv(entries))):
        target = directory / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)


def _ledger_csv(entries: list[dict]) -> str:
    import io

    from .safetext import csv_cell

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["code", "student_id", "name", "course", "date", "overall_score", "overall_max", "pdf"])
    for e in entries:
        c = e["content"]
        w.writerow([csv_cell(v) for v in (e["code"], c["student_id"], c["name"], c["course"], c["date"],
                                          *c["overall"], e.get("pdf", ""))])
    return buf.getvalue()


@dataclass
class CertifyResult:
    issued: list[tuple[str, Path, str]] = field(default_factory=list)  # (student, pdf, code)
    kept: list[tuple[str, Path, str]] = field(default_factory=list)  # already issued, unchanged
    transcripts: list[tuple[str, Path]] = field(default_factory=list)
    ledger: Path | None = None


def certify(course: Course, db_url: str, to: Path, *, policy_file: Path | None = None,
            secret_file: Path | None = None, date: str | None = None,
            allow_secret_inside: bool = False) -> CertifyResult:
    """Issue certificates under ``to/`` (``STUDENT.pdf``, ``ledger.json``, ``ledger.csv``) and
    transcripts (``to/transcripts/STUDENT.txt``). A student whose certified results are already in
    the ledger keeps that certificate (and its code). ``allow_secret_inside``: the demo's
    throwaway key may live in its output directory (never for real certificates)."""
    policy = load_policy(course, policy_file)
    key = load_secret(secret_file, None if allow_secret_inside else course)
    to = Path(to)
    to.mkdir(parents=True, exist_ok=True)
    ledger = read_ledger(to / "ledger.json")
    date = date or dt.date.today().isoformat()
    result = CertifyResult(ledger=to / "ledger.json")
    for old in (to / "transcripts").glob("*.txt") if (to / "transcripts").is_dir() else []:
        old.unlink()
    for st in standings(db_url, policy):
        if not st.eligible:
            result.transcripts.append((st.student_id, write_transcript(to / "transcripts", st, policy)))
            continue
        body = content(st, policy, date)
        same = [e for e in ledger if _same_results(e["content"], body)]
        pdf = to / f"{st.student_id}.pdf"
        if same and pdf.exists():
            result.kept.append((st.student_id, pdf, same[-1]["code"]))
            continue
        code = sign(body, key)
        write_pdf(pdf, body, code)
        ledger.append({"code": code, "content": body, "pdf": pdf.name,
                       "issued_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        result.issued.append((st.student_id, pdf, code))
    write_ledger(to, ledger)
    return result


def _same_results(a: dict, b: dict) -> bool:
    keys = ("student_id", "name", "course", "issuer", "results", "overall")
    return all(a.get(k) == b.get(k) for k in keys)


def write_transcript(directory: Path, st: Standing, policy: Policy) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    score, top = st.total
    lines = [f"{policy.course}: transcript for {st.name} ({st.student_id})", "",
             f"The certificate needs {policy.pass_mark:.0%} on each counted assignment"
             + (" (" + ", ".join(f"{a}: {m:.0%}" for a, m in policy.pass_marks.items()) + ")" if policy.pass_marks else "")
             + f" and {policy.overall_pass_mark:.0%} overall"
             + (", with written answers graded." if policy.require_manual_grading else "."), ""]
    for m in st.modules:
        state = ("not submitted" if not m.submitted else "awaiting manual grading" if m.awaiting_manual
                 else "passed" if m.passed else "below the pass mark")
        lines.append(f"  {m.assignment:<32} {m.score:>6g}/{m.max_score:<6g} {m.fraction:>5.0%}  {state}")
    lines += [f"  {'overall':<32} {score:>6g}/{top:<6g} {score / top if top else 0:>5.0%}", "",
              "Still missing:"] + [f"  - {why}" for why in st.missing]
    path = directory / f"{st.student_id}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- checking -----------------------------------------------------------------------------------
@dataclass
class CheckResult:
    valid: bool
    message: str
    entry: dict | None = None


def check(code: str, ledger_path: Path, *, secret_file: Path | None = None, db_url: str | None = None,
          course: Course | None = None, policy_file: Path | None = None) -> CheckResult:
    """Verify a code: in the ledger, its entry's HMAC intact, and (with ``db_url``) the gradebook's
    results for that student still the certified ones."""
    wanted = normalise(code)
    if len(wanted) != CODE_CHARS:
        return CheckResult(False, f"{code!r} is not a certificate code (20 hex digits, e.g. 1A2B-3C4D-...)")
    entries = [e for e in read_ledger(Path(ledger_path)) if normalise(str(e.get("code", ""))) == wanted]
    if not entries:
        return CheckResult(False, f"INVALID: no certificate with code {code} in {ledger_path}")
    entry = entries[-1]
    body = entry.get("content") or {}
    key = load_secret(secret_file, None, create=False)  # reading it: anywhere will do
    if not hmac.compare_digest(normalise(sign(body, key)), wanted):
        return CheckResult(False, f"INVALID: the ledger entry of {code} was altered (its content no longer "
                                  "matches its code)", entry)
    if db_url and course is not None:
        try:
            policy = load_policy(course, policy_file)
        except UserError:
            policy = None
        if policy is not None:
            now = {s.student_id: s for s in standings(db_url, policy)}.get(body.get("student_id"))
            current = content(now, policy, body.get("date", "")) if now else None
            if current is None or not _same_results(current, body):
                return CheckResult(False, f"INVALID: {code} was issued to {body.get('name')} but the gradebook's "
                                          "results for them have changed since", entry)
    return CheckResult(True, f"VALID: {body.get('name')} ({body.get('student_id')}), {body.get('course')}, "
                             f"issued {body.get('date')} by {body.get('issuer')}; overall "
                             f"{body['overall'][0]:g}/{body['overall'][1]:g}", entry)


def check_pdf(pdf: Path, ledger_path: Path, **kw) -> CheckResult:
    """Verify a certificate file: the content it carries must be the ledger's for its code."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(pdf))
        meta = reader.metadata or {}
        body = json.loads(meta.get("/Subject") or "{}")
        code = str(meta.get("/Keywords") or "").removeprefix("verification-code ").strip()
        text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    except Exception as exc:  # any unreadable or foreign PDF
        return CheckResult(False, f"INVALID: {pdf} is not a certificate of this course ({type(exc).__name__})")
    result = check(code, ledger_path, **kw)
    if not result.valid:
        return result
    issued = result.entry["content"]
    shown = [issued.get("name", ""), code, " ".join(str(issued.get("course", "")).split())]
    if canonical(body) != canonical(issued) or not all(" ".join(s.split()) in text for s in shown):
        return CheckResult(False, f"INVALID: {pdf} was edited: its content differs from the certificate "
                                  f"issued under {code}", result.entry)
    if not _same_pages(pdf, issued, code):
        return CheckResult(False, f"INVALID: {pdf} was edited: its page is not the one issued under {code} "
                                  f"(or it was issued by another version of grader: check the code alone, "
                                  f"grader certify --check {code})", result.entry)
    return result


def _page_graph(obj: object, depth: int = 0) -> object:
    """A page's objects as comparable data (streams by the SHA-256 of their decoded bytes)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    if depth > 40:
        raise ValueError("too deep")
    if isinstance(obj, IndirectObject):
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        head = [(k, _page_graph(v, depth + 1)) for k, v in sorted(obj.items())
                if k not in ("/Length", "/Filter", "/DecodeParms")]
        return ("stream", head, hashlib.sha256(obj.get_data()).hexdigest())
    if isinstance(obj, DictionaryObject):
        return ("dict", [(k, _page_graph(v, depth + 1)) for k, v in sorted(obj.items()) if k != "/Parent"])
    if isinstance(obj, ArrayObject):
        return ("list", [_page_graph(v, depth + 1) for v in obj])
    return (type(obj).__name__, str(obj))


def _same_pages(pdf: Path, body: dict, code: str) -> bool:
    """Whether ``pdf`` draws exactly what the certificate of ``body`` and ``code`` draws: its pages
    (content, fonts, images, annotations) are compared with a certificate rendered again from the
    ledger's content, so a result painted over or added to the page is caught, not only edited
    metadata (the 2026-11-29 red-team review: an overlay reading "100 %" verified as VALID)."""
    import tempfile

    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_pdf(Path(tmp) / "certificate.pdf", body, code)
        try:
            mine, theirs = PdfReader(str(pdf)), PdfReader(str(fresh))
            return (len(mine.pages) == len(theirs.pages)
                    and all(_page_graph(a) == _page_graph(b)
                            for a, b in zip(mine.pages, theirs.pages, strict=True)))
        except Exception:  # noqa: BLE001 - a page that cannot be read is not the issued one
            return False
