"""Strict validation of interchange tables before anything is written.

Every problem names the file, the row (1-based data row; the CSV line is row + 1), the column,
the value and the rule, e.g. ``invoices.csv row 118: due_date 2024-01-03 is before issue_date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from arrisk.errors import ValidationError
from arrisk.ledger.frames import SCHEMAS

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
ID_COLUMNS = {"customer_id", "invoice_id", "payment_id", "credit_note_id", "dispute_id", "promise_id"}
MONEY_COLUMNS = {"amount", "credit_limit", "rate_to_base"}
MAX_LISTED = 20
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    value: object
    rule: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        if self.column is None:
            return f"{where}: {self.rule}"
        if self.value is None:
            return f"{where}: {self.column} {self.rule}"
        return f"{where}: {self.column} {self.value!r} {self.rule}"


class ImportValidationError(ValidationError):
    """The import was refused; nothing was written. ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n  ".join(str(p) for p in problems[:MAX_LISTED])
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(f"import refused, nothing written ({len(problems)} problem(s)):\n  {shown}{more}")


class TableChecker:
    """Parses one raw table into typed columns, collecting problems instead of stopping at the first."""

    def __init__(self, name: str, frame: pd.DataFrame, file: str) -> None:
        self.name, self.raw, self.file = name, frame.reset_index(drop=True), file
        self.problems: list[Problem] = []
        self.out = pd.DataFrame(index=self.raw.index)

    def flag(self, mask: pd.Series, column: str | None, rule: str, values: pd.Series | None = None) -> None:
        for idx in np.flatnonzero(mask.to_numpy())[: MAX_LISTED + 1]:
            value = None if values is None else values.iloc[idx]
            self.problems.append(Problem(self.file, int(idx) + 1, column, value, rule))

    def check_columns(self) -> bool:
        required, _, _, _ = SCHEMAS[self.name]
        missing = [c for c in required if c not in self.raw.columns]
        for column in missing:
            self.problems.append(Problem(self.file, None, None, None, f"missing required column '{column}'"))
        return not missing

    def text(self, column: str, *, required: bool) -> None:
        if column not in self.raw:
            self.out[column] = None
            return
        values = self.raw[column].astype("object").where(self.raw[column].notna(), None)
        values = values.map(lambda v: v.strip() if isinstance(v, str) else (None if v is None else str(v)))
        values = values.where(values != "", None)
        if required:
            self.flag(values.isna(), column, "is empty; a value is required", values)
        self.out[column] = values

    def date(self, column: str, *, required: bool) -> None:
        if column not in self.raw:
            self.out[column] = pd.Series(pd.NaT, index=self.raw.index, dtype="datetime64[ns]")
            return
        raw = self.raw[column]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw.astype("datetime64[ns]")
            bad = pd.Series(False, index=raw.index)
        else:
            text = raw.astype("object").where(raw.notna(), None).map(lambda v: None if v in (None, "") else v)
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce").astype("datetime64[ns]")
            bad = text.notna() & parsed.isna()
            self.flag(bad, column, "is not a date (expected YYYY-MM-DD)", text)
        if required:
            self.flag(parsed.isna() & ~bad, column, "is empty; a date is required", raw)
        self.out[column] = parsed

    def money(self, column: str, *, required: bool, minimum: Decimal | None, strict: bool = False) -> None:
        if column not in self.raw:
            self.out[column] = None
            return
        raw = self.raw[column]
        parsed = raw.map(_to_decimal)
        if column != "rate_to_base":
            parsed = parsed.map(lambda d: None if d is None else d.quantize(CENT, rounding=ROUND_HALF_UP))
        bad = raw.notna() & (raw.astype("object") != "") & parsed.isna()
        self.flag(bad, column, "is not a number", raw)
        if required:
            self.flag(parsed.isna() & ~bad, column, "is empty; an amount is required", raw)
        if minimum is not None:
            below = parsed.map(lambda d: d is not None and (d <= minimum if strict else d < minimum))
            rule = f"must be {'greater than' if strict else 'at least'} {minimum}"
            self.flag(below.astype(bool), column, rule, raw)
        self.out[column] = parsed

    def integer(self, column: str, *, minimum: int) -> None:
        raw = self.raw[column]
        parsed = pd.to_numeric(raw, errors="coerce")
        bad = parsed.isna() | (parsed % 1 != 0)
        self.flag(bad, column, "is not a whole number", raw)
        self.flag(~bad & (parsed < minimum), column, f"must be at least {minimum}", raw)
        self.out[column] = parsed.fillna(0).astype("int64")

    def currency(self, column: str, *, required: bool) -> None:
        self.text(column, required=required)
        values = self.out[column]
        bad = values.notna() & ~values.map(lambda v: bool(CURRENCY_RE.match(v)) if v else True)
        self.flag(bad, column, "is not a 3-letter ISO currency code", values)

    def unique(self, columns: list[str]) -> None:
        dup = self.out.duplicated(subset=columns, keep="first") & self.out[columns].notna().all(axis=1)
        if not dup.any():
            return
        label = "+".join(columns)
        self.flag(
            dup, label, "is duplicated in this file", self.out[columns].astype(str).agg("/".join, axis=1)
        )


def _to_decimal(value: object) -> Decimal | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    try:
        if isinstance(value, float | np.floating):
            number = Decimal(repr(float(value)))
        else:
            number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
