"""The client address the login throttle counts: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from bot.config import Settings
from web.security import client_address


def _request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "headers": headers,
        "client": (peer, 40000) if peer is not None else None,
    }
    return Request(scope)


def _trusted(value: str) -> Settings:
    return Settings(_env_file=None, web_trusted_proxies=value)


def test_the_default_trusts_a_proxy_on_this_machine_only() -> None:
    trusted = _trusted("127.0.0.1,::1").trusted_proxies
    assert Settings(_env_file=None).trusted_proxies == trusted
    assert client_address(_request("127.0.0.1", "192.0.2.5"), trusted) == "192.0.2.5"
    assert client_address(_request("::1", "2001:db8::5"), trusted) == "2001:db8::5"
    # Straight from the internet the header is whatever the client wrote: ignored.
    assert client_address(_request("203.0.113.9", "192.0.2.5"), trusted) == "203.0.113.9"


def test_the_right_most_hop_that_is_no_trusted_proxy_is_the_client() -> None:
    trusted = _trusted("127.0.0.1, 10.0.0.0/24").trusted_proxies
    # The client wrote "198.51.100.1"; the outer proxy appended the real address; the inner
    # proxy (10.0.0.3) appended the outer one's.
    request = _request("127.0.0.1", "198.51.100.1, 192.0.2.44, 10.0.0.3")
    assert client_address(request, trusted) == "192.0.2.44"
    # Several header lines count as one list.
    assert client_address(_request("10.0.0.7", "198.51.100.1", "192.0.2.45"), trusted) == (
        "192.0.2.45"
    )
    # A trusted proxy that sends no header: the proxy is the client.
    assert client_address(_request("10.0.0.7"), trusted) == "10.0.0.7"


def test_an_empty_setting_believes_no_header() -> None:
    trusted = _trusted("").trusted_proxies
    assert trusted == ()
    assert client_address(_request("127.0.0.1", "192.0.2.5"), trusted) == "127.0.0.1"
    assert client_address(_request(None, "192.0.2.5"), trusted) is None


def test_a_bad_setting_names_the_value() -> None:
    expected = re.escape("'proxy.school' is not an IP address or network")
    with pytest.raises(ValidationError, match=expected):
        _trusted("127.0.0.1, proxy.school")
