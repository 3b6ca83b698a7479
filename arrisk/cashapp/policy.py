"""Cash-application policy: tolerances, evidence weights, threshold and CSV columns, from YAML.

The default lives next to this module (``cashapp_policy.yaml``); a user's file replaces it whole.
``version`` is stored with every automatic allocation's evidence so a posting can be traced to the
policy that made it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from arrisk.errors import ValidationError

DEFAULT_POLICY = Path(__file__).with_name("cashapp_policy.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarlyPaymentDiscount(_Strict):
    pct: float = Field(gt=0, lt=20, description="discount in percent of the invoice amount")
    days: int = Field(ge=0, description="paid at most this many days after issue")


class Tolerances(_Strict):
    """How far a payment may be from what it settles and still count as settling it."""

    rounding: Decimal = Decimal("0.01")
    bank_fee_abs: Decimal = Decimal("25.00")
    bank_fee_pct: float = 0.0
    fx_pct: float = 0.5
    early_payment_discounts: list[EarlyPaymentDiscount] = []
    overpayment_abs: Decimal = Decimal("0.00")


class EvidenceWeights(_Strict):
    """Strength of each independent piece of evidence; they combine by noisy-OR into a confidence."""

    invoice_number: float = 0.9
    invoice_number_typo: float = 0.7
    customer_id: float = 0.97
    payer_account: float = 0.97
    payer_name_exact: float = 0.95
    payer_name_fuzzy: float = 0.85
    amount_exact: float = 0.9
    amount_within_tolerance: float = 0.75
    amount_partial: float = 0.3
    amount_overpaid: float = 0.3
    customer_all_open: float = 0.9
    customer_oldest_first: float = 0.85
    customer_subset: float = 0.7
    customer_partial: float = 0.6
    unexplained_amount_factor: float = 0.9
    amount_only: float = 0.5
    # an amount that fits only after conversion at the booking date's rate (other currency)
    amount_fx: float = 0.75
    # cross-currency proposal without a cited invoice number whose amount fits: a guess, never posted
    fx_unconfirmed_factor: float = 0.9


class Matching(_Strict):
    fuzzy_name_cutoff: float = Field(default=86.0, ge=50, le=100)
    min_number_digits: int = Field(default=3, ge=1)
    typo_min_digits: int = Field(default=4, ge=2)
    subset_max_items: int = Field(default=60, ge=1)
    subset_max_nodes: int = Field(default=20000, ge=100)
    max_suggestions: int = Field(default=5, ge=1)
    customer_keywords: list[str] = ["cust", "customer", "client", "kunde", "kd", "debtor", "acct"]


class Learning(_Strict):
    """Confidence per rule is pulled towards its measured precision on past automatic postings."""

    min_history: int = 20
    prior_weight: float = 50.0


class CsvColumns(_Strict):
    """Column names (first found wins, case-insensitive) for CSV statements."""

    delimiter: str | None = None  # sniffed when unset
    date_format: str | None = None  # strftime format; ISO or DD.MM.YYYY when unset
    line_id: list[str] = ["line_id", "bank_reference", "reference_id", "transaction_id", "id"]
    date: list[str] = ["booking_date", "date", "value_date", "payment_date", "buchungstag"]
    amount: list[str] = ["amount", "betrag", "value"]
    credit: list[str] = ["credit", "haben"]
    debit: list[str] = ["debit", "soll"]
    direction: list[str] = ["direction", "cdt_dbt", "credit_debit", "type"]
    currency: list[str] = ["currency", "ccy", "waehrung"]
    remittance: list[str] = [
        "remittance",
        "reference",
        "description",
        "purpose",
        "text",
        "memo",
        "verwendungszweck",
    ]
    payer_name: list[str] = ["payer_name", "payer", "counterparty", "name", "debtor_name"]
    payer_account: list[str] = ["payer_account", "iban", "counterparty_account", "account"]
    default_currency: str = "EUR"
    # Bank CSV exports are per account and rarely name it: set the receiving account here so their
    # lines get the same ledger key as the CAMT.053/BAI2/MT940 lines of that account.
    own_account: str | None = None


class CashAppPolicy(_Strict):
    version: str
    auto_apply_threshold: float = Field(default=0.95, ge=0, le=1)
    suggestion_floor: float = Field(default=0.2, ge=0, le=1)
    tolerances: Tolerances = Tolerances()
    evidence: EvidenceWeights = EvidenceWeights()
    matching: Matching = Matching()
    learning: Learning = Learning()
    write_off_short_payments: bool = True
    csv: CsvColumns = CsvColumns()


def load_policy(path: Path | None = None) -> CashAppPolicy:
    """The policy from ``path`` (or the packaged default), validated; errors name the file and field."""
    path = Path(path) if path else DEFAULT_POLICY
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValidationError(f"{path}: cash-application policy cannot be read: {err}") from None
    try:
        return CashAppPolicy.model_validate(raw or {})
    except PydanticError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"{path}: {where}: {first['msg']} (got {first.get('input')!r})") from None
