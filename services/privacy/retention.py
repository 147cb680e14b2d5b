"""The retention rule and the pruning, run daily by the worker (`bot.housekeeping`) and by
`trajectbot privacy retention [--dry-run]`.

Retention: the care data of a trajectory closed longer ago than its school's
``care_retention_months`` (24 unless set) is erased with `erasure.erase_care_data` (the rows
stay for the indicators). Pruning: processed Telegram update ids older than
`rules.PROCESSED_UPDATE_DAYS`, expired staff web sessions, login links and web chat sessions,
invitations used or expired more than `rules.INVITE_KEEP_DAYS` ago, and finished conversations
(their stored answers) `rules.FINISHED_CONVERSATION_DAYS` after their last change. Each school's
run is audited (counts only).

Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.audit import record_audit
from services.privacy.erasure import erase_care_data
from services.privacy.parents_access import ask_adult_students
from services.privacy.rules import (
    finished_conversation_cutoff,
    invite_cutoff,
    processed_update_cutoff,
    retention_cutoff,
)
from storage.models import (
    Conversation,
    ConversationStatus,
    Invite,
    LoginLink,
    ProcessedUpdate,
    School,
    SlotHold,
    Trajectory,
    TrajectoryStatus,
    WebChatSession,
    WebSession,
)

log = logging.getLogger(__name__)

RETENTION = "privacy.retention"


@dataclass(frozen=True, slots=True)
class SchoolRetention:
    """One school's run: its period and the trajectories whose care data expired."""

    school_id: int
    code: str
    months: int
    trajectory_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Pruned:
    """What the pruning removed (or would remove, in a dry run)."""

    processed_updates: int
    web_sessions: int
    login_links: int
    invites: int
    web_chat_sessions: int
    conversations: int
    #: Held times that expired (`services.appointments.holds`; they no longer count anyway).
    slot_holds: int = 0

    @property
    def total(self) -> int:
        """Every row removed."""
        return (
            self.processed_updates
            + self.web_sessions
            + self.login_links
            + self.invites
            + self.web_chat_sessions
            + self.conversations
            + self.slot_holds
        )


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """One run of the retention rule and the pruning."""

    schools: tuple[SchoolRetention, ...]
    pruned: Pruned
    dry_run: bool
    #: Students who turned 18 asked about their parents' access (`parents_access`).
    adults_asked: int = 0

    @property
    def trajectories(self) -> int:
        """Trajectories whose care data expired (erased unless a dry run)."""
        return sum(len(s.trajectory_ids) for s in self.schools)


async def expired_trajectories(
    *, session: AsyncSession, school: School, now: datetime
) -> tuple[int, ...]:
    """Closed trajectories of ``school`` whose care data is past its retention, not yet erased."""
    cutoff = retention_cutoff(now, school.care_retention_months)
    return tuple(
        await session.scalars(
            select(Trajectory.id)
            .where(
                Trajectory.school_id == school.id,
                Trajectory.status == TrajectoryStatus.CLOSED,
                Trajectory.closed_at < cutoff,
                Trajectory.care_erased_at.is_(None),
            )
            .order_by(Trajectory.id)
        )
    )


async def _count(session: AsyncSession, model: Any, condition: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(condition)) or 0)


async def prune(*, session: AsyncSession, now: datetime, dry_run: bool = False) -> Pruned:
    """Remove what no longer serves anyone (see the module's docstring)."""
    targets: list[tuple[Any, Any]] = [
        (ProcessedUpdate, ProcessedUpdate.processed_at < processed_update_cutoff(now)),
        (WebSession, WebSession.expires_at <= now),
        (LoginLink, or_(LoginLink.expires_at <= now, LoginLink.used_at.is_not(None))),
        (
            Invite,
            or_(Invite.expires_at <= invite_cutoff(now), Invite.used_at <= invite_cutoff(now)),
        ),
        (WebChatSession, WebChatSession.expires_at <= now),
        (
            Conversation,
            (Conversation.status != ConversationStatus.ACTIVE)
            & (Conversation.updated_at < finished_conversation_cutoff(now)),
        ),
        (SlotHold, SlotHold.expires_at <= now),
    ]
    counts: list[int] = []
    for model, condition in targets:
        found = await _count(session, model, condition)
        if found and not dry_run:
            await session.execute(
                delete(model).where(condition).execution_options(synchronize_session=False)
            )
        counts.append(found)
    return Pruned(*counts)


async def run_housekeeping(
    *, session: AsyncSession, now: datetime, dry_run: bool = False
) -> Housekeeping:
    """The retention rule for every school, then the pruning (the system acts; audited); then
    the students who turned 18 are asked about their parents' access."""
    runs: list[SchoolRetention] = []
    for school in await session.scalars(select(School).order_by(School.id)):
        expired = await expired_trajectories(session=session, school=school, now=now)
        runs.append(SchoolRetention(school.id, school.code, school.care_retention_months, expired))
        if expired and not dry_run:
            await erase_care_data(session=session, trajectory_ids=list(expired), now=now)
            record_audit(
                session=session,
                school_id=school.id,
                actor_id=None,
                action=RETENTION,
                subject_type="school",
                subject_id=school.id,
                details={"trajectory_ids": list(expired), "months": school.care_retention_months},
                at=now,
            )
    pruned = await prune(session=session, now=now, dry_run=dry_run)
    # Students who turned 18 are asked about their parents' access (once each).
    adults = 0 if dry_run else await ask_adult_students(session=session, now=now)
    log.info(
        "housekeeping dry_run=%s trajectories=%s pruned=%s",
        dry_run,
        sum(len(r.trajectory_ids) for r in runs),
        pruned.total,
    )
    return Housekeeping(tuple(runs), pruned, dry_run, adults)
