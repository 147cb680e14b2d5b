"""The state of one conversation: plain, immutable and JSON-serialisable.

It lives in the database between messages (storage keeps `to_json()`), so a restart or a
second worker continues every conversation exactly where it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from dialogs.flow import AnswerValue

#: The alphabet of run ids: lowercase letters and digits without look-alikes (0/o, 1/l).
RUN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
#: The length of a run id: 32**6 ≈ 10**9 ids, short enough for Telegram's 64 bytes.
RUN_LENGTH = 6


def new_run_id() -> str:
    """A fresh, random run id (`DialogState.run`)."""
    return "".join(secrets.choice(RUN_ALPHABET) for _ in range(RUN_LENGTH))


class Status(StrEnum):
    """Where a conversation is in its life."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class DialogState:
    """Everything the engine needs to continue a conversation.

    ``run`` names this run of the flow (a new one per `dialogs.engine.start`) and ``version``
    grows with every accepted event; buttons carry both, so a press on an older keyboard of
    this run, of an earlier run or of another flow is recognised as stale. A state stored
    before runs existed loads with ``run == ""``; its old buttons carry no run and are stale.

    ``picking`` is true while the summary shows the list of answers to change; ``selection``
    holds the ticks of a multiple choice not yet finished, ``query``/``page`` the search and
    paging of a long option list, ``invalid`` the number of invalid answers in a row to the
    current question, ``editing`` whether the person came from the summary (and returns there
    after answering).
    """

    flow: str
    flow_version: int
    step: str | None
    answers: Mapping[str, AnswerValue] = field(default_factory=lambda: MappingProxyType({}))
    status: Status = Status.ACTIVE
    version: int = 0
    run: str = ""
    invalid: int = 0
    editing: bool = False
    picking: bool = False
    selection: tuple[str, ...] = ()
    query: str = ""
    page: int = 0

    def evolve(self, **changes: Any) -> DialogState:
        """A copy with changes (the version is bumped by the engine, not here)."""
        if "answers" in changes:
            changes["answers"] = MappingProxyType(dict(changes["answers"]))
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for tuples)."""
        return {
            "flow": self.flow,
            "flow_version": self.flow_version,
            "step": self.step,
            "answers": {
                k: (list(v) if isinstance(v, list) else v) for k, v in self.answers.items()
            },
            "status": self.status.value,
            "version": self.version,
            "run": self.run,
            "invalid": self.invalid,
            "editing": self.editing,
            "picking": self.picking,
            "selection": list(self.selection),
            "query": self.query,
            "page": self.page,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DialogState:
        """Rebuild a state written by `to_json` (unknown keys are ignored)."""
        answers: dict[str, AnswerValue] = {}
        for key, value in dict(data.get("answers", {})).items():
            if isinstance(value, bool | str):
                answers[str(key)] = value
            elif isinstance(value, list):
                answers[str(key)] = [str(item) for item in value]
        return cls(
            flow=str(data["flow"]),
            flow_version=int(data["flow_version"]),
            step=None if data.get("step") is None else str(data["step"]),
            answers=MappingProxyType(answers),
            status=Status(data.get("status", Status.ACTIVE.value)),
            version=int(data.get("version", 0)),
            run=str(data.get("run", "")),
            invalid=int(data.get("invalid", 0)),
            editing=bool(data.get("editing", False)),
            picking=bool(data.get("picking", False)),
            selection=tuple(str(s) for s in data.get("selection", ())),
            query=str(data.get("query", "")),
            page=int(data.get("page", 0)),
        )
