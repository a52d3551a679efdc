"""The live capture shell: camera or video source, the VIDEO-mode landmarker, the overlay, the window.

All decisions live in `symmetry.capture.CaptureProtocol`; this module only
moves frames and pixels:

    source.read() -> landmarker.detect_for_video -> capture.observe -> protocol.update -> draw_live -> imshow

It never falls behind the camera: a reader thread keeps only the newest
camera frame, so a slow frame makes the loop skip frames instead of queueing
them (the preview stays live, `LoopStats.dropped` counts the skipped ones).
A video file played in a window is paced by its own clock the same way.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symmetry.capture.protocol import CaptureProtocol, FrameObservation, JitterTracker, Prompt, observe
from symmetry.face.measures import BROW_LEFT, BROW_RIGHT, EYE_LID_PAIRS_LEFT, EYE_LID_PAIRS_RIGHT, MOUTH_CORNER_LEFT, MOUTH_CORNER_RIGHT

# Okabe-Ito colours as in symmetry.overlay, in OpenCV's BGR order.
RIGHT_BGR = (0, 159, 230)  # orange: patient's right
LEFT_BGR = (233, 180, 86)  # sky blue: patient's left
FRAME_BGR = (66, 228, 240)  # yellow: pupil line and midline
MESH_BGR = (200, 200, 200)
GOOD_BGR = (120, 220, 0)
WARN_BGR = (0, 170, 255)
WHITE = (255, 255, 255)
WINDOW = "symmetry capture"
#: A camera that delivers no frame for this long counts as unplugged.
CAMERA_LOST_AFTER_S = 2.0
#: Indices probed when the camera cannot be opened.
PROBE_INDICES = range(6)


class CameraError(RuntimeError):
    """No usable camera; the message lists the indices that work."""


@dataclass
class Frame:
    bgr: np.ndarray  # as the source delivered it: never mirrored
    timestamp_ms: float  # source clock, increasing
    index: int  # frame number at the source
    rgb: np.ndarray  # the same pixels in RGB, for the landmarker (made where the frame is read)


@dataclass
class LoopStats:
    """How the loop kept up. fps = processed frames per second of wall time."""

    processed: int = 0
    dropped: int = 0
    seconds: float = 0.0
    stop_reason: str = ""
    stage_ms: dict = field(default_factory=dict)  # mean ms per frame in each stage

    @property
    def fps(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else math.nan


# --------------------------------------------------------------- sources
def probe_cameras(indices=PROBE_INDICES) -> list[int]:
    """Camera indices that open and deliver a frame."""
    import cv2

    working = []
    for i in indices:
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened() and cap.read()[0]:
                working.append(i)
        finally:
            cap.release()
    return working


class CameraSource:
    """A camera (index, or a device path/stream URL) read by a background thread that
    keeps only the newest frame, so the loop never works through a backlog.

    Raises:
        CameraError: the camera cannot be opened (the message lists working indices).
    """

    end_reason = "camera disconnected"

    def __init__(self, index: int | str = 0, width: int | None = 1280, height: int | None = 720,
                 lost_after_s: float = CAMERA_LOST_AFTER_S):
        import cv2

        self.lost_after_s = lost_after_s
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened() or not self._cap.read()[0]:
            self._cap.release()
            working = [i for i in probe_cameras() if i != index]
            hint = (f"cameras that work: {', '.join(map(str, working))} (use --source N)" if working
                    else "no camera found at indices 0-5: plug one in, close other programs using it, "
                         "or give a video file with --source FILE")
            raise CameraError(f"camera {index} could not be opened; {hint}")
        if width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.index = index
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 30.0)
        self._lock = threading.Condition()
        self._latest: Frame | None = None
        self._count = 0
        self._taken = 0
        self.dropped = 0
        self.lost = False
        self._running = True
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._reader, name="camera-reader", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        import cv2

        last_ok = time.monotonic()
        while self._running:
            ok, bgr = self._cap.read()
            now = time.monotonic()
            if ok:
                last_ok = now
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                with self._lock:
                    self._latest = Frame(bgr, (now - self._t0) * 1000.0, self._count, rgb)
                    self._count += 1
                    self._lock.notify_all()
            elif now - last_ok > self.lost_after_s:
                with self._lock:
                    self.lost = True
                    self._lock.notify_all()
                return
            else:
                time.sleep(0.01)

    def read(self, timeout_s: float | None = None) -> Frame | None:
        """The newest frame not returned before; None once the camera is gone."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.lost_after_s + 1.0)
        with self._lock:
            while not self.lost and (self._latest is None or self._latest.index < self._taken):
                left = deadline - time.monotonic()
                if left <= 0:
                    self.lost = True
                    break
                self._lock.wait(left)
            if self._latest is None or self._latest.index < self._taken:
                return None
            frame = self._latest
        self.dropped += frame.index - self._taken
        self._taken = frame.index + 1
        return frame

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2.0)
        self._cap.release()

    def describe(self) -> str:
        return f"camera {self.index}"


class FileSource:
    """A video file as a source.

    `realtime=True` plays it at its own frame rate and skips the frames the loop
    has no time for, as with a camera. `realtime=False` delivers every frame,
    decoded ahead by a reader thread (at most `PREFETCH` frames), so decoding
    overlaps the landmarker as a camera's own reader thread does.

    Raises:
        symmetry.video.VideoError: the file cannot be decoded.
    """

    end_reason = "end of video"
    PREFETCH = 4

    def __init__(self, path: str | Path, realtime: bool = True):
        from symmetry.capture.video import open_video, video_fps

        self.path = Path(path)
        self._cap = open_video(path)
        self.fps = video_fps(self._cap)
        self.realtime = realtime
        self._next = 0
        self._t0: float | None = None
        self.dropped = 0
        self._queue = None
        self._stop = threading.Event()
        if not realtime:
            import queue

            self._queue = queue.Queue(maxsize=self.PREFETCH)
            self._thread = threading.Thread(target=self._reader, name="video-reader", daemon=True)
            self._thread.start()

    def _reader(self) -> None:
        import queue

        import cv2

        index = 0
        while not self._stop.is_set():
            ok, bgr = self._cap.read()
            item = Frame(bgr, index * 1000.0 / self.fps, index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if ok else None
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is None:
                return
            index += 1

    def read(self) -> Frame | None:
        import cv2

        if self._queue is not None:
            return self._queue.get()
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        due = int((now - self._t0) * self.fps)
        while self._next < due:  # late: skip without decoding the pixels
            if not self._cap.grab():
                return None
            self._next += 1
            self.dropped += 1
        wait = self._t0 + self._next / self.fps - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ok, bgr = self._cap.read()
        if not ok:
            return None
        frame = Frame(bgr, self._next * 1000.0 / self.fps, self._next, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        self._next += 1
        return frame

    def close(self) -> None:
        self._stop.set()
        if self._queue is not None:
            self._thread.join(timeout=2.0)
        self._cap.release()

    def describe(self) -> str:
        return str(self.path)


# --------------------------------------------------------------- overlay
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
    Only the face markings are drawn fresh on every frame.
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
            panel = np.full((height, width, 3), 28, np.uint8)
            render(panel)
            self._panels[key] = panel
        return panel

    def draw(self, bgr: np.ndarray, obs: FrameObservation | None, prompt: Prompt | None) -> np.ndarray:
        """The preview of one frame; `bgr` is not modified (saved frames stay unmirrored)."""
        import cv2

        mirror = self.mirror
        if self._canvas is None or self._canvas.shape != bgr.shape:
            self._canvas = np.empty_like(bgr)
        # The canvas is reused frame after frame (imshow copies it); callers who keep
        # a preview must copy it.
        img = cv2.flip(bgr, 1, dst=self._canvas) if mirror else np.copyto(self._canvas, bgr) or self._canvas
        h, w = img.shape[:2]
        u = w / 640.0  # drawing unit: fonts and lines scale with the frame
        lw = max(1, round(u))
        m = obs.measurement if obs is not None else None
        face = m.face if m is not None else None
        frame = m.frame if m is not None else None
        top, bottom = int(62 * u), h - int(58 * u)

        def flip(p: np.ndarray) -> np.ndarray:
            p = np.asarray(p, dtype=float)
            return np.column_stack([w - 1 - p[:, 0], p[:, 1]]) if mirror else p

        if face is not None:
            ip = np.round(flip(face.points)).astype(np.int32)
            inside = (ip[:, 0] >= 0) & (ip[:, 0] < w) & (ip[:, 1] >= 0) & (ip[:, 1] < h)
            img[ip[inside, 1], ip[inside, 0]] = MESH_BGR  # 478 single pixels: far cheaper than circles
            pts = ip.tolist()  # plain ints for OpenCV, converted once
            marks = None
            if frame is not None:
                marks = np.round(flip(frame.to_px(np.array(
                    [[-70.0, 0.0], [70.0, 0.0], [0.0, -50.0], [0.0, 90.0], [-58.0, -8.0], [58.0, -8.0]]
                )))).astype(int).tolist()
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
        if prompt is not None:
            img[:top] = self._panel(("top", w, top, prompt.step, prompt.steps, prompt.expression, prompt.phase,
                                     math.ceil(prompt.seconds_left) if prompt.phase == "countdown" else 0,
                                     prompt.frames_taken, prompt.frames_wanted), top, w,
                                    lambda p: self._render_top(p, prompt, u, lw))
            colour = GOOD_BGR if prompt.good_frame else (WARN_BGR if prompt.guidance else WHITE)
            img[bottom:] = self._panel(("bottom", w, h - bottom, prompt.guidance, prompt.message, colour), h - bottom, w,
                                       lambda p: self._render_bottom(p, prompt, colour, u, lw))
        # Live numbers of this frame (iris scale until rest is captured), refreshed a few times a second.
        if m is not None and face is not None and math.isfinite(m.symmetry_index):
            now = obs.timestamp_ms
            shown_at, panel = self._numbers
            if panel is None or not (0 <= now - shown_at < self.numbers_period_ms) or panel.shape[1] != int(190 * u):
                panel = np.full((int(100 * u), int(190 * u), 3), 28, np.uint8)
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
            ph, pw = panel.shape[:2]
            if top + ph <= bottom:
                img[top:top + ph, :pw] = panel
        return img

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


def draw_live(bgr: np.ndarray, obs: FrameObservation | None, prompt: Prompt | None, mirror: bool = True) -> np.ndarray:
    """The preview of one frame: the frame (mirrored for the person), landmarks, pupil line
    and midline, live numbers, and the protocol's instruction, countdown and guidance.

    Side labels sit on the patient's own right and left, which a mirrored
    preview shows on the screen's right and left. For a stream, keep one
    `LiveOverlay` instead: it reuses the rendered panels.
    """
    return LiveOverlay(mirror).draw(bgr, obs, prompt).copy()


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


# --------------------------------------------------------------- the loop
KEYS = {ord(" "): " ", ord("r"): "r", ord("R"): "r", ord("s"): "s", ord("S"): "s", ord("q"): "q", ord("Q"): "q", 27: "q"}


def open_window(name: str = WINDOW, size: tuple[int, int] = (640, 480), message: str = "Starting: loading the face model...") -> None:
    """Open the capture window with a splash, so the person sees something while the model loads."""
    import cv2

    cv2.namedWindow(name, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    w, h = size
    splash = np.full((h, w, 3), 28, np.uint8)
    u = w / 640.0
    _text(splash, message, (int(20 * u), h // 2), 0.6 * u, WHITE, max(1, round(u)))
    cv2.imshow(name, splash)
    cv2.waitKey(1)


def close_window() -> None:
    """Close every OpenCV window and let the GUI thread process it."""
    import cv2

    cv2.destroyAllWindows()
    for _ in range(5):
        cv2.waitKey(1)


def window_closed(name: str = WINDOW) -> bool:
    import cv2

    try:
        return cv2.getWindowProperty(name, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:
        return True


def run_loop(
    source,
    protocol: CaptureProtocol,
    landmarker,
    *,
    window: str | None = WINDOW,
    mirror: bool = True,
    max_frames: int | None = None,
    time_stages: bool = False,
) -> LoopStats:
    """Run the protocol on `source` until it finishes, the source ends, or the user quits.

    Args:
        source: CameraSource or FileSource (anything with read() -> Frame | None).
        protocol: the CaptureProtocol to drive.
        landmarker: a VIDEO-mode `Landmarker` for this stream only.
        window: OpenCV window name; None runs headless (overlay drawn, not shown).
        mirror: mirror the preview (saved frames never are).
        max_frames: stop after this many frames (benchmarks).
        time_stages: record mean ms per stage in `LoopStats.stage_ms`.
    """
    import queue

    import cv2

    stats = LoopStats()
    jitter = JitterTracker()
    overlay = LiveOverlay(mirror)
    stages = {"read": 0.0, "landmarks": 0.0, "measure": 0.0, "overlay": 0.0, "display": 0.0}
    # The landmarker runs on its own thread, one frame ahead: while it finds frame N+1's
    # landmarks (native code, no GIL), this thread measures, draws and shows frame N.
    # Only that thread touches the landmarker, so its timestamps stay in order.
    detected: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> None:
        while not stop.is_set():
            try:
                detected.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def detect_frames() -> None:
        count = 0
        try:
            while not stop.is_set():
                if max_frames is not None and count >= max_frames:
                    hand_over(("limit", None))
                    return
                t0 = time.perf_counter()
                frame = source.read()
                if frame is None:
                    hand_over(("end", None))
                    return
                t1 = time.perf_counter()
                faces = landmarker.detect_for_video(frame.rgb, int(round(frame.timestamp_ms)))
                hand_over(("frame", (frame, faces, t1 - t0, time.perf_counter() - t1)))
                count += 1
        except BaseException as exc:  # handed to the caller's thread, which raises it
            hand_over(("error", exc))

    detector = threading.Thread(target=detect_frames, name="landmarks", daemon=True)
    t_start = time.perf_counter()
    detector.start()
    try:
        while not protocol.finished:
            kind, item = detected.get()
            if kind == "limit":
                protocol.stop("frame limit reached")
                break
            if kind == "end":
                protocol.stop(source.end_reason)
                break
            if kind == "error":
                raise item
            frame, faces, dt_read, dt_landmarks = item
            t2 = time.perf_counter()
            cal = protocol.rest.interpupil_mm if protocol.rest is not None else None
            obs = observe(faces, frame.rgb, frame.index, frame.timestamp_ms, jitter, cal if cal and math.isfinite(cal) else None)
            prompt = protocol.update(obs, frame.bgr)
            t3 = time.perf_counter()
            canvas = overlay.draw(frame.bgr, obs, prompt)
            t4 = time.perf_counter()
            if window is not None:
                cv2.imshow(window, canvas)
                code = cv2.waitKey(1)
                if code != -1 and (code & 0xFF) in KEYS:
                    protocol.key(KEYS[code & 0xFF])
                elif window_closed(window):
                    protocol.stop("window closed")
            t5 = time.perf_counter()
            stats.processed += 1
            if time_stages:
                for name, dt in zip(stages, (dt_read, dt_landmarks, t3 - t2, t4 - t3, t5 - t4)):
                    stages[name] += dt
    finally:
        stop.set()
        detector.join(timeout=5.0)
    stats.seconds = time.perf_counter() - t_start
    stats.dropped = getattr(source, "dropped", 0)
    stats.stop_reason = protocol.stop_reason
    if time_stages and stats.processed:
        stats.stage_ms = {k: 1000.0 * v / stats.processed for k, v in stages.items()}
    return stats


def show_until_key(image: np.ndarray, window: str = WINDOW, timeout_s: float | None = None) -> None:
    """Show `image` until a key is pressed, the window is closed, or `timeout_s` passes."""
    import cv2

    cv2.imshow(window, image)
    t0 = time.monotonic()
    while True:
        if cv2.waitKey(50) != -1 or window_closed(window):
            return
        if timeout_s is not None and time.monotonic() - t0 > timeout_s:
            return
