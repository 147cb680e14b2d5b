"""Every notice has a message, in every language (issue 11, item 1).

Statically: every kind is a member of `services.outbox.kinds.OutboxKind`, every member has a
message in `bot.outbox.messages`, and no product code writes an `Outbox` row with a kind that
is not taken from the registry (a string literal, or a name that is not typed `OutboxKind`).
Dynamically: the autouse guard of ``tests/conftest.py`` (`tests.support.outbox_guard`) fails
any test whose product code writes a row the worker cannot send, so every journey of the suite
checks it; here it is shown to catch one. And every kind's message renders in all six
languages: translated, no placeholder left, within Telegram's 4,096 characters.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import messages
from bot.outbox.messages import (
    KINDS,
    build_message,
    email_subject,
    message_prompt,
    message_texts,
)
from dialogs.i18n import LANGUAGES, Catalogs
from dialogs.text import Text
from services.outbox.channels import Channel
from services.outbox.kinds import OutboxKind
from services.outbox.store import ClaimedMessage
from storage.models import CareTeamDecision, Outbox, Role
from tests.support import outbox_guard
from tests.support.factories import add_mentorship, add_person, add_queued_referral, add_school

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("services", "bot", "web", "dialogs", "storage")
CATALOGS = Catalogs()
TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64

_STARTS = "2026-03-03T07:30:00+00:00"
_ENDS = "2026-03-03T08:20:00+00:00"
_APPOINTMENT = {"appointment_id": 12, "version": 2, "kind": "intake", "starts_at": _STARTS}

#: A payload of each kind as its writer builds it (ids, codes and times only).
SAMPLES: dict[OutboxKind, list[dict[str, Any]]] = {
    OutboxKind.REFERRAL_NEW: [{"referral_id": 3, "queue_item_id": 4}],
    OutboxKind.REFERRAL_ACCEPTED: [{"referral_id": 3, "queue_item_id": 4}],
    OutboxKind.REFERRAL_DECLINED: [{"referral_id": 3, "queue_item_id": 4}],
    OutboxKind.REFERRAL_MERGED: [{"referral_id": 3, "queue_item_id": 4}],
    OutboxKind.REFERRAL_CARE_TEAM: [
        {"referral_id": 3, "care_team_case_id": 8, "decision": decision.value}
        for decision in CareTeamDecision
    ],
    OutboxKind.REFERRAL_ACCEPTED_PARENT: [{"referral_id": 3, "student_id": 5}],
    OutboxKind.REFERRAL_ACCEPTED_ADULT: [{"referral_id": 3, "student_id": 5}],
    OutboxKind.PARENTS_ACCESS_ASK: [{"person_id": 5}],
    OutboxKind.STUDENT_VOICE_ASK: [{"referral_id": 3}],
    OutboxKind.PERSON_UNREACHABLE: [{"person_id": 6, "outbox_id": 7}],
    OutboxKind.PERSON_EMAIL_UNREACHABLE: [
        {"person_id": 6, "outbox_id": 7},
        {"person_id": 6, "bounce": True},
    ],
    OutboxKind.SURVEY_INVITE: [{"invitation_id": 8}],
    OutboxKind.SURVEY_REMINDER: [{"invitation_id": 8}],
    OutboxKind.SURVEY_COMPLETED: [{"queue_item_id": 4}],
    OutboxKind.APPOINTMENT_MENTOR_CONFIRM: [_APPOINTMENT],
    OutboxKind.APPOINTMENT_MENTOR_DECLINED: [{**_APPOINTMENT, "version": None}],
    OutboxKind.APPOINTMENT_REMINDER: [
        {**_APPOINTMENT, "ends_at": _ENDS, "when": "day"},
        {**_APPOINTMENT, "ends_at": _ENDS, "when": "hour"},
    ],
    OutboxKind.APPOINTMENT_CALENDAR: [
        {**_APPOINTMENT, "ends_at": _ENDS, "cancelled": False},
        {**_APPOINTMENT, "ends_at": _ENDS, "cancelled": True},
    ],
    OutboxKind.APPOINTMENT_CANCELLED: [
        {**_APPOINTMENT, "late": False},
        {**_APPOINTMENT, "late": True},
    ],
    OutboxKind.TIMEOUT_TEACHER: [{**_APPOINTMENT, "kind": "time_out", "ends_at": _ENDS}],
    OutboxKind.TIMEOUT_REQUESTED: [{"queue_item_id": 4}],
    OutboxKind.TIMEOUT_DECIDED: [
        {"queue_item_id": 4, "approved": True, "appointment_id": 12},
        {"queue_item_id": 4, "approved": False},
        {"queue_item_id": 4, "approved": False, "reason": "trajectory_closed"},
    ],
    OutboxKind.INTAKE_REPORT: [{"trajectory_id": 9}],
    OutboxKind.PERSON_INVITATION: [{"invite_id": 10, "expires_at": "2026-03-17T07:30:00+00:00"}],
}

# --- the registry and the worker agree ---------------------------------------------------------


def test_every_kind_in_the_registry_has_a_message_and_nothing_else() -> None:
    missing = sorted(set(OutboxKind) - KINDS)
    assert not missing, f"kinds without a message in bot/outbox/messages.py: {missing}"
    unregistered = sorted(KINDS - set(OutboxKind))
    assert not unregistered, f"messages for kinds not in services/outbox/kinds.py: {unregistered}"


def test_every_kind_has_a_sample_payload_here() -> None:
    assert set(SAMPLES) == set(OutboxKind), "add a sample payload of the new kind to SAMPLES"


# --- no writer bypasses the registry ---------------------------------------------------------


def _product_files() -> Iterator[Path]:
    for part in PRODUCT:
        yield from sorted((ROOT / part).rglob("*.py"))


def _kind_argument(call: ast.Call) -> ast.expr | None:
    """The ``kind`` given to an `Outbox(...)` construction, if any."""
    for keyword in call.keywords:
        if keyword.arg == "kind":
            return keyword.value
    return None


def _is_outbox(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "Outbox") or (
        isinstance(func, ast.Attribute) and func.attr == "Outbox"
    )


def _mentions_registry(annotation: ast.expr | None) -> bool:
    return annotation is not None and "OutboxKind" in ast.unparse(annotation)


def _typed_as_kind(name: str, function: ast.AST) -> bool:
    """Whether ``name`` is, in ``function``, a parameter or a variable typed `OutboxKind`, or a
    loop variable over a list annotated with it, or bound straight to an `OutboxKind` member."""
    annotated = {
        node.target.id
        for node in ast.walk(function)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and _mentions_registry(node.annotation)
    }
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = function.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if arg.arg == name and _mentions_registry(arg.annotation):
                return True
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Attribute) and ast.unparse(value).startswith("OutboxKind."):
                return True
        if isinstance(node, ast.For | ast.comprehension):
            targets = {t.id for t in ast.walk(node.target) if isinstance(t, ast.Name)}
            iterable = node.iter
            if name in targets and isinstance(iterable, ast.Name) and iterable.id in annotated:
                return True
    return name in annotated


def _registered(kind: ast.expr, function: ast.AST) -> bool:
    """Whether ``kind`` is an `OutboxKind` member, or a name typed `OutboxKind`."""
    if isinstance(kind, ast.Attribute):
        return ast.unparse(kind).startswith("OutboxKind.")
    return isinstance(kind, ast.Name) and _typed_as_kind(kind.id, function)


def _kind_problems(source: str, name: str) -> list[str]:
    """What is wrong with the kinds of the `Outbox(...)` constructions in ``source``."""
    tree = ast.parse(source, filename=name)
    problems: list[str] = []
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]

    def enclosing(call: ast.Call) -> ast.AST:
        around = [
            f
            for f in functions
            if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)
            and any(node is call for node in ast.walk(f))
        ]
        return max(around, key=lambda f: f.lineno) if around else tree

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_outbox(node)):
            continue
        kind = _kind_argument(node)
        where = f"{name}:{node.lineno}"
        if kind is None:
            problems.append(f"{where}: Outbox(...) without kind=")
        elif not _registered(kind, enclosing(node)):
            problems.append(
                f"{where}: kind={ast.unparse(kind)} is not an OutboxKind member or a name typed "
                "OutboxKind (services/outbox/kinds.py)"
            )
    return problems


def test_no_writer_uses_a_kind_outside_the_registry() -> None:
    problems = [
        problem
        for path in _product_files()
        for problem in _kind_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not problems, "\n".join(problems)


def test_the_static_check_catches_a_kind_outside_the_registry() -> None:
    source = (
        "def f(session, kind: str, typed: OutboxKind):\n"
        "    session.add(Outbox(kind='referral.closed'))\n"
        "    session.add(Outbox(kind=kind))\n"
        "    session.add(Outbox(kind=f'{kind}.x'))\n"
        "    session.add(Outbox(kind=OutboxKind.REFERRAL_NEW))\n"
        "    session.add(Outbox(kind=typed))\n"
    )
    problems = _kind_problems(source, "probe.py")
    assert [problem.split(":")[1] for problem in problems] == ["2", "3", "4"]
    assert "kind='referral.closed'" in problems[0]


# --- the guard every test runs under ---------------------------------------------------------


def test_the_guard_catches_product_code_writing_a_kind_without_a_message() -> None:
    outbox_guard.install()
    outbox_guard.take()
    fake_writer = str(ROOT / "services" / "fake_writer.py")
    code = compile("Outbox(kind='referral.closed', payload={})", fake_writer, "exec")
    exec(code, {"Outbox": Outbox})  # noqa: S102 - a row "built by product code"
    Outbox(kind="made.up.by.a.test", payload={})  # a test's own row is left alone
    assert outbox_guard.take() == [("referral.closed", "services/fake_writer.py:1")]


async def test_the_guard_sees_a_real_service_write_a_kind_the_worker_lacks(
    session_factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if bot/outbox/messages.py had no message for "referral.new": submitting is caught.
    monkeypatch.setattr(messages, "KINDS", KINDS - {OutboxKind.REFERRAL_NEW})
    outbox_guard.take()
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vo-guard")
        await add_person(session, school, "z", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m", Role.MENTOR)
        student = await add_person(session, school, "s", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        await add_queued_referral(session, mentor, student)
    ((kind, writer),) = outbox_guard.take()
    assert kind == OutboxKind.REFERRAL_NEW
    assert writer.startswith("services/outbox/store.py:")


# --- every kind, every language --------------------------------------------------------------


def _texts(text: Text) -> Iterator[Text]:
    """``text`` and every translatable text inside its parameters."""
    yield text
    for value in text.params.values():
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if isinstance(item, Text):
                yield from _texts(item)


def _untranslated(language: str, texts: tuple[Text, ...]) -> list[str]:
    catalog = CATALOGS.get(language)
    missing = []
    for text in (t for top in texts for t in _texts(top)):
        if text.literal:
            continue
        if text.plural is not None:
            found = catalog.ngettext(text.msgid, text.plural, 1) != text.msgid
        else:
            found = catalog.gettext(text.msgid) != text.msgid
        if not found:
            missing.append(text.msgid)
    return missing


_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(OutboxKind))
def test_every_kind_renders_in_every_language(kind: OutboxKind, language: str) -> None:
    for payload in SAMPLES[kind]:
        claimed = ClaimedMessage(
            outbox_id=1,
            kind=kind,
            payload=payload,
            recipient_id=2,
            chat_id=3,
            language=language,
            attempt=1,
        )
        message = build_message(claimed, CATALOGS)
        shown = [message.text, *(button.label for button in message.buttons)]
        assert message.text.strip()
        assert len(message.text) <= TELEGRAM_TEXT_LIMIT
        for part in shown:
            assert not _PLACEHOLDER.search(part), f"a placeholder is left in {part!r}"
        for button in message.buttons:
            assert button.label.strip()
            assert len(button.payload.encode()) <= CALLBACK_DATA_LIMIT
        if language != "en":
            prompt = message_prompt(kind, payload)
            texts = (*message_texts(kind, payload), *((prompt,) if prompt else ()))
            missing = _untranslated(language, texts)
            assert not missing, f"{kind} has no {language} translation of {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(OutboxKind))
def test_every_kind_renders_as_an_email_in_every_language(kind: OutboxKind, language: str) -> None:
    """By e-mail the same text goes, with a translated subject and a link for the buttons."""
    for payload in SAMPLES[kind]:
        claimed = ClaimedMessage(
            outbox_id=1,
            kind=kind,
            payload=payload,
            recipient_id=2,
            chat_id=None,
            language=language,
            attempt=1,
            channel=Channel.EMAIL,
            email="ouder@example.org",
            link_token="t0ken",
        )
        telegram = build_message(
            ClaimedMessage(
                outbox_id=1,
                kind=kind,
                payload=payload,
                recipient_id=2,
                chat_id=3,
                language=language,
                attempt=1,
            ),
            CATALOGS,
        )
        message = build_message(claimed, CATALOGS)
        # Telegram's "Press the button …" sentence is left out: the e-mail has a link instead.
        prompt = message_prompt(kind, payload)
        if prompt is None:
            assert message.text == telegram.text
        else:
            said = CATALOGS.get(language).render(prompt)
            assert telegram.text in (f"{message.text} {said}", f"{message.text}\n{said}")
            assert said not in message.text
            assert message.link is not None
        if language == "en":
            assert "button" not in message.text
            assert "this chat" not in message.text
        assert message.subject.strip()
        assert "\n" not in message.subject
        assert message.footer.strip()
        assert not message.buttons
        if telegram.buttons:
            assert message.link is not None
            assert message.link.label.strip()
        for part in (message.subject, message.footer):
            assert not _PLACEHOLDER.search(part), f"a placeholder is left in {part!r}"
        if language != "en":
            missing = _untranslated(language, (email_subject(kind),))
            assert not missing, f"{kind} has no {language} translation of its subject"
            assert (
                message.subject
                != build_message(
                    ClaimedMessage(
                        outbox_id=1,
                        kind=kind,
                        payload=payload,
                        recipient_id=2,
                        chat_id=None,
                        language="en",
                        attempt=1,
                        channel=Channel.EMAIL,
                        email="ouder@example.org",
                    ),
                    CATALOGS,
                ).subject
            ), f"{kind}: the {language} subject is not translated"
