"""Configuration for the stock ``nbgrader`` CLI and formgrader on this course.

The ``grader`` command reads the same file (grader/config.py), so both tools agree on where the
source assignments (``solutions/``) and the student versions (``assignments/``) live.
"""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "xai-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# The mutant catalogue and the answer key sit beside each source notebook, and a retired
# edition's source, key and mutants under editions/NAME/ (grader/editions.py); not for students.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "mutants.yml",
    "key.py",
    "editions",
]
# Every test cell re-imports the check library and needs no more than this per cell.
c.Execute.timeout = 60
# Deleted test cells are put back and graded (zero) instead of waiting for a manual grade.
c.OverwriteCells.add_missing_cells = True
# Late submissions (`grader duedate ASSIGNMENT 2026-12-01T23:59 --out graded` sets the due date;
# nbgrader's timestamp.txt gives the submission time). nbgrader's own plugin takes nothing off
# by default; to take 10 % of the score per started day late, uncomment:
# c.AssignLatePenalties.plugin_class = "grader.late.PerDayPenalty"
# c.PerDayPenalty.percent_per_day = 10
