"""The lifecycle table and its rules (`services.trajectories.rules`), without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.outbox.kinds import OutboxKind
from services.trajectories.rules import (
    TRANSITIONS,
    EvaluationSlot,
    PlanFacts,
    PlanGap,
    Requirement,
    Stage,
    Step,
    activation_refusal,
    closing_refusal,
    matching_evaluation,
    may_make,
    plan_gaps,
    plan_refusal,
    stage_of,
    status_after_intake,
    status_after_plan,
    step_allowed_from,
    transition,
    validate_advice,
)
from storage.models import EvaluationKind, Role, TrajectoryStatus

S = TrajectoryStatus
COMPLETE = PlanFacts(
    goals="Rustig blijven in de les.",
    start=date(2026, 3, 2),
    end=date(2026, 5, 29),
    evaluations=2,
    coach_id=7,
)
ADVICE = "Vaste plek vooraan; pauzes vooraf afspreken."


def test_every_step_has_one_row_and_every_stage_is_reached() -> None:
    assert [t.step for t in TRANSITIONS] == list(Step)
    reached = {t.target for t in TRANSITIONS}
    assert reached == set(Stage)
    # Every stage a step starts from is reached by another step (no dead ends in the table).
    assert {s for t in TRANSITIONS for s in t.sources} <= reached


def test_what_each_transition_sends_is_a_known_outbox_kind() -> None:
    kinds = {kind.value for kind in OutboxKind}
    assert {sent for t in TRANSITIONS for sent in t.sends} <= kinds


@pytest.mark.parametrize(
    ("step", "allowed", "refused"),
    [
        (Step.REFER, {Role.MENTOR}, {Role.CARE_COORDINATOR, Role.COACH, Role.PARENT}),
        (Step.ACCEPT, {Role.CARE_COORDINATOR}, {Role.COACH, Role.MENTOR, Role.ADMIN}),
        (Step.HOLD_INTAKE, {Role.COACH}, {Role.CARE_COORDINATOR, Role.PARENT}),
        (Step.COMPLETE_PLAN, {Role.COACH, Role.CARE_COORDINATOR}, {Role.MENTOR, Role.PARENT}),
        (Step.HOLD_EVALUATION, {Role.COACH, Role.CARE_COORDINATOR}, {Role.STUDENT}),
        (Step.CLOSE, {Role.CARE_COORDINATOR}, {Role.COACH, Role.MENTOR, Role.ADMIN}),
        (Step.QUESTIONNAIRES_DONE, set(), set(Role)),
    ],
)
def test_who_may_make_each_step(step: Step, allowed: set[Role], refused: set[Role]) -> None:
    for role in allowed:
        assert may_make(step, [role]), role
    for role in refused:
        assert not may_make(step, [role]), role


def test_what_each_step_requires() -> None:
    assert transition(Step.ACCEPT).requires == (Requirement.ANALYSED,)
    assert transition(Step.HOLD_INTAKE).requires == (Requirement.MENTOR_CONFIRMED,)
    assert transition(Step.COMPLETE_PLAN).requires == (Requirement.PLAN_COMPLETE,)
    assert transition(Step.CLOSE).requires == (Requirement.FINAL_EVALUATION, Requirement.ADVICE)


def test_the_stage_follows_the_status_and_the_facts() -> None:
    assert stage_of(status=S.PLANNED) is Stage.ACCEPTED
    assert stage_of(status=S.PLANNED, intake_booked=True) is Stage.INTAKE_PLANNED
    assert stage_of(status=S.INTAKE_HELD) is Stage.INTAKE_HELD
    assert stage_of(status=S.ACTIVE) is Stage.ACTIVE
    assert stage_of(status=S.ACTIVE, final_evaluation_held=True) is Stage.CLOSING
    assert stage_of(status=S.CLOSED, questionnaires_open=True) is Stage.QUESTIONNAIRES
    assert stage_of(status=S.CLOSED) is Stage.CLOSED


def test_which_status_each_step_starts_from() -> None:
    assert step_allowed_from(Step.HOLD_EVALUATION, S.ACTIVE)
    for status in (S.PLANNED, S.INTAKE_HELD, S.CLOSED):
        assert not step_allowed_from(Step.HOLD_EVALUATION, status)
    for status in (S.PLANNED, S.INTAKE_HELD, S.ACTIVE):
        assert step_allowed_from(Step.CLOSE, status)
    assert not step_allowed_from(Step.CLOSE, S.CLOSED)
    assert step_allowed_from(Step.COMPLETE_PLAN, S.INTAKE_HELD)
    assert not step_allowed_from(Step.COMPLETE_PLAN, S.ACTIVE)


def test_a_plan_is_complete_with_goals_dates_evaluations_and_a_coach() -> None:
    assert plan_gaps(COMPLETE) == ()
    empty = PlanFacts(goals="  ", start=None, end=None, evaluations=0, coach_id=None)
    assert plan_gaps(empty) == tuple(PlanGap)
    assert plan_gaps(replace(COMPLETE, coach_id=None)) == (PlanGap.COACH,)
    assert plan_gaps(replace(COMPLETE, evaluations=0)) == (PlanGap.EVALUATIONS,)


def test_the_intake_activates_only_with_a_complete_plan() -> None:
    assert status_after_intake(S.PLANNED, ()) is S.ACTIVE
    assert status_after_intake(S.PLANNED, (PlanGap.COACH,)) is S.INTAKE_HELD
    # Marking it held again changes nothing.
    assert status_after_intake(S.INTAKE_HELD, ()) is S.INTAKE_HELD
    assert status_after_intake(S.ACTIVE, (PlanGap.COACH,)) is S.ACTIVE


def test_completing_the_plan_after_the_intake_activates() -> None:
    assert status_after_plan(S.INTAKE_HELD, ()) is S.ACTIVE
    assert status_after_plan(S.INTAKE_HELD, (PlanGap.GOALS,)) is S.INTAKE_HELD
    assert status_after_plan(S.PLANNED, ()) is S.PLANNED  # the intake comes first
    assert plan_refusal(S.PLANNED, (PlanGap.COACH,)) is None
    assert plan_refusal(S.INTAKE_HELD, (PlanGap.COACH,)) is None
    assert plan_refusal(S.ACTIVE, ()) is None
    refused = plan_refusal(S.ACTIVE, (PlanGap.COACH,))
    assert refused is not None
    assert refused.msgid.startswith("The plan is not complete yet")
    assert plan_refusal(S.CLOSED, ()) is not None


def test_activation_is_refused_before_the_intake_and_without_a_complete_plan() -> None:
    assert activation_refusal(S.PLANNED, ()) is not None
    assert activation_refusal(S.INTAKE_HELD, (PlanGap.COACH,)) is not None
    assert activation_refusal(S.ACTIVE, ()) is not None
    assert activation_refusal(S.INTAKE_HELD, ()) is None


def test_closing_needs_the_final_evaluation_and_the_advice() -> None:
    def refusal(**kwargs: object) -> object:
        facts: dict[str, object] = {
            "status": S.ACTIVE,
            "final_evaluation_held": True,
            "final_notes": None,
            "advice": ADVICE,
        }
        return closing_refusal(**{**facts, **kwargs})  # type: ignore[arg-type]

    assert refusal() is None
    assert refusal(status=S.CLOSED) is not None
    assert refusal(advice="") is not None
    assert refusal(advice="kort") is not None
    assert refusal(final_evaluation_held=False) is not None
    assert refusal(final_evaluation_held=False, final_notes="Doelen gehaald, goed zo.") is None
    assert refusal(final_evaluation_held=False, final_notes="ok") is not None  # too short
    # A student who leaves before the intake is closed too, with the same record.
    assert refusal(status=S.PLANNED, final_evaluation_held=False, final_notes="Verhuisd, weg.") is (
        None
    )
    assert validate_advice(ADVICE) is None


def test_an_evaluation_appointment_holds_the_nearest_open_evaluation() -> None:
    interim = EvaluationSlot(1, EvaluationKind.INTERIM, date(2026, 4, 10), None)
    final = EvaluationSlot(2, EvaluationKind.FINAL, date(2026, 5, 29), None)
    held = EvaluationSlot(3, EvaluationKind.INTERIM, date(2026, 3, 20), date(2026, 3, 20))
    assert matching_evaluation([interim, final, held], date(2026, 3, 19)) == 1
    assert matching_evaluation([interim, final, held], date(2026, 5, 20)) == 2
    # A tie goes to the earlier one.
    assert matching_evaluation([interim, final], date(2026, 5, 4)) == 1
    assert matching_evaluation([held], date(2026, 3, 19)) is None
