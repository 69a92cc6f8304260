"""Assignment 07 checks (the key, solutions/07-global-methods/key.py): right answers pass, named
mistakes fail; and the student side (grader/checks/m07.py) checks offline without the key.

Fast unit tests: the key's ``verify``/``verify_hidden`` are called directly with the values a
student would define. The answers come from the source notebook's own answer cells, run as plain
Python (no kernel, no notebook execution); each catalogued mutant in
``solutions/07-global-methods/mutants.yml`` is swapped into its cell the way ``grader verify``
does it, and must raise ``Incorrect`` naming its mistake. Around them: not attempted, wrong
types, crashes, hostile objects, and the rule that feedback never shows the expected value.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml
from conftest import no_return as _no_return
from conftest import unfinished as _unfinished
from sklearn.inspection import partial_dependence

from grader import judging
from grader.checks import Incorrect, NotAttempted, core
from grader.checks import m07 as student_m07
from grader.checks.collect import gather
from grader.checks.offline import load_key_file
from grader.notebooks import replace_solution

ROOT = Path(__file__).resolve().parents[1]
m07 = load_key_file(ROOT / "solutions" / "07-global-methods" / "key.py")
SOURCE = ROOT / "solutions" / "07-global-methods" / "07-global-methods.ipynb"
MUTANTS = yaml.safe_load((ROOT / "solutions" / "07-global-methods" / "mutants.yml").read_text())
#: Hidden-test seeds: every right answer passes and every catalogued mistake fails for each one.
SEEDS = (0, 3, 5, 11, 7011, 7057, 7101, 9001)
QUESTIONS = {f"q{i}": getattr(m07, f"q{i}") for i in range(1, 12)}
ORDER = [f"q{i}_answer" for i in range(1, 12)]
#: Caught by the visible cell only, by design: the guessable choice is worth that cell's point.
VISIBLE_ONLY = {"q6-picks-additive"}


def _cells() -> dict[str, str]:
    nb = nbformat.read(SOURCE, as_version=4)
    return {c.id: c.source for c in nb.cells if c.cell_type == "code"}


def _python(source: str) -> str:
    """A cell as plain Python: IPython magics dropped."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


@functools.lru_cache(maxsize=1)
def _setup_namespace() -> dict:
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(_python(_cells()["setup"]), ns)  # noqa: S102 - the course's own source notebook
    return ns


def _namespace(replace: dict[str, str] | None = None) -> dict:
    """The notebook's namespace after every answer cell, with some cells' regions replaced."""
    cells = _cells()
    ns = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in _setup_namespace().items()}
    for gid in ORDER:
        source = cells[gid]
        if replace and gid in replace:
            source = replace_solution(source, replace[gid])
        source = "\n".join(line for line in source.splitlines() if not line.startswith("print("))
        exec(_python(source), ns)  # noqa: S102
    return ns


@functools.lru_cache(maxsize=1)
def _right() -> dict:
    return _namespace()


def _values(label: str, ns: dict) -> dict:
    return {name: ns[name] for name in QUESTIONS[label].names}


# --- right answers ---------------------------------------------------------------------------
@pytest.mark.parametrize("label", list(QUESTIONS))
def test_solution_passes_visible_and_hidden(label):
    question = QUESTIONS[label]
    values = _values(label, _right())
    question.verify(**values)
    for seed in SEEDS:
        question.verify_hidden(seed=seed, **values)
    question.verify_graded(seed=SEEDS[-1], **values)


def _perm_importance_vectorised(model, X, y, n_repeats, seed):
    """A second right answer: the same protocol written differently (no explicit copy per column)."""
    rng = np.random.default_rng(seed)
    base = np.abs(np.asarray(y) - model.predict(X)).mean()
    drops = []
    for _ in range(n_repeats):
        row = []
        for j in range(X.shape[1]):
            X_perm = np.array(X, dtype=float)
            X_perm[:, j] = X_perm[rng.permutation(len(X_perm)), j]
            row.append(np.abs(np.asarray(y) - model.predict(X_perm)).mean() - base)
        drops.append(row)
    drops = np.array(drops)
    return list(drops.mean(axis=0)), drops.std(axis=0)


def _pdp_broadcast(model, X, feature, grid):
    out = np.empty(len(grid))
    for k, v in enumerate(grid):
        X_v = np.array(X)
        X_v[:, feature] = v
        out[k] = np.mean(model.predict(X_v))
    return out


def test_other_right_answers_pass():
    m07.q1.verify(perm_importance=_perm_importance_vectorised)
    m07.q1.verify_hidden(seed=5, perm_importance=_perm_importance_vectorised)
    m07.q3.verify(pdp=_pdp_broadcast)
    m07.q3.verify_hidden(seed=5, pdp=_pdp_broadcast)
    ns = _right()
    m07.q2.verify(pi_test=list(ns["pi_test"]), pi_sklearn=ns["pi_sklearn"])
    m07.q6.verify(spread_temp=np.float64(ns["spread_temp"]), spread_wind=ns["spread_wind"],
                  feature_with_interaction=np.int64(0))  # fmt: skip
    m07.q7.verify(make_target=lambda a, b: np.sin(a) * np.sign(b - 2.0))
    m07.q9.verify(h2_pair=_h2_vectorised)
    m07.q9.verify_hidden(seed=5, h2_pair=_h2_vectorised)
    for other in (_station_loss(30, 1), _station_loss(100, 2)):  # other honest estimates
        m07.q10.verify(loss_if_station_fails=other)


def _h2_vectorised(model, X, j, k):
    """A second right answer: all n x n predictions at once."""
    X = np.asarray(X, dtype=float)
    n = len(X)

    def pd(cols):
        Z = np.tile(X, (n, 1))
        Z[:, cols] = np.repeat(X[:, cols], n, axis=0)
        v = model.predict(Z).reshape(n, n).mean(axis=1)
        return v - v.mean()

    a, b, ab = pd([j]), pd([k]), pd([j, k])
    return ((ab - a - b) ** 2).sum() / (ab**2).sum()


def _station_loss(n_repeats, seed):
    d = m07._bikes()
    rng = np.random.default_rng(seed)
    base = d.model.score(d.X_test, d.y_test)
    drops = []
    for _ in range(n_repeats):
        Z = d.X_test.copy()
        idx = rng.permutation(len(Z))
        Z[:, 0], Z[:, 3] = d.X_test[idx, 0], d.X_test[idx, 3]
        drops.append(base - d.model.score(Z, d.y_test))
    return float(np.mean(drops))


# --- every catalogued mutant is caught, named, and never shown the expected value --------------
def _leaks(message: str, label: str, ns: dict) -> bool:
    """Does the message show any expected (right) value of this question?"""
    for name in QUESTIONS[label].names:
        value = ns[name]
        if isinstance(value, float) and f"{value:.4g}" in message:
            return True
        if (
            isinstance(value, np.ndarray)
            and np.array2string(value.ravel()[:3], precision=4)[1:-1] in message
        ):
            return True
    return False


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["id"] for m in MUTANTS])
def test_mutant_is_caught_and_named(mutant):
    label = mutant["cell"].split("_")[0]
    right = _right()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ns = _namespace({mutant["cell"]: mutant["code"]})
        except Incorrect as exc:  # q7's answer cell measures the design as it runs
            ns = None
            message = str(exc)
    if ns is not None:
        with pytest.raises(Incorrect) as info:
            QUESTIONS[label].verify(**_values(label, ns))
        message = str(info.value)
    assert mutant["expect"] in message, message
    assert not _leaks(message, label, right), message
    if mutant["id"] in VISIBLE_ONLY:
        QUESTIONS[label].verify_hidden(seed=SEEDS[0], **_values(label, ns))  # passes: by design
        return
    for seed in SEEDS:  # the hidden test catches it for every seed, not most
        with pytest.raises(Incorrect):
            if ns is None:
                QUESTIONS[label].verify_hidden(seed=seed, make_target=_mutant_function(mutant))
            else:
                QUESTIONS[label].verify_hidden(seed=seed, **_values(label, ns))


def _mutant_function(mutant):
    """q7's mutant as a function (its answer cell raised while measuring it)."""
    ns = {"np": np}
    body = "".join(f"    {line}\n" for line in mutant["code"].splitlines())
    exec(f"def make_target(X1, X2):\n{body}", ns)  # noqa: S102 - the course's own catalogue
    return ns["make_target"]


def test_every_question_has_at_least_three_mutants_with_expected_text():
    counts = {label: 0 for label in QUESTIONS}
    for mutant in MUTANTS:
        counts[mutant["cell"].split("_")[0]] += 1
        assert mutant.get("expect"), mutant["id"]
    assert min(counts.values()) >= 3, counts


def test_rounded_values_fail_hidden():
    ns = _right()
    rounded = dict(spread_temp=round(ns["spread_temp"], 3), spread_wind=ns["spread_wind"],
                   feature_with_interaction=0)  # fmt: skip
    m07.q6.verify(**rounded)
    with pytest.raises(Incorrect, match="do not round"):
        m07.q6.verify_hidden(seed=1, **rounded)
    slope = dict(grid_wind=ns["grid_wind"], pd_wind=ns["pd_wind"],
                 slope_wind=round(ns["slope_wind"], 5))
    with pytest.raises(Incorrect, match="do not round"):
        m07.q4.verify_hidden(seed=1, **slope)


def test_sklearn_result_has_no_values_key():
    """The classic `result['values']` no longer exists: the prompt and the hints say so."""
    d = m07._bikes()
    result = partial_dependence(d.model, d.X_test[:20], [2], grid_resolution=5, method="brute")
    assert "values" not in result and {"grid_values", "average"} <= set(result)
    assert "'values'" in " ".join(m07.q4.hints)


def test_design_thresholds_separate_the_examples():
    pi, flat = m07.q7_measure(lambda a, b: a * (b - 2.0))
    assert pi > 1.0 and flat < 0.3
    pi, steep = m07.q7_measure(lambda a, b: a)
    assert pi > 0.5 and steep > 2.0
    pi, lecture = m07.q7_measure(lambda a, b: a * b)  # the lecture's example, X2 not centred
    assert pi > 0.5 and lecture > 2.0


def test_h2_reference_has_the_known_truth():
    """H^2 is 0 for an additive pair and near 1 for a pure product of independent centred features."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, (60, 3))
    X -= X.mean(axis=0)  # centred columns: a product then has no main effect at all

    class Product:
        def predict(self, Z):
            return Z[:, 0] * Z[:, 1] + Z[:, 2]

    class Additive:
        def predict(self, Z):
            return np.sin(3 * Z[:, 0]) + Z[:, 1] ** 2 + Z[:, 2]

    assert m07._h2_ref(Additive(), X, 0, 1) < 1e-20
    assert abs(m07._h2_ref(Product(), X, 0, 1) - 1.0) < 1e-9
    assert m07._h2_ref(Product(), X, 0, 2) < 1e-20


def test_h2_hidden_cases_separate_every_named_mistake():
    """The bounded redraw of q9's hidden test leaves no seed where a mistake lands on the answer."""
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for _case in range(2):
            for _ in range(20):
                n, p = int(rng.integers(25, 60)), int(rng.integers(3, 6))
                X = m07._toy_data(rng, n, p)
                model = m07._ToyModel(rng.normal(0.0, 2.0, p), c=float(rng.uniform(0.5, 2.0)))
                if m07._q9_separated(model, X, 0, 1):
                    break
            assert m07._q9_separated(model, X, 0, 1), seed


def test_station_fault_bands_do_not_overlap():
    """q10: the right band and each named mistake's value are apart by more than two tolerances."""
    r = m07._q10_refs()
    for key in ("sum", "separate", "temp", "feels"):
        assert abs(r[key] - r["group"]) > 2 * m07._Q10_ATOL, (key, r)


def _refit_pdps_vectorised(model, X_train, y_train, X_eval, feature, grid, B, seed):
    """A second right answer for q11: every grid value in one predict call, np.quantile bands."""
    from sklearn.base import clone

    rng = np.random.default_rng(seed)
    n, m = len(X_train), len(X_eval)
    out = []
    for _ in range(B):
        idx = rng.integers(0, n, n)
        fitted = clone(model).fit(np.asarray(X_train)[idx], np.asarray(y_train)[idx])
        Z = np.tile(X_eval, (len(grid), 1))
        Z[:, feature] = np.repeat(grid, m)
        out.append(fitted.predict(Z).reshape(len(grid), m).mean(axis=1).tolist())
    return out


def _quantile_band(values, level):
    return tuple(np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0))


def test_q11_other_right_answers_pass():
    ns = _right()
    values = dict(refit_pdps=_refit_pdps_vectorised, percentile_band=_quantile_band,
                  rise_band=[np.float64(v) for v in ns["rise_band"]])
    m07.q11.verify(**values)
    for seed in SEEDS[:3]:
        m07.q11.verify_hidden(seed=seed, **values)


def test_q11_cases_separate_every_named_mistake():
    """The visible toy case and designed values give each named mistake another answer; the
    notebook's right band is apart from every named wrong band; and the story the prompt tells is
    true: the colleague's row band excludes 0, the refit band holds it."""
    from sklearn.tree import DecisionTreeRegressor

    from grader.checks import wire

    rng = np.random.default_rng(111)
    X = m07._toy_data(rng, 120, 3)
    y = 2.0 * X[:, 0] * X[:, 2] - X[:, 1] + rng.normal(0.0, 0.5, 120)
    model = wire.fitted([(DecisionTreeRegressor, {"max_depth": 4, "min_samples_leaf": 4,
                                                  "random_state": 0})], X[:80], y[:80])
    assert m07._q11_separated(model, X[:80], y[:80], X[80:], 0, np.array([0.2, 1.0, 2.0, 3.0]),
                              6, 1)
    designed = np.array([[3.0, 0.0], [1.0, 5.0], [2.0, 1.0], [10.0, 2.0], [4.0, 2.5],
                         [0.0, 3.0], [6.0, 8.0], [5.0, 1.5], [7.0, 0.5], [9.0, 4.0]])
    assert m07._band_separated(designed, 0.9)
    r = m07._q11_refs()
    for key, _ in m07._Q11_RISE_MISTAKES:
        assert max(abs(a - b) for a, b in zip(r[key], r["ok"], strict=True)) > 0.1, key
    assert r["ok"][0] < 0 < r["ok"][1]
    assert r["rows"][1] < 0


def _q11_region() -> str:
    lines = _cells()["q11_answer"].splitlines()
    start = lines.index("### BEGIN SOLUTION")
    return "\n".join(lines[start + 1: lines.index("### END SOLUTION")]) + "\n"


#: q11 mistakes the key names but the catalogue leaves out (to keep CI's mutant grading short):
#: each is derived from the solution by one edit, and must still be named and caught every seed.
Q11_MORE_MISTAKES = {
    "own bootstrap sample": ("X_v = X_eval.copy()", "X_v = X_train[idx].copy()"),
    "percents": ("lower, upper = np.percentile(values, [tail, 100 - tail], axis=0)",
                 "lower, upper = np.percentile(values, [tail / 100, 1 - tail / 100], axis=0)"),
}


@pytest.mark.parametrize("expect", list(Q11_MORE_MISTAKES))
def test_q11_more_mistakes_are_named_and_caught(expect):
    old, new = Q11_MORE_MISTAKES[expect]
    region = _q11_region()
    assert old in region
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = _namespace({"q11_answer": region.replace(old, new)})
    values = _values("q11", ns)
    with pytest.raises(Incorrect, match=expect):
        m07.q11.verify(**values)
    for seed in SEEDS:
        with pytest.raises(Incorrect):
            m07.q11.verify_hidden(seed=seed, **values)


def test_q11_rounded_band_fails_hidden():
    ns = _right()
    values = {**_values("q11", ns), "rise_band": tuple(round(v, 3) for v in ns["rise_band"])}
    m07.q11.verify(**values)
    with pytest.raises(Incorrect, match="do not round"):
        m07.q11.verify_hidden(seed=1, **values)


# --- not attempted, wrong types and crashes: feedback, never a traceback -----------------------
def _crashes(*args, **kwargs):
    return {}["grid"]


@pytest.mark.parametrize("label", ["q1", "q3", "q5", "q7", "q8", "q9"])
def test_unwritten_functions_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    fname = question.names[0]
    for stub, kind in (
        (_unfinished, NotAttempted),
        (_no_return, NotAttempted),
        (_crashes, Incorrect),
    ):
        ns.clear()
        ns[fname] = stub
        with pytest.raises(kind) as info:
            question.check()
        assert f"`{fname}" in str(info.value)
    ns[fname] = ...
    with pytest.raises(NotAttempted, match="placeholder"):
        question.check()
    ns[fname] = 42
    with pytest.raises(Incorrect, match="should be a function"):
        question.check()


@pytest.mark.parametrize("label", ["q2", "q4", "q6", "q10"])
def test_missing_or_placeholder_values_are_not_attempted(ns, label):
    question = QUESTIONS[label]
    with pytest.raises(NotAttempted, match="not defined yet"):
        question.check()
    ns.update(_values(label, _right()))
    ns[question.names[0]] = None
    with pytest.raises(NotAttempted, match="placeholder"):
        question.check()


def _v(label, **changes):
    return {**_values(label, _right()), **changes}


@pytest.mark.parametrize(
    "label, values, text",
    [
        ("q1", dict(perm_importance=lambda m, X, y, r, s: np.zeros(X.shape[1])), "tuple of 2"),
        ("q1", dict(perm_importance=lambda m, X, y, r, s: (np.zeros(2), np.zeros(2))), "shape"),
        ("q2", "pi_test", "shape (6,)"),
        ("q3", dict(pdp=lambda m, X, f, g: "flat"), "array of numbers"),
        ("q3", dict(pdp=lambda m, X, f, g: np.zeros((2, len(g)))), "one value per grid value"),
        ("q5", dict(centred_ice=lambda m, X, f, g: [[0.0] * len(g)] * len(X)), "2-D NumPy array"),
        ("q5", dict(centred_ice=lambda m, X, f, g: np.zeros((3, 3))), "should return shape"),
        ("q6", "feature", "column index of temp or of wind"),
        ("q6", "spread", "single number"),
        ("q7", dict(make_target=lambda a, b: np.zeros(3)), "shape"),
        ("q7", dict(make_target=lambda a, b: np.zeros_like(a)), "constant"),
        ("q8", dict(ale=lambda m, X, f, b: np.zeros(b + 1)), "tuple of 2"),
        ("q9", dict(h2_pair=lambda m, X, j, k: "large"), "single number"),
        ("q10", "station", "single number"),
    ],
)  # fmt: skip
def test_wrong_types_get_a_clear_message(label, values, text):
    if values == "pi_test":
        values = _v("q2", pi_test=_right()["pi_test"][:5])
    elif values == "feature":
        values = _v("q6", feature_with_interaction=1)
    elif values == "spread":
        values = _v("q6", spread_temp=[1.0])
    elif values == "station":
        values = _v("q10", loss_if_station_fails=[1.6])
    with pytest.raises(Incorrect) as info:
        QUESTIONS[label].verify(**values)
    assert text in str(info.value)


class AlwaysEqual(float):
    """A hostile answer: equal to everything, minus anything is 0."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0


class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True


def test_hostile_objects_are_not_trusted():
    with pytest.raises(Incorrect, match="single number"):
        m07.q4.verify(**_v("q4", slope_wind=AlwaysEqual(-3.0)))
    sneaky = np.zeros(6).view(Sneaky)
    with pytest.raises(Incorrect):
        m07.q2.verify(**_v("q2", pi_test=sneaky))


def test_checks_are_quiet(ns, capsys):
    right = _right()

    def noisy(model, X, feature, grid):
        warnings.warn("a student's warning", UserWarning, stacklevel=1)
        return right["pdp"](model, X, feature, grid)

    for label in QUESTIONS:
        ns.clear()
        ns.update(_values(label, right))
        if label == "q3":
            ns["pdp"] = noisy
        QUESTIONS[label].check()
        QUESTIONS[label].check_hidden(seed=3)  # (timings belong in benchmarks/, not here)
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("Correct") == 2 * len(QUESTIONS)


def test_exports_and_hints():
    assert sorted(student_m07.__all__) == sorted(f"q{i}" for i in range(1, 12))
    for question in QUESTIONS.values():
        assert 2 <= len(question.hints) <= 3
        assert question.label in repr(question)


# --- the student side: offline checks from the precomputed data, judgement outside -----------
@pytest.mark.parametrize("label", list(QUESTIONS))
def test_offline_check_passes_the_solution(label, monkeypatch, capsys):
    values = _values(label, _right())
    monkeypatch.setattr(core, "_user_namespace", lambda: dict(values))
    getattr(student_m07, label).check()
    assert "Correct" in capsys.readouterr().out


OFFLINE_NAMED = ["q1-mutates-X", "q1-whole-rows", "q3-mutates-X", "q5-centred-at-own-value",
                 "q6-uncentred", "q8-mutates-X"]


@pytest.mark.parametrize("mid", OFFLINE_NAMED)
def test_offline_check_names_catalogued_mistakes(mid, monkeypatch):
    """The offline check (no key) names these mutants like the key, in-place changes included."""
    mutant = next(m for m in MUTANTS if m["id"] == mid)
    label = mutant["cell"].split("_")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = _namespace({mutant["cell"]: mutant["code"]})
    values = _values(label, ns)
    monkeypatch.setattr(core, "_user_namespace", lambda: dict(values))
    with pytest.raises(Incorrect) as info:
        getattr(student_m07, label).check()
    assert mutant["expect"] in str(info.value)
    assert not _leaks(str(info.value), label, _right())


def _judge(q, seed, values, hidden=False):
    names, recorded = judging.record(q, seed, hidden=hidden)
    names, calls = judging.parse_plan(judging.plan_text(names, [c for c, _ in recorded]))
    payload = json.loads(json.dumps(gather(names, calls, dict(values))))
    return judging.judge(q, seed, payload, hidden=hidden)


@pytest.mark.parametrize("label", ["q3", "q8"])
def test_judge_sees_inputs_changed_in_place(label):
    """Models travel as recipes into the kernel; an input the call changed comes back, so the
    judge outside the kernel says 'in place' as the in-kernel check did."""
    right = _right()
    assert _judge(QUESTIONS[label], 4242, _values(label, right)).ok
    mutant = next(m for m in MUTANTS if m["id"] == f"{label}-mutates-X")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = _namespace({mutant["cell"]: mutant["code"]})
    verdict = _judge(QUESTIONS[label], 4242, _values(label, ns))
    assert not verdict.ok and "in place" in verdict.message, verdict.message


def test_student_module_holds_no_key():
    names = set(vars(student_m07))
    for private in ("_bikes", "_h2_ref", "_q10_refs", "_pi_ref", "_pdp_ref", "_ice_raw", "_ale_ref", "_q2_refs",
                    "_q4_refs", "_q6_refs", "_Q7_MIN_PI", "_q1_diagnose"):
        assert private not in names
    for q in (getattr(student_m07, f"q{i}") for i in range(1, 12)):
        assert "verify" not in type(q).__dict__ and "references" not in type(q).__dict__
    text = Path(student_m07.__file__).read_text()
    data = (Path(student_m07.__file__).parent / "data" / "m07.json").read_text()
    source = nbformat.read(SOURCE, as_version=4)
    seeds = {m for c in source.cells for m in re.findall(r"check_hidden\(seed=(\d+)\)", c.source)}
    assert seeds
    for blob in (text, data):
        for seed in seeds:
            assert not re.search(rf"seed\s*=\s*{seed}\b", blob)
        for private in ("_pi_ref", "_pdp_ref", "_ale_ref", "_q1_diagnose", "_q6_refs"):
            assert private not in blob
    # single values are hashed: the spreads and the slope are not in the package in clear
    for label, name in (("q4", "slope_wind"), ("q6", "spread_temp"), ("q6", "spread_wind"),
                        ("q10", "loss_if_station_fails")):
        value = m07.QUESTIONS[label].references()[name]
        for spelled in (repr(value), f"{value:.6g}", f"{value:.4g}"):
            assert not re.search(rf"(?<![\d.]){re.escape(spelled)}(?!\d)", text + data), (
                label, name, spelled)


# --- grader.datasets.make_bike_rentals (module 07's data) ------------------------------------
def test_bike_rentals_follow_their_documented_truth():
    from grader.datasets import BIKE_FEATURES, make_bike_rentals

    X, y = make_bike_rentals(n=4000, seed=1)
    assert X.shape == (4000, len(BIKE_FEATURES)) and y.shape == (4000,)
    X2, y2 = make_bike_rentals(n=4000, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    temp, humidity, wind, feels, workday, day = X.T
    assert 0 <= temp.min() and temp.max() <= 32 and 25 <= humidity.min() and humidity.max() <= 95
    assert wind.max() <= 45 and np.mean(wind) > np.median(wind)  # right-skewed
    assert np.corrcoef(temp, feels)[0, 1] > 0.98
    assert set(np.unique(workday)) == {0.0, 1.0} and set(np.unique(day)) <= set(range(1, 29))
    truth = 150 + 8 * temp - 0.2 * (humidity - 60) * (temp - 16) - 3 * wind + 40 * workday
    assert abs(np.std(y - truth) - 15.0) < 1.0
