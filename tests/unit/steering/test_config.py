"""The scoring matrix and lifecycle configuration: valid files load, every invalid one is
refused with a message naming the file and the key, and `kam refresh` stops before any work."""

import copy
import json
import re
from decimal import Decimal

import pytest
import yaml
from click.testing import CliRunner

from orchestration.cli.main import main
from orchestration.settings import (
    DBT_PROJECT_DIR,
    EXPECTATIONS_DIR,
    LIFECYCLE_CONFIG_FILE,
    SCORING_CONFIG_FILE,
)
from orchestration.steering.config import (
    CRITERIA,
    KamConfigError,
    load_kam_config,
    load_lifecycle_config,
    load_scoring_config,
)

DEFAULT = yaml.safe_load(SCORING_CONFIG_FILE.read_text(encoding="utf-8"))
DECILES = [{"from": 10 * i, "score": i + 1} for i in range(10)]


def write(tmp_path, doc, name="scoring.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def changed(**criteria_edits):
    doc = copy.deepcopy(DEFAULT)
    for key, value in criteria_edits.items():
        doc[key] = value
    return doc


def test_the_shipped_configuration_is_valid():
    cfg = load_kam_config(SCORING_CONFIG_FILE, LIFECYCLE_CONFIG_FILE)
    assert sum(cfg.scoring.weight(c) for c in cfg.scoring.criteria) == 1
    dbt_vars = cfg.dbt_vars()
    crit = {c["criterion"]: c for c in dbt_vars["kam_scoring"]["criteria"]}
    assert crit["solvency"]["method"] == "thresholds"
    assert crit["solvency"]["bands"][0] == {"from": None, "score": 10}
    assert crit["cultural_fit"] == {
        "criterion": "cultural_fit",
        "source": "judgment",
        "unit": "score 1-10",
        "weight": "0.1",
        "method": "judgment",
        "bands": [],
    }
    assert re.fullmatch(r"[0-9a-f]{12}", dbt_vars["kam_scoring"]["config_version"])
    json.dumps(dbt_vars)  # passed to dbt as JSON


def test_percent_weights_are_normalised_and_change_the_version(tmp_path):
    doc = copy.deepcopy(DEFAULT)
    for c in doc["criteria"]:
        c["weight"] = round(c["weight"] * 100)
    cfg = load_scoring_config(write(tmp_path, doc))
    assert [cfg.weight(c) for c in cfg.criteria] == [
        Decimal(str(c["weight"])) for c in DEFAULT["criteria"]
    ]
    lifecycle = load_lifecycle_config(LIFECYCLE_CONFIG_FILE)
    same = load_kam_config(write(tmp_path, doc), LIFECYCLE_CONFIG_FILE).dbt_vars()
    assert same == load_kam_config(SCORING_CONFIG_FILE, LIFECYCLE_CONFIG_FILE).dbt_vars()
    doc["criteria"][0]["weight"] += 5
    doc["criteria"][1]["weight"] -= 5
    other = load_kam_config(write(tmp_path, doc), LIFECYCLE_CONFIG_FILE).dbt_vars()
    assert other["kam_scoring"]["config_version"] != same["kam_scoring"]["config_version"]
    assert lifecycle.trend_months == 12


def _with_criteria(criteria):
    return changed(criteria=criteria)


FOUR = [
    {"criterion": "average_transaction_size", "weight": 0.4, "scoring": {"method": "percentile", "bands": DECILES}},
    {"criterion": "tenure", "weight": 0.2, "scoring": {"method": "thresholds", "bands": [{"score": 1}, {"from": 5, "score": 10}]}},
    {"criterion": "cultural_fit", "weight": 0.2},
    {"criterion": "partner_potential", "weight": 0.2},
]  # fmt: skip


def _edit(index, **fields):
    criteria = copy.deepcopy(FOUR)
    criteria[index].update(fields)
    return _with_criteria(criteria)


ELEVEN = [
    {"criterion": name, "weight": 1 if name != "product_fit" else 90}
    | ({"scoring": {"method": "percentile", "bands": DECILES}} if spec.banded else {})
    for name, spec in CRITERIA.items()
    if name != "geographic_proximity"
]


@pytest.mark.parametrize(
    ("doc", "key", "message"),
    [
        (_edit(0, weight=0.35), "criteria", "weights sum to 0.95; they must sum to 1 (fractions) or 100 (percent)"),
        (_edit(2, criterion="colour_fit"), "criteria.2.criterion", "unknown criterion 'colour_fit'"),
        (_with_criteria(FOUR[:2]), "criteria", "2 criteria; a scoring matrix uses 3 to 10"),
        (_with_criteria(ELEVEN), "criteria", "11 criteria; a scoring matrix uses 3 to 10"),
        (_edit(2, criterion="partner_potential"), "criteria", "criterion listed more than once: partner_potential"),
        (_edit(0, weight=0), "criteria.0.weight", "greater than 0"),
        # score bands not covering 1 to 10
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 1}, {"from": 5, "score": 9}]}),
         "criteria.1.scoring", "scores [1, 9] do not cover the score scale 1 to 10"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 2}, {"from": 5, "score": 10}]}),
         "criteria.1.scoring", "scores [2, 10] do not cover the score scale 1 to 10"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 1}, {"from": 5, "score": 11}]}),
         "criteria.1.scoring.bands.1.score", "less than or equal to 10"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"from": 0, "score": 1}, {"from": 5, "score": 10}]}),
         "criteria.1.scoring", "bands[0].from: the first threshold band takes every value below"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 1}, {"from": 5, "score": 5}, {"from": 3, "score": 10}]}),
         "criteria.1.scoring", "bands[2].from: 3 is not above the previous band's 5"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 1}, {"score": 10}]}),
         "criteria.1.scoring", "bands[1].from: missing"),
        (_edit(1, scoring={"method": "thresholds", "bands": [{"score": 1}, {"from": 2, "score": 10}, {"from": 3, "score": 4}]}),
         "criteria.1.scoring", "must rise or fall steadily"),
        (_edit(0, scoring={"method": "percentile", "bands": DECILES[1:]}),
         "criteria.0.scoring", "bands[0].from: percentile bands start at 0"),
        (_edit(0, scoring={"method": "percentile", "bands": [{"from": 0, "score": 1}, {"from": 120, "score": 10}]}),
         "criteria.0.scoring", "bands[1].from: a percentile is between 0 and 100"),
        (_edit(0, scoring={"method": "median", "bands": DECILES}), "criteria.0.scoring.method", "'percentile' or 'thresholds'"),
        (_edit(1, scoring=None), "criteria.1", "tenure (years) needs a scoring block with bands"),
        (_edit(2, scoring={"method": "percentile", "bands": DECILES}), "criteria.2", "cultural_fit is a 1-10 judgment"),
        (changed(designation={"rule": "top_n"}), "designation", "rule top_n needs top_n"),
        (changed(designation={"rule": "min_total", "min_total": 11}), "designation.min_total", "less than or equal to 10"),
        (changed(designation={"rule": "best"}), "designation.rule", "'top_n' or 'min_total'"),
        (changed(scoring_dates={"frequency": "week"}), "scoring_dates.frequency", "'month', 'quarter' or 'year'"),
        (changed(colour="red"), "colour", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_invalid_scoring_config_names_file_and_key(tmp_path, doc, key, message):
    path = write(tmp_path, doc)
    with pytest.raises(KamConfigError) as err:
        load_scoring_config(path)
    text = str(err.value)
    assert re.match(rf"{re.escape(str(path))}, line \d+: ", text), text
    assert f"{key}: " in text and message in text, text


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        ({"trend_months": 0}, "trend_months", "greater than or equal to 1"),
        ({"recovery": {"max_revenue_growth": 0.1}}, "recovery.max_revenue_growth", "less than 0"),
        (
            {"expansion": {"min_revenue_growth": -0.1}},
            "expansion.min_revenue_growth",
            "greater than 0",
        ),
        ({"phases": ["a"]}, "phases", "Extra inputs are not permitted"),
    ],
)
def test_invalid_lifecycle_config_names_file_and_key(tmp_path, edit, key, message):
    doc = yaml.safe_load(LIFECYCLE_CONFIG_FILE.read_text(encoding="utf-8")) | edit
    path = write(tmp_path, doc, "lifecycle.yml")
    with pytest.raises(KamConfigError, match=rf"{re.escape(str(path))}, line \d+: {key}: ") as err:
        load_lifecycle_config(path)
    assert message in str(err.value)


def test_unreadable_files_are_named(tmp_path):
    with pytest.raises(KamConfigError, match=r"missing\.yml: cannot read"):
        load_scoring_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("criteria: [", encoding="utf-8")
    with pytest.raises(KamConfigError, match=r"bad\.yml, line 1, column 12: not valid YAML"):
        load_scoring_config(bad)
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(KamConfigError, match=r"bad\.yml, line 1: \(top\): expected a mapping"):
        load_scoring_config(bad)


def test_refresh_stops_before_any_work_on_an_invalid_matrix(data_root, tmp_path, monkeypatch):
    path = write(tmp_path, _edit(0, weight=0.3))
    monkeypatch.setenv("KAM_SCORING_CONFIG", str(path))
    result = CliRunner().invoke(main, ["refresh"])
    assert result.exit_code == 1
    assert re.search(
        rf"{re.escape(str(path))}, line \d+: criteria: weights sum to 0.9", result.output
    )
    assert "published/current unchanged" in result.output
    # Nothing ran; only the failure is recorded (data/warehouse/logs/failures.jsonl).
    warehouse = data_root / "warehouse"
    written = [str(p.relative_to(warehouse)) for p in warehouse.rglob("*") if p.is_file()]
    assert written == ["logs/failures.jsonl"]
    assert not (data_root / "published").exists()


def test_criterion_catalogue_matches_dbt_and_the_gx_suite():
    macro = (DBT_PROJECT_DIR / "macros" / "kam.sql").read_text(encoding="utf-8")
    data = re.findall(r'^        "(\w+)": \{', macro, flags=re.M)
    judgments = re.search(r"kam_judgment_columns\(\) -%}.*?\[(.*?)\]", macro, flags=re.S)
    judgment_names = re.findall(r'"(\w+)"', judgments.group(1))
    assert sorted(data) == sorted(n for n, s in CRITERIA.items() if s.source == "data")
    assert sorted(judgment_names) == sorted(
        n for n, s in CRITERIA.items() if s.source == "judgment"
    )
    suite = json.loads((EXPECTATIONS_DIR / "account_criterion_scores.json").read_text())
    [in_set] = [
        e
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "criterion"
    ]
    assert sorted(in_set["kwargs"]["value_set"]) == sorted(CRITERIA)
