"""Checks for assignment 01, "Why interpret?" (``solutions/01-why-interpret``).

=====  ==========================================  =============================================
q1     ``fraction_correct(y_true, y_pred)``        warm-up: a function checked on fresh arrays
q2     ``taxonomy``                                eight methods: (scope, model-agnostic?)
q3     ``test_importance``, ``leaky_feature``      permutation importance finds the leak
q4     ``honest_accuracy``, ``baseline_accuracy``  accuracy without the leak, against a baseline
q5     ``local_contributions``, ``top_feature_..`` log-odds contributions of one patient's features
=====  ==========================================  =============================================

Every reference is rebuilt here from the seeded generators in :mod:`grader.datasets`, with the
same recipe as the notebook's setup cell (the ``_READMISSION`` and ``_CANCER`` settings below);
the student's own data variables are never read. The answer key of q2 is stored as salted SHA-1
digests and its explanations are sealed with a key derived from the wrong answer they explain,
so that reading this file does not hand out the answers (:func:`_seal` makes new notes).
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib

import numpy as np
import pandas as pd

from .core import Incorrect, Question, call, question
from .values import (
    allclose,
    as_array,
    as_bool,
    as_dict,
    as_float,
    as_labelled_series,
    as_str,
    close,
    show,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]


def _call_in(where: str, func, name: str, *args):
    """:func:`call`, with ``where`` (say, "On new arrays (hidden test): ") before its feedback."""
    try:
        return call(func, name, *args)
    except Incorrect as exc:
        if not where:
            raise
        raise type(exc)(f"{where}{exc}") from None


# --------------------------------------------------------------------------------------------
# q1: fraction_correct
# --------------------------------------------------------------------------------------------

#: The visible case: 7 of 10 right and 4 positives, so the fraction (0.7), the count (7), the
#: percentage (70), correct/positives (1.75) and the error rate (0.3) are all different.
_Q1_TRUE = (1, 0, 1, 1, 0, 0, 0, 1, 0, 0)
_Q1_PRED = (1, 0, 0, 1, 0, 1, 0, 0, 0, 0)


def _q1_mistakes(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, list[tuple[float, str]]]:
    """The right fraction and the values that the catalogued mistakes produce, with messages."""
    right = int(np.sum(y_true == y_pred))
    n = len(y_true)
    acc = right / n
    mistakes = [
        (
            float(right),
            "is the count of correct predictions, not the fraction. Divide by the "
            "number of predictions so the answer lies between 0 and 1.",
        ),
        (
            100.0 * acc,
            "looks like a percentage (100 times too large). Return a fraction "
            "between 0 and 1; format it as a percentage only when you print it.",
        ),
    ]
    positives = int(np.sum(y_true == 1))
    if positives:
        mistakes.append(
            (
                right / positives,
                "divides the number of correct predictions by the number of "
                "positive labels (y_true == 1). Accuracy divides by all "
                "predictions, positive and negative.",
            )
        )
    mistakes.append(
        (
            1.0 - acc,
            "is the error rate: the fraction of predictions that are wrong. Return "
            "the fraction that are right.",
        )
    )
    return acc, mistakes


def _q1_distinct(y_true: np.ndarray, y_pred: np.ndarray) -> bool:
    acc, mistakes = _q1_mistakes(y_true, y_pred)
    values = [acc] + [v for v, _ in mistakes]
    return all(
        not close(a, b, rtol=1e-9, atol=1e-9) for i, a in enumerate(values) for b in values[i + 1 :]
    )


def _q1_case(rng: np.random.Generator, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A random pair of label arrays whose right answer differs from every mistake."""
    while True:
        n = int(rng.integers(9, 60))
        y_true = rng.choice(labels, size=n)
        flip = rng.random(n) < rng.uniform(0.1, 0.45)
        y_pred = np.where(flip, rng.choice(labels, size=n), y_true)
        if _q1_distinct(y_true, y_pred):
            return y_true, y_pred


@question("q1")
class FractionCorrect(Question):
    title = "the fraction of correct predictions"
    names = ("fraction_correct",)
    hints = (
        "Compare the two arrays element by element: `y_true == y_pred` gives an array of True/False.",
        "True counts as 1 and False as 0, so the mean of that comparison is the fraction of matches.",
        "The whole body can be one line: `return float(np.mean(y_true == y_pred))`.",
    )
    correct_message = "Every check you meet in this course works like this one."

    def _judge(self, func, y_true: np.ndarray, y_pred: np.ndarray, where: str = "") -> None:
        got = as_float(
            _call_in(where, func, "fraction_correct", y_true.copy(), y_pred.copy()),
            "fraction_correct(...)",
        )
        acc, mistakes = _q1_mistakes(y_true, y_pred)
        if close(got, acc):
            return
        shown = (
            f"{where}`fraction_correct` returned {show(got)} for {len(y_true)} predictions, which"
        )
        for value, why in mistakes:
            if close(got, value):
                raise Incorrect(f"{shown} {why}")
        if not 0.0 <= got <= 1.0:
            raise Incorrect(f"{shown} is outside [0, 1]; a fraction of predictions cannot be.")
        raise Incorrect(
            f"{shown} is not the fraction of predictions that equal the true labels. "
            "Try it by hand on three or four labels."
        )

    def verify(self, fraction_correct) -> None:
        self._judge(fraction_correct, np.array(_Q1_TRUE), np.array(_Q1_PRED))

    def verify_hidden(self, seed: int, fraction_correct) -> None:
        self.verify(fraction_correct)
        rng = np.random.default_rng(seed)
        where = "On new arrays (hidden test): "
        for labels in (
            np.array([0, 1]),
            np.array([0, 1]),
            np.array([0, 1, 2]),
            np.array(["no", "yes"]),
        ):
            self._judge(
                fraction_correct,
                *_q1_case(rng, labels),
                where=where + f"labels {labels.tolist()}, ",
            )


# --------------------------------------------------------------------------------------------
# q2: taxonomy
# --------------------------------------------------------------------------------------------

_METHODS = (
    "coefficients",
    "tree_path",
    "permutation_importance",
    "pdp",
    "ice",
    "lime",
    "shap_waterfall",
    "global_surrogate",
)
_SALT = "xai-course/m01/taxonomy"

#: sha1 of "salt|method|scope|true-or-false" for the right answer of each method.
_KEY = {
    "coefficients": "c5e5067f85a84d3216a1b01d2ed5905143ca3c7c",
    "tree_path": "ae0706dca3bc786babadefa807fb16a3f82a5263",
    "permutation_importance": "cfa6fc2856190b0f794ddff590c9ad982ab80402",
    "pdp": "b7456eb7dfe5561847432b94bd18dafc4c0794ea",
    "ice": "709bae563d66c0a9c6b6ac824eb2b59345bd8ef7",
    "lime": "6e2c38c023dd693a8e5234c49bb68af54797a279",
    "shap_waterfall": "44fb7beffcfd16e2a28869a1f45ccd8581666d11",
    "global_surrogate": "0360c63d5de3d0878459dd44919b5a8aae58ab84",
}

#: One-line reasons, keyed by sha1 of "salt|method|part|wrong value" and sealed with that value.
_NOTES = {
    "cc1dff8e82a03c6ccc755c8d939cc459af3d08e4": "KPyQZP8DFoqrjblQuiMBFVpBVDjJKgRqBx4OK+HNCfnmWFZ+76LZMVhvVPNbJdsSsMnwBhYv45jt4x66ZuM8MdC6p4UrgbCRN5xxSqN4EhDeK4rDhRFoQ11sQnzx6gNS66OJtodXgXX9rKraSCPFMqwfLh9M",
    "786174b5f0437448b46ee74ba99a6a4561cb096b": "ooVQTBgFtbQdFBH0sbkpdcIx3paMY8O/e/65GTjYYr6S0Ri+2I3jsuLc96bSuVoPL6lRns4or4tt7JljRQd/zIUXL63gtzcuK+wcrcM2qA0AqFmE3a2W5pGlJH/uBkl2BBDhcCz1OXBJiAGMdOvKB+3cc29pKeMzdoins7nyZoMqdGHQDrZg0rhc+Iw=",
    "a291fb7c857581c17238d4dec47a934810003c57": "J/BUnw2QiwuSjCmQCbNKdE2EIC7uALzKs5aqWdVH0gMywnl5uiN6SjHG61xMbYHQLTltt7x58nVZYYjQF4RYOWPqQbyLI6eiAnt1WwGMHdeg831Npwtgm1YiLbPiOAvGMN005H+TYJNGO4k=",
    "2e87b42934e66965a4357c7ce4412fe87bb6c4a0": "0GlRtFPB37pCo0AT6yihZjaGvBS7RLfK937xPV+THkAiwxIG5SWA+CfAJf/mNwU7kaJo5qXFfaq8fHRJfjRsNcE+J5l5E1LI0K+NWA==",
    "d27342030676c1b88927176a5f6f4ee1539ed9e2": "guSYCldmj4GuubaIm6Zl4llPqrrJh/X58cII+9Y/8YACHFMmU6SZcg5P2K5pJj8XBaDTifXMoXEZZfjX+qNaWNo53Ut+3IRvyJl8f7FocmAiX2eKcIZEvnRdd1MA4PsaaNg0dFCxN18WMqHoywPb25H4rOuWuy9B60A5igSREUTIShEOSTOYpUdBCqRwb0jVL4efj+YUPZzj1OjwT2brbu8dSMhFhpEN4li6cPEd5iZXNGXg4UZv3A==",
    "f198344240592c904608827693c88f773729416f": "YmpL3oZ8wzPYMuorAajwKf+2WnqCR1W03+YjfhJyPL9WrincpKV5cndJGp8CAJdem/g30zI/ke/Pkobf4LDVtbTG/+5m5iCHr/U9Dj4=",
    "541c24e7ed2eda94f5245575560fc3a4327ec367": "UhU2EeLknzhDzQD/95kYH4r5/181xXDKF5tcxFwlDp1HLPggXpA/o7LPsrhhUVBnC53Z5tU2EVDmE66YUsobQBgO+IikCaETebv/C5yomUGqENvxs2WiG+hCY8tDxERwv9tcRIg8eA2YN/S3PNYQM4c0AUzSJnM=",
    "bcfae6e288f0cb2d8248ad89074dd127be1ad080": "kRAXN7W/kN29rgYH8yU5dH4DgIc2on28gSrCmc/7qMGHWguMx9+sSEZpwpHGx/DWyfcaiLFpeNWZe8JWDScWn9MC68s5tcQlo2P6RfgmMfc=",
    "c2c6979bba6e23d41317123c1d1a3ac40722810b": "WhX6tEBfuW12/Swl6zD7qOwGMK+PF5bGZoIFiKle+F/xBSHyA1vONE0N6NPXWi/xJJRgmoDu7UQXiPvtFQWEMWwT8jitl4lnC8n+sxC9LsdLyRX7WUWN0XRVirdjdQ87wuYPlcoXqa4dTAHY/yjRK+d2UipbZTKYHHdAVBRhq9WfGmA9oc/sJYU13TtgTAfc",
    "91074fc9047a1504370207d04aea04d241f98d53": "EfT55SLXEK+m/7l+JwqCvnWW3CX63gMu+dNMTOmgalH9cn9BhLkqjiZOjN+trmjlhFJmOxiyAgywdx8ckIE8aGt+1TMlbnMaj3zAvzKDCA==",
    "9830a70c339d987890e7f7234f1c578b7e4eee4f": "43GsWN8MUK1qxzZa7m1CdhDawqRYfA1Ffm0dI9tjEJ7lSDXI22WT4sdCiMzt7s/CLJ2PO1pugnyQXEU5MIZR/+KLia4Zuz/fpm90r+598FcS66VjEkNmKj4paVdO39BkPuv650c=",
    "0005182f8779e2ef37177ae8602b7ac2322ff21f": "Prlk1IXLwkqFJqsHSVtjRzPk46zttqFMnnCmuh+plGfz5JXBXNnmeSHtEzV5qIrvsIsps3c9KhJlTxIqDZWN4oMJ9KyTZHHS",
    "7403d76a3fd9ce06e60fea54d95061148d3fae03": "GRfbKpDAtUrAbBYOfE8e8VghkY6r/CC930DH1xO75l6vd7Z93lhESp5qpI8JB1ZdFjtWtxQQS/5nOtm+uurZHpcTLDTAoCJZEI8jzl8EEk8DKEkWQku9HYmhSOapkos5dH1fSMWbUqNwwxk7tql2vQJ5CK6ws4WUZd7NgP/v5OOYiC7H4vExucW6bz93fUB9AAtZNw==",
    "a17d64a607f19d925f039372ef0669daf0f4dd32": "Uini2Bo/VJ5tDjB6whqXHo7mMyMhUowfCIt3c9sp78PQSn51n3TlyM0LEyE8kqXoQhMyB1fEXis1B+AhCZ5kxTu88pTKzvMuExoL0FibzqXqJ7C6zA78b/d1NU+tNuZyepEYAymqppyQNBEirA==",
    "3560591290e129e51bf87733a9202d9909bb41dd": "dEHdZvNKHKSWmbQKSNzsKVec2jnfmffLfeiZ1JE5V0EQem3SeNxhiffUHaqsofrj8rwlUnuLNBDFJRwV/rDOU1RcawQIVSm9l9+7waWSVCBpAEcXWA==",
    "9dba319690d595158c12d2535474c0846df999e0": "QYviT6ttv2n8rtL8/U0bQrkpw2er8Sh1wsH8J/vHKiWtnwhOdrQzrAbB82kbaep5b7asbiiEJoAw16JSJwcH7QmWmrsktbbqEgjDz5OdWnOX",
}


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join((_SALT, *parts)).encode()).hexdigest()


def _keystream(n: int, parts: tuple[str, ...]) -> bytes:
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256("|".join((_SALT, "note", *parts, str(i))).encode()).digest()
        i += 1
    return out[:n]


def _seal(text: str, *parts: str) -> str:
    """Seal a reason for the wrong answer ``parts`` = (method, "scope" or "agnostic", value)."""
    raw = text.encode()
    return base64.b64encode(
        bytes(a ^ b for a, b in zip(raw, _keystream(len(raw), parts), strict=True))
    ).decode()


def _note(*parts: str) -> str | None:
    sealed = _NOTES.get(_digest(*parts))
    if sealed is None:
        return None
    raw = base64.b64decode(sealed)
    return bytes(a ^ b for a, b in zip(raw, _keystream(len(raw), parts), strict=True)).decode()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _diagnose(method: str, scope: str, agnostic: bool) -> list[str]:
    """The reasons why (scope, agnostic) is wrong for ``method``; empty when it is right."""
    key = _KEY[method]
    if _digest(method, scope, _flag(agnostic)) == key:
        return []
    other = "local" if scope == "global" else "global"
    wrong = []
    if _digest(method, scope, _flag(not agnostic)) != key:  # the scope is part of the mistake
        wrong.append(("scope", scope, f"is it really {scope}?"))
    if _digest(method, other, _flag(agnostic)) != key:  # so is the model-agnostic flag
        kind = "model-agnostic" if agnostic else "model-specific"
        wrong.append(("agnostic", _flag(agnostic), f"is it really {kind}?"))
    return [_note(method, part, value) or fallback for part, value, fallback in wrong]


@question("q2")
class Taxonomy(Question):
    title = "global or local, model-agnostic or model-specific"
    names = ("taxonomy",)
    hints = (
        "Scope: does the output describe the model as a whole (global) or one prediction (local)?",
        "Model-agnostic means the method only calls the model's predict function; a method that "
        "reads the model's insides (weights, splits) is model-specific.",
        "A plot of one curve per row is local even if many rows are drawn together; the average "
        "of those curves is global.",
    )

    def _parse(self, taxonomy) -> dict[str, tuple[str, bool]]:
        answer = as_dict(taxonomy, "taxonomy")
        keys = list(answer)
        bad = [k for k in keys if type(k) is not str]
        if bad:
            raise Incorrect(
                f"The keys of `taxonomy` should be the method names (strings); found {show(bad[0])}."
            )
        missing = [m for m in _METHODS if m not in answer]
        extra = [k for k in keys if k not in _METHODS]
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(f"'{m}'" for m in missing))
            if extra:
                parts.append("unexpected " + ", ".join(show(k) for k in extra[:4]))
            raise Incorrect(
                f"`taxonomy` should have exactly the 8 method names of the prompt as keys: "
                f"{'; '.join(parts)}."
            )
        parsed = {}
        for method in _METHODS:
            value = answer[method]
            if type(value) not in (tuple, list) or len(value) != 2:
                raise Incorrect(
                    f"`taxonomy['{method}']` should be a tuple (scope, model_agnostic), "
                    f"but it is {show(value)}."
                )
            scope, agnostic = value
            if type(scope) is not str or str.lower(str.strip(scope)) not in ("global", "local"):
                raise Incorrect(
                    f"The scope in `taxonomy['{method}']` should be the string 'global' or "
                    f"'local', but it is {show(scope)}."
                )
            if type(agnostic) is not bool and type(agnostic) is not np.bool_:
                raise Incorrect(
                    f"The second item of `taxonomy['{method}']` should be True or False "
                    f"(model-agnostic or not), but it is {show(agnostic)}."
                )
            parsed[method] = (str.lower(str.strip(scope)), as_bool(agnostic, method))
        return parsed

    def verify(self, taxonomy) -> None:
        parsed = self._parse(taxonomy)
        lines = []
        for method in _METHODS:
            scope, agnostic = parsed[method]
            reasons = _diagnose(method, scope, agnostic)
            if reasons:
                lines.append(f"`{method}` = ({scope!r}, {agnostic}): " + " Also, ".join(reasons))
        if lines:
            count = f"{len(lines)} of the 8 items {'is' if len(lines) == 1 else 'are'} wrong"
            raise Incorrect(f"{count}. " + " | ".join(lines))


# --------------------------------------------------------------------------------------------
# q3 and q4: the readmission model with a leak
# --------------------------------------------------------------------------------------------

#: The recipe of the notebook's setup cell.
_READMISSION = {"n": 2000, "seed": 0, "test_size": 0.3, "split_seed": 0}
_FOREST = {"n_estimators": 100, "min_samples_leaf": 5, "random_state": 0, "n_jobs": 1}
_PERMUTATION = {"n_repeats": 5, "random_state": 0, "n_jobs": 1}
_LEAK = "followup_billing"
_PLAUSIBLE = "prior_admissions"


@functools.lru_cache(maxsize=1)
def _readmission():
    """``(X_train, X_test, y_train, y_test, leaky_model)`` exactly as in the setup cell."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from grader.datasets import make_readmission

    r = _READMISSION
    X, y = make_readmission(n=r["n"], seed=r["seed"])
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=r["test_size"], random_state=r["split_seed"]
    )
    model = RandomForestClassifier(**_FOREST).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, model


@functools.lru_cache(maxsize=2)
def _permutation_reference(split: str) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    X_train, X_test, y_train, y_test, model = _readmission()
    X, y = (X_test, y_test) if split == "test" else (X_train, y_train)
    return permutation_importance(model, X, y, **_PERMUTATION).importances_mean.copy()


@functools.lru_cache(maxsize=1)
def _accuracy_reference() -> dict[str, float]:
    from sklearn.base import clone

    X_train, X_test, y_train, y_test, model = _readmission()
    honest = clone(model).fit(X_train.drop(columns=_LEAK), y_train)
    share_test = float(np.mean(y_test.to_numpy() == 1))
    share_train = float(np.mean(y_train.to_numpy() == 1))
    return {
        "honest_test": float(honest.score(X_test.drop(columns=_LEAK), y_test)),
        "honest_train": float(honest.score(X_train.drop(columns=_LEAK), y_train)),
        "leak_test": float(model.score(X_test, y_test)),
        "leak_train": float(model.score(X_train, y_train)),
        "majority_test": max(share_test, 1 - share_test),
        "minority_test": min(share_test, 1 - share_test),
        "majority_train": max(share_train, 1 - share_train),
        "minority_train": min(share_train, 1 - share_train),
    }


def _name(value, name: str) -> str:
    """A column or feature name: a ``str`` (a NumPy string, as from an array of names, too)."""
    if type(value) is np.str_:
        return str.__str__(str(value))
    return as_str(value, name)


_series_by_label = as_labelled_series



@question("q3")
class LeakDetective(Question):
    title = "permutation importance on the test split finds the leak"
    names = ("test_importance", "leaky_feature")
    hints = (
        "`permutation_importance(leaky_model, X_test, y_test, n_repeats=5, random_state=0)` "
        "returns a Bunch; its `importances_mean` is one number per column of `X_test`.",
        "Wrap the numbers as `pd.Series(result.importances_mean, index=X_test.columns)` and sort "
        "it: one column dwarfs the others.",
        "Ask of the top column: would a hospital know this value on the day of discharge, when "
        "the prediction has to be made?",
    )

    def _importance(self, test_importance, atol: float) -> None:
        X_test = _readmission()[1]
        columns = list(X_test.columns)
        got = _series_by_label(test_importance, "test_importance", columns, "column")
        if allclose(got, _permutation_reference("test"), rtol=0, atol=atol):
            return
        shown = f"`test_importance` = {show(test_importance)}"
        if allclose(got, _permutation_reference("train"), rtol=0, atol=atol):
            raise Incorrect(
                f"{shown} is permutation importance on the training split. On rows it has "
                "memorised, a model can look as if it relies on features that do not help it on "
                "new patients; compute the importance on X_test, y_test."
            )
        mdi = _readmission()[4].feature_importances_
        if allclose(got, mdi, rtol=0, atol=atol):
            raise Incorrect(
                f"{shown} is the forest's impurity-based importance (MDI, "
                "`feature_importances_`), which is measured on the training data while the "
                "trees grow. The question asks for permutation importance on the test split."
            )
        if allclose(got, _permutation_reference("test"), rtol=0, atol=0.03):
            raise Incorrect(
                f"{shown} is close to the right values but not equal to them. Use exactly "
                "`n_repeats=5, random_state=0` and the default scoring, on `leaky_model`."
            )
        raise Incorrect(
            f"{shown} does not match `permutation_importance(leaky_model, X_test, y_test, "
            "n_repeats=5, random_state=0).importances_mean`."
        )

    def _leak(self, leaky_feature) -> str:
        columns = list(_readmission()[1].columns)
        name = _name(leaky_feature, "leaky_feature")
        if name not in columns:
            raise Incorrect(
                f"`leaky_feature` = {show(name)} is not a column of X_test. Copy the name "
                "exactly as it appears in `X_test.columns`."
            )
        if name == _LEAK:
            return name
        if name == _PLAUSIBLE:
            raise Incorrect(
                f"`leaky_feature` = {show(name)}: this feature is important but plausible; a "
                "hospital knows a patient's earlier admissions at discharge. Look for a value "
                "that could only be known after the outcome."
            )
        raise Incorrect(
            f"`leaky_feature` = {show(name)} is known at discharge, so it cannot leak the "
            "outcome. Look for the column whose shuffling hurts the model most, then ask when "
            "its value is recorded."
        )

    def verify(self, test_importance, leaky_feature) -> None:
        self._importance(test_importance, atol=1e-4)
        self._leak(leaky_feature)

    def verify_hidden(self, seed: int, test_importance, leaky_feature) -> None:
        self._importance(test_importance, atol=1e-9)
        self._leak(leaky_feature)


@question("q4")
class HonestAccuracy(Question):
    title = "honest test accuracy against the majority-class baseline"
    names = ("honest_accuracy", "baseline_accuracy")
    hints = (
        "Refit `clone(leaky_model)` on `X_train.drop(columns=leaky_feature)`, then score it on "
        "the test rows with the same column dropped.",
        "The majority-class baseline always predicts the most frequent class; its accuracy is the "
        "share of that class among the test labels.",
        "Which class is the majority? Look at `y_test.value_counts(normalize=True)`.",
    )

    def _judge(self, honest_accuracy, baseline_accuracy, rtol: float) -> None:
        ref = _accuracy_reference()
        honest = as_float(honest_accuracy, "honest_accuracy")
        base = as_float(baseline_accuracy, "baseline_accuracy")

        def near(a: float, b: float) -> bool:
            return close(a, b, rtol=rtol, atol=1e-12)

        shown = f"`honest_accuracy` = {show(honest)}"
        if not near(honest, ref["honest_test"]):
            if near(honest, ref["honest_train"]):
                raise Incorrect(
                    f"{shown} is the accuracy on the training split, which the forest has "
                    "already seen. Score the refitted model on the test rows."
                )
            if near(honest, ref["leak_test"]) or near(honest, ref["leak_train"]):
                raise Incorrect(
                    f"{shown} is what the model scores with the leak still in it. Drop the "
                    "leaky column from both X_train and X_test, refit, then score."
                )
            if near(honest, 100 * ref["honest_test"]):
                raise Incorrect(
                    f"{shown} looks like a percentage; give a fraction between 0 and 1."
                )
            raise Incorrect(
                f"{shown} is not the test accuracy of `clone(leaky_model)` refitted on X_train "
                "without the leaky column (and scored on X_test without it)."
            )
        shown = f"`baseline_accuracy` = {show(base)}"
        if near(base, ref["majority_test"]):
            return
        if near(base, ref["minority_test"]) or near(base, ref["minority_train"]):
            raise Incorrect(
                f"{shown} is the share of the minority class (readmitted patients are the "
                "smaller group). The baseline predicts the most frequent class, so its accuracy "
                "is that class's share."
            )
        if near(base, ref["majority_train"]):
            raise Incorrect(
                f"{shown} is the majority share in y_train. A baseline is compared with the "
                "model on the same rows: measure it on y_test."
            )
        if near(base, 100 * ref["majority_test"]):
            raise Incorrect(f"{shown} looks like a percentage; give a fraction between 0 and 1.")
        raise Incorrect(
            f"{shown} is not the accuracy on the test split of always predicting the most "
            "frequent class."
        )

    def verify(self, honest_accuracy, baseline_accuracy) -> None:
        self._judge(honest_accuracy, baseline_accuracy, rtol=1e-6)

    def verify_hidden(self, seed: int, honest_accuracy, baseline_accuracy) -> None:
        self._judge(honest_accuracy, baseline_accuracy, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# q5: local contributions of a standardised logistic regression
# --------------------------------------------------------------------------------------------

_CANCER = {"C": 0.05, "max_iter": 1000}


@functools.lru_cache(maxsize=1)
def _cancer():
    """``(model, X_test)``: the setup cell's pipeline on ``breast_cancer_split()``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from grader.datasets import breast_cancer_split

    split = breast_cancer_split()
    model = make_pipeline(StandardScaler(), LogisticRegression(**_CANCER)).fit(
        split.X_train, split.y_train
    )
    return model, split.X_test


def _parts(model, x_row: pd.Series) -> dict[str, np.ndarray]:
    """The right contributions and the arrays that the catalogued mistakes give."""
    scaler, logreg = model[0], model[-1]
    x = x_row.to_numpy(dtype=float)
    coef = logreg.coef_[0].astype(float)
    z = (x - scaler.mean_) / scaler.scale_
    return {
        "right": coef * z,
        "raw": coef * x,
        "coef": coef,
        "centred": coef * (x - scaler.mean_),
        "z": z,
    }


def _synthetic_model(rng: np.random.Generator):
    """A fresh standardised logistic regression on made-up features with very unequal scales."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    p = int(rng.integers(4, 8))
    names = [
        f"{w}_{i}"
        for i, w in enumerate(
            rng.choice(["dose", "pulse", "weight", "score", "level", "count"], size=p)
        )
    ]
    centre = rng.uniform(-50, 500, size=p)
    spread = rng.uniform(0.5, 80, size=p)
    X = pd.DataFrame(centre + spread * rng.standard_normal((200, p)), columns=names)
    w = rng.normal(0, 1.5, size=p)
    y = (rng.random(200) < 1 / (1 + np.exp(-((X - centre) / spread).to_numpy() @ w))).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(X, y)
    return model, X


@question("q5")
class LocalContributions(Question):
    title = "log-odds contributions for one patient"
    names = ("local_contributions", "top_feature_patient_0")
    hints = (
        "The pipeline's first step is the scaler and its last the logistic regression: "
        "`model[0].mean_`, `model[0].scale_` and `model[-1].coef_[0]`.",
        "Standardise the row first, z = (x - mean) / scale, then multiply by the coefficients. "
        "The contributions plus `model[-1].intercept_[0]` add up to `model.decision_function`.",
        "For the top feature, rank by the absolute contribution for this patient: "
        "`contributions.abs().idxmax()`.",
    )

    def _judge(self, func, model, x_row: pd.Series, where: str = "") -> np.ndarray:
        names = list(x_row.index)
        result = _call_in(where, func, "local_contributions", copy.deepcopy(model), x_row.copy())
        parts = _parts(model, x_row)
        if type(result) is np.ndarray:
            try:
                plain = as_array(result, "local_contributions(model, x_row)")
            except Incorrect:
                plain = None
            if plain is not None and allclose(plain.ravel(), parts["right"], rtol=1e-6, atol=1e-9):
                raise Incorrect(
                    f"{where}`local_contributions` returned the right numbers as a NumPy array, without "
                    "feature names: nobody can tell which number belongs to which feature. "
                    "Return `pd.Series(values, index=x_row.index)`."
                )
        got = _series_by_label(result, "local_contributions(model, x_row)", names, "feature")
        if allclose(got, parts["right"], rtol=1e-6, atol=1e-9):
            return got
        shown = f"{where}`local_contributions(model, x_row)` returned {show(result)}, which"
        mistakes = (
            (
                -parts["right"],
                "has every sign flipped: a positive contribution should push the "
                "log-odds of class 1 up. Use coef * z, not -coef * z.",
            ),
            (
                parts["raw"],
                "multiplies the coefficients by the raw feature values. The model "
                "was fitted on standardised features: use z = (x - mean) / scale "
                "from the pipeline's scaler (forgot to standardise).",
            ),
            (
                parts["coef"],
                "is the same for every patient: these are the global "
                "coefficients, not this patient's local contributions.",
            ),
            (
                np.abs(parts["coef"]),
                "is the same for every patient: a global ranking by "
                "|coefficient|, not this patient's local contributions.",
            ),
            (
                np.abs(parts["right"]),
                "holds absolute values: keep the sign, it says whether "
                "the feature pushes towards class 1 or away from it.",
            ),
            (parts["centred"], "subtracts the mean but does not divide by the scale."),
            (parts["z"], "is the standardised row itself; multiply it by the coefficients."),
        )
        for value, why in mistakes:
            if allclose(got, value, rtol=1e-6, atol=1e-9):
                raise Incorrect(f"{shown} {why}")
        raise Incorrect(
            f"{shown} are not coef_j * z_j, the log-odds contributions of the standardised "
            "features for this row."
        )

    def _top(self, top_feature_patient_0) -> None:
        model, X_test = _cancer()
        x_row = X_test.iloc[0]
        names = list(X_test.columns)
        name = _name(top_feature_patient_0, "top_feature_patient_0")
        if name not in names:
            raise Incorrect(
                f"`top_feature_patient_0` = {show(name)} is not a feature name; copy it exactly "
                "from the index of your Series."
            )
        parts = _parts(model, x_row)
        if name == names[int(np.argmax(np.abs(parts["right"])))]:
            return
        shown = f"`top_feature_patient_0` = {show(name)}"
        if name == names[int(np.argmax(np.abs(parts["coef"])))]:
            raise Incorrect(
                f"{shown} has the largest |coefficient|: that is the global ranking. For patient "
                "0, rank the local contributions coef * z by absolute value."
            )
        if name == names[int(np.argmax(np.abs(parts["raw"])))]:
            raise Incorrect(
                f"{shown} is the top feature when the raw values are multiplied by the "
                "coefficients; standardise the row first."
            )
        if (
            name == names[int(np.argmax(parts["right"]))]
            or name == names[int(np.argmin(parts["right"]))]
        ):
            raise Incorrect(
                f"{shown} has the largest signed contribution in one direction; rank by the "
                "absolute contribution instead."
            )
        raise Incorrect(
            f"{shown} does not have the largest absolute contribution for cancer.X_test.iloc[0]."
        )

    def verify(self, local_contributions, top_feature_patient_0) -> None:
        model, X_test = _cancer()
        self._judge(local_contributions, model, X_test.iloc[0])
        self._judge(local_contributions, model, X_test.iloc[7])
        self._top(top_feature_patient_0)

    def verify_hidden(self, seed: int, local_contributions, top_feature_patient_0) -> None:
        self.verify(local_contributions, top_feature_patient_0)
        rng = np.random.default_rng(seed)
        for _ in range(2):
            model, X = _synthetic_model(rng)
            where = f"On a new pipeline with {X.shape[1]} features (hidden test), "
            for i in rng.choice(len(X), size=2, replace=False):
                self._judge(local_contributions, model, X.iloc[int(i)], where=where)


# ``@question`` binds each instance to its class name; the notebook imports them as q1 ... q5.
q1, q2, q3, q4, q5 = FractionCorrect, Taxonomy, LeakDetective, HonestAccuracy, LocalContributions
