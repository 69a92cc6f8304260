"""The student-facing check library: ``q1.check()``, ``q1.hint()``.

Each assignment has a module ``grader.checks.mNN`` that defines one :class:`Question` subclass
per autograded question and exports instances ``q1``, ``q2``, ... A notebook uses them like this::

    %xmode Minimal
    from grader.checks.m05 import *     # q1 ... q6

    q1.hint()          # tiered hints: q1.hint(2) for the next one
    q1.check()         # prints "Correct" or raises Incorrect("<what is wrong, and why>")

A failed check raises :class:`Incorrect` (an ``AssertionError``), which is what makes nbgrader
count the test cell as failed; under ``%xmode Minimal`` it shows as the single line
``Incorrect: <message>``. Messages follow four tiers, checked in this order:

1. **not attempted**: the name is missing, still ``...``, or the function returns ``None``;
2. **type or shape**: the answer is the wrong kind of object;
3. **a known misconception, named**: the answer equals what a classic mistake produces;
4. **wrong value**: shown with the student's own value, never the expected one.

The checks read the student's answers from the notebook's namespace, and recompute every
reference from seeded data at check time (no hard-coded expected arrays). They write nothing to
stderr: nbgrader gives zero to a test cell that does.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from .errors import Incorrect, NotAttempted

__all__ = [
    "Incorrect",
    "NotAttempted",
    "Question",
    "SeparationError",
    "call",
    "differs",
    "draw_covering",
    "draw_separating",
    "key_for",
    "question",
    "separates",
    "unrounded",
]

Case = TypeVar("Case")


def _user_namespace() -> dict[str, Any]:
    """The notebook's global namespace (IPython's ``user_ns``; ``__main__`` outside IPython)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython ships with the course environment
        shell = None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def _is_placeholder(value: Any) -> bool:
    return value is Ellipsis or value is None


class Question:
    """One autograded question.

    Subclasses set ``names`` (the variables or functions the student must define), ``title`` and
    ``hints``, and implement :meth:`verify`, which receives the student's values as keyword
    arguments and raises :class:`Incorrect` with a tiered message. :meth:`verify_hidden` runs the
    stricter checks of the hidden test cell (fresh inputs from ``seed``); by default it repeats
    :meth:`verify`.
    """

    label: str = "q?"
    title: str = ""
    names: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    congrats: str = "Correct"
    correct_message: str = ""

    # --- the student's API ------------------------------------------------------------
    def check(self) -> None:
        """Check your answer; prints ``Correct`` or raises ``Incorrect`` with the reason."""
        values = self._values()
        with _quiet():
            self.verify(**values)
        self._say_correct()

    def check_hidden(self, seed: int) -> None:
        """The hidden test: stricter checks on fresh inputs (used in graded test cells)."""
        values = self._values()
        with _quiet():
            self.verify_hidden(seed=seed, **values)
        self._say_correct()

    def hint(self, n: int = 1) -> None:
        """Show hint ``n`` (1 is the gentlest)."""
        if not self.hints:
            print(f"{self.label}: there is no hint for this question.")
            return
        n = max(1, min(int(n), len(self.hints)))
        more = f"  (For another hint, call {self.label}.hint({n + 1}).)" if n < len(self.hints) else ""
        print(f"Hint {n}/{len(self.hints)}: {self.hints[n - 1]}{more}")

    def __repr__(self) -> str:
        return f"<{self.label}: {self.title}. Call {self.label}.check() or {self.label}.hint()>"

    # --- for question authors ---------------------------------------------------------
    def verify(self, **values: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def verify_hidden(self, seed: int, **values: Any) -> None:
        self.verify(**values)

    def verify_graded(self, seed: int, **values: Any) -> None:
        """The graded visible test, judged outside the kernel: by default :meth:`verify` (its
        designed cases name each misconception) and then :meth:`verify_hidden` on fresh inputs
        from ``seed`` (so answers fitted to the visible inputs do not pass).

        A question whose answers are only variables (no inputs to vary) overrides this with
        :meth:`verify`, so that the graded visible test keeps the visible tolerance.
        """
        self.verify(**values)
        self.verify_hidden(seed=seed, **values)

    def canonical(self, name: str, value: Any) -> str | None:
        """A canonical text of a *structured* single-value answer ``name`` (say, a dict of
        options), so that the offline check can compare it by salted hash; None (the default)
        for a plain value. Public code: it normalises and validates the form (raising the
        type-or-shape :class:`Incorrect`), it must not know the answer."""
        return None

    def references(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """For each name in ``names``: the reference value, or a reference function (key only)."""
        raise NotImplementedError

    def _values(self) -> dict[str, Any]:
        return self._values_from(_user_namespace())

    def _values_from(self, ns: dict[str, Any]) -> dict[str, Any]:
        """The student's values of ``names`` in ``ns``; NotAttempted if one is missing or ``...``."""
        missing = [n for n in self.names if n not in ns]
        if missing:
            listed = ", ".join(f"`{m}`" for m in missing)
            raise NotAttempted(
                f"{listed} {'is' if len(missing) == 1 else 'are'} not defined yet. Write your answer "
                "in the cell above, run it, then run this cell again."
            )
        values = {n: ns[n] for n in self.names}
        unfilled = [n for n, v in values.items() if _is_placeholder(v)]
        if unfilled:
            listed = ", ".join(f"`{m}`" for m in unfilled)
            raise NotAttempted(f"Replace the placeholder in {listed} with your answer.")
        return values

    def _say_correct(self) -> None:
        print(self.correct_text())

    def correct_text(self) -> str:
        """The line a passing check prints, e.g. ``Correct: q1 (confusion counts ...).``"""
        tail = f" {self.correct_message}" if self.correct_message else ""
        return f"{self.congrats}: {self.label} ({self.title}).{tail}"


@contextlib.contextmanager
def _quiet():
    """Silence warnings and anything written to stderr while a check runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()):
            yield


def call(func: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function ``name`` and turn its failures into feedback.

    An exception inside the student's code becomes ``Incorrect`` naming the call and the error;
    a ``None`` result becomes ``NotAttempted`` (a missing ``return``).
    """
    if not callable(func):
        raise Incorrect(f"`{name}` should be a function, but it is a {type(func).__name__}.")
    shown = ", ".join([_arg(a) for a in args] + [f"{k}={_arg(v)}" for k, v in kwargs.items()])
    try:
        with _quiet():
            result = func(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(f"`{name}` still raises NotImplementedError: replace it with your code.") from exc
    except Exception as exc:  # the student's bug, reported as feedback
        raise Incorrect(
            f"Calling `{name}({shown})` raised {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    if result is None:
        raise NotAttempted(f"`{name}({shown})` returned None. Did you forget a `return` statement?")
    return result


class ViewTarget:
    """Base of the grader's recording and replaying stand-ins, which answer
    :func:`grader.checks.collect.viewed` (and, for the replay, the global-generator flag)."""

    def view(self, name: str) -> Callable:  # pragma: no cover - abstract
        raise NotImplementedError


def global_rng_state() -> tuple:
    """A comparable snapshot of NumPy's global generator (``np.random.seed`` or any draw from
    ``np.random.*`` changes it)."""
    import numpy as np

    name, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    return (name, keys.tobytes(), int(pos), int(has_gauss), float(gauss))


def call_watching_rng(func: Any, name: str, *args: Any, **kwargs: Any) -> tuple[Any, bool]:
    """:func:`call`, and whether the call changed NumPy's global random generator
    (``np.random.seed``, or a draw from ``np.random.*``): a function that should use its own
    generator must leave the global one alone. A stand-in for a call made in the student's
    kernel (the judge's replay) answers this itself, from what the kernel observed."""
    before = global_rng_state()
    result = call(func, name, *args, **kwargs)
    # only the judge's own replay stand-in may answer; a student's function could carry the flag
    said = getattr(func, "touched_global_rng", None) if isinstance(func, ViewTarget) else None
    if type(said) is bool:
        return result, said
    return result, global_rng_state() != before


def unrounded(check: Callable[[float], None], loose: float, strict: float, rounded: str) -> None:
    """Run ``check(loose)``, whose messages name the student's mistakes, then ``check(strict)``.

    An answer that passes only the loose tolerance was typed in or rounded: it gets ``rounded``
    (say what to compute in code) instead of a message about a mistake it does not make.
    """
    check(loose)
    try:
        check(strict)
    except Incorrect:
        raise Incorrect(rounded) from None


def _arg(value: Any) -> str:
    from .values import show

    text = show(value)
    return text if len(text) <= 40 else text[:37] + "..."


def question(label: str) -> Callable[[type[Question]], Question]:
    """Class decorator: instantiate a :class:`Question` subclass under its label (``q1``...)."""

    def wrap(cls: type[Question]) -> Question:
        cls.label = label
        return cls()

    return wrap


def key_for(student: Question) -> Callable[[type[Question]], Question]:
    """Class decorator for an instructor's key (``solutions/NN-slug/key.py``): the key's question
    takes its label, title, names, hints and messages from the student-side question ``student``.
    """

    def wrap(cls: type[Question]) -> Question:
        for attr in ("label", "title", "names", "hints", "congrats", "correct_message",
                     "canonical"):
            setattr(cls, attr, getattr(student, attr))
        if hasattr(student, "result_form"):  # the offline check's forms of results (optional)
            cls.result_form = staticmethod(student.result_form)
        return cls()

    return wrap



# --- fresh inputs that separate every named mistake (hidden tests) -------------------------------
class SeparationError(RuntimeError):
    """No drawn case separated every named mistake and the caller gave no fallback: a defect of
    the key (its generator or its ``tries``), never of the student's answer."""


def differs(right: Any, wrong: Any, rtol: float = 1e-3) -> bool:
    """Whether a mistake's result ``wrong`` is separated from the right result ``right``: other
    shapes, or some entry further apart than ``rtol * max(1, max |right|)`` (NaN equals NaN).
    Scalars and array-likes of numbers; the default predicate of :func:`draw_separating`.

    It uses NumPy functions bound when the check library was imported and plain floats, so a
    kernel whose NumPy was patched afterwards cannot change which inputs are drawn."""
    from .values import _np_array

    r = _np_array(right, dtype=float, subok=False)
    w = _np_array(wrong, dtype=float, subok=False)
    if r.shape != w.shape:
        return True
    rs, ws = r.ravel().tolist(), w.ravel().tolist()
    tol = rtol * max([1.0, *(abs(x) for x in rs if abs(x) < float("inf"))])  # finite ones
    for a, b in zip(ws, rs, strict=True):
        if a == b or (a != a and b != b):  # equal, infinite alike, or both NaN
            continue
        if not abs(a - b) <= tol:  # NaN against a number counts as apart
            return True
    return False


def _unseparated(outcome: tuple[Any, Mapping | Iterable] | None, names: Iterable[Hashable] | None,
                 separated: Callable[[Any, Any], bool]) -> set | None:
    """The named mistakes (keys, or positions of a sequence) that ``outcome = (right, mistakes)``
    does not separate, among ``names`` (all when None); None for an unusable case."""
    if outcome is None:
        return None
    right, mistakes = outcome
    if not isinstance(mistakes, Mapping):
        mistakes = dict(enumerate(mistakes))
    # only the wanted results are read: a lazy mapping computes no more than that
    keep = None if names is None else set(names)
    wanted = [n for n in mistakes if keep is None or n in keep]
    return {name for name in wanted if not separated(right, mistakes[name])}


def separates(outcome: tuple[Any, Mapping | Iterable] | None,
              separated: Callable[[Any, Any], bool] = differs) -> bool:
    """Whether ``outcome = (right, mistakes)`` (what :func:`draw_separating`'s ``outcomes``
    returns for one case) separates every named mistake by ``separated``; False for None (an
    unusable case). For tests that prove a designed case separates every mistake."""
    return _unseparated(outcome, None, separated) == set()


def draw_separating(
    draw: Callable[[Any], Case],
    outcomes: Callable[[Case], tuple[Any, Mapping | Iterable] | None],
    rng: Any,
    *,
    separated: Callable[[Any, Any], bool] = differs,
    tries: int = 8,
    fallback: Callable[[], Case] | Literal["last"] | None = None,
) -> Case:
    """Fresh inputs on which every named mistake gives another result than the right answer.

    A hidden test that draws its inputs at random can let a mistake through when, for some seed,
    the mistake happens to give the right value there (issue 14: 11 q2 missed the raw-units
    mistake for about one seed in eleven). This calls ``draw(rng)`` for a fresh case (any object,
    usually a tuple of the inputs) until ``outcomes(case)`` separates every mistake, at most
    ``tries`` times, then takes the ``fallback``.

    - ``draw(rng) -> case``: draws from ``rng`` (a ``numpy.random.Generator`` seeded by the
      hidden test's seed), so successive draws differ and the sequence depends on the seed only.
    - ``outcomes(case) -> (right, mistakes)``: the reference result on the case and the results
      of the named mistakes, a mapping ``{name: result}`` or a sequence of results; or None for a
      case that is unusable whatever the mistakes (a near tie, a degenerate draw).
    - ``separated(right, wrong) -> bool``: whether the check tells ``wrong`` from ``right``
      (beyond its tolerance, another choice, ...); :func:`differs` by default.
    - ``fallback``: ``"last"`` takes the last case drawn; a function returns a designed case
      (say, the visible inputs) known to separate every mistake; None raises.

    The choice depends on ``rng`` and the functions only: it never sees the student's answer
    (there is no argument for it), so every student given the same seed gets the same inputs and
    the grader's plan can be recorded before the student's code runs.

    Returns the first separating case (or the fallback). Raises :class:`SeparationError` when
    ``fallback`` is None and no case of ``tries`` separated every mistake, ``ValueError`` when
    ``tries < 1``.
    """
    if tries < 1:
        raise ValueError(f"tries must be at least 1, not {tries}")
    for _ in range(tries):
        case = draw(rng)
        if separates(outcomes(case), separated):
            return case
    if fallback == "last":
        return case
    if fallback is None:
        raise SeparationError(f"no case of {tries} draws separated every named mistake")
    return fallback()


def draw_covering(
    draw: Callable[[Any], Case],
    outcomes: Callable[[Case], tuple[Any, Mapping]],
    rng: Any,
    *,
    separated: Callable[[Any, Any], bool] = differs,
    tries: int = 8,
    at_least: int = 1,
    deferred: Iterable[Hashable] = (),
    fallback: Callable[[set], list[Case]],
) -> list[Case]:
    """Fresh cases that *together* separate every named mistake: for mistakes that one fresh
    case separates only often, where :func:`draw_separating` would need many draws.

    Calls ``draw(rng)`` at most ``tries`` times; a case is kept while fewer than ``at_least``
    are kept, or when it separates a mistake that no kept case separates yet; drawing stops once
    ``at_least`` cases are kept and every mistake is separated by one of them. ``outcomes(case)
    -> (right, {name: result})``, ``separated`` and ``rng`` are those of :func:`draw_separating`.
    Mistakes named in ``deferred`` (rarely separated by a fresh case) never make a case kept nor
    the drawing go on; a kept case may still separate them. Then ``fallback(pending)`` returns
    designed cases for the set of names still not separated (called only when it is not empty),
    which are added after the drawn ones. Only the results of mistakes not yet separated are
    read (``mistakes[name]``), so a lazy mapping need not compute the others.

    As with :func:`draw_separating`, the cases depend on ``rng`` only, never on the answer.
    Returns the kept cases, then the fallback's, in order. Raises ``ValueError`` when
    ``tries < 1``.
    """
    if tries < 1:
        raise ValueError(f"tries must be at least 1, not {tries}")
    cases: list[Case] = []
    late = set(deferred)
    pending: set | None = None
    for _ in range(tries):
        case = draw(rng)
        outcome = outcomes(case)
        if pending is None:
            pending = set(outcome[1]) - late
            late &= set(outcome[1])
        missed = _unseparated(outcome, pending | late, separated)
        split = (pending | late) - missed
        if len(cases) < at_least or split - late:
            cases.append(case)
            pending -= split
            late -= split
        if len(cases) >= at_least and not pending:
            break
    left = (pending or set()) | late
    return cases + (list(fallback(left)) if left else [])
