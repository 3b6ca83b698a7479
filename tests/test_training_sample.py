"""Training on a customer sample: deterministic, disjoint, and exact (a sample's features and labels are
the whole book's rows for those customers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from arrisk.errors import ValidationError
from arrisk.ledger.generator import generate_book
from features import labels
from features.pipeline import build_snapshot
from training.config import ExperimentConfig, SampleSpec
from training.ledger_data import (
    as_of_plan,
    build_training_table,
    customer_order,
    sampled_books,
    sampled_customer_ids,
    subset_books,
    subset_frames,
)


@pytest.fixture(scope="module")
def frames():
    return generate_book(n_customers=400, months=15, seed=3)


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key).reset_index(drop=True)


def test_customer_order_depends_on_ids_and_seed_not_on_input_order() -> None:
    ids = pd.Series([f"C{i:05d}" for i in range(1000)])
    order = ids.to_numpy()[customer_order(ids, seed=0)]
    shuffled = ids.sample(frac=1.0, random_state=1).reset_index(drop=True)
    assert (shuffled.to_numpy()[customer_order(shuffled, seed=0)] == order).all()
    assert (ids.to_numpy()[customer_order(ids, seed=1)] != order).any()
    assert sorted(order) == sorted(ids)  # a permutation: nothing lost, nothing twice


def test_training_and_validation_samples_are_disjoint_and_sized(frames) -> None:
    train, valid = sampled_customer_ids(frames, SampleSpec(customers=150, valid_customers=100))
    assert len(train) == 150 and len(valid) == 100
    assert not set(train) & set(valid)
    same_train, same_valid = sampled_customer_ids(frames, SampleSpec(customers=150))
    assert (same_train == train).all() and (same_valid == train).all()
    # a bigger sample contains the smaller one (a prefix of one hash order)
    bigger, _ = sampled_customer_ids(frames, SampleSpec(customers=300))
    assert set(train) <= set(bigger)


def test_a_book_no_larger_than_the_sample_is_used_whole(frames) -> None:
    train_book, valid_book = sampled_books(frames, SampleSpec(customers=400, valid_customers=100))
    assert train_book is frames and valid_book is frames
    train, valid = sampled_customer_ids(frames, SampleSpec(customers=10_000, valid_customers=100))
    assert len(train) == len(valid) == len(frames.customers)


def test_a_sampled_book_gives_exactly_the_whole_books_rows_for_its_customers(frames) -> None:
    ids, _ = sampled_customer_ids(frames, SampleSpec(customers=120, seed=5))
    part = subset_frames(frames, ids)
    assert set(part.customers["customer_id"]) == set(ids)
    assert part.invoices["customer_id"].isin(ids).all()
    assert len(part.invoices) < len(frames.invoices)
    end = labels.latest_event_date(frames)
    for as_of in ("2025-06-30", "2025-11-30"):
        whole, sampled = build_snapshot(frames, as_of), build_snapshot(part, as_of)
        expected = whole.customers[whole.customers["customer_id"].isin(ids)]
        assert len(expected) > 0
        assert_frame_equal(_sorted(sampled.customers, "customer_id"), _sorted(expected, "customer_id"))
        expected_inv = whole.invoices[whole.invoices["customer_id"].isin(ids)]
        assert_frame_equal(_sorted(sampled.invoices, "invoice_id"), _sorted(expected_inv, "invoice_id"))
        lab_whole = labels.customer_default_labels(frames, as_of, data_end=end)
        lab_part = labels.customer_default_labels(part, as_of, data_end=end)
        assert_frame_equal(
            _sorted(lab_part, "customer_id"),
            _sorted(lab_whole[lab_whole["customer_id"].isin(ids)], "customer_id"),
        )
        late_whole = labels.invoice_late_labels(frames, as_of, data_end=end)
        late_part = labels.invoice_late_labels(part, as_of, data_end=end)
        inv_ids = set(part.invoices["invoice_id"])
        assert_frame_equal(
            _sorted(late_part, "invoice_id"),
            _sorted(late_whole[late_whole["invoice_id"].isin(inv_ids)], "invoice_id"),
        )


def _config(frames, kind: str, sample: dict) -> ExperimentConfig:
    train, valid = as_of_plan(frames, horizon_days=90, n_valid=1)
    return ExperimentConfig.model_validate(
        {
            "name": "sampled",
            "model": "default_risk" if kind == "customer_default" else "late_payment",
            "label": {"kind": kind},
            "train_as_of": train[-3:],
            "valid_as_of": valid,
            "sample": sample,
        }
    )


@pytest.mark.parametrize("kind", ["customer_default", "invoice_late"])
def test_training_table_takes_training_and_validation_rows_from_their_samples(frames, kind) -> None:
    spec = {"customers": 150, "valid_customers": 120, "seed": 2}
    config = _config(frames, kind, spec)
    table = build_training_table(frames, config)
    train_ids, valid_ids = sampled_customer_ids(frames, SampleSpec(**spec))
    is_valid = table.frame["as_of"].isin(pd.to_datetime(config.valid_as_of))
    assert table.frame.loc[~is_valid, "customer_id"].isin(train_ids).all()
    assert table.frame.loc[is_valid, "customer_id"].isin(valid_ids).all()
    assert table.frame.loc[is_valid, "customer_id"].nunique() > 50
    assert table.extras["sample.customers"] == "150" and table.extras["book_customers"] == "400"
    # the same rows as the whole book's table, restricted to the samples' customers
    whole = build_training_table(frames, _config(frames, kind, {}))
    keep = np.where(
        whole.frame["as_of"].isin(pd.to_datetime(config.valid_as_of)),
        whole.frame["customer_id"].isin(valid_ids),
        whole.frame["customer_id"].isin(train_ids),
    )
    key = ["as_of", "customer_id"] if kind == "customer_default" else ["as_of", "invoice_id"]
    expected = whole.frame[keep].sort_values(key).reset_index(drop=True)
    got = table.frame.sort_values(key).reset_index(drop=True)
    assert_frame_equal(got[expected.columns], expected)


def test_valid_customers_without_a_training_sample_is_refused() -> None:
    with pytest.raises(Exception, match="valid_customers needs customers"):
        SampleSpec(valid_customers=100)


def test_experiment_yaml_with_a_bad_sample_names_the_field(tmp_path) -> None:
    from training.config import load_config

    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\nmodel: default_risk\nlabel: {kind: customer_default}\n"
        "train_as_of: [2025-01-31]\nvalid_as_of: [2025-06-30]\nsample: {customers: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="sample.customers"):
        load_config(path)


def test_a_sampled_experiment_logs_its_sample_and_caps_the_quantile_rows(settings, frames) -> None:
    import mlflow

    from training.runner import run_experiment

    config = _config(frames, "invoice_late", {"customers": 200, "valid_customers": 150}).model_copy(
        update={
            "payment_date_model": True,
            "payment_date_rows": 300,
            "backtest_origins": 0,
            "baselines": [],
            "lightgbm": {"num_boost_round": 30, "early_stopping_rounds": 5, "n_folds": 2},
        }
    )
    config = ExperimentConfig.model_validate(config.model_dump())
    timings: dict[str, float] = {}
    result = run_experiment(config, frames, register=False, timings=timings)
    assert {"features_s", "fit_s", "log_s", "payment_date_fit_s", "payment_date_log_s"} <= set(timings)
    run = mlflow.get_run(result.run_id)
    assert run.data.params["sample.customers"] == "200"
    assert run.data.params["sample.valid_customers"] == "150"
    assert run.data.params["book_customers"] == "400"
    assert int(run.data.params["n_train"]) > 300  # the classifier keeps every sampled row
    quantile = mlflow.search_runs(experiment_names=["payment_date"]).iloc[0]
    assert quantile["params.n_train"] == "300" and quantile["params.max_rows"] == "300"


def test_the_training_and_validation_books_of_one_pass_equal_books_cut_one_at_a_time(frames) -> None:
    spec = SampleSpec(customers=150, valid_customers=100, seed=2)
    train_ids, valid_ids = sampled_customer_ids(frames, spec)
    train_book, valid_book = sampled_books(frames, spec)
    for book, ids in ((train_book, train_ids), (valid_book, valid_ids)):
        alone = subset_frames(frames, ids)
        for name, table in alone.items():
            assert_frame_equal(getattr(book, name), table, obj=name)
    with pytest.raises(ValueError, match="overlap"):
        subset_books(frames, train_ids, train_ids[:5])
