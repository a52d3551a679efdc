"""Symmetry over time in a recording (matplotlib), from `symmetry.capture.video.analyze_video`.

Three panels sharing the time axis: the symmetry index of every measured frame,
the signed asymmetries in mm, and the blendshape evidence of each movement; runs of
one detected expression are shaded in its colour and the chosen frames circled.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from symmetry.capture.video import VideoAnalysis
from symmetry.vocabulary import (BLUE, EXPRESSION_COLOURS, GREEN, ORANGE, PROTOCOL_EXPRESSIONS, PURPLE, SKY_BLUE,
                                 VERMILLION)

#: Frames measured but failing a quality gate.
FAILED_GATE_GREY = "#bbbbbb"
#: Signed asymmetries: (column, colour, label).
ASYMMETRY_LINES = (
    ("mouth_droop_mm", VERMILLION, "mouth droop (R lower +), mm"),
    ("brow_asymmetry_mm", PURPLE, "brow asymmetry (R lower +), mm"),
    ("eye_opening_difference_mm", BLUE, "eye opening R - L, mm"),
)
#: Blendshape evidence: (column, colour).
EVIDENCE_LINES = (("smile", ORANGE), ("brow_raise", PURPLE), ("blink", SKY_BLUE), ("squeeze", BLUE), ("pucker", GREEN))


def plot_video(analysis: VideoAnalysis, path: str | os.PathLike | None = None):
    """Symmetry over time: index, signed asymmetries and expression evidence, with the
    detected expressions shaded and the chosen frames marked. Returns the Figure;
    saves it as PNG when `path` is given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    df = analysis.frames
    fig = Figure(figsize=(11, 7.5), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2, 2, 1.4]})
    t = df["time_s"].to_numpy() if len(df) else np.array([])
    ok = (df["status"] == "ok").to_numpy() if len(df) else np.array([], bool)
    if len(df):
        _shade_expressions(axes, t, df["expression"].to_numpy(), 1.0 / analysis.fps)
    _plot_index(axes[0], analysis, t, ok)
    _plot_asymmetries(axes[1], df, t, ok)
    _plot_evidence(axes[2], df, t)
    handles = [Patch(color=EXPRESSION_COLOURS[e], alpha=0.4, label=e) for e in PROTOCOL_EXPRESSIONS]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=False,
               title="detected expression (shaded); open circles = chosen frames", title_fontsize=8)
    fig.suptitle(_title(analysis), x=0.01, ha="left", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.94))
    if path is not None:
        fig.savefig(path)
    return fig


def write_video_plot(analysis: VideoAnalysis, out_dir: str | os.PathLike) -> Path:
    """Save the plot as <stem>_symmetry.png in out_dir (beside `write_outputs`' CSVs)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = Path(out_dir) / f"{Path(analysis.path).stem}_symmetry.png"
    plot_video(analysis, path)
    return path


def _shade_expressions(axes, t: np.ndarray, labels: np.ndarray, dt: float) -> None:
    """Shade each run of one detected expression on every panel."""
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start]:
                for ax in axes:
                    ax.axvspan(t[start] - dt / 2, t[i - 1] + dt / 2, color=EXPRESSION_COLOURS[labels[start]],
                               alpha=0.15, lw=0)
            start = i


def _plot_index(ax, analysis: VideoAnalysis, t: np.ndarray, ok: np.ndarray) -> None:
    """The symmetry index of every measured frame, with the chosen frames circled."""
    df = analysis.frames
    gated = ok & df["quality_ok"].to_numpy(bool) if len(df) else ok
    si = df["symmetry_index"].to_numpy(float) if len(df) else np.array([])
    ax.plot(t[ok], si[ok], ".", color=FAILED_GATE_GREY, ms=3, label="frame (fails a quality gate)")
    ax.plot(t[gated], si[gated], ".", color="black", ms=4, label="frame passing the quality gates")
    for expr, r in analysis.results.items():
        for c in r.frames:
            m = c.observation.measurement
            if m is not None and m.ok:
                ax.plot(c.timestamp_ms / 1000, m.symmetry_index, "o", mfc="none", mec=EXPRESSION_COLOURS[expr], ms=10, mew=2)
    ax.set_ylabel("symmetry index (0-100)")
    ax.set_ylim(max(0, np.nanmin(si[ok]) - 5) if ok.any() else 0, 101)
    ax.legend(loc="lower left", fontsize=8)


def _plot_asymmetries(ax, df, t: np.ndarray, ok: np.ndarray) -> None:
    for col, colour, label in ASYMMETRY_LINES:
        y = df[col].to_numpy(float) if len(df) else np.array([])
        y = np.where(ok, y, np.nan)  # break the line where a frame was not measured
        ax.plot(t, y, ".-", color=colour, ms=3, lw=0.8, label=label)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("asymmetry, mm")
    ax.legend(loc="lower left", fontsize=8)


def _plot_evidence(ax, df, t: np.ndarray) -> None:
    for col, colour in EVIDENCE_LINES:
        y = df[col].to_numpy(float) if len(df) else np.array([])
        ax.plot(t, y, lw=1, color=colour, label=col)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("blendshape\nevidence (0-1)")
    ax.set_xlabel("time, s")
    ax.legend(loc="upper left", fontsize=7, ncol=5)


def _title(analysis: VideoAnalysis) -> str:
    found = [e for e, r in analysis.results.items() if r.status == "captured"]
    missing = [e for e, r in analysis.results.items() if r.status != "captured"]
    cal = f"{analysis.interpupil_mm:.1f} mm from rest frames" if math.isfinite(analysis.interpupil_mm) else "iris, per frame"
    return (
        f"{Path(analysis.path).name}: symmetry over time ({len(analysis.frames)} frames, {analysis.fps:.0f} fps; "
        f"inter-pupil scale {cal})\n"
        f"found: {', '.join(found) or 'none'}    not found: {', '.join(missing) or 'none'}"
    )
