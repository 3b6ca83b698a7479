"""The retraining loop: train a challenger per experiment config, then let the promotion gate decide."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arrisk.errors import NotFoundError, UnavailableError

# the training domain gate: promote(name, *, tracking_uri=None) -> a verdict with .text()
PROMOTION_MODULE = "training.promote"


def default_configs() -> list[Path]:
    """Every experiment YAML in the repository's ``experiments/`` folder."""
    folder = Path(__file__).resolve().parents[2] / "experiments"
    found = sorted(folder.glob("*.yaml"))
    if not found:
        raise NotFoundError(f"retrain: no experiment configs in {folder}; pass --config")
    return found


@dataclass
class RetrainOutcome:
    name: str
    version: int | None
    metrics: dict[str, float]
    promotion: Any = None

    def text(self) -> str:
        auc = self.metrics.get("valid_roc_auc")
        head = f"{self.name}: challenger v{self.version}" + (
            f", valid ROC-AUC {auc:.3f}" if auc is not None else ""
        )
        if self.promotion is None:
            return head + " (promotion gate not run)"
        return f"{head}\n  gate: {getattr(self.promotion, 'text', lambda: self.promotion)()}"


def _frames(config: Any, *, source: Path | None, generated: bool) -> Any:
    """The store's ledger by default; an interchange folder or the config's generated book if asked."""
    if source is not None or generated:
        from training.runner import load_frames

        return load_frames(config, source)
    from arrisk.ledger.load import load_frames as load_store
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine

    return load_store(get_engine(get_settings()))


def promote(name: str, *, tracking_uri: str | None = None) -> Any:
    """Run the training domain's promotion gate (``arrisk models promote NAME``) on name's challenger."""
    import importlib

    try:
        gate = importlib.import_module(PROMOTION_MODULE).promote
    except (ImportError, AttributeError) as err:
        raise UnavailableError(
            f"retrain {name}: the promotion gate {PROMOTION_MODULE}.promote is not available ({err}); "
            "the challenger is registered, run `arrisk models promote` or retrain with --no-promote"
        ) from err
    return gate(name, uri=tracking_uri)


def retrain(
    paths: list[Path],
    *,
    source: Path | None = None,
    generated: bool = False,
    promote_after: bool = True,
    tracking_uri: str | None = None,
    progress: Callable[[str], AbstractContextManager[None]] | None = None,
) -> Iterator[RetrainOutcome]:
    """Train and register each config's challenger; yield its outcome (with the gate's verdict)."""
    from contextlib import nullcontext

    from training.config import load_config
    from training.runner import run_experiment

    step = progress or (lambda _text: nullcontext())
    for path in paths:
        config = load_config(path)
        with step(f"retrain {config.name}: loading data"):
            frames = _frames(config, source=source, generated=generated)
        with step(f"retrain {config.name}: training the challenger"):
            result = run_experiment(config, frames, tracking_uri=tracking_uri, register=True)
        outcome = RetrainOutcome(config.name, result.version, result.metrics)
        if promote_after:
            with step(f"retrain {config.name}: promotion gate"):
                outcome.promotion = promote(config.name, tracking_uri=tracking_uri)
        yield outcome
