"""The guided capture protocol as a pure state machine: one expression at a time,
countdown, automatic best frames, keys to capture, redo, skip or stop.

Nothing here opens a camera or a window: `symmetry.capture.live` feeds it frames
(`FrameObservation`s) and draws the `Prompt` that `CaptureProtocol.update` returns.
The frame checks it relies on are in `quality` (gates), `symmetry.face.expressions`
(is the expression shown?) and `frames` (which frames to keep).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from symmetry.capture.frames import Candidate, ExpressionResult, describe_failures, frame_score, select_spread
from symmetry.capture.observation import FrameObservation, rest_reference
from symmetry.capture.quality import guidance_for
from symmetry.face.expressions import RestReference, expression_strength, shows_expression
from symmetry.vocabulary import PROTOCOL_EXPRESSIONS

INSTRUCTIONS = {
    "rest": "Relax your face, lips together, look into the camera",
    "brow_raise": "Raise your eyebrows as high as you can",
    "eyes_closed_gentle": "Close your eyes gently, as if asleep",
    "eyes_closed_tight": "Squeeze your eyes shut as tight as you can",
    "smile": "Give a big smile, showing your teeth",
    "pucker": "Pucker your lips, as if to kiss or whistle",
}

#: What to say when the frame is fine but the expression is not (yet) visible.
EXPRESSION_HINTS = {
    "rest": "Relax your face completely, eyes open",
    "brow_raise": "Raise your eyebrows higher",
    "eyes_closed_gentle": "Close your eyes",
    "eyes_closed_tight": "Close your eyes and squeeze",
    "smile": "Smile wider",
    "pucker": "Push your lips forward more",
}


@dataclass(frozen=True)
class ProtocolSettings:
    """Timing and counts for the live protocol (seconds of the source's clock)."""

    frames_per_expression: int = 3
    countdown_s: float = 3.0
    min_hold_s: float = 1.5
    max_hold_s: float = 12.0
    min_gap_s: float = 0.3
    review_s: float = 1.5
    no_face_warning_s: float = 2.0
    no_face_timeout_s: float = 30.0
    #: Candidates kept in memory per expression (each holds a frame).
    keep_candidates: int = 15


@dataclass(frozen=True)
class Prompt:
    """What the window should show now."""

    expression: str
    instruction: str
    phase: str  # "countdown", "hold", "review", "done"
    step: int  # 1-based position in the protocol
    steps: int
    seconds_left: float = 0.0
    guidance: str = ""
    frames_taken: int = 0
    frames_wanted: int = 0
    good_frame: bool = False
    message: str = ""


class CaptureProtocol:
    """The guided protocol: one expression at a time, countdown, automatic best frames.

    Feed every processed frame to `update` (timestamps must increase) and every
    key press to `key`; read `results` when `finished`. Keys: " " captures the
    current frame now, "r" redoes the current (or just finished) expression,
    "s" skips it, "q" stops (what was captured is kept).
    """

    def __init__(self, expressions: tuple[str, ...] = PROTOCOL_EXPRESSIONS,
                 settings: ProtocolSettings = ProtocolSettings()):
        unknown = [e for e in expressions if e not in INSTRUCTIONS]
        if unknown:
            raise ValueError(f"unknown expression(s) {unknown}; choose from {PROTOCOL_EXPRESSIONS}")
        self.expressions = tuple(expressions)
        self.settings = settings
        self.results = {e: ExpressionResult(e) for e in self.expressions}
        self.rest: RestReference | None = None
        self.stop_reason = ""
        self._step = 0
        self._phase = "countdown"
        self._phase_start: float | None = None
        self._now = 0.0
        self._candidates: list[Candidate] = []
        self._failures: Counter = Counter()
        self._seen = 0
        self._best = 0.0
        self._last_face_ms: float | None = None
        self._last: tuple[FrameObservation, Any] | None = None
        self._message = ""
        self._selection: list[Candidate] = []
        self._selection_key: tuple | None = None

    # ---- state
    @property
    def finished(self) -> bool:
        return self._phase == "done"

    @property
    def current(self) -> str:
        return self.expressions[min(self._step, len(self.expressions) - 1)]

    # ---- input
    def update(self, obs: FrameObservation, payload: Any = None) -> Prompt:
        """Advance the protocol with one frame; returns what to show."""
        s = self.settings
        self._now = obs.timestamp_ms
        if self._phase_start is None:
            self._phase_start = self._now
        self._last = (obs, payload)
        if self.finished:
            return self.prompt()
        if obs.face_found:
            self._last_face_ms = self._now
        elif self._last_face_ms is None:
            self._last_face_ms = self._now
        if (self._now - self._last_face_ms) / 1000.0 >= s.no_face_timeout_s:
            self.stop(f"no face seen for {s.no_face_timeout_s:.0f} s")
            return self.prompt()
        elapsed = (self._now - self._phase_start) / 1000.0
        if self._phase == "countdown" and elapsed >= s.countdown_s:
            self._enter("hold")
        elif self._phase == "review" and elapsed >= s.review_s:
            self._next()
        if self._phase == "hold":
            self._consider(obs, payload)
        return self.prompt()

    def key(self, key: str) -> None:
        """Handle a key press: " ", "r", "s" or "q" (others are ignored)."""
        if self.finished:
            return
        if key == "q":
            self.stop("stopped by the user (q)")
        elif key == "s":
            if self._phase == "review":  # the shown expression is already done: skip the next one
                self._next()
            self.results[self.current] = ExpressionResult(self.current, "skipped", [], "skipped by the user (s)")
            self._message = f"skipped {self.current}"
            self._next()
        elif key == "r":
            self._message = f"again: {self.current}"
            self.results[self.current] = ExpressionResult(self.current)
            if self.current == "rest":
                self.rest = None
            self._candidates = []
            self._enter("countdown")
        elif key == " " and self._last is not None and self._phase in ("countdown", "hold"):
            obs, payload = self._last
            if obs.evidence is None:
                self._message = "no face in this frame: not captured"
                return
            self._candidates.append(Candidate(obs, frame_score(self.current, obs, self.rest), True, payload))
            self._message = "captured (space)"
            manual = sum(c.manual for c in self._candidates)
            if manual >= self.settings.frames_per_expression:
                self._finish_expression()

    def stop(self, reason: str) -> None:
        """End the protocol now (quit, camera lost, end of video), keeping what was captured."""
        if self.finished:
            return
        if self._phase in ("countdown", "hold") and self._candidates:
            self._finish_expression(advance=False)
        for r in self.results.values():
            if r.status == "pending":
                r.status, r.reason = "not_reached", f"not reached: {reason}"
        self.stop_reason = reason
        self._phase = "done"

    # ---- output
    def prompt(self) -> Prompt:
        s = self.settings
        expr = self.current
        elapsed = (self._now - (self._phase_start or self._now)) / 1000.0
        guidance, good = "", False
        if self._last is not None and self._phase in ("countdown", "hold"):
            obs = self._last[0]
            if not obs.face_found and self._last_face_ms is not None:
                missing = (self._now - self._last_face_ms) / 1000.0
                if missing >= s.no_face_warning_s:
                    guidance = (
                        f"{guidance_for('no_face')} (stopping in "
                        f"{max(0.0, s.no_face_timeout_s - missing):.0f} s)"
                    )
                else:
                    guidance = guidance_for(obs.quality.problems[0] if obs.quality.problems else "no_face")
            elif not obs.quality.ok:
                guidance = obs.quality.guidance
            elif self._phase == "hold":
                good = shows_expression(expr, obs.evidence, self.rest)
                guidance = "Hold it..." if good else EXPRESSION_HINTS[expr]
        if self._phase == "countdown":
            left = max(0.0, s.countdown_s - elapsed)
        elif self._phase == "hold":
            left = max(0.0, s.max_hold_s - elapsed)
        else:
            left = 0.0
        message = self._message
        if self._phase == "countdown" and not message:
            message = "Get ready"
        if self._phase == "review":
            r = self.results[expr]
            message = (
                f"Got it: {len(r.frames)} frame(s)   (r = redo)" if r.status == "captured" else f"{expr}: {r.reason}"
            )
        elif self._phase == "done":
            message = f"Finished: {self.stop_reason}" if self.stop_reason else "Finished"
        return Prompt(
            expression=expr,
            instruction=INSTRUCTIONS[expr],
            phase=self._phase,
            step=min(self._step + 1, len(self.expressions)),
            steps=len(self.expressions),
            seconds_left=left,
            guidance=guidance,
            frames_taken=len(self._selected()) if self._phase == "hold" else len(self.results[expr].frames),
            frames_wanted=s.frames_per_expression,
            good_frame=good,
            message=message,
        )

    # ---- internals
    def _enter(self, phase: str) -> None:
        self._phase = phase
        self._phase_start = self._now
        if phase == "countdown":
            self._candidates = []
            self._failures = Counter()
            self._seen = 0
            self._best = 0.0

    def _selected(self) -> list[Candidate]:
        # Recomputed only when the candidates change (update() asks on every frame).
        key = (id(self._candidates), len(self._candidates), sum(id(c) for c in self._candidates))
        if self._selection_key != key:
            s = self.settings
            self._selection = select_spread(self._candidates, s.frames_per_expression, s.min_gap_s * 1000.0)
            self._selection_key = key
        return self._selection

    def _consider(self, obs: FrameObservation, payload: Any) -> None:
        s = self.settings
        expr = self.current
        self._seen += 1
        if obs.evidence is None:
            self._failures["no_face"] += 1
        else:
            if expr != "rest":
                self._best = max(self._best, expression_strength(expr, obs.evidence, self.rest))
            if shows_expression(expr, obs.evidence, self.rest):
                self._failures["shown"] += 1
                if obs.quality.ok:
                    self._candidates.append(Candidate(obs, frame_score(expr, obs, self.rest), False, payload))
                    if len(self._candidates) > s.keep_candidates:
                        # Drop the weakest automatic candidate that is not in the current selection.
                        keep = {id(c) for c in self._selected()}
                        spare = [c for c in self._candidates if id(c) not in keep and not c.manual]
                        if spare:
                            self._candidates.remove(min(spare, key=lambda c: c.score))
                else:
                    self._failures.update(obs.quality.problems)
        elapsed = (self._now - self._phase_start) / 1000.0
        if elapsed >= s.min_hold_s and len(self._selected()) >= s.frames_per_expression:
            self._finish_expression()
        elif elapsed >= s.max_hold_s:
            self._finish_expression()

    def _finish_expression(self, advance: bool = True) -> None:
        expr = self.current
        chosen = self._selected()
        if chosen:
            k = self.settings.frames_per_expression
            note = "" if len(chosen) >= k else f"only {len(chosen)} of {k} frames passed the checks in time"
            self.results[expr] = ExpressionResult(expr, "captured", chosen, note)
            if expr == "rest":
                self.rest = rest_reference([c.observation for c in chosen])
        else:
            reason = describe_failures(expr, self._failures, self._seen, self._best)
            self.results[expr] = ExpressionResult(expr, "not_found", [], reason + " (press space to capture by hand)")
        self._candidates = []
        self._message = ""
        if advance:
            self._enter("review")

    def _next(self) -> None:
        self._message = ""
        self._step += 1
        if self._step >= len(self.expressions):
            self._step = len(self.expressions) - 1
            self.stop_reason = self.stop_reason or "completed"
            self._phase = "done"
        else:
            self._enter("countdown")

