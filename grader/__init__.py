"""Interpreting and Explaining Machine Learning Models: check library, datasets and autograder.

Students use :mod:`grader.checks` (``q1.check()``, ``q1.hint()``) and :mod:`grader.datasets`.
Instructors use the ``grader`` command (:mod:`grader.cli`), whose verbs live in one module each:
:mod:`grader.release`, :mod:`grader.verify`, :mod:`grader.grading`, :mod:`grader.feedback`,
:mod:`grader.export`, :mod:`grader.demo`.
"""

__version__ = "0.1.0"


# --- start-up time (issue 19): jsonschema without its IRI grammar ----------------------------
# jsonschema (which nbformat imports) registers an ``iri`` format checker from rfc3987_syntax
# when that is installed (jsonschema[format-nongpl]); importing it compiles ~35 Earley
# grammars, about 1 s of CPU in every grading process, warm sandbox and cold worker
# (python-jsonschema/jsonschema#1428). No notebook or nbgrader schema uses ``iri``, so only
# jsonschema's own import of it is refused; any other ``import rfc3987_syntax`` works.
import sys as _sys


class _SkipIriGrammarInJsonschema:
    """A ``sys.meta_path`` finder that makes ``jsonschema._format``'s import of
    ``rfc3987_syntax`` raise ImportError (which jsonschema expects of a missing extra)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "rfc3987_syntax":
            return None
        frame = _sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith(
                ("importlib", "_frozen_importlib")):
            frame = frame.f_back
        if frame is not None and frame.f_globals.get("__name__") == "jsonschema._format":
            raise ImportError("rfc3987_syntax is not loaded for jsonschema (grader/__init__.py)")
        return None


if "jsonschema._format" not in _sys.modules and not any(
        isinstance(f, _SkipIriGrammarInJsonschema) for f in _sys.meta_path):
    _sys.meta_path.insert(0, _SkipIriGrammarInJsonschema())
