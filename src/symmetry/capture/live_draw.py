"""The live preview drawn on a camera frame (BGR arrays in, BGR arrays out), and the end screen.

The preview shows the frame (mirrored for the person), the landmarks, the pupil
line and midline, the patient's own R and L, live numbers, and the protocol's
instruction, countdown and guidance. It is drawn here rather than in
`symmetry.render` because the live loop draws every frame and capture never
imports render.
"""

from __future__ import annotations

import math

import numpy as np

from symmetry.capture.observation import FrameObservation
from symmetry.capture.protocol import Prompt
from symmetry.face.measures import (
    BROW_LEFT,
    BROW_RIGHT,
    EYE_LID_PAIRS_LEFT,
    EYE_LID_PAIRS_RIGHT,
    MOUTH_CORNER_LEFT,
    MOUTH_CORNER_RIGHT,
)
from symmetry.vocabulary import FRAME_COLOUR, LEFT_COLOUR, RIGHT_COLOUR, bgr

# The overlay's colours in OpenCV's BGR order (the sides and the frame as in every picture).
RIGHT_BGR = bgr(RIGHT_COLOUR)  # patient's right
LEFT_BGR = bgr(LEFT_COLOUR)  # patient's left
FRAME_BGR = bgr(FRAME_COLOUR)  # pupil line and midline
MESH_BGR = (200, 200, 200)
GOOD_BGR = (120, 220, 0)
WARN_BGR = (0, 170, 255)
WHITE = (255, 255, 255)
PANEL_GREY = 28
#: Face-frame points (mm) of the pupil line's and midline's ends, and where R and L are written.
FRAME_MARKS_MM = ((-70.0, 0.0), (70.0, 0.0), (0.0, -50.0), (0.0, 90.0), (-58.0, -8.0), (58.0, -8.0))


def _text(img, text, org, scale, colour, thick=1):
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)


def _shade(img, y0, y1, x0=0, x1=None):
    """Halve the brightness of img[y0:y1, x0:x1] in place: a translucent panel behind text.

    OpenCV 5 draws thicker text in a bolder font, so an outline pass would not
    line up with the text; a dark panel keeps labels legible instead. A bit
    shift is the cheapest way to darken (no float conversion).
    """
    h, w = img.shape[:2]
    y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, w if x1 is None else x1)
    if y1 > y0 and x1 > x0:
        band = img[y0:y1, x0:x1]
        np.right_shift(band, 1, out=band)


class LiveOverlay:
    """Draws the preview cheaply, at the frame's own size (no upscaling).

    The banners (instruction, countdown, guidance, keys) are opaque panels,
    rendered once per distinct content and copied in; the live numbers are
    refreshed `numbers_hz` times a second, which also keeps them readable.
    Only the face markings are drawn fresh on every frame. Side labels sit on the
    patient's own right and left, which a mirrored preview shows on the screen's
    right and left.
    """

    def __init__(self, mirror: bool = True, numbers_hz: float = 4.0, max_cached: int = 64):
        self.mirror = mirror
        self.numbers_period_ms = 1000.0 / numbers_hz
        self._panels: dict = {}
        self._max_cached = max_cached
        self._numbers: tuple[float, np.ndarray | None] = (-math.inf, None)
        self._canvas: np.ndarray | None = None

    def _panel(self, key, height: int, width: int, render) -> np.ndarray:
        panel = self._panels.get(key)
        if panel is None:
            if len(self._panels) >= self._max_cached:
                self._panels.clear()
            panel = np.full((height, width, 3), PANEL_GREY, np.uint8)
            render(panel)
            self._panels[key] = panel
        return panel

    def draw(self, bgr: np.ndarray, obs: FrameObservation | None, prompt: Prompt | None) -> np.ndarray:
        """The preview of one frame; `bgr` is not modified (saved frames stay unmirrored)."""
        img = self._canvas_for(bgr)
        h, w = img.shape[:2]
        u = w / 640.0  # drawing unit: fonts and lines scale with the frame
        lw = max(1, round(u))
        m = obs.measurement if obs is not None else None
        top, bottom = int(62 * u), h - int(58 * u)
        if m is not None and m.face is not None:
            self._draw_face(img, m, u, lw)
        if prompt is not None:
            self._draw_banners(img, prompt, top, bottom, u, lw)
        # Live numbers of this frame (iris scale until rest is captured), refreshed a few times a second.
        if m is not None and m.face is not None and math.isfinite(m.symmetry_index):
            panel = self._numbers_panel(m, obs.timestamp_ms, u, lw)
            ph, pw = panel.shape[:2]
            if top + ph <= bottom:
                img[top:top + ph, :pw] = panel
        return img

    def _canvas_for(self, bgr: np.ndarray) -> np.ndarray:
        """The frame copied (mirrored if asked) into the reused canvas."""
        import cv2

        if self._canvas is None or self._canvas.shape != bgr.shape:
            self._canvas = np.empty_like(bgr)
        # The canvas is reused frame after frame (imshow copies it); callers who keep
        # a preview must copy it.
        if self.mirror:
            return cv2.flip(bgr, 1, dst=self._canvas)
        np.copyto(self._canvas, bgr)
        return self._canvas

    def _flip(self, p: np.ndarray, w: int) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        return np.column_stack([w - 1 - p[:, 0], p[:, 1]]) if self.mirror else p

    def _draw_face(self, img: np.ndarray, m, u: float, lw: int) -> None:
        """Landmarks, the face frame's axes, and each side's mouth corner, brow and lids."""
        import cv2

        h, w = img.shape[:2]
        ip = np.round(self._flip(m.face.points, w)).astype(np.int32)
        inside = (ip[:, 0] >= 0) & (ip[:, 0] < w) & (ip[:, 1] >= 0) & (ip[:, 1] < h)
        img[ip[inside, 1], ip[inside, 0]] = MESH_BGR  # 478 single pixels: far cheaper than circles
        pts = ip.tolist()  # plain ints for OpenCV, converted once
        marks = None
        if m.frame is not None:
            marks = np.round(self._flip(m.frame.to_px(np.array(FRAME_MARKS_MM)), w)).astype(int).tolist()
            cv2.line(img, marks[0], marks[1], FRAME_BGR, 2 * lw, cv2.LINE_8)
            cv2.line(img, marks[2], marks[3], FRAME_BGR, 2 * lw, cv2.LINE_8)
        for side, colour, corner, brow, lids, at in (
            ("R", RIGHT_BGR, MOUTH_CORNER_RIGHT, BROW_RIGHT, EYE_LID_PAIRS_RIGHT, 4),
            ("L", LEFT_BGR, MOUTH_CORNER_LEFT, BROW_LEFT, EYE_LID_PAIRS_LEFT, 5),
        ):
            cv2.circle(img, pts[corner], 4 * lw, colour, -1, cv2.LINE_AA)
            for i in brow:
                cv2.circle(img, pts[i], 2 * lw, colour, -1, cv2.LINE_8)
            for up, lo in lids:
                cv2.line(img, pts[up], pts[lo], colour, lw, cv2.LINE_8)
            if marks is not None:
                # The patient's own side, wherever the (mirrored) picture puts it.
                x, y = marks[at]
                pad, half = int(3 * u), int(9 * u)
                _shade(img, y - half - pad, y + half + pad, x - half - pad, x + half + pad)
                _text(img, side, (x - int(7 * u), y + int(8 * u)), 0.75 * u, colour, 2 * lw)

    def _draw_banners(self, img: np.ndarray, prompt: Prompt, top: int, bottom: int, u: float, lw: int) -> None:
        h, w = img.shape[:2]
        img[:top] = self._panel(("top", w, top, prompt.step, prompt.steps, prompt.expression, prompt.phase,
                                 math.ceil(prompt.seconds_left) if prompt.phase == "countdown" else 0,
                                 prompt.frames_taken, prompt.frames_wanted), top, w,
                                lambda p: self._render_top(p, prompt, u, lw))
        colour = GOOD_BGR if prompt.good_frame else (WARN_BGR if prompt.guidance else WHITE)
        img[bottom:] = self._panel(("bottom", w, h - bottom, prompt.guidance, prompt.message, colour), h - bottom, w,
                                   lambda p: self._render_bottom(p, prompt, colour, u, lw))

    def _numbers_panel(self, m, now: float, u: float, lw: int) -> np.ndarray:
        """The live numbers, re-rendered only every `numbers_period_ms`."""
        shown_at, panel = self._numbers
        if panel is None or not (0 <= now - shown_at < self.numbers_period_ms) or panel.shape[1] != int(190 * u):
            panel = np.full((int(100 * u), int(190 * u), 3), PANEL_GREY, np.uint8)
            rows = (
                f"symmetry {m.symmetry_index:.0f}/100",
                f"mouth droop {m.mouth_droop_mm:+.1f} mm",
                f"brow asym {m.brow_asymmetry_mm:+.1f} mm",
                f"eye R {m.eye_opening_right_mm:.1f} L {m.eye_opening_left_mm:.1f} mm",
                f"yaw {m.yaw_deg:+.0f} pitch {m.pitch_deg:+.0f} deg",
            )
            for i, row in enumerate(rows):
                _text(panel, row, (int(8 * u), int((16 + 18 * i) * u)), 0.45 * u, WHITE, lw)
            self._numbers = (now, panel)
        return panel

    @staticmethod
    def _render_top(panel, prompt: Prompt, u: float, lw: int) -> None:
        import cv2

        w = panel.shape[1]
        title = f"{prompt.step}/{prompt.steps}  {prompt.expression.replace('_', ' ').upper()}"
        _text(panel, title, (int(10 * u), int(24 * u)), 0.7 * u, WHITE, 2 * lw)
        _text(panel, prompt.instruction, (int(10 * u), int(50 * u)), 0.55 * u, WHITE, lw)
        if prompt.phase == "countdown":
            _text(panel, f"{math.ceil(prompt.seconds_left)}", (w - int(50 * u), int(50 * u)), 1.5 * u, FRAME_BGR, 3 * lw)
        elif prompt.phase == "hold":
            for k in range(prompt.frames_wanted):  # one dot per frame to capture
                centre = (w - int((20 + 22 * (prompt.frames_wanted - 1 - k)) * u), int(30 * u))
                done = k < prompt.frames_taken
                cv2.circle(panel, centre, int(8 * u), GOOD_BGR if done else WHITE, -1 if done else lw, cv2.LINE_AA)

    @staticmethod
    def _render_bottom(panel, prompt: Prompt, colour, u: float, lw: int) -> None:
        w, h = panel.shape[1], panel.shape[0]
        _text(panel, prompt.guidance or prompt.message, (int(10 * u), int(22 * u)), 0.55 * u, colour, lw)
        if prompt.guidance and prompt.message:
            _text(panel, prompt.message, (w // 2, int(22 * u)), 0.5 * u, WHITE, lw)
        _text(panel, "space capture   r redo   s skip   q quit", (int(10 * u), h - int(12 * u)), 0.45 * u, (200, 200, 200), lw)


def draw_summary(title: str, lines: list[str], table: list[list[str]], notes: list[str], size: tuple[int, int]) -> np.ndarray:
    """The end screen: what was captured, then the comparison table in fixed columns."""
    w, h = size
    img = np.full((h, w, 3), 30, np.uint8)
    u = w / 640.0
    lw = max(1, round(u))
    _text(img, title, (int(12 * u), int(28 * u)), 0.6 * u, WHITE, 2 * lw)
    y = int(52 * u)
    step = int(19 * u)
    for line in lines:
        _text(img, line, (int(12 * u), y), 0.45 * u, (230, 230, 230), lw)
        y += step
    if table:
        y += step // 2
        first = int(150 * u)
        col = (w - first - int(10 * u)) // max(1, len(table[0]) - 1)
        for r, cells in enumerate(table):
            for c, cell in enumerate(cells):
                x = int(12 * u) if c == 0 else first + (c - 1) * col
                _text(img, cell, (x, y), 0.42 * u, FRAME_BGR if r == 0 else (230, 230, 230), lw)
            y += step
    for note in notes:
        _text(img, note, (int(12 * u), y), 0.4 * u, (190, 190, 190), lw)
        y += step
    _text(img, "press any key to close", (int(12 * u), h - int(14 * u)), 0.45 * u, (180, 180, 180), lw)
    return img


def splash(size: tuple[int, int], message: str) -> np.ndarray:
    """A plain screen with one line of text, shown while the face model loads."""
    w, h = size
    img = np.full((h, w, 3), PANEL_GREY, np.uint8)
    u = w / 640.0
    _text(img, message, (int(20 * u), h // 2), 0.6 * u, WHITE, max(1, round(u)))
    return img
