"""The staff navigation: each area declares its entries; the base layout shows those the
logged-in person's roles allow (the routes check again on every request)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.models import Person, Role


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the top navigation.

    ``label`` is an English message id (mark it with ``N_``); ``roles`` are the roles that see
    the entry; ``order`` sorts entries across areas (lower first).
    """

    key: str
    path: str
    label: str
    roles: frozenset[Role]
    order: int = 100

    def visible_to(self, person: Person) -> bool:
        """Whether ``person`` holds one of the entry's roles."""
        return any(person.has_role(role) for role in self.roles)


def visible_items(items: Iterable[NavItem], person: Person) -> list[NavItem]:
    """The entries ``person`` may see, in display order."""
    return sorted((item for item in items if item.visible_to(person)), key=lambda i: i.order)
