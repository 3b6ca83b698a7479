"""Run a whole experiment: data -> training table -> out-of-time evaluation -> MLflow (+ registry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import NotFoundError, ValidationError
from arrisk.ledger.frames import LedgerFrames
from arrisk.timing import PhaseClock
from training.config import ExperimentConfig
from training.job import Evaluation, RunSpec, evaluate
from training.mlflow_log import LoggedRun, log_evaluation
from training.validation import TrainingTable, split_by_dates, split_holdout


@dataclass
class ExperimentResult:
    name: str
    metrics: dict[str, float]
    backtest: list[dict[str, Any]]
    run_id: str | None = None
    version: int | None = None
    payment_date: dict[str, float] = field(default_factory=dict)
    evaluation: Evaluation | None = None


def load_frames(config: ExperimentConfig, source: Path | None) -> LedgerFrames:
    """``source`` (an interchange folder) if given, else the configured generated book; either way
    only the columns features and labels read (``BOOK_COLUMNS``)."""
    from features.source import BOOK_COLUMNS

    if source is not None:
        from arrisk.ledger.frames import read_dir

        if not Path(source).is_dir():
            raise NotFoundError(f"--source {source}: not a folder of interchange files")
        return read_dir(Path(source), BOOK_COLUMNS)
    if config.generated is None:
        raise ValidationError(
            f"experiment {config.name}: no --source folder and no 'generated' book configured"
        )
    from arrisk.ledger.generator import generate_book

    g = config.generated
    return generate_book(
        n_customers=g.n_customers, months=g.months, seed=g.seed, start=g.start, columns=BOOK_COLUMNS
    )


def run_experiment(
    config: ExperimentConfig,
    frames: LedgerFrames,
    *,
    tracking_uri: str | None = None,
    register: bool = True,
    snapshots: dict | None = None,
    timings: dict[str, float] | None = None,
) -> ExperimentResult:
    """Train on ``train_as_of`` snapshots, validate on ``valid_as_of``, backtest, log and register.

    ``timings``, when given, receives the seconds of each phase: features_s (of which sample_s,
    snapshots_s, labels_s), fit_s, log_s, payment_date_fit_s, payment_date_log_s.
    """
    from training.ledger_data import build_training_table

    clock = PhaseClock(timings)
    table = build_training_table(frames, config, snapshots=snapshots, timings=timings)
    train, valid = split_by_dates(table, config.train_as_of, config.valid_as_of)
    _check_split(config.name, table, train, valid)
    clock.lap("features_s")
    spec = RunSpec.from_config(config)
    evaluation = evaluate(table, spec, train, valid)
    clock.lap("fit_s")
    logged = log_evaluation(
        evaluation,
        table,
        spec,
        tracking_uri=tracking_uri,
        register=register,
        tags={"label": config.label.kind},
    )
    clock.lap("log_s")
    result = _result(spec.name, evaluation, logged)
    if config.payment_date_model and config.label.kind == "invoice_late":
        from training.payment_date_job import train_payment_date

        result.payment_date = train_payment_date(
            table,
            train,
            valid,
            seed=config.seed,
            tracking_uri=tracking_uri,
            register=register,
            max_rows=config.payment_date_rows,
            params=config.lightgbm.params,
            timings=timings,
        )
        clock.restart()
    return result


def run_table(
    table: TrainingTable,
    spec: RunSpec,
    *,
    tracking_uri: str | None = None,
    register: bool = True,
    valid_share: float = 0.2,
) -> ExperimentResult:
    """Bring-your-own features: hold out the latest ``valid_share`` by time (or at random), then as above."""
    train, valid = split_holdout(table, valid_share=valid_share, seed=spec.seed)
    _check_split(spec.name, table, train, valid)
    evaluation = evaluate(table, spec, train, valid)
    logged = log_evaluation(
        evaluation,
        table,
        spec,
        tracking_uri=tracking_uri,
        register=register,
        tags={"label": table.label, "source": "features-file"},
    )
    return _result(spec.name, evaluation, logged)


def _check_split(name: str, table: TrainingTable, train: pd.DataFrame, valid: pd.DataFrame) -> None:
    for part, rows in (("training", train), ("validation", valid)):
        classes = np.unique(table.y(rows))
        if len(classes) < 2:
            raise ValidationError(
                f"experiment {name}: the {part} rows ({len(rows)}) hold label values {classes.tolist()} "
                "only; need both 0 and 1 (widen the as-of dates or the book)"
            )


def _result(name: str, evaluation: Evaluation, logged: LoggedRun | None) -> ExperimentResult:
    return ExperimentResult(
        name=name,
        metrics=evaluation.flat_metrics(),
        backtest=evaluation.backtest,
        run_id=logged.run_id if logged else None,
        version=logged.version if logged else None,
        evaluation=evaluation,
    )
