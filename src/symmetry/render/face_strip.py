"""The face strip: a person's first and latest resting photos, aligned in the face frame,
side by side and blended (where they differ, the outline looks doubled)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from symmetry.face.frame import FaceFrame
from symmetry.render.common import session_words
from symmetry.render.plot_parts import new_figure, plot_style
from symmetry.trends.compute import Trends
from symmetry.vocabulary import FRAME_COLOUR, REST

#: Canonical face-frame window of the strip, mm: x from the patient's right to left, y down the face.
STRIP_X_MM = (-78.0, 78.0)
STRIP_Y_MM = (-62.0, 118.0)
STRIP_PX_PER_MM = 3.0


class NoFaceStrip(Exception):
    """The face strip cannot be drawn; the message says why, in the report's words."""


def face_strip(t: Trends, person: str, base_dirs: list[Path]):
    """(figure, message): first vs latest resting photos aligned in the face frame; figure None with a reason."""
    try:
        first, latest = _strip_rows(t, person)
        ipd = t.people.set_index("person").loc[person, "calibrated_interpupil_mm"]
        aligned = [align_face(*face_strip_inputs(r, base_dirs, ipd)) for r in (first, latest)]
    except NoFaceStrip as why:
        return None, str(why)
    fig = face_strip_figure(aligned[0], aligned[1], session_words(first["session"]), session_words(latest["session"]))
    return (fig, aligned), ""


def face_strip_inputs(row: pd.Series, base_dirs: list[Path], interpupil_mm: float) -> tuple[np.ndarray, FaceFrame]:
    """The pixels (full-resolution RGB) and the face frame of one strip photo (a row of `Trends.rows`).

    The frame is the one scoring stored (`pupil_mid_*`, `pupil_line_deg`, `midline_deg`), scaled
    to the person's calibrated inter-pupil distance: the report never measures a photo again.

    Raises:
        NoFaceStrip: the photo is missing or unreadable, or its row holds no face frame.
    """
    from symmetry.face.measures import placed_frame
    from symmetry.photo.imageio import ImageLoadError, load_image

    path = _resolve(row["path"], base_dirs)
    if path is None:
        raise NoFaceStrip(f"the photo {row['path']} is not where the scores table says, so there is no face strip")
    frame = placed_frame(row, float(interpupil_mm))
    if frame is None:
        raise NoFaceStrip(f"the scores table has no face position for {row['path']} (scored by an older version); "
                          "score the photos again (symmetry score ... --force) for the face strip")
    try:
        rgb = load_image(path, reduce=False).rgb
    except ImageLoadError as exc:
        raise NoFaceStrip(f"could not read {row['path']} for the face strip: {exc}") from None
    return rgb, frame


def _resolve(path: str, base_dirs: list[Path]) -> Path | None:
    """Where the photo at `path` (as the scores table has it) is: absolute, or under one of `base_dirs`."""
    p = Path(path)
    if p.is_absolute():
        return p if p.is_file() else None
    for base in base_dirs:
        q = base / p
        if q.is_file():
            return q
    return None


def _strip_rows(t: Trends, person: str) -> tuple[pd.Series, pd.Series]:
    """The resting photos of the first and latest sessions (the first measured one of each)."""
    p = t.people.set_index("person").loc[person]
    rows = t.rows[(t.rows["person"] == person) & t.rows["used"] & (t.rows["expression"] == REST)]
    first = rows[rows["session"] == p["first_session"]]
    latest = rows[rows["session"] == p["latest_session"]]
    if first.empty or latest.empty:
        raise NoFaceStrip("the first or the latest session has no measured resting photo, so there is no face strip")
    if p["first_session"] == p["latest_session"]:
        raise NoFaceStrip("only one session: the face strip needs a first and a latest session")
    return first.iloc[0], latest.iloc[0]


def align_face(rgb: np.ndarray, frame: FaceFrame, px_per_mm: float = STRIP_PX_PER_MM, x_mm=STRIP_X_MM,
               y_mm=STRIP_Y_MM) -> np.ndarray:
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

    Guides: the pupil line and the midline (dashed), in the overlays' face-frame colour.
    The blend shows where the two differ.
    """
    blend = (first.astype(np.float32) * 0.5 + latest.astype(np.float32) * 0.5).astype(np.uint8)
    h, w = first.shape[:2]
    x0 = -STRIP_X_MM[0] * px_per_mm
    y0 = -STRIP_Y_MM[0] * px_per_mm
    with plot_style():
        fig = new_figure(figsize=(7.5, 7.5 / 3 * h / w + 0.75), layout="constrained")
        axes = fig.subplots(1, 3)
        for ax, img, title in zip(axes, (first, latest, blend),
                                  (f"First session\n{first_label}", f"Latest session\n{latest_label}",
                                   "Both blended\n(half each)")):
            ax.imshow(img, interpolation="lanczos")
            ax.axhline(y0, color=FRAME_COLOUR, lw=0.9, ls=(0, (4, 3)))
            ax.axvline(x0, color=FRAME_COLOUR, lw=0.9, ls=(0, (4, 3)))
            ax.set_title(title, fontsize=10, loc="center")
            ax.set_xticks([w * 0.18, w * 0.82], ["patient's\nright", "patient's\nleft"], fontsize=8.5)
            ax.set_yticks([])
            ax.tick_params(length=0)
            for sp in ax.spines.values():
                sp.set_visible(False)
    return fig
