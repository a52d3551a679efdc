"""Massage sequences: the default one from the palsy-massage literature, and loading a person's own
from a small TOML or JSON file, checked with one-line errors (docs/massage.md, "Sequence file").

A sequence is an ordered list of steps; each step works one point (a code of the point table)
or one kneading area, with a technique, a time, a stroke direction and the side it is done on
("weak", "strong" or "both"; midline points are done where they are).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from symmetry.massage.areas import AREAS
from symmetry.massage.table import BY_CODE

TECHNIQUES = {
    "kneading": "knead in small slow circles, firm but painless",
    "pressing": "press and hold, release, press again",
    "pushing": "push slowly with the finger pads in the direction shown",
    "rubbing": "rub with the palm or finger pads until the skin feels warm",
    "pinching": "lift the skin gently between thumb and index finger, release",
}
#: Stroke directions, as seen on the person's own face ("outward" = towards the ear).
DIRECTIONS = ("", "circles", "up", "down", "outward", "inward", "up-outward")
STEP_SIDES = ("weak", "strong", "both")
_FIELDS = {"point", "area", "technique", "seconds", "direction", "side", "note"}


class SequenceError(ValueError):
    """A sequence file that cannot be used; the message is one line naming the file and step."""


@dataclass(frozen=True)
class Step:
    """One step: a point code (or a kneading area), how, how long, which way, on which side."""

    technique: str
    seconds: float
    point: str = ""
    area: str = ""
    direction: str = ""
    side: str = "weak"
    note: str = ""

    @property
    def target(self) -> str:
        return self.point or self.area

    @property
    def title(self) -> str:
        if self.point:
            return f"{BY_CODE[self.point].name} {self.point}"
        return f"{self.area} area ({_area_muscle(self.area)})"


@dataclass(frozen=True)
class Sequence:
    """An ordered massage; `source` says where it came from ("default" or a file path)."""

    name: str
    steps: tuple[Step, ...]
    source: str = "default"

    @property
    def seconds(self) -> float:
        return float(sum(s.seconds for s in self.steps))

    @property
    def minutes(self) -> float:
        return self.seconds / 60.0


def _area_muscle(area: str) -> str:
    from symmetry.massage.areas import AREA_MESH

    return AREA_MESH[area][0]


def _s(technique, seconds, point="", area="", direction="", side="weak", note="") -> Step:
    return Step(technique, float(seconds), point, area, direction, side, note)


#: The default: warm the weak side, then the points from the brow down to the jaw, each worked
#: the way the cited protocols do (docs/massage.md, "The default sequence"); strokes on the weak
#: side lift up and out, against the droop. About 14 minutes.
DEFAULT = Sequence("facial palsy self-massage (default)", (
    _s("rubbing", 40, area="cheek", direction="up-outward", side="both",
       note="warm both cheeks with the palms, upwards from the jaw to the temples"),
    _s("pushing", 30, point="EX-HN3", direction="up", note="thumbs push up from between the brows to the hairline"),
    _s("kneading", 30, point="BL2", direction="circles"),
    _s("kneading", 20, point="EX-HN4", direction="circles"),
    _s("kneading", 20, point="TE23", direction="circles"),
    _s("pushing", 40, point="GB14", direction="up", note="knead, then push up towards the hairline"),
    _s("pushing", 40, area="forehead", direction="up", note="push up from the brow to the hairline, whole forehead"),
    _s("kneading", 30, point="EX-HN5", direction="circles", note="gently: the temple bone is thin"),
    _s("pressing", 20, point="GB1"),
    _s("pressing", 30, point="ST1", note="press the bony rim below the eye, never the eyeball"),
    _s("kneading", 30, point="ST2", direction="circles"),
    _s("pushing", 30, area="eye", direction="outward",
       note="finger pads along the bone around the eye, from the nose outwards; eye closed"),
    _s("kneading", 30, point="LI20", direction="circles", note="then push up beside the nose"),
    _s("kneading", 20, point="ST3", direction="circles"),
    _s("kneading", 30, point="SI18", direction="circles"),
    _s("pushing", 30, point="GV26", direction="outward", note="push from the middle of the lip towards the weak side"),
    _s("kneading", 40, point="ST4", direction="up-outward", note="knead, then push up and out towards the ear"),
    _s("pushing", 20, point="CV24", direction="outward", note="push from under the lip towards the weak mouth corner"),
    _s("pushing", 40, area="mouth", direction="outward", note="around the lips, from the middle to the corner"),
    _s("pushing", 40, area="cheek", direction="up-outward", note="from the mouth corner up to the cheekbone"),
    _s("kneading", 20, point="ST5", direction="circles"),
    _s("kneading", 30, point="ST6", direction="circles"),
    _s("kneading", 30, point="ST7", direction="circles"),
    _s("kneading", 40, area="jaw", direction="circles", note="the chewing muscle, from the cheekbone to the jaw angle"),
    _s("pressing", 30, point="TE17", note="behind the ear lobe"),
    _s("pressing", 30, point="GB20", side="both", note="thumbs under the skull, both sides at once"),
    _s("pressing", 30, point="LI4", side="both", note="each hand in turn; not in pregnancy"),
))


# ------------------------------------------------------------------ loading and checking
def load_sequence(path: str | os.PathLike) -> Sequence:
    """A sequence from a TOML or JSON file: an optional `name` and a list of steps under
    `step` (TOML ``[[step]]`` tables) or `steps`; each step has `point` or `area`,
    `technique`, `seconds`, and optionally `direction`, `side` and `note`.

    Raises:
        SequenceError: unreadable file, bad syntax, unknown point code, area, technique,
            direction or side, a missing field, or seconds that are not a positive number.
    """
    path = Path(path)
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SequenceError(f"{where}: cannot read the sequence file ({exc.__class__.__name__}: {exc})") from None
    doc = _parse(text, where, path.suffix.lower())
    if not isinstance(doc, dict):
        raise SequenceError(f"{where}: expected a table with a list of steps, got {type(doc).__name__}")
    steps = doc.get("step", doc.get("steps"))
    if not isinstance(steps, list) or not steps:
        raise SequenceError(f"{where}: no steps: add [[step]] tables (TOML) or a \"steps\" list (JSON)")
    name = str(doc.get("name", path.stem))
    return Sequence(name, tuple(_step(item, f"{where}: step {i}") for i, item in enumerate(steps, 1)), str(path))


def _parse(text: str, where: str, suffix: str):
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SequenceError(f"{where}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SequenceError(f"{where}: not valid TOML: {exc}") from None


def _step(item, where: str) -> Step:
    if not isinstance(item, dict):
        raise SequenceError(f"{where}: expected a table of fields, got {item!r}")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise SequenceError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})")
    point, area = str(item.get("point", "")).strip().upper(), str(item.get("area", "")).strip().lower()
    if bool(point) == bool(area):
        raise SequenceError(f"{where}: give exactly one of 'point' (a code such as GB14) or 'area' "
                            f"({', '.join(AREAS)})")
    if point and point not in BY_CODE:
        raise SequenceError(f"{where}: unknown point code {point!r} (known: {', '.join(BY_CODE)})")
    if area and area not in AREAS:
        raise SequenceError(f"{where}: unknown area {area!r} (known: {', '.join(AREAS)})")
    for key in ("technique", "seconds"):
        if key not in item:
            raise SequenceError(f"{where}: missing field {key!r}")
    return Step(_choice(item, "technique", tuple(TECHNIQUES), where), _seconds(item["seconds"], where), point, area,
                _choice(item, "direction", DIRECTIONS, where), _choice(item, "side", STEP_SIDES, where, "weak"),
                str(item.get("note", "")))


def _choice(item: dict, key: str, allowed: tuple[str, ...], where: str, default: str = "") -> str:
    value = str(item.get(key, default)).strip().lower()
    if value not in allowed:
        shown = ", ".join(a for a in allowed if a)
        raise SequenceError(f"{where}: unknown {key} {value!r} ({shown})")
    return value


def _seconds(value, where: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise SequenceError(f"{where}: seconds must be a positive number, not {value!r}")
    return float(value)


def to_toml(sequence: Sequence) -> str:
    """The sequence as a TOML file that `load_sequence` reads back (a start for one's own)."""
    lines = [f"name = {json.dumps(sequence.name)}", ""]
    for s in sequence.steps:
        lines.append("[[step]]")
        lines.append(f"point = {json.dumps(s.point)}" if s.point else f"area = {json.dumps(s.area)}")
        lines.append(f"technique = {json.dumps(s.technique)}")
        lines.append(f"seconds = {s.seconds:g}")
        for key in ("direction", "note"):
            if getattr(s, key):
                lines.append(f"{key} = {json.dumps(getattr(s, key))}")
        if s.side != "weak":
            lines.append(f"side = {json.dumps(s.side)}")
        lines.append("")
    return "\n".join(lines)
