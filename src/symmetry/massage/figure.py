"""The printable picture of one face's massage points: the face cropped, its kneading areas
shaded (the weak side stronger), each point with its uncertainty circle, and a column of names
on each side joined to the points by leader lines, so that no label covers the face (matplotlib,
no pyplot)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from symmetry.massage.acupoints import AcupointMap
from symmetry.massage.areas import KneadingArea
from symmetry.massage.draw import SIDE_RGB
from symmetry.massage.table import MIDLINE

LABEL_PT = 8.5
#: Space for one label column, as a fraction of the crop's width; space above the face for the
#: column headers and the labels of `TOP_LABELS`, as a fraction of its height.
COLUMN, TOP = 0.42, 0.07
#: Midline points labelled above the face: a leader from a side column would cross an eye.
TOP_LABELS = ("EX-HN3",)
#: Area shading here (lighter than on screen: the printed face must stay visible under it).
FIGURE_ALPHA, FIGURE_WEAK_ALPHA = 0.07, 0.2


def _rgb01(side: str) -> tuple[float, float, float]:
    return tuple(c / 255 for c in SIDE_RGB[side])


def _darker(side: str) -> tuple[float, float, float]:
    return tuple(0.75 * c for c in _rgb01(side))


def acupoint_figure(rgb: np.ndarray, amap: AcupointMap, areas: tuple[KneadingArea, ...] = (), *,
                    title: str = "", width_in: float = 7.2):
    """A `matplotlib.figure.Figure` of the face in `rgb` with its points (pixels of `rgb`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    crop, (x0, y0) = _crop(rgb, amap, areas)
    h, w = crop.shape[:2]
    col, top = COLUMN * w, TOP * h
    fig = Figure(figsize=(width_in, width_in * (h + top) / (w + 2 * col) + (0.3 if title else 0.05)))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1 - (0.3 / fig.get_figheight() if title else 0)))
    ax.imshow(crop, extent=(0, w, h, 0), interpolation="lanczos")
    ax.set_xlim(-col, w + col)
    ax.set_ylim(h, -top)
    ax.axis("off")
    shift = np.array([x0, y0], dtype=float)
    for a in areas:
        _area(ax, a, shift)
    _points_and_labels(ax, amap, shift, w, h, col, fig)
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold", y=0.995, va="top")
    return fig


def _crop(rgb: np.ndarray, amap: AcupointMap, areas) -> tuple[np.ndarray, tuple[int, int]]:
    """The face with a margin (the points and areas all inside)."""
    every = [amap.px()] + [a.polygon for a in areas]
    pts = np.concatenate(every)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    margin = 0.08 * (hi - lo).max()
    x0, y0 = np.maximum(0, np.floor(lo - margin)).astype(int)
    x1, y1 = np.minimum(rgb.shape[1::-1], np.ceil(hi + margin)).astype(int)
    return rgb[y0:y1, x0:x1], (int(x0), int(y0))


def _area(ax, a: KneadingArea, shift: np.ndarray) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    outline = a.polygon - shift
    path = MplPath(np.vstack([outline, outline[:1]]), closed=True)
    if a.hole is not None:
        hole = a.hole - shift
        if _signed_area(hole) * _signed_area(outline) > 0:  # opposite turning makes it a hole
            hole = hole[::-1]
        path = MplPath.make_compound_path(path, MplPath(np.vstack([hole, hole[:1]]), closed=True))
    alpha = FIGURE_WEAK_ALPHA if a.emphasised else FIGURE_ALPHA
    ax.add_patch(PathPatch(path, facecolor=_rgb01(a.side) + (alpha,), edgecolor=_rgb01(a.side),
                           linewidth=1.4 if a.emphasised else 0.6))


def _signed_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _points_and_labels(ax, amap: AcupointMap, shift: np.ndarray, w: int, h: int, col: float, fig) -> None:
    from matplotlib.patches import Circle

    px = amap.px() - shift
    px_per_mm = 1.0 / amap.frame.mm_per_px
    middle = float(np.median(px[:, 0]))
    columns: dict[int, list[int]] = {-1: [], 1: []}
    for i, p in enumerate(amap.points):
        if p.side != MIDLINE:
            columns[-1 if px[i, 0] < middle else 1].append(i)
    above = [i for i, p in enumerate(amap.points) if p.code in TOP_LABELS]
    for i, p in enumerate(amap.points):  # the other midline labels to the shorter column
        if p.side == MIDLINE and i not in above:
            columns[-1 if len(columns[-1]) < len(columns[1]) else 1].append(i)
    for i, p in enumerate(amap.points):
        ax.add_patch(Circle(px[i], p.radius_mm * px_per_mm, fill=False, lw=0.8, ec=_rgb01(p.side), alpha=0.9))
        ax.plot(*px[i], "o", ms=3.2, mfc=_rgb01(p.side), mec="black", mew=0.5)
    line_h = LABEL_PT / 72 * 1.32 * (h / (fig.get_figheight() * ax.get_position().height))
    for direction, members in columns.items():
        members.sort(key=lambda i: px[i, 1])
        ys = _spread([px[i, 1] for i in members], line_h, line_h * 0.6, h - line_h * 0.6)
        x_text = -0.04 * col if direction < 0 else w + 0.04 * col
        for i, y in zip(members, ys):
            p = amap.points[i]
            ax.annotate(f"{p.code}  {p.name}", xy=px[i], xytext=(x_text, y), fontsize=LABEL_PT,
                        ha="right" if direction < 0 else "left", va="center", color=_darker(p.side),
                        fontweight="bold" if p.side != MIDLINE else "normal",
                        arrowprops={"arrowstyle": "-", "lw": 0.45, "color": (0.35, 0.35, 0.35),
                                    "shrinkA": 1, "shrinkB": 2.5})
    for i in above:
        p = amap.points[i]
        ax.annotate(f"{p.code}  {p.name}", xy=px[i], xytext=(px[i, 0], -0.45 * TOP * h), fontsize=LABEL_PT,
                    ha="center", va="center", color=_darker(p.side),
                    arrowprops={"arrowstyle": "-", "lw": 0.45, "color": (0.35, 0.35, 0.35), "shrinkA": 1, "shrinkB": 2.5})
    for direction, words in ((-1, "patient's RIGHT"), (1, "patient's LEFT")):
        side = "right" if direction < 0 else "left"
        ax.text(-0.04 * col if direction < 0 else w + 0.04 * col, -0.45 * TOP * h, words, fontsize=LABEL_PT + 0.5,
                ha="right" if direction < 0 else "left", va="center", color=_darker(side), fontweight="bold")


def _spread(ys: list[float], gap: float, top: float, bottom: float) -> list[float]:
    """`ys` (sorted) moved as little as possible to keep `gap` apart inside [top, bottom]."""
    out = list(ys)
    for i in range(len(out)):
        out[i] = max(out[i], top + 1.2 * gap if i == 0 else out[i - 1] + gap)
    for i in range(len(out) - 1, -1, -1):
        out[i] = min(out[i], bottom if i == len(out) - 1 else out[i + 1] - gap)
    return out


def save_figure(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write the figure as JPEG or PNG (by the suffix)."""
    path = Path(path)
    options = {"pil_kwargs": {"quality": 90}} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    fig.savefig(path, dpi=dpi, facecolor="white", **options)
    return path
