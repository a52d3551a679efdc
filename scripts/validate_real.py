#!/usr/bin/env python3
"""Judge each measurement method on REAL photos of real people (not synthetic warps).

    python scripts/validate_real.py                 # held-out half, every method (a few minutes)
    python scripts/validate_real.py --half all      # both halves
    python scripts/validate_real.py --quick         # a small subsample, no "balanced"
    python scripts/validate_real.py --json out.json # also save every reading and figure

Sets (see ../shared/real/README.md; loaders and metrics in src/symmetry/lab/realdata.py,
figures and tables in src/symmetry/lab/realfigures.py):
  lighting  Extended Yale B: one face under 64 lights. False change from light =
            |measure(photo) - measure(frontal light)|, median per |azimuth| bin.
  videos    healthy people making expressions; frames classified by MediaPipe blendshapes
            (rest, smile, brow_raise, eyes_closed, wink). Healthy false asymmetry = median
            |mouth droop| and |brow asymmetry| per expression. Spread within one sitting =
            median over (clip, expression) of the SD of each asymmetry across its frames.
  repeats   Caltech people and one deepface person photographed on different occasions:
            median over people of the SD of each resting asymmetry; and, for "tracked",
            how often same-person photos line up and other-person photos are rejected.
  palda     palsy photos with 68 hand points: Pearson r and slope of ours against the same
            measures from the hand points, and the ROC AUC separating peripheral palsy from
            healthy faces (ours and the hand points').
  palsy     web photos of people with palsy: median |asymmetry| beside raw landmarks'.

Methods: "landmarks", "canonical", "mirrored", "balanced" (slow: palda and palsy only, not
with --quick), "tracked" (against the person's reference photo: the frontal light, the
clip's first frame of the same expression, the person's first photo), and "score":
whatever `symmetry score` does by default, on the photos laid out as PERSON/DATE/EXPRESSION symlinks under /tmp
("score-tracked", on request: `symmetry score --method tracked` on the same layout).
Every set is split by person into a tuning and a held-out half (realdata.split_halves);
the figures are for --half (default heldout). The photos are read in place; frames and
symlinks go to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from symmetry.lab import realdata as R  # noqa: E402
from symmetry.lab.realfigures import all_figures, report, summary  # noqa: E402

ALL_METHODS = ("landmarks", "canonical", "mirrored", "balanced", "tracked", "score", "score-tracked")
DEFAULT_METHODS = ALL_METHODS[:-1]
#: Batch runs of `symmetry score`: method name here -> its `method` argument (None: the default).
SCORE_RUNS = {"score": None, "score-tracked": "tracked"}
#: "balanced" costs about 25 landmark passes a photo: only on the small palsy sets.
BALANCED_SETS = ("palda", "palsy")
FRAME_STEP = 3  # every 3rd video frame is classified
FRAMES_PER_EXPRESSION = 8
CROSS_PHOTOS = 5  # other-person photos tried against each person's reference (line-up check)
BASE_DATE = dt.date(2020, 1, 1)
SUMMARY_METHODS = ALL_METHODS


# ================================================================ worker side (one landmarker each)
_landmarker = None
_references: dict[str, object] = {}


def _init_worker() -> None:
    """One Landmarker per process: a landmarker is not thread-safe, and loading it is slow."""
    global _landmarker
    import cv2

    import symmetry

    cv2.setNumThreads(1)  # one worker = one core
    _landmarker = symmetry.Landmarker()


def _reference(path: str):
    """The prepared reference photo (cached: a person's photos share it), or why it failed."""
    import symmetry

    if path not in _references:
        try:
            _references[path] = symmetry.prepare_reference(path, landmarker=_landmarker)
        except Exception as exc:  # noqa: BLE001 - an unusable reference is a finding
            _references[path] = f"reference unusable: {exc}"
    return _references[path]


def _measure_task(task: tuple[R.Photo, str]) -> R.Reading:
    photo, method = task
    ref = None
    if method == "tracked":
        ref = _reference(photo.reference)
        if isinstance(ref, str):
            return R.Reading(photo.key, method, "reference_unusable", ref)
    return R.measure(photo, method, _landmarker, ref)


def _frames(clip_path: str, step: int = 1):
    """(frame number, BGR frame) of every `step`-th frame of a clip."""
    import cv2

    cap = cv2.VideoCapture(clip_path)
    index = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            if index % step == 0:
                yield index, bgr
            index += 1
    finally:
        cap.release()


def _classify_clip(task: tuple[str, str, int]) -> tuple[str, Counter, list[tuple[int, str, str]]]:
    """Classify every FRAME_STEP-th frame of a clip by raw-landmark blendshapes; save up to
    `per_expression` frames of each expression, spread in time, as PNGs in `out`."""
    import cv2

    import symmetry

    clip_path, out, per_expression = task
    labels: dict[str, list[int]] = defaultdict(list)
    statuses: Counter = Counter()
    for index, bgr in _frames(clip_path, FRAME_STEP):
        m = symmetry.analyze(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), method="landmarks", landmarker=_landmarker)
        statuses[m.status] += 1
        expression = R.classify_frame(m.face.blendshapes) if m.face is not None else ""
        if expression:
            labels[expression].append(index)
    # A second pass saves the chosen frames: keeping every classified frame would cost memory.
    chosen = {i: expression for expression, indices in labels.items() for i in R.spread(indices, per_expression)}
    clip = Path(clip_path).stem
    saved = []
    for index, bgr in _frames(clip_path):
        if index in chosen:
            path = Path(out) / clip / f"{chosen[index]}_{index:05d}.png"  # PNG: no second lossy encoding
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), bgr)
            saved.append((index, chosen[index], str(path)))
    return clip, statuses, saved


# ================================================================ which photos
def select_photos(root: Path, half: str, quick: bool) -> tuple[dict[str, list[R.Photo]], dict]:
    """The photos of each set in `half` (videos come later, from their frames)."""

    def keep(photos: list[R.Photo]) -> list[R.Photo]:
        chosen = R.in_half([p.person for p in photos], half)
        return [p for p in photos if p.person in chosen]

    lighting = keep(R.lighting_photos(root))
    repeats = keep(R.repeat_photos(root))
    palda, points = R.palda_photos(root)
    palsy = keep(R.palsy_photos(root))
    if quick:  # the reference photos (first of each series) always stay
        lighting = [p for i, p in enumerate(lighting) if i % 4 == 0 or p.path == p.reference]
        repeats = [p for p in repeats if p.order < 6]
        palda, palsy = palda[::3], palsy[::3]
    return {"lighting": lighting, "repeats": repeats, "palda": keep(palda), "palsy": palsy}, points


def cross_photos(repeats: list[R.Photo]) -> list[R.Photo]:
    """Other-person pairs for the line-up check: person A's first photo as the reference of a
    few of person B's photos, under keys of their own."""
    people = defaultdict(list)
    for p in repeats:
        people[p.person].append(p)
    out = []
    for a, a_photos in sorted(people.items()):
        for b, b_photos in sorted(people.items()):
            if a != b:
                out += [replace(p, set="cross", key=f"{p.key}@{a}", reference=a_photos[0].path)
                        for p in R.spread(b_photos[1:], CROSS_PHOTOS)]
    return out


def video_photos(pool, root: Path, half: str, quick: bool, tmp: Path) -> tuple[list[R.Photo], dict]:
    """Frames of the clips in `half`, classified and saved; a frame's reference is the clip's
    first frame of the same expression, as `symmetry score --method tracked` would choose."""
    from tqdm import tqdm

    clips = sorted(str(p) for p in (root / "videos").glob("*.mp4"))
    chosen_clips = R.in_half([Path(c).stem for c in clips], half)
    clips = [c for c in clips if Path(c).stem in chosen_clips][: 4 if quick else None]
    per_expression = 3 if quick else FRAMES_PER_EXPRESSION
    photos, statuses = [], {}
    tasks = [(c, str(tmp / "frames"), per_expression) for c in clips]
    for clip, counts, chosen in tqdm(pool.imap_unordered(_classify_clip, tasks), total=len(tasks),
                                     desc="videos: classifying frames", file=sys.stderr):
        statuses[clip] = dict(counts)
        first = {}
        for _, expression, path in sorted(chosen):
            first.setdefault(expression, path)
        photos += [R.Photo("videos", f"{clip}/f{i:05d}", path, clip, first[expression],
                           expression=expression, order=i) for i, expression, path in chosen]
    return sorted(photos, key=lambda p: p.key), statuses


def tasks_for(sets: dict[str, list[R.Photo]], methods: list[str]) -> list[tuple[R.Photo, str]]:
    """(photo, method) pairs to measure in the pool ("score" runs as a batch afterwards)."""
    tasks = []
    for name, photos in sets.items():
        for method in methods:
            if method in SCORE_RUNS or (method == "balanced" and name not in BALANCED_SETS):
                continue
            if method == "tracked":  # only where a person has a reference photo
                tasks += [(p, method) for p in photos if p.reference]
            elif name != "cross":
                tasks += [(p, method) for p in photos]
    # Grouped by reference, so that each worker prepares few references and reuses them.
    return sorted(tasks, key=lambda t: (t[1], t[0].reference, t[0].key))


# ================================================================ symmetry score
def score_entries(sets: dict[str, list[R.Photo]]) -> list[R.ScoreEntry]:
    """Where each photo goes so that, whenever `symmetry score` compares photos with a reference
    (a person's earliest photo, of the same expression or at rest, depending on the version),
    it compares each with the one this set needs; when score measures every photo on its own,
    the layout changes nothing.

    Lighting puts the frontal light on the first date and each other light on a date of its own
    after it (each a later "session" at rest); repeats put a person's photos on successive
    dates, first photo first; a video clip is one person on one date with frames named
    EXPRESSION_FRAME (the earliest frame of an expression comes first; a wink is no protocol
    expression and reads as unlabelled); palda and palsy photos are one person each, so each is
    measured on its own."""
    entries = []
    for name, photos in sets.items():
        if name == "cross":
            continue
        for i, p in enumerate(photos):
            person = f"{name}-{p.person}".replace("/", "_").replace(".", "_")
            if name == "lighting":
                day = 0 if p.path == p.reference else 1 + i
                entries.append(R.ScoreEntry(p.key, p.path, person, str(BASE_DATE + dt.timedelta(day)), "rest"))
            elif name == "repeats":
                entries.append(R.ScoreEntry(p.key, p.path, person, str(BASE_DATE + dt.timedelta(p.order)), "rest"))
            elif name == "videos":
                entries.append(R.ScoreEntry(p.key, p.path, person, str(BASE_DATE), Path(p.path).stem))
            else:
                entries.append(R.ScoreEntry(p.key, p.path, person, str(BASE_DATE), "rest"))
    return entries


# ================================================================ main
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Sets, figures and the held-out split: see the top of this file.")
    p.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "real",
                   help="the real-data folder (default: ../shared/real next to the repository)")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help=f"comma-separated, from {', '.join(ALL_METHODS)} (default: all but score-tracked, "
                        "`symmetry score --method tracked`; raw landmarks always run: they give the hand "
                        "points' mm scale and the palsy baseline)")
    p.add_argument("--half", choices=("heldout", "tuning", "all"), default="heldout",
                   help="which half of the people to report (default: heldout, kept out of all tuning)")
    p.add_argument("--quick", action="store_true", help="a small subsample of every set, without 'balanced'")
    p.add_argument("--jobs", type=int, default=2, help="worker processes, one landmarker each (default 2)")
    p.add_argument("--json", type=Path, metavar="FILE", help="save every reading and figure to FILE")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(ALL_METHODS)
    if unknown:
        p.error(f"unknown method(s) {sorted(unknown)}; choose from {', '.join(ALL_METHODS)}")
    if args.quick and "balanced" in methods:
        methods.remove("balanced")
    args.methods = ["landmarks"] + [m for m in methods if m != "landmarks"]
    if not args.root.is_dir():
        p.error(f"{args.root} is not a folder: pass --root (see ../shared/real/README.md)")
    return args


def measure_all(args, tmp: Path) -> tuple[dict, dict, dict, dict]:
    """Every (photo, method) reading; the sets; the hand points; the video status counts."""
    from tqdm import tqdm

    sets, points = select_photos(args.root, args.half, args.quick)
    ctx = multiprocessing.get_context("spawn")  # mediapipe and fork do not mix
    with ctx.Pool(args.jobs, initializer=_init_worker) as pool:
        sets["videos"], clip_statuses = video_photos(pool, args.root, args.half, args.quick, tmp)
        sets["cross"] = cross_photos(sets["repeats"]) if "tracked" in args.methods else []
        tasks = tasks_for(sets, args.methods)
        readings = {}
        for r in tqdm(pool.imap_unordered(_measure_task, tasks, chunksize=4), total=len(tasks),
                      desc="measuring", file=sys.stderr):
            readings[(r.key, r.method)] = r
    runs = [m for m in args.methods if m in SCORE_RUNS]
    if runs:
        entries = score_entries(sets)
        links = R.write_score_layout(entries, tmp / "layout")
        for name in runs:
            print(f"{name}: {len(entries)} photos laid out under {tmp / 'layout'} ...", file=sys.stderr)
            for r in R.score_readings(tmp / "layout", tmp / f"{name}-out", links, args.jobs, SCORE_RUNS[name]):
                readings[(r.key, r.method)] = r
    return sets, points, readings, clip_statuses


def _plain(value):
    """`value` with NaN as null, so that the JSON file is standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="validate-real-"))
    try:
        sets, points, readings, clip_statuses = measure_all(args, tmp)
        fig = all_figures(sets, points, readings, args.methods)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = {name: len(photos) for name, photos in sets.items()}
    print(f"# Real-data validation ({args.half} half{', quick' if args.quick else ''})\n")
    print(f"photos per set: {counts}; methods: {', '.join(args.methods)}")
    sampled = Counter()
    for c in clip_statuses.values():
        sampled.update(c)
    print(f"video frames classified (every {FRAME_STEP}rd, raw landmarks): {dict(sampled)}")
    statuses = Counter((m, r.status) for (_, m), r in readings.items() if not r.ok)
    if statuses:
        print("readings not ok: " + ", ".join(f"{m} {s}: {n}" for (m, s), n in sorted(statuses.items())))
    print(report(fig, args.half))
    print(summary(fig, [m for m in SUMMARY_METHODS if m in args.methods], args.half))
    elapsed = time.perf_counter() - started
    print(f"\n{len(readings)} readings in {elapsed:.0f} s")
    if args.json:
        data = {"half": args.half, "quick": args.quick, "methods": args.methods, "elapsed_s": elapsed,
                "photos": {k: [p.__dict__ for p in v] for k, v in sets.items()}, "video_frame_statuses": clip_statuses,
                "readings": [r.to_dict() for r in readings.values()], "figures": fig}
        args.json.write_text(json.dumps(_plain(data), indent=1, default=str))
        print(f"raw figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
