"""The key-account configuration: scoring matrix (config/scoring.yml) and lifecycle rules
(config/lifecycle.yml), validated by pydantic before any run work that depends on them.

The validated configuration reaches dbt as two vars (`kam_scoring`, `kam_lifecycle`): the models
generate their SQL from them, so changing weights, criteria, bands or rules and rerunning changes
scores, designations and phases without a code change. An invalid file stops the refresh before
anything is published, with a message naming the file and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.settings import ConfigError
from orchestration.yaml_errors import describe_yaml_error, where_key

MIN_CRITERIA, MAX_CRITERIA = 3, 10


class KamConfigError(ConfigError):
    """A KAM configuration file is invalid; the message names the file, the line and the key."""


@dataclass(frozen=True)
class CriterionSpec:
    """What the warehouse knows about a criterion: where its value comes from and its unit."""

    source: Literal["data", "judgment"]
    unit: str
    description: str
    banded: bool  # the value needs score bands (else it is already a 1-10 score)


# The criteria the warehouse can evaluate. Which of them count, and how much, is configuration.
CRITERIA: dict[str, CriterionSpec] = {
    "product_fit": CriterionSpec(
        "judgment", "score 1-10", "size of the account's target market for our products", False
    ),
    "average_transaction_size": CriterionSpec(
        "data", "reporting currency", "average invoice amount in the scoring window", True
    ),
    "revenue_potential": CriterionSpec(
        "data",
        "reporting currency",
        "growth headroom: purchasing-potential estimate minus current annual net revenue",
        True,
    ),
    "revenue_growth": CriterionSpec(
        "data", "percent", "net revenue of the scoring window vs the window before", True
    ),
    "buying_process": CriterionSpec(
        "judgment", "score 1-10", "decision making and payment speed (10 = easy)", False
    ),
    "partner_potential": CriterionSpec(
        "judgment", "score 1-10", "partner history and potential", False
    ),
    "partnership_stage": CriterionSpec(
        "judgment", "stage 1-5", "partnership ladder, 1 = spec supplier, 5 = integrated", True
    ),
    "tenure": CriterionSpec("data", "years", "years since the relationship began", True),
    "solvency": CriterionSpec(
        "data",
        "days late",
        "amount-weighted average days paid after the due date (share paid late x days late)",
        True,
    ),
    "existing_relationships": CriterionSpec(
        "judgment", "score 1-10", "relationships to other potential customers", False
    ),
    "cultural_fit": CriterionSpec("judgment", "score 1-10", "cultural fit", False),
    "geographic_proximity": CriterionSpec(
        "judgment", "score 1-10", "proximity to our sites or service centres", False
    ),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Band(_Strict):
    start: Decimal | None = Field(default=None, alias="from")
    score: int = Field(ge=1, le=10)


class Scoring(_Strict):
    method: Literal["percentile", "thresholds"]
    bands: tuple[Band, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _bands_cover_values_and_scale(self) -> Scoring:
        first, rest = self.bands[0], self.bands[1:]
        if self.method == "percentile" and first.start != 0:
            raise ValueError("bands[0].from: percentile bands start at 0 (from: 0)")
        if self.method == "thresholds" and first.start is not None:
            raise ValueError(
                "bands[0].from: the first threshold band takes every value below the second "
                "band's 'from'; leave out its 'from'"
            )
        for i, band in enumerate(rest, start=1):
            if band.start is None:
                raise ValueError(f"bands[{i}].from: missing (only the first band has no 'from')")
            previous = self.bands[i - 1].start
            if previous is not None and band.start <= previous:
                raise ValueError(
                    f"bands[{i}].from: {band.start} is not above the previous band's {previous} "
                    "(bands must be in ascending order of 'from')"
                )
            if self.method == "percentile" and not 0 <= band.start <= 100:
                raise ValueError(f"bands[{i}].from: a percentile is between 0 and 100")
        scores = [b.score for b in self.bands]
        if min(scores) != 1 or max(scores) != 10:
            raise ValueError(
                f"bands: scores {scores} do not cover the score scale 1 to 10 "
                "(the lowest band must score 1 and the highest 10)"
            )
        steps = [b - a for a, b in itertools.pairwise(scores)]
        if not (all(s >= 0 for s in steps) or all(s <= 0 for s in steps)):
            raise ValueError(f"bands: scores {scores} must rise or fall steadily with 'from'")
        return self


class Criterion(_Strict):
    criterion: str
    weight: Decimal = Field(gt=0)
    scoring: Scoring | None = None

    @field_validator("criterion")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CRITERIA:
            raise ValueError(f"unknown criterion {v!r}; known criteria: {', '.join(CRITERIA)}")
        return v

    @model_validator(mode="after")
    def _scoring_fits_the_criterion(self) -> Criterion:
        spec = CRITERIA[self.criterion]
        if spec.banded and self.scoring is None:
            raise ValueError(
                f"scoring: {self.criterion} ({spec.unit}) needs a scoring block with bands "
                "that map its value to 1-10"
            )
        if not spec.banded and self.scoring is not None:
            raise ValueError(
                f"scoring: {self.criterion} is a 1-10 judgment of the KAM team and takes no "
                "bands; remove 'scoring'"
            )
        return self

    @property
    def spec(self) -> CriterionSpec:
        return CRITERIA[self.criterion]


class ScoringDates(_Strict):
    frequency: Literal["month", "quarter", "year"] = "quarter"
    min_history_months: int = Field(default=12, ge=1, le=120)


class Designation(_Strict):
    rule: Literal["top_n", "min_total"]
    top_n: int | None = Field(default=None, ge=1)
    min_total: Decimal | None = Field(default=None, ge=1, le=10)
    min_weight_coverage: Decimal = Field(default=Decimal("0.75"), gt=0, le=1)

    @model_validator(mode="after")
    def _parameters_of_the_rule(self) -> Designation:
        if self.rule == "top_n" and self.top_n is None:
            raise ValueError("top_n: rule top_n needs top_n (how many key accounts)")
        if self.rule == "min_total" and self.min_total is None:
            raise ValueError("min_total: rule min_total needs min_total (1 to 10)")
        if self.rule == "min_total" and self.top_n is not None:
            raise ValueError("top_n: not used by rule min_total; remove it")
        return self


class DesignationEffect(_Strict):
    months_before: int = Field(default=12, ge=1, le=36)
    result_lag_months: int = Field(default=9, ge=1, le=36)
    months_after: int = Field(default=18, ge=2, le=60)

    @model_validator(mode="after")
    def _lag_inside_after(self) -> DesignationEffect:
        if self.months_after <= self.result_lag_months:
            raise ValueError("months_after: must be greater than result_lag_months")
        return self


class ScoringConfig(_Strict):
    scoring_dates: ScoringDates = ScoringDates()
    window_months: int = Field(default=12, ge=1, le=36)
    judgment_max_age_months: int = Field(default=24, ge=1, le=120)
    criteria: tuple[Criterion, ...]
    designation: Designation
    designation_effect: DesignationEffect = DesignationEffect()

    @field_validator("criteria")
    @classmethod
    def _matrix(cls, v: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        if not MIN_CRITERIA <= len(v) <= MAX_CRITERIA:
            raise ValueError(
                f"{len(v)} criteria; a scoring matrix uses {MIN_CRITERIA} to {MAX_CRITERIA}"
            )
        names = [c.criterion for c in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"criterion listed more than once: {', '.join(dupes)}")
        total = sum(c.weight for c in v)
        if total not in (1, 100):
            raise ValueError(
                f"weights sum to {total}; they must sum to 1 (fractions) or 100 (percent)"
            )
        return v

    def weight(self, criterion: Criterion) -> Decimal:
        """Weight as a fraction of 1, whether the file gives fractions or percent."""
        total = sum(c.weight for c in self.criteria)
        return criterion.weight / total


class FirstContact(_Strict):
    max_tenure_months: int = Field(default=12, ge=0, le=120)
    min_orders: int = Field(default=3, ge=0, le=1000)


class Expansion(_Strict):
    min_revenue_growth: Decimal = Field(default=Decimal("0.2"), gt=0)


class Recovery(_Strict):
    max_revenue_growth: Decimal = Field(default=Decimal("-0.2"), lt=0, gt=-1)
    complaint_months: int = Field(default=6, ge=1, le=24)
    min_complaints: int = Field(default=3, ge=1)
    min_complaint_rate: Decimal = Field(default=Decimal("10"), ge=0)


class LifecycleConfig(_Strict):
    trend_months: int = Field(default=12, ge=1, le=24)
    lost_after_months: int = Field(default=9, ge=1, le=60)
    first_contact: FirstContact = FirstContact()
    expansion: Expansion = Expansion()
    recovery: Recovery = Recovery()


def _load(path: Path, model: type[BaseModel]) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise KamConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise KamConfigError(f"{path}: cannot read: {e}") from None
    except yaml.YAMLError as e:
        raise KamConfigError(describe_yaml_error(path, e)) from None
    if not isinstance(data, dict):
        raise KamConfigError(f"{path}, line 1: (top): expected a mapping of settings")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise KamConfigError(_problems(e, path)) from None


def _problems(e: ValidationError, path: Path) -> str:
    return "; ".join(
        f"{where_key(path, err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
        for err in e.errors()
    )


def load_scoring_config(path: Path) -> ScoringConfig:
    return _load(path, ScoringConfig)


def load_lifecycle_config(path: Path) -> LifecycleConfig:
    return _load(path, LifecycleConfig)


@dataclass(frozen=True)
class KamConfig:
    scoring: ScoringConfig
    lifecycle: LifecycleConfig

    def dbt_vars(self) -> dict[str, Any]:
        """The validated configuration as dbt vars (numbers as strings: exact decimals in SQL)."""
        s, life = self.scoring, self.lifecycle
        scoring = {
            "scoring_dates": s.scoring_dates.model_dump(),
            "window_months": s.window_months,
            "judgment_max_age_months": s.judgment_max_age_months,
            "criteria": [
                {
                    "criterion": c.criterion,
                    "source": c.spec.source,
                    "unit": c.spec.unit,
                    "weight": _num(s.weight(c)),
                    "method": c.scoring.method if c.scoring else "judgment",
                    "bands": [
                        {"from": _num(b.start), "score": b.score}
                        for b in (c.scoring.bands if c.scoring else ())
                    ],
                }
                for c in s.criteria
            ],
            "designation": {
                "rule": s.designation.rule,
                "top_n": s.designation.top_n,
                "min_total": _num(s.designation.min_total),
                "min_weight_coverage": _num(s.designation.min_weight_coverage),
            },
            "designation_effect": s.designation_effect.model_dump(),
        }
        lifecycle = {
            "trend_months": life.trend_months,
            "lost_after_months": life.lost_after_months,
            "first_contact": life.first_contact.model_dump(),
            "expansion": {"min_revenue_growth": _num(life.expansion.min_revenue_growth)},
            "recovery": {
                "max_revenue_growth": _num(life.recovery.max_revenue_growth),
                "complaint_months": life.recovery.complaint_months,
                "min_complaints": life.recovery.min_complaints,
                "min_complaint_rate": _num(life.recovery.min_complaint_rate),
            },
        }
        scoring["config_version"] = _version(scoring)
        lifecycle["config_version"] = _version(lifecycle)
        return {"kam_scoring": scoring, "kam_lifecycle": lifecycle}


def _num(v: Decimal | None) -> str | None:
    """A decimal as a plain SQL numeric literal (never exponent notation)."""
    return None if v is None else format(v, "f")


def _version(doc: dict[str, Any]) -> str:
    """Short content hash: which matrix a score or decision was made under."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def load_kam_config(scoring_file: Path, lifecycle_file: Path) -> KamConfig:
    return KamConfig(load_scoring_config(scoring_file), load_lifecycle_config(lifecycle_file))
