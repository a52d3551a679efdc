"""Check the massage points on real healthy faces through `symmetry acupoints --json` (issue 16,
done-when 1 and 5): which points are placed, how far each bilateral point is from its mirror twin,
and how far the points move in the face frame when the photo is turned 15 degrees or scaled 0.7x
and 1.5x.

    python scripts/validate_massage.py                  # held-out half (the figures to report)
    python scripts/validate_massage.py --half tuning    # the half the constructions were tuned on

Healthy faces: the PALDA healthy photos and the Caltech/deepface repeat people of ../shared/real
(split into halves by `symmetry.lab.realdata.split_halves`; at most 3 photos per repeat person).
Each photo is first brought to a long side of at least 900 px (cubic), so that the 0.7x copy
still has a measurable face; its turned and scaled copies are written under a temporary folder
(PNG, never into the repository) and all are read by one `symmetry acupoints --json` run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real"
#: Done-when 5: at least these are placed on every measured held-out face.
REQUIRED_BILATERAL = ("GB14", "BL2", "EX-HN5", "ST2", "LI20", "ST4", "ST6", "ST7")
REQUIRED_MIDLINE = ("EX-HN3", "GV26", "CV24")
MIN_LONG_SIDE = 900
VARIANTS = ("turn +15", "turn -15", "scale 0.7", "scale 1.5")


def healthy_photos(real: Path, half: str) -> list:
    from symmetry.lab import realdata as R

    palda, _ = R.palda_photos(real)
    # The project's split of PALDA runs over all its photos (palsy and healthy) by file name.
    halves = R.in_half([p.person for p in palda], half)
    repeats = R.repeat_photos(real)
    chosen = [p for p in palda if p.group == "healthy" and p.person in halves]
    keep = R.in_half([q.person for q in repeats], half)
    for person in sorted(keep):
        mine = [p for p in repeats if p.person == person]
        chosen += R.spread(mine, 3)
    return chosen


def variants(rgb: np.ndarray) -> dict[str, np.ndarray]:
    import cv2

    def turn(a, degrees):
        h, w = a.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
        return cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    return {
        "original": rgb,
        "turn +15": turn(rgb, 15), "turn -15": turn(rgb, -15),
        "scale 0.7": cv2.resize(rgb, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA),
        "scale 1.5": cv2.resize(rgb, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC),
    }


def write_variants(photos, folder: Path) -> dict[str, tuple[str, str]]:
    """{file: (photo key, variant)} of the copies written into `folder`."""
    import cv2
    from PIL import Image

    from symmetry.photo.imageio import load_image

    files = {}
    for i, p in enumerate(photos):
        rgb = load_image(p.path, reduce=False).rgb
        k = MIN_LONG_SIDE / max(rgb.shape[:2])
        if k > 1:
            rgb = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        for name, img in variants(rgb).items():
            path = folder / f"{i:03d}_{name.replace(' ', '_').replace('+', 'p').replace('-', 'm')}.png"
            Image.fromarray(img).save(path)
            files[str(path)] = (p.key, name)
    return files


def read_points(files: dict) -> dict[tuple[str, str], dict]:
    """(photo key, variant) -> the JSON object of `symmetry acupoints --json`."""
    cmd = [sys.executable, "-m", "symmetry.cli", "acupoints", "--json", "--no-files", *files]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"symmetry acupoints failed ({done.returncode}): {done.stderr[-2000:]}")
    return {files[item["path"]]: item for item in json.loads(done.stdout)}


def _by_point(item: dict) -> dict[tuple[str, str], np.ndarray]:
    return {(p["code"], p["side"]): np.array([p["x_mm"], p["y_mm"]]) for p in item["points"]}


def mirror_mismatch(results: dict) -> dict[str, list[float]]:
    """Per bilateral code: |right point - mirrored left point| (mm) on each original photo."""
    out: dict[str, list[float]] = {}
    for (key, variant), item in results.items():
        if variant != "original" or item["status"] != "ok":
            continue
        pts = _by_point(item)
        for (code, side), right in pts.items():
            left = pts.get((code, "left"))
            if side == "right" and left is not None:
                out.setdefault(code, []).append(float(np.hypot(right[0] + left[0], right[1] - left[1])))
    return out


def pose_corrected_mirror(files: dict) -> dict[str, list[float]]:
    """As `mirror_mismatch`, with the head turn taken out first (`acupoints.frontalized`, from the
    landmarks' depth): what the construction itself adds, apart from the photo's pose."""
    from symmetry.face.landmarks import default_landmarker
    from symmetry.massage.acupoints import acupoints, frontalized
    from symmetry.massage.photo import locate

    lm, out = default_landmarker(), {}
    for path, (_, variant) in files.items():
        found = locate(path, landmarker=lm) if variant == "original" else None
        if found is None or not found.ok:
            continue
        amap = acupoints(frontalized(found.measurement))
        for p in amap.points:
            if p.side == "right":
                q = amap.get(p.code, "left")
                out.setdefault(p.code, []).append(float(np.hypot(p.x_mm + q.x_mm, p.y_mm - q.y_mm)))
    return out


def movement(results: dict, variant: str) -> dict[str, list[float]]:
    """Per point label: how far it moved (mm, face frame) from the original photo to `variant`."""
    out: dict[str, list[float]] = {}
    for (key, name), item in results.items():
        base = results.get((key, "original"))
        if name != variant or item["status"] != "ok" or base is None or base["status"] != "ok":
            continue
        moved, original = _by_point(item), _by_point(base)
        for label, at in original.items():
            if label in moved:
                out.setdefault(f"{label[0]} {label[1][0].upper()}", []).append(float(np.linalg.norm(moved[label] - at)))
    return out


def presence(results: dict) -> tuple[int, int]:
    """(photos measured, photos with every required point placed inside the photo)."""
    from PIL import Image

    measured = complete = 0
    for (key, variant), item in results.items():
        if variant != "original" or item["status"] != "ok":
            continue
        measured += 1
        w, h = Image.open(item["path"]).size
        placed = {(p["code"], p["side"]) for p in item["points"] if 0 <= p["x_px"] < w and 0 <= p["y_px"] < h}
        wanted = ({(c, s) for c in REQUIRED_BILATERAL for s in ("right", "left")}
                  | {(c, "midline") for c in REQUIRED_MIDLINE})
        complete += wanted <= placed
    return measured, complete


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=REAL, help="the real-photo folder (../shared/real)")
    ap.add_argument("--half", choices=("heldout", "tuning", "all"), default="heldout")
    args = ap.parse_args()
    if not args.real.is_dir():
        sys.exit(f"real-photo folder not found: {args.real}")
    photos = healthy_photos(args.real, args.half)
    with tempfile.TemporaryDirectory(prefix="validate_massage_") as tmp:
        files = write_variants(photos, Path(tmp))
        results = read_points(files)
        measured, complete = presence(results)
        posed = pose_corrected_mirror(files)
    print(f"{args.half} half: {len(photos)} healthy photos, {measured} with a measured face, "
          f"{complete} with every required point placed inside the photo")
    mirror = mirror_mismatch(results)
    moves = {v: movement(results, v) for v in VARIANTS}
    print("\nmirror mismatch of bilateral points (mm): median [90th percentile], as photographed | head turn removed")
    for code, values in mirror.items():
        print(f"  {code:<7} {np.median(values):5.2f}  [{np.percentile(values, 90):5.2f}]   |  "
              f"{np.median(posed[code]):5.2f}  [{np.percentile(posed[code], 90):5.2f}]")
    every = [v for values in mirror.values() for v in values]
    every_posed = [v for values in posed.values() for v in values]
    print(f"  {'all':<7} {np.median(every):5.2f}  [{np.percentile(every, 90):5.2f}]   |  "
          f"{np.median(every_posed):5.2f}  [{np.percentile(every_posed, 90):5.2f}]")
    print("\nmovement in the face frame (mm): median over points and photos [90th percentile; worst point's median]")
    for variant, per_point in moves.items():
        values = [v for vs in per_point.values() for v in vs]
        worst = max(per_point, key=lambda k: np.median(per_point[k]))
        print(f"  {variant:<10} {np.median(values):5.2f}  [{np.percentile(values, 90):5.2f}; "
              f"{worst} {np.median(per_point[worst]):.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
