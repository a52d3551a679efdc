"""Person, date, phase and expression from manifest, folders, file names, EXIF and file time.

Pure string tests, plus small files for the manifest and EXIF readers (no detection).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from symmetry.batch.labels import (
    ManifestError,
    Session,
    date_folder,
    describe,
    describe_file,
    expression_in,
    manifest_key,
    normalize_expression,
    parse_date,
    phase_in,
    read_manifest,
)
from symmetry.photo.imageio import read_exif_datetime
from symmetry.vocabulary import EXPRESSIONS


@pytest.mark.parametrize(
    "name, expected",
    [
        *[(e, e) for e in EXPRESSIONS],  # the standard names map to themselves
        ("smile_1", "smile"),
        ("SMILE_OPEN_2", "smile_open"),
        ("open smile", "smile_open"),
        ("IMG_0042_big smile", "smile"),
        ("Brow", "brow_raise"),
        ("eyebrows-raised", "brow_raise"),
        ("eyes_closed", "eyes_closed_gentle"),
        ("EyesClosed_tight", "eyes_closed_tight"),  # camel case is one word; "tight" decides
        ("eyes closed tight (3)", "eyes_closed_tight"),
        ("squeeze", "eyes_closed_tight"),
        ("resting face", "rest"),
        ("neutral", "rest"),
        ("kiss", "pucker"),
        ("say_eee", "eee"),
        ("nose wrinkle", "snarl"),
        ("IMG_1234", ""),
        ("smile and brow", ""),  # two expressions: ambiguous, left empty
        ("restaurant", ""),  # whole words only
        ("Lächeln", ""),
    ],
)
def test_expression_keywords(name, expected):
    assert expression_in(name) == expected


@pytest.mark.parametrize(
    "name, expected",
    [("pre", "pre"), ("before_massage", "pre"), ("smile_post", "post"), ("After", "post"),
     ("before_after", ""), ("prep", ""), ("postcard", ""), ("2024-03-01", "")],
)
def test_phase_words(name, expected):
    assert phase_in(name) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("2024-03-01", "2024-03-01"), ("IMG_20240301_101500", "2024-03-01"), ("2024_03_01_pre", "2024-03-01"),
     ("2024.3.1", ""), ("20241301", ""), ("2024-02-30", ""), ("photo_12345678", ""), ("120240301", "")],
)
def test_dates_in_names(text, expected):
    assert parse_date(text) == expected


def test_date_folders():
    assert date_folder("2024-03-01_pre") == "2024-03-01"
    assert date_folder("2024-03-01 after massage") == "2024-03-01"
    assert date_folder("20240301") == "2024-03-01"
    assert date_folder("session 2024-03-01") == ""  # a session folder starts with its date
    assert date_folder("2024-03-01x") == ""


ROOT = os.path.abspath("/data/clients")


def p(*parts):
    return os.path.join(ROOT, *parts)


def test_capture_layout():
    s = describe(p("anna", "2024-03-01_pre", "smile_open_2.jpg"), ROOT)
    assert s == Session("anna", "2024-03-01", "pre", "smile_open", "folder", "folder", "folder", "filename")


def test_dated_folder_wins_over_exif_and_mtime_and_the_root_can_be_the_person():
    # Scanning anna/ itself: the person is the folder above the dated session folder.
    s = describe(p("anna", "2024-03-08", "rest.jpg"), p("anna"), exif_datetime="2020:01:01 10:00:00", mtime=0)
    assert (s.person, s.date, s.date_source, s.phase, s.phase_source) == ("anna", "2024-03-08", "folder", "", "")


def test_undated_session_folder():
    noon = dt.datetime(2022, 2, 2, 12).timestamp()
    s = describe(p("bob", "session two after", "IMG_0001 pucker.jpg"), ROOT, mtime=noon)
    assert (s.person, s.person_source) == ("bob", "folder")
    assert (s.phase, s.phase_source) == ("post", "folder")
    assert (s.expression, s.expression_source) == ("pucker", "filename")
    assert (s.date, s.date_source) == ("2022-02-02", "mtime")
    s = describe(p("bob", "misc", "IMG_0001 pucker pre.jpg"), ROOT, exif_datetime="2023:05:06 10:00:00", mtime=noon)
    assert (s.date, s.date_source, s.phase, s.phase_source) == ("2023-05-06", "exif", "pre", "filename")


def test_date_in_file_name_comes_before_exif():
    s = describe(p("bob", "IMG_20210704_101500.jpg"), ROOT, exif_datetime="2023:05:06 10:00:00")
    assert (s.date, s.date_source) == ("2021-07-04", "filename")


def test_photo_directly_in_the_scanned_folder_has_no_person():
    s = describe(p("smile.jpg"), ROOT, mtime=None)
    assert (s.person, s.person_source, s.date, s.date_source) == ("", "", "", "")
    assert s.expression == "smile"


def test_manifest_wins_field_by_field():
    entry = {"person": "carol", "date": "", "phase": "post", "expression": ""}
    s = describe(p("anna", "2024-03-01_pre", "smile.jpg"), ROOT, entry)
    assert (s.person, s.person_source) == ("carol", "manifest")
    assert (s.date, s.date_source) == ("2024-03-01", "folder")  # empty cell: next source
    assert (s.phase, s.phase_source) == ("post", "manifest")
    assert (s.expression, s.expression_source) == ("smile", "filename")


def test_read_manifest(tmp_path):
    (tmp_path / "sub").mkdir()
    photo = tmp_path / "sub" / "scan_001.jpg"
    photo.write_bytes(b"x")
    (tmp_path / "m.csv").write_text(
        "Path;Person;Date;Phase;Expression\n"
        "sub/scan_001.jpg;Carol;05.05.2024;After;Open Smile\n"
        f"{tmp_path / 'other.jpg'};;2024/05/06;;pout\n",
        encoding="utf-8",
    )
    m = read_manifest(tmp_path / "m.csv")
    assert m[manifest_key(photo)] == {"person": "Carol", "date": "2024-05-05", "phase": "post", "expression": "smile_open"}
    assert m[manifest_key(tmp_path / "other.jpg")]["expression"] == "pucker"
    assert normalize_expression("my own test") == "my_own_test"  # kept, as a word, when not standard


@pytest.mark.parametrize(
    "text, message",
    [
        ("name,person\n", "no 'path' column"),
        ("path,date\na.jpg,yesterday\n", "line 2: date 'yesterday'"),
        ("path,phase\na.jpg,during\n", "line 2: phase 'during'"),
        ("path,person\na.jpg,x\nb.jpg,y\na.jpg,z\n", "line 4: a.jpg is listed twice"),
    ],
)
def test_manifest_errors_say_what_to_fix(tmp_path, text, message):
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(")):
        read_manifest(tmp_path / "m.csv")


def test_exif_and_file_time_from_a_real_file(tmp_path):
    from PIL import Image

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2023:05:06 10:00:00"
    with_exif, without = tmp_path / "bob" / "a.jpg", tmp_path / "bob" / "b.png"
    with_exif.parent.mkdir()
    Image.new("RGB", (80, 80), (120, 90, 80)).save(with_exif, exif=exif)
    Image.new("RGB", (80, 80)).save(without)
    noon = dt.datetime(2022, 2, 2, 12).timestamp()
    os.utime(without, (noon, noon))
    assert read_exif_datetime(with_exif) == "2023:05:06 10:00:00"
    assert read_exif_datetime(without) is None
    assert read_exif_datetime(tmp_path / "missing.jpg") is None
    a, b = describe_file(with_exif, tmp_path), describe_file(without, tmp_path)
    assert (a.date, a.date_source, a.person) == ("2023-05-06", "exif", "bob")
    assert (b.date, b.date_source) == ("2022-02-02", "mtime")
