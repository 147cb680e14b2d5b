"""The exit questionnaire in storage: invitations on closing, answering through the runtime,
resume, used and expired invitations, reminders, personal links, the queue item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action
from dialogs.flows.exit_survey import EXIT_PARENT, SURVEY_INVITATION
from dialogs.i18n import Catalogs
from dialogs.render import render_reply
from dialogs.replies import ReplyKind
from dialogs.state import Status
from services.appointments.closing import close_trajectory
from services.conversations.runtime import Turn, handle_event
from services.conversations.survey_chat import invitations_to_offer, open_survey, resume_survey
from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.outbox.store import TOO_LATE, claim_due, mark_sent
from services.queue.listing import list_queue
from services.surveys.completion import SURVEY_COMPLETED
from services.surveys.invitations import (
    SURVEY_INVITE,
    SURVEY_REMINDER,
    SURVEY_TTL,
    SurveyUnavailable,
    SurveyUnavailableReason,
    create_invitations,
)
from services.surveys.links import issue_survey_link, redeem_survey_token
from services.surveys.results import close_survey_item, open_survey_result
from storage.models import (
    AuditLog,
    Conversation,
    Guardianship,
    Outbox,
    OutboxStatus,
    QueueItem,
    QueueKind,
    QueueStatus,
    RespondentType,
    Role,
    School,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
)
from tests.support.factories import CLOSING, NOW, add_mentorship, add_person, add_trajectory
from tests.support.survey_world import Respondent, button, invitation_of, survey_world
from tests.support.units import unit

EN = Catalogs().get("en")
SCALE = ("4", "5", "na", "2")


def _texts(turn: Turn) -> str:
    return "\n".join(render_reply(reply, EN).text for reply in turn.replies)


async def _answers(
    factory: async_sessionmaker[AsyncSession], invitation_id: int
) -> list[tuple[str, str | None, str | None]]:
    async with factory() as session:
        rows = await session.execute(
            select(SurveyAnswer.code, SurveyAnswer.value, SurveyAnswer.text)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.invitation_id == invitation_id)
            .order_by(SurveyAnswer.code)
        )
        return [(code, value, text) for code, value, text in rows]


async def _outbox(factory: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with factory() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


# -- invitations -----------------------------------------------------------------------------


async def test_closing_invites_student_each_parent_and_the_mentor_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory)
    async with session_factory() as session:
        invitations = list(
            await session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id))
        )
    by_person = {i.respondent_id: i.respondent_type for i in invitations}
    assert by_person == {
        world.student.id: RespondentType.STUDENT,
        world.parents["ar"].id: RespondentType.PARENT,
        world.parents["uk"].id: RespondentType.PARENT,
        world.parents["nl"].id: RespondentType.PARENT,
        world.mentor.id: RespondentType.TEACHER,
    }
    assert all(i.created_at == NOW and i.expires_at == NOW + SURVEY_TTL for i in invitations)
    assert all(i.completed_at is None and i.token_hash is None for i in invitations)

    rows = await _outbox(session_factory)
    for invitation in invitations:
        mine = [r for r in rows if r.payload == {"invitation_id": invitation.id}]
        assert [(r.kind, r.next_attempt_at - NOW) for r in mine] == [
            (SURVEY_INVITE, timedelta(0)),
            (SURVEY_REMINDER, timedelta(days=3)),
            (SURVEY_REMINDER, timedelta(days=7)),
        ]
        assert all(r.recipient_id == invitation.respondent_id for r in mine)
        assert all(r.not_after == invitation.expires_at for r in mine)

    # Nobody is invited twice: not by a second close, not by running the step again.
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await unit(
                session,
                close_trajectory,
                actor=world.zoco,
                trajectory_id=world.trajectory_id,
                closing=CLOSING,
                now=NOW,
            )
    async with session_factory() as session, session.begin():
        trajectory = await session.get_one(Trajectory, world.trajectory_id)
        again = await create_invitations(session=session, trajectory=trajectory, now=NOW)
    assert again == []
    async with session_factory() as session:
        assert len(list(await session.scalars(select(SurveyInvitation)))) == 5
    assert len(await _outbox(session_factory)) == len(rows)


async def test_a_reminder_due_after_expiry_is_not_planned(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=(), close=False)
    async with session_factory() as session, session.begin():
        trajectory = await session.get_one(Trajectory, world.trajectory_id)
        created = await create_invitations(
            session=session, trajectory=trajectory, now=NOW, ttl=timedelta(days=5)
        )
    assert len(created) == 2  # student and mentor
    kinds = [row.kind for row in await _outbox(session_factory)]
    assert kinds.count(SURVEY_REMINDER) == 2  # one each: +3 days; +7 would be after expiry


async def test_nothing_is_sent_after_the_invitation_expired(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    async with session_factory() as session, session.begin():
        parent = world.parents["nl"]
        parent.telegram_chat_id = 4242
        session.add(parent)
    # The worker was down for the whole three weeks: every message of the parent is due now.
    async with session_factory() as session, session.begin():
        claimed = await claim_due(session=session, now=NOW + SURVEY_TTL, limit=100)
    assert claimed == []
    rows = [r for r in await _outbox(session_factory) if r.kind.startswith("survey.")]
    assert len(rows) == 3 * 3  # student, parent, mentor: invitation and two reminders each
    assert {(r.status, r.last_error) for r in rows} == {(OutboxStatus.CANCELLED, TOO_LATE)}


# -- answering -------------------------------------------------------------------------------


async def test_parents_in_arabic_ukrainian_and_dutch_store_the_same_codes(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory)
    typed = {
        "ar": "شكرا على المساعدة",
        "uk": "Дякуємо за підтримку",
        "nl": "Dank voor de hulp",
    }
    stored = {}
    for language, parent in world.parents.items():
        invitation_id = await invitation_of(session_factory, parent)
        done = await Respondent(session_factory, parent, invitation_id).answer(
            SCALE, typed[language]
        )
        assert done.state.status is Status.COMPLETED
        stored[language] = await _answers(session_factory, invitation_id)

    codes = [(code, value) for code, value, _ in stored["nl"]]
    assert codes == [("P1", "4"), ("P2", "5"), ("P3", "na"), ("P4", "2"), ("P5", None)]
    for language in ("ar", "uk"):
        assert [(code, value) for code, value, _ in stored[language]] == codes
        assert stored[language][-1][2] == typed[language]  # free text as written
    async with session_factory() as session:
        languages = dict(
            (
                await session.execute(
                    select(SurveyAnswer.text, SurveyAnswer.text_language).where(
                        SurveyAnswer.text.is_not(None)
                    )
                )
            ).all()
        )
        responses = list(await session.scalars(select(SurveyResponse)))
    assert languages == {text: language for language, text in typed.items()}
    assert sorted(r.language for r in responses) == ["ar", "nl", "uk"]
    assert {(r.respondent_type, r.version) for r in responses} == {(RespondentType.PARENT, 1)}


async def test_the_open_question_can_be_skipped(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=())
    invitation_id = await invitation_of(session_factory, world.student)
    done = await Respondent(session_factory, world.student, invitation_id).answer(
        ("5", "4", "3", "5"), None
    )
    assert done.state.status is Status.COMPLETED
    assert await _answers(session_factory, invitation_id) == [
        ("S1", "5", None),
        ("S2", "4", None),
        ("S3", "3", None),
        ("S4", "5", None),
    ]


async def test_stopping_halfway_resumes_at_the_next_question(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("ar",))
    parent = world.parents["ar"]
    invitation_id = await invitation_of(session_factory, parent)
    first = Respondent(session_factory, parent, invitation_id)
    opened = await first.open()
    assert opened.replies[-1].step == "P1"
    await first.choose("4")
    await first.choose("5")

    # Later, a new session (another process, the same database): the third question.
    again = Respondent(session_factory, parent, invitation_id)
    resumed = await again.open()
    assert resumed.replies[0].kind is ReplyKind.NOTICE
    assert "Welcome back" in _texts(resumed)
    assert resumed.replies[-1].step == "P3"
    assert "Question 4 of 6" in _texts(resumed)
    assert dict(resumed.state.answers) == {
        SURVEY_INVITATION: str(invitation_id),
        "anonymous": False,
        "P1": "4",
        "P2": "5",
    }
    await again.choose("3")
    await again.choose("4")
    await again.skip()
    done = await again.confirm()
    assert done.state.status is Status.COMPLETED
    assert [(c, v) for c, v, _ in await _answers(session_factory, invitation_id)] == [
        ("P1", "4"),
        ("P2", "5"),
        ("P3", "3"),
        ("P4", "4"),
    ]


async def test_the_menu_continue_resumes_the_same_invitation(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("uk",))
    parent = world.parents["uk"]
    invitation_id = await invitation_of(session_factory, parent)
    respondent = Respondent(session_factory, parent, invitation_id)
    await respondent.open()
    await respondent.choose("2")
    async with session_factory() as session, session.begin():
        turn = await resume_survey(session=session, person=parent, flow_id=EXIT_PARENT.id, now=NOW)
    assert turn.replies[-1].step == "P2"
    async with session_factory() as session:
        # The invitation in progress is offered as "Continue", not a second time.
        assert await invitations_to_offer(session=session, person=parent, now=NOW) == []


async def test_progress_shows_the_time_left_and_whose_support_it_is(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    parent = world.parents["nl"]
    respondent = Respondent(session_factory, parent, await invitation_of(session_factory, parent))
    first = _texts(await respondent.open(anonymous=None))
    assert "Question 1 of 6" in first
    assert "Do you want to answer anonymously?" in first
    assert "About 3 minutes left." in first
    # "How much do you agree" goes with the first statement, not under the yes/no question.
    assert "How much do you agree" not in first
    statement = _texts(await respondent.choose_anonymity(False))
    assert "The support for Sanne at the support room has ended." in statement
    assert "How much do you agree with each sentence?" in statement
    assert "About 2 minutes left." in statement
    await respondent.choose("4")
    await respondent.choose("4")
    third = _texts(await respondent.choose("4"))
    assert "About 1 minute left." in third
    assert "Sanne" not in third.split("Question 5 of 6")[1]


async def test_a_used_invitation_is_answered_kindly(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("ar",))
    parent = world.parents["ar"]
    invitation_id = await invitation_of(session_factory, parent)
    await Respondent(session_factory, parent, invitation_id).answer(SCALE, None)
    with pytest.raises(SurveyUnavailable) as refused:
        await Respondent(session_factory, parent, invitation_id).open()
    assert refused.value.kind is SurveyUnavailableReason.USED
    assert (
        EN.render(refused.value.reason)
        == "You have already answered this questionnaire. Thank you!"
    )
    async with session_factory() as session:
        assert len(list(await session.scalars(select(SurveyResponse)))) == 1


async def test_an_expired_invitation_is_answered_kindly(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("uk",))
    parent = world.parents["uk"]
    invitation_id = await invitation_of(session_factory, parent)
    late = Respondent(session_factory, parent, invitation_id, now=NOW + SURVEY_TTL)
    with pytest.raises(SurveyUnavailable) as refused:
        await late.open()
    assert refused.value.kind is SurveyUnavailableReason.EXPIRED
    # NOW is Monday 2 March 2026; 21 days later is Monday 23 March.
    assert EN.render(refused.value.reason) == (
        "This questionnaire has closed: answers were possible until Monday, March 23. "
        "Thank you all the same."
    )


async def test_expiry_while_answering_refuses_sending_and_ends_the_run(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    parent = world.parents["nl"]
    invitation_id = await invitation_of(session_factory, parent)
    early = Respondent(session_factory, parent, invitation_id)
    await early.open()
    for code in SCALE:
        await early.choose(code)
    summary = await early.skip()
    async with session_factory() as session, session.begin():
        refused = await handle_event(
            session=session,
            person=parent,
            flow_id=EXIT_PARENT.id,
            event=button(summary, Action.CONFIRM),
            now=NOW + SURVEY_TTL,
        )
    assert refused.state.status is Status.ACTIVE  # the answers stay; nothing stored
    assert "This questionnaire has closed" in _texts(refused)
    async with session_factory() as session:
        assert list(await session.scalars(select(SurveyResponse))) == []
    async with session_factory() as session, session.begin():
        # Continuing later ends the run that can no longer be sent, with the same reason.
        with pytest.raises(SurveyUnavailable):
            await resume_survey(
                session=session, person=parent, flow_id=EXIT_PARENT.id, now=NOW + SURVEY_TTL
            )
    async with session_factory() as session, session.begin():
        with pytest.raises(SurveyUnavailable):
            await resume_survey(session=session, person=parent, flow_id=EXIT_PARENT.id, now=NOW)


async def test_someone_elses_invitation_is_unknown(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("ar", "uk"))
    other = await invitation_of(session_factory, world.parents["uk"])
    with pytest.raises(SurveyUnavailable) as refused:
        await Respondent(session_factory, world.parents["ar"], other).open()
    assert refused.value.kind is SurveyUnavailableReason.UNKNOWN
    # Nor can a forged preset sneak it in at the end: the completion checks again.
    ar = world.parents["ar"]
    mine = Respondent(session_factory, ar, await invitation_of(session_factory, ar))
    await mine.open()
    async with session_factory() as session, session.begin():
        row = await session.scalar(select(Conversation).where(Conversation.person_id == ar.id))
        assert row is not None
        row.state = {
            **row.state,
            "answers": {**row.state["answers"], SURVEY_INVITATION: str(other)},
        }
    for code in SCALE:
        await mine.choose(code)
    await mine.skip()
    refused_turn = await mine.confirm()
    assert refused_turn.state.status is Status.ACTIVE
    assert "This questionnaire is not available to you." in _texts(refused_turn)
    async with session_factory() as session:
        assert list(await session.scalars(select(SurveyResponse))) == []


async def test_a_teacher_cannot_answer_with_a_parent_invitation(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    parent_invitation = await invitation_of(session_factory, world.parents["nl"])
    with pytest.raises(SurveyUnavailable):
        await Respondent(session_factory, world.mentor, parent_invitation).open()


# -- completion: reminders, queue, notification ----------------------------------------------


async def test_completion_withdraws_the_reminders_and_they_are_never_claimed(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("ar", "uk"))
    async with session_factory() as session, session.begin():
        for number, person in enumerate([*world.parents.values(), world.zoco], start=1):
            person.telegram_chat_id = 5000 + number
            session.add(person)
    ar, uk = world.parents["ar"], world.parents["uk"]
    ar_invitation = await invitation_of(session_factory, ar)
    uk_invitation = await invitation_of(session_factory, uk)
    async with session_factory() as session, session.begin():  # the invitations go out
        sent = await claim_due(session=session, now=NOW, limit=100)
        for message in sent:  # and are delivered (a claim left open would be reclaimed)
            assert await mark_sent(session=session, outbox_id=message.outbox_id, now=NOW)
    assert {m.recipient_id for m in sent if m.kind == SURVEY_INVITE} >= {ar.id, uk.id}

    await Respondent(session_factory, ar, ar_invitation, now=NOW + timedelta(days=1)).answer(
        SCALE, None
    )
    rows = await _outbox(session_factory)
    ar_reminders = [
        r for r in rows if r.kind == SURVEY_REMINDER and r.payload["invitation_id"] == ar_invitation
    ]
    assert [r.status for r in ar_reminders] == [OutboxStatus.CANCELLED] * 2

    async with session_factory() as session, session.begin():
        later = await claim_due(session=session, now=NOW + timedelta(days=8), limit=100)
    reminded = {
        (m.recipient_id, m.payload["invitation_id"]) for m in later if m.kind == SURVEY_REMINDER
    }
    assert (uk.id, uk_invitation) in reminded  # the other parent still gets both reminders
    assert all(invitation != ar_invitation for _, invitation in reminded)
    assert sum(1 for r, _ in reminded if r == uk.id) == 1  # one row each (+3, +7 due by day 8)
    assert len([m for m in later if m.payload.get("invitation_id") == uk_invitation]) == 2


async def test_completion_lands_in_the_queue_and_tells_the_coordinator_without_names(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("ar",))
    parent = world.parents["ar"]
    invitation_id = await invitation_of(session_factory, parent)
    await Respondent(session_factory, parent, invitation_id).answer(SCALE, "شكرا")
    async with session_factory() as session:
        response = await session.scalar(select(SurveyResponse))
        item = await session.scalar(
            select(QueueItem).where(QueueItem.kind == QueueKind.EXIT_SURVEY)
        )
        invitation = await session.get_one(SurveyInvitation, invitation_id)
        told = list(await session.scalars(select(Outbox).where(Outbox.kind == SURVEY_COMPLETED)))
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "survey.complete"))
    assert response is not None
    assert item is not None
    assert audit is not None
    assert invitation.completed_at == NOW
    assert item.survey_response_id == response.id
    assert item.status is QueueStatus.NEW
    assert [(o.recipient_id, o.payload) for o in told] == [
        (world.zoco.id, {"queue_item_id": item.id, "survey_response_id": response.id})
    ]
    assert "شكرا" not in str(audit.details)

    async with session_factory() as session:
        entries = await run_unit_of_work(
            session, lambda s: list_queue(session=s, viewer=world.zoco)
        )
    survey_entries = [e for e in entries if e.kind is QueueKind.EXIT_SURVEY]
    assert [
        (e.queue_item_id, e.student_name, e.group_name, e.respondent_type) for e in survey_entries
    ] == [(item.id, "Sanne Veldkamp", "3B", RespondentType.PARENT)]

    async with session_factory() as session:
        view = await unit(
            session, open_survey_result, viewer=world.zoco, queue_item_id=item.id, now=NOW
        )
    assert view.respondent_type is RespondentType.PARENT
    assert view.respondent_name == parent.display_name
    assert view.student_name == "Sanne Veldkamp"
    assert view.language == "ar"
    assert [(a.code, a.value, a.text, a.text_language) for a in view.answers] == [
        ("P1", "4", None, None),
        ("P2", "5", None, None),
        ("P3", "na", None, None),
        ("P4", "2", None, None),
        ("P5", None, "شكرا", "ar"),
    ]

    # Reading the answers was the item's step: it resolved itself (issue 11), so marking it
    # handled afterwards is refused as done already.
    assert view.status is QueueStatus.CLOSED
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await unit(session, close_survey_item, actor=world.zoco, queue_item_id=item.id, now=NOW)


async def test_only_the_schools_coordinator_reads_a_result(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    other = await survey_world(session_factory, languages=(), school_code="havo-zuid")
    parent = world.parents["nl"]
    await Respondent(session_factory, parent, await invitation_of(session_factory, parent)).answer(
        SCALE, None
    )
    async with session_factory() as session:
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.kind == QueueKind.EXIT_SURVEY)
        )
    assert item_id is not None
    for intruder in (other.zoco, world.mentor, parent):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    open_survey_result,
                    viewer=intruder,
                    queue_item_id=item_id,
                    now=NOW,
                )
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    close_survey_item,
                    actor=intruder,
                    queue_item_id=item_id,
                    now=NOW,
                )


async def test_another_invitation_in_progress_is_finished_first(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",))
    parent = world.parents["nl"]
    first_id = await invitation_of(session_factory, parent)
    # The same parent's second child finishes a trajectory too.
    async with session_factory() as session, session.begin():
        school = await session.get_one(School, parent.school_id)
        sibling = await add_person(session, school, "s2", Role.STUDENT, given_name="Tom")
        session.add(Guardianship(school_id=school.id, parent_id=parent.id, student_id=sibling.id))
        await add_mentorship(session, world.mentor, sibling)
        trajectory = await add_trajectory(session, world.mentor, sibling)
    async with session_factory() as session:
        await unit(
            session,
            close_trajectory,
            actor=world.zoco,
            trajectory_id=trajectory.id,
            closing=CLOSING,
            now=NOW,
        )
    async with session_factory() as session:
        second_id = await session.scalar(
            select(SurveyInvitation.id).where(
                SurveyInvitation.respondent_id == parent.id, SurveyInvitation.id != first_id
            )
        )
    assert second_id is not None

    first = Respondent(session_factory, parent, first_id)
    await first.open()
    await first.choose("4")
    async with session_factory() as session:
        offered = await invitations_to_offer(session=session, person=parent, now=NOW)
    assert [(o.invitation_id, EN.render(o.label)) for o in offered] == [
        (second_id, "Exit questionnaire: Tom")
    ]
    async with session_factory() as session, session.begin():
        turn = await open_survey(session=session, person=parent, invitation_id=second_id, now=NOW)
    assert "Please finish that one first" in _texts(turn)
    assert turn.state.answers[SURVEY_INVITATION] == str(first_id)
    assert turn.state.answers["P1"] == "4"  # nothing lost


# -- personal links (web chat) ---------------------------------------------------------------


async def test_a_personal_link_opens_only_its_invitation(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("uk",))
    parent = world.parents["uk"]
    invitation_id = await invitation_of(session_factory, parent)
    async with session_factory() as session, session.begin():
        with pytest.raises(NotAllowed):
            await issue_survey_link(
                session=session, actor=world.mentor, invitation_id=invitation_id, now=NOW
            )
    async with session_factory() as session, session.begin():
        old = await issue_survey_link(
            session=session, actor=world.zoco, invitation_id=invitation_id, now=NOW
        )
    async with session_factory() as session, session.begin():
        token = await issue_survey_link(
            session=session, actor=world.zoco, invitation_id=invitation_id, now=NOW
        )
    async with session_factory() as session:
        stored = await session.get_one(SurveyInvitation, invitation_id)
        assert stored.token_hash is not None
        assert token not in stored.token_hash
        link = await redeem_survey_token(session=session, token=token, now=NOW)
        assert (link.invitation.id, link.respondent.id) == (invitation_id, parent.id)
        for bad in (old, "nonsense", "x" * 500, ""):  # a new link replaces the old one
            with pytest.raises(SurveyUnavailable) as unknown:
                await redeem_survey_token(session=session, token=bad, now=NOW)
            assert unknown.value.kind is SurveyUnavailableReason.UNKNOWN
        with pytest.raises(SurveyUnavailable) as expired:
            await redeem_survey_token(session=session, token=token, now=NOW + SURVEY_TTL)
        assert expired.value.kind is SurveyUnavailableReason.EXPIRED

    await Respondent(session_factory, parent, invitation_id).answer(SCALE, None)
    async with session_factory() as session:
        with pytest.raises(SurveyUnavailable) as used:
            await redeem_survey_token(session=session, token=token, now=NOW)
    assert used.value.kind is SurveyUnavailableReason.USED
    async with session_factory() as session, session.begin():
        with pytest.raises(SurveyUnavailable):
            await issue_survey_link(
                session=session, actor=world.zoco, invitation_id=invitation_id, now=NOW
            )
