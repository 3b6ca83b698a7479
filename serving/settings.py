"""Settings of the risk service: the project's settings plus where policies, models cache and tokens live."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from arrisk.settings import Settings

POLICIES = Path(__file__).resolve().parents[1] / "policies"


class ServingSettings(Settings):
    """``ARRISK_*`` environment variables; every default works for a local demo."""

    model_registry_uri: str | None = Field(default=None, description="MLflow URI; the project's one if unset")
    worklist_policy: Path = POLICIES / "worklist.yaml"
    credit_limit_policy: Path = POLICIES / "credit_limit.yaml"
    jwt_algorithm: str = "HS256"
    max_page_size: int = 500
    explanation_cache_size: int = 4096
    load_models_at_startup: bool = True
    token_cache_seconds: float = Field(default=30.0, ge=0, description="how long a checked token is trusted")

    @property
    def models_cache_dir(self) -> Path:
        return (self.home / "models_cache").resolve()

    @property
    def registry_uri(self) -> str:
        return self.model_registry_uri or self.mlflow_tracking_uri


def get_serving_settings() -> ServingSettings:
    """Built on each call (cheap); the app keeps the one it was created with."""
    return ServingSettings()
