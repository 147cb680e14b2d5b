"""Who sees which indicators: a school's own (care coordinator, admin) and the partnership's
(every school side by side plus the total, or one of its schools, small groups hidden).
Audited.

Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.indicators.facts import local_day, read_facts, read_targets, survey_periods
from services.indicators.periods import (
    Month,
    months_between,
    school_year_bounds,
    school_years_of,
    validate_period,
)
from services.indicators.report import IndicatorOutput, IndicatorReport
from services.indicators.rules import compute_report
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from storage.models import Person, Role, School

log = logging.getLogger(__name__)


def _check_period(first: Month, last: Month, now: datetime, zone: ZoneInfo) -> tuple[Month, ...]:
    problem = validate_period(first, last, today=local_day(now, zone))
    if problem is not None:
        raise InputInvalid(problem)
    return months_between(first, last)


async def _report(
    *,
    session: AsyncSession,
    schools: Sequence[School],
    months: Sequence[Month],
    now: datetime,
    with_total: bool,
    suppress: bool | None = None,
) -> IndicatorReport:
    years = school_years_of(list(months))
    first = min(months[0].first_day, school_year_bounds(years[0])[0])
    last = max(months[-1].last_day, school_year_bounds(years[-1])[1])
    school_ids = [school.id for school in schools]
    facts = await read_facts(session=session, schools=schools, first=first, last=last, now=now)
    survey = await survey_periods(
        session=session,
        school_ids=school_ids,
        periods=[(month, month.first_day, month.last_day) for month in months],
    )
    year_survey = await survey_periods(
        session=session,
        school_ids=school_ids,
        periods=[(year, *school_year_bounds(year)) for year in years],
    )
    return compute_report(
        schools=[(school.id, school.name, facts[school.id]) for school in schools],
        months=months,
        survey=survey,
        with_total=with_total,
        years=years,
        year_survey=year_survey,
        targets=await read_targets(session=session, school_ids=school_ids, years=years),
        suppress=suppress,
    )


_SCHOOL_ROLES = (Role.CARE_COORDINATOR, Role.ADMIN)


async def school_indicators(
    *,
    session: AsyncSession,
    viewer: Person,
    first: Month,
    last: Month,
    now: datetime,
    output: IndicatorOutput = IndicatorOutput.PAGE,
) -> IndicatorReport:
    """The viewer's own school, month by month (audited as ``indicators.view``).

    Only a care coordinator or an admin of the school sees it; anyone else gets `NotAllowed`.
    A bad period raises `InputInvalid`.
    """
    viewer = await reload_actor(session=session, actor=viewer)
    if not any(viewer.has_role(role) for role in _SCHOOL_ROLES):
        log.info("indicators refused: person_id=%s", viewer.id)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    school = await session.get(School, viewer.school_id)
    if school is None:  # pragma: no cover - guaranteed by the foreign key
        raise NotAllowed(Text.of(N_("You are not known at this school.")))
    months = _check_period(first, last, now, ZoneInfo(school.timezone))
    report = await _report(
        session=session, schools=[school], months=months, now=now, with_total=False
    )
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=viewer.id,
        action="indicators.view",
        subject_type="school",
        subject_id=school.id,
        details={"from": str(first), "to": str(last), "output": output.value},
        at=now,
    )
    return report


async def _partnership_schools(
    session: AsyncSession, viewer: Person
) -> tuple[Person, list[School], School]:
    """The viewer re-read (a partnership viewer, or `NotAllowed`), every school of the
    partnership by name, and the viewer's own school."""
    viewer = await reload_actor(session=session, actor=viewer)
    if not viewer.has_role(Role.PARTNERSHIP_VIEWER):
        log.info("partnership indicators refused: person_id=%s", viewer.id)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    schools = list(await session.scalars(select(School).order_by(School.name, School.id)))
    own = next(school for school in schools if school.id == viewer.school_id)
    return viewer, schools, own


async def partnership_indicators(
    *,
    session: AsyncSession,
    viewer: Person,
    first: Month,
    last: Month,
    now: datetime,
    output: IndicatorOutput = IndicatorOutput.PAGE,
) -> IndicatorReport:
    """Every school side by side plus the total, small groups hidden.

    Only a partnership viewer sees it (`NotAllowed` otherwise); audited as
    ``indicators.partnership_view`` in the viewer's own school's trail, listing the schools.
    """
    viewer, schools, own = await _partnership_schools(session, viewer)
    months = _check_period(first, last, now, ZoneInfo(own.timezone))
    report = await _report(
        session=session, schools=schools, months=months, now=now, with_total=True
    )
    _audit_partnership_view(
        session,
        viewer,
        first=first,
        last=last,
        now=now,
        output=output,
        school_ids=[school.id for school in schools],
    )
    return report


async def partnership_school_indicators(
    *,
    session: AsyncSession,
    viewer: Person,
    school_id: int,
    first: Month,
    last: Month,
    now: datetime,
) -> IndicatorReport:
    """One school of the partnership month by month, small groups hidden exactly as on the
    partnership's view (the rule looks at the school's own figures only; no total here).

    Only a partnership viewer sees it (`NotAllowed` otherwise); a school that does not exist
    is `NotFound`. Audited as ``indicators.partnership_view`` with that one school.
    """
    viewer, schools, own = await _partnership_schools(session, viewer)
    school = next((school for school in schools if school.id == school_id), None)
    if school is None:
        raise NotFound(Text.of(N_("There is no such school.")))
    months = _check_period(first, last, now, ZoneInfo(own.timezone))
    report = await _report(
        session=session,
        schools=[school],
        months=months,
        now=now,
        with_total=False,
        suppress=True,
    )
    _audit_partnership_view(
        session,
        viewer,
        first=first,
        last=last,
        now=now,
        output=IndicatorOutput.PAGE,
        school_ids=[school.id],
    )
    return report


def _audit_partnership_view(
    session: AsyncSession,
    viewer: Person,
    *,
    first: Month,
    last: Month,
    now: datetime,
    output: IndicatorOutput,
    school_ids: list[int],
) -> None:
    """``indicators.partnership_view`` in the viewer's own school's trail, naming the schools
    and the period read."""
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="indicators.partnership_view",
        subject_type="partnership",
        subject_id=viewer.school_id,
        details={
            "from": str(first),
            "to": str(last),
            "output": output.value,
            "schools": school_ids,
        },
        at=now,
    )
