"""A matplotlib figure as plain data: what a chart check reads, and what can cross the wire.

A figure cannot leave the student's kernel (:mod:`grader.checks.wire` encodes plain values only),
so :func:`grader.checks.collect.gather` replaces a ``matplotlib.figure.Figure`` returned by a
student's function with :func:`describe` of it, and closes the figure. The checks of a key read
the same description whether they judge in the kernel (a real figure: they call
:func:`describe` themselves) or outside it (the collected description).

The description is of the figure's first Axes only (a chart for a stakeholder has one); every
string is cut to :data:`MAX_TEXT` characters and at most :data:`MAX_ITEMS` bars and ticks are
kept, so a hostile figure cannot make the payload large.
"""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["describe", "is_figure", "KIND"]

#: The value of the ``"kind"`` key of a description.
KIND = "matplotlib figure"
MAX_TEXT = 200
MAX_ITEMS = 50


def is_figure(value: object) -> bool:
    """Is ``value`` a matplotlib Figure? (False without importing matplotlib if it is not loaded.)"""
    module = sys.modules.get("matplotlib.figure")
    return module is not None and isinstance(value, module.Figure)


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _text(t: Any) -> str:
    return str(t)[:MAX_TEXT]


def describe(fig: Any) -> dict:
    """A plain, bounded audit of the horizontal bar chart on ``fig``'s first Axes.

    Returns a dict with ``kind`` (:data:`KIND`), ``n_axes`` (int), ``title``, ``xlabel`` (str),
    ``x_from_zero`` (bool: the value axis starts at 0) and ``bars``: one ``[label, width]`` per
    rectangle, ordered as a reader sees them from the top of the chart to the bottom (the y axis
    may be inverted), where ``label`` is the text of the y tick nearest the bar's centre ("" if
    none is within half a unit). Only the descriptive parts that any honest drawing of the same
    chart shares are kept, so two correct charts give equal descriptions. Raises ``TypeError``
    for anything that is not a figure.
    """
    if not is_figure(fig):
        raise TypeError("not a matplotlib Figure")
    axes = list(fig.axes)
    out: dict[str, Any] = {"kind": KIND, "n_axes": len(axes), "title": "", "xlabel": "",
                           "x_from_zero": False, "bars": []}
    if not axes:
        return out
    ax = axes[0]
    try:
        fig.canvas.draw()  # fills in the tick labels
    except Exception:  # noqa: BLE001 - a figure that cannot draw is still described
        pass
    from matplotlib.patches import Rectangle

    out["title"] = _text(ax.get_title())
    out["xlabel"] = _text(ax.get_xlabel())
    lo = _num(ax.get_xlim()[0])
    out["x_from_zero"] = lo is not None and abs(lo) < 1e-12
    ticks = [(_num(t), _text(lab.get_text())) for t, lab in zip(ax.get_yticks(),
                                                                 ax.get_yticklabels(), strict=False)]
    ticks = [(t, lab) for t, lab in ticks if t is not None]
    bars = []
    for p in [p for p in ax.patches if isinstance(p, Rectangle)][:MAX_ITEMS]:
        y, h, w = _num(p.get_y()), _num(p.get_height()), _num(p.get_width())
        if y is None or h is None or w is None:
            continue
        centre = y + h / 2
        near = [lab for t, lab in ticks if abs(t - centre) <= 0.5]
        bars.append((centre, near[0] if near else "", w))
    y0, y1 = ax.get_ylim()
    bars.sort(key=lambda b: b[0], reverse=bool(y0 < y1))  # top of the chart first
    out["bars"] = [[label, width] for _, label, width in bars]
    return out
