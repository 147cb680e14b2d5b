"""The areas of the web app. Each module exports ``build_router()`` (a fresh `APIRouter`) and
``NAV`` (its navigation entries, possibly empty). Add a new area here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter

from web.nav import NavItem


@dataclass(frozen=True, slots=True)
class Area:
    """One part of the site: its routes and its navigation entries."""

    name: str
    build_router: Callable[[], APIRouter]
    nav: tuple[NavItem, ...]


def _area(module: ModuleType) -> Area:
    return Area(module.__name__, module.build_router, tuple(getattr(module, "NAV", ())))


def areas() -> list[Area]:
    """Every area, in the order their routes are matched."""
    from web.routes import (  # noqa: PLC0415
        auth,
        care_team,
        chat,
        chat_actions,
        coach_day,
        contacts,
        exports,
        health,
        home,
        indicator_records,
        indicators,
        intake_report,
        people_import,
        privacy,
        queue,
        settings,
        survey_items,
        timeout_requests,
        trajectories,
        trajectory_page,
    )

    modules = (
        health,
        auth,
        home,
        queue,
        care_team,
        timeout_requests,
        survey_items,
        trajectories,
        trajectory_page,
        coach_day,
        intake_report,
        chat,
        chat_actions,
        indicator_records,
        indicators,
        exports,
        settings,
        people_import,
        contacts,
        privacy,
    )
    return [_area(module) for module in modules]
