"""What each flow needs from the database: who may use it, its context, what completing writes.

The engine knows flows as pure data; this table connects each one to storage. Adding a flow
means adding a binding here and its definition in `dialogs.flows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, FlowContext, Option
from dialogs.flows.queue import DECLINE, NOTE, QUEUE_ITEM
from dialogs.flows.verwijzing import MENTEES, VERWIJZING
from dialogs.text import Text
from storage.models import Person, Role, SupportKind, Urgency, Weekday
from storage.people import mentees_of
from storage.queue_actions import add_note_in_transaction, decline_in_transaction
from storage.referrals import ReferralDraft, submit_referral


class ContextBuilder(Protocol):
    """Builds what the engine may know for one person (their mentees, say)."""

    async def __call__(
        self, *, session: AsyncSession, person: Person, today: date
    ) -> FlowContext: ...


class Completion(Protocol):
    """Writes a confirmed flow's result inside the caller's transaction."""

    async def __call__(
        self, *, session: AsyncSession, person: Person, answers: Answers, now: datetime
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class FlowBinding:
    """The storage side of one flow: who may use it, its context, what confirming writes.

    ``in_menu`` is False for flows that start from an item's own button (declining a
    referral), never from the main menu.
    """

    roles: frozenset[Role]
    context: ContextBuilder
    complete: Completion
    in_menu: bool = True


async def _referral_context(*, session: AsyncSession, person: Person, today: date) -> FlowContext:
    mentees = await mentees_of(session=session, mentor=person)
    options = tuple(
        Option(
            str(s.id),
            Text.raw(f"{s.display_name} ({s.group_name})" if s.group_name else s.display_name),
        )
        for s in mentees
    )
    return FlowContext(today=today, choices=MappingProxyType({MENTEES: options}))


def referral_draft(answers: Answers, *, language: str) -> ReferralDraft:
    """The engine's verwijzing answers as the draft `submit_referral` validates again."""

    def text(key: str) -> str | None:
        value = answers.get(key)
        return value if isinstance(value, str) else None

    def codes(key: str) -> list[str]:
        value = answers.get(key)
        return value if isinstance(value, list) else []

    return ReferralDraft(
        student_id=int(str(answers["student_id"])),
        help_question_student=str(answers["help_question_student"]),
        help_question_teacher=str(answers["help_question_teacher"]),
        tried=str(answers["tried"]),
        works_at_home=text("works_at_home"),
        works_at_school=text("works_at_school"),
        urgency=Urgency(str(answers["urgency"])),
        parents_informed=answers["parents_informed"] is True,
        parents_not_informed_reason=text("parents_not_informed_reason"),
        support=tuple(SupportKind(code) for code in codes("support")),
        intake_from=date.fromisoformat(str(answers["intake_from"])),
        intake_days=tuple(Weekday(code) for code in codes("intake_days")),
        text_language=language,
    )


async def _submit_referral(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    draft = referral_draft(answers, language=person.language)
    await submit_referral(session=session, mentor=person, draft=draft, now=now)


async def _plain_context(*, session: AsyncSession, person: Person, today: date) -> FlowContext:
    del session, person  # these flows need nothing but the date
    return FlowContext(today=today)


async def _decline(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    await decline_in_transaction(
        session=session,
        actor=person,
        queue_item_id=int(str(answers[QUEUE_ITEM])),
        reason=str(answers["reason"]),
        now=now,
    )


async def _note(*, session: AsyncSession, person: Person, answers: Answers, now: datetime) -> None:
    await add_note_in_transaction(
        session=session,
        actor=person,
        queue_item_id=int(str(answers[QUEUE_ITEM])),
        text=str(answers["text"]),
        now=now,
    )


_CARE = frozenset({Role.CARE_COORDINATOR})
BINDINGS: MappingProxyType[str, FlowBinding] = MappingProxyType(
    {
        VERWIJZING.id: FlowBinding(
            roles=frozenset({Role.MENTOR}), context=_referral_context, complete=_submit_referral
        ),
        DECLINE.id: FlowBinding(
            roles=_CARE, context=_plain_context, complete=_decline, in_menu=False
        ),
        NOTE.id: FlowBinding(roles=_CARE, context=_plain_context, complete=_note, in_menu=False),
    }
)


def binding_for(flow_id: str) -> FlowBinding:
    """The binding of ``flow_id`` (KeyError when the flow has none)."""
    return BINDINGS[flow_id]
