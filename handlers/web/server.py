"""The web console's server: sessions, CSRF, security headers and templates around the pages.

Every request passes `guard`: the session cookie names the person (bot/office/weblogin.py), a POST
must carry its session's CSRF token, and every answer says what the browser may load
(Content-Security-Policy) and that it must not be cached. Pages (handlers/web/pages.py) ask
the core what the person may see; nothing here decides a role.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import jinja2
import pylopdf_fonts_zh_cn
from aiohttp import web

from bot.core import Core
from bot.office.weblogin import SESSION_IDLE, Session, WebLogins
from bot.outcome import Outcome
from bot.reply import text_of
from handlers.web.settings import WebSettings
from handlers.wecom.settings import WeComSettings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "fg_session"
MAX_BODY = 10 * 1024 * 1024 + 64 * 1024  # an upload of 10 MB and its form's other fields
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # The login link's token is in its address: no page may pass it on.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
# GETs need no CSRF token; these POSTs come before any session (checked by their own token).
NO_SESSION_POSTS = frozenset({"/login"})

CORE: web.AppKey[Core] = web.AppKey("core", Core)
SETTINGS: web.AppKey[WebSettings] = web.AppKey("settings", WebSettings)
WECOM: web.AppKey[WeComSettings | None] = web.AppKey("wecom", WeComSettings | None)  # type: ignore[arg-type]
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
FLASH: web.AppKey[dict[str, list[str]]] = web.AppKey("flash", dict)
ERRORS = {404: "找不到这个页面。", 405: "不支持这种请求方式。", 413: "文件太大：最多 10 MB。"}
SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session | None)  # type: ignore[arg-type]
TOKEN: web.RequestKey[str] = web.RequestKey("token", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the person may not make, or made wrongly: answered with a page saying why."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def logins(request: web.Request) -> WebLogins:
    """Return the login links and sessions of the request's app."""
    return WebLogins(request.app[CORE].store)


def session(request: web.Request) -> Session | None:
    """Return the request's session (set by `guard`), or None when logged out."""
    return request.get(SESSION)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session, refuse a POST without its CSRF token, add the security headers."""
    if not request.path.startswith("/static/"):  # a document changed by another instance
        await request.app[CORE].follow()
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await logins(request).session(token) if token else None
    request[SESSION] = found
    request[TOKEN] = token
    try:
        if request.method == "POST" and request.path not in NO_SESSION_POSTS:
            form = await request.post()
            sent = form.get("csrf")
            if found is None or not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode(), found.csrf.encode()
            ):
                raise Refused(403, "页面已过期或请求无效，请返回刷新后重试。")
        response = await handler(request)
    except Refused as e:
        response = page(request, "message.html", {"text": e.text}, e.status)
    except web.HTTPException as e:
        if e.status < 400:  # a redirect
            e.headers.update(HEADERS)
            raise
        text = ERRORS.get(e.status, "请求无法处理。")
        response = page(request, "message.html", {"text": text}, e.status)
    response.headers.update(HEADERS)
    if request.path.startswith("/static/"):  # the same for everyone: may be kept a day
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render a template (autoescaped) with the session's person, CSRF token and messages."""
    found = session(request)
    flashes = request.app[FLASH].pop(request[TOKEN], []) if found else []
    html = request.app[TEMPLATES].get_template(template).render(
        person=found.person if found else None,
        csrf=found.csrf if found else "",
        flashes=flashes,
        **context,
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def flash(request: web.Request, outcome: Outcome | str) -> None:
    """Keep what an action answered, shown once at the top of the next page."""
    if isinstance(outcome, Outcome):
        reply = outcome.reply
        lines = [*reply.header, *(ln for item in reply.items for ln in item.lines)]
        outcome = text_of(lines)
    request.app[FLASH].setdefault(request[TOKEN], []).append(outcome)


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_IDLE.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].secure,
        path="/",
    )


async def font(request: web.Request) -> web.StreamResponse:
    """The heat map's Chinese font, for a browser that has none (the CSS names it last)."""
    return web.FileResponse(pylopdf_fonts_zh_cn.sans_path())


def build_app(
    core: Core, settings: WebSettings, wecom: WeComSettings | None = None
) -> web.Application:
    """Build the console's aiohttp application on the core."""
    from handlers.web import auth, pages

    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[CORE] = core
    app[SETTINGS] = settings
    app[WECOM] = wecom
    app[FLASH] = {}
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/static/font.otf", font)
    app.router.add_static("/static", Path(__file__).parent / "static")
    auth.add_routes(app)
    pages.add_routes(app)
    return app


@contextlib.asynccontextmanager
async def serving(
    core: Core, settings: WebSettings, wecom: WeComSettings | None = None
) -> AsyncIterator[web.AppRunner]:
    """Serve the console while the block runs; `/web` links work meanwhile."""
    # No access log: a login link's address holds its token.
    runner = web.AppRunner(build_app(core, settings, wecom), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.listen, settings.port)
        try:
            await site.start()
        except OSError as e:
            # The chat goes on without the console: /web then says it is not running.
            logger.warning(
                "网页工作台无法监听 %s:%d（%s）：端口是否已被占用？请检查 FENGONG_WEB_PORT 和 "
                "FENGONG_WEB_LISTEN。机器人继续运行，但没有网页工作台。",
                settings.listen, settings.port, e.strerror,
            )
            yield runner
            return
        port = runner.addresses[0][1] if settings.port == 0 else settings.port
        base = settings.url or f"http://127.0.0.1:{port}"
        core.web_url = base.rstrip("/")
        logger.info("网页工作台：%s（在聊天中发送 /web 获取登录链接）", core.web_url)
        yield runner
    finally:
        core.web_url = None
        await runner.cleanup()


class _Hooked(Protocol):
    post_init: Callable[[Any], Coroutine[Any, Any, None]] | None
    post_shutdown: Callable[[Any], Coroutine[Any, Any, None]] | None


def serve_beside(app: _Hooked, settings: WebSettings, core: Callable[[], Core]) -> None:
    """Serve the console from a python-telegram-bot app's start to its shutdown (run_polling).

    Started after the app's own post_init (which opens the core), stopped before its
    post_shutdown (which closes it).
    """
    init, shutdown = app.post_init, app.post_shutdown
    stack = contextlib.AsyncExitStack()

    async def post_init(application: Any) -> None:
        if init is not None:
            await init(application)
        await stack.enter_async_context(serving(core(), settings))

    async def post_shutdown(application: Any) -> None:
        await stack.aclose()
        if shutdown is not None:
            await shutdown(application)

    app.post_init, app.post_shutdown = post_init, post_shutdown
