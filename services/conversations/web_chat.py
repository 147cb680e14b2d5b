"""The web chat's identity: a personal link becomes a browser session for one person.

A personal link ``/c/<token>`` carries either an onboarding invitation's token
(`services.accounts.invites`) or an exit questionnaire's token (`services.surveys.links`).
Opening it (a POST
from the landing page, never the GET a link preview makes) starts a `WebChatSession`: a random
token in an HttpOnly cookie of which only the SHA-256 is stored, with the session's CSRF
secret. Every request then reads the person, roles included, from the database again.

* An **onboarding invitation** is spent by the web chat exactly as by Telegram: single use,
  by a conditional UPDATE. The session may use every flow of the person's roles.
* An **exit questionnaire link** is not spent by opening it (a respondent who stops halfway
  opens it again and continues); it counts as used once the questionnaire is sent. Its session
  is limited to that one questionnaire.

Every function runs inside the caller's unit of work (`web.deps.UnitOfWork`) and never
begins or commits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.engine import question
from dialogs.flow import Flow, FlowContext
from dialogs.flows import get_flow
from dialogs.flows.afspraken import CANCEL, MOVE
from dialogs.flows.exit_survey import RESPONDENT_OF_FLOW, SURVEY_FLOWS, SURVEY_INVITATION
from dialogs.replies import Reply
from dialogs.state import DialogState
from dialogs.text import N_, Text
from services.accounts.invites import hash_token
from services.accounts.people import set_language
from services.conversations.bindings import binding_for
from services.conversations.runtime import flows_for, school_today
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import StorageError
from services.surveys.invitations import (
    SurveyUnavailable,
    SurveyUnavailableReason,
    open_invitations,
)
from services.surveys.links import redeem_survey_token
from storage.models import (
    Conversation,
    ConversationStatus,
    Invite,
    Person,
    SurveyInvitation,
    WebChatSession,
)

log = logging.getLogger(__name__)

#: How long a browser stays signed in to the web chat after its last page view (sliding: each
#: view of the chat moves the end, `resolve_chat_session`); a week covers a parent who answers
#: over a few evenings, and a shared or lost device is signed out a week after its last use
#: (docs/decisions.md, "The web chat's cookie").
WEB_CHAT_TTL = timedelta(days=7)
#: The end is moved at most this often (a page view inside it writes nothing).
WEB_CHAT_SLIDE_STEP = timedelta(hours=1)
#: A refused typed answer is put back in the box up to this length (longer is never valid).
DRAFT_KEEP_MAX = 8000


class LinkKind(StrEnum):
    """What a personal link opens."""

    INVITE = "invite"
    SURVEY = "survey"


class LinkProblem(StrEnum):
    """Why a personal link cannot be opened."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    #: An onboarding invitation already used (in Telegram or in a browser).
    USED = "used"
    #: An exit questionnaire already sent: "already answered, thank you".
    ANSWERED = "answered"


class ChatLinkInvalid(StorageError):  # noqa: N818 - named like InviteInvalid
    """A personal link cannot be opened; ``language`` is its person's, when known.

    ``person_id`` (when known) is for the server only: a browser whose chat is already that
    person's goes back to it; it is never shown.
    """

    def __init__(
        self, problem: LinkProblem, language: str | None = None, person_id: int | None = None
    ) -> None:
        super().__init__(f"chat link invalid: {problem}")
        self.problem = problem
        self.language = language
        self.person_id = person_id


@dataclass(frozen=True, slots=True)
class ChatLink:
    """A personal link that can be opened: what it is and its person's language.

    Deliberately without a name: the landing page is what link previews fetch.
    """

    kind: LinkKind
    language: str
    #: The invite's or the survey invitation's id (for the audit trail; never shown).
    row_id: int
    #: Whom it opens the chat for (never shown).
    person_id: int


@dataclass(frozen=True, slots=True)
class NewChatSession:
    """A web chat session just started: the raw ``token`` goes into the cookie only."""

    token: str
    csrf_token: str
    expires_at: datetime
    person_id: int
    survey_invitation_id: int | None


@dataclass(frozen=True, slots=True)
class Flash:
    """What the last POST answered, shown once by the next page view.

    ``messages`` are (reply kind, rendered text) pairs; ``draft`` a refused typed answer to
    put back in the text box.
    """

    messages: tuple[tuple[str, str], ...] = ()
    draft: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the session row."""
        return {"messages": [list(m) for m in self.messages], "draft": self.draft}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Flash | None:
        """Rebuild a stored flash (None when there is none or it is malformed)."""
        if not data:
            return None
        messages = tuple(
            (str(m[0]), str(m[1]))
            for m in data.get("messages", ())
            if isinstance(m, Sequence) and len(m) == 2
        )
        draft = data.get("draft")
        return cls(messages, draft if isinstance(draft, str) else None)


@dataclass(frozen=True, slots=True)
class ChatSession:
    """The person behind a web chat cookie, as stored now (roles freshly loaded)."""

    session_id: int
    person: Person
    csrf_token: str
    survey_invitation_id: int | None
    flash: Flash | None = None


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One thing the person can start from the web chat's menu.

    ``key`` identifies the entry in a form; the server derives the entries again on every
    request and only starts one it derived itself (never a flow or preset from the form).
    """

    key: str
    flow_id: str
    title: Text
    preset: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """The person's conversation in progress, with what the engine needs to show it."""

    flow: Flow
    state: DialogState
    context: FlowContext

    @property
    def question(self) -> Reply:
        """The current question, exactly as the engine asks it in every channel."""
        return question(self.flow, self.state, self.context)


# -- personal links --------------------------------------------------------------------------


async def inspect_chat_link(*, session: AsyncSession, token: str, now: datetime) -> ChatLink:
    """What ``token`` opens, without using it (a short read).

    Raises `ChatLinkInvalid` for an unknown, expired or used link.
    """
    return await _check_link(session, token, now)


async def _check_link(session: AsyncSession, token: str, now: datetime) -> ChatLink:
    if not token or len(token) > 200:
        raise ChatLinkInvalid(LinkProblem.UNKNOWN)
    digest = hash_token(token)
    invite = await session.scalar(select(Invite).where(Invite.token_hash == digest))
    if invite is not None:
        if await _has_left(session, invite.person_id):
            raise ChatLinkInvalid(LinkProblem.UNKNOWN)
        language = await _language_of(session, invite.person_id)
        if invite.used_at is not None:
            raise ChatLinkInvalid(LinkProblem.USED, language, invite.person_id)
        if invite.expires_at <= now:
            raise ChatLinkInvalid(LinkProblem.EXPIRED, language, invite.person_id)
        return ChatLink(LinkKind.INVITE, language, invite.id, invite.person_id)
    try:
        link = await redeem_survey_token(session=session, token=token, now=now)
    except SurveyUnavailable as unavailable:
        if unavailable.kind is SurveyUnavailableReason.UNKNOWN:
            raise ChatLinkInvalid(LinkProblem.UNKNOWN) from None
        respondent_id = await session.scalar(
            select(SurveyInvitation.respondent_id).where(SurveyInvitation.token_hash == digest)
        )
        known = None if respondent_id is None else await _language_of(session, respondent_id)
        problem = (
            LinkProblem.ANSWERED
            if unavailable.kind is SurveyUnavailableReason.USED
            else LinkProblem.EXPIRED
        )
        raise ChatLinkInvalid(problem, known, respondent_id) from None
    if link.respondent.ended_at is not None:
        raise ChatLinkInvalid(LinkProblem.UNKNOWN)
    return ChatLink(
        LinkKind.SURVEY, link.respondent.language, link.invitation.id, link.respondent.id
    )


async def _has_left(session: AsyncSession, person_id: int) -> bool:
    """Whether the person has left the school (ended by a sync): their links open nothing."""
    ended = await session.scalar(select(Person.ended_at).where(Person.id == person_id))
    return ended is not None


async def _language_of(session: AsyncSession, person_id: int) -> str:
    language: str | None = await session.scalar(
        select(Person.language).where(Person.id == person_id)
    )
    return language or "nl"


async def redeem_chat_link(
    *, session: AsyncSession, token: str, now: datetime, ttl: timedelta = WEB_CHAT_TTL
) -> NewChatSession:
    """Open a personal link: start a web chat session for its person.

    An onboarding invitation is spent (conditional UPDATE: of two redemptions one wins); an
    exit questionnaire link stays usable until the questionnaire is sent. Raises
    `ChatLinkInvalid`. Audited as ``web_chat.open`` with ids only.
    """
    link = await _check_link(session, token, now)
    digest = hash_token(token)
    survey_id: int | None = None
    if link.kind is LinkKind.INVITE:
        claimed: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
            update(Invite)
            .where(Invite.token_hash == digest, Invite.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise ChatLinkInvalid(LinkProblem.USED, link.language, link.person_id)
        invite = await session.scalar(select(Invite).where(Invite.token_hash == digest))
        assert invite is not None  # noqa: S101 - just claimed in this transaction
        person_id, school_id = invite.person_id, invite.school_id
        details: dict[str, int | str] = {"invite_id": invite.id}
    else:
        survey = await session.get_one(SurveyInvitation, link.row_id)
        person_id, school_id, survey_id = survey.respondent_id, survey.school_id, survey.id
        details = {"survey_invitation_id": survey.id}
    # Expired sessions of everyone are swept here, so the table stays small without a job.
    await session.execute(delete(WebChatSession).where(WebChatSession.expires_at <= now))
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    row = WebChatSession(
        school_id=school_id,
        person_id=person_id,
        survey_invitation_id=survey_id,
        token_hash=hash_token(raw),
        csrf_secret=csrf,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=person_id,
        action="web_chat.open",
        subject_type="person",
        subject_id=person_id,
        details={**details, "web_chat_session_id": row.id, "kind": link.kind.value},
        at=now,
    )
    log.info("web chat opened session_id=%s person_id=%s kind=%s", row.id, person_id, link.kind)
    return NewChatSession(raw, csrf, row.expires_at, person_id, survey_id)


# -- sessions --------------------------------------------------------------------------------


async def resolve_chat_session(
    *, session: AsyncSession, token: str, now: datetime, take_flash: bool = False
) -> ChatSession | None:
    """The live web chat session of a cookie's ``token``, or None.

    The person is re-read, roles included. With ``take_flash`` the stored flash is returned
    and cleared (a page view shows it once).
    """
    if not token or len(token) > 200:
        return None
    row = await session.scalar(
        select(WebChatSession).where(
            WebChatSession.token_hash == hash_token(token), WebChatSession.expires_at > now
        )
    )
    if row is None:
        return None
    person = await session.get(Person, row.person_id, populate_existing=True)
    if person is None or person.ended_at is not None:
        return None  # a person who has left is unknown to the chat
    flash = None
    if take_flash and row.flash:
        flash = Flash.from_json(row.flash)
        row.flash = None
    if take_flash and row.expires_at < now + WEB_CHAT_TTL - WEB_CHAT_SLIDE_STEP:
        row.expires_at = now + WEB_CHAT_TTL  # a page view: the week starts again
    return ChatSession(row.id, person, row.csrf_secret, row.survey_invitation_id, flash)


async def set_flash(*, session: AsyncSession, session_id: int, flash: Flash) -> None:
    """Keep what a POST answered for the next page view."""
    draft = flash.draft if flash.draft and len(flash.draft) <= DRAFT_KEEP_MAX else None
    stored = Flash(flash.messages, draft)
    await session.execute(
        update(WebChatSession)
        .where(WebChatSession.id == session_id)
        .values(flash=stored.to_json() if stored.messages or stored.draft else None)
    )


async def end_chat_session(*, session: AsyncSession, token: str, now: datetime) -> None:
    """Forget this browser: the session is deleted; audited."""
    row = await session.scalar(
        select(WebChatSession).where(WebChatSession.token_hash == hash_token(token))
    )
    if row is None:
        return
    await session.delete(row)
    record_audit(
        session=session,
        school_id=row.school_id,
        actor_id=row.person_id,
        action="web_chat.close",
        subject_type="person",
        subject_id=row.person_id,
        details={"web_chat_session_id": row.id},
        at=now,
    )


async def set_chat_language(*, session: AsyncSession, chat: ChatSession, language: str) -> None:
    """Store the person's language, as /taal does in Telegram.

    Raises ``ValueError`` for a language the product does not speak.
    """
    person = await reload_actor(session=session, actor=chat.person)
    await set_language(session=session, person=person, language=language)


# -- what the person may do ------------------------------------------------------------------


async def chat_menu(*, session: AsyncSession, chat: ChatSession, now: datetime) -> list[MenuEntry]:
    """The flows this browser may start, derived from the database.

    A questionnaire link's session: that questionnaire while it is open. Otherwise: the
    menu flows of the person's roles and each open exit questionnaire of theirs.
    """
    person = chat.person
    invitations = [
        invitation
        for invitation in await open_invitations(session=session, person=person, now=now)
        if chat.survey_invitation_id in (None, invitation.invitation_id)
    ]
    entries: list[MenuEntry] = []
    if chat.survey_invitation_id is None:
        entries.extend(
            MenuEntry(flow.id, flow.id, Text.of(flow.title))
            for flow in await flows_for(session=session, person=person, now=now)
            if flow.id not in RESPONDENT_OF_FLOW
        )
    several = len(invitations) > 1
    for invitation in invitations:
        flow = SURVEY_FLOWS[invitation.respondent_type.value]
        title = Text.of(flow.title)
        if several:  # a parent of two children: say which child each one is about
            title = Text.of(
                N_("{title}: {name}"), title=title, name=Text.raw(invitation.student_name)
            )
        entries.append(
            MenuEntry(
                f"{flow.id}:{invitation.invitation_id}",
                flow.id,
                title,
                MappingProxyType({SURVEY_INVITATION: str(invitation.invitation_id)}),
            )
        )
    return entries


#: Flows started from an item's own button rather than the menu (Move / Cancel on "My
#: appointments"): the chat may act in them too; the runtime re-checks the roles and the
#: flow's preset and completion check the appointment is the person's.
ITEM_FLOWS = frozenset({MOVE.id, CANCEL.id})


def item_flows(chat: ChatSession) -> frozenset[str]:
    """The item flows this browser may act in (none for a questionnaire link's session)."""
    return ITEM_FLOWS if chat.survey_invitation_id is None else frozenset()


def allowed_flow_ids(entries: Sequence[MenuEntry]) -> frozenset[str]:
    """The flows this browser may act in: those of its menu (the runtime re-checks roles)."""
    return frozenset(entry.flow_id for entry in entries)


async def current_conversation(
    *, session: AsyncSession, chat: ChatSession, allowed: frozenset[str], now: datetime
) -> OpenConversation | None:
    """The person's most recent unfinished conversation among ``allowed`` flows.

    A questionnaire link's session sees only that questionnaire's conversation.
    """
    if not allowed:
        return None
    person = chat.person
    rows = await session.scalars(
        select(Conversation)
        .where(
            Conversation.person_id == person.id,
            Conversation.status == ConversationStatus.ACTIVE,
            Conversation.flow.in_(sorted(allowed)),
        )
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    )
    for row in rows:
        state = DialogState.from_json(row.state)
        flow = get_flow(row.flow)
        if state.flow_version != flow.version or state.step is None:
            continue  # open_flow restarts it when the person picks it again
        if chat.survey_invitation_id is not None and state.answers.get(SURVEY_INVITATION) != str(
            chat.survey_invitation_id
        ):
            continue
        binding = binding_for(row.flow)
        if not any(person.has_role(role) for role in binding.roles):
            continue
        if binding.answers_context is not None:
            context = await binding.answers_context(
                session=session, person=person, now=now, answers=state.answers, step=state.step
            )
        else:
            context = await binding.context(session=session, person=person, today=school_today(now))
        return OpenConversation(flow, state, context)
    return None


__all__ = [
    "DRAFT_KEEP_MAX",
    "ITEM_FLOWS",
    "WEB_CHAT_SLIDE_STEP",
    "WEB_CHAT_TTL",
    "ChatLink",
    "ChatLinkInvalid",
    "ChatSession",
    "Flash",
    "LinkKind",
    "LinkProblem",
    "MenuEntry",
    "NewChatSession",
    "OpenConversation",
    "allowed_flow_ids",
    "chat_menu",
    "current_conversation",
    "end_chat_session",
    "inspect_chat_link",
    "item_flows",
    "redeem_chat_link",
    "resolve_chat_session",
    "set_chat_language",
    "set_flash",
]
