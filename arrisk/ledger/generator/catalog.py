"""Fixed vocabularies and mixes the synthetic book draws from: countries, currencies, names, behaviours.

The numbers are plausible European B2B figures, not calibrated to any real ledger.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Behaviour(IntEnum):
    """How a customer pays; hidden from every written table (returned only as test truth)."""

    PROMPT = 0
    SLOW_STEADY = 1
    SEASONAL = 2
    DETERIORATING = 3
    SERIAL_DISPUTER = 4
    DEFAULTER = 5


BEHAVIOUR_NAMES = [b.name.lower() for b in Behaviour]
BEHAVIOUR_MIX = np.array([0.34, 0.24, 0.12, 0.12, 0.08, 0.10])
# per behaviour: share of invoices paid in two instalments, share disputed, share of promises kept
PARTIAL_RATE = np.array([0.02, 0.08, 0.10, 0.15, 0.05, 0.20])
DISPUTE_RATE = np.array([0.012, 0.015, 0.015, 0.02, 0.25, 0.03])
PROMISE_KEPT_RATE = np.array([0.9, 0.85, 0.75, 0.55, 0.7, 0.3])

# country, weight, currency, language, top-level domain, legal forms (three each)
COUNTRIES: list[tuple[str, float, str, str, str, tuple[str, str, str]]] = [
    ("DE", 0.22, "EUR", "de", "de", ("GmbH", "AG", "GmbH & Co. KG")),
    ("FR", 0.12, "EUR", "fr", "fr", ("SAS", "SARL", "SA")),
    ("NL", 0.08, "EUR", "nl", "nl", ("B.V.", "N.V.", "B.V.")),
    ("IT", 0.07, "EUR", "it", "it", ("S.p.A.", "S.r.l.", "S.r.l.")),
    ("ES", 0.06, "EUR", "es", "es", ("S.L.", "S.A.", "S.L.")),
    ("AT", 0.03, "EUR", "de", "at", ("GmbH", "AG", "GmbH")),
    ("BE", 0.03, "EUR", "fr", "be", ("NV", "SRL", "SA")),
    ("GB", 0.12, "GBP", "en", "co.uk", ("Ltd", "PLC", "Limited")),
    ("US", 0.12, "USD", "en", "com", ("Inc.", "LLC", "Corp.")),
    ("CH", 0.05, "CHF", "de", "ch", ("AG", "GmbH", "SA")),
    ("SE", 0.04, "SEK", "sv", "se", ("AB", "AB", "HB")),
    ("PL", 0.04, "PLN", "pl", "pl", ("Sp. z o.o.", "S.A.", "Sp. z o.o.")),
    ("DK", 0.02, "DKK", "da", "dk", ("A/S", "ApS", "A/S")),
]
COUNTRY_CODES = [c[0] for c in COUNTRIES]
COUNTRY_MIX = np.array([c[1] for c in COUNTRIES])
LANGUAGES = [c[3] for c in COUNTRIES]
TLDS = [c[4] for c in COUNTRIES]
LEGAL_FORMS = [form for c in COUNTRIES for form in c[5]]

CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "PLN", "DKK"]
COUNTRY_CURRENCY = np.array([CURRENCIES.index(c[2]) for c in COUNTRIES])
# EUR per unit at the start of the book, and daily volatility of the random walk
FX_START = np.array([1.0, 0.92, 1.17, 1.04, 0.088, 0.232, 0.134])
FX_DAILY_VOL = np.array([0.0, 0.005, 0.004, 0.004, 0.005, 0.005, 0.0003])
# a non-euro customer is invoiced in EUR this often
EUR_INVOICING_ABROAD = 0.1

SEGMENTS = ["enterprise", "mid_market", "smb", "public_sector"]
SEGMENT_MIX = np.array([0.08, 0.27, 0.55, 0.10])
INVOICES_PER_MONTH = np.array([3.0, 1.2, 0.5, 0.9])
MEDIAN_INVOICE_EUR = np.array([15000.0, 3500.0, 700.0, 5000.0])
TERMS = np.array([30, 45, 60])
# cumulative shares of net 30 / 45 / 60 per segment
TERMS_CDF = np.array([[0.2, 0.5, 1.0], [0.4, 0.75, 1.0], [0.7, 0.9, 1.0], [0.3, 0.6, 1.0]])
BATCH_PAYER_RATE = np.array([0.8, 0.5, 0.3, 0.6])
N_COLLECTORS = 8

# first word of a company name; slug is the ASCII form used in e-mail addresses
NAME_WORDS = [
    ("Nordic", "nordic"), ("Alpine", "alpine"), ("Atlas", "atlas"), ("Blue", "blue"),
    ("Central", "central"), ("Delta", "delta"), ("Eastern", "eastern"), ("Falcon", "falcon"),
    ("Golden", "golden"), ("Harbor", "harbor"), ("Iron", "iron"), ("Lakeside", "lakeside"),
    ("Meridian", "meridian"), ("Oak", "oak"), ("Pacific", "pacific"), ("Pioneer", "pioneer"),
    ("Prime", "prime"), ("River", "river"), ("Royal", "royal"), ("Silver", "silver"),
    ("Summit", "summit"), ("Union", "union"), ("Vertex", "vertex"), ("Western", "western"),
    ("Apex", "apex"), ("Coastal", "coastal"), ("Crown", "crown"), ("Metro", "metro"),
    ("Müller", "mueller"), ("Schröder", "schroeder"), ("Dubois", "dubois"), ("Rossi", "rossi"),
    ("García", "garcia"), ("Kowalski", "kowalski"), ("Jansen", "jansen"), ("Andersson", "andersson"),
    ("O'Neill", "oneill"), ("Nielsen", "nielsen"), ("Bianchi", "bianchi"), ("Lefèvre", "lefevre"),
]  # fmt: skip
NAME_NOUNS = [
    "Steel", "Logistics", "Foods", "Textiles", "Systems", "Pharma", "Builders", "Motors", "Plastics",
    "Electronics", "Paper", "Chemicals", "Energy", "Software", "Furniture", "Packaging", "Tools",
    "Machines", "Trading", "Distribution", "Retail", "Optics", "Labs", "Media", "Farms", "Glass",
    "Metals", "Marine", "Aviation", "Components",
]  # fmt: skip
NAME_SECOND = ["", "", "", "", "Group", "Holding", "Services", "Solutions", "International", "Partners"]
EMAIL_BOXES = ["ap", "accounts", "invoices", "finance", "billing", "payables"]

# payment methods per currency (the customer's usual one; others show up now and then)
METHODS = {
    "EUR": ["sepa_credit_transfer", "sepa_credit_transfer", "direct_debit", "card"],
    "USD": ["ach", "ach", "wire", "check"],
    "GBP": ["bacs", "faster_payments", "faster_payments", "cheque"],
    "CHF": ["bank_transfer", "bank_transfer", "bank_transfer", "card"],
    "SEK": ["bankgiro", "bankgiro", "bank_transfer", "card"],
    "PLN": ["bank_transfer", "bank_transfer", "bank_transfer", "card"],
    "DKK": ["bank_transfer", "bank_transfer", "betalingsservice", "card"],
}

DISPUTE_REASONS = [
    "pricing",
    "quantity",
    "damaged_goods",
    "not_received",
    "duplicate_invoice",
    "tax",
    "quality",
]
DISPUTE_OUTCOMES = ["credit_note", "rejected", "withdrawn"]
DISPUTE_OUTCOME_MIX = np.array([0.45, 0.35, 0.20])
