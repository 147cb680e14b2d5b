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

from dialogs.text import N_, Text

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
    #: Extra lines shown under a step's question, by step key (the appointment a cancel flow
    #: is about, a warning that depends on the person's situation).
    details: Mapping[str, tuple[Text, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: Lines shown *above* a step's question, by step key (what the question is about: the
    #: agreed goals above "the agreed goals were reached").
    preface: Mapping[str, tuple[Text, ...]] = field(default_factory=lambda: MappingProxyType({}))


#: Returns an explanation when the value is not acceptable, else None.
Validator: TypeAlias = Callable[[AnswerValue, Answers, FlowContext], Text | None]
SkipIf: TypeAlias = Callable[[Answers], bool]
#: The `FlowContext.choices` key of a step whose options depend on earlier answers.
ChoicesKey: TypeAlias = Callable[[Answers], str]
#: How a stored answer reads when its option is not offered (any more): a day, a time.
Describe: TypeAlias = Callable[[AnswerValue], Text]
#: Answers that change with this step's new answer (None removes one): picking another day
#: drops the time picked for the old one. Gets the new value and the answers before it.
Updates: TypeAlias = Callable[[AnswerValue, Answers], Mapping[str, AnswerValue | None]]
#: As `Updates`, also given the context: facts about the chosen option that only the context
#: knows, kept as answers of no step for later skip conditions (the student picked already
#: has an open referral). Gets the new value, the answers before it and the context.
Derive: TypeAlias = Callable[[AnswerValue, Answers, FlowContext], Mapping[str, AnswerValue | None]]


@dataclass(frozen=True, slots=True)
class Step:
    """One question. ``prompt`` is the question, ``label`` its short name in the summary.

    ``options_from`` takes the options from the context (see `FlowContext`); ``search`` lets
    the person type part of a label to filter them (names: yes; days and times: no);
    ``empty`` is what the question says when the context offers no option at all.
    ``updates`` and ``derive`` change other answers when this one is given (``derive`` also
    reads the context: a fact about the chosen option for a later ``skip_if``).
    """

    key: str
    kind: StepKind
    prompt: str
    label: str
    example: str | None = None
    options: tuple[Option, ...] = ()
    options_from: str | ChoicesKey | None = None
    search: bool = True
    empty: str | None = None
    describe: Describe | None = None
    updates: Updates | None = None
    derive: Derive | None = None
    optional: bool = False
    skip_if: SkipIf | None = None
    validate: Validator | None = None
    min_length: int = 1
    max_length: int = 1000
    min_choices: int = 1
    max_days_ahead: int = 365
    #: How many days back a date may lie (0: today or later). A plan may start on the day
    #: of an intake held last week.
    max_days_back: int = 0

    def is_skipped(self, answers: Answers) -> bool:
        """True when the skip condition holds for these answers."""
        return self.skip_if is not None and self.skip_if(answers)

    def choices_key(self, answers: Answers) -> str | None:
        """The `FlowContext.choices` key of this step's options, given the answers so far."""
        if self.options_from is None or isinstance(self.options_from, str):
            return self.options_from
        return self.options_from(answers)


@dataclass(frozen=True, slots=True)
class Flow:
    """A named, versioned sequence of steps; the last one is normally a summary.

    ``confirm`` labels the summary's send button; ``stopped`` is what stopping says.
    """

    id: str
    version: int
    title: str
    steps: tuple[Step, ...]
    done: str
    confirm: str = N_("Send ✓")
    stopped: str = N_("Stopped. Nothing has been sent.")

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
        # The condition asked only of the steps that have one (the engine asks this a few
        # times per step).
        return tuple(s for s in self.steps if s.skip_if is None or not s.skip_if(answers))
