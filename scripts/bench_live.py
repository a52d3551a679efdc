"""Live capture loop speed (issue 6): full loop vs raw VIDEO-mode landmarker, same frames, one run.

    python scripts/bench.py live [--quick]

The video is written from the sample faces (tests/video_samples.py: rest,
smile and eye-closure segments with sensor noise) at 640x480, 30 fps.

  raw   MediaPipe's FaceLandmarker.detect_for_video (its Python API) on the frames, already
        decoded and converted to RGB in memory: the landmarker's own throughput.
  full  symmetry.capture.live.run_loop, headless: decode from the file, BGR->RGB,
        landmarks, measurements + quality gates + expression evidence
        (capture.observation.observe), the protocol state machine, and the overlay
        drawn on the frame (capture.live_draw.LiveOverlay; only imshow is left out).

Repetitions alternate raw and full so that a busy machine slows both alike;
the ratio full/raw is the figure that matters (issue 18: >= 0.9, and >= 30 fps).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SCRIPT = (("rest", 100), ("smile", 100), ("eyes_closed", 100))


def _load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def _decode_all(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def _raw(frames, fps: float) -> tuple[float, float]:
    """(frames per second of wall time, CPU ms per frame of this process, all threads)."""
    from symmetry.face.landmarks import Landmarker

    image = Landmarker._mp_image
    # MediaPipe's own Python API (symmetry's Landmarker reads the C result faster).
    with Landmarker(mode="video") as lm:
        lm._task.detect_for_video(image(frames[0]), 0)  # warm-up, outside the timing
        c0, t0 = time.process_time(), time.perf_counter()
        for i, rgb in enumerate(frames):
            lm._task.detect_for_video(image(rgb), int((i + 1) * 1000 / fps))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(frames) / wall, 1000.0 * cpu / len(frames)


def _raw_loop(path, fps: float) -> float:
    """Frames per second of the smallest loop one could write: read a frame from the file,
    BGR->RGB, MediaPipe's detect_for_video, all on one thread."""
    import cv2

    from symmetry.face.landmarks import Landmarker

    image = Landmarker._mp_image
    with Landmarker(mode="video") as lm:
        lm._task.detect_for_video(image(_decode_all_first(path)), 0)
        cap = cv2.VideoCapture(str(path))
        n, t0 = 0, time.perf_counter()
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            lm._task.detect_for_video(image(rgb), int((n + 1) * 1000 / fps))
            n += 1
        wall = time.perf_counter() - t0
        cap.release()
    return n / wall


def _full(path):
    from symmetry.capture.protocol import CaptureProtocol
    from symmetry.face.landmarks import Landmarker
    from symmetry.capture.live import run_loop
    from symmetry.capture.sources import FileSource

    src = FileSource(path, realtime=False)
    with Landmarker(mode="video") as lm:
        lm.detect_for_video(_decode_all_first(path), 0)  # same warm-up as raw
        c0 = time.process_time()
        stats = run_loop(src, CaptureProtocol(), lm, window=None, time_stages=True)
        cpu = time.process_time() - c0
    src.close()
    return stats, 1000.0 * cpu / max(1, stats.processed)


def _decode_all_first(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    ok, bgr = cap.read()
    cap.release()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _bench_size(size, rounds: int, folder: Path, fps: float = 30.0) -> dict:
    import video_samples

    path = folder / f"live_{size[0]}x{size[1]}.avi"
    labels = video_samples.write_video(path, SCRIPT, fps=fps, size=size)
    frames = _decode_all(path)
    assert len(frames) == len(labels)
    raw, full, loop, stages, raw_cpu, full_cpu = [], [], [], [], [], []
    for r in range(rounds):
        # Alternate the order so that a load change hits both sides alike.
        for which in (("raw", "loop", "full") if r % 2 == 0 else ("full", "loop", "raw")):
            if which == "loop":
                loop.append(_raw_loop(path, fps))
            elif which == "raw":
                fps_, cpu = _raw(frames, fps)
                raw.append(fps_)
                raw_cpu.append(cpu)
            else:
                stats, cpu = _full(path)
                assert stats.processed == len(frames)
                full.append(stats.fps)
                full_cpu.append(cpu)
                stages.append(stats.stage_ms)
    return {
        "size": size, "frames": len(frames),
        "raw": statistics.median(raw), "full": statistics.median(full), "loop": statistics.median(loop),
        "raw_best": max(raw), "full_best": max(full),
        "ratios": [f / r for f, r in zip(full, raw)],
        "raw_cpu": statistics.median(raw_cpu), "full_cpu": statistics.median(full_cpu),
        "stages": {k: min(s[k] for s in stages) for k in stages[0]},
    }


def run(args) -> None:
    import cv2

    quick = getattr(args, "quick", False)
    rounds = 2 if quick else 6
    print(f"before: {_load_average()}; OpenCV {cv2.__version__}; MJPG .avi at 30 fps; "
          f"{rounds} rounds alternating raw and full")
    sizes = [(640, 480)] if quick else [(640, 480), (1280, 720)]
    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp:
        results = [_bench_size(size, rounds, Path(tmp)) for size in sizes]
    print(f"{'frame size':<11}{'frames':>7}{'':>3}{'raw fps':>9}{'full fps':>9}{'full/raw':>9}"
          f"   target: full >= 30 fps and full/raw >= 0.9")
    for r in results:
        w, h = r["size"]
        for label, raw, full in (("median", r["raw"], r["full"]), ("best", r["raw_best"], r["full_best"])):
            ratio = full / raw
            verdict = "ok" if full >= 30 and ratio >= 0.9 else "missed"
            print(f"{f'{w}x{h}':<11}{r['frames']:>7}  {label:<7}{raw:>8.1f}{full:>9.1f}{ratio:>9.2f}   {verdict}")
        print(f"{'':<11}per-round full/raw: {', '.join(f'{x:.2f}' for x in r['ratios'])} "
              f"(median {statistics.median(r['ratios']):.2f})")
        print(f"{'':<11}CPU time per frame (all threads, median): raw {r['raw_cpu']:.1f} ms, full {r['full_cpu']:.1f} ms; "
              f"raw/full {r['raw_cpu'] / r['full_cpu']:.2f} (what the ratio would be with everything on one core; less sensitive to other processes)")
        print(f"{'':<11}the smallest read + detect loop on one thread: {r['loop']:.1f} fps; full/that loop "
              f"{r['full'] / r['loop']:.2f} (decoding the video, which raw leaves out, is part of any live loop)")
        st = r["stages"]
        print(f"{'':<11}full loop, ms per frame (best round): " + ", ".join(f"{k} {v:.2f}" for k, v in st.items())
              + " (read + landmarks on their own thread, beside measure + overlay + display)")
    print(f"after: {_load_average()}")
    print("full = decode (reader thread) + BGR->RGB + landmarks + measures, gates, evidence + protocol + overlay; "
          "raw = detect_for_video alone on decoded RGB frames in memory.")
