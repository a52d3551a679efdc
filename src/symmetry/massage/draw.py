"""Acupoints and kneading areas drawn on an image: RGB array in, annotated RGB array out.

Cheap enough for a live preview (docs/massage.md, "Speed"): the areas are blended only inside
their bounding box, and labels are placed greedily on a coarse occupancy grid so that none
covers another label or another point.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from symmetry.massage.acupoints import AcupointMap, acupoints
from symmetry.massage.areas import KneadingArea, kneading_areas
from symmetry.massage.table import MIDLINE
from symmetry.vocabulary import LEFT_COLOUR, PURPLE, RIGHT_COLOUR, rgb

#: Point and area colours by side (RGB): the project's side colours; midline points purple.
SIDE_RGB = {"right": rgb(RIGHT_COLOUR), "left": rgb(LEFT_COLOUR), MIDLINE: rgb(PURPLE)}
DARK = (20, 20, 20)
#: Opacity of the area fill: the weak side's areas (the others are only outlined then), or all
#: areas when no side is weak.
AREA_ALPHA, WEAK_AREA_ALPHA = 0.15, 0.28
GRID = 8  # px per cell of the label occupancy grid


def draw_acupoints(
    image: np.ndarray,
    face=None,
    *,
    points: AcupointMap | None = None,
    areas: bool = True,
    weak_side: str | None = None,
    labels: bool = True,
    highlight: tuple[str, ...] = (),
) -> np.ndarray:
    """The image with the massage points (and kneading areas) of its face drawn on it.

    Args:
        image: HxWx3 RGB uint8; not modified.
        face: a `Face` or `Measurement` of this image (pixels of this image), or None to find
            the face (canonical landmarks, the bundled model).
        points: the face's `AcupointMap`, when already computed (saves recomputing it).
        areas: shade the kneading areas; the `weak_side`'s ("right"/"left") stand out.
        labels: write each point's code beside it.
        highlight: codes drawn larger (the step being massaged).

    Raises:
        ValueError: no face found in the image, or a bad `weak_side`.
    """
    from symmetry.photo.imageio import as_rgb_array

    out = as_rgb_array(image).copy()
    face = _face_of(out, face) if points is None or areas else face
    amap = points if points is not None else acupoints(face)
    if areas:
        landmarks = getattr(getattr(face, "face", face), "points", face)
        draw_areas(out, kneading_areas(landmarks, weak_side))
    draw_points(out, amap, amap.px(), labels=labels, highlight=highlight)
    return out


def _face_of(image: np.ndarray, face):
    if face is not None:
        return face
    from symmetry.photo.analysis import analyze

    m = analyze(image, method="canonical")
    if m.face is None:
        raise ValueError(f"no acupoints drawn: {m.status}: {m.message}")
    return m


def draw_areas(img: np.ndarray, areas: tuple[KneadingArea, ...], flip_width: int | None = None) -> None:
    """Shade and outline `areas` on `img` in place (`flip_width`: x is mirrored, x -> w - 1 - x)."""
    import cv2

    if not areas:
        return
    polys = [_int_poly(a.polygon, flip_width) for a in areas]
    holes = [_int_poly(a.hole, flip_width) for a in areas]
    every = np.concatenate(polys)
    h, w = img.shape[:2]
    x0, y0 = np.clip(every.min(axis=0) - 2, 0, [w, h])
    x1, y1 = np.clip(every.max(axis=0) + 3, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    offset = np.array([x0, y0], dtype=np.int32)
    # With a weak side only its areas are shaded (the others outlined): they stand out, and one
    # blended layer costs half of two.
    weak = [i for i, a in enumerate(areas) if a.emphasised]
    group, alpha = (weak, WEAK_AREA_ALPHA) if weak else (range(len(areas)), AREA_ALPHA)
    layer = roi.copy()
    for i in group:  # one call per area: a single call would cancel where areas overlap
        contours = [polys[i] - offset] + ([holes[i] - offset] if holes[i] is not None else [])
        cv2.fillPoly(layer, contours, SIDE_RGB[areas[i].side], cv2.LINE_8)
    cv2.addWeighted(layer, alpha, roi, 1.0 - alpha, 0.0, dst=roi)
    unit = _unit(img)  # thin outlines: the weak side stands out by its shading (thick anti-aliased lines are slow)
    for side in ("right", "left"):
        group = [polys[i] for i, a in enumerate(areas) if a.side == side]
        if group:
            cv2.polylines(img, group, True, SIDE_RGB[side], unit, cv2.LINE_AA)


def _int_poly(poly: np.ndarray | None, flip_width: int | None) -> np.ndarray | None:
    if poly is None:
        return None
    p = np.asarray(poly, dtype=float)
    if flip_width is not None:
        p = np.column_stack([flip_width - 1 - p[:, 0], p[:, 1]])
    return np.round(p).astype(np.int32)


def _unit(img: np.ndarray) -> int:
    return max(1, round(min(img.shape[:2]) / 480))


def draw_points(img: np.ndarray, amap: AcupointMap, px: np.ndarray, *, labels: bool = True,
                highlight: tuple[str, ...] = (), only: tuple[str, ...] | None = None) -> None:
    """Draw the points of `amap` at pixel positions `px` (its own, or mirrored) on `img`, in place.

    Each point: its uncertainty circle (radius_mm), a dot in its side's colour, and its code.
    `only`: draw just these codes.
    """
    import cv2

    unit = _unit(img)
    px_per_mm = 1.0 / amap.frame.mm_per_px
    dot = max(2, round(0.9 * px_per_mm))
    keep = [i for i, p in enumerate(amap.points) if only is None or p.code in only]
    centres = np.round(px[keep]).astype(int).tolist()
    for i, (x, y) in zip(keep, centres):
        p = amap.points[i]
        colour = SIDE_RGB[p.side]
        big = p.code in highlight
        radius = max(dot + 2, round(p.radius_mm * px_per_mm))
        # Anti-aliasing only where it shows: on the step under way (it triples a circle's cost).
        cv2.circle(img, (x, y), radius, colour, 2 * unit if big else unit, cv2.LINE_AA if big else cv2.LINE_8)
        if big:  # the step under way: a white ring around its circle, seen on any skin
            cv2.circle(img, (x, y), radius + 2 * unit + 1, (255, 255, 255), unit, cv2.LINE_AA)
        # A dark-edged dot: the dark disc, then the colour inside it (readable on light and dark skin).
        cv2.circle(img, (x, y), dot + (3 if big else 1), DARK, -1, cv2.LINE_8)
        cv2.circle(img, (x, y), dot + (2 if big else 0), colour, -1, cv2.LINE_8)
    if labels:
        _labels(img, [amap.points[i] for i in keep], centres, dot, highlight)


def _candidates(x: int, y: int, sw: int, sh: int, gap: int, out: bool):
    """Where a label may go, best first: beside the point away from the face's middle, above,
    below, on the other side, at the outer corners."""
    side_x = x + gap if out else x - gap - sw
    return ((side_x, y - sh // 2), (x - sw // 2, y - gap - sh), (x - sw // 2, y + gap),
            (x - gap - sw if out else x + gap, y - sh // 2), (side_x, y - gap - sh), (side_x, y + gap))


@lru_cache(maxsize=512)
def _sprite(text: str, scale: float, thick: int) -> tuple[np.ndarray, np.ndarray]:
    """`text` in white with a dark edge, rendered once (pixels, uint8 mask): copying it in costs a
    small part of drawing it (OpenCV's anti-aliased thick text is slow)."""
    import cv2

    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick + 2)
    pad = thick + 1
    img = np.zeros((th + base + 2 * pad, tw + 2 * pad, 3), np.uint8)
    org = (pad, pad + th)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (1, 1, 1), thick + 2, cv2.LINE_AA)
    mask = img[:, :, 0] > 0
    img[mask] = DARK
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return img, mask.astype(np.uint8)


class _Grid:
    """Taken cells of a coarse grid over the image, one Python int of bits per row: checking a
    box costs a few integer ANDs (a numpy slice per check cost most of the labels' time).
    Boxes are (left, top, right, bottom), inclusive, inside the image."""

    def __init__(self, h: int):
        self.rows = [0] * (h // GRID + 2)

    def free(self, left: int, top: int, right: int, bottom: int) -> bool:
        bits = ((1 << (right // GRID - left // GRID + 1)) - 1) << (left // GRID)
        rows = self.rows
        return not any(rows[r] & bits for r in range(top // GRID, bottom // GRID + 1))

    def take(self, left: int, top: int, right: int, bottom: int) -> None:
        bits = ((1 << (right // GRID - left // GRID + 1)) - 1) << (left // GRID)
        for r in range(top // GRID, bottom // GRID + 1):
            self.rows[r] |= bits


def _labels(img: np.ndarray, points, centres: list, dot: int, highlight) -> None:
    """Each point's code beside it, where it covers no other label or point (greedy, on a
    coarse grid): white text with a dark edge, readable on any skin."""
    import cv2

    h, w = img.shape[:2]
    scale = round(max(0.35, min(h, w) / 1300), 2)
    thick = max(1, round(scale * 2.2))
    grid = _Grid(h)
    for x, y in centres:  # the points themselves are taken
        if dot <= x < w - dot and dot <= y < h - dot:
            grid.take(x - dot, y - dot, x + dot, y + dot)
    mid_x = sum(c[0] for c in centres) / len(centres) if centres else w / 2
    for p, (x, y) in sorted(zip(points, centres), key=lambda pc: pc[0].code not in highlight):
        sprite, mask = _sprite(p.code, scale, thick)
        sh, sw = mask.shape
        for left, top in _candidates(x, y, sw, sh, dot + 2, x >= mid_x):  # away from the face's middle first
            inside = left >= 0 and top >= 0 and left + sw <= w and top + sh <= h
            if inside and grid.free(left, top, left + sw - 1, top + sh - 1):
                grid.take(left, top, left + sw - 1, top + sh - 1)
                cv2.copyTo(sprite, mask, img[top:top + sh, left:left + sw])  # in place: a view of img
                break
