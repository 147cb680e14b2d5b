"""Whether a purpose has consent (issue 15; seed 002: the district coach works "na
toestemming"): the one rule, pure. Asking the district coach in, the district coach's access
(`services.trajectories.access`) and what the referral and trajectory pages show all read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.models import ConsentGiver, ConsentPurpose


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One recorded consent as the rule needs it: who gave it, for what, still standing."""

    giver: ConsentGiver
    purpose: ConsentPurpose
    withdrawn: bool


def consent_holds(
    consents: Iterable[ConsentFact], purpose: ConsentPurpose, *, adult: bool = False
) -> bool:
    """Whether ``purpose`` has consent: a standing consent of the student *and* of at least one
    parent (seed 002: consent of the parents and the student). A withdrawal by either ends it.
    A student of 18 or older (``adult``, `services.kernel.adulthood`) consents alone: their
    standing consent is enough, and only their withdrawal ends it.

    The one rule behind every check: asking the district coach in, the district coach's access
    to the trajectory (read on every request), and what the pages show.
    """
    standing = {fact.giver for fact in consents if fact.purpose is purpose and not fact.withdrawn}
    if adult:
        return ConsentGiver.STUDENT in standing
    return {ConsentGiver.STUDENT, ConsentGiver.PARENT} <= standing
