"""``grader report``: class analytics for an instructor, from the gradebook.

One self-contained HTML page (figures embedded as base64 PNG, no external URL) and a CSV of every
table it shows:

- the score distribution per assignment and across the course;
- **item analysis** per question, in the terms of classical test theory as Moodle's quiz
  statistics report them: *facility* (mean score / maximum), *standard deviation* (of the score as
  a fraction of the maximum, n - 1 in the denominator) and *discrimination* (the corrected
  item-total correlation: Pearson's r between the question's score and the total of the *other*
  questions, Moodle's "discrimination index"); a question is flagged when its discrimination is
  below :data:`POOR_DISCRIMINATION` (0.20: Ebel & Frisbie, *Essentials of Educational
  Measurement*, 1991, rate items below 0.20 "poor, to be revised or discarded"), negative (the
  weaker students do better on it: check the key), or undefined (no spread in its scores);
- **misconception frequencies**: per question, how many students each named mistake (the codes
  of :mod:`grader.misconceptions`) caught, most frequent first, with the mistake's text;
- flags and statuses (timeouts, tampering, errors) and the grading time of each submission, read
  from ``grades.csv`` of the grading output directory when there is one.

Everything comes from the gradebook (SQLite or PostgreSQL), so written answers graded by hand in
formgrader count. Every submission in the gradebook is included (one that could not run scores
zero everywhere); students with no submission are left out of the item analysis and count as zero
in the course distribution.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import UserError, ensure_env_bin_on_path, gradebook_url  # noqa: F401 (the CLI imports it here)
from .misconceptions import TIERS

#: Discrimination (corrected item-total r) below which a question is flagged (Ebel & Frisbie 1991).
POOR_DISCRIMINATION = 0.20
#: How many named mistakes the "re-teach first" table lists.
RETEACH_TOP = 10


def item_analysis(scores: pd.DataFrame, max_scores: dict[str, float]) -> pd.DataFrame:
    """Classical item statistics of a students x questions score table.

    ``scores``: one row per student, one column per question (points, NaN counts as 0);
    ``max_scores``: each question's maximum. Returns one row per question with ``n``, ``max``,
    ``mean`` (points), ``facility`` (mean / max, in [0, 1]), ``sd`` (sample standard deviation of
    score / max), ``discrimination`` (Pearson r of the question against the total minus that
    question; NaN when either has no spread or n < 3) and ``flag``.
    """
    scores = scores.fillna(0.0).astype(float)
    total = scores.sum(axis=1)
    rows = []
    for q in scores.columns:
        x = scores[q]
        top = float(max_scores.get(q) or 0.0)
        rest = total - x
        n = len(x)
        r = math.nan
        if n >= 3 and x.std(ddof=1) > 0 and rest.std(ddof=1) > 0:
            r = float(x.corr(rest))
        frac = x / top if top else x * math.nan
        rows.append({
            "question": q, "n": n, "max": top, "mean": float(x.mean()) if n else math.nan,
            "facility": float(frac.mean()) if n else math.nan,
            "sd": float(frac.std(ddof=1)) if n >= 2 else math.nan,
            "discrimination": r, "flag": discrimination_flag(r),
        })
    return pd.DataFrame(rows, columns=["question", "n", "max", "mean", "facility", "sd", "discrimination", "flag"])


def discrimination_flag(r: float) -> str:
    """The flag of a discrimination value: '' when it discriminates well enough."""
    if r is None or math.isnan(r):
        return "undefined (no spread)"
    if r < 0:
        return "negative: check the key"
    if r < POOR_DISCRIMINATION:
        return f"poor (< {POOR_DISCRIMINATION:.2f})"
    return ""


@dataclass
class AssignmentData:
    """What the gradebook holds about one assignment."""

    name: str
    max_score: float
    questions: dict[str, float] = field(default_factory=dict)  # question -> max points
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)  # student x question
    totals: dict[str, float] = field(default_factory=dict)  # student -> submission score
    needs_manual: dict[str, bool] = field(default_factory=dict)


def load_gradebook(db_url: str, assignments: list[str] | None = None) -> tuple[list[AssignmentData], list[str]]:
    """Read every (chosen) assignment's grades through nbgrader's API; return them and the roster.

    Raises UserError for an assignment the gradebook does not know.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from .misconceptions import question_of

    ensure_env_bin_on_path()
    out = []
    with Gradebook(db_url) as gb:
        known = [a.name for a in gb.assignments]
        wanted = list(assignments) if assignments else sorted(known)
        for aid in wanted:
            if aid not in known:
                raise UserError(f"assignment {aid!r} is not in the gradebook ({', '.join(known) or 'empty'}); "
                                "grade it first or check --db")
        roster = sorted(s.id for s in gb.students)
        for aid in wanted:
            a = gb.find_assignment(aid)
            data = AssignmentData(aid, float(a.max_score))
            for nb in a.notebooks:
                for cell in nb.grade_cells:
                    q = question_of(cell.name)
                    data.questions[q] = data.questions.get(q, 0.0) + float(cell.max_score)
            table: dict[str, dict[str, float]] = {}
            for sid in roster:
                try:
                    sub = gb.find_submission(aid, sid)
                except MissingEntry:
                    continue
                row = dict.fromkeys(data.questions, 0.0)
                for nb in sub.notebooks:
                    for g in nb.grades:
                        q = question_of(g.name)
                        row[q] = row.get(q, 0.0) + float(g.score or 0.0)
                table[sid] = row
                data.totals[sid] = float(sub.score)
                data.needs_manual[sid] = bool(sub.needs_manual_grade)
            data.scores = pd.DataFrame.from_dict(table, orient="index", columns=list(data.questions)).sort_index()
            out.append(data)
    return out, roster


def misconception_table(db_url: str, aid: str, solutions: Path | None, graded: int) -> pd.DataFrame:
    """Per question and code: how many students, their share of the ``graded`` submissions, the
    mistake's text and the students; most frequent first. A student whose failing cells of one
    question name a catalogued mistake is counted under it, not also under a tier."""
    from .misconceptions import catalogue, describe, load

    rows = load(db_url, aid)
    mistakes = catalogue(solutions, aid) if solutions else ()
    cols = ["question", "code", "students", "share", "what it means", "who"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    # a named mistake explains the question's other failing cells: drop their tiers
    named = {(r.student_id, r.question) for r in df.itertuples() if r.code not in TIERS}
    keep = [r.code not in TIERS or (r.student_id, r.question) not in named for r in df.itertuples()]
    df = df[keep]
    grouped = df.groupby(["question", "code"])["student_id"].agg(lambda s: sorted(set(s)))
    out = []
    for (q, code), who in grouped.items():
        out.append({"question": q, "code": code, "students": len(who),
                    "share": len(who) / graded if graded else math.nan,
                    "what it means": describe(code, mistakes), "who": " ".join(who)})
    table = pd.DataFrame(out, columns=cols)
    return table.sort_values(["students", "question", "code"], ascending=[False, True, True]).reset_index(drop=True)


def read_grades_csv(out_dir: Path | None) -> pd.DataFrame:
    """``OUT/grades.csv`` (statuses, flags, seconds), or an empty table."""
    cols = ["student_id", "assignment", "score", "max_score", "status", "flags", "reason", "needs_manual_grade", "seconds"]
    path = Path(out_dir) / "grades.csv" if out_dir else None
    if not path or not path.exists():
        return pd.DataFrame(columns=cols)
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        rows = [{c: (r.get(c) or "")[:400] for c in cols} for r in csv.DictReader(fh)]
    df = pd.DataFrame(rows, columns=cols)
    df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce")
    return df


# --- figures ------------------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams["text.parse_math"] = False  # labels are data ($ in a name is a dollar sign)
    return plt, sns


def fig_course(course: pd.DataFrame) -> str:
    """Course score (% of the maximum) per student, and per assignment as box + points."""
    plt, sns = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 2]})
    sns.histplot(course["course %"], bins=list(range(0, 101, 10)), ax=ax1, color="#0072B2")
    ax1.set(xlabel="course score (% of maximum)", ylabel="students", xlim=(0, 100), title="Across the course")
    long = course.drop(columns=["course %"]).reset_index(names="student").melt(
        id_vars="student", var_name="assignment", value_name="%")
    long["assignment"] = long["assignment"].str[:2]
    with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib 3.11 a deprecated argument
        warnings.simplefilter("ignore")
        sns.boxplot(data=long, x="assignment", y="%", ax=ax2, color="#dde6f5", fliersize=0)
    sns.stripplot(data=long, x="assignment", y="%", ax=ax2, color="#333333", size=4, jitter=0.15)
    ax2.set(ylim=(-5, 105), ylabel="score (% of maximum)", title="Per assignment")
    return _png(fig)


def fig_items(items: pd.DataFrame, aid: str) -> str:
    """Facility against discrimination, one labelled point per question, the flag line drawn
    (Okabe-Ito colours, and a marker shape, so colour is never the only cue)."""
    plt, _ = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    d = items.copy()
    d["y"] = d["discrimination"].fillna(0.0)
    poor = d["flag"] != ""
    ax.scatter(d.loc[~poor, "facility"], d.loc[~poor, "y"], s=60, color="#0072B2", label="discriminates")
    ax.scatter(d.loc[poor, "facility"], d.loc[poor, "y"], s=60, color="#D55E00", marker="X", label="flagged")
    for _, r in d.iterrows():
        ax.annotate(r["question"], (r["facility"], r["y"]), textcoords="offset points", xytext=(5, 4), fontsize=9)
    ax.axhline(POOR_DISCRIMINATION, color="#D55E00", ls="--", lw=1)
    ax.text(0.01, POOR_DISCRIMINATION + 0.02, f"flag below {POOR_DISCRIMINATION:.2f}", color="#D55E00", fontsize=8)
    ax.set(xlim=(-0.05, 1.05), ylim=(-1.05, 1.05), xlabel="facility (mean score / max)",
           ylabel="discrimination (item-rest r)", title=f"{aid}: items (undefined r drawn at 0)")
    ax.legend(loc="lower left", fontsize=8)
    return _png(fig)


def fig_misconceptions(table: pd.DataFrame, aid: str, top: int = 12) -> str:
    """The most frequent codes as horizontal bars (students), labelled 'question: code'."""
    plt, sns = _plt()
    d = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(d) + 1.2))
    labels = [f"{q}: {c}" for q, c in zip(d["question"], d["code"], strict=True)]
    colors = ["#9e9e9e" if c in TIERS else "#E69F00" for c in d["code"]]
    ax.barh(labels, d["students"], color=colors)
    ax.set(xlabel="students", title=f"{aid}: what went wrong (most frequent {len(d)}; grey: no named mistake)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def fig_times(flags: pd.DataFrame, aid: str) -> str:
    plt, _ = _plt()
    d = flags.dropna(subset=["seconds"]).sort_values("seconds")
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(d) + 1.2))
    colors = ["#D55E00" if s != "graded" or f else "#0072B2" for s, f in zip(d["status"], d["flags"], strict=True)]
    ax.barh(d["student_id"], d["seconds"], color=colors)
    ax.set(xlabel="grading time (s); red: error, missing or flagged", title=f"{aid}: time per submission")
    return _png(fig)


# --- the page -----------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f8} img{max-width:100%;display:block;margin:0.5em 0}
.flag{color:#b71c1c;font-weight:600} .note{color:#555;font-size:0.9em}
"""


def _table(df: pd.DataFrame, floats: str = "{:.2f}") -> str:
    if df.empty:
        return '<p class="note">(nothing to show)</p>'
    return df.to_html(index=False, escape=True, na_rep="-", border=0,
                      float_format=lambda v: floats.format(v))


def _img(b64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


@dataclass
class ReportFiles:
    html: Path
    csvs: list[Path]


def build_report(db_url: str, to: Path, assignments: list[str] | None = None, *,
                 out_dir: Path | None = None, solutions: Path | None = None,
                 title: str = "Class report") -> ReportFiles:
    """Write ``to/report.html`` and ``to/*.csv`` for the chosen assignments (default: all in the
    gradebook); return their paths. ``out_dir`` is the grading output (its ``grades.csv`` gives
    statuses, flags and times); ``solutions`` the course's ``solutions/`` (the mistakes' texts)."""
    every, roster = load_gradebook(db_url, None)
    known = [a.name for a in every]
    for aid in assignments or []:
        if aid not in known:
            raise UserError(f"assignment {aid!r} is not in the gradebook ({', '.join(known) or 'empty'}); "
                            "grade it first or check --db")
    data = [a for a in every if not assignments or a.name in assignments]
    to = Path(to)
    to.mkdir(parents=True, exist_ok=True)
    csvs: list[Path] = []

    def save(df: pd.DataFrame, name: str) -> None:
        path = to / name
        df.to_csv(path, index=False)
        csvs.append(path)

    course = pd.DataFrame(index=pd.Index(roster, name="student"))
    course_max = sum(a.max_score for a in every)
    for a in every:
        course[a.name] = [100 * a.totals.get(s, 0.0) / a.max_score if a.max_score else 0.0 for s in roster]
    points = sum(pd.Series({s: a.totals.get(s, 0.0) for s in roster}) for a in every) if every else 0
    course["course %"] = 100 * points / course_max if course_max else 0.0
    save(course.reset_index().round(2), "course-scores.csv")
    grades = read_grades_csv(out_dir)

    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">{len(roster)} students, {len(every)} assignments in the gradebook. '
             "Scores include manual grades; a submission that could not run counts as zero; "
             "a student with nothing submitted counts as zero in the course score.</p>",
             "<h2>Score distribution</h2>"]
    if roster and every:
        parts.append(_img(fig_course(course), "course score distribution"))
    summary = pd.DataFrame([{
        "assignment": a.name, "submissions": len(a.totals), "max": a.max_score,
        "mean": pd.Series(a.totals).mean() if a.totals else math.nan,
        "median": pd.Series(a.totals).median() if a.totals else math.nan,
        "sd": pd.Series(a.totals).std(ddof=1) if len(a.totals) > 1 else math.nan,
        "awaiting manual grading": sum(a.needs_manual.values()),
    } for a in every])
    save(summary, "assignments.csv")
    parts += [_table(summary), "<h3>Per student (% of each maximum)</h3>",
              _table(course.reset_index(), "{:.1f}")]
    head_at = len(parts)  # the "re-teach first" summary goes here once every assignment is read
    named: list[pd.DataFrame] = []

    for a in data:
        slug = a.name
        parts.append(f'<h2 id="{html.escape(slug)}">{html.escape(slug)}</h2>')
        if a.scores.empty:
            parts.append('<p class="note">No submissions in the gradebook.</p>')
            continue
        scores = a.scores.copy()
        scores.insert(0, "total", [a.totals[s] for s in scores.index])
        save(scores.reset_index(names="student"), f"{slug}-scores.csv")
        items = item_analysis(a.scores, a.questions)
        save(items, f"{slug}-items.csv")
        parts += ["<h3>Item analysis</h3>",
                  f'<p class="note">Facility: mean score / max. SD: of score / max. Discrimination: '
                  f"corrected item-total correlation (the question against the total of the other "
                  f"questions; Moodle's discrimination index). Flagged below {POOR_DISCRIMINATION:.2f} "
                  "(Ebel &amp; Frisbie 1991: below 0.20 is poor), when negative, or when the scores do "
                  f"not vary. n = {len(a.scores)} submissions.</p>",
                  _img(fig_items(items, slug), f"{slug} item analysis"), _table(items)]
        mis = misconception_table(db_url, slug, solutions, len(a.scores))
        save(mis, f"{slug}-misconceptions.csv")
        named.append(mis[~mis["code"].isin(TIERS)].assign(assignment=slug))
        parts.append("<h3>Misconceptions: what to re-teach</h3>")
        if not mis.empty:
            parts.append(_img(fig_misconceptions(mis, slug), f"{slug} misconceptions"))
        parts.append(_table(mis))
        flags = grades[grades["assignment"] == slug] if not grades.empty else grades
        parts.append("<h3>Statuses, flags and grading time</h3>")
        if flags.empty:
            parts.append('<p class="note">No grades.csv (pass --out, the grading output directory) for '
                         "this assignment.</p>")
        else:
            shown = flags[["student_id", "status", "score", "max_score", "flags", "seconds", "reason"]]
            save(shown, f"{slug}-submissions.csv")
            counts = flags["status"].value_counts().to_dict()
            flagged = flags[(flags["status"] != "graded") | (flags["flags"] != "")]
            parts.append(f"<p>{', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}; "
                         f"{len(flagged)} need a look.</p>")
            parts.append(_img(fig_times(flags, slug), f"{slug} grading time"))
            parts.append(_table(shown, "{:.1f}"))
    top = pd.concat(named, ignore_index=True) if named else pd.DataFrame()
    if not top.empty:
        top = top.sort_values(["students", "assignment", "question"], ascending=[False, True, True])
        top = top[["assignment", "question", "code", "students", "what it means"]].head(RETEACH_TOP)
    save(top if not top.empty else pd.DataFrame(columns=["assignment", "question", "code", "students",
                                                         "what it means"]), "reteach.csv")
    toc = " &middot; ".join(f'<a href="#{html.escape(a.name)}">{html.escape(a.name)}</a>' for a in data)
    parts[head_at:head_at] = [f"<h2>Re-teach first</h2><p class=\"note\">The {RETEACH_TOP} named mistakes "
                              "that caught the most students, across the assignments in this report.</p>",
                              _table(top), f"<p>{toc}</p>"]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    target = to / "report.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return ReportFiles(target, csvs)
