"""Settings from the environment (prefix ``ARRISK_``), built by ``get_settings()``, never at import."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where state lives and which services to talk to; every path is under ``home``."""

    model_config = SettingsConfigDict(env_prefix="ARRISK_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("./var"), description="ARRISK_HOME: database, MLflow store, reports")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under home if unset")
    base_currency: str = "EUR"
    data_dir: Path = Field(default=Path("../shared/data"), description="real data sets (read only)")
    dask_scheduler: str | None = Field(default=None, description="address of a Dask scheduler to scale out")
    jwt_secret: str = "arrisk-development-only-secret-change-me-in-production"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'arrisk.db').resolve()}"

    @property
    def mlflow_tracking_uri(self) -> str:
        env = os.environ.get("MLFLOW_TRACKING_URI")
        if env:
            return env
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifact_root(self) -> Path:
        return (self.home / "mlartifacts").resolve()

    @property
    def features_dir(self) -> Path:
        return (self.home / "features").resolve()

    @property
    def reports_dir(self) -> Path:
        return (self.home / "reports").resolve()

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
