"""Every feature's name and one-line definition; the names depend on the configured windows.

``CATALOGUE`` (default config) is built on first use, not at import. All amounts are in the base
currency at the as-of rate; "paid" means settled by allocations or credit notes on or before the
as-of date; days late are ``max(0, settlement day - due day)``.
"""

from __future__ import annotations

from typing import Any

from features.config import FeatureConfig, default_config


def _lateness(c: FeatureConfig) -> dict[str, str]:
    out = {
        "n_paid_invoices": "invoices paid (allocations + credit notes) on or before the as-of date",
        "days_late_mean": "mean days late of paid invoices",
        "days_late_wmean": "amount-weighted mean days late of paid invoices",
        "days_late_max": "largest days late of a paid invoice",
        f"days_late_last{c.last_n_invoices}_mean": (
            f"mean days late of the last {c.last_n_invoices} paid invoices"
        ),
        "days_late_trend": (
            f"slope of days late per invoice over the last {c.trend_n_invoices} paid invoices "
            "(by settlement day; > 0 = getting later)"
        ),
        "days_to_pay_mean": "mean days from issue to settlement of paid invoices",
        "days_to_pay_std": "standard deviation of days from issue to settlement (payment regularity)",
    }
    for t in c.late_thresholds_days:
        out[f"share_late_over_{t}d"] = f"share of paid invoices paid more than {t} days after due"
    return out


def _bucket_names(c: FeatureConfig) -> list[tuple[str, str]]:
    edges = c.aging_bucket_edges_days
    names = [("aging_current_amount", "open amount not yet due")]
    low = 1
    for e in edges:
        names.append((f"aging_{low}_{e}_amount", f"open amount {low} to {e} days past due"))
        low = e + 1
    names.append((f"aging_over_{edges[-1]}_amount", f"open amount more than {edges[-1]} days past due"))
    return names


def _exposure(c: FeatureConfig) -> dict[str, str]:
    out = {
        "open_amount": "total open amount of invoices open on the as-of date",
        "overdue_amount": "open amount past its due date",
        "n_open_invoices": "invoices open on the as-of date",
        "n_overdue_invoices": "open invoices past their due date",
        "share_overdue": "overdue amount / open amount (NaN with nothing open)",
        "oldest_days_past_due": "days past due of the oldest overdue open invoice (0 if none)",
        "credit_limit": "credit limit in force on the as-of date, base currency (history; else master)",
        "credit_utilisation": "open amount / credit limit (NaN without a positive limit)",
        f"due_next_{c.due_soon_days}d_amount": (
            f"open amount falling due within the next {c.due_soon_days} days"
        ),
        "payment_terms_days": "standard payment terms of the customer, days",
    }
    out.update(dict(_bucket_names(c)))
    return out


def _activity(c: FeatureConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for w in c.activity_windows_days:
        out[f"invoiced_amount_{w}d"] = f"amount invoiced in the last {w} days"
        out[f"n_invoices_{w}d"] = f"invoices issued in the last {w} days"
        out[f"paid_amount_{w}d"] = f"amount allocated to the customer's invoices in the last {w} days"
    for w in c.activity_windows_days[:-1]:
        out[f"invoiced_growth_{w}d"] = (
            f"invoiced in the last {w} days / invoiced in the {w} days before, minus 1"
        )
    out.update(
        {
            "tenure_days": "days since the customer was created or first invoiced, whichever is earlier",
            "days_since_last_invoice": "days since the latest invoice was issued",
            "days_since_last_payment": "days since the latest payment by or allocated to the customer",
            "invoice_amount_mean": "mean invoice amount, all invoices issued by the as-of date",
            "n_invoices": "invoices issued by the as-of date",
        }
    )
    return out


def _behaviour(c: FeatureConfig) -> dict[str, str]:
    return {
        "share_partial_allocations": (
            f"share of allocations covering less than {c.partial_payment_share:.0%} of their invoice"
        ),
        "share_multi_invoice_payments": "share of the customer's payments allocated to two or more invoices",
        "n_disputes": "disputes opened by the as-of date",
        "dispute_rate": "share of invoices with at least one dispute opened by the as-of date",
        "n_open_disputes": "disputes open on the as-of date (resolutions after it do not count)",
        "open_dispute_amount": "disputed amount of open disputes (the invoice's open amount if none given)",
        "n_promises": "promises to pay made by the as-of date",
        "n_promises_kept": f"promises covered by allocations by promised date + {c.promise_grace_days} days",
        "n_promises_broken": "promises past promised date + grace and not covered",
        "n_promises_pending": "promises whose promised date + grace is still ahead",
        "promise_kept_rate": "kept / (kept + broken) promises (NaN without any)",
        "dunning_max_level": "highest dunning level ever sent",
        "dunning_max_level_open": "highest dunning level sent for an invoice still open",
        f"n_dunning_{c.dunning_recent_days}d": f"dunning events in the last {c.dunning_recent_days} days",
        "n_payment_plans": "payment plans agreed by the as-of date",
        "n_payment_plans_active": "payment plans not broken by the as-of date",
        "n_payment_plans_broken": "payment plans broken on or before the as-of date",
        "n_write_offs": "write-offs booked by the as-of date",
        "write_off_amount": "amount written off by the as-of date",
        "credited_amount": "credit notes issued to the customer by the as-of date",
    }


def customer_catalogue(config: FeatureConfig | None = None) -> dict[str, str]:
    """Customer-level features in output order."""
    c = config or default_config()
    return {**_lateness(c), **_exposure(c), **_activity(c), **_behaviour(c)}


INVOICE_OWN: dict[str, str] = {
    "inv_amount": "invoice amount",
    "inv_open_amount": "open amount of the invoice on the as-of date",
    "inv_share_open": "open amount / invoice amount",
    "inv_terms_days": "due date minus issue date, days",
    "inv_amount_vs_customer_median": "invoice amount / the customer's median invoice amount",
    "inv_days_to_due": "due date minus as-of date, days (negative once past due)",
    "inv_days_past_due": "max(0, as-of date minus due date), days",
    "inv_age_days": "as-of date minus issue date, days",
    "inv_is_disputed": "1 if a dispute on the invoice is open on the as-of date",
    "inv_dunning_level": "highest dunning level sent for the invoice",
    "inv_n_allocations": "allocations to the invoice so far (partial payments)",
}


def invoice_catalogue(config: FeatureConfig | None = None) -> dict[str, str]:
    """Invoice-level model input: the invoice's own features, then its customer's."""
    return {**INVOICE_OWN, **customer_catalogue(config)}


def catalogue_markdown(config: FeatureConfig | None = None) -> str:
    """The catalogue as the Markdown page the README links (docs/FEATURES.md)."""
    lines = [
        "# Feature catalogue",
        "",
        "Generated from `features/catalogue.py` (default windows); `arrisk features list` prints the same.",
        "",
    ]
    for title, table in (
        ("Customer features", customer_catalogue(config)),
        ("Invoice features", INVOICE_OWN),
    ):
        lines += [f"## {title}", "", "| feature | definition |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in table.items()]
        lines.append("")
    lines.append("Invoice rows also carry every customer feature of their customer.")
    return "\n".join(lines) + "\n"


def __getattr__(name: str) -> Any:
    if name == "CATALOGUE":
        return {**INVOICE_OWN, **customer_catalogue()}
    raise AttributeError(name)
