"""Serving the web app with uvicorn inside an event loop the caller owns.

The caller binds the socket (so "port in use" is a clear message, and tests can ask for port
0) and handles signals (one loop may also run the Telegram poller and the outbox worker).
Access logs are off: paths can hold a login link's token. uvicorn's own proxy-header
handling is off: the app reads X-Forwarded-For itself, only from ``WEB_TRUSTED_PROXIES``
(`web.security.client_address`).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the process's runner stops it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port); `OSError` when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def build_server(web_app: FastAPI) -> uvicorn.Server:
    """A uvicorn server for ``web_app``; run it with ``await server.serve(sockets=[sock])`` and
    stop it with ``server.should_exit = True``."""
    config = uvicorn.Config(
        web_app,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        proxy_headers=False,
    )
    return _Server(config)


def bound_port(sock: socket.socket) -> int:
    """The port a socket from `bind_socket` listens on."""
    return int(sock.getsockname()[1])
