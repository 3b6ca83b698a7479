"""The served models: loaded from the MLflow registry in the lifespan, with a local copy as fallback.

Each load that succeeds is pickled to ``ARRISK_HOME/models_cache/<name>.pkl``. When the registry
cannot be reached the service starts on those copies and says so in ``/health``; a model with
neither is missing, and only the endpoints that need it answer 503 with the reason.
"""

from __future__ import annotations

import logging
import pickle
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arrisk.errors import UnavailableError

log = logging.getLogger(__name__)

RISK_MODELS = ("default_risk", "late_payment")
MODEL_NAMES = (*RISK_MODELS, "payment_date")


@dataclass
class ModelSlot:
    """One model name: what is served (``loaded``: a models.registry.LoadedModel) and where it came from."""

    name: str
    loaded: Any | None = None
    source: str = "missing"  # registry | cache | missing
    error: str | None = None


@dataclass
class ModelStore:
    registry_uri: str
    cache_dir: Path
    slots: dict[str, ModelSlot] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load_all(self) -> dict[str, ModelSlot]:
        """(Re)load every model; a failure keeps the previous or cached version and records why."""
        fresh = {name: self._load_one(name) for name in MODEL_NAMES}
        with self._lock:
            self.slots = fresh
        return fresh

    def _load_one(self, name: str) -> ModelSlot:
        from models.registry import load_champion

        try:
            loaded = load_champion(name, tracking_uri=self.registry_uri)
        except Exception as err:  # unreachable registry, missing alias, broken artifact: all fall back
            reason = f"registry {self.registry_uri}: {type(err).__name__}: {err}"
            log.warning("model %s not loaded from the registry: %s", name, reason)
            return self._from_cache(name, reason)
        self._save_cache(name, loaded)
        return ModelSlot(name=name, loaded=loaded, source="registry")

    def _cache_path(self, name: str) -> Path:
        return self.cache_dir / f"{name}.pkl"

    def _save_cache(self, name: str, loaded: Any) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_path(name).with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(self._cache_path(name))
        except OSError as err:
            log.warning("could not keep a local copy of model %s: %s", name, err)

    def _from_cache(self, name: str, reason: str) -> ModelSlot:
        path = self._cache_path(name)
        previous = self.slots.get(name)
        if previous is not None and previous.loaded is not None:
            return ModelSlot(name=name, loaded=previous.loaded, source=previous.source, error=reason)
        if not path.exists():
            return ModelSlot(name=name, source="missing", error=f"{reason}; no local copy at {path}")
        try:
            loaded = pickle.loads(path.read_bytes())  # our own file, written by _save_cache
        except Exception as err:
            return ModelSlot(name=name, source="missing", error=f"{reason}; local copy unreadable: {err}")
        return ModelSlot(name=name, loaded=loaded, source="cache", error=reason)

    def get(self, name: str) -> Any:
        """The LoadedModel served for ``name``; UnavailableError (503) with the reason when there is none."""
        slot = self.slots.get(name)
        if slot is None or slot.loaded is None:
            why = slot.error if slot else "models were not loaded at start-up"
            raise UnavailableError(f"model {name!r} is not available: {why}")
        return slot.loaded

    def available(self, name: str) -> bool:
        slot = self.slots.get(name)
        return slot is not None and slot.loaded is not None

    def versions(self) -> dict[str, int | None]:
        return {n: (s.loaded.version if s.loaded is not None else None) for n, s in self.slots.items()}
