"""Public data sets (IBM AR, UCI credit card, Home Credit, WideWorldImporters) as ledger frames.

``load_dataset(name, path)`` reads one data set from its folder (or from the data root holding it)
and maps it onto the interchange frames; labels and ground truth come back apart from the frames.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from arrisk.datasets.base import DatasetBundle
from arrisk.errors import NotFoundError

__all__ = ["DATASETS", "DatasetBundle", "DatasetInfo", "load_dataset"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    module: str
    folder: str
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("ibm-ar", "arrisk.datasets.ibm_ar", "ibm_ar_late_payment",
                    "IBM AR late-payment sample: 2,466 B2B invoices, 100 customers, settled dates"),
        DatasetInfo("uci-credit", "arrisk.datasets.uci_credit", "uci_credit_card_default",
                    "UCI credit card default (Taiwan 2005): 30,000 clients, six monthly statements"),
        DatasetInfo("home-credit", "arrisk.datasets.home_credit", "home_credit",
                    "Home Credit subset A: installments due vs paid, 1,000 applicants with DEFAULTED"),
        DatasetInfo("wwi", "arrisk.datasets.wwi", "wwi_customer_transactions",
                    "WideWorldImporters 2016: invoices and unreferenced payments, cash-application truth"),
    )
}  # fmt: skip


def load_dataset(name: str, path: Path) -> DatasetBundle:
    """Load data set ``name`` from ``path`` (its own folder or the data root) as a ``DatasetBundle``."""
    info = DATASETS.get(name)
    if info is None:
        raise NotFoundError(f"data set {name!r} is not known; choose one of {', '.join(DATASETS)}")
    module = importlib.import_module(info.module)
    return module.load(Path(path))
