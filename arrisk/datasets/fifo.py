"""First-in, first-out application of cash and credits to open invoices, in whole cents.

Data sets that give balances and payments but no allocations (UCI) are turned into a ledger by
applying each payment or credit to the oldest open invoice; what cannot be applied yet waits and
is applied to the next invoice on its issue date, as an AR clerk would apply unapplied cash.
An invoice can be *held* open (a delinquent statement the source says is still unpaid): cash goes
to the other invoices first and pays a held one only down to ``HELD_FLOOR_CENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

HELD_FLOOR_CENTS = 100


@dataclass
class _Credit:
    kind: str  # "payment" | "credit_note"
    credit_id: str
    date: pd.Timestamp
    left: int
    reason: str | None = None


@dataclass
class FifoBook:
    """One customer's running state; call ``invoice``/``payment``/``credit`` in date order."""

    customer_id: str
    open_invoices: list[list] = field(default_factory=list)  # [invoice_id, cents left, due_date]
    pool: list[_Credit] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    allocations: list[tuple[str, str, int, pd.Timestamp]] = field(default_factory=list)
    credit_notes: list[tuple[str, str, str | None, pd.Timestamp, int, str | None]] = field(
        default_factory=list
    )

    def invoice(self, invoice_id: str, cents: int, issue_date: pd.Timestamp, due_date: pd.Timestamp) -> None:
        self.open_invoices.append([invoice_id, cents, due_date])
        self._apply(issue_date)

    def payment(self, payment_id: str, cents: int, date: pd.Timestamp) -> None:
        self.pool.append(_Credit("payment", payment_id, date, cents))
        self._apply(date)

    def credit(
        self, credit_note_id: str, cents: int, date: pd.Timestamp, *, reason: str | None = None
    ) -> None:
        self.pool.append(_Credit("credit_note", credit_note_id, date, cents, reason))
        self._apply(date)

    def roll_over(
        self, credit_note_id: str, date: pd.Timestamp, *, reason: str, due_before: pd.Timestamp | None = None
    ) -> int:
        """Close open invoices (not held; due before ``due_before`` if given) with credit notes.

        Returns the cents to carry into a new invoice.
        """
        carried, kept = 0, []
        for invoice in self.open_invoices:
            invoice_id, left, due = invoice
            if invoice_id in self.held or (due_before is not None and due >= due_before):
                kept.append(invoice)
                continue
            piece = 1 + sum(1 for c in self.credit_notes if c[0].startswith(credit_note_id + "-"))
            self.credit_notes.append(
                (f"{credit_note_id}-{piece}", self.customer_id, invoice_id, date, left, reason)
            )
            carried += left
        self.open_invoices = kept
        return carried

    def close(self) -> None:
        """Credit notes still unapplied stay on the account without an invoice."""
        for credit in self.pool:
            if credit.kind == "credit_note" and credit.left > 0:
                self._credit_piece(credit, None, credit.left, credit.date)
        self.pool = [c for c in self.pool if c.kind == "payment"]

    def _apply(self, date: pd.Timestamp) -> None:
        self._apply_to([i for i in self.open_invoices if i[0] not in self.held], date, floor=0)
        if self.held:
            self._apply_to([i for i in self.open_invoices if i[0] in self.held], date, floor=HELD_FLOOR_CENTS)

    def _apply_to(self, invoices: list[list], date: pd.Timestamp, *, floor: int) -> None:
        invoices = [i for i in invoices if i[1] > floor]
        while self.pool and invoices:
            credit, invoice = self.pool[0], invoices[0]
            cents = min(credit.left, invoice[1] - floor)
            if credit.kind == "payment":
                self._allocate(credit.credit_id, invoice[0], cents, date)
            else:
                self._credit_piece(credit, invoice[0], cents, date)
            credit.left -= cents
            invoice[1] -= cents
            if credit.left == 0:
                self.pool.pop(0)
            if invoice[1] <= floor:
                invoices.pop(0)
            if invoice[1] == 0:
                self.open_invoices.remove(invoice)

    def _allocate(self, payment_id: str, invoice_id: str, cents: int, date: pd.Timestamp) -> None:
        """One allocation per payment and invoice: a second application adds to it, dated the later day."""
        for at, (pid, iid, before, _) in enumerate(self.allocations):
            if pid == payment_id and iid == invoice_id:
                self.allocations[at] = (pid, iid, before + cents, date)
                return
        self.allocations.append((payment_id, invoice_id, cents, date))

    def _credit_piece(self, credit: _Credit, invoice_id: str | None, cents: int, date: pd.Timestamp) -> None:
        piece = sum(1 for c in self.credit_notes if c[0].startswith(credit.credit_id + "-"))
        piece_id = f"{credit.credit_id}-{piece + 1}"
        self.credit_notes.append((piece_id, self.customer_id, invoice_id, date, cents, credit.reason))

    def days_past_due(self, as_of: pd.Timestamp) -> int:
        """Days the most overdue invoice still open is past its due date (0 when none is)."""
        return max([0, *((as_of - due).days for _, _, due in self.open_invoices)])
