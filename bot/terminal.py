"""A terminal channel: the same flows as in Telegram, typed line by line (`trajectbot chat`).

Buttons are numbered; typing a number presses that button, anything else is typed text.
`/quit` (or the end of input) leaves without stopping the flow, so it resumes next time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.events import Event, typed
from dialogs.flow import Flow
from dialogs.i18n import Catalog
from dialogs.render import RenderedReply, render_reply
from dialogs.replies import ReplyKind
from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.conversations.runtime import (
    ConcurrentUpdateError,
    Turn,
    active_flow,
    flows_for,
    handle_event,
    open_flow,
)
from services.kernel.uow import run_unit_of_work
from storage.models import Person

Clock = Callable[[], datetime]
QUIT = "/quit"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TerminalChat:
    """One person's conversation in a terminal; input and output streams are injectable."""

    def __init__(
        self,
        app: App,
        *,
        external_id: str,
        school_code: str | None,
        language: str | None,
        stdin: TextIO,
        stdout: TextIO,
        clock: Clock = _utcnow,
    ) -> None:
        self._app = app
        self._external_id = external_id
        self._school_code = school_code
        self._language = language
        self._in = stdin
        self._out = stdout
        self._clock = clock
        self._buttons: list[str] = []

    async def run(self) -> int:
        """Converse until the input ends or the person quits; returns an exit status."""
        person = await self._person()
        if person is None:
            self._say(
                Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(self._external_id))
            )
            return 1
        catalog = self._app.catalogs.get(self._language or person.language)
        self._write(catalog.render(Text.of(N_("Hello {name}!"), name=Text.raw(person.given_name))))
        while True:
            flow_id = await self._choose_flow(person, catalog)
            if flow_id is None:
                return 0
            turn = await self._open(person, flow_id)
            while True:
                self._show(turn, catalog)
                if turn.finished:
                    break
                line = await self._read()
                if line is None or line.strip() == QUIT:
                    self._write(
                        catalog.render(
                            Text.of(N_("Your answers are saved. Come back any time to continue."))
                        )
                    )
                    return 0
                turn = await self._event(person, flow_id, self._event_for(line))

    async def _person(self) -> Person | None:
        async def find(session: AsyncSession) -> Person | None:
            school = await find_school(session=session, code=self._school_code)
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=self._external_id
            )
            # A person who has left (ended by a sync) is unknown to every channel.
            return None if person is None or person.ended_at is not None else person

        return await run_unit_of_work(self._app.sessions, find)

    async def _choose_flow(self, person: Person, catalog: Catalog) -> str | None:
        async def read(session: AsyncSession) -> tuple[str | None, list[Flow]]:
            return (
                await active_flow(session=session, person=person),
                await flows_for(session=session, person=person),
            )

        resume, flows = await run_unit_of_work(self._app.sessions, read)
        if resume is not None:
            return resume
        if not flows:
            self._write(catalog.render(Text.of(N_("There is nothing for you to do here yet."))))
            return None
        self._write(catalog.render(Text.of(N_("What would you like to do?"))))
        for number, flow in enumerate(flows, start=1):
            self._write(f"  [{number}] {catalog.render(Text.of(flow.title))}")
        quit_label = catalog.render(Text.of(N_("Quit")))
        self._write(f"  [0] {quit_label}")
        while True:
            line = await self._read()
            if line is None or line.strip() in ("0", QUIT):
                return None
            if line.strip().isdigit() and 1 <= int(line) <= len(flows):
                return flows[int(line) - 1].id
            self._write(catalog.render(Text.of(N_("Please type one of the numbers."))))

    async def _open(self, person: Person, flow_id: str) -> Turn:
        return await run_unit_of_work(
            self._app.sessions,
            lambda session: open_flow(
                session=session, person=person, flow_id=flow_id, now=self._clock()
            ),
        )

    async def _event(self, person: Person, flow_id: str, event: Event) -> Turn:
        # One retry (a new unit of work) when another event of this conversation won the race.
        for attempt in (1, 2):
            try:
                return await run_unit_of_work(
                    self._app.sessions,
                    lambda session: handle_event(
                        session=session,
                        person=person,
                        flow_id=flow_id,
                        event=event,
                        now=self._clock(),
                    ),
                )
            except ConcurrentUpdateError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _event_for(self, line: str) -> Event:
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._buttons):
            decoded = Event.decode(self._buttons[int(choice) - 1])
            if decoded is not None:
                return decoded
        return typed(line.rstrip("\n"))

    def _show(self, turn: Turn, catalog: Catalog) -> None:
        for reply in turn.replies:
            self._print_reply(render_reply(reply, catalog))

    def _print_reply(self, reply: RenderedReply) -> None:
        if reply.kind is ReplyKind.ANSWERED:
            self._write(f"  {reply.text}")
            return
        self._write("")
        self._write(reply.text)
        if reply.kind is ReplyKind.QUESTION:
            self._buttons = [button.payload for row in reply.rows for button in row]
            number = 0
            for row in reply.rows:
                cells = []
                for button in row:
                    number += 1
                    cells.append(f"[{number}] {button.label}")
                self._write("  " + "   ".join(cells))

    async def _read(self) -> str | None:
        self._out.write("> ")
        self._out.flush()
        line = await asyncio.to_thread(self._in.readline)
        if not line:
            self._write("")
            return None
        return line

    def _say(self, text: Text) -> None:
        self._write(self._app.catalogs.get(self._language).render(text))

    def _write(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()
