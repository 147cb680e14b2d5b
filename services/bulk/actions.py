"""Bulk assign and bulk close with a reason: the queue's checkboxes and one form (issue 14).

Every item is checked again on its own, against the person acting, by the service the item's
own page uses (`services.referrals.decisions.decline`,
`services.appointments.timeout_requests.decline_timeout_request`,
`services.surveys.results.close_survey_item`), so each is refused, changed and audited exactly
as a single action would be. A bulk action is one unit of work and all-or-nothing: an id that
is not an item of the actor's school (another school's, a forged or a missing one) refuses the
whole request with the same `NotAllowed` a single action gets, and an item whose state does
not allow the action refuses it with `InvalidTransition` naming the item; nothing is changed
then (the caller rolls back).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments.timeout_requests import decline_timeout_request
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.queue.rules import CLOSE_ACTIONS, QueueAction, validate_decline_reason
from services.queue.status import assign_item
from services.referrals.decisions import decline
from services.surveys.results import close_survey_item
from storage.models import Person, PersonRole, QueueItem, Role

log = logging.getLogger(__name__)

#: The most items one bulk action takes (the queue page shows far fewer open items).
BULK_MAX = 100
NOT_AVAILABLE = N_("One or more of the chosen items are not available to you.")


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


async def _items(*, session: AsyncSession, actor: Person, ids: list[int]) -> list[QueueItem]:
    """The items, locked, in the order asked; `NotAllowed` when any is not of the actor's
    school (one answer for another school's id and a missing one: ids cannot be probed)."""
    if not ids:
        raise InputInvalid(Text.of(N_("Choose at least one item.")))
    if len(ids) > BULK_MAX:
        raise InputInvalid(
            Text.of(N_("Choose at most {count} items at once."), count=Text.raw(str(BULK_MAX)))
        )
    rows = await session.scalars(
        select(QueueItem)
        .where(QueueItem.id.in_(ids), QueueItem.school_id == actor.school_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {item.id: item for item in rows}
    if len(found) != len(ids):
        log.info("refused: bulk of %s items for person_id=%s", len(ids), actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    return [found[item_id] for item_id in ids]


def _named(item_id: int, refused: InvalidTransition) -> InvalidTransition:
    return InvalidTransition(
        Text.of(N_("#{number}: {reason}"), number=Text.raw(str(item_id)), reason=refused.reason)
    )


async def bulk_assign(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_ids: Iterable[int],
    assignee_id: int,
    now: datetime,
) -> list[int]:
    """Assign the open items to ``assignee_id``, a care coordinator of the actor's school;
    the ids changed. Audited ``queue.assign`` per item (``bulk``: true)."""
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    assignee = await session.scalar(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.id == assignee_id,
            Person.school_id == actor.school_id,
            PersonRole.role == Role.CARE_COORDINATOR,
        )
    )
    if assignee is None:
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    items = await _items(session=session, actor=actor, ids=_unique(queue_item_ids))
    for item in items:
        try:
            await assign_item(session=session, item=item, assignee_id=assignee, now=now)
        except InvalidTransition as refused:
            raise _named(item.id, refused) from refused
        record_audit(
            session=session,
            school_id=actor.school_id,
            actor_id=actor.id,
            action="queue.assign",
            subject_type="queue_item",
            subject_id=item.id,
            details={
                "assignee_id": assignee,
                "from_assignee_id": item.assignee_id,
                "bulk": True,
            },
            at=now,
        )
    log.info("bulk assign of %s items by person_id=%s", len(items), actor.id)
    return [item.id for item in items]


async def bulk_close(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_ids: Iterable[int],
    reason: str,
    now: datetime,
) -> list[int]:
    """Close the items with ``reason``, each the way its kind is ended
    (`services.queue.rules.CLOSE_ACTIONS`): a referral declined and a time-out request
    declined with the reason (the mentor or student told, as on their pages); an exit
    questionnaire result marked handled (it has no decision, so the reason is not kept there).
    The ids changed. `InputInvalid` for a bad reason, before anything is read."""
    problem = validate_decline_reason(reason)
    if problem is not None:
        raise InputInvalid(problem)
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    items = await _items(session=session, actor=actor, ids=_unique(queue_item_ids))
    for item in items:
        action = CLOSE_ACTIONS[item.kind]
        try:
            if action is QueueAction.DECLINE:
                await decline(
                    session=session, actor=actor, queue_item_id=item.id, reason=reason, now=now
                )
            elif action is QueueAction.DECLINE_TIMEOUT:
                await decline_timeout_request(
                    session=session, actor=actor, queue_item_id=item.id, reason=reason, now=now
                )
            else:
                await close_survey_item(
                    session=session, actor=actor, queue_item_id=item.id, now=now
                )
        except InvalidTransition as refused:
            raise _named(item.id, refused) from refused
    log.info("bulk close of %s items by person_id=%s", len(items), actor.id)
    return [item.id for item in items]


__all__ = ["BULK_MAX", "bulk_assign", "bulk_close"]
