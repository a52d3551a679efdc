"""`symmetry score` / `symmetry.score_folder` on a messy tree of real faces, with the real model.

One module-scoped batch (the CLI, 2 worker processes) is shared by the row checks,
the rerun check and the Dask comparison. The crash tests run the CLI in a
subprocess and kill it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import symmetry
from symmetry.batch.discover import find_images
from symmetry.batch.engine import run_batch, score_folder
from symmetry.batch.pool import run_tasks
from symmetry.batch.sinks import BATCH_COLUMNS, CsvSink, read_scores
from symmetry.batch.worker import score_file
from symmetry.face.measures import COLUMNS

from conftest import SAMPLE_FACES

NOON_2022_02_02 = dt.datetime(2022, 2, 2, 12).timestamp()


def cli(*args, timeout=300, **kw):
    return subprocess.run(
        [sys.executable, "-m", "symmetry.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw
    )


def save(rgb: np.ndarray, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, **kw)
    return path


@pytest.fixture(scope="module")
def faces():
    return {name: np.asarray(Image.open(p).convert("RGB")) for name, p in SAMPLE_FACES.items()}


def build_messy_tree(root: Path, faces) -> dict[str, dict]:
    """The tree of the issue; returns {path relative to root: expected row values}."""
    astro, grace = faces["astronaut"], faces["grace_hopper"]
    exp = {}

    def expect(rel, status="ok", person="", date="", phase="", expression="", sources=("", "", "", "")):
        exp[rel] = dict(status=status, person=person, date=date, phase=phase, expression=expression,
                        person_source=sources[0], date_source=sources[1], phase_source=sources[2],
                        expression_source=sources[3])

    folder = ("folder", "folder", "folder", "filename")
    save(astro, root / "anna/2024-03-01_pre/rest.jpg", quality=92)
    expect("anna/2024-03-01_pre/rest.jpg", person="anna", date="2024-03-01", phase="pre", expression="rest", sources=folder)
    shutil.copyfile(root / "anna/2024-03-01_pre/rest.jpg", root / "anna/2024-03-01_pre/rest copy.jpg")
    expect("anna/2024-03-01_pre/rest copy.jpg", person="anna", date="2024-03-01", phase="pre", expression="rest", sources=folder)
    save(grace, root / "anna/2024-03-01_pre/smile_1.JPG", format="JPEG", quality=90)
    expect("anna/2024-03-01_pre/smile_1.JPG", person="anna", date="2024-03-01", phase="pre", expression="smile", sources=folder)
    save(astro, root / "anna/2024-03-01_post/Brow_Raise.jpeg", quality=70)  # re-encoded
    expect("anna/2024-03-01_post/Brow_Raise.jpeg", person="anna", date="2024-03-01", phase="post",
           expression="brow_raise", sources=folder)
    save(grace, root / "anna/2024-03-08/eyes_closed.PNG", format="PNG")
    expect("anna/2024-03-08/eyes_closed.PNG", person="anna", date="2024-03-08", expression="eyes_closed_gentle",
           sources=("folder", "folder", "", "filename"))
    os.symlink(root / "anna", root / "anna/2024-03-08/loop")  # a symlink loop
    (root / "anna/.DS_Store").write_bytes(b"\0\1")
    (root / "anna/notes.txt").write_text("session notes")

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2023:05:06 10:00:00"
    save(astro, root / "bob/session two after/IMG_0001 pucker.jpg", quality=90, exif=exif)
    expect("bob/session two after/IMG_0001 pucker.jpg", person="bob", date="2023-05-06", phase="post",
           expression="pucker", sources=("folder", "exif", "folder", "filename"))
    webp = save(grace, root / "bob/misc/photo.webp", quality=90)
    os.utime(webp, (NOON_2022_02_02, NOON_2022_02_02))
    # Unlabelled photos get the expression their face shows (grace_hopper rests, astronaut smiles).
    expect("bob/misc/photo.webp", person="bob", date="2022-02-02", expression="rest",
           sources=("folder", "mtime", "", "blendshapes"))

    save(astro[::2, ::2].repeat(2, 0).repeat(2, 1), root / "Zoë/2024-04-01_post/rest.jpg", quality=85)
    expect("Zoë/2024-04-01_post/rest.jpg", person="Zoë", date="2024-04-01", phase="post", expression="rest", sources=folder)
    save(grace, root / "scans/scan_001.jpg", quality=88)  # labelled by the manifest
    expect("scans/scan_001.jpg", person="carol", date="2024-05-05", phase="pre", expression="smile_open",
           sources=("manifest",) * 4)

    bad = root / "bad"
    bad.mkdir()
    for name in ("empty.jpg", "truncated.jpg", "notes.jpg", "tiny.png", "landscape.jpg"):
        expect(f"bad/{name}", status="unreadable", person="bad", sources=("folder", "mtime", "", ""))
    (bad / "empty.jpg").write_bytes(b"")
    data = (root / "anna/2024-03-01_pre/smile_1.JPG").read_bytes()
    (bad / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (bad / "notes.jpg").write_text("this is not a photo")
    save(np.zeros((1, 1, 3), np.uint8), bad / "tiny.png")
    exp["bad/tiny.png"]["status"] = "too_small"
    yy, xx = np.mgrid[0:480, 0:640]
    sky = np.stack([100 + yy // 6, 150 + xx // 8, 200 + 0 * xx], axis=2).astype(np.uint8)
    save(sky, bad / "landscape.jpg", quality=90)
    exp["bad/landscape.jpg"]["status"] = "no_face"
    for name in exp:
        if exp[name]["date_source"] == "mtime":
            os.utime(root / name, (NOON_2022_02_02, NOON_2022_02_02))
            exp[name]["date"] = "2022-02-02"

    save(grace, root / ".hidden/secret.jpg")  # hidden: skipped
    save(astro, root / "astronaut.png")  # directly in the scanned folder: no person
    os.utime(root / "astronaut.png", (NOON_2022_02_02, NOON_2022_02_02))
    expect("astronaut.png", date="2022-02-02", expression="smile", sources=("", "mtime", "", "blendshapes"))
    return exp


@pytest.fixture(scope="module")
def messy(tmp_path_factory, faces):
    """The messy tree scored once by the CLI with 2 workers; output folder inside the tree."""
    base = tmp_path_factory.mktemp("messy")
    root = base / "photos"
    expected = build_messy_tree(root, faces)
    manifest = base / "manifest.csv"
    manifest.write_text("path,person,date,phase,expression\nphotos/scans/scan_001.jpg,carol,2024-05-05,pre,open smile\n")
    out = root / "_results"
    run = cli("score", root, "--out", out, "--jobs", 2, "--manifest", manifest, "--method", "tracked")
    return dict(root=root, expected=expected, manifest=manifest, out=out, run=run, table=read_scores(out / "scores.csv"))


@pytest.mark.slow
def test_every_row_of_the_messy_tree(messy):
    run, table, root = messy["run"], messy["table"], messy["root"]
    assert run.returncode == 1, run.stderr  # some photos could not be measured
    expected = {str(root / rel): values for rel, values in messy["expected"].items()}
    assert list(table["path"]) == sorted(expected)  # one row per photo, sorted; nothing hidden, no loop twice
    assert list(table.columns) == list(BATCH_COLUMNS) and list(table.columns[: len(COLUMNS)]) == list(COLUMNS)
    for _, row in table.iterrows():
        want = expected[row["path"]]
        got = {k: row[k] for k in want}
        assert got == want, row["path"]
        assert row["message"] if row["status"] != "ok" else True, row["path"]
        assert row["model"] == "face_landmarker.task" and row["version"] == symmetry.__version__
        assert len(row["file_sha256"]) == 64
    assert table.loc[table["path"].str.endswith("IMG_0001 pucker.jpg"), "exif_datetime"].item() == "2023:05:06 10:00:00"
    assert "expressions: 2 photos had no expression in their folder or file name; recognised from the face: " \
        "1 smile, 1 rest" in run.stdout, run.stdout
    empty = next(line for line in run.stdout.splitlines() if line.strip().startswith("unreadable:") and "empty.jpg" in line)
    assert empty.count("empty.jpg") == 1, empty  # the file is named once, by its path
    # Each person's first resting photo (by date, pre first, then path) is their reference ("mirrored");
    # their other photos are tracked from it, and the two byte-identical photos measure the same.
    by_path = table.set_index("path")
    ref = str(root / "anna/2024-03-01_pre/rest copy.jpg")
    assert by_path.loc[ref, "method"] == "mirrored" and by_path.loc[ref, "reference"] == ""
    twin = by_path.loc[str(root / "anna/2024-03-01_pre/rest.jpg")]
    assert twin["method"] == "tracked" and twin["reference"] == ref
    # (within the tracked method's repeatability: README, "How accurate it is")
    for c, tolerance in (("mouth_droop_mm", 0.05), ("brow_asymmetry_mm", 0.05), ("eye_opening_difference_mm", 0.15)):
        assert abs(twin[c] - by_path.loc[ref, c]) <= tolerance, c
    # Each expression is compared with its own kind: anna's first brow raise and first smile (Grace
    # Hopper filed under anna) are measured on their own, not tracked from her resting photo.
    for first in ("anna/2024-03-01_post/Brow_Raise.jpeg", "anna/2024-03-01_pre/smile_1.JPG"):
        row = by_path.loc[str(root / first)]
        assert row["method"] == "mirrored" and row["reference"] == "" and row["status"] == "ok", first
    # Without a person, or a person without a resting photo: measured on their own.
    assert by_path.loc[str(root / "astronaut.png"), "method"] == "mirrored"
    assert by_path.loc[str(root / "bob/misc/photo.webp"), "method"] == "mirrored"


@pytest.mark.slow
def test_rows_equal_analyze_on_the_same_file(messy):
    """Every value of every row is what `symmetry.analyze` gives for that file (bit for bit), with the
    row's method and reference photo."""
    for _, row in messy["table"].iterrows():
        if row["method"] == "tracked":
            m = symmetry.analyze(row["path"], reference=row["reference"]).to_dict()
        elif row["reference"]:  # a photo that did not line up with its reference: measured on its own
            m = symmetry.analyze(row["path"], reference=row["reference"]).to_dict()
        else:
            m = symmetry.analyze(row["path"], method=row["method"]).to_dict()
        for c in COLUMNS:
            if c in ("person", "date", "phase", "expression"):
                continue
            a, b = row[c], m[c]
            if isinstance(b, float) and math.isnan(b):
                assert math.isnan(a), (row["path"], c)
            else:
                assert a == b, (row["path"], c, a, b)


@pytest.mark.slow
def test_cli_output_is_clean_and_tells_what_happened(messy):
    run, out = messy["run"], messy["out"]
    assert "15 photos: 15 scored" in run.stdout
    assert "status: no_face 1, ok 10, too_small 1, unreadable 3" in run.stdout
    assert f"table: {out / 'scores.csv'} (15 rows)" in run.stdout
    assert "unreadable: " in run.stdout and "empty.jpg" in run.stdout
    assert "a link to a folder already scanned" in run.stdout  # the symlink loop is reported, not followed
    assert "W0000" not in run.stderr and "INFO:" not in run.stderr and "Traceback" not in run.stderr
    lines = (out / "scores.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 16 and lines[0].split(",")[: len(COLUMNS)] == list(COLUMNS)


@pytest.mark.slow
def test_rerun_skips_everything_and_changes_nothing(messy):
    csv_path = messy["out"] / "scores.csv"
    before = csv_path.read_bytes()
    run = cli("score", messy["root"], "--out", messy["out"], "--manifest", messy["manifest"], "--jobs", 2,
              "--method", "tracked")
    assert run.returncode == 1, run.stderr
    assert "15 photos: 0 scored" in run.stdout and "15 already scored" in run.stdout
    assert csv_path.read_bytes() == before


@pytest.mark.slow
def test_dask_cluster_gives_the_same_table(messy, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        df = score_folder(messy["root"], tmp_path / "dask", scheduler=cluster.scheduler_address,
                          manifest=messy["manifest"], method="tracked", progress=False)
    pd.testing.assert_frame_equal(df, messy["table"], check_exact=True)
    assert df.attrs["summary"]["scored"] == 15
    pd.testing.assert_frame_equal(read_scores(tmp_path / "dask" / "scores.csv"), messy["table"], check_exact=True)


# ---------------------------------------------------------------- crash safety
def _photos(folder: Path, faces, n: int) -> list[Path]:
    """`n` photos of one face with distinct content (identical files would be scored once)."""
    paths = []
    for i in range(n):
        rgb = faces["astronaut"].copy()
        rgb[0, :8] = np.unpackbits(np.uint8(i))[:, None] * 255  # a few corner pixels encode i
        paths.append(save(rgb, folder / f"photo_{i:03d}.jpg", quality=90))
    return paths


def _csv_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "partial last line"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(BATCH_COLUMNS)
    assert all(len(r) == len(BATCH_COLUMNS) for r in rows)
    return rows[1:]


def _wait_for_rows(csv_path: Path, proc, n: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if csv_path.exists():
            lines = csv_path.read_bytes().count(b"\n") - 1
            if lines >= n:
                return lines
        time.sleep(0.005)
    raise AssertionError(f"the batch did not write {n} rows: {proc.poll()} {proc.stderr.read() if proc.stderr else ''}")


def _children(pid: int) -> list:
    psutil = pytest.importorskip("psutil")
    return psutil.Process(pid).children(recursive=True)


def _assert_gone(procs) -> None:
    psutil = pytest.importorskip("psutil")
    gone, alive = psutil.wait_procs(procs, timeout=15)
    assert not alive, f"worker processes outlived the batch: {alive}"


@pytest.mark.slow
def test_sigkill_leaves_a_valid_csv_and_a_rerun_completes_it(tmp_path, faces):
    n = 40
    _photos(tmp_path / "photos", faces, n)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "symmetry.cli", "score", tmp_path / "photos", "--out", out, "--jobs", "1",
            "--method", "landmarks"]
    proc = subprocess.Popen(list(map(str, args)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_rows(out / "scores.csv", proc, 3)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    rows = _csv_rows(out / "scores.csv")
    paths = [r[0] for r in rows]
    assert 3 <= len(rows) < n, "the kill must land mid-run"
    assert len(set(paths)) == len(paths)
    assert all(r[BATCH_COLUMNS.index("status")] == "ok" for r in rows)
    _assert_gone(workers)  # orphaned workers notice the parent died and exit

    run = cli("score", tmp_path / "photos", "--out", out, "--jobs", "1", "--method", "landmarks")
    assert run.returncode == 0, run.stderr
    assert f"{n} photos: {n - len(rows)} scored" in run.stdout and f"{len(rows)} already scored" in run.stdout
    final = _csv_rows(out / "scores.csv")
    assert sorted(r[0] for r in final) == [str(tmp_path / "photos" / f"photo_{i:03d}.jpg") for i in range(n)]
    assert [r[0] for r in final] == sorted(r[0] for r in final)


@pytest.mark.slow
def test_ctrl_c_stops_promptly_and_leaves_valid_output(tmp_path, faces):
    _photos(tmp_path / "photos", faces, 40)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "symmetry.cli", "score", tmp_path / "photos", "--out", out, "--jobs", "2",
            "--method", "landmarks"]
    # A terminal's Ctrl-C goes to the whole process group: parent and workers.
    proc = subprocess.Popen(list(map(str, args)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _wait_for_rows(out / "scores.csv", proc, 3)
        workers = _children(proc.pid)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        stopped_after = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    print(f"Ctrl-C to exit: {stopped_after:.2f} s")
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout and "Run the same command again" in stdout
    assert "Traceback" not in stderr
    rows = _csv_rows(out / "scores.csv")
    assert 3 <= len(rows) < 40 and [r[0] for r in rows] == sorted({r[0] for r in rows})
    _assert_gone(workers)


def crash_on_crash_jpg(path, *args):
    """Runs in a worker process: dies like a segfault on one photo, scores the others."""
    if os.path.basename(path) == "crash.jpg":
        os._exit(3)
    return score_file(path, *args)


@pytest.mark.slow
def test_a_photo_that_kills_its_worker_gets_an_error_row_and_the_rest_are_scored(tmp_path, faces):
    paths = _photos(tmp_path, faces, 5)
    os.replace(paths[2], tmp_path / "crash.jpg")
    todo = sorted(str(p) for p in tmp_path.iterdir())
    rows = []
    workers, interrupted = run_tasks(todo, lambda p: (p, None, "landmarks", None), rows.append, jobs=2,
                                     score=crash_on_crash_jpg)
    status = {os.path.basename(r["path"]): (r["status"], r["message"]) for r in rows}
    assert len(rows) == 5 and not interrupted
    assert status.pop("crash.jpg") == ("error", "the scoring process crashed on this file. The file may be damaged; "
                                                "try opening and re-saving it.")
    assert {s for s, _ in status.values()} == {"ok"}


@pytest.mark.slow
def test_a_script_without_main_guard_works_and_is_told_how_to_use_every_core(tmp_path, faces):
    save(faces["astronaut"], tmp_path / "p" / "a.jpg")
    script = tmp_path / "myscript.py"
    script.write_text(f"import symmetry\ndf = symmetry.score_folder({str(tmp_path / 'p')!r}, progress=False)\n"
                      "print(len(df), df['status'].iloc[0])\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "1 ok", run.stderr
    assert 'if __name__ == "__main__":' in run.stderr and "Traceback" not in run.stderr
    # under the guard: worker processes, and no warning
    script.write_text(f"import symmetry\nif __name__ == '__main__':\n"
                      f"    df = symmetry.score_folder({str(tmp_path / 'p')!r}, progress=False)\n    print(len(df))\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "1" and "__main__" not in run.stderr, run.stderr


def test_csv_sink_drops_a_partial_last_line(tmp_path):
    sink = CsvSink(tmp_path / "scores.csv")
    row = {c: "" for c in BATCH_COLUMNS} | {"path": "/a.jpg", "status": "ok", "file_sha256": "ab", "width": 5,
                                             "message": "two\nlines", "mouth_droop_mm": 0.1 + 0.2}
    sink.append(row)
    sink.append(row | {"path": "/b.jpg"})
    sink.close()
    with open(tmp_path / "scores.csv", "ab") as f:
        f.write(b'/c.jpg,,,,,ok,"half a ro')  # what a kill -9 in the middle of a write would leave
    sink = CsvSink(tmp_path / "scores.csv")
    rows = sink.load()
    assert [r["path"] for r in rows] == ["/a.jpg", "/b.jpg"] and "unfinished last line" in sink.notes[0]
    assert rows[0]["mouth_droop_mm"] == 0.1 + 0.2 and rows[0]["width"] == 5 and rows[0]["message"] == "two lines"
    assert math.isnan(rows[0]["symmetry_index"]) and rows[0]["person"] == ""


# ---------------------------------------------------------------- resume semantics, any executor
@pytest.mark.slow
def test_resume_is_keyed_by_content_and_labels_are_always_fresh(tmp_path, faces):
    """With a single-photo method: a row depends on the photo's content only."""
    root = tmp_path / "photos"
    save(faces["astronaut"], root / "anna/2024-03-01_pre/rest.jpg", quality=90)
    save(faces["grace_hopper"], root / "anna/2024-03-01_pre/smile.jpg", quality=90)
    out = tmp_path / "out"
    with ThreadPoolExecutor(2) as pool:  # any Executor; threads get one landmarker each
        first = score_folder(root, out, executor=pool, method="canonical", progress=False)
        assert first.attrs["summary"]["scored"] == 2 and list(first["status"]) == ["ok", "ok"]

        # A copy under a new name and a manifest that renames the person: nothing to score.
        shutil.copyfile(root / "anna/2024-03-01_pre/rest.jpg", root / "anna/2024-03-01_pre/rest_2.jpg")
        manifest = tmp_path / "m.csv"
        manifest.write_text("path,person\nphotos/anna/2024-03-01_pre/smile.jpg,Anna B.\n")
        second = score_folder(root, out, executor=pool, manifest=manifest, method="canonical", progress=False)
        assert second.attrs["summary"]["scored"] == 0 and second.attrs["summary"]["skipped"] == 3
        assert list(second["person"]) == ["anna", "anna", "Anna B."]
        values = second.drop(columns=["path", "person", "person_source"])
        assert values.iloc[0].equals(values.iloc[1])  # the copy reuses the measured row

        # Changed content at the same path is scored again; the rest is not.
        save(faces["astronaut"], root / "anna/2024-03-01_pre/rest.jpg", quality=60)
        third = score_folder([root / "anna", root], out, executor=pool, method="canonical", progress=False)  # order does not matter
        assert third.attrs["summary"]["scored"] == 1
        assert third["file_sha256"].iloc[0] != second["file_sha256"].iloc[0]
        fourth = score_folder(root, out, executor=pool, force=True, method="canonical", progress=False)
        assert fourth.attrs["summary"]["scored"] == 3
    pd.testing.assert_frame_equal(fourth, third, check_exact=True)
    assert list(read_scores(out / "scores.csv")["path"]) == list(third["path"])


def test_per_person_references_resume_and_ignore_listing_order(tmp_path, faces):
    """method="auto": the reference is chosen by date, phase and path, never by listing order; a new
    later photo is tracked from the same reference on a rerun, and only it is scored."""
    root = tmp_path / "photos"
    astro = faces["astronaut"]
    save(astro, root / "anna/2024-03-08_pre/rest.jpg", quality=90)
    save(astro, root / "anna/2024-03-01_post/rest.jpg", quality=85)
    save(astro, root / "anna/2024-03-01_pre/rest_2.jpg", quality=80)
    save(astro, root / "anna/2024-03-01_pre/smile.jpg", quality=75)
    first_rest = str(root / "anna/2024-03-01_pre/rest_2.jpg")
    with ThreadPoolExecutor(2) as pool:
        one = score_folder(root, tmp_path / "one", executor=pool, method="tracked", progress=False)
        two = score_folder([root / "anna/2024-03-08_pre", root], tmp_path / "two", executor=pool, method="tracked",
                           progress=False)
        pd.testing.assert_frame_equal(one, two, check_exact=True)
        by_path = one.set_index("path")
        smile = str(root / "anna/2024-03-01_pre/smile.jpg")
        assert by_path.loc[first_rest, "method"] == "mirrored"
        # The first smile is measured on its own: a smile is never tracked from a resting photo.
        assert by_path.loc[smile, "method"] == "mirrored" and by_path.loc[smile, "reference"] == ""
        others = by_path.drop(index=[first_rest, smile])
        assert (others["method"] == "tracked").all() and (others["reference"] == first_rest).all()

        save(astro, root / "anna/2024-03-15_pre/rest.jpg", quality=88)
        three = score_folder(root, tmp_path / "one", executor=pool, method="tracked", progress=False)
        # The new photo, and the reference measured again to track it (the same row comes out).
        assert three.attrs["summary"]["scored"] == 2 and three.attrs["summary"]["skipped"] == 3
        pd.testing.assert_frame_equal(three[three["path"] != str(root / "anna/2024-03-15_pre/rest.jpg")]
                                      .reset_index(drop=True), one, check_exact=True)
        assert three.set_index("path").loc[str(root / "anna/2024-03-15_pre/rest.jpg"), "reference"] == first_rest


@pytest.mark.slow
def test_by_default_every_photo_is_measured_on_its_own_as_analyze_does(tmp_path, faces):
    """method="auto": the single-photo default for every photo, so a photo gives the same
    numbers in `score` as in `analyze`, whatever else is in the folder."""
    root = tmp_path / "photos"
    save(faces["astronaut"], root / "anna/2024-03-01_pre/rest.jpg", quality=90)
    save(faces["astronaut"], root / "anna/2024-03-08_pre/rest.jpg", quality=80)
    with ThreadPoolExecutor(1) as pool:
        table = score_folder(root, executor=pool, progress=False)
    assert (table["method"] == "canonical").all() and (table["reference"] == "").all()
    for _, row in table.iterrows():
        alone = symmetry.analyze(row["path"])
        for c in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"):
            assert row[c] == pytest.approx(getattr(alone, c), abs=1e-9), c


@pytest.mark.slow
def test_a_flat_folder_is_one_person_with_a_session_per_date(tmp_path, faces):
    """IMG_0001 ... in one folder, no person folders: one person named after the folder, sessions by
    EXIF date (or the file's time, said in the report's notes), and the run says so at the start."""
    root = tmp_path / "phone"
    dates = ["2024:01:05 10:00:00", "2024:01:05 10:01:00", "2024:01:12 10:00:00", None]
    for i, when in enumerate(dates, 1):
        exif = Image.Exif()
        if when:
            exif.get_ifd(0x8769)[0x9003] = when
        save(faces["grace_hopper"], root / f"IMG_{i:04d}.jpg", quality=90, exif=exif)
    os.utime(root / "IMG_0004.jpg", (NOON_2022_02_02, NOON_2022_02_02))
    said = []
    with ThreadPoolExecutor(1) as pool:
        table = run_batch(root, executor=pool, progress=False, log=said.append).table
        named = run_batch(root, executor=pool, progress=False, person="Anna").table
    assert (table["person"] == "phone").all() and (table["person_source"] == "assumed").all()
    assert list(table["date"]) == ["2024-01-05", "2024-01-05", "2024-01-12", "2022-02-02"]
    assert any("4 photos, no person folders: taken as one person (phone), 3 session dates (1 dated by the "
               "file's time" in m for m in said), said
    assert (named["person"] == "Anna").all()
    t = symmetry.compute_trends(table)
    assert list(t.people["person"]) == ["phone"] and t.people["n_sessions"].item() == 3
    assert any("dated by the file's time (IMG_0004.jpg)" in n.message for n in t.notes)
    assert any("4 photo(s) had no expression in their folder or file name; their expression was recognised "
               "from the face (4 rest)" in n.message for n in t.notes)


def test_find_images_is_deterministic(tmp_path):
    for rel in ("b/x.jpg", "a/y.JPG", "a/z.txt", "a/.w.jpg", "c.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"1")
    os.symlink(tmp_path / "a", tmp_path / "b" / "alias")  # same folder twice
    one = find_images([tmp_path / "b", tmp_path])
    two = find_images([tmp_path, tmp_path / "b", tmp_path / "c.png"])
    assert one.images == two.images
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in one.images] == ["a/y.JPG", "b/x.jpg", "c.png"]
    assert {f.root for f in one.images} == {str(tmp_path)}  # widest folder wins: keeps the person folder
    assert one.ignored == 2


# ---------------------------------------------------------------- the command line
@pytest.mark.slow
def test_overlays_json_and_exit_0(tmp_path, faces):
    root = tmp_path / "photos"
    save(faces["grace_hopper"], root / "anna/2024-03-01_pre/rest.jpg", quality=90)
    out = tmp_path / "out"
    run = cli("score", root, "--out", out, "--overlays", "--format", "json", "--jobs", 1)
    assert run.returncode == 0, run.stderr
    table = read_scores(out / "scores.csv")
    overlay = out / table["overlay"].item()
    assert overlay.name == "rest_overlay.jpg" and overlay.parent == out / "overlays/photos/anna/2024-03-01_pre"
    with Image.open(overlay) as im:
        assert im.size[0] >= 1000 and im.mode == "RGB" and im.format == "JPEG"
    import json

    rows = json.loads((out / "scores.json").read_text())
    assert rows[0]["path"] == table["path"].item() and rows[0]["reference"] == ""
    assert rows[0]["symmetry_index"] == table["symmetry_index"].item()
    assert f"overlays: {out / 'overlays'}/ (1 written)" in run.stdout


@pytest.mark.slow
def test_usage_errors_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.csv").write_text("name\nx\n")
    assert cli("score", tmp_path / "missing", "--out", tmp_path / "o").returncode == 2
    nothing = cli("score", tmp_path / "empty", "--out", tmp_path / "o")
    assert nothing.returncode == 2 and "no photos found" in nothing.stderr
    assert cli("score", tmp_path, "--out", tmp_path / "o", "--jobs", "0").returncode == 2
    assert cli("score", tmp_path).returncode == 2  # --out is required
    save(np.zeros((80, 80, 3), np.uint8), tmp_path / "p" / "a.png")
    manifest = cli("score", tmp_path / "p", "--out", tmp_path / "o", "--manifest", tmp_path / "bad.csv")
    assert manifest.returncode == 2 and "no 'path' column" in manifest.stderr


def test_help_explains_every_option_with_examples():
    from symmetry.cli import build_parser

    run = cli("score", "--help")
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    score = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "score")[1]
    for action in score._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help and len(action.help) > 15
    for must in ("examples:", "symmetry score sample_images/ --out results/", "--scheduler tcp://", "exit status: 0",
                 "1 some photos", "2 usage error", "manifest", "EXIF", "modification time", "kill"):
        assert must in text, must
