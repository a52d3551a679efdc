"""The parts every recovery plot is built from: the style, a session series with its
measurement bars, the date axis, the shaded first session and healthy range, the
massage-log marks, and saving as PNG and SVG.

Figures are built without pyplot (no global state, safe in scripts and workers; a
notebook shows them inline). Colours are `vocabulary`'s Okabe-Ito palette. Figures are
4.4 inches wide with 10-12 pt text, so that they stay readable when a phone shows them
at its full width.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from symmetry.render.common import in_session_order
from symmetry.trends.compute import Trends, compute_trends
from symmetry.trends.definitions import MEASURES
from symmetry.vocabulary import BLUE, GREEN, GREY, PURPLE, VERMILLION

WIDTH_IN = 4.4
PNG_DPI = 150
FONT = {"font.size": 11.5, "axes.titlesize": 12.5, "axes.labelsize": 11, "legend.fontsize": 10.5,
        "xtick.labelsize": 10.5, "ytick.labelsize": 10.5, "axes.titleweight": "bold", "svg.fonttype": "path",
        # Titles sit on their axes' top edge: nothing is ever drawn above a plot (the dates are at the
        # bottom, and no y axis has an offset text: each range holds zero, a healthy band or ratios),
        # and placing titles automatically measures both axes again at every draw to find that out.
        "axes.titley": 1.0}
HINT_COLOUR = "#444444"  # the small "up means ..." words in a corner of a plot
GRID_COLOUR = "#dddddd"


def plot_style():
    """The plots' fonts, as a context to draw and save in."""
    import matplotlib

    return matplotlib.rc_context(FONT)


def new_figure(**kwargs):
    """A matplotlib Figure (imported on first use: `import symmetry` stays fast)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def as_trends(data) -> Trends:
    """A `Trends`, or the rows of scores.csv (DataFrame or CSV path) made into one."""
    if isinstance(data, Trends):
        return data
    if isinstance(data, (pd.DataFrame, str, os.PathLike)):
        return compute_trends(data)
    raise TypeError(f"expected a Trends or the rows of scores.csv, not {type(data).__name__}")


def pick_person(t: Trends, person: str | None) -> str:
    """`person`, checked; may be None when the table holds one person."""
    if person is not None:
        if person not in t.persons:
            raise ValueError(f"no person {person!r} in the table; there are: {', '.join(t.persons) or 'none'}")
        return person
    if len(t.persons) == 1:
        return t.persons[0]
    if not t.persons:
        raise ValueError("the table has no measured photos to plot")
    raise ValueError(f"the table holds {len(t.persons)} people; pass person= one of: {', '.join(t.persons)}")


def session_series(t: Trends, person: str, measure: str, expression: str) -> pd.DataFrame:
    """One measure's session values for one person, in time order, with a `when` timestamp."""
    tab = t.table
    s = tab[(tab["person"] == person) & (tab["measure"] == measure) & (tab["expression"] == expression)].copy()
    s["when"] = pd.to_datetime(s["date"])
    return in_session_order(s, ["when", "phase"])


def date_span_days(t: Trends, person: str) -> float:
    d = pd.to_datetime(t.table.loc[t.table["person"] == person, "date"].unique())  # each date parsed once
    return float((d.max() - d.min()).days) if len(d) else 0.0


def first_date(t: Trends, person: str) -> pd.Timestamp:
    return pd.to_datetime(t.people.set_index("person").loc[person, "first_session"].split(" ")[0])


def post_offset(span_days: float) -> pd.Timedelta:
    """Post-massage points sit a little right of their pre point so both stay visible."""
    return pd.Timedelta(days=max(0.5, 0.03 * span_days))


def format_dates(ax, dates: pd.Series, span_days: float) -> None:
    import matplotlib.dates as mdates

    unique = sorted(pd.to_datetime(pd.Series(dates).unique()))
    pad = pd.Timedelta(days=max(1.0, 0.06 * span_days))
    if unique:
        ax.set_xlim(unique[0] - pad, unique[-1] + pad + post_offset(span_days))
    if 0 < len(unique) <= 8:
        ax.set_xticks(unique)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    else:
        loc = mdates.AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def shade_first_session(ax, first: pd.Timestamp | None, span_days: float) -> None:
    """Grey behind the first session (with one date there is nothing to set it apart from)."""
    if first is not None and span_days > 0:
        half = pd.Timedelta(days=max(0.7, 0.035 * span_days))
        ax.axvspan(first - half, first + half + post_offset(span_days), color=GREY, alpha=0.18, lw=0, zorder=0)


def shade_healthy_and_even(ax, measure: str) -> None:
    """The healthy range in green, and the line where both sides are even."""
    info = MEASURES[measure]
    if info.healthy is not None:
        lo, hi = info.healthy
        ax.axhspan(lo, hi, color=GREEN, alpha=0.13, lw=0, zorder=0)
    if info.kind == "asymmetry":
        ax.axhline(0, color=GREY, lw=0.8, zorder=1)
    elif info.kind == "ratio":
        ax.axhline(1, color=GREY, lw=0.8, zorder=1)


def sign_hints(ax, hint: tuple[str, str] | None) -> None:
    """What up and down mean, in the top and bottom left corners."""
    if not hint:
        return
    up, down = hint
    kw = {"transform": ax.transAxes, "fontsize": 9.5, "color": HINT_COLOUR, "ha": "left"}
    ax.text(0.01, 0.97, f"\u2191 {up}", va="top", **kw)
    ax.text(0.01, 0.03, f"\u2193 {down}", va="bottom", **kw)


def ylimits(ax, s: pd.DataFrame, measure: str) -> None:
    """Keep the healthy band, zero and every error bar in view, with room for the hints."""
    info = MEASURES[measure]
    err = 1.96 * s["sem"].fillna(0.0)
    vals = [*(s["value"] - err), *(s["value"] + err)]
    if info.healthy is not None:
        vals += list(info.healthy)
    if info.kind == "asymmetry":
        vals += [0.0]
    vals = [v for v in vals if np.isfinite(v)]
    if not vals:
        return
    lo, hi = min(vals), max(vals)
    cap = {"index": 100.0, "ratio": 1.0}.get(info.kind)  # nothing lies beyond symmetric
    if cap is not None:
        hi = min(hi, cap)
    pad = 0.22 * max(hi - lo, 1e-6)
    top = hi + pad if cap is None else min(cap + 0.08 * (cap - lo + pad), hi + pad)
    ax.set_ylim(lo - pad, top)


def draw_series(ax, s: pd.DataFrame, span_days: float, *, colour=BLUE, post_colour=VERMILLION,
                label_pre="before massage", label_post="after massage", errorbars=True, post_errorbars=True,
                marker="o", bar_alpha=1.0) -> None:
    """Session values with 95 % measurement bars: filled before massage (or no massage), open
    after it, each after-massage point joined to the same day's point before."""
    base = s[s["phase"] != "post"]
    post = s[s["phase"] == "post"]
    off = post_offset(span_days)
    err = 1.96 * s["sem"] if errorbars and "sem" in s else None
    if len(base):
        e = None if err is None else err.loc[base.index]
        c = ax.errorbar(base["when"], base["value"], yerr=e, color=colour, marker=marker, ms=6.5, lw=1.8, capsize=3,
                        elinewidth=1.1, label=label_pre if (post.shape[0] or label_pre != "before massage") else "session",
                        zorder=3)
        for bar in c.lines[2]:
            bar.set_alpha(bar_alpha)
    if len(post):
        e = None if err is None or not post_errorbars else err.loc[post.index]
        c = ax.errorbar(post["when"] + off, post["value"], yerr=e, color=post_colour, marker=marker, ms=6.5,
                        mfc="white", mew=1.6, lw=0, elinewidth=1.1, capsize=3, label=label_post, zorder=4)
        for bar in c.lines[2]:
            bar.set_alpha(bar_alpha)
        pairs = post.merge(base[base["phase"] == "pre"][["date", "value", "when"]], on="date", suffixes=("", "_pre"))
        for _, p in pairs.iterrows():
            ax.annotate("", xy=(p["when"] + off, p["value"]), xytext=(p["when_pre"], p["value_pre"]),
                        arrowprops={"arrowstyle": "-", "color": post_colour, "lw": 1.2, "ls": (0, (2, 1.5))},
                        zorder=2)


def draw_log(ax, log: pd.DataFrame | None, person: str) -> bool:
    """Triangles along the bottom for the massages in the log; whether there were any."""
    if log is None or log.empty:
        return False
    rows = log[log["valid_date"] & log["person"].isin(["", person])]
    if rows.empty:
        return False
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    when = pd.to_datetime(rows["date"])
    ax.scatter(when, np.full(len(when), 0.0), marker="^", s=55, color=PURPLE, transform=trans, clip_on=False,
               zorder=5, label="massage (log)")
    return True


def tidy_axes(ax, grid: bool = True) -> None:
    """Light horizontal grid lines; no box on the top and right."""
    if grid:
        ax.grid(axis="y", color=GRID_COLOUR, lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def first_session_patch():
    """The legend entry of the grey first-session band."""
    import matplotlib.patches as mpatches

    return mpatches.Patch(color=GREY, alpha=0.35, label="first session")


def hide_inner_dates(axes) -> None:
    """Stacked panels share their dates: only the bottom one labels them."""
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)


@contextlib.contextmanager
def settled(fig, dpi: float):
    """A context in which `fig` keeps the layout its engine makes at `dpi`, on an Agg canvas.

    Without it, every savefig draws the whole figure once more only to lay it out (for any layout
    engine, even "none": so the engine is taken away meanwhile). On the Agg canvas, the layout
    measures the text with the renderer that then draws it at `dpi`, which remembers the sizes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas, engine = fig.canvas, fig.get_layout_engine()
    FigureCanvasAgg(fig)
    try:
        if engine is not None:
            own_dpi = fig.dpi
            fig.dpi = dpi
            try:
                engine.execute(fig)
            finally:
                fig.dpi = own_dpi
            fig.set_layout_engine(None)
        yield
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.set_canvas(canvas)


def save_figure(fig, stem: str | os.PathLike) -> tuple[Path, Path]:
    """Write `stem`.png (150 dpi) and `stem`.svg, both in the layout made for the PNG; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with plot_style(), settled(fig, PNG_DPI):
        # the fastest zlib level: the same pixels, a file about a tenth larger, a third less time
        fig.savefig(png, dpi=PNG_DPI, facecolor="white", pil_kwargs={"compress_level": 1})
        fig.savefig(svg, facecolor="white", metadata={"Date": None})
    return png, svg
