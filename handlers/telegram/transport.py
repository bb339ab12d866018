"""The bot's HTTP client: python-telegram-bot's HTTPXRequest, with httpx sending over aiohttp.

httpx's own connection pool (httpcore on anyio) costs a chat bot more CPU than anything else
it does: about a millisecond per Bot API call, and more the more connections are open, since
every idle one is checked on each request. httpx-aiohttp keeps httpx's API (so HTTPXRequest,
its timeouts and error mapping stay as they are) and hands the bytes to aiohttp's pool and
C-accelerated HTTP parser: a third less CPU per answer (bench/README.md).

httpx honours proxies from the environment (HTTPS_PROXY …) only on its own transport: with a
proxy set, the bot keeps httpx's pool, so that it reaches Telegram exactly as before.
"""

from __future__ import annotations

import urllib.request

import httpx
from aiohttp import ClientSession
from httpx_aiohttp import AiohttpTransport
from telegram.request import HTTPXRequest

MAIN_POOL = 256  # python-telegram-bot's default for bot methods
UPDATES_POOL = 1  # one long poll at a time
# aiohttp's "connect" limit covers waiting for a pooled connection *and* opening a new one
# (TCP and TLS), where httpx's pool timeout covers only the wait: a second, httpx's default,
# would be too short for a TLS handshake over a slow link.
POOL_TIMEOUT = 10.0


class _Transport(AiohttpTransport):
    """The aiohttp transport, able to start again after the bot was shut down."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, opening a new aiohttp session if the last one was closed."""
        # HTTPXRequest.initialize() after a shutdown builds a new httpx client around this
        # same transport, whose session its aclose() has closed.
        if isinstance(self.client, ClientSession) and self.client.closed:
            self.client = None
        return await super().handle_async_request(request)


def http_request(pool_size: int) -> HTTPXRequest:
    """Return an HTTPXRequest for the Bot API with up to `pool_size` connections."""
    if _proxied():
        return HTTPXRequest(connection_pool_size=pool_size)
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    return HTTPXRequest(
        connection_pool_size=pool_size,
        pool_timeout=POOL_TIMEOUT,
        httpx_kwargs={"transport": _Transport(limits=limits)},
    )


def _proxied() -> bool:
    """Tell whether the environment sets a proxy for web requests (as httpx reads it)."""
    return bool({"http", "https", "all"} & urllib.request.getproxies().keys())
