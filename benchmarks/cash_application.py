"""Cash-application matcher: quality on a synthetic book and on WideWorldImporters 2016, and speed.

    .venv/bin/python benchmarks/cash_application.py [--customers 2000] [--months 12] [--perf-lines 100000]
        [--perf-invoices 1000000] [--data-dir ../shared/data]

Quality is measured by replaying payments in date order against the open book: a line applied
automatically changes the book as posted (right or wrong); any other line is then settled with its
true allocations, as a person resolving the exception would. Truth: the generator's allocations
(synthetic) and the WWI README's rule (a payment settles that customer's invoices finalized on its
date). Writes benchmarks/results/cash_application.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arrisk.cashapp.book import OpenBook  # noqa: E402
from arrisk.cashapp.matcher import Matcher  # noqa: E402
from arrisk.cashapp.payers import PayerIndex, normalise_account, normalise_name  # noqa: E402
from arrisk.cashapp.policy import load_policy  # noqa: E402
from arrisk.cashapp.proposals import LineStatus  # noqa: E402
from arrisk.cashapp.stateless import match_statement  # noqa: E402
from arrisk.cashapp.statement import Statement, StatementLine  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "cash_application.json"
TARGETS = {
    "auto_precision": 0.995,
    "auto_share_synthetic": 0.90,
    "auto_share_wwi": 0.95,
    "perf_seconds": 60.0,
}


def lines_of(payments: pd.DataFrame) -> list[StatementLine]:
    pays = payments.sort_values(["payment_date", "payment_id"], kind="stable")
    out = []
    for i, p in enumerate(pays.itertuples(index=False), start=1):
        out.append(
            StatementLine(
                line_id=str(p.payment_id),
                position=i,
                booking_date=p.payment_date.date(),
                amount=Decimal(f"{p.amount:.2f}"),
                currency=str(p.currency),
                is_credit=True,
                remittance=str(getattr(p, "reference", "") or ""),
                payer_name=getattr(p, "payer_name", None) or None,
                payer_account=getattr(p, "payer_account", None) or None,
            )
        )
    return out


def truth_of(allocations: pd.DataFrame) -> dict[str, dict[str, int]]:
    truth: dict[str, dict[str, int]] = defaultdict(dict)
    for a in allocations.itertuples(index=False):
        truth[str(a.payment_id)][str(a.invoice_id)] = truth[str(a.payment_id)].get(
            str(a.invoice_id), 0
        ) + int(round(a.amount * 100))
    return truth


def replay(lines, truth, items, customers, reductions, *, learn_accounts: bool) -> dict:  # type: ignore[no-untyped-def]
    """Match lines in order; wrong automatic postings stay, everything else is settled by its truth."""
    policy = load_policy()
    book = OpenBook.from_frame(items)
    pos_of = {iid: i for i, iid in enumerate(book.item_id)}
    payers = PayerIndex(customers, policy=policy)
    matcher = Matcher(book, payers, policy=policy)
    customer_of = dict(zip(book.item_id, book.customer_id, strict=True))
    red = sorted(reductions)
    r = 0
    stats = defaultdict(int)
    t0 = time.perf_counter()
    for line in lines:
        while r < len(red) and red[r][0] <= line.booking_date:
            _, iid, cents = red[r]
            if iid in pos_of:
                book.remaining[pos_of[iid]] -= cents
            r += 1
        want = truth.get(line.line_id, {})
        m = matcher.match_line(line)
        stats["payments"] += 1
        stats["truth_lines"] += len(want)
        if m.status == LineStatus.AUTO:
            got = {str(book.item_id[p]): c for p, c in zip(m.best.positions, m.best.cents, strict=True)}
            stats["auto"] += 1
            stats["auto_correct"] += int(_same(got, want))
            stats["auto_alloc_rows"] += len(got)
            stats["auto_alloc_rows_correct"] += sum(
                abs(want.get(k, -(10**12)) - v) <= 1 for k, v in got.items()
            )
            stats["truth_lines_auto_correct"] += sum(
                abs(got.get(k, -(10**12)) - v) <= 1 for k, v in want.items()
            )
            applied_customer = m.best.customer_id
        else:
            stats[m.status.value] += 1
            found = [
                i
                for i, p in enumerate(m.proposals)
                if _same({str(book.item_id[q]): c for q, c in zip(p.positions, p.cents, strict=True)}, want)
            ]
            stats["suggestion_hit"] += int(bool(found) and bool(want))
            stats["suggestion_top1"] += int(bool(found) and found[0] == 0 and bool(want))
            stats["no_truth_not_auto"] += int(not want)
            for iid, cents in want.items():
                if iid in pos_of:
                    book.remaining[pos_of[iid]] -= cents
            applied_customer = customer_of.get(next(iter(want))) if want else None
        if learn_accounts and line.payer_account and applied_customer:
            payers.accounts[normalise_account(line.payer_account)] = applied_customer
    seconds = time.perf_counter() - t0
    return _metrics(stats, seconds)


def _same(got: dict[str, int], want: dict[str, int]) -> bool:
    return bool(want) and got.keys() == want.keys() and all(abs(got[k] - want[k]) <= 1 for k in want)


def _metrics(s: dict, seconds: float) -> dict:  # type: ignore[type-arg]
    n = s["payments"]
    return {
        "payments": n,
        "truth_invoice_lines": s["truth_lines"],
        "auto_applied": s["auto"],
        "auto_share": round(s["auto"] / n, 4),
        "auto_precision_per_payment": round(s["auto_correct"] / max(s["auto"], 1), 5),
        "auto_precision_per_invoice_line": round(
            s["auto_alloc_rows_correct"] / max(s["auto_alloc_rows"], 1), 5
        ),
        "invoice_lines_applied_correctly_auto": round(
            s["truth_lines_auto_correct"] / max(s["truth_lines"], 1), 4
        ),
        "suggested": s["suggested"],
        "unapplied": s["unapplied"],
        "payments_without_truth_left_for_review": s["no_truth_not_auto"],
        "share_fully_applied_after_suggestions": round((s["auto_correct"] + s["suggestion_hit"]) / n, 4),
        "share_fully_applied_top1_suggestion": round((s["auto_correct"] + s["suggestion_top1"]) / n, 4),
        "match_seconds": round(seconds, 2),
        "lines_per_second": round(n / seconds, 1),
    }


def synthetic(n_customers: int, months: int, seed: int) -> dict:  # type: ignore[type-arg]
    from arrisk.ledger.generator import generate_book

    t0 = time.perf_counter()
    frames = generate_book(n_customers=n_customers, months=months, seed=seed)
    gen_s = time.perf_counter() - t0
    alloc = frames.allocations
    if "reversed_at" in alloc:
        alloc = alloc[alloc["reversed_at"].isna()]
    items = frames.invoices.assign(open_amount=frames.invoices["amount"])
    reductions = [
        (d.date(), str(i), int(round(a * 100)))
        for d, i, a in zip(
            frames.credit_notes["issue_date"],
            frames.credit_notes["invoice_id"],
            frames.credit_notes["amount"],
            strict=True,
        )
        if isinstance(i, str)
    ]
    reductions += [
        (d.date(), str(i), int(round(a * 100)))
        for d, i, a in zip(
            frames.write_offs["date"],
            frames.write_offs["invoice_id"],
            frames.write_offs["amount"],
            strict=True,
        )
    ]
    result = replay(
        lines_of(frames.payments), truth_of(alloc), items, frames.customers, reductions, learn_accounts=True
    )
    return {
        "customers": n_customers,
        "months": months,
        "seed": seed,
        "invoices": len(frames.invoices),
        "generate_seconds": round(gen_s, 1),
        **result,
    }


def wwi(data_dir: Path) -> dict:  # type: ignore[type-arg]
    from arrisk.datasets import load_dataset

    bundle = load_dataset("wwi", data_dir)
    f, truth = bundle.frames, bundle.truth
    # no remittance in WWI: the bank reports the payer's account, held in customer master data
    customers = f.customers.assign(payer_account="WWI" + f.customers["customer_id"])
    payments = f.payments.assign(
        payer_account="WWI" + f.payments["customer_id"], reference="", payer_name=None
    )
    items = f.invoices.assign(open_amount=f.invoices["amount"])
    result = replay(lines_of(payments), truth_of(truth), items, customers, [], learn_accounts=False)
    return {"invoices": len(items), **result}


def perf_book(
    n_invoices: int, n_lines: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[StatementLine]]:
    rng = np.random.default_rng(seed)
    n_cust = max(1, n_invoices // 20)
    words = [
        "Alpha",
        "Nordic",
        "Delta",
        "Vertex",
        "Atlas",
        "Summit",
        "Pioneer",
        "Harbor",
        "Crescent",
        "Granite",
        "Silver",
        "Meridian",
        "Orion",
        "Cobalt",
        "Falcon",
        "Evergreen",
        "Lumen",
        "Quantum",
        "Sterling",
        "Zenith",
    ]
    kinds = [
        "Trading",
        "Logistics",
        "Metals",
        "Foods",
        "Systems",
        "Retail",
        "Energy",
        "Textiles",
        "Pharma",
        "Tools",
    ]
    cust_ids = np.char.add("C", np.char.zfill(np.arange(n_cust).astype(str), 7))
    names = [f"{words[i % 20]} {kinds[(i // 20) % 10]} {i // 200} GmbH" for i in range(n_cust)]
    customers = pd.DataFrame({"customer_id": cust_ids, "name": names})
    cust_of = rng.integers(0, n_cust, n_invoices)
    amounts = np.round(rng.lognormal(7, 1.2, n_invoices), 2) + 1
    issue = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, n_invoices), unit="D")
    items = pd.DataFrame(
        {
            "invoice_id": np.char.add("I", np.arange(n_invoices).astype(str)),
            "customer_id": cust_ids[cust_of],
            "invoice_number": np.char.add("INV-", np.char.zfill(np.arange(n_invoices).astype(str), 8)),
            "issue_date": issue,
            "due_date": issue + pd.Timedelta(days=30),
            "amount": amounts,
            "open_amount": amounts,
            "currency": "EUR",
        }
    )
    chosen = rng.choice(n_invoices, n_lines, replace=False)
    style = rng.random(n_lines)
    lines = []
    for k, i in enumerate(chosen):
        c = cust_of[i]
        text = (
            f"INV-{i:08d}"
            if style[k] < 0.5
            else f"inv {i} thanks"
            if style[k] < 0.6
            else f"{i + 1:08d}"
            if style[k] < 0.65
            else "PAYMENT"
        )
        name = names[c] if style[k] < 0.95 else None
        lines.append(
            StatementLine(
                f"L{k}",
                k + 1,
                pd.Timestamp("2025-12-01").date(),
                Decimal(f"{amounts[i]:.2f}"),
                "EUR",
                True,
                text,
                name,
            )
        )
    return items, customers, lines


def perf(n_lines: int, n_invoices: int, seed: int, repeats: int) -> dict:  # type: ignore[type-arg]
    items, customers, lines = perf_book(n_invoices, n_lines, seed)
    times, counts = [], {}
    for _ in range(repeats):
        normalise_name.cache_clear()  # each repeat starts cold: no names remembered from the last
        t0 = time.perf_counter()
        matches, _ = match_statement(Statement("csv", None, None, lines), items, customers)
        times.append(time.perf_counter() - t0)
        counts = pd.Series([m.status.value for m in matches]).value_counts().to_dict()
    return {
        "statement_lines": n_lines,
        "open_invoices": n_invoices,
        "customers": len(customers),
        "repeats": repeats,
        "seconds_median": round(statistics.median(times), 2),
        "seconds_all": [round(t, 2) for t in times],
        "lines_per_second": round(n_lines / statistics.median(times)),
        "statuses": counts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    ap.add_argument("--perf-lines", type=int, default=100_000)
    ap.add_argument("--perf-invoices", type=int, default=1_000_000)
    ap.add_argument("--perf-repeats", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args()
    out: dict = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "policy_version": load_policy().version,
        "targets": TARGETS,
    }
    runs = [synthetic(args.customers, args.months, s) for s in args.seeds]
    out["synthetic_runs"] = runs
    out["synthetic_median"] = {
        k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], int | float)
    }
    if (args.data_dir / "wwi_customer_transactions").is_dir():
        out["wwi"] = wwi(args.data_dir)
    out["throughput"] = perf(args.perf_lines, args.perf_invoices, 1, args.perf_repeats)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str))
    _print(out)


def _print(out: dict) -> None:  # type: ignore[type-arg]
    keys = [
        "payments",
        "auto_share",
        "auto_precision_per_payment",
        "auto_precision_per_invoice_line",
        "share_fully_applied_after_suggestions",
        "lines_per_second",
    ]
    print(f"{'data':<12}" + "".join(f"{k[:22]:>24}" for k in keys))
    for label, row in (("synthetic", out["synthetic_median"]), ("wwi", out.get("wwi"))):
        if row:
            print(f"{label:<12}" + "".join(f"{row[k]:>24}" for k in keys))
    t = out["throughput"]
    print(
        f"throughput: {t['statement_lines']:,} lines x {t['open_invoices']:,} open invoices: "
        f"{t['seconds_median']} s median ({t['lines_per_second']:,} lines/s)"
    )


if __name__ == "__main__":
    main()
