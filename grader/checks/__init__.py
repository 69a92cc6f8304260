"""Student-facing checks: one module per assignment (``m01``, ``m05``, ...), each exporting
``q1``, ``q2``, ... with ``check()`` and ``hint()``. See :mod:`grader.checks.core`."""

from .core import Incorrect, NotAttempted, Question, call, question

__all__ = ["Incorrect", "NotAttempted", "Question", "call", "question"]
