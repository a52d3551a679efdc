"""Frame sources for the live loop: a camera read by a background thread, or a video file.

Neither ever falls behind: a camera's reader thread keeps only the newest frame,
so a slow loop skips frames instead of queueing them (`dropped` counts the skipped
ones); a video file played in real time is paced by its own clock the same way.
Frames are never mirrored here; only the preview is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: A camera that delivers no frame for this long counts as unplugged.
CAMERA_LOST_AFTER_S = 2.0
#: Indices probed when the camera cannot be opened.
PROBE_INDICES = range(6)


class CameraError(RuntimeError):
    """No usable camera; the message lists the indices that work."""


@dataclass
class Frame:
    """One frame from a source."""

    bgr: np.ndarray  # as the source delivered it: never mirrored
    timestamp_ms: float  # source clock, increasing
    index: int  # frame number at the source
    rgb: np.ndarray  # the same pixels in RGB, for the landmarker (made where the frame is read)


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
        symmetry.capture.video.VideoError: the file cannot be decoded.
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
