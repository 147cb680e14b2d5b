"""One writer of a queue item's status, one path for a new item (issue 10): a source check, so
a new `update(QueueItem)` or `QueueItem(...)` elsewhere in the services fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CODE = [*ROOT.glob("services/**/*.py"), *ROOT.glob("bot/**/*.py"), *ROOT.glob("web/**/*.py")]

#: Demo data writes finished history (closed, or accepted and waiting for the intake) as it
#: would have been left, without announcing it to anyone.
DEMO = {"services/demo/booking.py", "services/demo/surveys.py"}


def _files_matching(pattern: str) -> set[str]:
    found = set()
    for path in CODE:
        if re.search(pattern, path.read_text(encoding="utf-8")):
            found.add(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_status_writer_updates_queue_items() -> None:
    assert _files_matching(r"update\(\s*QueueItem\s*\)") == {"services/queue/status.py"}


def test_no_status_is_assigned_to_a_queue_item_object() -> None:
    assert _files_matching(r"\bitem\.status\s*=[^=]") == set()


def test_new_items_are_opened_in_one_place() -> None:
    assert _files_matching(r"\bQueueItem\(") == {"services/queue/items.py"} | DEMO


def test_coordinators_are_told_of_new_items_in_one_place() -> None:
    calls = _files_matching(r"\bnotify_care_coordinators\(")
    assert calls == {"services/queue/items.py", "services/outbox/store.py"}
