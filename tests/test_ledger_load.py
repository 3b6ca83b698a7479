"""Reading the store back: SQLite's fast cursor path gives exactly what SQLAlchemy's typed path gives."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from arrisk.ledger import load
from arrisk.ledger.generator import generate_book
from arrisk.ledger.importer import import_frames


def test_sqlite_cursor_path_equals_the_typed_read(sqlite_engine: Engine) -> None:
    import_frames(sqlite_engine, generate_book(n_customers=120, months=8, seed=2), source="gen")
    with sqlite_engine.connect() as conn:
        for name, query in load.QUERIES.items():
            fast = load.coerce_types(load._read(conn, query), name)
            typed = load.coerce_types(pd.read_sql(query, conn, coerce_float=True), name)
            assert len(fast) > 0, name
            pd.testing.assert_frame_equal(fast, typed, obj=name)
