"""Shared fixtures: a temp ARRISK_HOME, real SQLite and PostgreSQL stores, the real data folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from arrisk.settings import Settings
from arrisk.store.db import make_engine, migrate

PG_ADMIN_URL = os.environ.get("ARRISK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATA_DIR = Path(
    os.environ.get("ARRISK_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose home (database, MLflow store, reports) is a fresh temp folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("ARRISK_HOME", str(home))
    monkeypatch.delenv("ARRISK_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from arrisk.settings import get_settings

    get_settings.cache_clear()
    return Settings(home=home)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _pg_admin() -> Engine | None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
        return admin
    except Exception:
        return None


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A throwaway PostgreSQL database per test; skips with a reason where no server answers."""
    admin = _pg_admin()
    if admin is None:
        pytest.skip(f"no PostgreSQL answers at {PG_ADMIN_URL}")
    name = f"arrisk_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same test against SQLite and against PostgreSQL."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"real data sets not found at {DATA_DIR} (set ARRISK_DATA_DIR)")
    return DATA_DIR
