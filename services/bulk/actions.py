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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments.timeout_requests import decline_timeout_request
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.queue.rules import (
    CLOSE_ACTIONS,
    ItemState,
    QueueAction,
    refusal,
    validate_decline_reason,
)
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


async def _items(
    *, session: AsyncSession, actor: Person, ids: list[int], lock: bool = True
) -> list[QueueItem]:
    """The items, locked (unless only read), in the order asked; `NotAllowed` when any is not
    of the actor's school (one answer for another school's id and a missing one: ids cannot be
    probed)."""
    if not ids:
        raise InputInvalid(Text.of(N_("Choose at least one item.")))
    if len(ids) > BULK_MAX:
        raise InputInvalid(
            Text.of(N_("Choose at most {count} items at once."), count=Text.raw(str(BULK_MAX)))
        )
    query = select(QueueItem).where(QueueItem.id.in_(ids), QueueItem.school_id == actor.school_id)
    if lock:
        query = query.with_for_update()
    rows = await session.scalars(query.execution_options(populate_existing=True))
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


@dataclass(frozen=True, slots=True)
class BulkClosePreview:
    """What closing the chosen items would do (the confirmation before `bulk_close`): the
    ids in the order asked, and per way of closing the ids it applies to."""

    item_ids: tuple[int, ...]
    #: Referrals declined: the mentor who referred is told (reads the reason in the chat).
    referrals: tuple[int, ...]
    #: Time-out requests declined: the student is told (without the reason).
    timeout_requests: tuple[int, ...]
    #: Exit questionnaire results marked handled (nobody is told).
    questionnaires: tuple[int, ...]


async def preview_bulk_close(
    *, session: AsyncSession, actor: Person, queue_item_ids: Iterable[int], reason: str
) -> BulkClosePreview:
    """What `bulk_close` would do with these items and this reason, refused as it would be
    (a bad reason, an item not the actor's, an item whose state does not allow closing), so
    the confirmation is only shown for what can be done. Reads only: nothing is locked,
    changed or told; `bulk_close` checks everything again when it is confirmed."""
    problem = validate_decline_reason(reason)
    if problem is not None:
        raise InputInvalid(problem)
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    items = await _items(session=session, actor=actor, ids=_unique(queue_item_ids), lock=False)
    by_action: dict[QueueAction, list[int]] = {}
    for item in items:
        action = CLOSE_ACTIONS[item.kind]
        refused = refusal(ItemState.of(item), action)
        if refused is not None:
            raise _named(item.id, InvalidTransition(refused))
        by_action.setdefault(action, []).append(item.id)
    return BulkClosePreview(
        item_ids=tuple(item.id for item in items),
        referrals=tuple(by_action.get(QueueAction.DECLINE, ())),
        timeout_requests=tuple(by_action.get(QueueAction.DECLINE_TIMEOUT, ())),
        questionnaires=tuple(by_action.get(QueueAction.CLOSE, ())),
    )


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


__all__ = ["BULK_MAX", "BulkClosePreview", "bulk_assign", "bulk_close", "preview_bulk_close"]
