"""A person using the web chat through httpx: read the page's forms, press, type.

The page works without JavaScript, so a test can do exactly what a browser does: find the
form of a button by its label and post its fields.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.config import Settings
from web.app import create_web_app


@dataclass
class PageForm:
    """One form of a page: where it posts, its fields, its button's label."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    button: str = ""
    text_field: str | None = None


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[PageForm] = []
        self.html_attrs: dict[str, str] = {}
        self._form: PageForm | None = None
        self._in_button = False
        self._in_textarea = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_attrs = values
        elif tag == "form":
            self._form = PageForm(values.get("action", ""))
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and "name" in values:
            if values.get("type") == "hidden":
                self._form.fields[values["name"]] = values.get("value", "")
            else:
                self._form.text_field = values["name"]
                self._form.fields[values["name"]] = values.get("value", "")
        elif self._form is not None and tag == "textarea":
            self._form.text_field = values.get("name")
            self._in_textarea = True
        elif self._form is not None and tag == "button":
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._in_button = False
        elif tag == "textarea":
            self._in_textarea = False

    def handle_data(self, data: str) -> None:
        if self._form is None:
            return
        if self._in_button:
            self._form.button += data.strip()
        elif self._in_textarea and self._form.text_field:
            self._form.fields[self._form.text_field] = (
                self._form.fields.get(self._form.text_field, "") + data
            )


@dataclass
class Page:
    """A page as the person sees it."""

    status: int
    body: str

    @property
    def text(self) -> str:
        """The body with entities decoded (for looking for rendered sentences)."""
        return html.unescape(self.body)

    def _parsed(self) -> _Forms:
        parser = _Forms()
        parser.feed(self.body)
        return parser

    @property
    def lang(self) -> str:
        """The ``lang`` of ``<html>``."""
        return self._parsed().html_attrs.get("lang", "")

    @property
    def dir(self) -> str:
        """The ``dir`` of ``<html>``."""
        return self._parsed().html_attrs.get("dir", "")

    @property
    def forms(self) -> list[PageForm]:
        """Every form, in page order."""
        return self._parsed().forms

    def form(self, button: str, action: str | None = None) -> PageForm:
        """The form whose button reads ``button`` (AssertionError with the labels if none)."""
        found = [
            f
            for f in self.forms
            if f.button == button and (action is None or f.action.startswith(action))
        ]
        assert found, f"no button {button!r}; buttons: {[f.button for f in self.forms]}"
        return found[0]

    def text_form(self) -> PageForm:
        """The form of the current question's text box."""
        found = [f for f in self.forms if f.text_field]
        assert found, "this question has no text box"
        return found[0]


class ChatUser:
    """One browser: its own cookies."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.page: Page | None = None

    async def get(self, path: str) -> Page:
        """GET ``path`` and keep the page."""
        response = await self.client.get(path)
        self.page = Page(response.status_code, response.text)
        return self.page

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        """POST ``data`` to ``path`` (redirects not followed)."""
        return await self.client.post(path, data=data)

    async def submit(self, form: PageForm, **changes: str) -> httpx.Response:
        """Post ``form`` (with ``changes``); follow a redirect to the chat like a browser."""
        response = await self.post(form.action, {**form.fields, **changes})
        if response.status_code == 303:
            location = response.headers["location"].split("#", 1)[0]
            await self.get(location)
        else:
            self.page = Page(response.status_code, response.text)
        return response

    async def open_link(self, token: str, anonymous: bool | None = False) -> Page:
        """Open a personal link and confirm it, as a person tapping "Start"; a student's or
        parent's questionnaire first asks whether to answer anonymously: answered with
        ``anonymous`` unless it is ``None``."""
        landing = await self.get(f"/c/{token}")
        assert landing.status == 200, landing.text
        await self.submit(landing.forms[0])
        assert self.page is not None
        if anonymous is not None:
            await self.choose_anonymity(anonymous)
        return self.page

    async def choose_anonymity(self, anonymous: bool) -> Page:
        """Press "yes" or "no" on the question "answer anonymously?", if it is the current one."""
        assert self.page is not None
        if 'data-step="anonymous"' not in self.page.text:
            return self.page
        value = ":yes" if anonymous else ":no"
        found = [f for f in self.page.forms if f.fields.get("payload", "").endswith(value)]
        assert found, "no anonymity button"
        await self.submit(found[0])
        return self.page

    async def press(self, label: str) -> Page:
        """Press the button reading ``label`` on the current page."""
        assert self.page is not None
        await self.submit(self.page.form(label))
        return self.page

    async def type(self, text: str) -> Page:
        """Type ``text`` into the current question's box and send it."""
        assert self.page is not None
        form = self.page.text_form()
        assert form.text_field is not None
        await self.submit(form, **{form.text_field: text})
        return self.page


@dataclass
class ChatApp:
    """The product's web app in-process; each `user` is a browser with its own cookies."""

    transport: httpx.ASGITransport
    sessions: async_sessionmaker[AsyncSession]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def user(self) -> ChatUser:
        """A new browser."""
        client = httpx.AsyncClient(transport=self.transport, base_url="http://testserver")
        self.clients.append(client)
        return ChatUser(client)


@asynccontextmanager
async def chat_app(database_url: str, clock: datetime) -> AsyncIterator[ChatApp]:
    """The product's web app on ``database_url`` (already migrated), with a fixed clock."""
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        web_app = create_web_app(app, clock=lambda: clock)
        running = ChatApp(httpx.ASGITransport(app=web_app), app.sessions)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.aclose()
