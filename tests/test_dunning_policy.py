"""Dunning policies: the shipped files load; every kind of bad file is refused naming the field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select

from arrisk.collections.actor import Actor
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.policy import Channel, load_policies, parse_policy
from arrisk.dunning.tables import DunningRun
from arrisk.errors import ValidationError
from arrisk.store.db import session_scope

GOOD = {
    "name": "test",
    "version": 2,
    "segments": ["default"],
    "levels": [
        {
            "level": 0,
            "name": "pre",
            "days": -5,
            "channels": ["email"],
            "template": "reminder_friendly",
            "wait_days": 3,
        },
        {
            "level": 1,
            "name": "first",
            "days": 5,
            "channels": ["email"],
            "template": "reminder",
            "min_overdue_amount": 20,
            "wait_days": 10,
        },
        {
            "level": 2,
            "name": "last",
            "days": 30,
            "channels": ["letter", "call_task"],
            "template": "final_notice",
            "wait_days": 30,
        },
    ],
    "late_fee": {"fixed": 15, "annual_interest_rate": 0.08, "from_level": 2},
}


def variant(path: str, value: object) -> str:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return yaml.safe_dump(data)


DELETE = object()


def test_shipped_policies_load_with_a_default_and_segments() -> None:
    policies = load_policies()
    assert policies.for_segment(None).name == "standard"
    assert policies.for_segment("unknown-segment").name == "standard"
    assert policies.for_segment("enterprise").name == "enterprise"
    assert all(p.version >= 1 for p in policies.by_name.values())


def test_good_policy_parses_into_typed_levels() -> None:
    policy = parse_policy(yaml.safe_dump(GOOD))
    assert policy.label == "test@v2"
    assert policy.level(2).channels == [Channel.letter, Channel.call_task]
    assert float(policy.levels[1].min_overdue_amount) == 20.0


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("levels.1.channels", ["email", "fax"], "levels.1.channels.1"),
        ("levels.1.channels", [], "levels.1.channels"),
        ("levels.1.wait_days", -3, "levels.1.wait_days"),
        ("levels.1.wait_days", 0, "levels.1.wait_days"),
        ("levels.1.template", "no_such_template", "template 'no_such_template' not found"),
        ("levels.1.template", DELETE, "levels.1.template: Field required"),
        ("levels.2.days", 4, "days must strictly increase"),
        ("levels.2.level", 5, "numbers must run 0..n or 1..n"),
        ("levels.1.days", -1, "only level 0"),
        ("levels.1.min_overdue_amount", -5, "levels.1.min_overdue_amount"),
        ("late_fee.from_level", 7, "late_fee.from_level"),
        ("late_fee.annual_interest_rate", 3, "late_fee.annual_interest_rate"),
        ("levels", [], "levels"),
        ("version", 0, "version"),
        ("colour", "blue", "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_policy_is_refused_naming_the_field(path: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match="dunning policy bad.yaml") as err:
        parse_policy(variant(path, value), source="bad.yaml")
    assert message in str(err.value)


def test_not_yaml_or_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValidationError, match="not valid YAML"):
        parse_policy("levels: [unclosed", source="x.yaml")
    with pytest.raises(ValidationError, match="expected a mapping"):
        parse_policy("- 1\n- 2\n", source="x.yaml")


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


def test_policy_set_needs_one_default_and_unique_segments(tmp_path: Path) -> None:
    _write(tmp_path / "a", "x.yaml", variant("segments", ["sme"]))
    with pytest.raises(ValidationError, match="no policy lists segment 'default'"):
        load_policies(tmp_path / "a")
    _write(tmp_path / "b", "x.yaml", yaml.safe_dump(GOOD))
    _write(tmp_path / "b", "y.yaml", variant("name", "other"))
    with pytest.raises(ValidationError, match="segment 'default' is claimed by 'test' and 'other'"):
        load_policies(tmp_path / "b")
    with pytest.raises(ValidationError, match="no \\*.yaml"):
        load_policies(tmp_path / "empty")


def test_nothing_runs_on_a_bad_policy_folder(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "good.yaml", yaml.safe_dump(GOOD))
    _write(tmp_path, "bad.yaml", variant("levels.0.wait_days", -1).replace("name: test", "name: bad"))
    monkeypatch.setenv("ARRISK_DUNNING_POLICIES_DIR", str(tmp_path))
    with pytest.raises(ValidationError, match="bad.yaml: levels.0.wait_days"):
        run_dunning(sqlite_engine, dt.date(2025, 1, 1), dry_run=False, send=False, actor=Actor("a", "admin"))
    with session_scope(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(DunningRun)) == 0
