"""Test videos made from the real sample faces, with a known segment label per frame.

Used by tests/capture/test_video.py, tests/capture/test_capture.py and scripts/bench_live.py.
The sample faces cannot move, so the recording is assembled from:

  rest        the real Grace Hopper portrait (a resting face), upscaled
  smile       the same face with both mouth corners warped 8 mm up (synthetic.warp_feature)
  eyes_closed the same face with both eye openings inpainted and a lash line drawn
  turned      rest or smile frames with the picture plane turned 60 degrees in strong
              perspective (the landmarker reads about +27 / -22 degrees of yaw)
  shaky       rest frames jumping by up to 12 px between frames (fails the stillness gate)
  empty       black frames (no face)

Each frame gets fresh sensor noise, so landmarks jitter a little as in a real video.
There is deliberately no brow raise, tight closure or pucker: those must be "not found".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GRACE_HOPPER = ROOT / "sample_images" / "grace_hopper.jpg"
ASTRONAUT = ROOT / "sample_images" / "astronaut.png"

EYE_RIGHT = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]
EYE_LEFT = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249]
UPPER_LIDS = ([33, 246, 161, 160, 159, 158, 157, 173, 133], [263, 466, 388, 387, 386, 385, 384, 398, 362])
LOWER_LIDS = ([33, 7, 163, 144, 145, 153, 154, 155, 133], [263, 249, 390, 373, 374, 380, 381, 382, 362])

#: (segment label, number of frames), in order. Labels: see the module docstring.
DEFAULT_SCRIPT = (
    ("rest", 24),
    ("shaky", 8),
    ("turned", 10),
    ("empty", 8),
    ("smile_ramp", 4),
    ("smile", 14),
    ("turned_smile", 5),
    ("empty", 4),
    ("eyes_closed", 14),
    ("rest", 8),
)


def face_canvas(size=(640, 480)) -> np.ndarray:
    """Grace Hopper's portrait, upscaled and centred in a BGR frame of `size` (pupils ~120 px apart at 640x480)."""
    import cv2

    w, h = size
    bgr = cv2.imread(str(GRACE_HOPPER))
    k = 1.45 * w / 640
    big = cv2.resize(bgr, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    cx, cy = int(262 * k), int(240 * k)
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = cx - w // 2, cy - h // 2
    src = big[max(0, y0):y0 + h, max(0, x0):x0 + w]
    out[max(0, -y0):max(0, -y0) + src.shape[0], max(0, -x0):max(0, -x0) + src.shape[1]] = src
    return out


def astronaut_canvas(size=(640, 480)) -> np.ndarray:
    """The astronaut portrait (a real smile), upscaled into a BGR frame of `size`."""
    import cv2

    w, h = size
    bgr = cv2.imread(str(ASTRONAUT))
    k = 2.6 * w / 640
    big = cv2.resize(bgr, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    cx, cy = int(225 * k), int(135 * k)
    out = np.zeros((h, w, 3), np.uint8)
    x0, y0 = cx - w // 2, cy - int(h * 0.46)
    src = big[max(0, y0):y0 + h, max(0, x0):x0 + w]
    out[max(0, -y0):max(0, -y0) + src.shape[0], max(0, -x0):max(0, -x0) + src.shape[1]] = src
    return out


def turn(bgr: np.ndarray, degrees: float, distance: float = 0.5) -> np.ndarray:
    """Turn the picture plane about the vertical centre line, seen from `distance` x width away.

    Not a real head turn (the face stays flat), but the perspective squeezes one
    side of the face hard enough for the landmarker to read a large yaw.
    """
    import cv2

    h, w = bgr.shape[:2]
    f = distance * w
    a = np.radians(degrees)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = []
    for x, y in src:
        dx = x - w / 2
        s = f / (f + dx * np.sin(a))
        dst.append([w / 2 + dx * np.cos(a) * s, h / 2 + (y - h / 2) * s])
    return cv2.warpPerspective(bgr, cv2.getPerspectiveTransform(src, np.float32(dst)), (w, h))


def close_eyes(bgr: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Paint both eyes shut: inpaint the eye openings, draw a lash line near the lower lid."""
    import cv2

    mask = np.zeros(bgr.shape[:2], np.uint8)
    for poly in (EYE_RIGHT, EYE_LEFT):
        cv2.fillPoly(mask, [np.round(points[poly]).astype(np.int32)], 255)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    out = cv2.inpaint(bgr, mask, 5, cv2.INPAINT_TELEA)
    for upper, lower in zip(UPPER_LIDS, LOWER_LIDS):
        lash = 0.2 * points[upper] + 0.8 * points[lower]
        cv2.polylines(out, [np.round(lash).astype(np.int32)], False, (25, 25, 35), 4, cv2.LINE_AA)
        crease = points[upper][1:-1] + np.array([0.0, -2.0])
        cv2.polylines(out, [np.round(crease).astype(np.int32)], False, (90, 100, 130), 1, cv2.LINE_AA)
    return out


def smile(bgr: np.ndarray, points: np.ndarray, lift_mm: float) -> np.ndarray:
    """Both mouth corners warped `lift_mm` up the face."""
    import cv2

    from symmetry.face.frame import face_frame
    from symmetry.lab.synthetic import warp_feature

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    frame = face_frame(points)
    for feature in ("mouth_corner_right", "mouth_corner_left"):
        rgb, _ = warp_feature(rgb, points, frame, feature, -lift_mm)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def base_frames(size=(640, 480)) -> dict[str, np.ndarray]:
    """The still pictures each segment is made from (one landmark detection, IMAGE mode)."""
    import cv2

    from symmetry.face.landmarks import Landmarker

    rest = face_canvas(size)
    with Landmarker() as lm:
        points = lm.detect(cv2.cvtColor(rest, cv2.COLOR_BGR2RGB))[0].points
    big_smile = smile(rest, points, 8.0)
    return {
        "rest": rest,
        "smile": big_smile,
        "smile_ramp": [smile(rest, points, mm) for mm in (2.0, 3.5, 5.0, 6.5)],
        "eyes_closed": close_eyes(rest, points),
        "turned": [turn(rest, 60), turn(rest, -60)],
        "turned_smile": [turn(big_smile, 60)],
        "empty": np.zeros_like(rest),
    }


def frames_for(script=DEFAULT_SCRIPT, size=(640, 480), seed: int = 0, bases: dict | None = None):
    """Yield (label, BGR frame) for the script; each frame gets fresh sensor noise."""
    import cv2

    rng = np.random.default_rng(seed)
    bases = bases or base_frames(size)
    for label, n in script:
        for i in range(n):
            if label == "shaky":
                dx, dy = rng.uniform(-12, 12, 2)
                img = cv2.warpAffine(bases["rest"], np.float32([[1, 0, dx], [0, 1, dy]]), size, borderMode=cv2.BORDER_REPLICATE)
            elif label in ("turned", "turned_smile", "smile_ramp"):
                pics = bases[label]
                img = pics[i * len(pics) // n] if label != "smile_ramp" else pics[min(i, len(pics) - 1)]
            else:
                img = bases[label]
            if label != "empty":
                noise = rng.normal(0, 2.0, img.shape)
                img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
            yield label, img


def write_video(path, script=DEFAULT_SCRIPT, fps: float = 15.0, size=(640, 480), seed: int = 0, bases=None) -> list[str]:
    """Write the scripted video (MJPG in .avi) and return the label of every frame."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter could not open {path}")
    labels = []
    try:
        for label, img in frames_for(script, size, seed, bases):
            writer.write(img)
            labels.append(label)
    finally:
        writer.release()
    return labels


def cached_video(tmp_path_factory, name: str, script=DEFAULT_SCRIPT, fps: float = 15.0, size=(640, 480)):
    """Write the video once per pytest session (shared by every test module); returns (path, labels)."""
    import json

    folder = tmp_path_factory.getbasetemp() / "symmetry_videos"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.avi"
    labels_path = folder / f"{name}.json"
    if not labels_path.exists():
        labels = write_video(path, script, fps, size)
        labels_path.write_text(json.dumps(labels))
    return path, json.loads(labels_path.read_text())
