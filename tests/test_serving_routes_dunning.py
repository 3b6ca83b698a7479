"""Dunning runs through the API: dry and real runs, decisions with reasons, per-customer explanation,
delivery to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from arrisk.dunning.tables import DunningDecision, DunningMessage, OutboxItem
from arrisk.store.tables import DunningEvent
from tests.test_serving_routes_base import Served, serve_book


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("dunning") / "home")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ARRISK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ARRISK_SMTP_PORT", str(port))
    yield handler
    controller.stop()


def _events(served: Served) -> int:
    with served.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(DunningEvent)).scalar() or 0)


def test_customer_dunning_is_404_before_any_run(served: Served) -> None:
    response = served.get("/v1/customers/C001/dunning", role="collector")
    assert response.status_code == 404 and "no dunning run" in response.json()["error"]["message"]


def test_dry_run_records_decisions_but_contacts_nobody(served: Served) -> None:
    response = served.post(
        "/v1/dunning/runs", role="credit_analyst", json={"as_of": "2025-03-20", "dry_run": True}
    )
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["dry_run"] is True and run["send"] is False and run["counts"]["messages"] == 0
    assert run["actor"] == served.user_ids["credit_analyst"] and run["policies"]
    assert run["levels"] and all(level["customers"] >= 1 for level in run["levels"])
    assert _events(served) == 0
    got = served.get(f"/v1/dunning/runs/{run['run_id']}", role="data_scientist").json()
    contacted = [d for d in got["decisions"] if d["action"] == "contact"]
    assert len(contacted) == sum(level["invoices"] for level in run["levels"])
    assert all(d["message_id"] is None for d in got["decisions"])


def test_run_then_get_shows_every_decision_with_its_reason(served: Served) -> None:
    dispute = {"invoice_ids": ["I102"], "reason": "quantity", "opened_at": "2025-03-01"}
    assert served.post("/v1/customers/C001/disputes", role="collector", json=dispute).status_code == 201
    response = served.post("/v1/dunning/runs", role="admin", json={"as_of": "2025-04-15"})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["dry_run"] is False and run["counts"]["messages"] >= 1

    got = served.get(f"/v1/dunning/runs/{run['run_id']}", role="credit_analyst")
    assert got.status_code == 200, got.text
    decisions = {d["invoice_id"]: d for d in got.json()["decisions"]}
    with served.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(DunningDecision).where(DunningDecision.run_id == run["run_id"])
        ).scalar()
    assert len(decisions) == stored and stored > 0
    assert decisions["I102"]["action"] == "hold" and decisions["I102"]["reason"] == "disputed"
    assert "open dispute" in decisions["I102"]["explanation"]
    for d in decisions.values():
        assert d["explanation"] and (d["action"] == "contact") == (d["reason"] == "contact")
        if d["action"] == "contact":
            assert d["level"] is not None and d["message_id"]
    assert {k: v for k, v in run["counts"].items() if k != "messages"} == {
        r: sum(d["reason"] == r for d in decisions.values())
        for r in {d["reason"] for d in decisions.values()}
    }
    assert _events(served) == sum(d["action"] == "contact" for d in decisions.values())


def test_customer_dunning_explains_the_newest_run_for_that_customer_only(served: Served) -> None:
    mine = served.get("/v1/customers/C001/dunning", role="collector")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["customer_id"] == "C001" and body["as_of"] == "2025-04-15"
    assert {d["customer_id"] for d in body["decisions"]} == {"C001"}
    assert {d["invoice_id"] for d in body["decisions"]} <= {"I101", "I102", "I103"}
    assert served.get("/v1/customers/C001/dunning", role="collector2").status_code == 404
    older = served.get(f"/v1/customers/C001/dunning?run_id={body['run_id']}", role="data_scientist")
    assert older.json()["run_id"] == body["run_id"]
    unknown = served.get("/v1/customers/C001/dunning?run_id=nope", role="admin")
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]


def test_send_delivers_email_over_smtp(served: Served, inbox: Inbox) -> None:
    response = served.post("/v1/dunning/runs", role="admin", json={"as_of": "2025-06-15", "send": True})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["send"] is True and run["delivery"]["sent"] >= 1 and run["delivery"]["failed"] == 0
    assert inbox.messages and {m["To"] for m in inbox.messages} <= {
        f"c00{i}@example.com" for i in range(1, 5)
    }
    with served.engine.connect() as conn:
        items = conn.execute(select(OutboxItem.channel, OutboxItem.status)).all()
        this_run = conn.execute(select(func.count()).where(DunningMessage.run_id == run["run_id"])).scalar()
    # the send also delivers what the earlier run queued: the whole outbox goes out
    assert this_run == run["counts"]["messages"] >= 1
    assert items and {status for _, status in items} == {"sent"}
    assert len(inbox.messages) == sum(channel == "email" for channel, _ in items)


@pytest.mark.parametrize(
    ("role", "body", "status", "field"),
    [
        (None, {"as_of": "2025-04-15"}, 401, None),
        ("collector", {"as_of": "2025-04-15"}, 403, None),
        ("data_scientist", {"as_of": "2025-04-15"}, 403, None),
        ("admin", {}, 422, "as_of"),
        ("admin", {"as_of": "1800-01-01"}, 422, "as_of"),
        ("admin", {"as_of": "2025-02-30"}, 422, "as_of"),
        ("admin", {"as_of": "2025-04-15", "dry_run": "perhaps"}, 422, "dry_run"),
    ],
)
def test_dunning_run_errors(
    served: Served, role: str | None, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = served.post("/v1/dunning/runs", role=role, json=body)
    assert response.status_code == status, response.text
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]


@pytest.mark.parametrize(
    ("url", "role", "status"),
    [
        ("/v1/dunning/runs/19990101-deadbeef", "admin", 404),
        ("/v1/dunning/runs/anything", "collector", 403),
        ("/v1/dunning/runs/anything", None, 401),
        ("/v1/customers/C999/dunning", "admin", 404),
        (f"/v1/dunning/runs/{'x' * 65}", "admin", 422),
    ],
)
def test_dunning_read_errors(served: Served, url: str, role: str | None, status: int) -> None:
    assert served.get(url, role=role).status_code == status
