"""Dunning policies: versioned YAML per customer segment, parsed and checked by pydantic at load.

A bad file is refused as a whole with a message naming the file and the field, so nothing ever
runs on a half-valid policy.
"""

from __future__ import annotations

import os
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from arrisk.errors import ValidationError

TEMPLATES_DIR = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"
DEFAULT_SEGMENT = "default"


def default_policies_dir() -> Path:
    """``ARRISK_DUNNING_POLICIES_DIR`` if set, else the repository's ``policies/dunning``."""
    env = os.environ.get("ARRISK_DUNNING_POLICIES_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "policies" / "dunning"


class Channel(StrEnum):
    email = "email"
    letter = "letter"
    call_task = "call_task"


class Level(BaseModel):
    """One step: reached ``days`` after the due date (negative: a friendly reminder before it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Annotated[int, Field(ge=0)]
    name: str
    days: int
    channels: Annotated[list[Channel], Field(min_length=1)]
    template: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9_]+$")]
    min_overdue_amount: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    wait_days: Annotated[int, Field(ge=1, description="days before the next level may follow")]

    @model_validator(mode="after")
    def _template_exists(self) -> Level:
        path = TEMPLATES_DIR / FALLBACK_LANGUAGE / f"{self.template}.txt.j2"
        if not path.is_file():
            raise ValueError(f"template {self.template!r} not found (looked for {path})")
        return self


class LateFee(BaseModel):
    """fee = fixed + open_amount * annual_interest_rate * days_past_due / 365, from ``from_level`` on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fixed: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    annual_interest_rate: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0")
    from_level: Annotated[int, Field(ge=1)] = 1


class DunningPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    version: Annotated[int, Field(ge=1)]
    segments: Annotated[list[str], Field(min_length=0)] = []
    promise_grace_days: Annotated[int, Field(ge=0)] = 3
    plan_grace_days: Annotated[int, Field(ge=0)] = 5
    min_days_between_messages: Annotated[int, Field(ge=1)] = 1
    levels: Annotated[list[Level], Field(min_length=1)]
    late_fee: LateFee | None = None

    @model_validator(mode="after")
    def _levels_in_order(self) -> DunningPolicy:
        numbers = [lv.level for lv in self.levels]
        first = numbers[0]
        if first not in (0, 1) or numbers != list(range(first, first + len(numbers))):
            raise ValueError(f"levels: numbers must run 0..n or 1..n in order, got {numbers}")
        days = [lv.days for lv in self.levels]
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError(f"levels: days must strictly increase level by level, got {days}")
        for lv in self.levels:
            if (lv.level == 0) != (lv.days < 0):
                raise ValueError(
                    f"levels: level {lv.level} has days {lv.days}; "
                    "only level 0 (the reminder before due) is negative"
                )
        if self.late_fee is not None and self.late_fee.from_level not in numbers:
            raise ValueError(
                f"late_fee.from_level: {self.late_fee.from_level} is not one of the levels {numbers}"
            )
        return self

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    def level(self, number: int) -> Level:
        return self.levels[number - self.levels[0].level]


def _describe(err: pydantic.ValidationError, source: str) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = e.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        parts.append(f"{where}: {e['msg']}{shown}")
    return f"dunning policy {source}: " + "; ".join(parts)


def parse_policy(text: str, *, source: str = "<text>") -> DunningPolicy:
    """One policy from YAML text; any problem raises ValidationError naming the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValidationError(f"dunning policy {source}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ValidationError(
            f"dunning policy {source}: expected a mapping at the top, got {type(data).__name__}"
        )
    try:
        return DunningPolicy.model_validate(data)
    except pydantic.ValidationError as err:
        raise ValidationError(_describe(err, source)) from err


class PolicySet:
    """Every policy by name, and which one each segment uses (``default`` for the rest)."""

    def __init__(self, policies: list[DunningPolicy]) -> None:
        self.by_name: dict[str, DunningPolicy] = {}
        self.by_segment: dict[str, str] = {}
        for p in policies:
            if p.name in self.by_name:
                raise ValidationError(f"dunning policies: name {p.name!r} is used by two files")
            self.by_name[p.name] = p
            for seg in p.segments:
                if seg in self.by_segment:
                    raise ValidationError(
                        f"dunning policies: segment {seg!r} is claimed by "
                        f"{self.by_segment[seg]!r} and {p.name!r}"
                    )
                self.by_segment[seg] = p.name
        if DEFAULT_SEGMENT not in self.by_segment:
            raise ValidationError(
                f"dunning policies: no policy lists segment {DEFAULT_SEGMENT!r} (the fallback)"
            )

    def for_segment(self, segment: str | None) -> DunningPolicy:
        return self.by_name[self.by_segment.get(segment or DEFAULT_SEGMENT, self.by_segment[DEFAULT_SEGMENT])]

    def get(self, name: str) -> DunningPolicy:
        if name not in self.by_name:
            raise ValidationError(
                f"dunning policy {name!r} not found; known: {', '.join(sorted(self.by_name))}"
            )
        return self.by_name[name]

    def versions(self) -> dict[str, int]:
        return {n: p.version for n, p in self.by_name.items()}


def load_policies(folder: Path | None = None) -> PolicySet:
    """Every ``*.yaml`` in the folder; one bad file refuses the whole set."""
    folder = folder or default_policies_dir()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ValidationError(f"dunning policies: no *.yaml files in {folder}")
    return PolicySet([parse_policy(f.read_text(encoding="utf-8"), source=str(f)) for f in files])
