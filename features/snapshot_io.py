"""Snapshots on disk: one Parquet file per table and as-of date, the version in the file metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from arrisk.errors import NotFoundError, ValidationError

VERSION_KEY = b"arrisk.feature_version"
AS_OF_KEY = b"arrisk.as_of"
MANIFEST = "manifest.json"


@dataclass
class Snapshot:
    """Features as known at the end of ``as_of``; ``version`` identifies the feature definitions."""

    as_of: pd.Timestamp
    customers: pd.DataFrame
    invoices: pd.DataFrame
    version: str


def _stamp(as_of: date | pd.Timestamp | str) -> str:
    return pd.Timestamp(as_of).strftime("%Y-%m-%d")


def _write_table(frame: pd.DataFrame, path: Path, *, version: str, as_of: str) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(table.schema.metadata or {}), VERSION_KEY: version.encode(), AS_OF_KEY: as_of.encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)


def write_snapshot(snapshot: Snapshot, out_dir: Path | str | None = None) -> dict[str, Path]:
    """Write ``customers_<as_of>.parquet`` and ``invoices_<as_of>.parquet`` and update the manifest.

    The default folder is ``<features_dir>/<version>/``.
    """
    if out_dir is None:
        from arrisk.settings import get_settings

        out_dir = get_settings().features_dir / snapshot.version
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(snapshot.as_of)
    paths = {"customers": out / f"customers_{stamp}.parquet", "invoices": out / f"invoices_{stamp}.parquet"}
    for name, path in paths.items():
        _write_table(getattr(snapshot, name), path, version=snapshot.version, as_of=stamp)
    paths["manifest"] = _update_manifest(out, snapshot, stamp)
    return paths


def _update_manifest(out: Path, snapshot: Snapshot, stamp: str) -> Path:
    path = out / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if manifest.get("version", snapshot.version) != snapshot.version:
        raise ValidationError(
            f"{path}: holds feature version {manifest['version']}, refusing to add version {snapshot.version}"
        )
    manifest["version"] = snapshot.version
    manifest["customer_features"] = [c for c in snapshot.customers.columns if c != "customer_id"]
    manifest["invoice_features"] = [
        c for c in snapshot.invoices.columns if c not in ("invoice_id", "customer_id")
    ]
    snaps = manifest.setdefault("snapshots", {})
    snaps[stamp] = {
        "customers": f"customers_{stamp}.parquet",
        "invoices": f"invoices_{stamp}.parquet",
        "customer_rows": len(snapshot.customers),
        "invoice_rows": len(snapshot.invoices),
    }
    manifest["snapshots"] = dict(sorted(snaps.items()))
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def read_snapshot(path_or_dir: Path | str, as_of: date | pd.Timestamp | str) -> Snapshot:
    """Read the snapshot of ``as_of`` from its folder (or from one of its two files)."""
    folder = Path(path_or_dir)
    folder = folder.parent if folder.is_file() else folder
    stamp = _stamp(as_of)
    tables: dict[str, pd.DataFrame] = {}
    versions: set[str] = set()
    for name in ("customers", "invoices"):
        path = folder / f"{name}_{stamp}.parquet"
        if not path.exists():
            raise NotFoundError(f"feature snapshot {path}: no {name} table for as-of date {stamp}")
        table = pq.read_table(path)
        versions.add((table.schema.metadata or {}).get(VERSION_KEY, b"").decode())
        tables[name] = table.to_pandas()
    if len(versions) != 1:
        raise ValidationError(
            f"feature snapshot {folder} {stamp}: tables carry different versions {sorted(versions)}"
        )
    return Snapshot(as_of=pd.Timestamp(stamp), version=versions.pop(), **tables)
