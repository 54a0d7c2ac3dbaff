"""Loopback TCP ports: one that is free now, and whether a given one is.

Used wherever a local server is started on a port of our choosing: the demo's hub and
nodes, the end-to-end tests' hubs and the benchmarks' servers.
"""

from __future__ import annotations

import socket

__all__ = ["free_port", "port_is_free"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no one listens on now (the kernel's choice); another
    process may still take it before the caller binds it, so callers start at most a few
    servers this way and fail loudly if one cannot bind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:*port* now (as uvicorn does, SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
