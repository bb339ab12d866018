"""The bot's HTTP client: python-telegram-bot's request interface, sent with aiohttp.

httpx's own connection pool (httpcore on anyio) costs a chat bot more CPU than anything else
it does: about a millisecond per Bot API call, and more the more connections are open, since
every idle one is checked on each request. AiohttpRequest sends python-telegram-bot's calls
through aiohttp's pool and C-accelerated HTTP parser instead, with a JSON body (a form body
url-encodes every byte of a Chinese reply in Python); it maps aiohttp's errors to
python-telegram-bot's as HTTPXRequest maps httpx's (bench/README.md has the figures).

httpx honours proxies from the environment (HTTPS_PROXY …): with a proxy set, the bot keeps
python-telegram-bot's HTTPXRequest, so that it reaches Telegram exactly as before.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import urllib.request

import aiohttp
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

MAIN_POOL = 256  # python-telegram-bot's default for bot methods
UPDATES_POOL = 1  # one long poll at a time
TIMEOUT = 5.0  # seconds: python-telegram-bot's default read and connect timeouts
# aiohttp's "connect" limit covers waiting for a pooled connection *and* opening a new one
# (TCP and TLS), where httpx's pool timeout covers only the wait: a second, httpx's default,
# would be too short for a TLS handshake over a slow link.
POOL_TIMEOUT = 10.0
# The request went out and no answer came: Telegram may have acted on it (a message sent).
# (httpx's: with a proxy, see http_request.)
ANSWER_LOST = (aiohttp.SocketTimeoutError, httpx.ReadTimeout, httpx.WriteTimeout)


class AiohttpRequest(BaseRequest):
    """Sends python-telegram-bot's Bot API calls over one aiohttp session, `pool_size` wide.

    The session is opened by the first call (not by initialize: a start that fails closes
    only what it used), so the request works again after a shutdown.
    """

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        """Return the default read timeout in seconds."""
        return TIMEOUT

    def session(self) -> aiohttp.ClientSession:
        """Return the open session, opening one if there is none."""
        if self._session is None or self._session.closed:
            tls = _tls(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
            connector = aiohttp.TCPConnector(limit=self.pool_size, ssl=tls)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def initialize(self) -> None:
        """Nothing to do: the first call opens the session."""

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one call; return the HTTP status and the body (see BaseRequest.do_request)."""
        # Writing has no limit of its own in aiohttp (nor had it with httpx over aiohttp).
        timeout = aiohttp.ClientTimeout(
            connect=_seconds(pool_timeout, POOL_TIMEOUT),
            sock_connect=_seconds(connect_timeout, TIMEOUT),
            sock_read=_seconds(read_timeout, TIMEOUT),
        )
        headers = {"User-Agent": self.USER_AGENT}
        body: aiohttp.FormData | bytes | None = None
        if request_data is not None and request_data.contains_files:
            body = _form(request_data)
        elif request_data is not None:
            body = json.dumps(request_data.parameters).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self.session().request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as e:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from e
        except aiohttp.ClientError as e:
            # The class name says what failed when the message is empty (a refused connection).
            raise NetworkError(f"aiohttp.{type(e).__name__}: {e}") from e


@functools.lru_cache(maxsize=4)
def _tls(cafile: str, capath: str) -> ssl.SSLContext:
    """Certificates checked as httpx checks them (certifi's, or those of SSL_CERT_FILE or
    SSL_CERT_DIR, which httpx reads and key the cache here): a slim image need not have the
    system's. One context per process, shared by its sessions: loading the certificates
    costs 25-45 ms of CPU."""
    return httpx.create_ssl_context()


def _seconds(value: object, default: float) -> float | None:
    """A timeout as passed for one call (None: no limit), else the default."""
    if value is None or isinstance(value, (int, float)):
        return value
    return default


def _form(request_data: RequestData) -> aiohttp.FormData:
    """Return a call with files as multipart/form-data: parameters first, then the files."""
    # Names as they are (UTF-8), as httpx sends them: quoted, Telegram would show %E8%BF…
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def http_request(pool_size: int) -> BaseRequest:
    """Return the Bot API request for up to `pool_size` connections at once."""
    if _proxied():
        return HTTPXRequest(connection_pool_size=pool_size)
    return AiohttpRequest(pool_size)


def _proxied() -> bool:
    """Tell whether the environment sets a proxy for web requests (as httpx reads it)."""
    return bool({"http", "https", "all"} & urllib.request.getproxies().keys())
