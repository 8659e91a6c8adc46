"""What the dashboard's server enforces beyond Solara's defaults.

- **Same-origin WebSockets.** Solara accepts a kernel WebSocket from any ``Origin``, so any
  web page the analyst visits could open one to ``127.0.0.1:8765`` and drive the dashboard
  (cross-site WebSocket hijacking). ``install`` wraps Solara's WebSocket route: a browser
  connection whose ``Origin`` is not the dashboard's own (scheme, host and port as the
  ``Host`` header names them) is refused before it is accepted (HTTP 403). A dashboard behind
  a reverse proxy that rewrites ``Host`` lists its public origins in
  ``HELIXSIM_DASHBOARD_ORIGINS`` (comma-separated, e.g. ``https://helix.example.org``).
  Clients that send no ``Origin`` (not browsers) are let through: the header guards against
  browsers being used by other sites, and anything else can forge it anyway.
- **Closed sessions are let go.** Solara keeps the kernel of a page that disconnected without
  saying goodbye for 24 hours by default (``SOLARA_KERNEL_CULL_TIMEOUT``), and with it the
  visitor's models. Unless that variable is set, it is ``SESSION_TIMEOUT`` here; and when a
  kernel closes, the server collects garbage and hands freed memory back to the system
  (glibc's ``malloc_trim``), so a server's memory returns near its start after sessions close.

``install`` runs when ``dashboards.app`` is imported inside a Solara server (``solara run`` or
``helixsim dashboard``); in tests and notebooks it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

ORIGINS_ENV = "HELIXSIM_DASHBOARD_ORIGINS"
SESSION_TIMEOUT = "60s"   # a disconnected page's kernel is closed after this
RELEASE_DELAYS = (2.0, 10.0)  # seconds after a kernel closes when memory is handed back
logger = logging.getLogger("helixsim.dashboard")

Scope = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


def _origin_key(scheme: str, host: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, with http/ws and https/wss made one."""
    parts = urlsplit(f"{scheme}://{host}")
    try:
        port = parts.port or _default_port(scheme)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    secure = scheme in ("https", "wss")
    return ("https" if secure else "http", parts.hostname.lower(), port)


def allowed_origins(env: str | None = None) -> set[tuple[str, str, int]]:
    """The extra origins of ``HELIXSIM_DASHBOARD_ORIGINS``."""
    text = os.environ.get(ORIGINS_ENV, "") if env is None else env
    out = set()
    for item in text.split(","):
        parts = urlsplit(item.strip())
        if parts.scheme and parts.netloc:
            key = _origin_key(parts.scheme, parts.netloc)
            if key:
                out.add(key)
    return out


def origin_allowed(scope: Scope, extra: Iterable[tuple[str, str, int]] = ()) -> bool:
    """Whether a WebSocket handshake comes from the dashboard's own page (or has no Origin)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    parts = urlsplit(origin.strip())
    key = _origin_key(parts.scheme, parts.netloc) if parts.scheme and parts.netloc else None
    if key is None:  # "null" (a sandboxed frame, a file: page) and anything unparseable
        return False
    host = _header(scope, b"host")
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    own = _origin_key(scheme, host) if host else None
    return key == own or key in set(extra)


def same_origin_websockets(app: ASGI) -> ASGI:
    """An ASGI app that refuses WebSocket handshakes from other origins, then calls ``app``."""
    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "websocket" and not origin_allowed(scope, allowed_origins()):
            logger.warning("refused a WebSocket from origin %r", _header(scope, b"origin"))
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        await app(scope, receive, send)
    guarded.helixsim_guarded = True  # type: ignore[attr-defined]
    return guarded


def _guard_routes(starlette_app: Any) -> int:
    """Wrap every WebSocket route of a Starlette app; returns how many were wrapped."""
    from starlette.routing import WebSocketRoute

    n = 0
    for route in starlette_app.router.routes:
        if isinstance(route, WebSocketRoute) and not getattr(route.app, "helixsim_guarded",
                                                             False):
            route.app = same_origin_websockets(route.app)
            n += 1
    return n


def release_memory() -> None:
    """Collect garbage and return freed heap pages to the system (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: it keeps what it keeps
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _on_kernel() -> Callable[[], None]:
    def closed() -> None:
        # Called while the kernel is closing, when its page may still hold the session: release
        # a moment later, once the kernel's objects are gone, and again once stragglers (a
        # Play thread finishing its step) are.
        for delay in RELEASE_DELAYS:
            timer = threading.Timer(delay, release_memory)
            timer.daemon = True
            timer.start()
    return closed


def install() -> bool:
    """Guard the running Solara server (if any); True when one was found."""
    server = sys.modules.get("solara.server.starlette")
    if server is None:
        return False
    wrapped = _guard_routes(server.app)
    import solara.lab
    import solara.server.settings as settings

    if "SOLARA_KERNEL_CULL_TIMEOUT" not in os.environ:
        settings.kernel.cull_timeout = SESSION_TIMEOUT
    if not getattr(install, "registered", False):
        solara.lab.on_kernel_start(_on_kernel)
        install.registered = True  # type: ignore[attr-defined]
    logger.info("guarded %d WebSocket route(s); sessions closed %s after disconnecting",
                wrapped, settings.kernel.cull_timeout)
    return True
