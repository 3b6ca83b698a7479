"""The collections, dunning, cash-application and monitoring routes: shared app fixture and checks
common to every route (tokens, OpenAPI, no Evidently at start).

The fixture: a real SQLite store in a temp ARRISK_HOME holding the cash-application fixture book
(tests/fixtures/statements) imported through the ledger importer, two collectors' portfolios, and one
user per role (two credit analysts, so a write-off can be approved by a second person).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from arrisk.ledger.importer import import_dir
from arrisk.settings import get_settings
from arrisk.store.db import get_engine
from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServingSettings

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = Path(__file__).parent / "fixtures" / "statements"
# C001, C002 belong to col-1; C003, C004 to col-2
PORTFOLIO = {"C001": "col-1", "C002": "col-1", "C003": "col-2", "C004": "col-2"}
USERS = {
    "admin": ("admin", None),
    "credit_analyst": ("credit_analyst", None),
    "credit_analyst2": ("credit_analyst", None),
    "data_scientist": ("data_scientist", None),
    "collector": ("collector", "col-1"),
    "collector2": ("collector", "col-2"),
}


def write_book(folder: Path) -> Path:
    """The statements fixture's customers and open invoices in the interchange format."""
    folder.mkdir(parents=True, exist_ok=True)
    customers = pd.read_csv(STATEMENTS / "customers.csv", dtype=str)
    customers["collector_id"] = customers["customer_id"].map(PORTFOLIO)
    customers["segment"] = "sme"
    customers["email"] = customers["customer_id"].str.lower() + "@example.com"
    customers["language"] = "en"
    customers.to_csv(folder / "customers.csv", index=False)
    items = pd.read_csv(STATEMENTS / "open_invoices.csv", dtype=str)
    is_note = items["invoice_number"].str.startswith("CN-")
    items.loc[~is_note].drop(columns=["open_amount"]).to_csv(folder / "invoices.csv", index=False)
    notes = items.loc[is_note]
    pd.DataFrame(
        {
            "credit_note_id": notes["invoice_number"],
            "customer_id": notes["customer_id"],
            "issue_date": notes["issue_date"],
            "amount": notes["amount"].str.lstrip("-"),
            "currency": notes["currency"],
        }
    ).to_csv(folder / "credit_notes.csv", index=False)
    # I203 is partly paid by hand (200.50), as in the cash-application store tests
    (folder / "payments.csv").write_text(
        "payment_id,payment_date,amount,currency,customer_id\nP-MAN,2025-02-20,200.50,EUR,C002\n"
    )
    (folder / "allocations.csv").write_text("payment_id,invoice_id,amount\nP-MAN,I203,200.50\n")
    return folder


@dataclass
class Served:
    client: TestClient
    engine: Engine
    settings: ServingSettings
    tokens: dict[str, str]
    user_ids: dict[str, str]
    app: Any

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def get(self, url: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers(role) | kw.pop("headers", {}), **kw)

    def post(self, url: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers(role) | kw.pop("headers", {}), **kw)


def serve_book(home: Path) -> Iterator[Served]:
    """The app over a fresh store holding the fixture book; yields while the TestClient runs."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARRISK_HOME", str(home))
        mp.delenv("ARRISK_DATABASE_URL", raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        settings = ServingSettings(home=home, load_models_at_startup=False, token_cache_seconds=0)
        engine = get_engine(settings)
        import_dir(engine, write_book(home.parent / "book"))
        tokens, user_ids = {}, {}
        for key, (role, collector_id) in USERS.items():
            user_ids[key], tokens[key] = create_user(
                engine, name=key, role=role, collector_id=collector_id, actor="test"
            )
        app = create_app(settings, engine=engine)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Served(client, engine, settings, tokens, user_ids, app)
    get_settings.cache_clear()
    engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("routes") / "home")


MY_PREFIXES = (
    "/v1/customers/{customer_id}/promises",
    "/v1/customers/{customer_id}/disputes",
    "/v1/disputes",
    "/v1/customers/{customer_id}/payment-plans",
    "/v1/customers/{customer_id}/activities",
    "/v1/write-offs",
    "/v1/dunning",
    "/v1/customers/{customer_id}/dunning",
    "/v1/cash-application",
    "/v1/monitoring",
)


def my_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, methods in spec["paths"].items()
        if path.startswith(MY_PREFIXES)
        for method, op in methods.items()
    ]


def test_every_route_is_documented_with_a_response_model_and_error_codes(served: Served) -> None:
    ops = my_operations(served.get("/openapi.json", role=None).json())
    assert len(ops) == 23  # collections 13, dunning 3, cash application 4, monitoring 3
    for method, path, op in ops:
        ok = op["responses"].get("200", op["responses"].get("201"))
        assert ok is not None, (method, path)
        assert "schema" in ok["content"]["application/json"], (method, path)
        assert {"401", "403", "404", "422"} <= set(op["responses"]), (method, path)


def test_every_route_needs_a_valid_token(served: Served) -> None:
    for method, path, _ in my_operations(served.get("/openapi.json", role=None).json()):
        url = path.format(
            customer_id="C001",
            dispute_id="D-1",
            write_off_id="WO-1",
            run_id="r1",
            exception_id=1,
            allocation_id="A-1",
        )
        for headers in ({}, {"Authorization": "Bearer ark_0000_wrong"}):
            response = served.client.request(method.upper(), url, headers=headers)
            assert response.status_code == 401, (method, url, response.text)
            assert response.json()["error"]["request_id"]


def test_the_app_starts_without_loading_evidently() -> None:
    code = (
        "import sys\nfrom serving.app import create_app\napp = create_app()\napp.openapi()\n"
        "print(any(m == 'evidently' or m.startswith('evidently.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
