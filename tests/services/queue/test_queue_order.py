"""The queue's order (issue 14), pure: time-out requests first by the time asked for, then
urgency and age; sorting by a column is stable (the queue's order among equal values); "next
item" is the next open one after the handled item in that order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.queue.rules import SortColumn, next_item_id, priority, sort_entries
from storage.models import QueueKind, QueueStatus, Urgency

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    queue_item_id: int
    kind: QueueKind = QueueKind.REFERRAL
    status: QueueStatus = QueueStatus.NEW
    created_at: datetime = T0
    urgency: Urgency | None = Urgency.NORMAL
    student_name: str | None = None
    assignee_name: str | None = None
    requested_at: datetime | None = None

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at


def _forty() -> list[Line]:
    """39 referrals of every urgency and age, and one time-out request received last."""
    lines = [
        Line(
            i,
            created_at=T0 - timedelta(days=i),
            urgency=(Urgency.HIGH, Urgency.NORMAL, Urgency.LOW)[i % 3],
            student_name=f"Leerling {i:02d}",
        )
        for i in range(1, 40)
    ]
    timeout = Line(
        40,
        kind=QueueKind.TIMEOUT_REQUEST,
        urgency=None,
        created_at=T0 + timedelta(hours=1),
        requested_at=T0 + timedelta(hours=3),
    )
    return [*lines, timeout]


def test_a_time_out_request_received_last_comes_first_of_forty() -> None:
    ordered = sort_entries(_forty(), column=None, descending=False, now=T0)
    assert ordered[0].queue_item_id == 40
    # Then high urgency before normal before low, oldest first within each.
    rest = ordered[1:]
    ranks = [
        (0 if e.urgency is Urgency.HIGH else 1 if e.urgency is Urgency.NORMAL else 2) for e in rest
    ]
    assert ranks == sorted(ranks)
    highs = [e for e in rest if e.urgency is Urgency.HIGH]
    assert [e.created_at for e in highs] == sorted(e.created_at for e in highs)


def test_time_out_requests_are_ordered_by_the_time_asked_for_not_by_arrival() -> None:
    later = Line(
        1, kind=QueueKind.TIMEOUT_REQUEST, created_at=T0, requested_at=T0 + timedelta(days=2)
    )
    sooner = Line(
        2,
        kind=QueueKind.TIMEOUT_REQUEST,
        created_at=T0 + timedelta(hours=5),
        requested_at=T0 + timedelta(hours=6),
    )
    urgent = Line(3, urgency=Urgency.HIGH, created_at=T0 - timedelta(days=30))
    ordered = sort_entries([urgent, later, sooner], column=None, descending=False, now=T0)
    assert [e.queue_item_id for e in ordered] == [2, 1, 3]


def test_a_decided_time_out_request_loses_its_place_at_the_top() -> None:
    decided = Line(
        1,
        kind=QueueKind.TIMEOUT_REQUEST,
        status=QueueStatus.CLOSED,
        urgency=None,
        requested_at=T0,
    )
    referral = Line(2, urgency=Urgency.LOW)
    assert priority(referral) < priority(decided)


def test_sorting_by_a_column_is_stable_and_keeps_the_queues_order_among_equals() -> None:
    lines = _forty()
    by_urgency = sort_entries(lines, column=SortColumn.URGENCY, descending=False, now=T0)
    # Same urgency: the queue's own order (oldest first) decides, both directions.
    normal = [e.queue_item_id for e in by_urgency if e.urgency is Urgency.NORMAL]
    assert normal == [
        e.queue_item_id
        for e in sort_entries(
            [e for e in lines if e.urgency is Urgency.NORMAL], column=None, descending=False, now=T0
        )
    ]
    down = sort_entries(lines, column=SortColumn.URGENCY, descending=True, now=T0)
    assert [e.queue_item_id for e in down if e.urgency is Urgency.NORMAL] == normal
    assert down[0].urgency is None  # no urgency (the time-out request) ranks last, so first down
    # The same input in another order sorts the same way.
    assert (
        sort_entries(list(reversed(lines)), column=SortColumn.URGENCY, descending=False, now=T0)
        == by_urgency
    )


def test_sorting_by_student_ignores_case_and_puts_missing_names_last() -> None:
    lines = [
        Line(1, student_name="bram"),
        Line(2, student_name=None),
        Line(3, student_name="Anouk"),
    ]
    ordered = sort_entries(lines, column=SortColumn.STUDENT, descending=False, now=T0)
    assert [e.queue_item_id for e in ordered] == [3, 1, 2]


def test_every_column_sorts_and_age_follows_the_clock() -> None:
    lines = _forty()
    for column in SortColumn:
        assert len(sort_entries(lines, column=column, descending=False, now=T0)) == 40
    oldest_first = sort_entries(lines, column=SortColumn.AGE, descending=True, now=T0)
    assert oldest_first[0].queue_item_id == 39


def test_next_item_is_the_next_open_one_after_the_handled_item() -> None:
    lines = [
        Line(1),
        Line(2, status=QueueStatus.CLOSED),
        Line(3, status=QueueStatus.WAITING),
        Line(4),
    ]
    open_ones = (QueueStatus.NEW, QueueStatus.IN_PROGRESS, QueueStatus.WAITING)
    assert next_item_id(lines, after=1, wanted=open_ones) == 3
    # Only the wanted statuses count (a view of "new" skips the waiting one).
    assert next_item_id(lines, after=1, wanted=(QueueStatus.NEW,)) == 4
    # After the last one, it wraps to the first open one still left.
    assert next_item_id(lines, after=4, wanted=open_ones) == 1
    # An item no longer in the view: from the top.
    assert next_item_id(lines, after=99, wanted=open_ones) == 1
    # Nothing open but the handled item: none.
    assert (
        next_item_id([Line(1), Line(2, status=QueueStatus.CLOSED)], after=1, wanted=open_ones)
        is None
    )
