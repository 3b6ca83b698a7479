"""What the matcher proposes for one statement line, and how sure it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from arrisk.cashapp.statement import StatementLine


class LineStatus(StrEnum):
    AUTO = "auto"
    SUGGESTED = "suggested"
    UNAPPLIED = "unapplied"
    DEBIT = "debit"


@dataclass
class Proposal:
    """Cash of one line over items of the open book (positions and cents), with its evidence."""

    positions: list[int]
    cents: list[int]
    confidence: float
    rule: str
    customer_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)
    left_over: int = 0  # cents not allocated, in the line's currency: a credit on account
    residues: list[int] = field(default_factory=list)  # open cents left on each item after this cash

    @property
    def key(self) -> tuple[tuple[int, int], ...]:
        return tuple(sorted(zip(self.positions, self.cents, strict=True)))


@dataclass
class LineMatch:
    line: StatementLine
    status: LineStatus
    proposals: list[Proposal] = field(default_factory=list)  # best first; [0] is applied when AUTO
    customer_id: str | None = None

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None


def noisy_or(*scores: float) -> float:
    """Independent pieces of evidence for the same conclusion: 1 - prod(1 - s)."""
    miss = 1.0
    for s in scores:
        miss *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - miss
