"""The README links docs/FEATURES.md: it must say what the code computes."""

from __future__ import annotations

from pathlib import Path

from features.catalogue import CATALOGUE, catalogue_markdown
from features.pipeline import CUSTOMER_FEATURES, INVOICE_FEATURES

DOC = Path(__file__).resolve().parents[1] / "docs" / "FEATURES.md"


def test_feature_catalogue_page_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/FEATURES.md is stale: regenerate it with "
        "python -c 'from features.catalogue import catalogue_markdown; print(catalogue_markdown(), end=\"\")'"
    )


def test_every_model_input_has_a_definition() -> None:
    for name in [*CUSTOMER_FEATURES, *INVOICE_FEATURES]:
        assert CATALOGUE.get(name), f"{name} has no one-line definition in the catalogue"
