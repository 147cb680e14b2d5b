"""Turn engine replies into plain strings and button payloads for one reader."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.i18n import Catalog
from dialogs.replies import Reply, ReplyKind


@dataclass(frozen=True, slots=True)
class RenderedButton:
    """A button's label in the reader's language and its encoded event."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class RenderedReply:
    """A reply ready for a channel."""

    kind: ReplyKind
    text: str
    rows: tuple[tuple[RenderedButton, ...], ...]
    step: str | None
    accepts_text: bool


def render_reply(reply: Reply, catalog: Catalog) -> RenderedReply:
    """Render every line and button label of ``reply`` in ``catalog``'s language."""
    return RenderedReply(
        kind=reply.kind,
        text="\n".join(catalog.render(line) for line in reply.lines),
        rows=tuple(
            tuple(RenderedButton(catalog.render(b.label), b.event.encode()) for b in row)
            for row in reply.rows
        ),
        step=reply.step,
        accepts_text=reply.accepts_text,
    )
