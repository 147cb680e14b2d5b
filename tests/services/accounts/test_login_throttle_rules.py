"""The login throttle's pure rule: free attempts, doubling waits, the cap, the reset, spreading."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from services.accounts.rules import (
    ADDRESS_FREE,
    FIRST_DELAY,
    MAX_DELAY,
    PAIR_FREE,
    RecentFailures,
    address_key,
    client_key,
    progressive_delay,
    required_wait,
    username_key,
    wait_in_minutes,
)
from tests.support.factories import NOW


def test_the_first_failures_are_free_then_the_wait_doubles_up_to_the_cap() -> None:
    waits = [progressive_delay(failures, PAIR_FREE) for failures in range(PAIR_FREE + 8)]
    assert waits[:PAIR_FREE] == [timedelta(0)] * PAIR_FREE
    grown = waits[PAIR_FREE:]
    assert grown[:4] == [FIRST_DELAY, 2 * FIRST_DELAY, 4 * FIRST_DELAY, 8 * FIRST_DELAY]
    assert all(later >= earlier for earlier, later in pairwise(grown))
    assert max(grown) == MAX_DELAY
    assert progressive_delay(10_000, PAIR_FREE) == MAX_DELAY  # no overflow, still the cap


def test_the_wait_runs_from_the_last_failure_and_ends() -> None:
    recent = RecentFailures(pair=PAIR_FREE, pair_last=NOW)
    assert required_wait(recent, NOW) == FIRST_DELAY
    assert required_wait(recent, NOW + timedelta(seconds=20)) == FIRST_DELAY - timedelta(seconds=20)
    assert required_wait(recent, NOW + FIRST_DELAY) == timedelta(0)
    # No failures (or a success, which clears them): no wait.
    assert required_wait(RecentFailures(), NOW) == timedelta(0)
    assert required_wait(RecentFailures(pair=PAIR_FREE - 1, pair_last=NOW), NOW) == timedelta(0)


def test_an_address_spreading_over_many_usernames_waits_sooner_than_one_mistyping() -> None:
    # Six failures on one username from one office address: the pair rule, not the address.
    one_name = RecentFailures(
        pair=PAIR_FREE - 1,
        pair_last=NOW,
        address=PAIR_FREE - 1,
        address_usernames=1,
        address_last=NOW,
    )
    assert required_wait(one_name, NOW) == timedelta(0)
    # The same number of failures spread over as many usernames: the address must wait.
    spread = RecentFailures(
        pair=0,
        pair_last=None,
        address=PAIR_FREE - 1,
        address_usernames=PAIR_FREE - 1,
        address_last=NOW,
    )
    assert required_wait(spread, NOW) > timedelta(0)
    # Many staff behind one address mistyping now and then: free up to ADDRESS_FREE.
    office = RecentFailures(address=ADDRESS_FREE - 1, address_usernames=1, address_last=NOW)
    assert required_wait(office, NOW) == timedelta(0)
    assert (
        required_wait(
            RecentFailures(address=ADDRESS_FREE + 20, address_usernames=1, address_last=NOW), NOW
        )
        == MAX_DELAY
    )


def test_the_longer_of_the_two_waits_counts() -> None:
    recent = RecentFailures(
        pair=PAIR_FREE + 1,
        pair_last=NOW - timedelta(seconds=30),
        address=ADDRESS_FREE,
        address_usernames=1,
        address_last=NOW,
    )
    assert required_wait(recent, NOW) == 2 * FIRST_DELAY - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_client_addresses_are_counted_per_host_and_ipv6_per_64(
    address: str | None, key: str
) -> None:
    assert client_key(address) == key


def test_only_digests_are_stored() -> None:
    assert username_key(" Zoco ") == username_key("zoco")
    assert "zoco" not in username_key("zoco")
    assert address_key("192.0.2.7") != address_key("192.0.2.8")
    assert len(address_key("192.0.2.7")) == 64


def test_the_form_shows_whole_minutes_rounded_up() -> None:
    assert wait_in_minutes(timedelta(seconds=1)) == timedelta(minutes=1)
    assert wait_in_minutes(timedelta(seconds=61)) == timedelta(minutes=2)
    assert wait_in_minutes(MAX_DELAY) == MAX_DELAY
