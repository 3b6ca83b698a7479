"""The aging report: open receivables by days past due, with DSO (countback) and CEI, as of any date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, field_validator

from arrisk.ledger.asof import fx_rates_as_of, open_items
from arrisk.ledger.frames import LedgerFrames


class AgingConfig(BaseModel):
    """Bucket upper bounds in days past due: (30, 60, 90) gives current, 1-30, 31-60, 61-90, 90+."""

    bounds: tuple[int, ...] = (30, 60, 90)
    cei_period_days: int = 30
    dso_months: int = 12

    @field_validator("bounds")
    @classmethod
    def _increasing(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(b <= 0 for b in v) or list(v) != sorted(set(v)):
            raise ValueError(f"bucket bounds must be positive and strictly increasing, got {list(v)}")
        return v

    def labels(self) -> list[str]:
        edges = [0, *self.bounds]
        return (
            ["current"] + [f"{a + 1}-{b}" for a, b in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]
        )


@dataclass
class AgingReport:
    as_of: pd.Timestamp
    by: str
    base_currency: str
    table: pd.DataFrame  # one row per group (+ TOTAL): buckets in base currency, shares, DSO, CEI
    by_currency: pd.DataFrame  # buckets in invoice currency


def bucket_of(days_past_due: pd.Series, config: AgingConfig) -> pd.Series:
    edges = [-np.inf, 0, *config.bounds, np.inf]
    return pd.cut(days_past_due, bins=edges, labels=config.labels(), right=True)


def _bucket_table(items: pd.DataFrame, key: str, value: str, labels: list[str]) -> pd.DataFrame:
    table = items.pivot_table(
        index=key, columns="bucket", values=value, aggfunc="sum", observed=False, fill_value=0.0
    )
    return table.reindex(columns=labels, fill_value=0.0)


def dso_countback(open_total: float, monthly_sales: list[tuple[float, int]]) -> float:
    """Countback DSO: walk back month by month, consuming each month's sales until AR is used up."""
    remaining, days = open_total, 0.0
    for sales, month_days in monthly_sales:
        if remaining <= 0:
            break
        if sales <= 0:
            days += month_days
            continue
        if remaining >= sales:
            remaining -= sales
            days += month_days
        else:
            days += month_days * remaining / sales
            remaining = 0.0
    return days


def _monthly_sales(invoices: pd.DataFrame, as_of: pd.Timestamp, months: int) -> list[tuple[float, int]]:
    """Sales (base currency) of each of the last ``months`` 1-month windows ending at ``as_of``."""
    out = []
    end = as_of
    for _ in range(months):
        start = end - pd.DateOffset(months=1)
        window = invoices[(invoices["issue_date"] > start) & (invoices["issue_date"] <= end)]
        out.append((float(window["amount_base"].sum()), int((end - start).days)))
        end = start
    return out


def _with_group(items: pd.DataFrame, customers: pd.DataFrame, by: str) -> pd.DataFrame:
    if by == "currency":
        return items.assign(group=items["currency"])
    if by == "customer":
        return items.assign(group=items["customer_id"])
    collector = items["customer_id"].map(customers.set_index("customer_id")["collector_id"])
    return items.assign(group=collector.fillna("(unassigned)"))


def _cei(
    frames: LedgerFrames, sales: pd.DataFrame, as_of: pd.Timestamp, *, by: str, config: AgingConfig, base: str
) -> pd.Series:
    """CEI = (begin AR + sales - end AR) / (begin AR + sales - end current AR) x 100, per group."""
    start = as_of - pd.Timedelta(days=config.cei_period_days)
    begin = _with_group(open_items(frames, start, base_currency=base), frames.customers, by)
    end = _with_group(open_items(frames, as_of, base_currency=base), frames.customers, by)
    window = sales[(sales["issue_date"] > start) & (sales["issue_date"] <= as_of)]
    parts = pd.DataFrame(
        {
            "begin": begin.groupby("group")["open_amount_base"].sum(),
            "sales": window.groupby("group")["amount_base"].sum(),
            "end": end.groupby("group")["open_amount_base"].sum(),
            "end_current": end[end["days_past_due"] <= 0].groupby("group")["open_amount_base"].sum(),
        }
    ).fillna(0.0)
    parts.loc[TOTAL] = parts.sum()
    denominator = parts["begin"] + parts["sales"] - parts["end_current"]
    return (
        100.0 * (parts["begin"] + parts["sales"] - parts["end"]) / denominator.where(denominator > 0)
    ).rename("cei")


TOTAL = "TOTAL"


def aging_report(
    frames: LedgerFrames,
    as_of: object,
    *,
    by: str = "customer",
    base_currency: str = "EUR",
    config: AgingConfig | None = None,
) -> AgingReport:
    """Open receivables in buckets per group (and a TOTAL row), in base and invoice currency."""
    if by not in ("customer", "collector", "currency"):
        from arrisk.errors import ValidationError

        raise ValidationError(f"aging --by must be customer, collector or currency, got {by!r}")
    config = config or AgingConfig()
    d = pd.Timestamp(as_of).normalize()
    labels = config.labels()
    items = _with_group(open_items(frames, d, base_currency=base_currency), frames.customers, by)
    items["bucket"] = bucket_of(items["days_past_due"], config)
    table = _bucket_table(items, "group", "open_amount_base", labels)
    table.loc[TOTAL] = table.sum()
    table["total"] = table[labels].sum(axis=1)
    table["share_over_90"] = _share_over(items, table, 90)
    table["oldest_days_past_due"] = items.groupby("group")["days_past_due"].max().reindex(table.index)
    table.loc[TOTAL, "oldest_days_past_due"] = items["days_past_due"].max() if len(items) else np.nan
    sales = _sales_in_base(frames, d, by=by, base=base_currency)
    table["dso"] = [
        dso_countback(
            float(table.loc[g, "total"]),
            _monthly_sales(sales if g == TOTAL else sales[sales["group"] == g], d, config.dso_months),
        )
        for g in table.index
    ]
    table["cei"] = _cei(frames, sales, d, by=by, config=config, base=base_currency).reindex(table.index)
    by_ccy = _bucket_table(items, "currency", "open_amount", labels)
    by_ccy["total"] = by_ccy.sum(axis=1)
    table.index.name = by
    return AgingReport(
        as_of=d,
        by=by,
        base_currency=base_currency,
        table=table.reset_index(),
        by_currency=by_ccy.reset_index(),
    )


def _share_over(items: pd.DataFrame, table: pd.DataFrame, days: int) -> pd.Series:
    over = items[items["days_past_due"] > days].groupby("group")["open_amount_base"].sum()
    over[TOTAL] = over.sum()
    return (over.reindex(table.index).fillna(0.0) / table["total"].where(table["total"] > 0)).fillna(0.0)


def _sales_in_base(frames: LedgerFrames, as_of: pd.Timestamp, *, by: str, base: str) -> pd.DataFrame:
    inv = frames.invoices[frames.invoices["issue_date"] <= as_of]
    rate = inv["currency"].map(fx_rates_as_of(frames, as_of, base)).fillna(1.0)
    return _with_group(inv.assign(amount_base=inv["amount"] * rate), frames.customers, by)
