"""Choosing the frames to keep for each expression, live or from a recording.

    observations --choose_frames (recording) or CaptureProtocol (live)--> ExpressionResult

Frames are ranked by how strongly they show the expression, a little less for
residual yaw and movement, and chosen spread out in time: frames apart in time are
independent repeats, so their spread measures repeatability rather than sensor noise.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from symmetry.capture.observation import FrameObservation, rest_reference
from symmetry.capture.quality import MAX_JITTER, PROBLEM_NAMES
from symmetry.face.expressions import (
    BROW_RAISE_MIN,
    PUCKER_MIN,
    SMILE_MIN,
    TIGHT_SQUEEZE_RISE,
    RestReference,
    classify_expression,
    expression_strength,
)
from symmetry.vocabulary import CLOSURE_EXPRESSIONS, PROTOCOL_EXPRESSIONS


@dataclass
class Candidate:
    """A frame that may be saved for an expression. `payload` is the caller's (e.g. the image)."""

    observation: FrameObservation
    score: float
    manual: bool = False
    payload: Any = field(default=None, repr=False)

    @property
    def timestamp_ms(self) -> float:
        return self.observation.timestamp_ms


@dataclass
class ExpressionResult:
    """What happened to one expression: status "captured", "not_found", "skipped",
    "not_reached" (the protocol stopped first) or "pending"; `reason` says why in words."""

    expression: str
    status: str = "pending"
    frames: list[Candidate] = field(default_factory=list)
    reason: str = ""


def frame_score(expression: str, obs: FrameObservation, rest: RestReference | None) -> float:
    """Rank frames: expression strength, minus a little for residual yaw and movement."""
    q = obs.quality
    return (
        expression_strength(expression, obs.evidence, rest)
        - abs(q.yaw_deg) / 100.0
        - 5.0 * (q.jitter if math.isfinite(q.jitter) else MAX_JITTER)
    )


def select_spread(candidates: list[Candidate], k: int, min_gap_ms: float) -> list[Candidate]:
    """The best `k` candidates at least `min_gap_ms` apart, in time order.

    Manual captures (space key) are always kept. The automatic ones are chosen
    to give as many frames as possible (up to k) and, among those, the highest
    total score (weighted interval scheduling, O(n k)).
    """
    manual = sorted((c for c in candidates if c.manual), key=lambda c: c.timestamp_ms)[:k]
    want = k - len(manual)
    auto = sorted(
        (c for c in candidates if not c.manual and all(abs(c.timestamp_ms - m.timestamp_ms) >= min_gap_ms for m in manual)),
        key=lambda c: c.timestamp_ms,
    )
    if want <= 0 or not auto:
        return manual
    n = len(auto)
    times = [c.timestamp_ms for c in auto]
    # prev[i]: how many candidates (a prefix) end at least min_gap before candidate i.
    prev = [bisect.bisect_right(times, t - min_gap_ms) for t in times]
    neg = (-1, -math.inf)
    # best[i][j] = (count, total score) using j slots among the first i candidates.
    best = [[(0, 0.0)] + [neg] * want for _ in range(n + 1)]
    for i in range(1, n + 1):
        c = auto[i - 1]
        for j in range(1, want + 1):
            skip = best[i - 1][j]
            base = best[prev[i - 1]][j - 1]
            take = (base[0] + 1, base[1] + c.score) if base[0] >= 0 else neg
            best[i][j] = max(skip, take)
    # Trace back the optimum for the largest reachable j.
    j = max(range(want + 1), key=lambda jj: best[n][jj])
    chosen, i = [], n
    while i > 0 and j > 0:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            chosen.append(auto[i - 1])
            i, j = prev[i - 1], j - 1
    return sorted(manual + chosen, key=lambda c: c.timestamp_ms)


def describe_failures(expression: str, counts: Counter, seen: int, best: float) -> str:
    """Why no frame of `expression` was kept, in words.

    `counts` holds "no_face", "shown" (frames showing the expression), "closed"
    (frames with the eyes closed) and the quality problems of the frames that showed
    it; `best` is the strongest evidence seen (for tight closure: the squeeze rise).
    """
    if seen == 0:
        return "no frames"
    if counts.get("no_face", 0) == seen:
        return f"no face in any of the {seen} frames"
    shown = counts.get("shown", 0)
    if shown == 0:
        what = {
            "brow_raise": f"no brow raise seen (strongest brow evidence {best:.2f}, needs {BROW_RAISE_MIN:.2f})",
            "smile": f"no smile seen (strongest smile evidence {best:.2f}, needs {SMILE_MIN:.2f})",
            "pucker": f"no pucker seen (strongest pucker evidence {best:.2f}, needs {PUCKER_MIN:.2f})",
            "rest": "the face was never at rest with the eyes open",
            "eyes_closed_gentle": "the eyes were never seen closed",
        }.get(expression, "")
        if expression == "eyes_closed_tight":
            what = (
                f"the eyes were closed but never squeezed tight (squeeze evidence rose at most {best:.2f} "
                f"above rest, needs {TIGHT_SQUEEZE_RISE:.2f})"
                if counts.get("closed") else "the eyes were never seen closed"
            )
        return what
    problems = Counter({k: v for k, v in counts.items() if k not in ("shown", "no_face", "closed")})
    top = ", ".join(f"{PROBLEM_NAMES.get(p, p)} ({n})" for p, n in problems.most_common(2))
    which = "1 frame showed it but it did not pass" if shown == 1 else f"{shown} frames showed it but none passed"
    return f"{which} the quality gates; most common: {top}"


def choose_frames(
    observations: list[FrameObservation],
    k: int = 3,
    min_gap_ms: float = 300.0,
    expressions: tuple[str, ...] = PROTOCOL_EXPRESSIONS,
) -> tuple[dict[str, ExpressionResult], RestReference | None]:
    """Pick the best frames of each expression from a recording with no instructions.

    Rest frames are found first (lowest activity, eyes open); they give the
    resting eye opening and squeeze that eye closure is judged against. An
    expression that never appears is reported "not_found" with the reason,
    never filled with the nearest thing.
    """
    good = [o for o in observations if o.evidence is not None and o.quality.ok]
    rest_candidates = [
        Candidate(o, frame_score("rest", o, None)) for o in good if classify_expression(o.evidence, None) == "rest"
    ]
    rest_frames = select_spread(rest_candidates, k, min_gap_ms)
    rest = rest_reference([c.observation for c in rest_frames])
    labels = frame_labels(observations, rest)
    results: dict[str, ExpressionResult] = {}
    for expr in expressions:
        counts, best, cands = _tally(expr, observations, labels, rest)
        chosen = rest_frames if expr == "rest" else select_spread(cands, k, min_gap_ms)
        if chosen:
            note = "" if len(chosen) >= k else f"only {len(chosen)} of {k} frames found"
            results[expr] = ExpressionResult(expr, "captured", chosen, note)
        else:
            results[expr] = ExpressionResult(expr, "not_found", [], describe_failures(expr, counts, len(observations), best))
    return results, rest


def _tally(expr: str, observations: list[FrameObservation], labels: list[str], rest: RestReference | None):
    """For one expression: the counts for `describe_failures`, the strongest evidence seen,
    and the frames that show it and pass the gates, as candidates."""
    counts: Counter = Counter()
    best = 0.0
    cands = []
    for o, label in zip(observations, labels):
        if o.evidence is None:
            counts["no_face"] += 1
            continue
        if expr == "eyes_closed_tight":
            if label in CLOSURE_EXPRESSIONS:  # closed, but how hard?
                best = max(best, o.evidence.squeeze - (rest.squeeze if rest is not None else 0.0))
        elif expr != "rest":
            best = max(best, expression_strength(expr, o.evidence, rest))
        if label in CLOSURE_EXPRESSIONS:
            counts["closed"] += 1
        if label != expr:
            continue
        counts["shown"] += 1
        if not o.quality.ok:
            counts.update(o.quality.problems)
            continue
        cands.append(Candidate(o, frame_score(expr, o, rest)))
    return counts, best, cands


def frame_labels(observations: list[FrameObservation], rest: RestReference | None) -> list[str]:
    """The expression each frame shows ("" for none or no face)."""
    return [classify_expression(o.evidence, rest) if o.evidence is not None else "" for o in observations]
