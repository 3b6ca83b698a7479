"""Alembic environment: the engine comes from ``arrisk.store.db`` (or ARRISK settings)."""

from __future__ import annotations

from alembic import context

from arrisk.store.tables import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from arrisk.settings import get_settings
        from arrisk.store.db import make_engine

        engine = make_engine(get_settings().db_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
