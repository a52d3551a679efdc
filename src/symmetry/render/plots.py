"""Recovery plots: one measure's trend, the timeline, each side's movement and the
change straight after each massage (matplotlib).

Every function returns a `matplotlib.figure.Figure`; `save_figure` (in `plot_parts`)
writes it as PNG and SVG. The patient's right is orange and the left sky blue, as in
the overlays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from symmetry.render.plot_parts import (HINT_COLOUR, WIDTH_IN, as_trends, date_span_days, draw_log, draw_series,
                                        first_date, first_session_patch, format_dates, hide_inner_dates,
                                        new_figure, pick_person, plot_style, session_series,
                                        shade_first_session, shade_healthy_and_even, sign_hints, tidy_axes,
                                        ylimits)
from symmetry.trends.compute import Trends
from symmetry.trends.definitions import MEASURES
from symmetry.vocabulary import (BLUE, BROW_EXPRESSIONS, CLOSURE_EXPRESSIONS, GREEN, GREY, LEFT_COLOUR, REST,
                                 RIGHT_COLOUR, SMILE_EXPRESSIONS)

#: Bars of a change within measurement noise (a pale `BLUE`).
PALE_BLUE = "#9ec5e0"

#: Timeline panels: (expression, measure, what up and down mean for this measure).
TIMELINE = (
    (REST, "mouth_droop_mm", ("right corner lower", "left corner lower")),
    (REST, "eye_opening_difference_mm", ("right eye opens wider", "left eye opens wider")),
    (REST, "brow_asymmetry_mm", ("right brow lower", "left brow lower")),
    (REST, "symmetry_index", ("more symmetric", "less symmetric")),
)
#: Titles a patient understands.
TITLES = {
    "mouth_droop_mm": "Mouth corners at rest",
    "eye_opening_difference_mm": "Eye opening at rest",
    "brow_asymmetry_mm": "Eyebrows at rest",
    "symmetry_index": "Symmetry index at rest (0-100)",
    "mouth_excursion_ratio": "Smile: weaker / stronger corner movement",
    "brow_excursion_ratio": "Brow raise: weaker / stronger brow movement",
    "eye_closure_difference_pct": "Eye closure: left minus right",
}
SHORT_TITLES = {
    "mouth_droop_mm": "Mouth corners", "eye_opening_difference_mm": "Eye opening",
    "brow_asymmetry_mm": "Eyebrows", "symmetry_index": "Symmetry index",
}
SIGN_HINTS = {m: h for _, m, h in TIMELINE}
SIGN_HINTS.update({
    "mouth_excursion_difference_mm": ("right corner moves less", "left corner moves less"),
    "brow_excursion_difference_mm": ("right brow moves less", "left brow moves less"),
    "eye_closure_difference_pct": ("right eye closes less", "left eye closes less"),
    "mouth_excursion_ratio": ("more symmetric", "less symmetric"),
    "brow_excursion_ratio": ("more symmetric", "less symmetric"),
})
#: The massage-effect figure's title (also its description in the report).
MASSAGE_EFFECT_TITLE = "Change straight after each massage"
#: Massage-effect panels: (expression, measure).
MASSAGE_PANELS = (
    (REST, "mouth_droop_mm"), (REST, "eye_opening_difference_mm"), (REST, "brow_asymmetry_mm"), (REST, "symmetry_index"),
)
#: The expression a measure is plotted for when none is asked: the first of these that has data
#: (tight eye closure before gentle).
_PREFERRED_EXPRESSIONS = (REST, "smile", *BROW_EXPRESSIONS, *CLOSURE_EXPRESSIONS[::-1])


def plot_trend(data, measure: str = "mouth_droop_mm", person: str | None = None, *, expression: str | None = None,
               ax=None, log: pd.DataFrame | None = None):
    """Timeline of one measure for one person: session values with 95 % measurement bars,
    pre/post pairs joined, the first session and the healthy range shaded.

    Args:
        data: a `Trends`, or the rows of scores.csv (DataFrame or CSV path).
        measure: a measure name (see `symmetry.trends.MEASURES`), e.g. "mouth_droop_mm",
            "symmetry_index", "mouth_excursion_ratio".
        person: whose timeline; may be omitted when the table holds one person.
        expression: which expression's value; default rest, or the measure's own expression.
        ax: draw into this matplotlib Axes instead of a new figure.
        log: massage log (as read by `symmetry.trends.read_massage_log`); default: the Trends' own.

    Returns:
        The matplotlib Figure.
    """
    t = as_trends(data)
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of: {', '.join(MEASURES)}")
    person = pick_person(t, person)
    if expression is None:
        have = t.table.loc[(t.table["person"] == person) & (t.table["measure"] == measure), "expression"]
        preferred = [e for e in _PREFERRED_EXPRESSIONS if e in set(have)]
        expression = preferred[0] if preferred else (have.iloc[0] if len(have) else REST)
    with plot_style():
        if ax is None:
            fig = new_figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        _trend_axes(ax, t, person, measure, expression, log if log is not None else t.log, title=True)
        _legend_below(fig, ax, healthy=MEASURES[measure].healthy is not None, first=date_span_days(t, person) > 0)
    return fig


def _trend_axes(ax, t: Trends, person: str, measure: str, expression: str, log, title: bool) -> None:
    info = MEASURES[measure]
    s = session_series(t, person, measure, expression)
    span = date_span_days(t, person)
    shade_healthy_and_even(ax, measure)
    shade_first_session(ax, first_date(t, person) if len(s) else None, span)
    if s.empty:
        ax.text(0.5, 0.5, "no measurements", transform=ax.transAxes, ha="center", va="center", color=GREY)
    else:
        draw_series(ax, s, span)
        ylimits(ax, s, measure)
    draw_log(ax, log, person)
    sign_hints(ax, SIGN_HINTS.get(measure))
    format_dates(ax, s["when"] if len(s) else pd.Series(dtype="datetime64[ns]"), span)
    unit = f" ({info.unit})" if info.unit else ""
    ax.set_ylabel(f"{info.label}{unit}" if len(info.label) < 24 else f"{info.unit or 'ratio'}")
    if title:
        name = TITLES.get(measure, info.label[:1].upper() + info.label[1:])
        if expression != REST and expression not in name.lower():
            name = f"{name.replace(' at rest', '')} ({expression.replace('_', ' ')})"
        ax.set_title(name, loc="left")
    tidy_axes(ax)


def _legend_below(fig, ax, healthy: bool = True, first: bool = True) -> None:
    import matplotlib.patches as mpatches

    handles, labels = ax.get_legend_handles_labels()
    handles = list(handles) + ([first_session_patch()] if first else [])
    if healthy:
        handles.append(mpatches.Patch(color=GREEN, alpha=0.3, label="healthy range"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, handlelength=1.6,
               columnspacing=1.0)


def timeline_figure(t: Trends, person: str, panels=None, log: pd.DataFrame | None = None):
    """The recovery timeline: mouth, eye, brow and symmetry index at rest, stacked, dates shared.
    A person with no resting photo at all gets them for the expression they have most photos of
    (a lone smiling photo still shows its measures)."""
    person = pick_person(t, person)
    panels = panels or _timeline_panels(t, person)
    log = log if log is not None else t.log
    with plot_style():
        fig = new_figure(figsize=(WIDTH_IN, 2.35 * len(panels) + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
        for i, (ax, (expr, measure, _)) in enumerate(zip(axes, panels)):
            # massage-log markers only along the bottom axis: once is enough, and they crowd the hints
            _trend_axes(ax, t, person, measure, expr, log if i == len(axes) - 1 else None, title=True)
        hide_inner_dates(axes)
        _legend_below(fig, axes[-1], healthy=any(MEASURES[m].healthy is not None for _, m, _ in panels),
                      first=date_span_days(t, person) > 0)
        fig.get_layout_engine().set(h_pad=0.08)
    return fig


def _timeline_panels(t: Trends, person: str) -> tuple:
    mine = t.table[(t.table["person"] == person) & (t.table["measure"] == "mouth_droop_mm")]
    if mine.empty or (mine["expression"] == REST).any():
        return TIMELINE
    main = mine["expression"].value_counts().index[0]
    return tuple((main, measure, hints) for _, measure, hints in TIMELINE)


def movement_figure(t: Trends, person: str):
    """Each side's movement against the session's resting photo: smile, brow raise, eye closure.

    Returns None when the person has no movement photos.
    """
    person = pick_person(t, person)
    panels = _movement_panels(t, person)
    if not panels:
        return None
    span = date_span_days(t, person)
    first = first_date(t, person)
    with plot_style():
        fig = new_figure(figsize=(WIDTH_IN, 2.35 * len(panels) + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
        for ax, panel in zip(axes, panels):
            _movement_axes(ax, t, person, panel, first, span)
        hide_inner_dates(axes)
        import matplotlib.lines as mlines

        handles = [mlines.Line2D([], [], color=RIGHT_COLOUR, marker="o", lw=1.8, label="patient's right"),
                   mlines.Line2D([], [], color=LEFT_COLOUR, marker="s", lw=1.8, label="patient's left"),
                   mlines.Line2D([], [], color=GREY, marker="o", mfc="white", lw=0, label="after massage"),
                   first_session_patch()]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


def _movement_panels(t: Trends, person: str) -> list[tuple[str, str, str, str]]:
    """(expression, measure stem, unit, title) of each movement the person has photos of."""
    tab = t.table[t.table["person"] == person]
    have = set(zip(tab["expression"], tab["measure"]))
    smile = next((e for e in SMILE_EXPRESSIONS if (e, "mouth_excursion_right_mm") in have), None)
    # tight eye closure before gentle
    closed = next((e for e in CLOSURE_EXPRESSIONS[::-1] if (e, "eye_closure_right_pct") in have), None)
    panels = []
    if smile:
        what = "Smile" if smile == "smile" else ("Open smile" if smile == "smile_open" else "Saying eee")
        panels.append((smile, "mouth_excursion", "mm", f"{what}: how far the mouth corners rise"))
    if ("brow_raise", "brow_excursion_right_mm") in have:
        panels.append(("brow_raise", "brow_excursion", "mm", "Brow raise: how far the eyebrows rise"))
    if closed:
        panels.append((closed, "eye_closure", "%", f"Eyes closed {closed.replace('eyes_closed_', '')}ly: how far they close"))
    return panels


def _movement_axes(ax, t: Trends, person: str, panel: tuple[str, str, str, str], first, span: float) -> None:
    """One movement panel: the patient's right and left side, each a series of its own."""
    expr, stem, unit, title = panel
    suffix = "_pct" if unit == "%" else "_mm"
    all_when = []
    shade_first_session(ax, first, span)
    for side, colour, marker in (("right", RIGHT_COLOUR, "o"), ("left", LEFT_COLOUR, "s")):
        s = session_series(t, person, f"{stem}_{side}{suffix}", expr)
        all_when.append(s["when"])
        draw_series(ax, s, span, colour=colour, post_colour=colour, marker=marker, post_errorbars=False,
                    bar_alpha=0.45, label_pre=f"patient's {side}", label_post=f"patient's {side}, after massage")
    if unit == "%":
        ax.set_ylim(-5, 108)
        ax.axhline(100, color=GREY, lw=0.8)
    else:
        ax.axhline(0, color=GREY, lw=0.8)
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, -0.5), hi + 0.15 * (hi - lo))
    ax.set_ylabel("closed (%)" if unit == "%" else "movement (mm)")
    ax.set_title(title, loc="left")
    tidy_axes(ax)
    format_dates(ax, pd.concat(all_when), span)


def massage_effect_figure(t: Trends, person: str):
    """Immediate change after each massage (towards symmetric = up), against the noise band.

    Returns None when no session has both pre and post photos.
    """
    person = pick_person(t, person)
    m = t.massage[t.massage["person"] == person]
    panels = [(e, k) for e, k in MASSAGE_PANELS if ((m["expression"] == e) & (m["measure"] == k)).any()]
    if not panels:
        return None
    span = date_span_days(t, person)
    with plot_style():
        fig = new_figure(figsize=(WIDTH_IN, 1.85 * len(panels) + 1.0), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
        for ax, (expr, measure) in zip(axes, panels):
            _massage_axes(ax, m[(m["expression"] == expr) & (m["measure"] == measure)].copy(), measure, span)
        hide_inner_dates(axes)
        import matplotlib.patches as mpatches

        fig.suptitle(MASSAGE_EFFECT_TITLE, x=0.02, ha="left", fontweight="bold", fontsize=12.5)
        fig.legend(handles=[mpatches.Patch(color=BLUE, label="larger than noise"),
                            mpatches.Patch(color=PALE_BLUE, label="within noise"),
                            mpatches.Patch(color=GREY, alpha=0.4, label="noise band (MDC95)")],
                   loc="outside lower center", ncol=2, frameon=False, handlelength=1.2, columnspacing=1.0)
    return fig


def _massage_axes(ax, s: pd.DataFrame, measure: str, span: float) -> None:
    """One measure's change after each massage as bars, the noise band around zero."""
    info = MEASURES[measure]
    s["when"] = pd.to_datetime(s["date"])
    mdc = float(s["mdc95"].iloc[0])
    ax.axhspan(-mdc, mdc, color=GREY, alpha=0.2, lw=0, zorder=0)
    ax.axhline(0, color=GREY, lw=0.8)
    # the same verdicts as the report's words (trends' massage table), not a band of its own
    real = s["verdict"].str.startswith("real change")
    width = pd.Timedelta(days=max(1.0, 0.05 * span))
    ax.bar(s["when"], s["improvement"], width=width, color=np.where(real, BLUE, PALE_BLUE), zorder=3)
    lim = max(mdc * 1.6, float(s["improvement"].abs().max()) * 1.25)
    ax.set_ylim(-lim, lim)
    ax.set_ylabel(f"change ({info.unit})" if info.unit else "change")
    ax.set_title(SHORT_TITLES.get(measure, info.label), loc="left")
    ax.text(0.01, 0.97, "\u2191 more symmetric after", transform=ax.transAxes, va="top", fontsize=9.5, color=HINT_COLOUR)
    tidy_axes(ax, grid=False)
    format_dates(ax, s["when"], span)
