"""Sequence files (TOML and JSON) and their one-line errors; the session state machine; the
massage log (atomic, keeps a hand-written log's columns). Pure Python: fast."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from symmetry.massage.sequence import DEFAULT, SequenceError, load_sequence, to_toml
from symmetry.massage.session import LOG_COLUMNS, MassageSession, append_log, plan, weak_side_from_scores
from symmetry.massage.table import BY_CODE

GOOD_TOML = """
name = "mine"
[[step]]
point = "gb14"
technique = "Kneading"
seconds = 30
direction = "up"
[[step]]
area = "cheek"
technique = "pushing"
seconds = 20.5
side = "both"
"""


def test_default_sequence_is_valid_and_round_trips(tmp_path):
    assert 10 <= DEFAULT.minutes <= 20
    assert all(s.point in BY_CODE or s.area for s in DEFAULT.steps)
    path = tmp_path / "default.toml"
    path.write_text(to_toml(DEFAULT))
    again = load_sequence(path)
    assert again.steps == DEFAULT.steps and again.name == DEFAULT.name


def test_toml_and_json_load_alike(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text(GOOD_TOML)
    seq = load_sequence(toml)
    assert [(s.point, s.area, s.technique, s.seconds, s.side) for s in seq.steps] == [
        ("GB14", "", "kneading", 30.0, "weak"), ("", "cheek", "pushing", 20.5, "both")]
    js = tmp_path / "mine.json"
    js.write_text(json.dumps({"name": "mine", "steps": [
        {"point": "GB14", "technique": "kneading", "seconds": 30, "direction": "up"},
        {"area": "cheek", "technique": "pushing", "seconds": 20.5, "side": "both"}]}))
    assert load_sequence(js).steps == seq.steps


@pytest.mark.parametrize("step,message", [
    ('point = "GB99"\ntechnique = "kneading"\nseconds = 10', "step 1: unknown point code 'GB99'"),
    ('point = "GB14"\ntechnique = "kneading"\nseconds = -5', "step 1: seconds must be a positive number, not -5"),
    ('point = "GB14"\ntechnique = "kneading"\nseconds = 0', "seconds must be a positive number, not 0"),
    ('point = "GB14"\ntechnique = "kneading"\nseconds = "ten"', "seconds must be a positive number, not 'ten'"),
    ('point = "GB14"\nseconds = 10', "step 1: missing field 'technique'"),
    ('point = "GB14"\ntechnique = "kneading"', "step 1: missing field 'seconds'"),
    ('technique = "kneading"\nseconds = 10', "give exactly one of 'point'"),
    ('point = "GB14"\ntechnique = "tickling"\nseconds = 10', "unknown technique 'tickling'"),
    ('point = "GB14"\ntechnique = "kneading"\nseconds = 10\nsecs = 3', "unknown field 'secs'"),
    ('area = "nose"\ntechnique = "kneading"\nseconds = 10', "unknown area 'nose'"),
    ('point = "GB14"\ntechnique = "kneading"\nseconds = 10\nside = "top"', "unknown side 'top'"),
])
def test_bad_steps_give_one_line_errors(tmp_path, step, message):
    path = tmp_path / "bad.toml"
    path.write_text(f"[[step]]\n{step}\n")
    with pytest.raises(SequenceError) as info:
        load_sequence(path)
    text = str(info.value)
    assert message in text and text.startswith("bad.toml: ") and "\n" not in text


def test_unreadable_files(tmp_path):
    for name, text, message in (("a.toml", "[[step]\n", "not valid TOML"), ("a.json", "{", "not valid JSON"),
                                ("b.toml", 'name = "x"\n', "no steps")):
        (tmp_path / name).write_text(text)
        with pytest.raises(SequenceError, match=message):
            load_sequence(tmp_path / name)
    with pytest.raises(SequenceError, match="cannot read"):
        load_sequence(tmp_path / "missing.toml")


def _session(seconds=(2.0, 2.0, 2.0), side="left"):
    path_steps = [f'[[step]]\npoint = "{c}"\ntechnique = "kneading"\nseconds = {s}\n'
                  for c, s in zip(("GB14", "GV26", "ST4"), seconds)]
    return path_steps


def test_session_runs_on_the_clock_pauses_and_skips(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("".join(_session()))
    seq = load_sequence(path)
    tasks = plan(seq, "left")
    assert [t.sides for t in tasks] == [("left",), ("midline",), ("left",)]
    s = MassageSession(tasks)
    s.update(10.0)  # the first time only starts the clock
    s.update(11.5)
    assert s.index == 0 and s.seconds_left == pytest.approx(0.5)
    s.key(" ")  # pause: the clock stops
    s.update(30.0)
    assert s.index == 0 and s.seconds_left == pytest.approx(0.5) and s.paused
    s.key(" ")
    s.update(31.0)  # 0.5 s finishes step 1, 0.5 s into step 2
    assert s.index == 1 and s.done == [0] and s.seconds_left == pytest.approx(1.5)
    s.key("n")  # skipped at a quarter: not done
    assert s.index == 2 and s.skipped == [1]
    s.update(34.0)
    assert s.finished and s.stop_reason == "completed" and s.done == [0, 2]
    assert s.active_s == pytest.approx(1.5 + 0.5 + 0.5 + 2.0)
    row = s.log_row("ann", "left", dt.datetime(2026, 5, 4, 9, 30), seq)
    assert row["date"] == "2026-05-04" and row["start"] == "09:30" and row["acupoints"] == "GB14 ST4"
    assert row["duration"] == "0.1" and row["side"] == "left" and "skipped GV26" in row["notes"]


def test_quit_keeps_a_half_done_step(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("".join(_session((2.0, 4.0, 2.0))))
    s = MassageSession(plan(load_sequence(path), "right"))
    s.update(0.0)
    s.update(4.5)  # step 2 is 2.5 of 4 s in
    s.key("q")
    assert s.stop_reason == "quit" and s.done == [0, 1]


def test_log_is_appended_atomically_and_keeps_hand_written_columns(tmp_path):
    log = tmp_path / "ann" / "massage_log.csv"
    row = {"date": "2026-05-04", "start": "09:30", "person": "ann", "duration": "12.0", "technique": "kneading",
           "acupoints": "GB14 ST4", "side": "left", "notes": "guided, with a comma"}
    append_log(log, row)
    with log.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(LOG_COLUMNS) and rows[0]["notes"] == "guided, with a comma"
    hand = tmp_path / "hand.csv"
    hand.write_text("Date,duration,technique,acupoints,notes\n2026-05-01,30,kneading,ST4,by hand\n")
    append_log(hand, row)
    with hand.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Date"] for r in rows] == ["2026-05-01", "2026-05-04"]  # its own spelling kept
    assert rows[0]["notes"] == "by hand" and rows[1]["side"] == "left" and rows[0]["side"] == ""
    assert not list(tmp_path.glob("**/*.tmp"))  # no temporary file left behind


def test_weak_side_from_the_latest_resting_scores(tmp_path):
    def scores(folder, droop):
        folder.mkdir(parents=True)
        (folder / "scores.csv").write_text(
            "path,status,mouth_droop_mm,brow_asymmetry_mm\n"
            f"{folder}/rest_1.jpg,ok,{droop},0.5\n{folder}/rest_2.jpg,ok,{droop},0.5\n"
            f"{folder}/smile_1.jpg,ok,-9,0\n{folder}/rest_3.jpg,no_face,,\n")

    assert weak_side_from_scores("ann", tmp_path)[0] is None
    scores(tmp_path / "ann" / "2026-05-01_pre", 3.0)
    scores(tmp_path / "ann" / "2026-05-08_pre", -2.5)
    scores(tmp_path / "ann" / "2026-05-08_post", 0.1)  # after that day's massage: the latest session
    side, why = weak_side_from_scores("ann", tmp_path)
    assert side is None and "2026-05-08_post" in why  # the latest session decides, and shows no clear side
    (tmp_path / "ann" / "2026-05-08_post" / "scores.csv").unlink()
    side, why = weak_side_from_scores("ann", tmp_path)
    assert side == "left" and "session 2026-05-08_pre, 2 resting photo(s)" in why
