"""What every data-set adapter shares: the bundle it returns, folder lookup and typed frame building."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import NotFoundError
from arrisk.ledger.frames import SCHEMAS, LedgerFrames, coerce_types, empty_frame


@dataclass
class DatasetBundle:
    """A public data set as a ledger, with its labels and any ground truth kept apart from the frames.

    ``targets`` and ``truth`` are for evaluation only: nothing in them is imported into the store.
    """

    frames: LedgerFrames
    targets: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.frames.items() if len(frame)}


def dataset_folder(path: Path, *, folder: str, required_file: str) -> Path:
    """Accept either the data set's own folder or the data root that holds it."""
    path = Path(path)
    for candidate in (path, path / folder):
        if (candidate / required_file).is_file():
            return candidate
    raise NotFoundError(
        f"data set file {required_file} not found in {path} nor in {path / folder}; "
        "pass the data set's folder or the data root (ARRISK_DATA_DIR)"
    )


def to_cents(values: pd.Series) -> pd.Series:
    """Amounts as whole cents, rounded half up like the store (Home Credit has half-cent amounts)."""
    floats = values.astype("float64")
    scaled = floats * 100
    if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
        return pd.Series(np.round(scaled).astype("int64"), index=values.index)
    cents = [int((Decimal(repr(v)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in floats]
    return pd.Series(cents, index=values.index, dtype="int64")


def from_cents(cents: pd.Series) -> pd.Series:
    return cents.astype("int64") / 100.0


def typed_frame(name: str, data: dict[str, Any] | pd.DataFrame) -> pd.DataFrame:
    """A frame in the interchange format: every schema column present, ids text, dates, float amounts."""
    frame = pd.DataFrame(data).reset_index(drop=True)
    required, optional, dates, _ = SCHEMAS[name]
    template = empty_frame(name)
    for column in required + optional:
        if column not in frame:
            frame[column] = pd.Series(
                pd.NaT if column in dates else None, index=frame.index, dtype=template[column].dtype
            )
    return coerce_types(frame[required + optional], name)


def month_end(year: int, month: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
