"""Logging in and out: the one-time link from `/web`, and WeCom's OAuth2 (网页授权).

Opening a link shows a button rather than logging in at once: chat apps fetch links to show
a preview, which would use up a single-use link before its person opens it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

from aiohttp import web

from bot.outcome import Person
from handlers.web.server import (
    CORE,
    SETTINGS,
    TOKEN,
    WECOM,
    Refused,
    logins,
    page,
    session,
    set_session_cookie,
)
from handlers.wecom.channel import PREFIX
from handlers.wecom.client import WeComClient, WeComError

logger = logging.getLogger(__name__)

PRE_COOKIE = "fg_login"  # ties the link's button to the browser that opened the link
STATE_COOKIE = "fg_state"  # the OAuth2 state, checked when WeCom sends the person back
AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
EXPIRED = (
    "登录链接无效、已过期或已使用。请在聊天中重新发送 /web 获取新的链接"
    "（10 分钟内有效，只能使用一次）。"
)
HOW = "请在企业微信、Telegram 或终端对话中向机器人发送 /web，打开收到的一次性链接登录。"


def add_routes(app: web.Application) -> None:
    """Register the login and logout routes."""
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/login/wecom/start", wecom_start)
    app.router.add_get("/login/wecom", wecom_return)


def wecom_authorize(request: web.Request) -> web.HTTPFound:
    """Send the browser to WeCom's authorize page, remembering a fresh state."""
    wecom = request.app[WECOM]
    assert wecom is not None
    state = secrets.token_urlsafe(16)
    base = request.app[CORE].web_url or request.app[SETTINGS].base_url
    query = urlencode(
        {
            "appid": wecom.corp_id,
            "redirect_uri": f"{base}/login/wecom",
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": str(wecom.agent_id),
        }
    )
    authorize = request.app[SETTINGS].oauth_url or AUTHORIZE_URL
    found = web.HTTPFound(f"{authorize}?{query}#wechat_redirect")
    found.set_cookie(STATE_COOKIE, state, max_age=600, httponly=True, samesite="Lax",
                     secure=request.app[SETTINGS].secure, path="/login/wecom")
    return found


def in_wecom(request: web.Request) -> bool:
    """Tell whether WeCom's own browser asks and WeCom is configured."""
    agent = request.headers.get("User-Agent", "")
    return request.app[WECOM] is not None and "wxwork" in agent.lower()


async def login_page(request: web.Request) -> web.StreamResponse:
    """Show the link's 登录 button, or how to get a link."""
    token = request.query.get("t", "")
    if not token:
        if in_wecom(request):
            raise wecom_authorize(request)
        return page(request, "login.html", {"token": "", "pre": "", "text": HOW,
                                            "wecom": request.app[WECOM] is not None})
    pre = secrets.token_urlsafe(16)
    response = page(request, "login.html", {"token": token, "pre": pre, "text": "",
                                            "wecom": False})
    response.set_cookie(PRE_COOKIE, pre, max_age=600, httponly=True, samesite="Strict",
                        secure=request.app[SETTINGS].secure, path="/login")
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """Use the link's token once and open a session for its person."""
    form = await request.post()
    token, pre = form.get("t"), form.get("pre")
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not isinstance(token, str) or not isinstance(pre, str) or not cookie or not (
        hmac.compare_digest(pre.encode(), cookie.encode())
    ):
        raise Refused(403, "请从聊天中收到的链接打开本页，再点「登录」。")
    person = await logins(request).redeem(token)
    if person is None:
        raise Refused(400, EXPIRED)
    return await _start(request, person)


async def _start(request: web.Request, person: Person) -> web.StreamResponse:
    old = request[TOKEN]
    if old:
        await logins(request).close_session(old)
    found = web.HTTPFound("/")
    set_session_cookie(found, request, await logins(request).open_session(person))
    found.del_cookie(PRE_COOKIE, path="/login")
    found.del_cookie(STATE_COOKIE, path="/login/wecom")
    logger.info("网页工作台登录：%s", person.id)
    raise found


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    if session(request) is not None:
        await logins(request).close_session(request[TOKEN])
    found = web.HTTPFound("/login")
    found.del_cookie("fg_session", path="/")
    raise found


async def wecom_start(request: web.Request) -> web.StreamResponse:
    """Log in through WeCom (a button of the login page; WeCom's browser comes by itself)."""
    if request.app[WECOM] is None:
        raise Refused(404, "未配置企业微信（WECOM_*），请使用聊天中的 /web 链接登录。")
    raise wecom_authorize(request)


async def wecom_return(request: web.Request) -> web.StreamResponse:
    """Take WeCom's code back: check the state, ask WeCom whose code it is, log them in."""
    wecom = request.app[WECOM]
    if wecom is None:
        raise Refused(404, "未配置企业微信（WECOM_*）。")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    expected = request.cookies.get(STATE_COOKIE, "")
    if not code or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        raise Refused(400, "企业微信登录已过期或无效，请重新打开工作台。")
    async with WeComClient(
        wecom.corp_id, wecom.secret, wecom.agent_id, base_url=wecom.api_base_url
    ) as client:
        try:
            answer = await client._call("GET", "auth/getuserinfo", {"code": code[:512]},
                                        lambda: None)
        except WeComError as e:
            logger.warning("企业微信网页授权失败：%s", e)
            raise Refused(400, "企业微信登录失败，请重新打开工作台。") from None
    user = answer.get("userid") or answer.get("UserId")
    if not isinstance(user, str) or not user:
        raise Refused(403, "只有本企业的成员可以登录工作台。")
    # UserIds are case-insensitive: the chat's adapter reads them lower-cased, so does this.
    person_id = f"{PREFIX}{user.lower()}"
    known = await request.app[CORE].store.users.get(person_id)
    return await _start(request, Person(person_id, known.name if known else user))
