"""The plan (pure): who is added, changed, ended; what leavers keep."""

from __future__ import annotations

from dialogs.text import Text
from services.accounts.roster.model import ROSTER_ROLES, BadRow, Roster, RosterPerson
from services.accounts.roster.plan import Current, Link, SchoolState, make_plan
from storage.models import Role

S, P, T, M, C, A = (
    Role.STUDENT, Role.PARENT, Role.TEACHER, Role.MENTOR, Role.CARE_COORDINATOR, Role.ADMIN
)  # fmt: skip


def _current(ext: str, *roles: Role, ended: bool = False, group: str | None = None) -> Current:
    return Current(ext, "Test", ext, group, "nl", None, frozenset(roles), ended)


def _listed(ext: str, *roles: Role, line: int = 2, **more: object) -> RosterPerson:
    return RosterPerson(ext, "Test", ext, frozenset(roles), "users.csv", line, **more)  # type: ignore[arg-type]


def _roster(*people: RosterPerson, mentor_of: dict[str, frozenset[str]] | None = None,
            bad: tuple[BadRow, ...] = ()) -> Roster:  # fmt: skip
    return Roster(
        source="bundle",
        people=people,
        mentor_of=mentor_of or {},
        parent_of={},
        managed_roles=ROSTER_ROLES,
        fields=frozenset({"group", "email"}),
        full=True,
        bad_rows=bad,
    )


STATE = SchoolState(
    people={
        "m1": _current("m1", T, M, C),  # a mentor who is also the care coordinator
        "s1": _current("s1", S, group="2B"),
        "s2": _current("s2", S, group="2B"),
        "s3": _current("s3", S, ended=True),
        "admin": _current("admin", A),  # the first admin: a role given in the app only
        "s4": _current("s4", S),
    },
    mentor_of={"m1": frozenset({"s1", "s2", "s3"})},
    parent_of={},
)


def test_a_full_sync_ends_the_absent_with_a_roster_role_only() -> None:
    roster = _roster(
        _listed("m1", T, M), _listed("s1", S, group="2B"), mentor_of={"m1": frozenset({"s1"})}
    )
    plan = make_plan(roster, STATE)
    # s2 and s4 leave; s3 had left; the admin holds only an app role and stays.
    assert plan.ended == ("s2", "s4")
    # The care coordinator role (given in the app) is kept; nothing else changes for m1, and
    # the links to the leavers (s2 now, s3 before) are kept for their history.
    assert plan.changed == ()
    assert plan.links_removed == ()
    assert plan.unchanged == 2


def test_a_partial_sync_ends_no_one_and_a_bad_row_protects_its_person() -> None:
    roster = _roster(_listed("m1", T, M), mentor_of={"m1": frozenset({"s1", "s2", "s3"})})
    assert make_plan(roster, STATE, full=False).ended == ()
    bad = BadRow("users.csv", 9, Text.of("x"), "s4")
    plan = make_plan(
        _roster(_listed("m1", T, M), mentor_of={"m1": frozenset({"s1", "s2", "s3"})}, bad=(bad,)),
        STATE,
    )
    assert "s4" not in plan.ended
    assert plan.bad_rows == (bad,)


def test_coming_back_changes_and_links() -> None:
    roster = _roster(
        _listed("m1", T), _listed("s1", S, group="3A"), _listed("s2", S, group="2B"),
        _listed("s3", S), _listed("s4", S), _listed("s9", S, ended=True),
        mentor_of={"m1": frozenset()},
    )  # fmt: skip
    plan = make_plan(roster, STATE)
    assert plan.returned == ("s3",)
    changes = {change.external_id: change.fields for change in plan.changed}
    # m1 is no mentor any more (roles), his links to the present students go; the care
    # coordinator role stays. s1 moves to 3A; s3 comes back.
    assert changes == {
        "m1": ("roles", "mentor_of"),
        "s1": ("group_name",),
        "s3": ("ended_at",),
    }
    assert dict(plan.changed[0].values) == {"roles": frozenset({T, C})}
    # s3 is back, so her link follows the file like the others'.
    assert set(plan.links_removed) == {Link("mentor", "m1", s) for s in ("s1", "s2", "s3")}
    # Someone leaving who was never in the school is not added.
    assert plan.added == ()
    assert plan.ended == ()
