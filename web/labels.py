"""The labels of stored codes, for the pages: they live in `dialogs.labels`, shared with the
command line (`trajectbot queue`); the templates and routes use them as ``web.labels``."""

from __future__ import annotations

from dialogs.labels import (
    DECISION,
    QUEUE_KIND,
    QUEUE_STATUS,
    TRAJECTORY_STATUS,
    URGENCY_SHORT,
    WAITING_REASON,
    label,
    option_label,
    support_labels,
    urgency_label,
    weekday_labels,
)

__all__ = [
    "DECISION",
    "QUEUE_KIND",
    "QUEUE_STATUS",
    "TRAJECTORY_STATUS",
    "URGENCY_SHORT",
    "WAITING_REASON",
    "label",
    "option_label",
    "support_labels",
    "urgency_label",
    "weekday_labels",
]
