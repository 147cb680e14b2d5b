"""Every kind of outbox message, in one place: the registry every writer uses.

A service that writes an `Outbox` row passes one of these (the writers' ``kind`` parameters are
typed `OutboxKind`, so mypy refuses a bare string), and the outbox worker has a message for
each (`bot.outbox.messages`). `tests/bot/test_outbox_kinds.py` checks both ends: no writer uses
a string literal as a kind, every member has a message that renders in every language, and the
rows the main journeys write all have one.

A new kind is added here, with its message in `bot/outbox/messages.py` (English source text,
then the catalogs), in the same change as its writer.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    """What an outbox row announces; the value is stored in ``outbox.kind`` and in dedup keys."""

    #: Care coordinators: a new referral in the queue (`services.referrals.submission`).
    REFERRAL_NEW = "referral.new"
    #: The mentor who referred: the referral was accepted (`services.referrals.decisions`).
    REFERRAL_ACCEPTED = "referral.accepted"
    #: The mentor who referred: the referral was declined; the reason is read in the chat.
    REFERRAL_DECLINED = "referral.declined"
    #: Each parent of the student: accepted, please book the intake meeting.
    REFERRAL_ACCEPTED_PARENT = "referral.accepted_parent"
    #: A student of 18 or older: accepted, please book the intake meeting yourself (they hold
    #: a parent's booking rights for themself: `services.appointments.access.relations_to`).
    REFERRAL_ACCEPTED_ADULT = "referral.accepted_adult"
    #: The mentor who sent a duplicate referral: it was merged into the student's open referral
    #: or trajectory, its content kept there (`services.referrals.merging`).
    REFERRAL_MERGED = "referral.merged"
    #: The mentor who referred: the care team (ZAT) decided on the referral; the outcome is
    #: read in the chat (`services.referrals.care_team`).
    REFERRAL_CARE_TEAM = "referral.care_team"
    #: The student: please give your help question in your own words, in the chat
    #: (`services.referrals.student_voice`; issue 15).
    STUDENT_VOICE_ASK = "referral.student_voice"
    #: Care coordinators: someone blocked the bot (`services.outbox.store.mark_unreachable`).
    PERSON_UNREACHABLE = "person.unreachable"
    #: Care coordinators: someone's e-mail address was refused or bounced
    #: (`services.outbox.store.mark_unreachable` for e-mail, `record_email_bounce`).
    PERSON_EMAIL_UNREACHABLE = "person.email_unreachable"
    #: A respondent: the exit questionnaire, and its reminders (`services.surveys.invitations`).
    SURVEY_INVITE = "survey.invite"
    SURVEY_REMINDER = "survey.reminder"
    #: Care coordinators: an exit questionnaire was answered (`services.surveys.completion`).
    SURVEY_COMPLETED = "survey.completed"
    #: Appointments (`services.appointments.notices`): the mentor's intake question, the intake
    #: cancelled because the mentor cannot come, reminders, calendar files, cancellations.
    APPOINTMENT_MENTOR_CONFIRM = "appointment.mentor_confirm"
    APPOINTMENT_MENTOR_DECLINED = "appointment.mentor_declined"
    APPOINTMENT_REMINDER = "appointment.reminder"
    APPOINTMENT_CALENDAR = "appointment.calendar"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    #: The teacher whose lesson a student leaves for a time-out (`services.appointments.
    #: teacher_notice`): the times only; who it is shows in the chat.
    TIMEOUT_TEACHER = "appointment.timeout_teacher"
    #: Care coordinators: a time-out request; the student: its decision.
    TIMEOUT_REQUESTED = "timeout.requested"
    TIMEOUT_DECIDED = "timeout.decided"
    #: The student, each parent and each mentor: the trajectory is active, its intake report
    #: (goals, agreements, dates, contacts) can be read in the chat
    #: (`services.trajectories.intake_report`).
    INTAKE_REPORT = "trajectory.intake_report"
    #: A person without Telegram (a parent with only an e-mail address): their personal
    #: invitation to the web chat, sent by e-mail with the link of that invite
    #: (`services.outbox.invitations`, `trajectbot invite --send`).
    PERSON_INVITATION = "person.invitation"
    #: A student who turned 18 (with a parent linked): you decide whether your parents still
    #: see your support; the button opens the question (`services.privacy.parents_access`).
    PARENTS_ACCESS_ASK = "person.parents_access"


#: The kinds resent after an *uncertain* attempt (a read timeout after the request went out, a
#: worker killed after handing the row over): their loss would stall the process or send
#: someone the wrong way, and nothing else reaches the person in time. Every kind is in exactly
#: one of these two sets (`tests/bot/test_outbox_leases.py`); the reason for each is in
#: docs/operations.md ("Delivery guarantee").
RESEND_WHEN_UNCERTAIN: frozenset[OutboxKind] = frozenset(
    {
        # The parents must book the intake; without this notice the trajectory stalls.
        OutboxKind.REFERRAL_ACCEPTED_PARENT,
        OutboxKind.REFERRAL_ACCEPTED_ADULT,
        # The intake waits for the mentor's answer; answering either copy works once.
        OutboxKind.APPOINTMENT_MENTOR_CONFIRM,
        OutboxKind.APPOINTMENT_MENTOR_DECLINED,
        # Otherwise someone comes to school for nothing.
        OutboxKind.APPOINTMENT_CANCELLED,
        # Time-critical: a student leaves a lesson now.
        OutboxKind.TIMEOUT_TEACHER,
        OutboxKind.TIMEOUT_REQUESTED,
        OutboxKind.TIMEOUT_DECIDED,
    }
)
#: The kinds *not* resent after an uncertain attempt (status ``uncertain``, for an operator):
#: another path reaches the person anyway, so a duplicate is the likelier harm. The queue and
#: the web show new referrals, answered questionnaires and unreachable people; the mentor's
#: "My referrals" shows the decision; every appointment has two reminders and a calendar file
#: that carry the same time; a questionnaire invitation is followed by two reminders with the
#: same button; the intake report is in the chat menu; a second invitation e-mail carries a
#: fresh token, which kills the link in the first one.
HOLD_WHEN_UNCERTAIN: frozenset[OutboxKind] = frozenset(
    {
        OutboxKind.REFERRAL_NEW,
        OutboxKind.REFERRAL_ACCEPTED,
        OutboxKind.REFERRAL_DECLINED,
        OutboxKind.REFERRAL_MERGED,
        OutboxKind.REFERRAL_CARE_TEAM,
        # The student's own help question: the referral page shows it unanswered, and its
        # button works once; a second ask in a row is noise.
        OutboxKind.STUDENT_VOICE_ASK,
        OutboxKind.PERSON_UNREACHABLE,
        OutboxKind.PERSON_EMAIL_UNREACHABLE,
        OutboxKind.SURVEY_INVITE,
        OutboxKind.SURVEY_REMINDER,
        OutboxKind.SURVEY_COMPLETED,
        OutboxKind.APPOINTMENT_REMINDER,
        OutboxKind.APPOINTMENT_CALENDAR,
        OutboxKind.INTAKE_REPORT,
        OutboxKind.PERSON_INVITATION,
        # The question is first in the student's chat menu until answered.
        OutboxKind.PARENTS_ACCESS_ASK,
    }
)


def resend_when_uncertain(kind: str) -> bool:
    """Whether a row of ``kind`` is sent again after an attempt whose outcome is unknown.

    An unknown kind (a row written by a newer version) is resent: losing it is the worse
    mistake.
    """
    return kind not in HOLD_WHEN_UNCERTAIN


__all__ = ["HOLD_WHEN_UNCERTAIN", "RESEND_WHEN_UNCERTAIN", "OutboxKind", "resend_when_uncertain"]
