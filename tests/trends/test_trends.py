"""Trends: pure-pandas unit tests on synthetic rows, and the acceptance test on a
synthetic recovery series scored with the real model (issue 5, done-when 1)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from symmetry.face.measures import symmetry_index
from symmetry.batch.sinks import read_scores
from symmetry.trends.compute import compute_trends as trends
from symmetry.trends.stats import MDC_FACTOR, MIN_REPEAT_DF, VALIDATION_SEM, recovery_pct

from trend_rows import SERIES_MASSAGE_MM, SERIES_TOLERANCE_MM, make_row, recovery_series, series

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"


# ---------------------------------------------------------------- synthetic rows (no model)




def value(t, measure, session, expression="rest", person=None):
    tab = t.table
    sel = (tab["measure"] == measure) & (tab["session"] == session) & (tab["expression"] == expression)
    if person:
        sel &= tab["person"] == person
    assert sel.sum() == 1, (measure, session, expression)
    return tab.loc[sel].iloc[0]


def messages(t, person=None):
    return " | ".join(n.message for n in t.notes_for(person))


def test_session_table_medians_spread_and_sessions():
    t = trends(series())
    assert list(t.people["person"]) == ["ann"]
    assert t.people["n_sessions"].iloc[0] == 8
    k = t.people["calibrated_interpupil_mm"].iloc[0] / 62.0  # everything is at the person's calibrated scale
    row = value(t, "mouth_droop_mm", "2024-01-08 pre")
    assert row["value"] == pytest.approx(3.0 * k) and row["n"] == 2 and row["sd"] == pytest.approx(0.0, abs=1e-9)
    # sessions are ordered by date, and pre before post
    sessions = t.wide()[["date", "phase"]].apply(tuple, axis=1).tolist()
    assert sessions == sorted(sessions, key=lambda s: (s[0], {"pre": 0, "": 1, "post": 2}[s[1]]))


def test_calibration_removes_per_photo_scale_error_and_recomputes_symmetry_index():
    rows = pd.DataFrame([
        make_row(droop=2.0, scale=1.00), make_row(droop=2.0, scale=1.05), make_row(droop=2.0, scale=0.96),
        # closed eyes: the iris scale is off by 8 %; calibration must fix it too
        make_row(expression="eyes_closed_tight", droop=2.0, eyes=(1.0, 0.5), scale=1.08),
    ])
    t = trends(rows)
    assert t.people["calibrated_interpupil_mm"].iloc[0] == pytest.approx(62.0)
    used = t.rows
    assert np.allclose(used["mouth_droop_mm"], 2.0) and np.allclose(used["mouth_corner_height_left_mm"], 70.0)
    assert np.allclose(used["interpupil_mm"], 62.0)
    assert np.allclose(used["symmetry_index"], [symmetry_index(a, b, c) for a, b, c in
                                                used[["mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm"]].to_numpy()])
    # without calibration the 5 % scale error stays in the heights
    raw = trends(rows, calibrate=False).rows
    assert raw["mouth_corner_height_left_mm"].max() == pytest.approx(70.0 * 1.08)


def test_movement_against_same_session_rest():
    rows = pd.DataFrame([
        make_row(droop=2.0),
        make_row(expression="smile", droop=2.0, smile=(1.0, 5.0)),
        make_row(expression="brow_raise", raise_=(2.0, 8.0)),
        make_row(expression="eyes_closed_gentle", eyes=(4.0, 0.0)),
        make_row(expression="eyes_closed_tight", eyes=(12.0, 0.5)),  # opens wider than rest: clipped to 0 %
    ])
    t = trends(rows)
    s = "2024-01-01 pre"
    assert value(t, "mouth_excursion_right_mm", s, "smile")["value"] == pytest.approx(1.0)
    assert value(t, "mouth_excursion_left_mm", s, "smile")["value"] == pytest.approx(5.0)
    assert value(t, "mouth_excursion_ratio", s, "smile")["value"] == pytest.approx(0.2)
    assert value(t, "mouth_excursion_difference_mm", s, "smile")["value"] == pytest.approx(4.0)  # + = right moves less
    assert value(t, "brow_excursion_ratio", s, "brow_raise")["value"] == pytest.approx(0.25)
    assert value(t, "eye_closure_right_pct", s, "eyes_closed_gentle")["value"] == pytest.approx(60.0)
    assert value(t, "eye_closure_left_pct", s, "eyes_closed_gentle")["value"] == pytest.approx(100.0)
    assert value(t, "eye_closure_difference_pct", s, "eyes_closed_gentle")["value"] == pytest.approx(40.0)
    assert value(t, "eye_closure_right_pct", s, "eyes_closed_tight")["value"] == 0.0
    assert t.people["affected_side"].iloc[0] == "right"


@pytest.mark.parametrize("side", ["right", "left"])
def test_affected_side_recovery_and_massage_effect(side):
    t = trends(series(side=side, repeats=1))  # no repeats: the validation SEM (MDC95 0.83 mm) applies
    p = t.people.iloc[0]
    assert p["affected_side"] == side and p["first_session"] == "2024-01-01 pre"
    s = t.summary.set_index(["expression", "measure"])
    droop = s.loc[("rest", "mouth_droop_mm")]
    assert droop["latest_session"] == "2024-01-22 pre"
    assert droop["recovery_pct"] == pytest.approx(75.0)  # 4 mm -> 1 mm
    assert droop["verdict"] == "real change: better"
    assert s.loc[("smile", "mouth_excursion_ratio"), "recovery_pct"] == pytest.approx(100 * (0.8 - 0.2) / 0.8)
    # post sessions: 0.5 mm better than pre, on the affected side's sign
    post = value(t, "mouth_droop_mm", "2024-01-01 post")
    assert post["recovery_pct"] == pytest.approx(12.5)
    m = t.massage[(t.massage["measure"] == "mouth_droop_mm")]
    assert len(m) == 4
    k = t.people["calibrated_interpupil_mm"].iloc[0] / 62.0
    assert np.allclose(m["improvement"], 0.5 * k) and np.allclose(m["change"].abs(), 0.5 * k)
    assert set(m["verdict"]) == {"within measurement noise"}  # 0.5 mm < MDC95 0.83 mm (validation SEM 0.3 mm)


@pytest.mark.slow
def test_affected_side_override_and_unclear():
    rows = series(droops=(0.2, 0.1))
    t = trends(rows)
    assert t.people["affected_side"].iloc[0] == "unclear"
    assert "no clear one-sided asymmetry" in messages(t)
    # starting within noise of symmetric: no recovery percentage (it would divide noise by noise)
    assert math.isnan(t.summary.set_index("measure").loc["mouth_droop_mm", "recovery_pct"])
    t2 = trends(series(side="left"), affected_side="right")
    assert t2.people["affected_side"].iloc[0] == "right" and t2.people["affected_side_source"].iloc[0] == "given"
    assert "point to the left side" in messages(t2)
    with pytest.raises(ValueError, match="affected_side"):
        trends(rows, affected_side="both")


def test_recovery_pct_definitions():
    # an asymmetry that crosses even counts by its size: 1 mm the other way is 75%, never 125%
    assert recovery_pct([4.0, 2.0, 0.0, -1.0, -5.0], 4.0, "asymmetry").tolist() == [0.0, 50.0, 100.0, 75.0, -25.0]
    assert recovery_pct([-4.0, -1.0], -4.0, "asymmetry").tolist() == [0.0, 75.0]
    assert recovery_pct([80.0, 90.0, 100.0], 80.0, "index").tolist() == [0.0, 50.0, 100.0]
    assert recovery_pct([0.5, 0.75], 0.5, "ratio").tolist() == [0.0, 50.0]
    assert np.isnan(recovery_pct([1.0], 0.2, "asymmetry", mdc=0.5)).all()
    assert np.isnan(recovery_pct([70.0], 70.0, "side")).all()


@pytest.mark.slow
def test_sem_from_repeats_and_validation_fallback():
    # two sessions x 4 repeats, within-session SD exactly known: df = 6 >= MIN_REPEAT_DF
    offsets = np.array([-0.9, -0.3, 0.3, 0.9])  # SD 0.77 mm, above the floor (half the fallback)
    rows = [make_row(date=d, droop=2.0 + o, path=f"{d}/{i}.jpg") for d in ("2024-01-01", "2024-01-08")
            for i, o in enumerate(offsets)]
    t = trends(pd.DataFrame(rows))
    rep = t.repeatability.set_index("measure").loc["mouth_droop_mm"]
    assert rep["df"] == 6 >= MIN_REPEAT_DF and rep["source"] == "repeats"
    assert rep["sem"] == pytest.approx(np.std(offsets, ddof=1))
    assert rep["mdc95"] == pytest.approx(MDC_FACTOR * rep["sem"]) == pytest.approx(1.96 * math.sqrt(2) * rep["sem"])
    # too few repeats: the project's validation figure, and it says so
    t1 = trends(pd.DataFrame(rows[:2] + rows[4:5]))
    rep1 = t1.repeatability.set_index("measure").loc["mouth_droop_mm"]
    assert rep1["source"] == "validation" and rep1["sem"] == VALIDATION_SEM["mouth_droop_mm"]
    # identical copies cannot claim zero noise
    dup = [make_row(date=d, droop=2.0, path=f"{d}/{i}.jpg") for d in ("2024-01-01", "2024-01-08") for i in range(4)]
    rep2 = trends(pd.DataFrame(dup)).repeatability.set_index("measure").loc["mouth_droop_mm"]
    assert rep2["sem"] == pytest.approx(0.5 * VALIDATION_SEM["mouth_droop_mm"])
    # a caller's own validation figures replace the defaults
    rep3 = trends(pd.DataFrame(rows[:2]), sem={"mouth_droop_mm": 0.7}).repeatability.set_index("measure")
    assert rep3.loc["mouth_droop_mm", "sem"] == 0.7


# ---------------------------------------------------------------- edge cases: clear messages
def test_one_session_only():
    t = trends(pd.DataFrame([make_row(droop=3.0), make_row(droop=3.1)]))
    assert "only one session date" in messages(t)
    assert t.summary["verdict"].eq("").all()  # nothing to compare with
    assert len(t.massage) == 0


def test_session_without_rest_photo():
    rows = series(droops=(3.0, 2.0), repeats=1)
    rows = rows[~((rows["date"] == "2024-01-08") & (rows["phase"] == "pre") & (rows["expression"] == "rest"))]
    t = trends(rows)
    assert "session 2024-01-08 pre has no measured resting photo" in messages(t)
    smile = t.table[(t.table["expression"] == "smile") & (t.table["measure"] == "mouth_excursion_ratio")]
    assert "2024-01-08 pre" not in set(smile["session"]) and "2024-01-08 post" in set(smile["session"])


def test_session_where_every_photo_failed():
    rows = pd.concat([series(droops=(3.0, 2.0), repeats=1), pd.DataFrame([
        make_row(date="2024-02-01", status="no_face"), make_row(date="2024-02-01", expression="smile", status="pose_out_of_range"),
    ])])
    t = trends(rows)
    msg = messages(t)
    assert "session 2024-02-01 pre: none of its 2 photo(s) could be measured (no_face: 1, pose_out_of_range: 1)" in msg
    assert "2024-02-01" not in set(t.table["date"])
    assert t.people["latest_session"].iloc[0] == "2024-01-08 pre"


@pytest.mark.slow
def test_mixed_model_versions_are_flagged():
    rows = series(droops=(3.0, 2.0), repeats=1)
    rows.loc[rows["date"] == "2024-01-08", "version"] = "0.2.0"
    t = trends(rows)
    assert bool(t.people["mixed_versions"].iloc[0])
    assert "different software versions" in messages(t) and "0.2.0" in messages(t)
    # different methods alone (single-photo first session, tracked afterwards) are by design: info only
    rows = series(droops=(3.0, 2.0), repeats=1)
    rows.loc[rows["date"] == "2024-01-08", "method"] = "tracked"
    t = trends(rows)
    assert not bool(t.people["mixed_versions"].iloc[0]) and "different software versions" not in messages(t)
    assert "more than one method: landmarks (6 photos), tracked (6 photos)" in messages(t)


def test_dates_out_of_order_and_unreadable_dates():
    rows = series(droops=(3.0, 2.0, 1.0), repeats=1).iloc[::-1]
    bad = make_row(date="2024-13-45")
    t = trends(pd.concat([rows, pd.DataFrame([bad])]))
    msg = messages(t)
    assert "not listed in date order" in msg and "no readable date" in msg and "'2024-13-45'" in msg
    assert t.people["first_session"].iloc[0] == "2024-01-01 pre"
    assert t.summary.set_index("measure").loc["mouth_droop_mm", "recovery_pct"] == pytest.approx(100 * 2 / 3)


def test_missing_columns_and_unlabelled_photos():
    with pytest.raises(ValueError, match="lacks the column"):
        trends(pd.DataFrame({"person": ["a"], "date": ["2024-01-01"]}))
    rows = pd.DataFrame([make_row(expression="", droop=2.0), make_row(expression="", date="2024-01-08")])
    t = trends(rows)
    assert "read as resting photos" in messages(t)
    assert value(t, "mouth_droop_mm", "2024-01-01 pre")["value"] == pytest.approx(2.0)
    # photos without a person are never pooled (they may be different faces)
    t2 = trends(pd.DataFrame([make_row(person="", path="a/astronaut.png"), make_row(person="", path="b/hopper.jpg")]))
    assert sorted(t2.people["person"]) == ["astronaut", "hopper"] and "named after its file" in messages(t2, "hopper")


def test_unlabelled_photos_take_the_expression_their_face_shows():
    """Never assumed to be rest when the scores say what the face shows; unclear ones are left out."""
    rows = pd.DataFrame([make_row(expression="", droop=2.0), make_row(expression="", droop=9.0),
                         make_row(expression="", droop=5.0)])
    rows["expression_seen"] = ["rest", "smile", "unclear"]
    t = trends(rows)
    assert value(t, "mouth_droop_mm", "2024-01-01 pre")["value"] == pytest.approx(2.0)  # the resting photo only
    assert "show no clear expression" in messages(t) and "read as resting photos" not in messages(t)
    nothing = trends(rows.assign(expression_seen="unclear"))  # every photo left out: no crash
    assert nothing.table.empty and nothing.massage.empty


@pytest.mark.slow
def test_a_change_inside_the_photos_own_intervals_is_not_called_real():
    rows = pd.DataFrame([make_row(droop=4.0), make_row(date="2024-01-08", droop=1.0)])
    plain = trends(rows).summary.set_index("measure").loc["mouth_droop_mm"]
    assert plain["mdc95"] == pytest.approx(MDC_FACTOR * VALIDATION_SEM["mouth_droop_mm"])
    assert plain["verdict"].startswith("real change")  # 3 mm against the fallback MDC95 of 2.05 mm
    wide = trends(rows.assign(mouth_droop_ci95_mm=2.5)).summary.set_index("measure").loc["mouth_droop_mm"]
    assert wide["verdict"] == "within measurement noise" and wide["mdc95"] == pytest.approx(2.5 * math.sqrt(2))


def test_read_scores_keeps_text(tmp_path):
    rows = pd.DataFrame([make_row(person="NA", droop=4.0), make_row(person="NA", date="2024-01-08", droop=2.0)])
    rows.to_csv(tmp_path / "scores.csv", index=False)
    df = read_scores(tmp_path / "scores.csv")
    assert df["person"].tolist() == ["NA", "NA"]
    t = trends(tmp_path / "scores.csv")
    assert t.summary.set_index("measure").loc["mouth_droop_mm", "recovery_pct"] == pytest.approx(50.0)
    with pytest.raises(FileNotFoundError, match="symmetry score"):
        trends(tmp_path / "missing.csv")


def test_massage_log_is_read_and_checked(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("date,duration,technique,acupoints,notes\n2024-01-01,30,kneading,ST4,first\nsoon,10,x,,\n")
    t = trends(series(droops=(3.0, 2.0), repeats=1), log=log)
    assert t.log["valid_date"].tolist() == [True, False]
    assert "massage-log row(s) have no readable date" in messages(t)


# ---------------------------------------------------------------- acceptance: synthetic recovery series, real model
@pytest.fixture(scope="session")
def scored_series(tmp_path_factory):
    return recovery_series(str(tmp_path_factory.getbasetemp() / "recovery_series"))


def test_synthetic_recovery_series_matches_known_values(scored_series):
    rows, facts = scored_series
    assert (rows["status"] == "ok").all(), rows.loc[rows["status"] != "ok", ["path", "message"]]
    first_rest = next(p for p in rows["path"] if Path(p).parent.name == "2024-03-04_pre" and Path(p).name == "rest.jpg")
    # One reference per expression: its first photo (rest with rest, smile with smile).
    firsts = {p for p in rows["path"] if Path(p).parent.name == "2024-03-04_pre" and Path(p).name != "rest_2.jpg"}
    assert first_rest in firsts and len(firsts) == 2
    by_path = rows.set_index("path")
    for first in firsts:
        assert by_path.loc[first, "method"] == "mirrored" and by_path.loc[first, "reference"] == ""
    later = rows[~rows["path"].isin(firsts)]
    assert (later["method"] == "tracked").all()
    assert all(Path(r).parent.name == "2024-03-04_pre" and Path(r).stem.split("_")[0] == Path(p).stem.split("_")[0]
               for p, r in zip(later["path"], later["reference"]))

    b = facts["base_droop_mm"]
    t = trends(rows)
    truth = rows[rows["expression"] == "rest"].groupby(["date", "phase"])["true_droop_mm"].first()
    droop = t.table[(t.table["expression"] == "rest") & (t.table["measure"] == "mouth_droop_mm")]
    droop = droop.join(truth.rename("truth"), on=["date", "phase"])
    assert len(droop) == 8 and droop["truth"].notna().all()
    known = b + droop["truth"].to_numpy()  # the face's own droop plus the warp's
    report = droop.assign(known=known)[["session", "value", "known", "recovery_pct"]]
    # 1. per-session asymmetry against the warp's own truth, within the validation's accuracy
    assert np.abs(droop["value"].to_numpy() - known).max() <= SERIES_TOLERANCE_MM, report
    # 2. recovery % within 10 points of the true recovery
    true_recovery = 100 * (1 - known / known[0])
    assert np.abs(droop["recovery_pct"].to_numpy() - true_recovery).max() <= 10.0, report.assign(true=true_recovery)

    si = t.summary.set_index("measure").loc["symmetry_index"]
    assert si["latest_value"] > si["first_value"] and si["verdict"] == "real change: better"

    people = t.people.iloc[0]
    assert people["affected_side"] == "right" and people["first_session"] == "2024-03-04 pre"
    rep = t.repeatability.set_index("measure").loc["mouth_droop_mm"]
    assert rep["source"] == "repeats" and rep["df"] == 8 and rep["sem_own"] < VALIDATION_SEM["mouth_droop_mm"]

    # massage: the immediate improvement is seen on every date, of the known size
    m = t.massage[t.massage["measure"] == "mouth_droop_mm"].set_index("date")
    assert len(m) == 4 and (m["improvement"] > 0).all()
    assert np.abs(m["improvement"].to_numpy() - SERIES_MASSAGE_MM).max() <= 0.2, m

    # smile: each smile is tracked from the first smile (never from a resting photo), so its droop
    # changes as the truth does; the affected corner's movement ratio (rest and smile, two readings)
    # grows from clearly weak. Its level carries the first smile's single-photo reading (measured
    # 0.54 -> 0.79 for a true 0.3 -> 0.9), so only its direction is held here.
    smiles = rows[rows["expression"] == "smile"].sort_values("path")
    first = smiles[smiles["reference"] == ""].iloc[0]
    later = smiles[smiles["reference"] != ""]
    change = later["mouth_droop_mm"] - first["mouth_droop_mm"]
    true_change = later["true_droop_mm"] - first["true_droop_mm"]
    assert np.abs(change - true_change).max() <= 0.25, pd.DataFrame({"change": change, "truth": true_change})
    smile = t.table[(t.table["expression"] == "smile") & (t.table["measure"] == "mouth_excursion_ratio")]
    pre = smile[smile["phase"] == "pre"]
    assert len(pre) == 4 and pre["value"].iloc[0] < 0.6 and pre["value"].iloc[-1] > pre["value"].iloc[0] + 0.2, pre
    first_smile = value(t, "mouth_excursion_difference_mm", "2024-03-04 pre", "smile")
    assert first_smile["value"] > 1.0  # + = the right corner moves less


# ---------------------------------------------------------------- acceptance: the bundled demo series (issue 7)
#: Largest per-session error of a tracked change allowed against the demo's ground truth, mm: the
#: validation's held-out worst-case errors of the tracked method (README "How accurate it is"),
#: rounded up. The eye uses the harness's MAE bound (0.5 mm; its held-out worst case, 1.2 mm, would
#: hide a regression): measured 0.26 mm since lids are matched as bands.
DEMO_TOLERANCE_MM = {"mouth_droop_mm": 0.3, "brow_asymmetry_mm": 0.75, "eye_opening_difference_mm": 0.5}


@pytest.mark.slow
def test_demo_series_matches_its_ground_truth():
    import symmetry

    demo = SAMPLES / "demo_patient"
    scores = symmetry.score_folder(demo, jobs=2, method="tracked", progress=False)
    assert (scores["status"] == "ok").all() and len(scores) == 84
    t = trends(scores)
    truth = pd.read_csv(demo / "ground_truth.csv")
    rest = truth[truth["expression"] == "rest"].groupby(["date", "phase"])
    for measure, tolerance in DEMO_TOLERANCE_MM.items():
        known = rest[f"true_{measure}_change"].mean()
        got = (t.table[(t.table["expression"] == "rest") & (t.table["measure"] == measure)]
               .set_index(["date", "phase"])["value"].reindex(known.index))
        first = ("2026-03-02", "pre")
        error = (got - got[first]) - (known - known[first])
        assert error.abs().max() <= tolerance, (measure, error.round(2).to_dict())
    # The known recovery shows: affected side right, and the latest session much more symmetric.
    assert t.people.iloc[0]["affected_side"] == "right"
    summary = t.summary[(t.summary["expression"] == "rest")].set_index("measure")
    assert summary.loc["mouth_droop_mm", "verdict"] == "real change: better"


def test_a_difference_that_crosses_even_is_told_by_its_sides_not_as_more_than_recovery():
    from symmetry.render.summary import patient_summary

    rows = pd.DataFrame([make_row(eyes=(9.0, 10.12)), make_row(eyes=(9.0, 10.12), path="b.jpg"),
                         make_row(date="2024-02-01", eyes=(10.55, 10.0)),
                         make_row(date="2024-02-01", eyes=(10.55, 10.0), path="c.jpg")])
    t = trends(rows)
    s = t.summary.set_index("measure").loc["eye_opening_difference_mm"]
    assert s["recovery_pct"] == pytest.approx(100 * (1 - 0.55 / 1.12))  # 51%, not 149%
    eyes = next(item["text"] for item in patient_summary(t, "ann") if item["title"] == "Eyes at rest")
    assert "the left eye opened 1.1 mm wider than the right" in eyes
    assert "the right eye opened 0.6 mm wider than the left" in eyes
    assert "crossed to the other side" in eyes and "all the way" not in eyes and "51% of the way" in eyes


def test_a_person_with_only_a_smiling_photo_still_gets_their_measures_drawn():
    from symmetry.render import plots as plots

    t = trends(pd.DataFrame([make_row(expression="smile", droop=1.0)]))
    fig = plots.timeline_figure(t, "ann")
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles[0] == "Mouth corners (smile)" and all("(smile)" in x for x in titles), titles
    assert not any(txt.get_text() == "no measurements" for ax in fig.axes for txt in ax.texts)


def test_the_report_words_and_the_massage_chart_give_the_same_verdicts():
    from matplotlib.colors import to_hex

    from symmetry.render import plots as plots
    from symmetry.render.summary import patient_summary

    rows = []
    for day, (pre, post) in enumerate([(4.0, 2.0), (3.0, 2.9), (2.5, 4.5), (2.0, 1.95)], 1):
        for phase, droop in (("pre", pre), ("post", post)):
            rows += [make_row(date=f"2024-01-0{day}", phase=phase, droop=droop, path=f"{day}{phase}{k}.jpg")
                     for k in range(2)]
    t = trends(pd.DataFrame(rows))
    fig = plots.massage_effect_figure(t, "ann")
    bars = [p for p in fig.axes[0].patches if p.get_height() != 0]
    plotted_real = sum(to_hex(p.get_facecolor()) == to_hex(plots.BLUE) for p in bars)
    words = next(i["text"] for i in patient_summary(t, "ann") if i["title"] == "Straight after massage")
    verdicts = t.massage[(t.massage["measure"] == "mouth_droop_mm")]["verdict"]
    assert plotted_real == verdicts.str.startswith("real change").sum() == 2
    assert "In 2 of them the immediate change was larger than the measurement noise (1 more even and 1 less even)" in words
