"""Merging a duplicate referral into the student's open one (issue 11, item 5).

A second referral for a student who already has an open referral or a running trajectory in
the school can be merged by a care coordinator: the duplicate's queue item is closed without a
decision, ``merged_into_id`` naming the open one's item ("merged into #N"); its free text is
added to that item as an internal note (nothing is lost); both steps are audited
(``queue.merge`` on the duplicate, ``queue.merged_in`` on the open one) and the mentor who
sent the duplicate is told (``referral.merged``; ids only, the student is read in the chat).

Which item it joins is `services.queue.duplicates.merge_target` (the running trajectory's
referral first, else the oldest open referral); whether a merge is allowed is the queue's one
rule (`services.queue.rules.allowed_actions` with ``open_duplicate``), enforced by
`services.queue.status.move_item`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.verwijzing import VERWIJZING
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.accounts.people import people_by_id
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition
from services.outbox.kinds import OutboxKind
from services.queue.access import coordinator_item
from services.queue.duplicates import StudentCase, cases_of_student, merge_target
from services.queue.rules import CHANGED_MEANWHILE, ItemState, QueueAction, refusal
from services.queue.status import move_item
from storage.models import Outbox, Person, QueueItem, QueueNote, QueueStatus, Referral

log = logging.getLogger(__name__)

REFERRAL_MERGED = OutboxKind.REFERRAL_MERGED
#: The referral's free-text answers, in the order the mentor gave them (the flow's labels).
FREE_TEXT_FIELDS = (
    "help_question_student",
    "help_question_teacher",
    "tried",
    "works_at_home",
    "works_at_school",
    "parents_not_informed_reason",
)

#: Renders a `Text` in the language of the person merging (the note is theirs).
Render = Callable[[Text], str]


def merged_note_lines(referral: Referral, *, queue_item_id: int, mentor_name: str) -> list[Text]:
    """The note the open referral gets: where it comes from, then each free-text answer.

    Only what the mentor wrote as free text, as written; the coded answers (urgency, support,
    intake days) stay on the duplicate, which remains readable from its page.
    """
    lines = [
        Text.of(
            N_("Merged from referral #{number} by {mentor}, sent {date}:"),
            number=Text.raw(str(queue_item_id)),
            mentor=Text.raw(mentor_name),
            date=referral.created_at.astimezone(SCHOOL_TIMEZONE).date(),
        )
    ]
    for key in FREE_TEXT_FIELDS:
        value = getattr(referral, key)
        if value:
            lines.append(
                Text.of(
                    N_("{question}: {answer}"),
                    question=Text.of(VERWIJZING.step(key).label),
                    answer=Text.raw(value),
                )
            )
    return lines


async def _target(
    *, session: AsyncSession, item: QueueItem, referral: Referral
) -> tuple[StudentCase, int]:
    """The open case the duplicate would be merged into and its queue item, or the refusal:
    the rule's reason (nothing open to merge into, or the item already decided)."""
    target = merge_target(
        await cases_of_student(
            session=session, school_id=item.school_id, student_id=referral.student_id
        ),
        referral_id=referral.id,
    )
    if target is None or target.queue_item_id is None:
        problem = refusal(ItemState.of(item), QueueAction.MERGE)
        raise InvalidTransition(problem or Text.of(CHANGED_MEANWHILE))
    return target, target.queue_item_id


async def merge_duplicate(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    now: datetime,
    render: Render,
) -> QueueItem:
    """Merge the referral of ``queue_item_id`` into the student's open referral or trajectory.

    An operation in the caller's unit of work. `NotAllowed` as for
    `services.queue.referral_view.open_referral`; `InvalidTransition` when the item is decided
    or closed, or when the student has no other open referral or running trajectory in the
    school (the rule's reasons), and when the open one changed meanwhile. ``render`` writes
    the note in the merging coordinator's language. Returns the closed duplicate item.
    """
    actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=False
    )
    target, into_id = await _target(session=session, item=item, referral=referral)
    # Both items locked in one order (PostgreSQL; by id), then read again: of two duplicates
    # merged into each other at once, one waits for the other and then finds its target
    # closed (refused), where locking its own item first and the target second deadlocked.
    await session.execute(
        select(QueueItem.id)
        .where(QueueItem.id.in_(sorted({item.id, into_id})))
        .order_by(QueueItem.id)
        .with_for_update()
    )
    actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    target, again = await _target(session=session, item=item, referral=referral)
    if again != into_id:
        raise InvalidTransition(Text.of(CHANGED_MEANWHILE))
    from_status = await move_item(
        session=session,
        item=item,
        action=QueueAction.MERGE,
        to=QueueStatus.CLOSED,
        now=now,
        values={"merged_into_id": into_id, "assignee_id": item.assignee_id or actor.id},
        open_duplicate=True,
    )
    people = await people_by_id(session=session, school_id=item.school_id, ids={referral.mentor_id})
    mentor = people.get(referral.mentor_id)
    text = "\n".join(
        render(line)
        for line in merged_note_lines(
            referral,
            queue_item_id=item.id,
            mentor_name="?" if mentor is None else mentor.display_name,
        )
    )
    note = QueueNote(
        school_id=item.school_id,
        queue_item_id=into_id,
        author_id=actor.id,
        text=text,
        created_at=now,
    )
    session.add(note)
    await session.flush()
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="queue.merge",
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "referral_id": referral.id,
            "from_status": from_status.value,
            "to_status": QueueStatus.CLOSED.value,
            "into_queue_item_id": into_id,
            "into_referral_id": target.referral_id,
            "note_id": note.id,
        },
        at=now,
    )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="queue.merged_in",
        subject_type="queue_item",
        subject_id=into_id,
        details={
            "referral_id": target.referral_id,
            "from_queue_item_id": item.id,
            "from_referral_id": referral.id,
            "note_id": note.id,
        },
        at=now,
    )
    session.add(
        Outbox(
            school_id=item.school_id,
            recipient_id=referral.mentor_id,
            kind=OutboxKind.REFERRAL_MERGED,
            # Ids only: the mentor reads which student inside the chat.
            payload={"referral_id": referral.id, "queue_item_id": item.id},
            dedup_key=f"{REFERRAL_MERGED}:{referral.id}:{referral.mentor_id}",
            next_attempt_at=now,
            created_at=now,
        )
    )
    log.info(
        "queue_item_id=%s merged into queue_item_id=%s by person_id=%s", item.id, into_id, actor.id
    )
    return item
