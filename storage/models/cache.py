"""The version of what workers cache per process (people, roles, mentorships, school settings)."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class CacheVersion(Base):
    """One row (id 1): bumped in the same transaction as every write to a cached table.

    A worker reads it once per update and drops its cached people, roles and option lists when
    it changed, so a change made by another worker (or the web, the CLI) is seen on the next
    update. Not school-owned: one counter for the whole database.

    ``case_version`` counts writes to referrals, queue items, trajectories and their evaluations
    (a case's stage and plan): what a worker derives from them (a mentor's mentees with an open
    referral, a trajectory's stored plan) is kept until it changes, apart from the people
    cache, so a queue action does not empty that one.
    """

    __tablename__ = "cache_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    case_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
