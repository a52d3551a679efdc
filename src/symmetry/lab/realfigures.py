"""The figures that judge each measuring method on the real sets, and their markdown tables.

Pure: every function takes the sets (`realdata.Photo` lists) and the readings, keyed by
(photo key, method), that `scripts/validate_real.py` measured; see that script for the
sets and what each figure means.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict

import numpy as np

from symmetry.face.measures import MM_FIELDS, rescaled
from symmetry.lab.realdata import (
    AZIMUTH_BINS, VIDEO_EXPRESSIONS, Photo, Reading, azimuth_bin, finite, hand_measures, implausible_reasons, median,
    pearson_and_slope, roc_auc, tracked_from_reference,
)
from symmetry.trends.stats import MDC_FACTOR, VALIDATION_SEM


#: The asymmetries whose spread over repeat photos is reported, and their column labels.
SPREAD_MEASURES = (("mouth_droop_mm", "SD droop"), ("brow_asymmetry_mm", "SD brow"),
                   ("eye_opening_difference_mm", "SD eye diff"))


def lighting_figures(photos: list[Photo], readings: dict, method: str) -> dict:
    """Median false change from light, per |azimuth| bin and for |azimuth| <= 60."""
    key_of = {p.path: p.key for p in photos}
    changes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    measured: dict[str, list[bool]] = defaultdict(list)  # |azimuth| bin -> photo measured?
    for p in photos:
        ref = readings.get((key_of.get(p.reference), method))
        r = readings.get((p.key, method))
        if r is None or p.path == p.reference:
            continue
        measured[azimuth_bin(p.azimuth)].append(r.ok)
        if not (r.ok and ref is not None and ref.ok):
            continue
        for measure in ("mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_ratio"):
            changes[measure].append((p.azimuth, abs(getattr(r, measure) - getattr(ref, measure))))
    n = sum(map(len, measured.values()))
    out = {"photos": n, "not ok": n - sum(map(sum, measured.values())),
           **{f"not ok % {b}": 100 - 100 * float(np.mean(ok)) for b, ok in measured.items()},
           "tracked %": tracked_share([readings.get((p.key, method)) for p in photos if p.path != p.reference])}
    for measure, pairs in changes.items():
        for lo, hi in AZIMUTH_BINS:
            label = azimuth_bin(lo)
            out[f"{measure} {label}"] = median(v for a, v in pairs if azimuth_bin(a) == label)
        out[f"{measure} |az|<=60"] = median(v for a, v in pairs if abs(a) <= 60)
    return out


def video_figures(photos: list[Photo], readings: dict, method: str) -> dict:
    """Healthy false asymmetry per expression, and the share of frames not measured."""
    measured = [(p, readings[(p.key, method)]) for p in photos if (p.key, method) in readings]
    out = {"frames": len(measured),
           "not ok %": 100 * sum(not r.ok for _, r in measured) / len(measured) if measured else math.nan,
           "tracked %": tracked_share([r for p, r in measured if p.path != p.reference])}
    for expression in VIDEO_EXPRESSIONS:
        ok = [r for p, r in measured if p.expression == expression and r.ok]
        out[f"{expression} n"] = len(ok)
        out[f"{expression} |droop|"] = median(abs(r.mouth_droop_mm) for r in ok)
        out[f"{expression} |brow|"] = median(abs(r.brow_asymmetry_mm) for r in ok)
        out[f"{expression} mean"] = median((abs(r.mouth_droop_mm) + abs(r.brow_asymmetry_mm)) / 2 for r in ok)
    out.update(sitting_spread(measured))
    return out


def sitting_spread(measured: list[tuple[Photo, Reading]]) -> dict:
    """Spread within one sitting: for each clip and expression with at least 3 frames measured,
    the SD of each asymmetry across its frames (same person, camera, light and place, minutes
    apart); the median over those groups, and how many groups there were."""
    groups = defaultdict(list)
    for p, r in measured:
        if r.ok:
            groups[(p.person, p.expression)].append(r)
    groups = {k: rs for k, rs in groups.items() if len(rs) >= 3}
    return {"sitting groups": len(groups), **{f"sitting {label}": v for label, v in median_sd(groups.values()).items()}}


def median_sd(groups) -> dict[str, float]:
    """For each of `SPREAD_MEASURES`, by its label: the median over `groups` (lists of readings)
    of the SD across a group; a group with fewer than 3 finite values is left out."""
    return {label: median(statistics.stdev(v) for rs in groups
                          if len(v := finite(getattr(r, measure) for r in rs)) >= 3)
            for measure, label in SPREAD_MEASURES}


def repeat_figures(photos: list[Photo], cross: list[Photo], readings: dict, method: str) -> dict:
    """Median over people of the SD of each resting asymmetry; line-up rates for tracked."""
    by_person = defaultdict(list)
    for p in photos:
        r = readings.get((p.key, method))
        if r is not None and r.ok:
            by_person[p.person].append(r)
    out = {"people": len(by_person), "photos ok": sum(map(len, by_person.values())),
           "not ok": sum(1 for p in photos if (p.key, method) in readings and not readings[(p.key, method)].ok)}
    out.update(median_sd(by_person.values()))
    out["tracked %"] = tracked_share([readings.get((p.key, method)) for p in photos if p.order > 0])
    if method == "tracked":
        same = [readings[(p.key, method)] for p in photos if p.order > 0 and (p.key, method) in readings]
        other = [readings[(p.key, method)] for p in cross if (p.key, method) in readings]
        out["line-up"] = line_up_rates(same, other)
    return out


#: The measures whose photo-to-photo noise the trends fall back on (`trends.stats.VALIDATION_SEM`)
#: when a person has too few repeated photos of their own.
NOISE_MEASURES = ("symmetry_index", "mouth_droop_mm", "brow_asymmetry_mm", "eye_opening_difference_mm",
                  "eye_opening_ratio", "mouth_corner_height_right_mm", "mouth_corner_height_left_mm",
                  "brow_height_right_mm", "brow_height_left_mm", "eye_opening_right_mm", "eye_opening_left_mm")


def calibrated_values(readings: list[Reading]) -> list[dict[str, float]]:
    """Each reading's `NOISE_MEASURES`, its mm values rescaled to the group's median inter-pupil
    distance, as the trends calibrate one person's photos (`measures.rescaled`)."""
    ipd = median(r.interpupil_mm for r in readings)
    out = []
    for r in readings:
        values = {name: getattr(r, name) for name in NOISE_MEASURES}
        values.update(rescaled({f: getattr(r, f) for f in MM_FIELDS}, ipd))
        out.append(values)
    return out


def noise_figures(groups: list[list[Reading]]) -> dict:
    """Photo-to-photo noise within groups of one person's photos (the trends' SEM): the pooled
    within-group SD of each of `NOISE_MEASURES`, after calibration; its degrees of freedom; and
    the share of within-group pairs whose difference stays inside the trends' fallback MDC95
    (MDC_FACTOR x `VALIDATION_SEM`), which should be about 95%."""
    ss, df, inside, pairs = Counter(), Counter(), Counter(), Counter()
    for group in groups:
        rows = calibrated_values([r for r in group if r.ok])
        for name in NOISE_MEASURES:
            v = finite(row[name] for row in rows)
            if v.size < 2:
                continue
            ss[name] += float(((v - v.mean()) ** 2).sum())
            df[name] += v.size - 1
            gaps = np.abs(v[:, None] - v[None, :])[np.triu_indices(v.size, 1)]
            inside[name] += int((gaps <= MDC_FACTOR * VALIDATION_SEM[name]).sum())
            pairs[name] += gaps.size
    out = {"df": df["mouth_droop_mm"]}
    for name in NOISE_MEASURES:
        out[f"SD {name}"] = math.sqrt(ss[name] / df[name]) if df[name] else math.nan
        out[f"inside % {name}"] = 100 * inside[name] / pairs[name] if pairs[name] else math.nan
    return out


def tracked_share(readings: list) -> float:
    """% of the "ok" readings that the pipeline tracked from a reference (not measured alone)."""
    ok = [r for r in readings if r is not None and r.ok]
    return 100 * sum(map(tracked_from_reference, ok)) / len(ok) if ok else math.nan


def line_up_rates(same: list[Reading], other: list[Reading]) -> dict:
    """Same-person photos tracked from the person's first photo (accepted), and other-person
    photos measured on their own instead (rejected), each with the "does not line up" count."""
    def no_line(rs):
        return sum("does not line up" in r.message for r in rs)

    same_ok, other_ok = [r for r in same if r.ok], [r for r in other if r.ok]
    return {
        "same-person accepted": sum(map(tracked_from_reference, same_ok)), "same-person ok": len(same_ok),
        "same-person 'does not line up'": no_line(same_ok),
        "other-person rejected": sum(not tracked_from_reference(r) for r in other_ok),
        "other-person ok": len(other_ok), "other-person 'does not line up'": no_line(other_ok),
    }


def palda_figures(photos: list[Photo], points: dict, readings: dict, method: str) -> dict:
    """Agreement with the hand points (r, slope) and peripheral-vs-healthy AUC; `method`
    "hand points" scores the hand points themselves."""
    pairs = []
    for p in photos:
        scale = readings.get((p.key, "landmarks"))
        if scale is None or not math.isfinite(scale.mm_per_px):
            continue
        hand = hand_measures(points[p.key], scale.mm_per_px)
        if method == "hand points":
            pairs.append((p.group, hand, hand))
        elif (p.key, method) in readings and readings[(p.key, method)].ok:
            pairs.append((p.group, hand, readings[(p.key, method)].to_dict()))
    out = {"photos": len(pairs)}
    for measure, label in (("mouth_droop_mm", "mouth"), ("brow_asymmetry_mm", "brow"), ("eye_opening_ratio", "eye")):
        if method != "hand points":
            r, slope, _ = pearson_and_slope([o[measure] for _, _, o in pairs], [h[measure] for _, h, _ in pairs])
            out[f"r {label}"], out[f"slope {label}"] = r, slope
        score = (lambda v: 1 - v) if measure == "eye_opening_ratio" else abs
        out[f"AUC {label}"] = roc_auc([score(o[measure]) for g, _, o in pairs if g == "peripheral"],
                                        [score(o[measure]) for g, _, o in pairs if g == "healthy"])
    return out


def palsy_figures(photos: list[Photo], readings: dict, method: str) -> dict:
    """Median |asymmetry| of palsy photos, and raw landmarks' on the same photos."""
    both = [(readings[(p.key, method)], readings[(p.key, "landmarks")]) for p in photos
            if (p.key, method) in readings and (p.key, "landmarks") in readings
            and readings[(p.key, method)].ok and readings[(p.key, "landmarks")].ok]
    return {
        "photos ok": len(both),
        "not ok": sum(1 for p in photos if (p.key, method) in readings and not readings[(p.key, method)].ok),
        "|droop|": median(abs(r.mouth_droop_mm) for r, _ in both),
        "|droop| raw": median(abs(raw.mouth_droop_mm) for _, raw in both),
        "|brow|": median(abs(r.brow_asymmetry_mm) for r, _ in both),
        "|brow| raw": median(abs(raw.brow_asymmetry_mm) for _, raw in both),
    }


def implausible_counts(sets: dict[str, list[Photo]], readings: dict, methods: list[str]) -> dict:
    """Per method: "ok" readings outside the physical range, per set, in total, and per reason."""
    out = {}
    for method in methods:
        found = {name: [implausible_reasons(readings[(p.key, method)]) for p in photos if (p.key, method) in readings]
                 for name, photos in sets.items()}
        row = {name: sum(map(bool, reasons)) for name, reasons in found.items()}
        row["total"] = sum(row.values())
        row["reasons"] = dict(Counter(why for reasons in found.values() for rs in reasons for why in rs))
        out[method] = row
    return out


def _groups(photos: list[Photo], readings: dict, method: str) -> list[list[Reading]]:
    """`method`'s readings of `photos`, grouped by person (a video clip is one person)."""
    groups = defaultdict(list)
    for p in photos:
        if (p.key, method) in readings:
            groups[p.person].append(readings[(p.key, method)])
    return list(groups.values())


def all_figures(sets, points, readings, methods) -> dict:
    """Every set's figures for every method: {set: {method: figures}}, and the implausible counts."""
    fig = {"lighting": {}, "videos": {}, "repeats": {}, "palda": {}, "palsy": {}, "noise": {}}
    for m in methods:
        fig["lighting"][m] = lighting_figures(sets["lighting"], readings, m)
        for label, photos in (("repeat photos", sets["repeats"]),
                              ("rest frames of one sitting", [p for p in sets["videos"] if p.expression == "rest"])):
            groups = _groups(photos, readings, m)
            if groups:  # "balanced" runs on the palsy sets only
                fig["noise"][f"{m}, {label}"] = noise_figures(groups)
        fig["videos"][m] = video_figures(sets["videos"], readings, m)
        fig["repeats"][m] = repeat_figures(sets["repeats"], sets["cross"], readings, m)
        if m != "tracked":  # one photo per person: nothing to track from
            fig["palda"][m] = palda_figures(sets["palda"], points, readings, m)
            fig["palsy"][m] = palsy_figures(sets["palsy"], readings, m)
    fig["palda"]["hand points"] = palda_figures(sets["palda"], points, readings, "hand points")
    fig["implausible"] = implausible_counts(sets, readings, methods)
    return fig



def _cell(v) -> str:
    if isinstance(v, float):
        return "–" if not math.isfinite(v) else f"{v:.2f}"
    return str(v)


def table(title: str, rows: dict[str, dict], columns: list[str], labels: list[str] | None = None) -> str:
    """A markdown table: one row per key of `rows`, the given columns ("–" = nothing to show)."""
    lines = [f"\n### {title}\n", "| method | " + " | ".join(labels or columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(_cell(row.get(c, math.nan)) for c in columns) + " |")
    return "\n".join(lines)


def report(fig: dict, half: str) -> str:
    """Every figure of `all_figures`, as markdown tables."""
    bins = [azimuth_bin(lo) for lo, _ in AZIMUTH_BINS] + ["|az|<=60"]
    out = []
    for measure, name in (("mouth_droop_mm", "mouth droop, mm"), ("brow_asymmetry_mm", "brow asymmetry, mm"),
                          ("eye_opening_ratio", "eye-opening ratio")):
        out.append(table(f"lighting ({half}): median false change of {name}, by |azimuth| of the light",
                         fig["lighting"], [f"{measure} {b}" for b in bins] + ["photos", "not ok", "tracked %"],
                         bins + ["photos", "not ok", "tracked %"]))
    out.append(table(f"lighting ({half}): photos not measured (status not ok), % per |azimuth| bin",
                     fig["lighting"], [f"not ok % {b}" for b in bins[:-1]], bins[:-1]))
    for kind in ("|droop|", "|brow|", "mean"):
        what = "(|droop| + |brow|) / 2" if kind == "mean" else kind
        out.append(table(f"videos ({half}): healthy false asymmetry, median {what}, mm (n = frames ok)",
                         fig["videos"], [f"{e} {kind}" for e in VIDEO_EXPRESSIONS] + ["frames", "not ok %", "tracked %"],
                         list(VIDEO_EXPRESSIONS) + ["frames", "not ok %", "tracked %"]))
    out.append(table(f"videos ({half}): frames ok per expression", fig["videos"],
                     [f"{e} n" for e in VIDEO_EXPRESSIONS], list(VIDEO_EXPRESSIONS)))
    out.append(table(f"videos ({half}): spread within one sitting, median over (clip, expression) of the SD "
                     "across its frames, mm", fig["videos"],
                     [f"sitting {label}" for _, label in SPREAD_MEASURES] + ["sitting groups", "tracked %"]))
    out.append(table(f"repeats ({half}): median over people of the SD across their photos, mm", fig["repeats"],
                     ["SD droop", "SD brow", "SD eye diff", "people", "photos ok", "not ok", "tracked %"]))
    line_up = fig["repeats"].get("tracked", {}).get("line-up")
    if line_up:
        same_no, other_no = line_up["same-person 'does not line up'"], line_up["other-person 'does not line up'"]
        out.append(
            f"\ntracked line-up (repeats): same-person photos tracked from the person's first photo "
            f"{line_up['same-person accepted']}/{line_up['same-person ok']} ({same_no} 'does not line up'); "
            f"other-person photos measured on their own {line_up['other-person rejected']}/{line_up['other-person ok']} "
            f"({other_no} 'does not line up', the rest for other reasons)")
    short = [name.removesuffix("_mm").replace("_height", "").replace("eye_opening", "eye")
             .replace("mouth_corner", "corner") for name in NOISE_MEASURES]
    fallback = {"trends' fallback SEM": {f"SD {n}": VALIDATION_SEM[n] for n in NOISE_MEASURES}}
    out.append(table(f"noise ({half}): pooled SD within one person's photos, after calibration (df = degrees "
                     "of freedom), beside the SEM the trends fall back on", {**fig["noise"], **fallback},
                     [f"SD {n}" for n in NOISE_MEASURES] + ["df"], short + ["df"]))
    out.append(table(f"noise ({half}): % of pairs of one person's photos whose difference stays inside the "
                     "fallback MDC95 (1.96 x sqrt 2 x SEM; about 95 is right)", fig["noise"],
                     [f"inside % {n}" for n in NOISE_MEASURES], short))
    cols = [f"{s} {m}" for s in ("r", "slope") for m in ("mouth", "brow", "eye")] + [
        f"AUC {m}" for m in ("mouth", "brow", "eye")] + ["photos"]
    out.append(table(f"palda ({half}): ours against the hand points (r, slope); peripheral vs healthy AUC",
                     fig["palda"], cols))
    out.append(table(f"palsy ({half}): median |asymmetry| of palsy photos, mm (raw = landmarks on the same photos)",
                     fig["palsy"], ["|droop|", "|droop| raw", "|brow|", "|brow| raw", "photos ok", "not ok"]))
    sets = [c for c in next(iter(fig["implausible"].values()), {}) if c != "reasons"]
    out.append(table(f"implausible values ({half}): 'ok' readings with |asym| > 25 mm or eye opening "
                     "outside 0-25 mm", fig["implausible"], sets))
    out.append("\nwhy: " + "; ".join(f"{m}: {row['reasons'] or 'none'}" for m, row in fig["implausible"].items()))
    return "\n".join(out)


def summary(fig: dict, methods: list[str], half: str) -> str:
    """One row per method (in the order given) of the figures that judge it, and the hand points'."""
    rows = {}
    for m in methods:
        get = lambda part, col: fig[part].get(m, {}).get(col, math.nan)  # noqa: E731
        rows[m] = {
            "light droop": get("lighting", "mouth_droop_mm |az|<=60"),
            "light eye ratio": get("lighting", "eye_opening_ratio |az|<=60"),
            "smile |droop|": get("videos", "smile |droop|"), "brow raise |brow|": get("videos", "brow_raise |brow|"),
            "sitting SD droop": get("videos", "sitting SD droop"), "sitting SD brow": get("videos", "sitting SD brow"),
            "repeat SD droop": get("repeats", "SD droop"), "repeat SD brow": get("repeats", "SD brow"),
            **{f"palda {k}": get("palda", k) for k in ("r mouth", "r brow", "r eye", "AUC mouth", "AUC brow", "AUC eye")},
            "palsy |droop|": get("palsy", "|droop|"), "implausible": fig["implausible"][m]["total"],
        }
    hand = fig["palda"]["hand points"]
    rows["hand points"] = {f"palda {k}": hand[k] for k in ("AUC mouth", "AUC brow", "AUC eye")}
    columns = list(rows[next(iter(rows))])
    return table(f"SUMMARY ({half}): light false change (|az|<=60, median), healthy false asymmetry "
                 "(median, mm), SD within one sitting and over repeat photos (mm), palda agreement and AUC, "
                 "palsy median, implausible count",
                 rows, columns)
