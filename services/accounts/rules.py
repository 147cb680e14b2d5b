"""Pure rules of the accounts domain: the login throttle (no I/O, no session, no clock).

The login form asks for a wait after repeated failures instead of locking an account, so a
stranger who knows a username cannot lock its owner out (issue 13). Two counters of recent
failures (`THROTTLE_WINDOW`) decide the wait:

- **per (username, client address)**: `PAIR_FREE` failures are free, then the wait doubles from
  `FIRST_DELAY` up to `MAX_DELAY`. A successful login clears this counter. It is keyed by the
  username *typed*, known or not, so an unknown username is throttled exactly like a known
  one and the answer tells nothing about which usernames exist.
- **per client address** (all usernames): `ADDRESS_FREE` failures are free (a school's staff
  share one address behind its NAT), and every further username tried from the address
  counts `SPREAD_WEIGHT` extra failures: an address that guesses across many accounts is
  throttled much sooner than one that mistypes one password.

There is deliberately **no counter per account across addresses**: it would let anyone who
can reach the form make the owner wait, which is the weapon this replaces. Guessing one
account from many addresses is slowed per address only (each gets a few guesses an hour,
each costing an argon2 check); passwords have at least 12 characters. The owner can always
log in with the bot's one-time login link, which no throttle touches.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Failures older than this are forgotten (and swept).
THROTTLE_WINDOW = timedelta(hours=1)
#: Failures of one username from one address before any wait.
PAIR_FREE = 5
#: Failures from one address (all usernames together) before any wait.
ADDRESS_FREE = 10
#: Each further username tried from one address counts as this many extra failures.
SPREAD_WEIGHT = 3
#: The first wait; each further failure doubles it, up to `MAX_DELAY`.
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=15)
#: IPv6 clients are counted per /64: one host usually holds a whole /64.
IPV6_PREFIX = 64


@dataclass(frozen=True, slots=True)
class RecentFailures:
    """The failures within `THROTTLE_WINDOW` that concern one login attempt."""

    #: Of this username from this address, and the latest of them.
    pair: int = 0
    pair_last: datetime | None = None
    #: From this address for any username, how many usernames they were for, and the latest.
    address: int = 0
    address_usernames: int = 0
    address_last: datetime | None = None


def progressive_delay(failures: int, free: int) -> timedelta:
    """The wait after ``failures``: none below ``free``, then `FIRST_DELAY` doubling to the cap."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 16)  # 2**16 minutes is far past the cap
    delay: timedelta = FIRST_DELAY * (1 << doublings)
    return min(delay, MAX_DELAY)


def address_score(failures: int, usernames: int) -> int:
    """An address's failures, with `SPREAD_WEIGHT` extra for every username after the first."""
    return failures + SPREAD_WEIGHT * max(0, usernames - 1)


def required_wait(recent: RecentFailures, now: datetime) -> timedelta:
    """How long the next attempt must wait (zero: it may be checked now).

    Each counter asks for its `progressive_delay` from its latest failure; the longer wins.
    """
    until: datetime | None = None
    if recent.pair_last is not None:
        until = recent.pair_last + progressive_delay(recent.pair, PAIR_FREE)
    if recent.address_last is not None:
        score = address_score(recent.address, recent.address_usernames)
        by_address = recent.address_last + progressive_delay(score, ADDRESS_FREE)
        until = by_address if until is None else max(until, by_address)
    if until is None or until <= now:
        return timedelta(0)
    return until - now


def wait_in_minutes(wait: timedelta) -> timedelta:
    """``wait`` rounded up to whole minutes, at least one (what the login form shows)."""
    return timedelta(minutes=max(1, math.ceil(wait.total_seconds() / 60)))


def username_key(username: str) -> str:
    """The SHA-256 (hex) of a username as typed, normalised (stripped, lowercase)."""
    return hashlib.sha256(f"username:{username.strip().lower()}".encode()).hexdigest()


def client_key(address: str | None) -> str:
    """The counted form of a client address: IPv4 as is (also when IPv4-mapped), IPv6 as its
    /64 network, anything else (no address, a test client's name) as given."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)


def address_key(address: str | None) -> str:
    """The SHA-256 (hex) of `client_key` of ``address``: what is stored, never the address."""
    return hashlib.sha256(f"address:{client_key(address)}".encode()).hexdigest()
