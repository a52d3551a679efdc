"""Batch benchmark (issue 4): `symmetry score` throughput with 1 and 2 workers on 12-megapixel
JPEGs, and the parent process's peak memory after 100 and after 1000 photos.

    python scripts/bench.py batch            # full: 100 photos per speed run, 1000 for memory
    python scripts/bench.py batch --quick    # smoke test: 12 photos, 200 for memory

Definitions:
- photos/s (wall) = photos / wall time of the whole batch call, including starting the
  worker processes and loading the model in each;
- photos/s (steady) = (photos - 1) / time from the first to the last finished row;
- speed-up = photos/s with --jobs 2 / photos/s with --jobs 1, the runs interleaved
  (1, 2, 1, 2) so that load from other processes hits both alike; medians are shown;
- CPU s/photo = user + system CPU time of the worker processes per photo;
- raw pass = one photo decoded (in full, or reduced to the working size) and one MediaPipe
  `FaceLandmarker.detect`, timed in this process between the batch runs;
- parent peak RSS = the batch process's VmHWM (peak resident memory) when the 100th
  and the 1000th row were finished, in a fresh process that only runs the batch.

The photos: a few distinct 4000x3000 JPEGs (the Grace Hopper sample face upscaled to portrait
size, moved and brightened at random, on a blurred copy of itself, with sensor-like noise,
quality 92), repeated under
distinct names as hard links. Every one is decoded and scored (a fresh output folder, so
nothing is skipped); repeats are read from the page cache, as in any warm second run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The astronaut's face is too small in its photo to make a 12-megapixel portrait.
FACE = ROOT / "sample_images" / "grace_hopper.jpg"


def make_photo(path: Path, face_file: Path, seed: int) -> None:
    """A 12-megapixel, photo-like JPEG: the face about as large as in a phone portrait."""
    import cv2
    from PIL import Image

    from symmetry.photo.imageio import load_image

    rng = np.random.default_rng(seed)
    face = load_image(face_file).rgb
    k = 2400 / face.shape[0]
    face = cv2.resize(face, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    # Background: the photo itself, out of focus (blurred small, then enlarged: fast).
    small = cv2.GaussianBlur(cv2.resize(face, (400, 300), interpolation=cv2.INTER_AREA), (0, 0), 3)
    canvas = cv2.resize(small, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    y0 = 300 + int(rng.integers(-60, 60))
    x0 = (4000 - face.shape[1]) // 2 + int(rng.integers(-300, 300))
    canvas[y0 : y0 + face.shape[0], x0 : x0 + face.shape[1]] = face[: 3000 - y0]
    canvas = canvas.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 6, canvas.shape).astype(np.float32)
    Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).save(path, quality=92)


def make_set(folder: Path, bases: list[Path], n: int) -> Path:
    """`n` photo names in `folder`, hard links to the distinct `bases` in turn."""
    folder.mkdir(parents=True)
    for i in range(n):
        os.link(bases[i % len(bases)], folder / f"photo_{i:04d}.jpg")
    return folder


def speed_run(folder: Path, out: Path, jobs: int) -> dict:
    from symmetry.batch.engine import run_batch

    times = []
    cpu0 = os.times()
    t0 = time.perf_counter()
    # A flat folder has no person labels, so "auto" would balance every photo: measure the scorer
    # itself with one fixed single-photo method (the per-person default's cost is in bench_refine).
    result = run_batch(folder, out, jobs=jobs, method="canonical", progress=False,
                       on_row=lambda row: times.append(time.perf_counter()))
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    n = result.scored
    assert n == result.found and result.counts == {"ok": n}, result.counts
    return {
        "wall": n / wall,
        "steady": (n - 1) / (times[-1] - times[0]),
        "cpu": ((cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)) / n,
        "first_row_s": times[0] - t0,
    }


def raw_pass_s(photos: list[Path], reps: int) -> dict[str, float]:
    """Median seconds per photo of one raw MediaPipe pass, as one would write it without symmetry:
    "naive" decodes the full photo, "reduced" decodes it at symmetry's working size (as the
    scorer does); both then run one `FaceLandmarker.detect` (MediaPipe's own Python API)."""
    from symmetry.face.landmarks import Landmarker
    from symmetry.photo.imageio import read_image

    out: dict[str, list[float]] = {"naive": [], "reduced": []}
    with Landmarker() as lm:
        for _ in range(reps):
            for path in photos:
                for key in out:
                    t = time.perf_counter()
                    rgb = read_image(path, reduce=key == "reduced").rgb
                    lm._task.detect(Landmarker._mp_image(rgb))
                    out[key].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in out.items()}


MEMORY_SCRIPT = r"""
import json, resource, sys, time
from symmetry.batch.engine import run_batch
marks = {int(m) for m in sys.argv[3].split(",")}
seen, out = [0], {}
def peak_mb():
    # VmHWM: this process's peak RSS. (ru_maxrss would include the parent's RSS at fork.)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def on_row(row):
    seen[0] += 1
    if seen[0] in marks:
        out[seen[0]] = peak_mb()
out["start"] = peak_mb()
t = time.perf_counter()
r = run_batch(sys.argv[1], sys.argv[2], jobs=2, method="canonical", progress=False, on_row=on_row)
out["rate"] = r.scored / (time.perf_counter() - t)
out["counts"] = r.counts
print(json.dumps(out))
"""


def run(args) -> None:
    quick = getattr(args, "quick", False)
    n_speed, reps = (12, 1) if quick else (100, 2)
    marks = (50, 200) if quick else (100, 1000)
    load_before = os.getloadavg()
    busy0, ours0, wall0 = _busy_cpu_s(), _our_cpu_s(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        bases = []
        for i in range(4 if quick else 16):
            bases.append(tmp / f"base_{i:02d}.jpg")
            make_photo(bases[-1], FACE, seed=i)
        size_mb = statistics.mean(p.stat().st_size for p in bases) / 1e6
        print(f"{len(bases)} distinct 4000x3000 JPEGs, {size_mb:.1f} MB each, made in {time.perf_counter() - t:.0f} s")

        photos = make_set(tmp / "speed", bases, n_speed)
        runs = {1: [], 2: []}
        raw = []
        for rep in range(reps):
            for jobs in (1, 2):
                runs[jobs].append(speed_run(photos, tmp / f"out_j{jobs}_{rep}", jobs))
            raw.append(raw_pass_s(bases, 1 if quick else 2))
        med = {j: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for j, rs in runs.items()}
        print(f"\n{n_speed} photos per run, {reps} run(s) per setting, interleaved; medians")
        print(f"{'':28}{'--jobs 1':>12}{'--jobs 2':>12}{'ratio':>10}")
        for key, label, fmt in (
            ("wall", "photos/s (wall, with start-up)", ".2f"),
            ("steady", "photos/s (steady)", ".2f"),
            ("cpu", "CPU s/photo (workers)", ".3f"),
            ("first_row_s", "first row after (s)", ".2f"),
        ):
            a, b = med[1][key], med[2][key]
            print(f"{label:28}{a:>12{fmt}}{b:>12{fmt}}{b / a:>9.2f}x")
        for jobs in (1, 2):
            print(f"  --jobs {jobs} each run, photos/s wall: " + ", ".join(f"{r['wall']:.2f}" for r in runs[jobs]))
        print(f"speed-up --jobs 2 / --jobs 1: {med[2]['wall'] / med[1]['wall']:.2f}x wall, "
              f"{med[2]['steady'] / med[1]['steady']:.2f}x steady (issue 18: >= 1.8x)")
        per_photo = 1.0 / med[1]["steady"]
        naive, reduced = (statistics.median(r[k] for r in raw) for k in ("naive", "reduced"))
        print(f"per photo at --jobs 1 (steady): {1000 * per_photo:.0f} ms = {per_photo / naive:.2f}x one raw pass "
              f"as usually written (full decode + one detect: {1000 * naive:.0f} ms; issue 18: <= 1.3x), "
              f"{per_photo / reduced:.2f}x one raw pass at the working size (reduced decode + one detect: "
              f"{1000 * reduced:.0f} ms)")

        photos = make_set(tmp / "memory", bases, marks[1])
        proc = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(photos), str(tmp / "out_mem"), ",".join(map(str, marks))],
            capture_output=True, text=True, check=True,
        )
        mem = json.loads(proc.stdout)
        lo, hi = mem[str(marks[0])], mem[str(marks[1])]
        print(f"\nparent process peak RSS, --jobs 2, {marks[1]} photos ({mem['rate']:.2f} photos/s, {mem['counts']})")
        print(f"{'before the batch':>20}{'after ' + str(marks[0]):>14}{'after ' + str(marks[1]):>14}{'growth':>10}")
        print(f"{mem['start']:>17.1f} MB{lo:>11.1f} MB{hi:>11.1f} MB{hi - lo:>7.1f} MB  (target <= 50 MB)")
    busy1, ours1, wall1 = _busy_cpu_s(), _our_cpu_s(), time.monotonic()
    others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (wall1 - wall0)
    print(f"\nnoise: other processes used {others:.2f} of {os.cpu_count()} cores on average during this benchmark "
          f"(1-min load average before it: {load_before[0]:.2f})"
          + ("; figures are noisy" if others > 0.2 else ""))


def _busy_cpu_s() -> float:
    """CPU seconds all processes spent busy (Linux /proc/stat), or nan."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return float("nan")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _our_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    run(p.parse_args())
