"""Declarative flow definitions: a flow is a tuple of steps that reads top to bottom as data.

A step names its kind, the message ids it shows, its limits, an optional skip condition and an
optional validator. The engine (`dialogs.engine`) interprets these; no channel code lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

from dialogs.text import Text

#: A stored answer: option code, list of codes, free text, ISO date, bool or scale code.
AnswerValue: TypeAlias = str | bool | list[str]
Answers: TypeAlias = Mapping[str, AnswerValue]


class StepKind(StrEnum):
    """What kind of input a step expects."""

    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"
    DATE = "date"
    YES_NO = "yes_no"
    SCALE = "scale"
    SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class Option:
    """One choice: a stable code (stored) and its label (shown)."""

    code: str
    label: Text


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What a flow may know about the world, passed in so the engine stays pure.

    ``today`` anchors date validation; ``choices`` holds option lists that depend on the
    person (a mentor's own mentees), keyed by the step's ``options_from``.
    """

    today: date
    choices: Mapping[str, tuple[Option, ...]] = field(default_factory=lambda: MappingProxyType({}))


#: Returns an explanation when the value is not acceptable, else None.
Validator: TypeAlias = Callable[[AnswerValue, Answers, FlowContext], Text | None]
SkipIf: TypeAlias = Callable[[Answers], bool]


@dataclass(frozen=True, slots=True)
class Step:
    """One question. ``prompt`` is the question, ``label`` its short name in the summary."""

    key: str
    kind: StepKind
    prompt: str
    label: str
    example: str | None = None
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    optional: bool = False
    skip_if: SkipIf | None = None
    validate: Validator | None = None
    min_length: int = 1
    max_length: int = 1000
    min_choices: int = 1
    max_days_ahead: int = 365

    def is_skipped(self, answers: Answers) -> bool:
        """True when the skip condition holds for these answers."""
        return self.skip_if is not None and self.skip_if(answers)


@dataclass(frozen=True, slots=True)
class Flow:
    """A named, versioned sequence of steps; the last one is normally a summary."""

    id: str
    version: int
    title: str
    steps: tuple[Step, ...]
    done: str

    def __post_init__(self) -> None:
        keys = [step.key for step in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError(f"flow {self.id!r} has duplicate step keys")

    def step(self, key: str) -> Step:
        """The step with this key (KeyError when the flow has none)."""
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def active_steps(self, answers: Answers) -> tuple[Step, ...]:
        """The steps a person with these answers goes through, in order."""
        return tuple(step for step in self.steps if not step.is_skipped(answers))
