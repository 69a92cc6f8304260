"""The two exceptions a check raises, in a module of their own so that :mod:`grader.checks.core`
and :mod:`grader.checks.values` can both import them without importing each other.

A failed check raises :class:`Incorrect` (an ``AssertionError``: nbgrader counts the test cell as
failed); :class:`NotAttempted` is the first tier of feedback (the answer is not written yet).
Both are re-exported by :mod:`grader.checks.core` and :mod:`grader.checks`.
"""

from __future__ import annotations


class Incorrect(AssertionError):
    """The answer is wrong; the message says how, in the student's terms."""


class NotAttempted(Incorrect):
    """The answer has not been written yet (or the cell that defines it was not run)."""
