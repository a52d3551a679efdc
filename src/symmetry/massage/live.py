"""The guided self-massage shell: frames in, the current point drawn on the mirrored face, keys out.

All decisions live in `session.MassageSession`; this module moves frames and pixels:

    source.read() -> landmarker.detect_for_video -> smoothed landmarks -> acupoints -> overlay -> imshow

The preview is mirrored (the person sees themselves as in a mirror), and the words say "your
left"/"your right", which is the patient's own side wherever the picture shows it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from symmetry.massage.acupoints import SIGN, AcupointMap, acupoints
from symmetry.massage.areas import kneading_areas
from symmetry.massage.draw import DARK, SIDE_RGB, draw_areas, draw_points
from symmetry.massage.sequence import TECHNIQUES
from symmetry.massage.session import MassageSession, Task
from symmetry.massage.table import BY_CODE, MIDLINE

WINDOW = "symmetry massage"
PANEL_RGB = (28, 28, 28)
WHITE, GREY, YELLOW = (255, 255, 255), (200, 200, 200), (240, 228, 66)
#: Landmarks are smoothed over frames (exponential, this weight on the new frame) so that the
#: points hold still; a jump larger than `RESET_IPD` inter-pupil distances starts afresh.
SMOOTHING, RESET_IPD = 0.45, 0.3
#: The last face is shown for this long after it is lost (hands cover the face while massaging).
HOLD_FACE_S = 1.5
#: Stroke directions in the face frame (x towards the patient's left, y down), for the weak
#: side's sign; "circles" is drawn as a turning arrow.
DIRECTION_VECTORS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "outward": (1.0, 0.0), "inward": (-1.0, 0.0),
                     "up-outward": (0.7071, -0.7071)}
KEY_CODES = {ord(" "): " ", ord("n"): "n", ord("N"): "n", ord("s"): "s", ord("S"): "s", ord("q"): "q",
             ord("Q"): "q", 27: "q"}


@dataclass
class LoopStats:
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0

    @property
    def face_share(self) -> float:
        return self.faces / self.frames if self.frames else math.nan


class FaceTracker:
    """Smoothed landmarks of the largest face, held for a moment when the face is lost."""

    def __init__(self):
        self.points: np.ndarray | None = None
        self.seen_at = -math.inf

    def update(self, faces, t: float) -> np.ndarray | None:
        if faces:
            new = faces[0].points
            ipd = float(np.linalg.norm(new[473] - new[468]))
            jump = np.inf if self.points is None else float(np.median(np.linalg.norm(new - self.points, axis=1)))
            self.points = new if jump > RESET_IPD * ipd else SMOOTHING * new + (1 - SMOOTHING) * self.points
            self.seen_at = t
        elif t - self.seen_at > HOLD_FACE_S:
            self.points = None
        return self.points


def _text(img, text, org, scale, colour, thick=1):
    import cv2

    cv2.putText(img, text, (int(org[0]), int(org[1])), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)


def _fit(text: str, scale: float, thick: int, width: int) -> str:
    """`text` cut (with "...") to fit `width` pixels."""
    import cv2

    if cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0][0] <= width:
        return text
    while text and cv2.getTextSize(text + "...", cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0][0] > width:
        text = text[:-1]
    return text + "..."


def side_words(task: Task) -> str:
    sides = [s for s in task.sides if s != MIDLINE]
    if not sides:
        return "in the middle" if task.sides else ""
    return "both sides" if len(sides) == 2 else f"your {sides[0]} side"


def task_lines(task: Task) -> tuple[str, str]:
    """The two lines that say what to do now."""
    s = task.step
    spec = BY_CODE.get(s.point)
    where = f" ({spec.find})" if spec is not None and spec.kind == "hidden" else ""
    head = f"{s.title}: {side_words(task)}{where}"
    how = s.note or TECHNIQUES[s.technique]
    return head, f"{s.technique}{', ' + s.direction if s.direction else ''}: {how}"


class GuideOverlay:
    """Draws one preview frame: the mirrored face, the current step's point(s) or area, the
    stroke direction, and the banners (what to do, the countdown, the next step, the keys).
    Banners are rendered once per distinct content and copied in."""

    def __init__(self, mirror: bool = True, weak_side: str = "right"):
        self.mirror, self.weak_side = mirror, weak_side
        self._panels: dict = {}

    def draw(self, rgb: np.ndarray, points: np.ndarray | None, session: MassageSession) -> np.ndarray:
        """The preview (RGB) of one frame; `rgb` is not modified."""
        import cv2

        img = cv2.flip(rgb, 1) if self.mirror else rgb.copy()
        h, w = img.shape[:2]
        u = w / 640.0
        task = session.current
        if points is not None and task is not None:
            self._draw_task(img, points, task, session, u)
        top, bottom = int(66 * u), h - int(44 * u)
        img[:top] = self._panel(("top", w, top, session.index, math.ceil(session.seconds_left), session.paused,
                                 round(session.fraction * 40)), (top, w), lambda p: self._top(p, session, u))
        img[bottom:] = self._panel(("bottom", w, h - bottom, session.index, points is None), (h - bottom, w),
                                   lambda p: self._bottom(p, session, points is None, u))
        return img

    def _panel(self, key, shape, render) -> np.ndarray:
        panel = self._panels.get(key)
        if panel is None:
            if len(self._panels) > 64:
                self._panels.clear()
            panel = np.full(shape + (3,), PANEL_RGB, np.uint8)
            render(panel)
            self._panels[key] = panel
        return panel

    def _draw_task(self, img: np.ndarray, points: np.ndarray, task: Task, session: MassageSession, u: float) -> None:
        w = img.shape[1]
        flip = w if self.mirror else None
        s = task.step
        if s.area:
            areas = [a for a in kneading_areas(points, None) if a.name == s.area and a.side in task.sides]
            draw_areas(img, tuple(replace(a, emphasised=True) for a in areas), flip_width=flip)
            return
        spec = BY_CODE[s.point]
        if spec.kind == "hidden":
            return
        amap = acupoints(points)
        chosen = tuple(p for p in amap.points if p.code == s.point and p.side in task.sides)
        mine = replace(amap, points=chosen)
        px = self._px(mine.px(), w)
        draw_points(img, mine, px, labels=False, highlight=(s.point,))
        for p, (x, y) in zip(chosen, px):
            self._arrow(img, amap, p, (x, y), s.direction, u)
            _text(img, s.point, (x + 12 * u, y - 10 * u), 0.55 * u, DARK, max(1, round(3 * u)))
            _text(img, s.point, (x + 12 * u, y - 10 * u), 0.55 * u, WHITE, max(1, round(1.4 * u)))

    def _px(self, px: np.ndarray, w: int) -> np.ndarray:
        return np.column_stack([w - 1 - px[:, 0], px[:, 1]]) if self.mirror else px

    def _arrow(self, img, amap: AcupointMap, p, at, direction: str, u: float) -> None:
        import cv2

        colour = SIDE_RGB[p.side]
        thick = max(3, round(3 * u))
        if direction == "circles":
            r = int(0.35 * amap.cun_mm / amap.frame.mm_per_px)
            centre = (int(at[0]), int(at[1]))
            cv2.ellipse(img, centre, (r, r), 0, 200, 480, colour, thick, cv2.LINE_AA)
            tip = (centre[0] + int(r * math.cos(math.radians(480))), centre[1] + int(r * math.sin(math.radians(480))))
            cv2.arrowedLine(img, (tip[0] - int(4 * u), tip[1] + int(6 * u)), tip, colour, thick, cv2.LINE_AA, 0, 0.9)
            return
        vector = DIRECTION_VECTORS.get(direction)
        if vector is None:
            return
        side = p.side if p.side != MIDLINE else self.weak_side
        d_mm = np.array([vector[0] * SIGN[side], vector[1]]) * amap.cun_mm
        start_mm = np.array([p.x_mm, p.y_mm])
        ends = self._px(amap.frame.to_px(np.stack([start_mm + 0.35 * d_mm, start_mm + 1.3 * d_mm])), img.shape[1])
        a, b = np.round(ends).astype(int).tolist()
        cv2.arrowedLine(img, tuple(a), tuple(b), DARK, thick + 2, cv2.LINE_AA, 0, 0.3)  # an edge on light skin
        cv2.arrowedLine(img, tuple(a), tuple(b), colour, thick, cv2.LINE_AA, 0, 0.3)

    def _top(self, panel: np.ndarray, session: MassageSession, u: float) -> None:
        import cv2

        w = panel.shape[1]
        task = session.current
        lw = max(1, round(u))
        if task is None:
            _text(panel, "Done", (10 * u, 30 * u), 0.7 * u, WHITE, 2 * lw)
            return
        head, how = task_lines(task)
        count = f"{math.ceil(session.seconds_left)}"
        _text(panel, f"{session.index + 1}/{len(session.tasks)}", (10 * u, 24 * u), 0.55 * u, YELLOW, lw)
        _text(panel, _fit(head, 0.6 * u, 2 * lw, int(w - 130 * u)), (62 * u, 24 * u), 0.6 * u, WHITE, 2 * lw)
        _text(panel, _fit(how, 0.46 * u, lw, int(w - 90 * u)), (10 * u, 48 * u), 0.46 * u, GREY, lw)
        _text(panel, "paused" if session.paused else count, (w - (100 if session.paused else 60) * u, 44 * u),
              0.8 * u if session.paused else 1.3 * u, YELLOW, 3 * lw)
        bar = int((w - 20 * u) * session.fraction)
        bottom = panel.shape[0]
        cv2.rectangle(panel, (int(10 * u), bottom - int(7 * u)), (int(10 * u) + bar, bottom - int(3 * u)), YELLOW, -1)

    def _bottom(self, panel: np.ndarray, session: MassageSession, no_face: bool, u: float) -> None:
        w, h = panel.shape[1], panel.shape[0]
        lw = max(1, round(u))
        nxt = session.next
        line = f"next: {nxt.title}, {side_words(nxt)}, {nxt.step.seconds:g} s" if nxt else "next: the end"
        if no_face:
            line = "face not in view: look at the camera (the timer runs on)"
        _text(panel, _fit(line, 0.48 * u, lw, int(w - 20 * u)), (10 * u, 18 * u), 0.48 * u,
              (255, 170, 0) if no_face else WHITE, lw)
        _text(panel, "space pause   n skip   q quit", (10 * u, h - 9 * u), 0.42 * u, GREY, lw)


# ------------------------------------------------------------------ the loop
def run_loop(session: MassageSession, source, landmarker, *, window: str | None = WINDOW, mirror: bool = True,
             weak_side: str = "right", on_step=None, stop=None) -> LoopStats:
    """Guide `session` on `source` until it ends, the source ends, or the person quits.

    Args:
        session: the state machine; it is stopped with the reason when the loop ends early.
        source: a `capture.live` CameraSource or FileSource (read() -> frame | None).
        landmarker: a VIDEO-mode `Landmarker` for this stream only.
        window: OpenCV window to show the preview in; None: headless (no drawing).
        mirror: mirror the preview.
        on_step: called with the session whenever a new step starts (and at the start).
        stop: a `threading.Event`; once set, the loop ends after the frame under way (Ctrl-C).
    """
    import cv2

    from symmetry.capture.live import window_closed

    stats, tracker = LoopStats(), FaceTracker()
    overlay = GuideOverlay(mirror, weak_side)
    if window is not None:  # keys pressed while the model loaded (a second "start") must not pause it
        for _ in range(5):
            cv2.waitKey(1)
    t_start, shown = time.perf_counter(), -1
    try:
        while not session.finished and not (stop is not None and stop.is_set()):
            if on_step is not None and session.index != shown:
                shown = session.index
                on_step(session)
            frame = source.read()
            if frame is None:
                session.stop(source.end_reason)
                break
            t = frame.timestamp_ms / 1000.0
            faces = landmarker.detect_for_video(frame.rgb, round(frame.timestamp_ms))
            stats.frames += 1
            stats.faces += bool(faces)
            points = tracker.update(faces, t)
            session.update(t)
            if window is None:
                continue
            cv2.imshow(window, cv2.cvtColor(overlay.draw(frame.rgb, points, session), cv2.COLOR_RGB2BGR))
            code = cv2.waitKey(1)
            if code != -1 and (code & 0xFF) in KEY_CODES:
                session.key(KEY_CODES[code & 0xFF])
            elif window_closed(window):
                session.stop("window closed")
    finally:
        stats.seconds = time.perf_counter() - t_start
    return stats


def screen(lines: list[str], size: tuple[int, int] = (640, 480), title: str = "") -> np.ndarray:
    """A plain text screen (BGR), for the start and the end of a session."""
    w, h = size
    img = np.full((h, w, 3), PANEL_RGB, np.uint8)
    u = w / 640.0
    lw = max(1, round(u))
    y = 40 * u
    if title:
        _text(img, _fit(title, 0.7 * u, 2 * lw, int(w - 30 * u)), (16 * u, y), 0.7 * u, YELLOW[::-1], 2 * lw)
        y += 36 * u
    for line in lines:
        _text(img, _fit(line, 0.5 * u, lw, int(w - 30 * u)), (16 * u, y), 0.5 * u, WHITE, lw)
        y += 24 * u
    return img


def ask(window: str, image: np.ndarray, keys: str | None, timeout_s: float) -> str | None:
    """Show `image` until one of `keys` (None: any key) is pressed (returned, lower case), the
    window is closed or `timeout_s` passes (None)."""
    import cv2

    from symmetry.capture.live import window_closed

    cv2.imshow(window, image)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        code = cv2.waitKey(50)
        if code != -1:
            key = chr(code & 0xFF).lower() if (code & 0xFF) != 27 else "q"
            if keys is None or key in keys:
                return key
        elif window_closed(window):
            return None
    return None
