"""The text of each outbox notification, in the recipient's language.

A notification shows on a lock screen, so it names no student and carries no care details:
it says that something is waiting and offers a button; the details appear inside the chat,
after the Telegram layer has identified who pressed it (domain.md, "Lock screens"). The payload
holds ids only, and the ids go into button payloads, never into the text.

The same texts go by e-mail (`bot.outbox.email_sender`) to a person whose channel is e-mail:
then the message also has a subject (per kind, translated) and, instead of buttons, a link:
a one-time web chat link (`services.outbox.channels.WEB_CHAT_LINK_KINDS`, labelled like the
Telegram button) or, for staff notices, the staff web app's login page. A notice's sentence
that tells the reader what to press in Telegram ("Press the button to …", "Open this chat …")
is a msgid of its own (`_Content.prompt`): Telegram shows it after the text, the e-mail leaves
it out and ends with the link line instead (one source text per notice, no e-mail copies).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialogs.flows.afspraken import BOOK as BOOK_APPOINTMENT
from dialogs.flows.afspraken import kind_label
from dialogs.flows.parents_access import PARENTS_ACCESS
from dialogs.i18n import SCHOOL_TIMEZONE, Catalogs
from dialogs.text import N_, Text
from services.appointments.calendar import calendar_file
from services.appointments.notices import (
    APPOINTMENT_CALENDAR,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_MENTOR_CONFIRM,
    APPOINTMENT_MENTOR_DECLINED,
    APPOINTMENT_REMINDER,
    REMINDER_DAY,
    TIMEOUT_DECIDED,
    TIMEOUT_REQUESTED,
    TIMEOUT_TEACHER,
    TRAJECTORY_CLOSED,
    AppointmentNotice,
    CalendarNotice,
    parse_appointment_payload,
    parse_calendar_payload,
)
from services.outbox.channels import WEB_CHAT_LINK_KINDS, Channel, chat_target, staff_page
from services.outbox.kinds import OutboxKind
from services.outbox.store import ClaimedMessage
from services.referrals.rules import care_team_outcome
from storage.models import CareTeamDecision

#: Button payload that opens one queue item; routed by the Telegram layer, which checks that
#: the presser may see it (the payload carries no authority).
OPEN_QUEUE_ITEM = "q:open:{queue_item_id}"
#: Opens the exit questionnaire of one invitation (`bot.telegram.callbacks.SurveyCallback`);
#: the Telegram layer checks it is the presser's own, unused and not expired.
OPEN_SURVEY = "sv:open:{invitation_id}"
#: Opens one exit-questionnaire result (`bot.telegram.callbacks.SurveyItemCallback`).
OPEN_SURVEY_ITEM = "qs:open:{queue_item_id}"


#: The mentor's answer about one intake (`bot.telegram.callbacks.AppointmentCallback`):
#: storage checks the presser is a mentor of the student and the version is still current.
MENTOR_ANSWER = "ap:{action}:{appointment_id}:{version}"
#: Shows the teacher which student a time-out notice is about (`AppointmentCallback`, action
#: ``teacher``): storage checks the presser is the teacher who was told.
TIMEOUT_WHO = "ap:teacher:{appointment_id}:{version}"
#: Opens one time-out request (`bot.telegram.callbacks.TimeoutRequestCallback`).
OPEN_TIMEOUT_REQUEST = "tr:open:{queue_item_id}"
#: Shows the decision on one referral to the mentor who sent it, with a decline's reason
#: (`bot.telegram.callbacks.ReferralCallback`); storage checks the presser sent it.
OPEN_REFERRAL_OUTCOME = "rf:show:{referral_id}"
#: Shows the intake report of one trajectory to its student, a parent or a mentor
#: (`bot.telegram.callbacks.IntakeReportCallback`); storage checks the presser may read it.
OPEN_INTAKE_REPORT = "ir:show:{trajectory_id}"
#: Opens the student's own help question about one referral
#: (`bot.telegram.callbacks.StudentVoiceCallback`); storage checks the presser is its student.
OPEN_STUDENT_VOICE = "hv:open:{referral_id}"
#: Main-menu buttons (`bot.telegram.callbacks.MenuCallback`).
MY_APPOINTMENTS = "m:appointments:"
BOOK_AN_APPOINTMENT = f"m:flow:{BOOK_APPOINTMENT.id}"
ANSWER_PARENTS_ACCESS = f"m:flow:{PARENTS_ACCESS.id}"


#: Telegram's prompts that more than one notice shares (their translations must fit each).
OPEN_CHAT_TO_SEE = N_("Open this chat to see it.")
SEE_WHICH_STUDENT = N_("Press the button to see which student it is.")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the message (the text becomes its caption): an appointment's .ics."""

    filename: str
    data: bytes
    mime_type: str = "text/calendar"


@dataclass(frozen=True, slots=True)
class OutgoingButton:
    """One inline button: its label (rendered) and the payload sent back when pressed."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutgoingLink:
    """An e-mail's link: ``token`` a one-time web chat link's, None for the staff web app;
    ``then`` where the web chat goes once opened (``intake-confirm/<id>``, a
    `services.outbox.channels.ChatTarget`), or for the staff web app the page to show after
    logging in (``/queue/<id>``); None: the chat's menu, the staff start page."""

    label: str
    token: str | None = None
    then: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered message for one chat or one address; ``outbox_id`` is for the logs.

    Telegram: ``chat_id``, ``text``, ``buttons``, ``attachment``. E-mail: ``email``,
    ``subject``, ``text``, ``link``, ``attachment``.
    """

    outbox_id: int
    chat_id: int | None
    text: str
    buttons: tuple[OutgoingButton, ...] = ()
    attachment: Attachment | None = None
    channel: Channel = Channel.TELEGRAM
    email: str | None = None
    subject: str = ""
    link: OutgoingLink | None = None
    #: E-mail: the recipient's language (the HTML part's lang and direction) and the line
    #: that says why they get it.
    language: str = "nl"
    footer: str = ""


class UnknownMessageError(ValueError):
    """The row's kind has no text, or its payload lacks what the text needs."""


@dataclass(frozen=True, slots=True)
class _Content:
    text: Text
    buttons: tuple[tuple[Text, str], ...] = ()
    #: An appointment whose .ics goes with the message (its title in the reader's language).
    calendar: CalendarNotice | None = None
    #: The sentence that tells a Telegram reader what to press ("Press the button to …",
    #: "Open this chat …"), its own msgid: Telegram shows it after ``text`` (on a new line
    #: when ``prompt_on_new_line``), the e-mail leaves it out and ends with its link line.
    prompt: Text | None = None
    prompt_on_new_line: bool = False


def _referral_new(payload: Mapping[str, Any]) -> _Content:
    queue_item_id = _id(payload, "queue_item_id")
    return _Content(
        Text.of(N_("There is a new referral in your queue.")),
        ((Text.of(N_("Show the referral")), OPEN_QUEUE_ITEM.format(queue_item_id=queue_item_id)),),
        prompt=Text.of(OPEN_CHAT_TO_SEE),
    )


def _referral_accepted(payload: Mapping[str, Any]) -> _Content:
    referral_id = _id(payload, "referral_id")
    return _Content(
        Text.of(
            N_(
                "News about a referral you sent: it has been accepted.\n"
                "The next step is the intake meeting; you will be asked whether you can be "
                "there."
            )
        ),
        (
            (
                Text.of(N_("Show the decision")),
                OPEN_REFERRAL_OUTCOME.format(referral_id=referral_id),
            ),
        ),
        prompt=Text.of(SEE_WHICH_STUDENT),
    )


def _referral_declined(payload: Mapping[str, Any]) -> _Content:
    referral_id = _id(payload, "referral_id")
    return _Content(
        Text.of(N_("News about a referral you sent: it has not been accepted.")),
        (
            (
                Text.of(N_("Show the decision and the reason")),
                OPEN_REFERRAL_OUTCOME.format(referral_id=referral_id),
            ),
        ),
        prompt=Text.of(
            N_("Press the button to see which student it is and the care coordinator's reason.")
        ),
        prompt_on_new_line=True,
    )


def _referral_care_team(payload: Mapping[str, Any]) -> _Content:
    referral_id = _id(payload, "referral_id")
    try:
        decision: CareTeamDecision | None = CareTeamDecision(str(payload.get("decision")))
    except ValueError:
        decision = None
    news = (
        Text.of(N_("News about a referral you sent: the care team has discussed it."))
        if decision is None
        else Text.of(
            N_("News about a referral you sent: the care team has discussed it.\n{outcome}"),
            outcome=Text.of(care_team_outcome(decision).mentor_line),
        )
    )
    return _Content(
        news,
        (
            (
                Text.of(N_("Show the care team's outcome")),
                OPEN_REFERRAL_OUTCOME.format(referral_id=referral_id),
            ),
        ),
        prompt=Text.of(SEE_WHICH_STUDENT),
    )


def _referral_merged(payload: Mapping[str, Any]) -> _Content:
    referral_id = _id(payload, "referral_id")
    return _Content(
        Text.of(
            N_(
                "News about a referral you sent: the student already had an open referral or "
                "support, so the care coordinator has added yours to it. Nothing you wrote is "
                "lost."
            )
        ),
        (
            (
                Text.of(N_("Show the referral")),
                OPEN_REFERRAL_OUTCOME.format(referral_id=referral_id),
            ),
        ),
        prompt=Text.of(SEE_WHICH_STUDENT),
    )


def _referral_accepted_parent(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "referral_id")
    return _book_the_intake(
        N_(
            "News from the school about your child.\n"
            "Your child has been accepted for extra support at school. The first step is "
            "an intake meeting with you, your child, the mentor and a coach."
        )
    )


def _referral_accepted_adult(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "referral_id")
    return _book_the_intake(
        N_(
            "News from the school.\n"
            "You have been accepted for extra support at school. The first step is an "
            "intake meeting with you, your mentor and a coach; you can choose its time "
            "yourself."
        )
    )


def _book_the_intake(news: str) -> _Content:
    """The request to book the intake (to a parent, or to a student of 18 or older)."""
    return _Content(
        Text.of(news),
        ((Text.of(BOOK_APPOINTMENT.title), BOOK_AN_APPOINTMENT),),
        prompt=Text.of(N_("Press the button to choose a time.")),
    )


def _parents_access(payload: Mapping[str, Any]) -> _Content:
    # No care details: the question itself is asked in the chat (and offered first there).
    _id(payload, "person_id")
    return _Content(
        Text.of(
            N_(
                "You are 18 or older now, so you decide whether your parents or carers still "
                "see your support at school: your appointments, reports and the messages about "
                "them."
            )
        ),
        ((Text.of(N_("Answer the question")), ANSWER_PARENTS_ACCESS),),
        prompt=Text.of(N_("Press the button to answer; it takes a minute.")),
    )


def _person_unreachable(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "person_id")
    return _Content(
        Text.of(
            N_(
                "A message could not be delivered: someone has blocked the bot or left "
                "Telegram. Open the queue to see who."
            )
        )
    )


def _person_email_unreachable(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "person_id")
    return _Content(
        Text.of(
            N_(
                "An e-mail could not be delivered: someone's e-mail address was refused or "
                "no longer works. See who under “Contact details” in the web app, and ask "
                "for a new address."
            )
        )
    )


def _survey_invite(payload: Mapping[str, Any]) -> _Content:
    invitation_id = _id(payload, "invitation_id")
    return _Content(
        Text.of(
            N_(
                "The school invites you to a short questionnaire: five questions, about 2 "
                "minutes. Your answers help make the support better."
            )
        ),
        (
            (
                Text.of(N_("Start the questionnaire")),
                OPEN_SURVEY.format(invitation_id=invitation_id),
            ),
        ),
    )


def _survey_reminder(payload: Mapping[str, Any]) -> _Content:
    invitation_id = _id(payload, "invitation_id")
    return _Content(
        Text.of(
            N_(
                "A reminder: the school's short questionnaire is still open for you. "
                "It takes about 2 minutes."
            )
        ),
        (
            (
                Text.of(N_("Open the questionnaire")),
                OPEN_SURVEY.format(invitation_id=invitation_id),
            ),
        ),
    )


def _survey_completed(payload: Mapping[str, Any]) -> _Content:
    queue_item_id = _id(payload, "queue_item_id")
    return _Content(
        Text.of(N_("An exit questionnaire has been answered.")),
        (
            (
                Text.of(N_("Show the answers")),
                OPEN_SURVEY_ITEM.format(queue_item_id=queue_item_id),
            ),
        ),
        prompt=Text.of(N_("Open this chat to read it.")),
    )


def _appointment(payload: Mapping[str, Any]) -> AppointmentNotice:
    try:
        return parse_appointment_payload(payload)
    except ValueError as error:
        raise UnknownMessageError(str(error)) from error


def _mentor_confirm(payload: Mapping[str, Any]) -> _Content:
    notice = _appointment(payload)
    if notice.version is None:
        raise UnknownMessageError("payload lacks a version")
    ids = {"appointment_id": notice.appointment_id, "version": notice.version}
    return _Content(
        Text.of(
            N_(
                "You are asked to be at an intake meeting on {when}. Can you be there? The "
                "intake is only confirmed when you are."
            ),
            when=notice.starts_at,
        ),
        (
            (Text.of(N_("Yes, I will be there")), MENTOR_ANSWER.format(action="yes", **ids)),
            (Text.of(N_("No, I cannot come")), MENTOR_ANSWER.format(action="no", **ids)),
            (Text.of(N_("Which student?")), MENTOR_ANSWER.format(action="show", **ids)),
        ),
    )


def _mentor_declined(payload: Mapping[str, Any]) -> _Content:
    notice = _appointment(payload)
    return _Content(
        Text.of(
            N_(
                "The mentor cannot come to the intake meeting on {when}, so it has been "
                "cancelled. Please choose another time."
            ),
            when=notice.starts_at,
        ),
        ((Text.of(BOOK_APPOINTMENT.title), BOOK_AN_APPOINTMENT),),
    )


def _reminder(payload: Mapping[str, Any]) -> _Content:
    notice = _appointment(payload)
    if notice.when == REMINDER_DAY:
        text = Text.of(
            N_("A reminder: you have an appointment tomorrow, {when}."), when=notice.starts_at
        )
    else:
        start = notice.starts_at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None)
        text = Text.of(N_("A reminder: your appointment starts at {time}."), time=Text.raw(start))
    return _Content(text, ((Text.of(N_("My appointments")), MY_APPOINTMENTS),))


def _calendar(payload: Mapping[str, Any]) -> _Content:
    try:
        notice = parse_calendar_payload(payload)
    except ValueError as error:
        raise UnknownMessageError(str(error)) from error
    text = (
        Text.of(
            N_(
                "The appointment on {when} is cancelled. Open the calendar file to take it "
                "out of your calendar."
            ),
            when=notice.starts_at,
        )
        if notice.cancelled
        else Text.of(
            N_("Your appointment: {when}. Open the calendar file to put it in your calendar."),
            when=notice.starts_at,
        )
    )
    return _Content(text, calendar=notice)


def _cancelled(payload: Mapping[str, Any]) -> _Content:
    notice = _appointment(payload)
    text = (
        Text.of(
            N_("The appointment on {when} has been cancelled at short notice."),
            when=notice.starts_at,
        )
        if notice.late
        else Text.of(N_("The appointment on {when} has been cancelled."), when=notice.starts_at)
    )
    return _Content(text)


def _timeout_teacher(payload: Mapping[str, Any]) -> _Content:
    notice = _appointment(payload)
    if notice.ends_at is None or notice.version is None:
        raise UnknownMessageError("time-out notice lacks ends_at or version")
    end = notice.ends_at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None)
    return _Content(
        Text.of(
            N_("A student leaves your lesson for a time-out, with permission: {when} until {end}."),
            when=notice.starts_at,
            end=Text.raw(end),
        ),
        (
            (
                Text.of(N_("Who is it?")),
                TIMEOUT_WHO.format(appointment_id=notice.appointment_id, version=notice.version),
            ),
        ),
        prompt=Text.of(N_("Press the button to see who.")),
    )


def _timeout_requested(payload: Mapping[str, Any]) -> _Content:
    queue_item_id = _id(payload, "queue_item_id")
    return _Content(
        Text.of(N_("A time-out request is waiting for your decision.")),
        (
            (
                Text.of(N_("Show the request")),
                OPEN_TIMEOUT_REQUEST.format(queue_item_id=queue_item_id),
            ),
        ),
        prompt=Text.of(OPEN_CHAT_TO_SEE),
    )


def _timeout_decided(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "queue_item_id")
    if payload.get("approved") is True:
        return _Content(
            Text.of(N_("Your time-out request is approved. You find it in your appointments.")),
            ((Text.of(N_("My appointments")), MY_APPOINTMENTS),),
        )
    if payload.get("reason") == TRAJECTORY_CLOSED:
        return _Content(
            Text.of(
                N_(
                    "Your time-out request was not booked: your trajectory has been closed. "
                    "If you need support, talk to your mentor."
                )
            )
        )
    return _Content(
        Text.of(
            N_(
                "Your time-out request was not approved this time. If you need support, "
                "talk to your mentor or the coach."
            )
        )
    )


def _intake_report(payload: Mapping[str, Any]) -> _Content:
    # The notice shows on a lock screen: no name, no goals; the report itself (goals,
    # agreements, dates, contacts) is shown in the chat after the presser is identified.
    trajectory_id = _id(payload, "trajectory_id")
    return _Content(
        Text.of(
            N_(
                "The intake meeting has been held and the plan for the extra support at school "
                "is ready."
            )
        ),
        (
            (
                Text.of(N_("Show the intake report")),
                OPEN_INTAKE_REPORT.format(trajectory_id=trajectory_id),
            ),
        ),
        prompt=Text.of(
            N_(
                "Press the button to read the intake report: the goals, the agreements, the "
                "dates and who to contact."
            )
        ),
    )


def _student_voice(payload: Mapping[str, Any]) -> _Content:
    # No name, no care details (lock screens): the question itself is asked in the chat.
    referral_id = _id(payload, "referral_id")
    return _Content(
        Text.of(
            N_(
                "Your mentor has asked for extra support for you at school. We would like to "
                "hear from you, in your own words, what you would like help with."
            )
        ),
        (
            (
                Text.of(N_("Write my help question")),
                OPEN_STUDENT_VOICE.format(referral_id=referral_id),
            ),
        ),
        prompt=Text.of(N_("Press the button to answer; it takes a minute.")),
    )


def _person_invitation(payload: Mapping[str, Any]) -> _Content:
    # Sent by e-mail only (`services.outbox.store.claim_due`); the link is the row's own
    # invite, given a fresh token when the row is claimed.
    _id(payload, "invite_id")
    expires = payload.get("expires_at")
    try:
        until = datetime.fromisoformat(expires) if isinstance(expires, str) else None
    except ValueError:
        until = None
    if until is None or until.tzinfo is None:
        raise UnknownMessageError("payload lacks a valid expires_at")
    return _Content(
        Text.of(
            N_(
                "The school invites you to its chat about the extra support at school (the "
                "support room). In the chat you can book and move appointments, read the "
                "intake report and answer the school's questions, in your own language. It "
                "opens in the web browser: no app is needed.\n\n"
                "The link below is personal: it works once, until {date}. Please do not pass "
                "it on."
            ),
            date=until,
        )
    )


#: The message of every `OutboxKind` (tests/bot/test_outbox_kinds.py checks none is missing).
_BUILDERS: dict[str, Callable[[Mapping[str, Any]], _Content]] = {
    OutboxKind.REFERRAL_NEW: _referral_new,
    OutboxKind.REFERRAL_ACCEPTED: _referral_accepted,
    OutboxKind.REFERRAL_DECLINED: _referral_declined,
    OutboxKind.REFERRAL_ACCEPTED_PARENT: _referral_accepted_parent,
    OutboxKind.REFERRAL_ACCEPTED_ADULT: _referral_accepted_adult,
    OutboxKind.REFERRAL_MERGED: _referral_merged,
    OutboxKind.REFERRAL_CARE_TEAM: _referral_care_team,
    OutboxKind.SURVEY_INVITE: _survey_invite,
    OutboxKind.SURVEY_REMINDER: _survey_reminder,
    OutboxKind.SURVEY_COMPLETED: _survey_completed,
    OutboxKind.PERSON_UNREACHABLE: _person_unreachable,
    OutboxKind.PERSON_EMAIL_UNREACHABLE: _person_email_unreachable,
    APPOINTMENT_MENTOR_CONFIRM: _mentor_confirm,
    APPOINTMENT_MENTOR_DECLINED: _mentor_declined,
    APPOINTMENT_REMINDER: _reminder,
    APPOINTMENT_CALENDAR: _calendar,
    APPOINTMENT_CANCELLED: _cancelled,
    TIMEOUT_TEACHER: _timeout_teacher,
    TIMEOUT_REQUESTED: _timeout_requested,
    TIMEOUT_DECIDED: _timeout_decided,
    OutboxKind.INTAKE_REPORT: _intake_report,
    OutboxKind.PERSON_INVITATION: _person_invitation,
    OutboxKind.STUDENT_VOICE_ASK: _student_voice,
    OutboxKind.PARENTS_ACCESS_ASK: _parents_access,
}

#: The kinds this worker can send.
KINDS = frozenset(_BUILDERS)

#: The subject of each kind's e-mail: says what it is about, never who (like the text).
_SUBJECTS: dict[str, str] = {
    OutboxKind.REFERRAL_NEW: N_("A new referral in your queue"),
    OutboxKind.REFERRAL_ACCEPTED: N_("News about a referral you sent"),
    OutboxKind.REFERRAL_DECLINED: N_("News about a referral you sent"),
    OutboxKind.REFERRAL_MERGED: N_("News about a referral you sent"),
    OutboxKind.REFERRAL_CARE_TEAM: N_("News about a referral you sent"),
    OutboxKind.REFERRAL_ACCEPTED_PARENT: N_("Please choose a time for the intake meeting"),
    OutboxKind.REFERRAL_ACCEPTED_ADULT: N_("Please choose a time for the intake meeting"),
    OutboxKind.PERSON_UNREACHABLE: N_("A message could not be delivered"),
    OutboxKind.PERSON_EMAIL_UNREACHABLE: N_("An e-mail could not be delivered"),
    OutboxKind.SURVEY_INVITE: N_("A short questionnaire from the school"),
    OutboxKind.SURVEY_REMINDER: N_("Reminder: the school's short questionnaire"),
    OutboxKind.SURVEY_COMPLETED: N_("An exit questionnaire has been answered"),
    APPOINTMENT_MENTOR_CONFIRM: N_("Can you be at the intake meeting?"),
    APPOINTMENT_MENTOR_DECLINED: N_("The intake meeting has been cancelled"),
    APPOINTMENT_REMINDER: N_("Reminder of your appointment"),
    APPOINTMENT_CALENDAR: N_("Your appointment at school"),
    APPOINTMENT_CANCELLED: N_("An appointment has been cancelled"),
    TIMEOUT_TEACHER: N_("A student leaves your lesson for a time-out"),
    TIMEOUT_REQUESTED: N_("A time-out request is waiting"),
    TIMEOUT_DECIDED: N_("Your time-out request"),
    OutboxKind.INTAKE_REPORT: N_("The intake report is ready"),
    OutboxKind.PERSON_INVITATION: N_("Your personal link to the school's chat"),
    OutboxKind.STUDENT_VOICE_ASK: N_("Your help question"),
    OutboxKind.PARENTS_ACCESS_ASK: N_("You decide about your parents' access"),
}
#: The e-mail link's label for a notice without buttons in Telegram, or a staff notice.
STAFF_WEB_APP = N_("Log in to the web app")
OPEN_WEB_CHAT = N_("Open the chat")
#: Neutral (no "you" in Dutch: neither "je" nor "u"), because parents, students and staff
#: all get it (docs/glossary.md, Style).
EMAIL_FOOTER = N_(
    "This e-mail was sent automatically to the e-mail address the school has on file. "
    "Replies to it are not read: for questions, please contact the school."
)


def build_message(claimed: ClaimedMessage, catalogs: Catalogs) -> OutgoingMessage:
    """The message for ``claimed`` in the recipient's language (Dutch when unsupported).

    Raises `UnknownMessageError` for a kind without a text or a payload without its ids.
    """
    builder = _BUILDERS.get(claimed.kind)
    if builder is None:
        raise UnknownMessageError(f"no text for kind {claimed.kind!r}")
    content = builder(claimed.payload)
    catalog = catalogs.get(claimed.language)
    attachment = None
    if content.calendar is not None:
        entry = content.calendar
        data = calendar_file(
            entry,
            title=catalog.render(kind_label(entry.kind.value)),
            location=None,
            cancelled=entry.cancelled,
        )
        attachment = Attachment(f"appointment-{entry.appointment_id}.ics", data)
    text = catalog.render(content.text)
    if claimed.channel is Channel.EMAIL:
        # No button to press in an e-mail: its link line (`bot.outbox.email_sender`) says
        # what to open, so Telegram's prompt is left out.
        subject = email_subject(claimed.kind)
        return OutgoingMessage(
            outbox_id=claimed.outbox_id,
            chat_id=None,
            text=text,
            attachment=attachment,
            channel=Channel.EMAIL,
            email=claimed.email,
            subject=catalog.render(subject),
            link=_email_link(claimed, content, catalog.render),
            language=claimed.language,
            footer=catalog.render(Text.of(EMAIL_FOOTER)),
        )
    if content.prompt is not None:
        separator = "\n" if content.prompt_on_new_line else " "
        text = f"{text}{separator}{catalog.render(content.prompt)}"
    return OutgoingMessage(
        outbox_id=claimed.outbox_id,
        chat_id=claimed.chat_id,
        text=text,
        buttons=tuple(
            OutgoingButton(label=catalog.render(label), payload=payload)
            for label, payload in content.buttons
        ),
        attachment=attachment,
    )


def _email_link(
    claimed: ClaimedMessage, content: _Content, render: Callable[[Text], str]
) -> OutgoingLink | None:
    """The link an e-mail carries in place of the Telegram buttons (None: no link)."""
    if claimed.link_token is not None:
        label = content.buttons[0][0] if content.buttons else Text.of(OPEN_WEB_CHAT)
        if claimed.kind in _ANSWER_IN_CHAT:
            # A link labelled "Yes, I will be there" would promise an answer it does not give.
            label = Text.of(ANSWER_IN_CHAT)
        # Straight to the action of the notice's button (the report, the mentor's question,
        # the decision, who leaves the lesson), as Telegram shows it; else the chat's menu.
        return OutgoingLink(
            render(label), claimed.link_token, chat_target(claimed.kind, claimed.payload)
        )
    if claimed.kind in WEB_CHAT_LINK_KINDS:
        # A person without a role the web chat serves: nothing to open.
        return None
    if content.buttons or claimed.kind in _STAFF_NOTICES:
        # Staff log in to the web app; the page the notice is about comes after the login.
        return OutgoingLink(
            render(Text.of(STAFF_WEB_APP)), then=staff_page(claimed.kind, claimed.payload)
        )
    return None


#: Notices whose Telegram buttons are answers: the e-mail's link opens the question instead.
_ANSWER_IN_CHAT = frozenset({OutboxKind.APPOINTMENT_MENTOR_CONFIRM})
ANSWER_IN_CHAT = N_("Open the chat to answer")

#: Staff notices without a button in Telegram that still point to the web app by e-mail.
_STAFF_NOTICES = frozenset({OutboxKind.PERSON_UNREACHABLE, OutboxKind.PERSON_EMAIL_UNREACHABLE})


def message_texts(kind: str, payload: Mapping[str, Any]) -> tuple[Text, ...]:
    """The texts a message of ``kind`` is made of, before rendering: its text, then its
    buttons' labels (for the tests that check every kind in every language).

    Raises `UnknownMessageError` as `build_message` does.
    """
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnknownMessageError(f"no text for kind {kind!r}")
    content = builder(payload)
    return (content.text, *(label for label, _ in content.buttons))


def message_prompt(kind: str, payload: Mapping[str, Any]) -> Text | None:
    """The sentence Telegram adds to ``kind``'s text to say what to press (None: none); the
    e-mail leaves it out. Raises `UnknownMessageError` as `build_message` does."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnknownMessageError(f"no text for kind {kind!r}")
    return builder(payload).prompt


def email_subject(kind: str) -> Text:
    """The subject of a ``kind`` e-mail, before rendering (`UnknownMessageError` if none)."""
    subject = _SUBJECTS.get(kind)
    if subject is None:
        raise UnknownMessageError(f"no e-mail subject for kind {kind!r}")
    return Text.of(subject)


def _id(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    # bool is an int in Python; a JSON true is no id.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UnknownMessageError(f"payload lacks a valid {key}")
    return value
