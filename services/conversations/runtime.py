"""Runs the pure engine against the database: one event, one transaction.

Every channel calls `open_flow` / `handle_event` here, each inside one unit of work it begins
through `services.kernel.uow.run_unit_of_work` (the runtime itself never begins or commits).
Within that transaction the runtime takes the person's lock (`storage.locks.lock_person`: two
updates of one person on two workers are handled one after the other on PostgreSQL), loads the
conversation (row-locked on PostgreSQL), advances the engine, stores the new state and, when
the person confirms, lets the flow's binding write its result (referral, queue item, outbox
row). A crash before commit loses nothing that was
shown as done; a restart resumes the stored state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    bindparam,
    inspect,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from dialogs.engine import advance, question, reask, start
from dialogs.events import Event
from dialogs.flow import AnswerValue, Flow, FlowContext
from dialogs.flows import get_flow
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.replies import Reply, ReplyKind
from dialogs.state import DialogState, Status, new_run_id
from dialogs.text import N_, Text
from services.appointments.errors import BookingRefused
from services.conversations.bindings import BINDINGS, FlowBinding, binding_for
from services.kernel.errors import (
    DraftInvalid,
    InputInvalid,
    InvalidTransition,
    NotAllowed,
    Reroute,
)
from services.kernel.uow import update_memo
from storage.direct import DirectStatement
from storage.locks import lock_person
from storage.models import Conversation, ConversationStatus, Person, Role, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Turn:
    """What one event produced: the replies to show and the resulting state."""

    flow: str
    state: DialogState
    replies: tuple[Reply, ...]

    @property
    def finished(self) -> bool:
        """True when the flow was completed or stopped by this event."""
        return self.state.status is not Status.ACTIVE

    @property
    def changed_person(self) -> bool:
        """The flow was completed and its completion changes the person themself
        (`FlowBinding.changes_person`): what follows reads them again."""
        return self.state.status is Status.COMPLETED and binding_for(self.flow).changes_person


class ConcurrentUpdateError(Exception):
    """Another event for the same conversation committed first; the caller may retry once."""


def school_today(now: datetime) -> date:
    """The school's calendar date at ``now`` (Europe/Amsterdam)."""
    return now.astimezone(SCHOOL_TIMEZONE).date()


async def flows_for(
    *, session: AsyncSession, person: Person, now: datetime | None = None
) -> list[Flow]:
    """The flows this person may start, by role (an operation: no transaction of its own);
    a flow the person still owes an answer to (`FlowBinding.first`) comes first."""
    del session  # roles are loaded with the person; kept for a uniform service signature
    today = school_today(now or utcnow())
    ids = [
        flow_id
        for flow_id in _flow_ids_for(person)
        if BINDINGS[flow_id].in_menu and _offered(BINDINGS[flow_id], person, today)
    ]
    owed = [flow_id for flow_id in ids if _owed(BINDINGS[flow_id], person, today)]
    return [get_flow(flow_id) for flow_id in (*owed, *(i for i in ids if i not in owed))]


def _offered(binding: FlowBinding, person: Person, today: date) -> bool:
    return binding.offered is None or binding.offered(person, today)


def _owed(binding: FlowBinding, person: Person, today: date) -> bool:
    return binding.first is not None and binding.first(person, today)


async def active_flow(*, session: AsyncSession, person: Person) -> str | None:
    """The flow the person is in the middle of, if any (most recently touched)."""
    memo = update_memo()
    if memo is not None:
        # Inside a Telegram update the row is kept for the step that follows (`_load`): one
        # statement instead of two. Locked as `_load` would (PostgreSQL).
        found = (await _ACTIVE.execute(session, {"person_id": person.id})).first()
        if found is None:
            return None
        row = _Row.of(found)
        memo[("conversation", person.id, row.flow)] = row
        return row.flow
    flow: str | None = await session.scalar(
        select(Conversation.flow)
        .where(
            Conversation.person_id == person.id, Conversation.status == ConversationStatus.ACTIVE
        )
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    )
    return flow


@dataclass(frozen=True, slots=True)
class _Row:
    """A conversation as one step reads it (a snapshot, not an ORM object: every step reads
    and writes it, straight to the driver where it can, `storage.direct`)."""

    id: int
    flow: str
    state: dict[str, Any]
    status: ConversationStatus
    version: int

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> _Row:
        """From a row of `_row_query`'s columns."""
        id_, flow, state, status, version = row
        return cls(int(id_), str(flow), dict(state), ConversationStatus(status), int(version))


def _row_query(*conditions: ColumnElement[bool]) -> Select[Any]:
    table = cast(Table, Conversation.__table__)
    columns = (table.c.id, table.c.flow, table.c.state, table.c.status, table.c.version)
    return select(*columns).where(*conditions)


def _active_query() -> Select[Any]:
    table = cast(Table, Conversation.__table__)
    return (
        _row_query(
            table.c.person_id == bindparam("person_id"),
            table.c.status == ConversationStatus.ACTIVE,
        )
        .order_by(table.c.updated_at.desc())
        .limit(1)
        .with_for_update()
    )


def _conversation_query(*, lock: bool) -> Select[Any]:
    table = cast(Table, Conversation.__table__)
    query = _row_query(
        table.c.person_id == bindparam("person_id"), table.c.flow == bindparam("flow")
    )
    # Serialises two events of one person on PostgreSQL; SQLite serialises writers anyway.
    return query.with_for_update() if lock else query


def _save_statement() -> Update:
    table = cast(Table, Conversation.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.version == bindparam("loaded_version"))
        .values(
            step=bindparam("step"),
            state=bindparam("state"),
            status=bindparam("status"),
            version=bindparam("version"),
            updated_at=bindparam("updated_at"),
        )
    )


def _conversation_key(row_id: int) -> tuple[type[Any], tuple[Any, ...], Any | None]:
    """The session's identity-map key of a conversation row."""
    return inspect(Conversation).identity_key_from_primary_key((row_id,))


# Every step runs these (built once per process; `storage.direct`).
_ACTIVE = DirectStatement(_active_query)
_LOAD = DirectStatement(partial(_conversation_query, lock=False))
_LOAD_LOCKED = DirectStatement(partial(_conversation_query, lock=True))
_SAVE = DirectStatement(_save_statement)


async def open_flow(
    *,
    session: AsyncSession,
    person: Person,
    flow_id: str,
    now: datetime,
    preset: Mapping[str, AnswerValue] | None = None,
) -> Turn:
    """Resume the person's unfinished run of ``flow_id``, or start a new one.

    ``session`` is inside the caller's unit of work. With a ``preset`` (the item a decline is
    about), an unfinished run about another item is replaced by a new one.
    """
    binding = _authorized_binding(person, flow_id, now)
    flow = get_flow(flow_id)
    # One person's events one at a time, whichever worker has them (PostgreSQL): a second
    # update waits here until this unit commits, then sees what it wrote.
    await lock_person(session, person.id)
    row = await _load(session, person, flow_id)
    if row is not None and row.status is ConversationStatus.ACTIVE:
        state = DialogState.from_json(row.state)
        same_preset = all(state.answers.get(k) == v for k, v in (preset or {}).items())
        if state.flow_version == flow.version and same_preset:
            await _touch(session, row)
            context = await _context(binding, session, person, now, state.answers, step=state.step)
            resumed = Text.of(N_("Welcome back! Let's continue where you left off."))
            notice = Reply(ReplyKind.NOTICE, (resumed,))
            return Turn(flow_id, state, (notice, question(flow, state, context)))
        log.info("conversation %s restarted: flow version or preset changed", row.id)
    answers = dict(preset or {})
    if binding.preset is not None:
        added = await binding.preset(session=session, person=person, now=now, preset=answers)
        answers = {**added, **answers}
    context = await _context(binding, session, person, now, answers)
    state, replies = start(flow, context, answers, run=new_run_id())
    await _store(session, person, row, state)
    return Turn(flow_id, state, tuple(replies))


async def handle_event(
    *, session: AsyncSession, person: Person, flow_id: str, event: Event, now: datetime
) -> Turn:
    """Apply one event to the person's conversation in ``flow_id``.

    ``session`` is inside the caller's unit of work, which must end (roll back) when this
    raises. Raises `ConcurrentUpdateError` when another event for the same conversation won
    the race; the caller may run a new unit of work and try once more.
    """
    try:
        turn = await _handle(session, person, flow_id, event, now)
        # Flushed here, not at the caller's commit, so a lost race on the conversation's
        # version surfaces as ConcurrentUpdateError wherever the unit of work is begun.
        # (Most steps saved the state by one UPDATE already and have nothing to flush.)
        if session.new or session.dirty or session.deleted:
            await session.flush()
    except StaleDataError as exc:
        raise ConcurrentUpdateError(flow_id) from exc
    return turn


async def _handle(
    session: AsyncSession, person: Person, flow_id: str, event: Event, now: datetime
) -> Turn:
    binding = _authorized_binding(person, flow_id, now)
    flow = get_flow(flow_id)
    await lock_person(session, person.id)
    row = await _load(session, person, flow_id, lock=True)
    if row is None or row.status is not ConversationStatus.ACTIVE:
        ended = Text.of(N_("This conversation has already ended. Use the menu to start again."))
        state = DialogState(
            flow=flow_id, flow_version=flow.version, step=None, status=Status.COMPLETED
        )
        return Turn(flow_id, state, (Reply(ReplyKind.NOTICE, (ended,)),))

    before = DialogState.from_json(row.state)
    context = await _context(binding, session, person, now, before.answers, step=before.step)
    state, replies = advance(flow, before, event, context)
    if binding.answers_context is not None and (
        state.answers != before.answers or state.step != before.step
    ):
        # The next question's options depend on the answer just given (a day's free times),
        # and its step may show what the one before did not need (a warning). Asked again only
        # when the context differs: the engine is pure, so the same context asks the same.
        rebuilt = await _context(binding, session, person, now, state.answers, step=state.step)
        if rebuilt != context:
            context = rebuilt
            replies = reask(flow, state, replies, context)
    if state.status is Status.COMPLETED and before.status is Status.ACTIVE:
        try:
            # A savepoint, so a refusal keeps the conversation (and its answers) intact.
            async with session.begin_nested():
                done = await binding.complete(
                    session=session, person=person, answers=state.answers, now=now
                )
        except Reroute as reroute:
            # Back to one question, answers kept but for the changes (a taken time: the
            # nearest free ones offered); after answering it, back to the summary.
            log.info("completion of %s rerouted for person %s", flow_id, person.id)
            answers = {k: v for k, v in before.answers.items() if k not in reroute.answers}
            answers.update({k: v for k, v in reroute.answers.items() if v is not None})
            state = before.evolve(
                version=before.version + 1,
                invalid=0,
                step=reroute.step,
                answers=answers,
                editing=True,
                picking=False,
                selection=(),
                query="",
                page=0,
            )
            context = await _context(binding, session, person, now, state.answers, step=state.step)
            replies = [Reply(ReplyKind.NOTICE, reroute.lines), question(flow, state, context)]
        except _REFUSALS as refusal:
            # The summary stays open with every answer kept; the person can correct and resend.
            log.info("completion of %s refused for person %s", flow_id, person.id)
            state = before.evolve(version=before.version + 1, invalid=0)
            replies = [
                Reply(ReplyKind.NOTICE, _refusal_lines(refusal)),
                question(flow, state, context),
            ]
        else:
            if done:
                replies = [
                    Reply(ReplyKind.DONE, tuple(done)) if r.kind is ReplyKind.DONE else r
                    for r in replies
                ]
    if state != before:
        await _store(session, person, row, state)
    return Turn(flow_id, state, tuple(replies))


async def _context(
    binding: FlowBinding,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Mapping[str, AnswerValue],
    *,
    step: str | None = None,
) -> FlowContext:
    if binding.answers_context is not None:
        return await binding.answers_context(
            session=session, person=person, now=now, answers=answers, step=step
        )
    return await binding.context(session=session, person=person, today=school_today(now))


#: What a completion may refuse with: the summary stays, with the reason shown.
_REFUSALS = (NotAllowed, DraftInvalid, InvalidTransition, InputInvalid, BookingRefused)


def _refusal_lines(
    refusal: NotAllowed | DraftInvalid | InvalidTransition | InputInvalid | BookingRefused,
) -> tuple[Text, ...]:
    if isinstance(refusal, DraftInvalid):
        return tuple(refusal.problems.values())
    return (refusal.reason,)


def _authorized_binding(person: Person, flow_id: str, now: datetime) -> FlowBinding:
    if flow_id not in _flow_ids_for(person):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    binding = binding_for(flow_id)
    if binding.offered is not None and not binding.offered(person, school_today(now)):
        # Checked on every step: a birth date corrected meanwhile ends the flow here.
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    return binding


def _flow_ids_for(person: Person) -> tuple[str, ...]:
    return _flow_ids_for_roles(frozenset(row.role for row in person.roles))


@cache
def _flow_ids_for_roles(roles: frozenset[Role]) -> tuple[str, ...]:
    """The flows these roles may use (every step asks; a handful of role sets exist)."""
    return tuple(flow_id for flow_id, binding in BINDINGS.items() if binding.roles & roles)


async def _load(
    session: AsyncSession, person: Person, flow_id: str, *, lock: bool = False
) -> _Row | None:
    memo = update_memo()
    kept = None if memo is None else memo.pop(("conversation", person.id, flow_id), None)
    if isinstance(kept, _Row):
        return kept
    statement = _LOAD_LOCKED if lock else _LOAD
    found = (await statement.execute(session, {"person_id": person.id, "flow": flow_id})).first()
    return None if found is None else _Row.of(found)


async def _store(
    session: AsyncSession, person: Person, row: _Row | None, state: DialogState
) -> None:
    """Write ``state``; `ConcurrentUpdateError` when the row changed since it was loaded."""
    status = ConversationStatus(state.status.value)
    if row is None:
        session.add(
            Conversation(
                school_id=person.school_id,
                person_id=person.id,
                flow=state.flow,
                step=state.step,
                state=state.to_json(),
                status=status,
            )
        )
        return
    # One UPDATE, not the ORM's flush of a changed object (every step writes the row; the
    # flush's bookkeeping cost more than the statement). The version check is the ORM's
    # ``version_id_col`` rule, written out: an UPDATE from an older version matches nothing.
    values: dict[str, object] = {
        "step": state.step,
        "state": state.to_json(),
        "status": status,
        "version": row.version + 1,
        "updated_at": utcnow(),
    }
    result = await _SAVE.execute(
        session, {**values, "row_id": row.id, "loaded_version": row.version}
    )
    if result.rowcount != 1:
        raise ConcurrentUpdateError(state.flow)
    held = session.sync_session.identity_map
    loaded: object = held.get(_conversation_key(row.id)) if len(held) else None
    if isinstance(loaded, Conversation):
        # This session also holds the row as an object (a questionnaire run read it): it shows
        # what is stored now, so its own later flush checks against the right version.
        for key, value in values.items():
            set_committed_value(loaded, key, value)


async def _touch(session: AsyncSession, row: _Row) -> None:
    """Mark a resumed conversation as the one the person is in now.

    Several runs can be active at once (a move looked at, then a cancel picked again); what
    the person opened last is what every channel takes for "the conversation in progress"
    (`active_flow` for a typed answer in Telegram, the web chat's current question). The
    state and its version stay as they are: the buttons just shown remain valid.
    """
    touched = utcnow()
    await session.execute(
        update(Conversation)
        .where(Conversation.id == row.id)
        .values(updated_at=touched)
        .execution_options(synchronize_session=False)
    )


__all__ = [
    "ConcurrentUpdateError",
    "FlowContext",
    "Turn",
    "active_flow",
    "flows_for",
    "handle_event",
    "open_flow",
    "school_today",
]
