"""The live capture loop and its window: source, VIDEO-mode landmarker, protocol, preview.

All decisions live in `symmetry.capture.protocol.CaptureProtocol`; this module only
moves frames and pixels:

    source.read() -> landmarker.detect_for_video -> observe -> protocol.update -> LiveOverlay.draw -> imshow

The landmarker runs on its own thread one frame ahead, and the sources
(`symmetry.capture.sources`) never queue a backlog, so the preview stays live on a
slow machine (`LoopStats.dropped` counts the frames skipped).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from symmetry.capture.live_draw import LiveOverlay, splash
from symmetry.capture.observation import observe
from symmetry.capture.protocol import CaptureProtocol
from symmetry.capture.quality import JitterTracker

WINDOW = "symmetry capture"
KEYS = {ord(" "): " ", ord("r"): "r", ord("R"): "r", ord("s"): "s", ord("S"): "s", ord("q"): "q", ord("Q"): "q", 27: "q"}
#: The loop's stages, in the order `LoopStats.stage_ms` reports them.
STAGES = ("read", "landmarks", "measure", "overlay", "display")


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


# --------------------------------------------------------------- the window
def open_window(name: str = WINDOW, size: tuple[int, int] = (640, 480), message: str = "Starting: loading the face model...") -> None:
    """Open the capture window with a splash, so the person sees something while the model loads."""
    import cv2

    cv2.namedWindow(name, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    cv2.imshow(name, splash(size, message))
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


# --------------------------------------------------------------- the loop
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
    stats = LoopStats()
    jitter = JitterTracker()
    overlay = LiveOverlay(mirror)
    stages = dict.fromkeys(STAGES, 0.0)
    stop = threading.Event()
    t_start = time.perf_counter()
    detected, detector = _start_detector(source, landmarker, max_frames, stop)
    try:
        while not protocol.finished:
            kind, item = detected.get()
            if kind == "error":
                raise item
            if kind != "frame":
                protocol.stop("frame limit reached" if kind == "limit" else source.end_reason)
                break
            frame, faces, dt_read, dt_landmarks = item
            timings = _show_frame(frame, faces, protocol, jitter, overlay, window)
            stats.processed += 1
            if time_stages:
                for name, dt in zip(STAGES, (dt_read, dt_landmarks, *timings)):
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


def _start_detector(source, landmarker, max_frames: int | None, stop: threading.Event):
    """Start the landmarks thread; returns (queue of (kind, item), thread).

    The landmarker runs on its own thread, one frame ahead: while it finds frame N+1's
    landmarks (native code, no GIL), the caller measures, draws and shows frame N.
    Only that thread touches the landmarker, so its timestamps stay in order. Kinds:
    "frame" (frame, faces, read s, landmarks s), "end", "limit", "error" (the exception).
    """
    detected: queue.Queue = queue.Queue(maxsize=1)

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
    detector.start()
    return detected, detector


def _show_frame(frame, faces, protocol: CaptureProtocol, jitter: JitterTracker, overlay: LiveOverlay,
                window: str | None) -> tuple[float, float, float]:
    """Measure one frame, advance the protocol, draw and show it, handle a key.
    Returns the seconds spent measuring, drawing and displaying."""
    import cv2

    t0 = time.perf_counter()
    cal = protocol.rest.interpupil_mm if protocol.rest is not None else None
    obs = observe(faces, frame.rgb, frame.index, frame.timestamp_ms, jitter, cal if cal and math.isfinite(cal) else None)
    prompt = protocol.update(obs, frame.bgr)
    t1 = time.perf_counter()
    canvas = overlay.draw(frame.bgr, obs, prompt)
    t2 = time.perf_counter()
    if window is not None:
        cv2.imshow(window, canvas)
        code = cv2.waitKey(1)
        if code != -1 and (code & 0xFF) in KEYS:
            protocol.key(KEYS[code & 0xFF])
        elif window_closed(window):
            protocol.stop("window closed")
    return t1 - t0, t2 - t1, time.perf_counter() - t2
