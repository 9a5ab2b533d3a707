"""Trend, projection and status of one target from one monthly series: pure functions, no database.

The rules, in the order they are applied (docs/roadmap.md explains them with examples):

* **Series.** One value per complete calendar month up to the as-of date, identified by a month number
  (`year * 12 + month - 1`). Months without a value are simply absent.
* **Current value** = the median of the last `level_months` (3) monthly values, so a single unusual month
  (the Lunar New Year month, a reorganisation) does not move it.
* **Achieved pace** = a robust trend in the indicator's unit per year over the last `window_months` (24):
  the *seasonal* Theil–Sen slope (Hirsch, Slack & Smith 1982): the median of the slopes between values of
  the same calendar month in different years, so Tết dips and other seasonal patterns cancel out. With fewer
  than `min_seasonal_pairs` same-month pairs (less than about a year and a half of data) the plain Theil–Sen
  slope over all pairs of months is used instead. Its range is the distribution-free confidence interval of
  Sen's slope (Gilbert 1987, §16.5) at `range_level` (80 %).
* **Projection** at the deadline = current value + pace × years left, counted from the month the current value
  stands for (the middle of the last `level_months` months: one month before the latest for three) to the
  deadline's month, so a straight line is projected exactly; low/high use the range of the pace.
  Percentages are clipped to 0–100, others to ≥ 0.
* **Required pace** = (target − current value) ÷ years left.
* **Status**, first matching rule wins:
  1. `no_data`: no value in the last `stale_months` months before the as-of date;
  2. `achieved`: the current value meets the target (≥ for higher-is-better, ≤ for lower-is-better), whatever
     the trend; a target whose deadline has passed is achieved when the value at its deadline met it;
  3. `off_track`: the deadline has passed and the target was not met;
  4. `no_data`: too few values for a trend (`min_points`); with a current value it is named "too few months
     to judge" (`status_name`), not "no data";
  5. `on_track`: the projection meets the target;
  6. `at_risk`: the projection falls short, but the better end of its range meets the target, or the trend
     closes at least `at_risk_share` (half) of the remaining gap by the deadline;
  7. `off_track`: otherwise (including a trend that goes the wrong way).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from egov_metrics import vocab
from egov_metrics.i18n import fmt_date, fmt_number, with_sign
from egov_metrics.model import FrozenModel
from egov_metrics.vocab import TargetStatus, labels

Status = TargetStatus
STATUSES: tuple[str, ...] = tuple(vocab.STATUSES)
STATUS_NAMES: dict[str, dict[str, str]] = labels(vocab.STATUSES)
#: A status name that says more than its status's for one rule: a target with a current value but too few
#: months for a trend is `no_data` (grey, not judged), yet it has data, so it is not called "no data".
RULE_STATUS_NAMES: dict[str, dict[str, str]] = {
    "no_trend": {"vi": "Chưa đủ số tháng để đánh giá", "en": "Too few months to judge"},
}


def status_name(status: str, rule: str | None, lang: str) -> str:
    """The name of a status as a reader sees it: the rule's own (`RULE_STATUS_NAMES`), else the status's."""
    names = RULE_STATUS_NAMES.get(rule or "") or STATUS_NAMES.get(status)
    return names[lang] if names else status


class Rules(FrozenModel):
    """Tunable thresholds of the assessment (the `rules:` section of a roadmap file)."""

    window_months: Annotated[int, Field(ge=12, le=60)] = 24
    level_months: Annotated[int, Field(ge=1, le=12)] = 3
    stale_months: Annotated[int, Field(ge=1, le=24)] = 3
    min_points: Annotated[int, Field(ge=3, le=60)] = 6
    min_seasonal_pairs: Annotated[int, Field(ge=3, le=60)] = 6
    range_level: Annotated[float, Field(gt=0, lt=1)] = 0.8
    at_risk_share: Annotated[float, Field(gt=0, lt=1)] = 0.5
    #: an indicator is "flat" when |pace| is below this many units per year (percent: percentage points) ...
    flat_pace_percent: Annotated[float, Field(gt=0)] = 1.0
    #: ... or, for counts and days, below this share of its current value per year.
    flat_pace_share: Annotated[float, Field(gt=0, lt=1)] = 0.02
    #: a layer counts as built when at least this % of its components due by the as-of date are in operation
    built_at: Annotated[float, Field(gt=0, le=100)] = 80.0
    #: a layer lags when less than this % of its components due by the as-of date are in operation
    lagging_below: Annotated[float, Field(gt=0, le=100)] = 75.0


def month_number(day: dt.date) -> int:
    """2025-03-xx → 2025 * 12 + 2."""
    return day.year * 12 + day.month - 1


def month_start(number: int) -> dt.date:
    return dt.date(number // 12, number % 12 + 1, 1)


def month_end(number: int) -> dt.date:
    return month_start(number + 1) - dt.timedelta(days=1)


def meets(value: float | None, target: float, direction: str) -> bool:
    """Does `value` meet `target` for an indicator of this direction? A missing value meets nothing."""
    if value is None:
        return False
    return value >= target if direction == "higher" else value <= target


# --- trend ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A robust pace in the indicator's unit per year, with its range."""

    pace: float
    low: float
    high: float
    method: Literal["seasonal_sen", "sen"]
    slopes: int
    points: int


def _order_statistic(sorted_values: np.ndarray, rank: float) -> float:
    """Linear interpolation at a 1-based fractional rank, clipped to the sample."""
    rank = min(max(rank, 1.0), float(len(sorted_values)))
    lo = math.floor(rank)
    frac = rank - lo
    if frac == 0 or lo >= len(sorted_values):
        return float(sorted_values[lo - 1])
    return float(sorted_values[lo - 1] * (1 - frac) + sorted_values[lo] * frac)


def _kendall_variance(counts: Sequence[int]) -> float:
    return float(sum(n * (n - 1) * (2 * n + 5) / 18 for n in counts))


def robust_trend(months: npt.ArrayLike, values: npt.ArrayLike, rules: Rules | None = None) -> Trend | None:
    """Seasonal (or plain) Theil–Sen pace per year over the last `window_months`; None with too few points."""
    rules = rules or Rules()
    m = np.asarray(months, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(v)
    m, v = m[keep], v[keep]
    if len(m) == 0:
        return None
    keep = m > m.max() - rules.window_months
    m, v = m[keep], v[keep]
    if len(m) < rules.min_points:
        return None
    i, j = np.triu_indices(len(m), k=1)
    dm = m[j] - m[i]
    valid = dm != 0
    i, j, dm = i[valid], j[valid], dm[valid]
    slopes_all = (v[j] - v[i]) / dm * 12.0
    seasonal = dm % 12 == 0
    if seasonal.sum() >= rules.min_seasonal_pairs:
        slopes = np.sort(slopes_all[seasonal])
        variance = _kendall_variance(np.unique(m % 12, return_counts=True)[1].tolist())
        method: Literal["seasonal_sen", "sen"] = "seasonal_sen"
    else:
        slopes = np.sort(slopes_all)
        variance = _kendall_variance([len(m)])
        method = "sen"
    n = len(slopes)
    z = NormalDist().inv_cdf((1 + rules.range_level) / 2)
    c = z * math.sqrt(variance)
    return Trend(
        pace=float(np.median(slopes)),
        low=_order_statistic(slopes, (n - c) / 2),
        high=_order_statistic(slopes, (n + c) / 2 + 1),
        method=method,
        slopes=n,
        points=len(m),
    )


def current_level(values: npt.ArrayLike, rules: Rules | None = None) -> float | None:
    """Median of the last `level_months` values (already in month order); None when empty."""
    rules = rules or Rules()
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return None
    return float(np.median(v[-rules.level_months :]))


def is_flat(trend: Trend | None, level: float | None, unit: str, rules: Rules | None = None) -> bool:
    """Has the indicator not moved? |pace| below the flat threshold of its unit."""
    rules = rules or Rules()
    if trend is None or level is None:
        return False
    limit = rules.flat_pace_percent if unit == "percent" else rules.flat_pace_share * max(abs(level), 1e-9)
    return abs(trend.pace) < limit


# --- status -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Everything the status rules look at for one target."""

    target: float
    deadline: dt.date
    direction: str
    unit: str
    as_of: dt.date
    current: float | None
    latest_month: int | None
    at_deadline: float | None  # level at the deadline (passed deadlines only)
    trend: Trend | None
    years_left: float
    passed: bool
    projection: float | None
    projection_low: float | None
    projection_high: float | None
    rules: Rules

    @property
    def stale(self) -> bool:
        return (
            self.latest_month is None
            or month_number(self.as_of) - self.latest_month > self.rules.stale_months
        )

    @property
    def gap(self) -> float | None:
        return None if self.current is None else self.target - self.current

    @property
    def required_pace(self) -> float | None:
        if self.gap is None or self.years_left <= 0:
            return None
        return self.gap / self.years_left

    @property
    def better_end(self) -> float | None:
        return self.projection_high if self.direction == "higher" else self.projection_low

    @property
    def closed_share(self) -> float | None:
        """Share of the remaining gap the trend closes by the deadline (≥ 1: reached; < 0: wrong way)."""
        if self.projection is None or self.current is None or self.gap in (None, 0):
            return None
        return (self.projection - self.current) / (self.target - self.current)


#: The status rules in the order they are tried (see the module docstring).
RULES: tuple[tuple[Status, str, Callable[[Facts], bool]], ...] = (
    ("no_data", "stale", lambda f: not f.passed and f.stale),
    ("no_data", "no_value_at_deadline", lambda f: f.passed and f.at_deadline is None),
    ("achieved", "met_at_deadline", lambda f: f.passed and meets(f.at_deadline, f.target, f.direction)),
    ("off_track", "missed", lambda f: f.passed),
    ("achieved", "met", lambda f: meets(f.current, f.target, f.direction)),
    ("no_data", "no_trend", lambda f: f.trend is None),
    ("on_track", "projected", lambda f: meets(f.projection, f.target, f.direction)),
    ("at_risk", "within_range", lambda f: meets(f.better_end, f.target, f.direction)),
    ("at_risk", "half_closed", lambda f: (f.closed_share or 0.0) >= f.rules.at_risk_share),
    ("off_track", "short", lambda f: True),
)


@dataclass(frozen=True)
class TargetCheck:
    """The assessment of one target against one series."""

    status: Status
    rule: str
    current: float | None
    latest_month: int | None
    at_deadline: float | None
    gap: float | None
    required_pace: float | None
    achieved_pace: float | None
    pace_low: float | None
    pace_high: float | None
    trend_method: str | None
    years_left: float
    projection: float | None
    projection_low: float | None
    projection_high: float | None
    reason_vi: str
    reason_en: str


def _clip(value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    return min(max(value, 0.0), 100.0) if unit == "percent" else max(value, 0.0)


def facts(
    months: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    target: float,
    deadline: dt.date,
    direction: str,
    unit: str = "percent",
    as_of: dt.date,
    rules: Rules | None = None,
) -> Facts:
    """Gather what the rules need from a monthly series (months as `month_number`s, in any order)."""
    rules = rules or Rules()
    m = np.asarray(months, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(m, kind="stable")
    m, v = m[order], v[order]
    keep = (~np.isnan(v)) & (m <= month_number(as_of))
    m, v = m[keep], v[keep]
    deadline_month = month_number(deadline)
    passed = deadline < as_of and deadline_month < month_number(as_of)
    at_deadline = None
    if passed:
        near = (m <= deadline_month) & (m > deadline_month - rules.stale_months)
        at_deadline = current_level(v[m <= deadline_month], rules) if near.any() else None
    current = current_level(v, rules)
    latest = int(m[-1]) if len(m) else None
    trend = robust_trend(m, v, rules)
    # the current value (a median of the last months) stands for the middle of those months
    reference = latest - (min(rules.level_months, len(m)) - 1) / 2 if latest is not None else None
    years_left = max(deadline_month - reference, 0) / 12 if reference is not None else 0.0
    projection = low = high = None
    if trend is not None and current is not None:
        projection = _clip(current + trend.pace * years_left, unit)
        low = _clip(current + trend.low * years_left, unit)
        high = _clip(current + trend.high * years_left, unit)
    return Facts(
        target=target,
        deadline=deadline,
        direction=direction,
        unit=unit,
        as_of=as_of,
        current=current,
        latest_month=latest,
        at_deadline=at_deadline,
        trend=trend,
        years_left=years_left,
        passed=passed,
        projection=projection,
        projection_low=low,
        projection_high=high,
        rules=rules,
    )


def judge(f: Facts) -> tuple[Status, str]:
    """The first rule that matches: (status, rule name)."""
    for status, name, applies in RULES:
        if applies(f):
            return status, name
    raise AssertionError("the last rule always applies")  # pragma: no cover


# --- reasons ------------------------------------------------------------------------------------------

_UNIT_TEXT = {
    "percent": {"vi": ("%", "điểm %"), "en": ("%", "pp")},
    "working_days": {"vi": ("ngày LV", "ngày LV"), "en": ("working days", "working days")},
    "count": {"vi": ("", ""), "en": ("", "")},
    "ratio": {"vi": ("", ""), "en": ("", "")},
}


#: At most this many decimals are added to tell a value from its target (`distinct_decimals`).
MAX_DECIMALS = 4


def unit_decimals(unit: str) -> int:
    """The decimals a value of this unit is written with: 0 for counts, else 1."""
    return 0 if unit == "count" else 1


def distinct_decimals(
    value: float | None, target: float, direction: str, decimals: int, most: int = MAX_DECIMALS
) -> int:
    """The decimals to write a value and its target with: `decimals`, or more (up to `most`) when the value
    does not meet the target but both would read the same (4.02 against ≤ 4.0 is "4,02" and "4,00", not
    "4,0" twice). A value that meets its target keeps `decimals`: "80,0 %" against "≥ 80,0 %" is met."""
    if value is None or meets(value, target, direction):
        return decimals
    d = decimals
    while d < most and f"{value:.{d}f}" == f"{target:.{d}f}":
        d += 1
    return d


def value_text(x: float | None, unit: str, lang: str, decimals: int | None = None) -> str:
    """'62,3 %', '4,02 ngày LV', '1.234' in the indicator's unit; '–' without a value. `decimals`: the unit's
    (`unit_decimals`) unless given."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    suffix = _UNIT_TEXT[unit][lang][0]
    d = unit_decimals(unit) if decimals is None else decimals
    return f"{fmt_number(x, d, lang)}{' ' + suffix if suffix else ''}"


def value_and_target_texts(
    value: float | None,
    target: float | None,
    *,
    unit: str,
    direction: str,
    lang: str,
    decimals: int | None = None,
) -> tuple[str, str]:
    """A value and its target written with the same decimals (`distinct_decimals`), so that a value short of
    its target never reads the same as the target."""
    d = unit_decimals(unit) if decimals is None else decimals
    if target is not None:
        d = distinct_decimals(value, target, direction, d)
    return value_text(value, unit, lang, d), value_text(target, unit, lang, d)


def _v(x: float | None, unit: str, lang: str, decimals: int | None = None) -> str:
    return value_text(x, unit, lang, decimals)


def _p(x: float | None, unit: str, lang: str) -> str:
    if x is None:
        return "–"
    per = "/năm" if lang == "vi" else "/year"
    suffix = _UNIT_TEXT[unit][lang][1]
    number = with_sign(x, fmt_number(x, 0 if unit == "count" else 1, lang))
    return f"{number}{' ' + suffix if suffix else ''}{per}"


def _cmp(direction: str) -> str:
    return "≥" if direction == "higher" else "≤"


def _month_text(number: int | None) -> str:
    return "–" if number is None else f"{number % 12 + 1:02d}/{number // 12}"


def _d(f: Facts, value: float | None) -> int:
    """The decimals of a sentence comparing `value` with the target (`distinct_decimals`)."""
    return distinct_decimals(value, f.target, f.direction, unit_decimals(f.unit))


def _goal(f: Facts, lang: str, decimals: int | None = None) -> str:
    """'chỉ tiêu ≥ 80,0 % đến 31/12/2025' / 'target ≥ 80.0 % by 31/12/2025'."""
    word, by = ("chỉ tiêu", "đến") if lang == "vi" else ("target", "by")
    target = _v(f.target, f.unit, lang, decimals)
    return f"{word} {_cmp(f.direction)} {target} {by} {fmt_date(f.deadline, lang)}"


def _paces(f: Facts, lang: str) -> str:
    assert f.trend is not None
    if lang == "vi":
        return f"cần {_p(f.required_pace, f.unit, lang)}, thực tế {_p(f.trend.pace, f.unit, lang)}"
    return f"needs {_p(f.required_pace, f.unit, lang)}, achieves {_p(f.trend.pace, f.unit, lang)}"


def _projected(f: Facts, lang: str) -> str:
    """'dự báo 71,8 % (69,0 %–74,2 %), chỉ tiêu ≥ 85,0 % đến 31/12/2030': the projection, its range and the
    goal with the same decimals, enough to tell a projection short of the target from the target."""
    word = "dự báo" if lang == "vi" else "projected"
    d = _d(f, f.projection)
    span = f"{_v(f.projection_low, f.unit, lang, d)}–{_v(f.projection_high, f.unit, lang, d)}"
    return f"{word} {_v(f.projection, f.unit, lang, d)} ({span}), {_goal(f, lang, d)}"


def _reason_stale(f: Facts, lang: str) -> str:
    if f.latest_month is None:
        return "Chưa có số liệu cho chỉ tiêu này." if lang == "vi" else "No data for this indicator yet."
    since = _month_text(f.latest_month)
    if lang == "vi":
        return f"Không có số liệu sau tháng {since} (tính đến {fmt_date(f.as_of, lang)})."
    return f"No value after {since} (as of {fmt_date(f.as_of, lang)})."


#: Sentence templates per rule, in Vietnamese and English: (facts, lang) -> one sentence.
REASONS: dict[str, dict[str, Callable[[Facts], str]]] = {
    "stale": {"vi": lambda f: _reason_stale(f, "vi"), "en": lambda f: _reason_stale(f, "en")},
    "no_value_at_deadline": {
        "vi": lambda f: f"Không có số liệu quanh thời hạn; {_goal(f, 'vi')}.",
        "en": lambda f: f"No value around the deadline; {_goal(f, 'en')}.",
    },
    "met_at_deadline": {
        "vi": lambda f: f"Đã đạt: {_v(f.at_deadline, f.unit, 'vi')} tại thời hạn, {_goal(f, 'vi')}.",
        "en": lambda f: f"Achieved: {_v(f.at_deadline, f.unit, 'en')} at the deadline, {_goal(f, 'en')}.",
    },
    "missed": {
        "vi": lambda f: (
            f"Không đạt: {_v(f.at_deadline, f.unit, 'vi', _d(f, f.at_deadline))} khi hết hạn, "
            f"{_goal(f, 'vi', _d(f, f.at_deadline))}."
        ),
        "en": lambda f: (
            f"Missed: {_v(f.at_deadline, f.unit, 'en', _d(f, f.at_deadline))} when the deadline passed, "
            f"{_goal(f, 'en', _d(f, f.at_deadline))}."
        ),
    },
    "met": {
        "vi": lambda f: f"Đã đạt: hiện {_v(f.current, f.unit, 'vi')}, {_goal(f, 'vi')}.",
        "en": lambda f: f"Achieved: now {_v(f.current, f.unit, 'en')}, {_goal(f, 'en')}.",
    },
    "no_trend": {
        "vi": lambda f: (
            f"Chưa đủ {f.rules.min_points} tháng số liệu để tính xu hướng; hiện "
            f"{_v(f.current, f.unit, 'vi', _d(f, f.current))}, {_goal(f, 'vi', _d(f, f.current))}."
        ),
        "en": lambda f: (
            f"Fewer than {f.rules.min_points} monthly values for a trend; now "
            f"{_v(f.current, f.unit, 'en', _d(f, f.current))}, {_goal(f, 'en', _d(f, f.current))}."
        ),
    },
    "projected": {
        "vi": lambda f: f"Đúng tiến độ: {_paces(f, 'vi')}; {_projected(f, 'vi')}.",
        "en": lambda f: f"On track: {_paces(f, 'en')}; {_projected(f, 'en')}.",
    },
    "within_range": {
        "vi": lambda f: f"Có nguy cơ: {_paces(f, 'vi')}; {_projected(f, 'vi')}.",
        "en": lambda f: f"At risk: {_paces(f, 'en')}; {_projected(f, 'en')}.",
    },
    "half_closed": {
        "vi": lambda f: f"Có nguy cơ: {_paces(f, 'vi')}; {_projected(f, 'vi')}.",
        "en": lambda f: f"At risk: {_paces(f, 'en')}; {_projected(f, 'en')}.",
    },
    "short": {
        "vi": lambda f: f"Chệch hướng: {_paces(f, 'vi')}; {_projected(f, 'vi')}.",
        "en": lambda f: f"Off track: {_paces(f, 'en')}; {_projected(f, 'en')}.",
    },
}


def check_target(
    months: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    target: float,
    deadline: dt.date,
    direction: str,
    unit: str = "percent",
    as_of: dt.date,
    rules: Rules | None = None,
) -> TargetCheck:
    """Assess one target against one monthly series (see the module docstring for the rules)."""
    f = facts(
        months,
        values,
        target=target,
        deadline=deadline,
        direction=direction,
        unit=unit,
        as_of=as_of,
        rules=rules,
    )
    status, rule = judge(f)
    t = f.trend
    return TargetCheck(
        status=status,
        rule=rule,
        current=f.current,
        latest_month=f.latest_month,
        at_deadline=f.at_deadline,
        gap=f.gap,
        required_pace=f.required_pace,
        achieved_pace=t.pace if t else None,
        pace_low=t.low if t else None,
        pace_high=t.high if t else None,
        trend_method=t.method if t else None,
        years_left=f.years_left,
        projection=f.projection,
        projection_low=f.projection_low,
        projection_high=f.projection_high,
        reason_vi=REASONS[rule]["vi"](f),
        reason_en=REASONS[rule]["en"](f),
    )
