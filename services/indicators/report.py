"""What the indicators publish: figures per school and month, as pages and exports show them.

A hidden figure keeps no trace of its value or its base; no child's name or id appears here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from services.indicators.periods import Month, months_between


class Indicator(StrEnum):
    """The figures per school and month, in the order tables show them."""

    ENROLLED = "enrolled"
    REFERRED = "referred"
    REFERRED_SHARE = "referred_share"
    CLASS_OBSERVATIONS = "class_observations"
    OBSERVED_SHARE = "observed_share"
    TEACHER_SUPPORT = "teacher_support"
    OPP = "opp"
    OPP_SHARE = "opp_share"
    TLV_REQUESTED = "tlv_requested"
    TLV_REQUESTED_SHARE = "tlv_requested_share"
    TLV_GRANTED = "tlv_granted"
    TLV_GRANTED_SHARE = "tlv_granted_share"
    LONG_ABSENCE = "long_absence"
    LONG_ABSENCE_SHARE = "long_absence_share"
    OUTFLOW = "outflow"
    OUTFLOW_WITH_OPP = "outflow_with_opp"
    OUTFLOW_SHARE = "outflow_share"
    VAVO = "vavo"
    VAVO_WITH_OPP = "vavo_with_opp"
    VAVO_SHARE = "vavo_share"
    VISITATIONS = "visitations"
    ACTIVE_TRAJECTORIES = "active_trajectories"
    LENGTH_MEAN_DAYS = "length_mean_days"
    LENGTH_MEDIAN_DAYS = "length_median_days"
    TIMEOUTS_ATTENDED = "timeouts_attended"
    TIMEOUTS_PER_STUDENT = "timeouts_per_student"
    OVERDUE = "overdue"


#: The figures the partnership sets a target for (percentages of the students enrolled).
TARGETED: tuple[Indicator, ...] = (
    Indicator.REFERRED_SHARE,
    Indicator.OBSERVED_SHARE,
    Indicator.OPP_SHARE,
    Indicator.TLV_REQUESTED_SHARE,
    Indicator.TLV_GRANTED_SHARE,
    Indicator.LONG_ABSENCE_SHARE,
    Indicator.OUTFLOW_SHARE,
    Indicator.VAVO_SHARE,
)


class IndicatorOutput(StrEnum):
    """How the figures left the system (kept in the audit trail)."""

    PAGE = "page"
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class Figure:
    """One published number.

    ``value`` is ``None`` when there is nothing to compute (a mean of no trajectories) or when
    the figure is ``hidden`` by the small-group rule; a hidden figure keeps no trace of its
    value or its base.
    """

    value: float | None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Every figure of one school (or of all schools together) in one month.

    ``questions``: mean score per (respondent type, question code); ``response_rates``: share
    of invitations answered, per respondent type (0-1).
    """

    month: Month
    figures: Mapping[Indicator, Figure]
    questions: Mapping[tuple[str, str], Figure] = field(
        default_factory=lambda: MappingProxyType({})
    )
    response_rates: Mapping[str, Figure] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, indicator: Indicator) -> Figure:
        return self.figures[indicator]


@dataclass(frozen=True, slots=True)
class YearFigures:
    """Every figure of one school (or all together) in one school year (1 August - 31 July,
    up to today in the running year), with the partnership's targets (percent, 0-100) of
    that school and year; the small-group rule of the questionnaire applies to the year."""

    school_year: int
    figures: Mapping[Indicator, Figure]
    questions: Mapping[tuple[str, str], Figure] = field(
        default_factory=lambda: MappingProxyType({})
    )
    response_rates: Mapping[str, Figure] = field(default_factory=lambda: MappingProxyType({}))
    targets: Mapping[Indicator, float] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, indicator: Indicator) -> Figure:
        return self.figures[indicator]


@dataclass(frozen=True, slots=True)
class SchoolIndicators:
    """One school's months and school years (``name`` is the school's, never a person's).

    ``period``: every figure over the whole period asked for (its months as one span: each
    student counted once, the overdue trajectories as of its last day), under the same
    small-group rule as the months; the partnership's summary shows a row of it per school.
    """

    school_id: int
    name: str
    months: tuple[MonthFigures, ...]
    years: tuple[YearFigures, ...] = ()
    period: Mapping[Indicator, Figure] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class IndicatorReport:
    """What a page or an export shows.

    ``total`` pools all schools (partnership view only); ``suppressed`` tells whether the
    small-group rule was applied to every figure (partnership) or to the questionnaire only.
    """

    first: Month
    last: Month
    schools: tuple[SchoolIndicators, ...]
    total: SchoolIndicators | None
    suppressed: bool
    #: Respondent types and question codes present, in a stable order, for table columns.
    question_keys: tuple[tuple[str, str], ...] = ()
    respondent_types: tuple[str, ...] = ()

    @property
    def months(self) -> tuple[Month, ...]:
        return months_between(self.first, self.last)
