"""Canonical landmarks at about the cost of one landmark pass (issue 18, prototype).

`Landmarker.detect_canonical` runs six FaceLandmarker passes: the photo and its mirror to
locate the face, then two levelled crops (at -4 and +4 degrees) and their mirrors. Most of
what it buys comes from measuring the face in a crop where it always has the same size,
place and roll: the model then sees nearly the same pixels however the photo was turned,
scaled or re-encoded. This module gets that crop without the two locating passes:

1. MediaPipe's face DETECTOR alone (the small model inside face_landmarker.task, about
   2 ms) gives a box and six key points, the eyes and ears among them: enough for the
   roll, the scale and the centre of the crop.
2. The face is resampled into one levelled, fixed-size crop (placement rounded as in
   `detect_canonical`, so that a mirrored photo gets exactly the mirrored crop).
3. Landmark passes on that crop (and crops turned by a few degrees), each alone or beside
   its mirror image in ONE picture (one detector run, two landmark-model runs), the
   mirror's points swapped back and all averaged (the mirror cancels the model's
   left-right bias).

FINDINGS (scripts/eval_default.py): one landmark view moves the brow asymmetry by up to
1.8 mm for a 1% change of the crop's scale (the model's own noise, not the placement's),
so fewer views than `detect_canonical`'s six do not hold the invariance tests' 0.3 mm.
Band-limiting the crop (`blur_sigma` 2.5 px, pupils 83 px apart) brings a crop and its mirror
within them (0.30 mm, 2.2% over 13 perturbations), with no margin, but blurs real asymmetry
away (held-out ../shared/real: palsy AUC eye 0.92 -> 0.84, brow 0.84 -> 0.79; light false
droop 0.21 -> 0.33 mm); smaller sigmas or band_px do not hold the limits.
`ParallelCanonical` gives `detect_canonical`'s exact result, two passes at a time.

The points are mapped back to the photo's pixels. Pose and blendshapes come from the
unmirrored crop (yaw and pitch do not change under an in-plane turn; the roll gets the
crop's turn added back). Nothing is loaded at import.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from symmetry.face.landmarks import (
    CANONICAL_ANGLES,
    CANONICAL_EYE_LINE,
    CANONICAL_IPD,
    CANONICAL_SIZE,
    MIRROR,
    Face,
    Landmarker,
    _quiet_native_stderr,
    area_shrunk,
)

#: The face detector's key points (MediaPipe FaceDetector, short range), in its order.
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH, RIGHT_EAR, LEFT_EAR = range(6)
#: KEYPOINT_MIRROR[i]: the key point that sits where i would after a left-right mirror.
KEYPOINT_MIRROR = np.array([LEFT_EYE, RIGHT_EYE, NOSE_TIP, MOUTH, LEFT_EAR, RIGHT_EAR])
#: Detector eye distance / landmark inter-pupil distance (1.02-1.07 on the sample faces; the
#: crop's 3% scale steps absorb the difference); aims the crop at `detect_canonical`'s size.
DETECTOR_EYE_TO_IPD = 1.0
#: Rounding of the crop's placement, as in `Landmarker._canonical_views`.
SCALE_STEP_LOG = 0.03
ROLL_STEP_DEG = 1.0
CENTRE_GRID_IPD = 0.02


@dataclass(frozen=True)
class Placement:
    """Where a face sits in a photo: the crop's turn (radians, the face's roll, upside-down
    faces kept upside down), its scale (crop px per photo px) and the photo point (OpenCV
    pixel coordinates) that goes to the crop's eye-line centre."""

    roll_rad: float
    scale: float
    centre: tuple[float, float]


def placement(right_eye: np.ndarray, left_eye: np.ndarray, level: np.ndarray, image_size: tuple[int, int],
              ipd_px: float | None = None, size: int = CANONICAL_SIZE, exact: bool = False) -> Placement | None:
    """The rounded placement of a levelled crop of side `size` for a face whose eyes are at
    `right_eye`, `left_eye` (OpenCV pixel coordinates) and whose level axis (towards the
    patient's left) is `level`. Rounded symmetrically about the photo's centre, so that a
    mirrored photo gets exactly the mirrored placement; `exact`: not rounded at all (a turned
    or scaled photo then gets the same crop, not a neighbouring step). None when the eyes coincide."""
    ipd = float(ipd_px if ipd_px is not None else np.hypot(*(left_eye - right_eye)))
    if not ipd > 0:
        return None
    step = (lambda v, s: v) if exact else (lambda v, s: s * np.round(v / s))
    k = float(np.exp(step(np.log(CANONICAL_IPD * size / ipd), SCALE_STEP_LOG)))
    roll = math.radians(step(math.degrees(math.atan2(level[1], abs(level[0]))), ROLL_STEP_DEG))
    if level[0] < 0:  # upside-down face: keep its own orientation
        roll = math.pi - roll
    grid = max(1.0, round(CENTRE_GRID_IPD * ipd))
    middle = (np.array(image_size, dtype=float) - 1) / 2
    centre = middle + step((right_eye + left_eye) / 2 - middle, grid)
    return Placement(roll, k, (float(centre[0]), float(centre[1])))


def crop_affine(p: Placement, angle_deg: float = 0.0, size: int = CANONICAL_SIZE) -> np.ndarray:
    """2x3 affine from photo pixels to crop pixels (OpenCV coordinates), the face turned
    level and then by `angle_deg`."""
    t = p.roll_rad - math.radians(angle_deg)
    a = p.scale * np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    target = np.array([(size - 1) / 2, CANONICAL_EYE_LINE * size])  # (S - 1) / 2: the crop's mirror axis
    return np.hstack([a, (target - a @ np.asarray(p.centre))[:, None]])


def levelled_crop(rgb: np.ndarray, affine: np.ndarray, size: int = CANONICAL_SIZE, band_px: int = 0,
                  blur_sigma: float = 0.0) -> np.ndarray:
    """The crop of `rgb` that `affine` (from `crop_affine`) describes (a large shrink area
    averaged first, as `area_shrunk` does). Band-limited (so that the resampling of a turned,
    scaled or re-encoded photo leaves no detail of its own): `band_px`, rendered at that side and enlarged back; `blur_sigma`, a Gaussian (crop px)."""
    import cv2

    if band_px:
        f = band_px / size  # pixel centres: small = f * (crop + 0.5) - 0.5
        small = levelled_crop(rgb, f * affine + [[0, 0, 0.5 * f - 0.5]] * 2, band_px)
        return levelled_crop(small, np.eye(3)[:2] / f + [[0, 0, 0.5 / f - 0.5]] * 2, size, 0, blur_sigma)
    source, to_source = area_shrunk(rgb, float(np.sqrt(abs(np.linalg.det(affine[:, :2])))))
    from_source = np.vstack([affine, [0, 0, 1]]) @ np.linalg.inv(to_source)
    crop = cv2.warpAffine(source, from_source[:2], (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return cv2.GaussianBlur(crop, (0, 0), blur_sigma) if blur_sigma > 0 else crop


def points_to_photo(points: np.ndarray, affine: np.ndarray, mirrored: bool = False,
                    size: int = CANONICAL_SIZE) -> np.ndarray:
    """Landmarks found in a crop (MediaPipe pixels, centres at i + 0.5) back in the photo's
    MediaPipe pixels; a mirrored crop's points are unmirrored and their sides swapped back."""
    p = np.asarray(points, dtype=float) - 0.5
    if mirrored:
        p = np.column_stack([size - 1 - p[:, 0], p[:, 1]])[MIRROR]
    m = np.vstack([affine, [0, 0, 1]])
    inverse = np.linalg.inv(m)[:2]
    return p @ inverse[:, :2].T + inverse[:, 2] + 0.5


def detection_eyes(keypoints: np.ndarray, use_ears: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right eye, left eye, level axis) from a detection's six key points in MediaPipe
    pixels; the level axis also uses the ears (twice as far apart: a steadier roll)."""
    k = np.asarray(keypoints, dtype=float) - 0.5
    v = k[LEFT_EYE] - k[RIGHT_EYE]
    if use_ears:
        v = v + (k[LEFT_EAR] - k[RIGHT_EAR]) * (np.linalg.norm(v) / max(np.linalg.norm(k[LEFT_EAR] - k[RIGHT_EAR]), 1e-9))
    return k[RIGHT_EYE], k[LEFT_EYE], v / max(np.linalg.norm(v), 1e-12)


def detector_model_bytes(task_path: str | Path) -> bytes:
    """The face detector inside a face_landmarker.task bundle (a zip file)."""
    with zipfile.ZipFile(task_path) as bundle:
        return bundle.read("face_detector.tflite")


def _mirror_order(crop: np.ndarray) -> bool:
    """Whether a crop goes to the right half of a side-by-side pair: its mirror goes to the left
    when its own left half is the brighter. Decided the same way for a photo and its mirror
    image (where the crop IS the mirror), so that both give the same pair image."""
    half = crop.shape[1] // 2
    left, right = float(crop[:, :half].sum()), float(crop[:, -half:].sum())
    return left > right


class LevelledLandmarker:
    """Canonical landmarks from the face detector and few landmark passes on levelled crops.

    Wraps an IMAGE-mode `Landmarker` (its model, its FaceLandmarker task); `detect` has the
    signature of `Landmarker.detect_canonical` and returns the same kind of faces.

    Args:
        landmarker: the `Landmarker` whose task runs the landmark passes (max_faces >= 2
            for packing "pair").
        angles: in-plane angles (degrees) of the levelled crops.
        mirror: also measure each crop's mirror image (cancels the model's left-right bias).
        packing: "separate" (one landmark pass per view) or "pair" (each crop and its mirror
            side by side in one image: one detector run, two landmark-model runs).
        locate: "detector" (the face detector's key points) or "landmarks" (a raw landmark
            pass on the photo: precise, but one more pass; for comparison).
        relevel: run the detector again on the first levelled crop and place the crop from
            that (the detector's key points are truest on a level face; about 2 ms).
        threads: run the views' passes on this many threads (each with a landmarker of its own).
        symmetric: run the detector on the image and its mirror and average the key points
            (mirrored back), so that a mirrored photo gets exactly the mirrored placement.
        band_px, blur_sigma, exact: band-limited crops and unrounded placement (`levelled_crop`,
            `placement`), to test whether the crop's resampling is what moves the landmarks.
    """

    def __init__(self, landmarker: Landmarker, angles: tuple[float, ...] = (0.0,), mirror: bool = True,
                 packing: str = "separate", locate: str = "detector", relevel: bool = True,
                 use_ears: bool = False, eye_to_ipd: float = DETECTOR_EYE_TO_IPD, threads: int = 1,
                 symmetric: bool = True, band_px: int = 0, blur_sigma: float = 0.0, exact: bool = False):
        if packing not in ("separate", "pair"):
            raise ValueError(f"packing must be 'separate' or 'pair', not {packing!r}")
        self.landmarker, self.angles, self.mirror, self.packing = landmarker, tuple(angles), mirror, packing
        self.locate, self.relevel, self.use_ears, self.eye_to_ipd = locate, relevel, use_ears, eye_to_ipd
        self.threads, self.symmetric = threads, symmetric
        self._crop = lambda rgb, affine: levelled_crop(rgb, affine, CANONICAL_SIZE, band_px, blur_sigma)
        self.exact = exact
        self._detector = None
        self._pool = None
        self._helpers: list[Landmarker] = []

    def _keypoints(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """The detector's faces (`_detect_keypoints`); with `symmetric`, the largest one's key
        points averaged with those found in the mirror image."""
        found = self._detect_keypoints(rgb)
        if not found or not self.symmetric:
            return found
        w = rgb.shape[1]
        twins = [np.column_stack([w - k[:, 0], k[:, 1]])[KEYPOINT_MIRROR]
                 for k, _ in self._detect_keypoints(np.ascontiguousarray(rgb[:, ::-1]))]
        if twins:
            twin = min(twins, key=lambda k: float(np.abs(k - found[0][0]).sum()))
            found[0] = ((found[0][0] + twin) / 2.0, found[0][1])
        return found

    def _detect_keypoints(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """(six key points in MediaPipe pixels, box width) of each face the detector finds."""
        if self._detector is None:
            with _quiet_native_stderr():
                from mediapipe.tasks.python import BaseOptions, vision

                options = vision.FaceDetectorOptions(
                    base_options=BaseOptions(model_asset_buffer=detector_model_bytes(self.landmarker.model_path)),
                    running_mode=vision.RunningMode.IMAGE, min_detection_confidence=0.5)
                self._detector = vision.FaceDetector.create_from_options(options)
        h, w = rgb.shape[:2]
        result = self._detector.detect(Landmarker._mp_image(rgb))
        found = [(np.array([(k.x * w, k.y * h) for k in d.keypoints]), float(d.bounding_box.width))
                 for d in result.detections]
        return sorted(found, key=lambda f: -f[1])

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None
        for helper in self._helpers:
            helper.close()
        if self._pool is not None:
            self._pool.shutdown()

    def detect(self, rgb: np.ndarray, scale: float = 1.0, original_size: tuple[int, int] | None = None) -> list[Face]:
        """Faces, largest first, the first one's landmarks from the levelled crops."""
        lm = self.landmarker
        h, w = rgb.shape[:2]
        others: list[Face] = []
        if self.locate == "landmarks":
            full = lm.detect(rgb, 1.0, None)
            if not full:
                return []
            from symmetry.face.frame import level_axis

            pts = full[0].points - 0.5
            right, left, level, ipd = pts[468], pts[473], level_axis(full[0].points), None
            others = full[1:]
        else:
            found = self._keypoints(rgb)
            if not found:
                return []
            right, left, level = detection_eyes(found[0][0], self.use_ears)
            ipd = float(np.hypot(*(left - right))) / self.eye_to_ipd
            if len(found) > 1:  # rare: the raw pass says how many faces, and their sizes
                others = lm.detect(rgb, 1.0, None)[1:]
        where = placement(right, left, level, (w, h), ipd, exact=self.exact)
        if where is None:
            return []
        if self.relevel and self.locate == "detector":
            where = self._relevelled(rgb, where) or where
        face = self._refined(rgb, where)
        if face is None:  # the crop lost the face: the photo's own raw pass
            return lm.detect(rgb, scale, original_size)
        size = original_size or (round(w * scale), round(h * scale))
        face = replace(face, points=face.points * scale, image_size=(int(size[0]), int(size[1])))
        return [face] + [replace(f, points=f.points * scale, image_size=face.image_size) for f in others]

    def _relevelled(self, rgb: np.ndarray, where: Placement) -> Placement | None:
        """The placement found again by the detector in the crop that `where` describes."""
        affine = crop_affine(where)
        found = self._keypoints(self._crop(rgb, affine))
        if not found:
            return None
        keypoints = points_to_photo(found[0][0], affine)
        right, left, level = detection_eyes(keypoints, self.use_ears)
        h, w = rgb.shape[:2]
        return placement(right, left, level, (w, h), float(np.hypot(*(left - right))) / self.eye_to_ipd,
                         exact=self.exact)

    def _landmarkers(self) -> list[Landmarker]:
        while len(self._helpers) < self.threads - 1:
            self._helpers.append(Landmarker(self.landmarker.model_path))
        return [self.landmarker] + self._helpers

    def _run(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Each image's faces (in its own pixels), on `threads` landmarkers at once."""
        landmarkers = self._landmarkers()
        if len(landmarkers) == 1 or len(images) == 1:
            lm = landmarkers[0]
            return [lm._faces(lm._pass(im), im, 1.0, None) for im in images]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(len(landmarkers))

        def run_share(k: int) -> list[tuple[int, list[Face]]]:  # one landmarker, one thread
            lm = landmarkers[k]
            return [(i, lm._faces(lm._pass(im), im, 1.0, None))
                    for i, im in enumerate(images) if i % len(landmarkers) == k]

        done = dict(pair for job in [self._pool.submit(run_share, k) for k in range(len(landmarkers))]
                    for pair in job.result())
        return [done[i] for i in range(len(images))]

    def _refined(self, rgb: np.ndarray, where: Placement) -> Face | None:
        """The face averaged over the levelled views, in photo pixels (scale 1); pose and
        blendshapes from the first unmirrored view."""
        size = CANONICAL_SIZE
        affines = [crop_affine(where, angle) for angle in self.angles]
        crops = [np.ascontiguousarray(self._crop(rgb, a)) for a in affines]
        images, layout = [], []  # layout: per image, [(affine index, mirrored, x offset)]
        for i, crop in enumerate(crops):
            if self.packing == "pair":
                flipped = np.ascontiguousarray(crop[:, ::-1])
                right_first = _mirror_order(crop)
                halves = [(flipped, True), (crop, False)] if right_first else [(crop, False), (flipped, True)]
                images.append(np.ascontiguousarray(np.hstack([h for h, _ in halves])))
                layout.append([(i, m, k * size) for k, (_, m) in enumerate(halves)])
            else:
                images.append(crop)
                layout.append([(i, False, 0)])
                if self.mirror:
                    images.append(np.ascontiguousarray(crop[:, ::-1]))
                    layout.append([(i, True, 0)])
        views, first = [], None
        for found, parts in zip(self._run(images), layout):
            for i, mirrored, x0 in parts:
                here = [f for f in found if x0 <= f.points[:, 0].mean() < x0 + size]
                if not here:
                    return None
                points = points_to_photo(here[0].points - np.array([x0, 0.0]), affines[i], mirrored)
                views.append(points)
                if first is None and not mirrored:
                    first = (here[0], i)
        face, i = first
        turn = math.degrees(where.roll_rad) - self.angles[i]
        roll = (face.roll_deg - turn + 180.0) % 360.0 - 180.0
        return replace(face, points=np.mean(views, axis=0), depth=face.depth * size / where.scale / rgb.shape[1],
                       roll_deg=roll)


class ParallelCanonical(LevelledLandmarker):
    """`Landmarker.detect_canonical`, the same six passes and the same result, run two at a
    time on two landmarkers (the photo and its mirror; then the four crop views)."""

    def __init__(self, landmarker: Landmarker, threads: int = 2):
        super().__init__(landmarker, angles=CANONICAL_ANGLES, threads=threads)

    def detect(self, rgb: np.ndarray, scale: float = 1.0, original_size: tuple[int, int] | None = None) -> list[Face]:
        from symmetry.face.frame import level_axis

        flipped = np.ascontiguousarray(rgb[:, ::-1])
        plain, mirror_faces = self._run([np.ascontiguousarray(rgb), flipped])
        if not plain:
            return []
        located = plain[0].points
        if mirror_faces:
            width = rgb.shape[1]
            unmirrored = [np.column_stack([width - f.points[:, 0], f.points[:, 1]])[MIRROR] for f in mirror_faces]
            twin = min(unmirrored, key=lambda p: float(np.abs(p[468] - located[468]).sum()))
            located = (located + twin) / 2.0
        pts = located - 0.5
        where = placement(pts[468], pts[473], level_axis(located), (rgb.shape[1], rgb.shape[0]))
        h, w = rgb.shape[:2]
        size = original_size or (round(w * scale), round(h * scale))
        out = [replace(f, points=f.points * scale, image_size=(int(size[0]), int(size[1]))) for f in plain]
        if where is None:
            return out
        affines = [crop_affine(where, angle) for angle in self.angles]
        crops = [np.ascontiguousarray(levelled_crop(rgb, a)) for a in affines]
        images = [im for c in crops for im in (c, np.ascontiguousarray(c[:, ::-1]))]
        views = []
        for k, found in enumerate(self._run(images)):
            if not found:
                return out
            views.append(points_to_photo(found[0].points, affines[k // 2], mirrored=bool(k % 2)))
        views += [located, located]
        out[0] = replace(out[0], points=np.mean(views, axis=0) * scale)
        return out
