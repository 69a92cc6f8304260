"""Interpreting and Explaining Machine Learning Models: check library, datasets and autograder.

Students use :mod:`grader.checks` (``q1.check()``, ``q1.hint()``) and :mod:`grader.datasets`.
Instructors use the ``grader`` command (:mod:`grader.cli`), whose verbs live in one module each:
:mod:`grader.release`, :mod:`grader.verify`, :mod:`grader.grading`, :mod:`grader.feedback`,
:mod:`grader.export`, :mod:`grader.demo`.
"""

__version__ = "0.1.0"
