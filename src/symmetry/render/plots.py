"""Recovery pictures: timelines, movement, massage effect and the face strip (matplotlib).

Every function returns a `matplotlib.figure.Figure` built without pyplot (no
global state, safe in scripts and workers; a notebook shows it inline) and
`save_figure` writes it as PNG and SVG. Colours are the Okabe-Ito
colour-blind-safe palette; the patient's right is orange and the left sky blue,
as in the overlays. Figures are 5 inches wide with 10-12 pt text, so that they
stay readable when a phone shows them at its full width.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from symmetry.trends.table import MEASURES, REST, Trends, compute_trends

# Okabe-Ito palette.
BLACK = "#000000"
ORANGE = "#E69F00"  # patient's right
SKY_BLUE = "#56B4E9"  # patient's left
GREEN = "#009E73"  # healthy range
YELLOW = "#F0E442"
BLUE = "#0072B2"  # before massage
VERMILLION = "#D55E00"  # after massage
PURPLE = "#CC79A7"  # massage log
GREY = "#999999"

RIGHT_COLOUR, LEFT_COLOUR = ORANGE, SKY_BLUE
WIDTH_IN = 4.4
PNG_DPI = 150
FONT = {"font.size": 11.5, "axes.titlesize": 12.5, "axes.labelsize": 11, "legend.fontsize": 10.5,
        "xtick.labelsize": 10.5, "ytick.labelsize": 10.5, "axes.titleweight": "bold", "svg.fonttype": "path"}

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


def _rc():
    import matplotlib

    return matplotlib.rc_context(FONT)


def Figure(**kwargs):  # noqa: N802  (matplotlib is imported on first use: `import symmetry` stays fast)
    from matplotlib.figure import Figure as _Figure

    return _Figure(**kwargs)


def _as_trends(data) -> Trends:
    if isinstance(data, Trends):
        return data
    if isinstance(data, (pd.DataFrame, str, os.PathLike)):
        return compute_trends(data)
    raise TypeError(f"expected a Trends or the rows of scores.csv, not {type(data).__name__}")


def _pick_person(t: Trends, person: str | None) -> str:
    if person is not None:
        if person not in t.persons:
            raise ValueError(f"no person {person!r} in the table; there are: {', '.join(t.persons) or 'none'}")
        return person
    if len(t.persons) == 1:
        return t.persons[0]
    if not t.persons:
        raise ValueError("the table has no measured photos to plot")
    raise ValueError(f"the table holds {len(t.persons)} people; pass person= one of: {', '.join(t.persons)}")


def _series(t: Trends, person: str, measure: str, expression: str) -> pd.DataFrame:
    tab = t.table
    s = tab[(tab["person"] == person) & (tab["measure"] == measure) & (tab["expression"] == expression)].copy()
    s["when"] = pd.to_datetime(s["date"])
    return s.sort_values(["when", "phase"], key=lambda c: c.map({"pre": 0, "": 1, "post": 2}) if c.name == "phase" else c)


def _date_span_days(t: Trends, person: str) -> float:
    d = pd.to_datetime(t.table.loc[t.table["person"] == person, "date"])
    return float((d.max() - d.min()).days) if len(d) else 0.0


def _post_offset(span_days: float) -> pd.Timedelta:
    """Post-massage points sit a little right of their pre point so both stay visible."""
    return pd.Timedelta(days=max(0.5, 0.03 * span_days))


def _format_dates(ax, dates: pd.Series, span_days: float) -> None:
    import matplotlib.dates as mdates

    unique = sorted(pd.to_datetime(pd.Series(dates).unique()))
    pad = pd.Timedelta(days=max(1.0, 0.06 * span_days))
    if unique:
        ax.set_xlim(unique[0] - pad, unique[-1] + pad + _post_offset(span_days))
    if 0 < len(unique) <= 8:
        ax.set_xticks(unique)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    else:
        loc = mdates.AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _shade_first_and_healthy(ax, measure: str, first: pd.Timestamp | None, span_days: float) -> None:
    info = MEASURES[measure]
    if info.healthy is not None:
        lo, hi = info.healthy
        ax.axhspan(lo, hi, color=GREEN, alpha=0.13, lw=0, zorder=0)
    if info.kind == "asymmetry":
        ax.axhline(0, color=GREY, lw=0.8, zorder=1)
    elif info.kind == "ratio":
        ax.axhline(1, color=GREY, lw=0.8, zorder=1)
    if first is not None and span_days > 0:  # with one date there is nothing to set it apart from
        half = pd.Timedelta(days=max(0.7, 0.035 * span_days))
        ax.axvspan(first - half, first + half + _post_offset(span_days), color=GREY, alpha=0.18, lw=0, zorder=0)


def _sign_hints(ax, measure: str) -> None:
    hint = SIGN_HINTS.get(measure)
    if not hint:
        return
    up, down = hint
    kw = {"transform": ax.transAxes, "fontsize": 9.5, "color": "#444444", "ha": "left"}
    ax.text(0.01, 0.97, f"\u2191 {up}", va="top", **kw)
    ax.text(0.01, 0.03, f"\u2193 {down}", va="bottom", **kw)


def _ylimits(ax, s: pd.DataFrame, measure: str) -> None:
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


def _draw_series(ax, s: pd.DataFrame, span_days: float, *, colour=BLUE, post_colour=VERMILLION,
                 label_pre="before massage", label_post="after massage", errorbars=True, post_errorbars=True,
                 marker="o", bar_alpha=1.0) -> None:
    base = s[s["phase"] != "post"]
    post = s[s["phase"] == "post"]
    off = _post_offset(span_days)
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


def _draw_log(ax, log: pd.DataFrame | None, person: str) -> bool:
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
    t = _as_trends(data)
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of: {', '.join(MEASURES)}")
    person = _pick_person(t, person)
    if expression is None:
        have = t.table.loc[(t.table["person"] == person) & (t.table["measure"] == measure), "expression"]
        preferred = [e for e in (REST, "smile", "brow_raise", "eyes_closed_tight", "eyes_closed_gentle") if e in set(have)]
        expression = preferred[0] if preferred else (have.iloc[0] if len(have) else REST)
    with _rc():
        if ax is None:
            fig = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        _trend_axes(ax, t, person, measure, expression, log if log is not None else t.log, title=True)
        _legend_below(fig, ax, healthy=MEASURES[measure].healthy is not None, first=_date_span_days(t, person) > 0)
    return fig


def _trend_axes(ax, t: Trends, person: str, measure: str, expression: str, log, title: bool) -> None:
    info = MEASURES[measure]
    s = _series(t, person, measure, expression)
    span = _date_span_days(t, person)
    first = pd.to_datetime(t.people.set_index("person").loc[person, "first_session"].split(" ")[0]) \
        if len(s) else None
    _shade_first_and_healthy(ax, measure, first, span)
    if s.empty:
        ax.text(0.5, 0.5, "no measurements", transform=ax.transAxes, ha="center", va="center", color=GREY)
    else:
        _draw_series(ax, s, span)
        _ylimits(ax, s, measure)
    _draw_log(ax, log, person)
    _sign_hints(ax, measure)
    _format_dates(ax, s["when"] if len(s) else pd.Series(dtype="datetime64[ns]"), span)
    unit = f" ({info.unit})" if info.unit else ""
    ax.set_ylabel(f"{info.label}{unit}" if len(info.label) < 24 else f"{info.unit or 'ratio'}")
    if title:
        name = TITLES.get(measure, info.label[:1].upper() + info.label[1:])
        if expression != REST and expression not in name.lower():
            name = f"{name.replace(' at rest', '')} ({expression.replace('_', ' ')})"
        ax.set_title(name, loc="left")
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _legend_below(fig, ax, healthy: bool = True, first: bool = True) -> None:
    import matplotlib.patches as mpatches

    handles, labels = ax.get_legend_handles_labels()
    handles = list(handles) + ([mpatches.Patch(color=GREY, alpha=0.35, label="first session")] if first else [])
    if healthy:
        handles.append(mpatches.Patch(color=GREEN, alpha=0.3, label="healthy range"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, handlelength=1.6,
               columnspacing=1.0)


def timeline_figure(t: Trends, person: str, panels=None, log: pd.DataFrame | None = None):
    """The recovery timeline: mouth, eye, brow and symmetry index at rest, stacked, dates shared.
    A person with no resting photo at all gets them for the expression they have most photos of
    (a lone smiling photo still shows its measures)."""
    person = _pick_person(t, person)
    panels = panels or _timeline_panels(t, person)
    log = log if log is not None else t.log
    with _rc():
        fig = Figure(figsize=(WIDTH_IN, 2.35 * len(panels) + 0.9), layout="constrained")
        axes = fig.subplots(len(panels), 1, sharex=True)
        axes = np.atleast_1d(axes)
        for i, (ax, (expr, measure, _)) in enumerate(zip(axes, panels)):
            # massage-log markers only along the bottom axis: once is enough, and they crowd the hints
            _trend_axes(ax, t, person, measure, expr, log if i == len(axes) - 1 else None, title=True)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        _legend_below(fig, axes[-1], healthy=any(MEASURES[m].healthy is not None for _, m, _ in panels),
                      first=_date_span_days(t, person) > 0)
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
    person = _pick_person(t, person)
    tab = t.table[t.table["person"] == person]
    have = set(zip(tab["expression"], tab["measure"]))
    smile = next((e for e in ("smile", "smile_open", "eee") if (e, "mouth_excursion_right_mm") in have), None)
    closed = next((e for e in ("eyes_closed_tight", "eyes_closed_gentle") if (e, "eye_closure_right_pct") in have), None)
    panels = []
    if smile:
        what = "Smile" if smile == "smile" else ("Open smile" if smile == "smile_open" else "Saying eee")
        panels.append((smile, "mouth_excursion", "mm", f"{what}: how far the mouth corners rise"))
    if ("brow_raise", "brow_excursion_right_mm") in have:
        panels.append(("brow_raise", "brow_excursion", "mm", "Brow raise: how far the eyebrows rise"))
    if closed:
        panels.append((closed, "eye_closure", "%", f"Eyes closed {closed.replace('eyes_closed_', '')}ly: how far they close"))
    if not panels:
        return None
    span = _date_span_days(t, person)
    first = pd.to_datetime(t.people.set_index("person").loc[person, "first_session"].split(" ")[0])
    with _rc():
        fig = Figure(figsize=(WIDTH_IN, 2.35 * len(panels) + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
        for ax, (expr, stem, unit, title) in zip(axes, panels):
            suffix = "_pct" if unit == "%" else "_mm"
            all_when = []
            half = pd.Timedelta(days=max(0.7, 0.035 * span))
            if span > 0:
                ax.axvspan(first - half, first + half + _post_offset(span), color=GREY, alpha=0.18, lw=0, zorder=0)
            for side, colour, marker in (("right", RIGHT_COLOUR, "o"), ("left", LEFT_COLOUR, "s")):
                s = _series(t, person, f"{stem}_{side}{suffix}", expr)
                all_when.append(s["when"])
                _draw_series(ax, s, span, colour=colour, post_colour=colour, marker=marker, post_errorbars=False,
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
            ax.grid(axis="y", color="#dddddd", lw=0.6)
            ax.spines[["top", "right"]].set_visible(False)
            _format_dates(ax, pd.concat(all_when), span)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        import matplotlib.lines as mlines
        import matplotlib.patches as mpatches

        handles = [mlines.Line2D([], [], color=RIGHT_COLOUR, marker="o", lw=1.8, label="patient's right"),
                   mlines.Line2D([], [], color=LEFT_COLOUR, marker="s", lw=1.8, label="patient's left"),
                   mlines.Line2D([], [], color=GREY, marker="o", mfc="white", lw=0, label="after massage"),
                   mpatches.Patch(color=GREY, alpha=0.35, label="first session")]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    return fig


MASSAGE_PANELS = (
    (REST, "mouth_droop_mm"), (REST, "eye_opening_difference_mm"), (REST, "brow_asymmetry_mm"), (REST, "symmetry_index"),
)


def massage_effect_figure(t: Trends, person: str):
    """Immediate change after each massage (towards symmetric = up), against the noise band.

    Returns None when no session has both pre and post photos.
    """
    person = _pick_person(t, person)
    m = t.massage[t.massage["person"] == person]
    panels = [(e, k) for e, k in MASSAGE_PANELS if ((m["expression"] == e) & (m["measure"] == k)).any()]
    if not panels:
        return None
    span = _date_span_days(t, person)
    with _rc():
        fig = Figure(figsize=(WIDTH_IN, 1.85 * len(panels) + 1.0), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
        for ax, (expr, measure) in zip(axes, panels):
            info = MEASURES[measure]
            s = m[(m["expression"] == expr) & (m["measure"] == measure)].copy()
            s["when"] = pd.to_datetime(s["date"])
            mdc = float(s["mdc95"].iloc[0])
            ax.axhspan(-mdc, mdc, color=GREY, alpha=0.2, lw=0, zorder=0)
            ax.axhline(0, color=GREY, lw=0.8)
            # the same verdicts as the report's words (trends._massage_effect), not a band of its own
            real = s["verdict"].str.startswith("real change")
            width = pd.Timedelta(days=max(1.0, 0.05 * span))
            ax.bar(s["when"], s["improvement"], width=width, color=np.where(real, BLUE, "#9ec5e0"), zorder=3)
            lim = max(mdc * 1.6, float(s["improvement"].abs().max()) * 1.25)
            ax.set_ylim(-lim, lim)
            ax.set_ylabel(f"change ({info.unit})" if info.unit else "change")
            ax.set_title(SHORT_TITLES.get(measure, info.label), loc="left")
            ax.text(0.01, 0.97, "\u2191 more symmetric after", transform=ax.transAxes, va="top", fontsize=9.5, color="#444444")
            ax.spines[["top", "right"]].set_visible(False)
            _format_dates(ax, s["when"], span)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        import matplotlib.patches as mpatches

        fig.suptitle("Change straight after each massage", x=0.02, ha="left", fontweight="bold", fontsize=12.5)
        fig.legend(handles=[mpatches.Patch(color=BLUE, label="larger than noise"),
                            mpatches.Patch(color="#9ec5e0", label="within noise"),
                            mpatches.Patch(color=GREY, alpha=0.4, label="noise band (MDC95)")],
                   loc="outside lower center", ncol=2, frameon=False, handlelength=1.2, columnspacing=1.0)
    return fig


# ------------------------------------------------------------------ face strip
#: Canonical face-frame window of the strip, mm: x from the patient's right to left, y down the face.
STRIP_X_MM = (-78.0, 78.0)
STRIP_Y_MM = (-62.0, 118.0)
STRIP_PX_PER_MM = 3.0


def align_face(rgb: np.ndarray, frame, px_per_mm: float = STRIP_PX_PER_MM, x_mm=STRIP_X_MM, y_mm=STRIP_Y_MM) -> np.ndarray:
    """Warp a photo into the canonical face frame: pupils level, midpoint of the pupils fixed,
    millimetre scale from `frame` (a similarity transform, `cv2.warpAffine`).

    The patient's right ends up on the image's left, as in an unmirrored photo.
    """
    import cv2

    w = int(round((x_mm[1] - x_mm[0]) * px_per_mm))
    h = int(round((y_mm[1] - y_mm[0]) * px_per_mm))
    axes = np.stack([frame.x_axis, frame.y_axis], axis=1) / frame.mm_per_px  # mm -> image px
    a = axes / px_per_mm  # output px -> image px
    b = frame.origin + axes @ np.array([x_mm[0], y_mm[0]])
    m = np.hstack([a, b[:, None]]).astype(np.float64)
    return cv2.warpAffine(np.ascontiguousarray(rgb), m, (w, h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))


def face_strip_figure(first: np.ndarray, latest: np.ndarray, first_label: str, latest_label: str,
                      px_per_mm: float = STRIP_PX_PER_MM):
    """First and latest resting photos (already aligned with `align_face`) side by side and blended.

    Guides: the pupil line and the midline (dashed). The blend shows where the two differ.
    """
    blend = (first.astype(np.float32) * 0.5 + latest.astype(np.float32) * 0.5).astype(np.uint8)
    h, w = first.shape[:2]
    x0 = -STRIP_X_MM[0] * px_per_mm
    y0 = -STRIP_Y_MM[0] * px_per_mm
    with _rc():
        fig = Figure(figsize=(7.5, 7.5 / 3 * h / w + 0.75), layout="constrained")
        axes = fig.subplots(1, 3)
        for ax, img, title in zip(axes, (first, latest, blend),
                                  (f"First session\n{first_label}", f"Latest session\n{latest_label}",
                                   "Both blended\n(half each)")):
            ax.imshow(img, interpolation="lanczos")
            ax.axhline(y0, color=YELLOW, lw=0.9, ls=(0, (4, 3)))
            ax.axvline(x0, color=YELLOW, lw=0.9, ls=(0, (4, 3)))
            ax.set_title(title, fontsize=10, loc="center")
            ax.set_xticks([w * 0.18, w * 0.82], ["patient's\nright", "patient's\nleft"], fontsize=8.5)
            ax.set_yticks([])
            ax.tick_params(length=0)
            for sp in ax.spines.values():
                sp.set_visible(False)
    return fig


# ------------------------------------------------------------------ output
def save_figure(fig, stem: str | os.PathLike) -> tuple[Path, Path]:
    """Write `stem`.png (150 dpi) and `stem`.svg; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with _rc():
        fig.savefig(png, dpi=PNG_DPI, facecolor="white")
        # the layout is settled by the first save; freezing it halves the cost of the second
        engine = fig.get_layout_engine()
        fig.set_layout_engine("none")
        try:
            fig.savefig(svg, facecolor="white", metadata={"Date": None})
        finally:
            if engine is not None:
                fig.set_layout_engine(engine)
    return png, svg
