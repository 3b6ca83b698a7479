"""Message text from Jinja2 templates per language, falling back to English."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from arrisk.dunning.policy import FALLBACK_LANGUAGE, TEMPLATES_DIR


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_message(template: str, language: str, context: dict[str, Any]) -> Rendered:
    """Subject (the template's first ``Subject:`` line) and body, in the language if a template exists."""
    env = _environment()
    try:
        tpl, used = env.get_template(f"{language}/{template}.txt.j2"), language
    except TemplateNotFound:
        tpl, used = env.get_template(f"{FALLBACK_LANGUAGE}/{template}.txt.j2"), FALLBACK_LANGUAGE
    first, _, body = tpl.render(**context).partition("\n")
    return Rendered(subject=first.removeprefix("Subject:").strip(), body=body.lstrip("\n"), language=used)


def message_context(
    *, customer: dict[str, Any], as_of: Any, level: int, invoices: list[dict[str, Any]]
) -> dict[str, Any]:
    currencies = {i["currency"] for i in invoices}
    return {
        "customer": customer,
        "as_of": as_of,
        "level": level,
        "invoices": invoices,
        "total": round(sum(i["open_amount"] for i in invoices), 2),
        "fees": round(sum(i["fee"] or 0 for i in invoices), 2),
        "currency": currencies.pop() if len(currencies) == 1 else "(mixed)",
    }
