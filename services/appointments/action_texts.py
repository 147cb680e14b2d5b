"""What a mentor and a teacher read after acting on an appointment notice, in any chat.

The outbox notice names nobody (lock screens); its action shows these texts once the person
is identified: in Telegram (`bot.telegram.handlers.appointments`) and in the web chat
(`web.routes.chat_actions`, for people who get the notice by e-mail). One source, so both
channels say the same. Pure: no session, no async.
"""

from __future__ import annotations

from dialogs.flows.afspraken import appointment_text
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.appointments.teacher_notice import TeacherTimeoutView
from services.appointments.views import AppointmentView
from storage.models import AppointmentKind

#: The mentor's answers to the intake question (the buttons in both channels).
YES_LABEL = N_("Yes, I will be there")
NO_LABEL = N_("No, I cannot come")

__all__ = [
    "NO_LABEL",
    "YES_LABEL",
    "intake_question_lines",
    "mentor_answer_lines",
    "teacher_timeout_lines",
    "upcoming_lines",
]


def intake_question_lines(view: AppointmentView) -> list[Text]:
    """The intake with the student's name (inside the chat only) and the question."""
    return [
        appointment_text(view.kind.value, view.starts_at, view.student_name),
        Text.of(N_("Can you be there? The intake is only confirmed when you are.")),
    ]


def mentor_answer_lines(view: AppointmentView, *, present: bool) -> list[Text]:
    """What the mentor reads once their answer is stored."""
    when = appointment_text(view.kind.value, view.starts_at, view.student_name)
    if present:
        return [
            when,
            Text.of(N_("Thank you. The intake is confirmed; everyone gets the calendar file.")),
        ]
    return [
        when,
        Text.of(
            N_(
                "Thank you for letting us know. The intake is cancelled and whoever booked "
                "it is asked to choose another time."
            )
        ),
    ]


def teacher_timeout_lines(view: TeacherTimeoutView) -> list[Text]:
    """Who leaves the teacher's lesson (first name and times, no reason)."""
    end = Text.raw(view.ends_at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None))
    student = Text.raw(view.student_given_name)
    if view.cancelled:
        return [
            Text.of(
                N_("The time-out of {student} on {when} was cancelled."),
                student=student,
                when=view.starts_at,
            )
        ]
    return [
        Text.of(
            N_("{student} is in the time-out room: {when} until {end}."),
            student=student,
            when=view.starts_at,
            end=end,
        )
    ]


def upcoming_lines(view: AppointmentView, *, viewer_id: int) -> list[Text]:
    """One upcoming appointment as its student, parent or mentor reads it ("My appointments")."""
    student = None if view.student_id == viewer_id else view.student_name
    lines = [appointment_text(view.kind.value, view.starts_at, student)]
    if view.kind is AppointmentKind.INTAKE and not view.mentor_confirmed:
        lines.append(Text.of(N_("Waiting for the mentor to confirm.")))
    if view.coach_name:
        lines.append(Text.of(N_("With {name}"), name=Text.raw(view.coach_name)))
    return lines
