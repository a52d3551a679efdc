"""Noise, recovery and verdicts: how far each measure moved since the first session, and
whether that is more than the measurement noise.

* Noise: SEM = pooled within-session standard deviation of repeated photos;
  MDC95 = 1.96 x sqrt(2) x SEM. A change is called real only above MDC95.
  Without enough repeats the project's validation figures (`VALIDATION_SEM`, measured
  on real people's repeat photos) are used, and the tables say so.
* Affected side: the side that is lower / moves less in the first session.
* Recovery: 0 % = as in the first session, 100 % = symmetric (can go below 0
  or above 100).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from symmetry.trends.definitions import (
    GROUP_KEYS, KEY_MEASURES, MEASURES, SIDE_EVIDENCE, Note, session_label, session_sort_key,
)
from symmetry.vocabulary import PHASE_RANK, REST

#: Repeats needed (degrees of freedom, summed over sessions) to trust a person's own SEM.
MIN_REPEAT_DF = 5
#: A person's own SEM is never taken below this fraction of the validation figure:
#: identical copies of a photo would otherwise claim zero noise.
MIN_SEM_FRACTION = 0.5

#: Standard error of measurement of one photo, per measure, in the measure's unit, used when a
#: person's photos have too few repeats to measure their own. The single-photo measures are real
#: figures for the default method ("canonical"), from `scripts/validate_real.py` ("noise", tuning
#: half): the pooled within-person SD after calibration, the larger of two real sets, posed photos
#: of one person on different occasions and rest frames of one sitting on video (symmetry index
#: 2.6 / 4.3, droop 0.60 / 0.74, brow 0.26 / 0.24, eye difference 0.14 / 0.19 mm, eye ratio
#: 0.01 / 0.03; one side's heights 1-2.4 mm, because head pitch and scale move both sides
#: together, and cancel in the asymmetries). On the held-out half, of the pairs of one person's
#: photos, 94-100% differ by less than the MDC95 these give (brow 90% and eye difference 89% in
#: one of the two sets); with the synthetic-based figures used before, 20-81% for the symmetry
#: index, droop and one side's heights. The movement measures cannot be measured on those
#: sets (posed repeats of an expression are missing); theirs come from the synthetic validation
#: (scripts/validate.py), set above its figures for real expressions and light.
VALIDATION_SEM = {
    "symmetry_index": 4.3,
    "mouth_droop_mm": 0.74,
    "brow_asymmetry_mm": 0.26,
    "eye_opening_difference_mm": 0.19,
    "eye_opening_ratio": 0.03,
    "mouth_corner_height_right_mm": 2.4,
    "mouth_corner_height_left_mm": 2.4,
    "brow_height_right_mm": 1.1,
    "brow_height_left_mm": 1.1,
    "eye_opening_right_mm": 1.7,
    "eye_opening_left_mm": 1.7,
    "mouth_excursion_right_mm": 0.4,
    "mouth_excursion_left_mm": 0.4,
    "mouth_excursion_difference_mm": 0.4,
    "mouth_excursion_ratio": 0.05,
    "brow_excursion_right_mm": 0.4,
    "brow_excursion_left_mm": 0.4,
    "brow_excursion_difference_mm": 0.4,
    "brow_excursion_ratio": 0.05,
    "eye_closure_right_pct": 5.0,
    "eye_closure_left_pct": 5.0,
    "eye_closure_difference_pct": 5.0,
}

MDC_FACTOR = 1.96 * math.sqrt(2.0)


def repeatability(photos: pd.DataFrame, defaults: dict[str, float], persons: list[str]) -> pd.DataFrame:
    """SEM per person and measure: pooled within-session SD of repeated photos."""
    cols = ["person", "measure", "sem", "mdc95", "sem_own", "df", "source"]
    grid = pd.MultiIndex.from_product([persons, list(MEASURES)], names=["person", "measure"])
    if photos.empty:
        pooled = pd.DataFrame({"ss": 0.0, "df": 0}, index=grid)
    else:
        g = photos.groupby(GROUP_KEYS + ["measure"])["value"]
        p = photos.assign(dev2=(photos["value"] - g.transform("mean")) ** 2, one=1)
        pooled = p.groupby(["person", "measure"]).agg(ss=("dev2", "sum"), n=("one", "sum"))
        groups = g.size().groupby(level=["person", "measure"]).size()
        pooled["df"] = pooled["n"] - groups
        pooled = pooled.reindex(grid).fillna({"ss": 0.0, "df": 0})
    out = pooled.reset_index()
    out["df"] = out["df"].astype(int)
    out["sem_own"] = np.sqrt(out["ss"] / out["df"].where(out["df"] > 0))
    default = out["measure"].map(defaults).astype(float)
    enough = out["df"] >= MIN_REPEAT_DF
    out["sem"] = np.where(enough, np.fmax(out["sem_own"], MIN_SEM_FRACTION * default), default)
    out["source"] = np.where(enough, "repeats", "validation")
    out["mdc95"] = MDC_FACTOR * out["sem"]
    return out[cols]


def _first_and_latest(table: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """(date, phase) of the first session (before any massage) and the latest one (pre preferred)."""
    if table.empty:
        return None, None
    s = table[["date", "phase"]].drop_duplicates()
    s = s.assign(r=s["phase"].map(PHASE_RANK)).sort_values(["date", "r"])
    first = s.iloc[0]
    last_date = s["date"].max()
    latest = s[s["date"] == last_date].iloc[0]
    return first, latest


def people_table(rows: pd.DataFrame, table: pd.DataFrame, override: str | None, notes: list[Note]) -> pd.DataFrame:
    out = []
    for person, mine in rows.groupby("person", sort=True):
        t = table[table["person"] == person]
        first, latest = _first_and_latest(t)
        used = mine[mine["used"]]
        versions = used[["model", "version"]].drop_duplicates()
        row = {
            "person": person,
            "n_photos": len(mine),
            "n_measured": int(mine["used"].sum()),
            "n_sessions": int(used[["date", "phase"]].drop_duplicates().shape[0]),
            "n_dates": int(used["date"].nunique()),
            "first_session": session_label(first["date"], first["phase"]) if first is not None else "",
            "latest_session": session_label(latest["date"], latest["phase"]) if latest is not None else "",
            "calibrated_interpupil_mm": float(mine["calibrated_interpupil_mm"].max()) if mine["calibrated_interpupil_mm"].notna().any() else np.nan,
            "versions": "; ".join(" ".join(filter(None, v)) for v in versions.astype(str).to_numpy())
            + (f" ({', '.join(sorted(set(used['method']) - {''}))})" if (used["method"] != "").any() else ""),
            "mixed_versions": len(versions) > 1,
        }
        side, score, evidence = _affected_side(t, first)
        if override:
            if side not in ("unclear", override) and side:
                notes.append(Note(person, "warning", f"the affected side was set to {override}, but the first "
                                  f"session's photos point to the {side} side"))
            side, row["affected_side_source"] = override, "given"
        else:
            row["affected_side_source"] = "first session"
            if side == "unclear":
                notes.append(Note(person, "info", "the first session shows no clear one-sided asymmetry, so the "
                                  "affected side is not named; recovery is still measured per measure"))
        row.update(affected_side=side, side_score=score, side_evidence=evidence)
        out.append(row)
    cols = ["person", "affected_side", "affected_side_source", "side_score", "side_evidence", "first_session",
            "latest_session", "n_sessions", "n_dates", "n_photos", "n_measured", "calibrated_interpupil_mm",
            "versions", "mixed_versions"]
    return pd.DataFrame(out, columns=cols)


def _affected_side(t: pd.DataFrame, first) -> tuple[str, float, str]:
    """The side that is lower / moves less in the first session, from a scaled vote of the measures."""
    if first is None:
        return "", np.nan, ""
    f = t[(t["date"] == first["date"]) & (t["phase"] == first["phase"])]
    score, parts = 0.0, []
    for (expr, measure), scale in SIDE_EVIDENCE.items():
        v = f.loc[(f["expression"] == expr) & (f["measure"] == measure), "value"]
        if len(v) and np.isfinite(v.iloc[0]):
            z = float(np.clip(v.iloc[0] / scale, -3, 3))  # one wild measure must not decide alone
            score += z
            parts.append(f"{MEASURES[measure].label} ({expr.replace('_', ' ')}) {v.iloc[0]:+.1f} {MEASURES[measure].unit}")
    side = "unclear" if abs(score) < 1.0 else ("right" if score > 0 else "left")
    return side, score, "; ".join(parts)


def noise_and_recovery(table: pd.DataFrame, repeat: pd.DataFrame, people: pd.DataFrame, notes: list[Note]) -> pd.DataFrame:
    """Add SEM/MDC95, the first-session value, the change from it, recovery % and a verdict (vectorised)."""
    noise = repeat[["person", "measure", "sem", "mdc95", "source"]].rename(columns={"source": "noise_source"})
    table = table.merge(noise, on=["person", "measure"], how="left")
    if table.empty:
        for c in ("first_value", "change_from_first", "recovery_pct"):
            table[c] = pd.Series(dtype=float)
        table["verdict"] = pd.Series(dtype=str)
        return table
    table["phase_rank"] = table["phase"].map(PHASE_RANK)
    table = table.sort_values(["person", "date", "phase_rank"], kind="stable")
    # first session per person: earliest date, pre before no phase before post
    first = table.groupby("person")[["date", "phase_rank"]].first().rename(columns={"date": "f_date", "phase_rank": "f_rank"})
    table = table.join(first, on="person")
    at_first = (table["date"] == table["f_date"]) & (table["phase_rank"] == table["f_rank"])
    key = ["person", "expression", "measure"]
    # reference: the first session's value, else the earliest session that has the measure
    ref = table[at_first].groupby(key)[["value", "session", "ci95"]].first()
    earliest = table.groupby(key)[["value", "session", "ci95"]].first()
    ref = ref.reindex(earliest.index).fillna(earliest).rename(
        columns={"value": "first_value", "session": "first_session", "ci95": "first_ci95"})
    late = earliest.index.difference(table[at_first].set_index(key).index)
    for person, expr, measure in late:
        if (expr, measure) in KEY_MEASURES:
            notes.append(Note(person, "info", f"{MEASURES[measure].label} ({expr}) is missing in the first session; "
                              f"its changes are counted from {ref.loc[(person, expr, measure), 'first_session']}"))
    table = table.join(ref, on=key)
    table["first_value"] = table["first_value"].astype(float)
    table["change_from_first"] = table["value"] - table["first_value"]
    # The smallest change since the first session called real: the repeatability's MDC95, or more
    # where the two sessions' own intervals (method and photo quality, measured on real photos
    # taken on different days) are wider. Pre against post of one sitting keeps the repeatability's.
    table["mdc95_sitting"] = table["mdc95"]
    table["mdc95"] = np.fmax(table["mdc95"], np.hypot(table["ci95"], table["first_ci95"]))
    kinds = table["measure"].map(lambda m: MEASURES[m].kind)
    target = kinds.map({"asymmetry": 0.0, "index": 100.0, "ratio": 1.0})
    gap = target - table["first_value"]
    meaningful = gap.abs() > table["mdc95"].fillna(0.0).clip(lower=1e-9)
    table["recovery_pct"] = _recovery(table["value"], table["first_value"], target, kinds).where(meaningful)
    table["verdict"] = [_verdict(c, m, r, k) for c, m, r, k in
                        zip(table["change_from_first"], table["mdc95"], table["recovery_pct"], kinds)]
    table.loc[table["session"] == table["first_session"], "verdict"] = "first"
    table = table.drop(columns=["phase_rank", "f_date", "f_rank", "first_session", "first_ci95"])
    return table.sort_index().reset_index(drop=True)


def recovery_pct(values, first: float, kind: str, mdc: float = 0.0):
    """Percent of the way from the first value to symmetric (0 = as at first, 100 = symmetric).

    NaN when the first value was already within `mdc` of symmetric, or for
    one-side measures (kind "side"), which have no symmetric value.
    """
    values = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values.astype(float)
    target = {"asymmetry": 0.0, "index": 100.0, "ratio": 1.0}.get(kind)
    if target is None or not np.isfinite(first):
        return values * np.nan
    if abs(target - first) <= max(mdc, 1e-9):
        return values * np.nan
    return _recovery(values, first, target, kind)


def _recovery(values, first, target, kind):
    """100 * (the first gap to symmetric - the gap now) / the first gap. For a signed asymmetry
    the gaps are sizes, so one that crosses even to the other side is never more than 100%
    recovered: from 1.1 mm one way to 0.6 mm the other is 45%, not 155%."""
    along = (values - first) / (target - first)  # 1 = at the symmetric value
    by_size = (np.abs(target - first) - np.abs(values - target)) / np.abs(target - first)
    return pd.Series(100.0 * np.where(np.asarray(kind == "asymmetry"), by_size, along), index=values.index)


def _verdict(change: float, mdc: float, recovery: float, kind: str) -> str:
    if not np.isfinite(change):
        return ""
    if not np.isfinite(mdc) or abs(change) <= mdc:
        return "within measurement noise"
    if kind == "side" or not np.isfinite(recovery):
        return "real change"
    return "real change: better" if recovery > 0 else "real change: worse"


def summary_table(table: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    out = []
    for person in people["person"]:
        mine = table[table["person"] == person]
        _, latest = _first_and_latest(mine)
        for expr, measure in KEY_MEASURES:
            sub = mine[(mine["expression"] == expr) & (mine["measure"] == measure)]
            if sub.empty:
                continue
            sub = sub.sort_values(["date", "phase"], key=session_sort_key)
            first = sub[sub["verdict"] == "first"].iloc[0] if (sub["verdict"] == "first").any() else sub.iloc[0]
            # latest: the last date, before massage when there is a pre photo
            last_date = sub["date"].max()
            lat = sub[sub["date"] == last_date].iloc[0]
            info = MEASURES[measure]
            out.append({
                "person": person, "expression": expr, "measure": measure, "label": info.label, "unit": info.unit,
                "first_session": first["session"], "first_value": first["value"],
                "latest_session": lat["session"], "latest_value": lat["value"],
                "change": lat["value"] - first["value"], "mdc95": lat["mdc95"], "noise_source": lat["noise_source"],
                "verdict": "" if lat["session"] == first["session"] else lat["verdict"],
                "recovery_pct": lat["recovery_pct"], "n_sessions": len(sub),
            })
    cols = ["person", "expression", "measure", "label", "unit", "first_session", "first_value", "latest_session",
            "latest_value", "change", "mdc95", "noise_source", "verdict", "recovery_pct", "n_sessions"]
    return pd.DataFrame(out, columns=cols)


def massage_effect(table: pd.DataFrame) -> pd.DataFrame:
    cols = ["person", "date", "expression", "measure", "pre", "post", "change", "improvement", "mdc95", "verdict"]
    if table.empty:  # no photo could be used: nothing to compare
        return pd.DataFrame(columns=cols)
    keys = {k for k in KEY_MEASURES} | {(REST, m) for m in ("mouth_droop_mm", "brow_asymmetry_mm")}
    t = table[[(e, m) in keys for e, m in zip(table["expression"], table["measure"])]]
    t = t[t["phase"].isin(["pre", "post"])]
    if t.empty:
        return pd.DataFrame(columns=cols)
    w = t.pivot_table(index=["person", "date", "expression", "measure"], columns="phase",
                      values=["value", "mdc95_sitting", "first_value"], aggfunc="first")
    if ("value", "pre") not in w.columns or ("value", "post") not in w.columns:
        return pd.DataFrame(columns=cols)
    w = w.dropna(subset=[("value", "pre"), ("value", "post")])
    out = pd.DataFrame({"pre": w[("value", "pre")], "post": w[("value", "post")]}).reset_index()
    out["change"] = out["post"] - out["pre"]
    out["mdc95"] = w[("mdc95_sitting", "pre")].to_numpy()
    first = w[("first_value", "pre")].to_numpy()
    kinds = out["measure"].map(lambda m: MEASURES[m].kind)
    # improvement: towards symmetric (for signed asymmetries, towards zero from the first session's side)
    sign = np.sign(np.where(np.isfinite(first) & (first != 0), first, out["pre"]))
    out["improvement"] = np.where(kinds == "asymmetry", -sign * out["change"], out["change"])
    out["verdict"] = [
        "within measurement noise" if abs(c) <= m else ("real change: better" if i > 0 else "real change: worse")
        for c, m, i in zip(out["change"], out["mdc95"], out["improvement"])
    ]
    out["expr_rank"] = [KEY_MEASURES.index((e, m)) if (e, m) in KEY_MEASURES else 99
                        for e, m in zip(out["expression"], out["measure"])]
    return out.sort_values(["person", "expr_rank", "date"])[cols].reset_index(drop=True)
