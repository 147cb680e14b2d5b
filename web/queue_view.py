"""The queue as a care coordinator is looking at it: filters, search and sort (issue 14).

The queue page's query parameters (``status``, ``kind``, ``assignee``, ``urgency``, ``q``,
``sort``, ``dir``) are read into a `QueueView`, every value checked (an unknown one is the
default), and written back as a normalised query string: the sort links, a saved view
(`services.queue.saved_filters`) and "next item" all carry that string. An item page opened
from the queue gets it as ``?view=…`` and puts it in its action forms (a hidden ``view``
field); after an action that finishes the item's step the browser goes to
``/queue/next?after=<id>&view=…``, which opens the next open item of that view
(`services.queue.listing.next_open_item`), not the top of the queue. After an action that
keeps the item open (take, note, consent, …) the item's page is shown again with the same
``?view=…`` (`stay_url`), so the view survives every step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from dialogs.text import N_, Text
from services.kernel.ids import parse_id
from services.queue.listing import SEARCH_MAX, AssigneeFilter, QueueFilters, QueueSort
from services.queue.rules import SortColumn
from storage.models import QueueKind, QueueStatus, Urgency
from web.security import form_value

STATUS_FILTERS = ("open", "new", "in_progress", "waiting", "closed", "all")
#: The field (and query parameter) an item page's forms carry the view in.
VIEW_FIELD = "view"
#: The longest view string accepted back from a form or a link.
VIEW_MAX = 500


@dataclass(frozen=True, slots=True)
class QueueView:
    """The queue's parameters, each one known to be valid."""

    status: str = "open"
    kind: str = ""
    assignee: str = AssigneeFilter.ANYONE.value
    urgency: str = ""
    q: str = ""
    sort: str = ""
    dir: str = "asc"

    @classmethod
    def of(
        cls,
        *,
        status: str = "open",
        kind: str = "",
        assignee: str = "any",
        urgency: str = "",
        q: str = "",
        sort: str = "",
        dir: str = "asc",
    ) -> QueueView:
        """The view of these raw parameters; anything unknown is left at its default."""
        return cls(
            status=status if status in STATUS_FILTERS else "open",
            kind=kind if kind in {k.value for k in QueueKind} else "",
            assignee=assignee if assignee in {a.value for a in AssigneeFilter} else "any",
            urgency=urgency if urgency in {u.value for u in Urgency} else "",
            q=" ".join(q.split())[:SEARCH_MAX],
            sort=sort if sort in {c.value for c in SortColumn} else "",
            dir="desc" if dir == "desc" and sort in {c.value for c in SortColumn} else "asc",
        )

    @classmethod
    def parse(cls, query: str) -> QueueView:
        """The view of a query string (a saved view, a form's hidden field)."""
        values = dict(parse_qsl(query[:VIEW_MAX], keep_blank_values=True))
        known = {"status", "kind", "assignee", "urgency", "q", "sort", "dir"}
        return cls.of(**{key: value for key, value in values.items() if key in known})

    def query(self) -> str:
        """The normalised query string: only what differs from the default, in a fixed order."""
        pairs = [
            ("status", self.status, "open"),
            ("kind", self.kind, ""),
            ("assignee", self.assignee, "any"),
            ("urgency", self.urgency, ""),
            ("q", self.q, ""),
            ("sort", self.sort, ""),
            ("dir", self.dir, "asc"),
        ]
        return urlencode([(key, value) for key, value, default in pairs if value != default])

    def url(self) -> str:
        """The queue page of this view."""
        query = self.query()
        return f"/queue?{query}" if query else "/queue"

    def sorted_by(self, column: SortColumn) -> QueueView:
        """This view sorted by ``column``: ascending, or descending when it already is
        ascending by it (the sort links of the column headers)."""
        descending = self.sort == column.value and self.dir == "asc"
        return replace(self, sort=column.value, dir="desc" if descending else "asc")

    def aria_sort(self, column: SortColumn) -> str:
        """The header's ``aria-sort``: ascending, descending or none."""
        if self.sort != column.value:
            return "none"
        return "descending" if self.dir == "desc" else "ascending"

    def filters(self) -> QueueFilters:
        """What `services.queue.listing` filters on."""
        statuses: tuple[QueueStatus, ...] | None = None
        if self.status == "all":
            statuses = tuple(QueueStatus)
        elif self.status in {s.value for s in QueueStatus}:
            statuses = (QueueStatus(self.status),)
        return QueueFilters(
            statuses=statuses,
            kind=QueueKind(self.kind) if self.kind else None,
            assignee=AssigneeFilter(self.assignee),
            urgency=Urgency(self.urgency) if self.urgency else None,
            search=self.q,
        )

    def order(self) -> QueueSort:
        """How `services.queue.listing` sorts."""
        return QueueSort(
            column=SortColumn(self.sort) if self.sort else None, descending=self.dir == "desc"
        )


def with_view(path: str, view: QueueView | None) -> str:
    """``path`` (an item page) carrying ``view``, so its actions can go on to the next item."""
    if view is None:
        return path
    return f"{path}?{VIEW_FIELD}={quote(view.query(), safe='')}"


def view_param(raw: str | None) -> QueueView | None:
    """The view an item page was opened with (``None``: not from the queue)."""
    if raw is None or len(raw) > VIEW_MAX:
        return None
    return QueueView.parse(raw)


async def next_or(request: Request, item_id: int, fallback: str) -> Response:
    """After an action that finishes item ``item_id``'s step: to the next open item of the
    view the page was opened with (its form's hidden ``view``), else to ``fallback``."""
    view = view_param(await form_value(request, VIEW_FIELD))
    if view is None:
        return RedirectResponse(fallback, status_code=303)
    target = f"/queue/next?after={item_id}&{VIEW_FIELD}={quote(view.query(), safe='')}"
    return RedirectResponse(target, status_code=303)


async def stay_url(request: Request, path: str, done: str) -> str:
    """``path`` (the item's page) with ``done=<done>`` after an action that keeps the care
    coordinator on the item (taking in analysis, a note, a consent), carrying the view its
    form was posted from: the page keeps "Next item" and its way back to the same filtered
    queue for the next step."""
    url = with_view(path, view_param(await form_value(request, VIEW_FIELD)))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}done={done}"


async def posted_view(request: Request) -> str | None:
    """The hidden ``view`` of a form that came back with problems (kept for the next try)."""
    if request.method != "POST":
        return None
    return await form_value(request, VIEW_FIELD)


async def page_view(request: Request) -> QueueView | None:
    """The view an item page shows its forms with: its link's ``?view=``, or the form's."""
    return view_param(request.query_params.get(VIEW_FIELD) or await posted_view(request))


def handled_text(raw: str) -> Text | None:
    """ "#12 is done." for a ``handled`` parameter that is an item number."""
    item = parse_id(raw)
    if item is None:
        return None
    return Text.of(N_("#{number} is done."), number=Text.raw(str(item)))


def handled_next(request: Request) -> Text | None:
    """What the item a "next item" redirect opened says on top (``?handled=<id>``)."""
    done = handled_text(request.query_params.get("handled", ""))
    if done is None:
        return None
    return Text.of(N_("{done} This is the next open item in your view."), done=done)
