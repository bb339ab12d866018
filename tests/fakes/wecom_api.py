"""A fake WeCom (企业微信) server API for end-to-end tests.

An aiohttp server on 127.0.0.1 (random port) answering the /cgi-bin/ calls the bot makes, with
WeCom's JSON envelopes and errcodes; the client under test talks real HTTP to it::

    async with FakeWeComApi() as api:
        client = WeComClient(api.corp_id, api.secret, api.agent_id, base_url=api.base_url)
        await client.send_text(["ZhangSan"], "你好")
        [call] = api.calls_of("message/send")
        assert api.messages_to("ZhangSan")[0]["text"]["content"] == "你好"

What it reproduces, and where it is stricter than WeCom:

* gettoken checks corpid and corpsecret (40013 / 40001) and issues a new token each call,
  valid `token_ttl` seconds on the fake's clock (`clock`, injectable). `expire_tokens()` makes
  every issued token expired (42001), `revoke_tokens()` invalid (40014).
* Every token call: missing token 41001, unknown or revoked 40014, expired 42001.
* message/send: agentid (40056), msgtype (40008), touser ≤ 1000 (40058). Text and markdown
  over 2048 bytes are refused with 45002 (WeCom truncates silently; the fake refuses so that a
  test notices). Members in `invalid_users` (or outside `members`, when it is set) are answered
  in `invaliduser`, lower-cased as WeCom does; all invalid gives 81013. The per-member limit of
  `per_member_limit` messages a minute is enforced: a send that would exceed it for any
  recipient is refused with 45033 and delivered to nobody (WeCom drops the excess silently).
* template_card: task_id charset and uniqueness, 1..6 buttons with unique keys for
  button_interaction; the answer carries a single-use `response_code`. update_template_card
  accepts each code (from a send or from `click_code()`) once.
* media/upload: multipart field `media`, kept with its file name; file/image messages need a
  known media_id (40007).
* menu/create (agentid in the query, 1..3 buttons) and the group robot webhook
  (/cgi-bin/webhook/send?key=…, `robot_keys`; 93000 for an unknown key; 20 a minute → 45009).
* `hold(*users)` makes message/send to them hang until `release(...)` (a slow WeCom);
  `waiting(user)` counts the sends held.
* OAuth2 网页授权: GET /connect/oauth2/authorize (WeCom's open.weixin.qq.com page; checks appid,
  scope snsapi_base, response_type) sends the browser back to redirect_uri with a code for
  `oauth_user` (the member signed in to WeCom) and the state; auth/getuserinfo exchanges a code
  once (40029 otherwise) for {"userid": …}.
* `inject(api, errcode, times)` answers the next `times` calls of an API with that errcode
  (after the token check), e.g. -1, 42001 or 45009.
* `fault(api, after, status=502)` answers one later call of an API (the one after `after`
  more) with that HTTP status, unprocessed; `fault(api, after, hang=True)` carries that call
  out (a message is delivered) and then withholds the answer until the fake closes, as a
  WeCom that hangs: `hung` is set once it is carried out.
* message/send with `enable_duplicate_check`: the same request (its whole JSON) within
  `duplicate_check_interval` seconds (default 1800) is answered as the first was and delivered
  to nobody (`suppressed` counts them), before any other check, as WeCom documents.
  `copies(user)` counts each distinct message a member got (a card without its task_id).
Every call is recorded in `calls` (method, api, query, json, token used, errcode).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlencode

from aiohttp import web

TEXT_LIMIT = 2048
ROBOT_MARKDOWN_LIMIT = 4096
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


@dataclass
class UploadedMedia:
    """A file the client uploaded."""

    kind: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request the fake answered."""

    method: str
    api: str  # the path after /cgi-bin/, e.g. "message/send"
    query: dict[str, str]
    json: Any
    token: str | None
    errcode: int = 0
    answer: dict[str, Any] = field(default_factory=dict)


class _Refusal(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


class FakeWeComApi:
    """The fake server. See the module docstring."""

    def __init__(
        self,
        *,
        corp_id: str = "ww0123456789abcdef",
        secret: str = "fake-app-secret-0123456789",
        agent_id: int = 1000002,
        token_ttl: int = 7200,
        per_member_limit: int = 30,
        robot_keys: Iterable[str] = ("robot-key-1",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.token_ttl = token_ttl
        self.per_member_limit = per_member_limit
        self.robot_keys = set(robot_keys)
        self.clock = clock
        self.invalid_users: set[str] = set()
        self.unlicensed_users: set[str] = set()
        self.members: set[str] | None = None  # None: everybody is in the app's range
        self.calls: list[Call] = []
        self.delivered: list[tuple[str, dict[str, Any]]] = []  # (user, payload)
        self.robot_messages: list[tuple[str, dict[str, Any]]] = []  # (key, payload)
        self.media: dict[str, UploadedMedia] = {}
        self.menus: list[dict[str, Any]] = []
        self.card_updates: list[dict[str, Any]] = []
        self.internal_errors: list[BaseException] = []
        self.oauth_user: str | None = None  # who is signed in to WeCom's browser
        self._oauth_codes: dict[str, str] = {}  # code -> userid, each usable once

        self._tokens: dict[str, float] = {}  # token -> expiry on the fake's clock
        self._revoked: set[str] = set()
        self._injected: dict[str, deque[int]] = defaultdict(deque)
        self._task_ids: set[str] = set()
        self._response_codes: set[str] = set()
        self._sent_at: dict[str, deque[float]] = defaultdict(deque)
        self._robot_sent_at: dict[str, deque[float]] = defaultdict(deque)
        self._counter = itertools.count(1)
        self._seen: dict[str, int] = defaultdict(int)  # calls of each API so far
        self._faults: dict[tuple[str, int], int | None] = {}  # (api, n) -> status; None: hang
        self._checked: dict[str, tuple[float, dict[str, Any]]] = {}  # duplicate check
        self.suppressed = 0
        self.hung = asyncio.Event()
        self._release = asyncio.Event()
        self._changed = asyncio.Event()
        self._held: dict[str, asyncio.Event] = {}  # member -> opened when released
        self._waiting: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[web.Request, Any], Any]] = {
            "message/send": self._message_send,
            "message/update_template_card": self._update_card,
            "media/upload": self._media_upload,
            "menu/create": self._menu_create,
            "auth/getuserinfo": self._getuserinfo,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port."""
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_route("*", "/cgi-bin/{api:.+}", self._handle)
        app.router.add_get("/connect/oauth2/authorize", self._authorize)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening."""
        self._release.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.close()
        if exc_type is None and self.internal_errors:
            raise AssertionError(f"the fake WeCom API failed: {self.internal_errors!r}")

    @property
    def oauth_url(self) -> str:
        """The authorize page (WeCom's is https://open.weixin.qq.com/connect/oauth2/authorize)."""
        return f"{self.base_url}/connect/oauth2/authorize"

    @property
    def base_url(self) -> str:
        """The value for WECOM_API_BASE_URL."""
        if self._port is None:
            raise RuntimeError("FakeWeComApi is not started")
        return f"http://127.0.0.1:{self._port}"

    def webhook_url(self, key: str = "robot-key-1") -> str:
        """A group robot's webhook URL on this server."""
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    # -- controls ----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (42001)."""
        now = self.clock()
        for token in self._tokens:
            self._tokens[token] = min(self._tokens[token], now)

    def revoke_tokens(self) -> None:
        """Every token issued so far is now invalid (40014)."""
        self._revoked.update(self._tokens)

    def inject(self, api: str, errcode: int, times: int = 1) -> None:
        """Answer the next `times` calls of `api` (e.g. "message/send") with `errcode`."""
        self._injected[api].extend([errcode] * times)

    def fault(self, api: str, after: int = 0, *, status: int = 502, hang: bool = False) -> None:
        """Fail the call of `api` after `after` more: HTTP `status`, or carried out, then hung."""
        self._faults[(api, self._seen[api] + after + 1)] = None if hang else status

    def hold(self, *users: str) -> None:
        """message/send to any of these members hangs (WeCom slow for them) until `release`.

        A held send whose caller gave up (timed out, or was killed) is delivered to nobody.
        """
        for user in users:
            self._held.setdefault(user, asyncio.Event())

    def release(self, *users: str) -> None:
        """Let the held sends to these members (all, when none is named) go through."""
        for user in users or list(self._held):
            self._held.pop(user, asyncio.Event()).set()

    def waiting(self, user: str) -> int:
        """How many sends to `user` are held now."""
        return self._waiting.get(user, 0)

    def click_code(self) -> str:
        """A fresh ResponseCode, as a template_card_event callback would carry."""
        code = f"rc-click-{next(self._counter)}"
        self._response_codes.add(code)
        return code

    # -- inspection --------------------------------------------------------------------------

    def calls_of(self, api: str) -> list[Call]:
        """The recorded calls of one API, oldest first."""
        return [c for c in self.calls if c.api == api]

    def messages_to(self, user: str) -> list[dict[str, Any]]:
        """The message/send payloads delivered to `user`, oldest first."""
        return [payload for to, payload in self.delivered if to == user]

    def copies(self, user: str) -> Counter[str]:
        """Count each distinct message `user` got (a card counted without its task_id)."""
        counted: Counter[str] = Counter()
        for payload in self.messages_to(user):
            content = dict(payload[payload["msgtype"]])
            content.pop("task_id", None)
            counted[json.dumps(content, ensure_ascii=False, sort_keys=True)] += 1
        return counted

    def texts_to(self, user: str) -> list[str]:
        """The text or markdown content delivered to `user`, oldest first."""
        return [
            p[p["msgtype"]]["content"]
            for p in self.messages_to(user)
            if p["msgtype"] in ("text", "markdown")
        ]

    async def wait_for(
        self,
        api: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper: the timeout is its API
    ) -> list[Call]:
        """Wait until `count` calls of `api` were answered; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.calls_of(api)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [c.api for c in self.calls]
                raise AssertionError(f"timed out waiting for {count} {api} call(s); got {seen}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
        return self.calls_of(api)

    # -- dispatch ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        api = request.match_info["api"]
        self._seen[api] += 1
        fault = self._faults.pop((api, self._seen[api]), 0)
        if fault:
            return web.Response(status=fault, text="Bad Gateway")
        query = dict(request.query)
        token = query.get("access_token")
        body: Any = None
        call = Call(request.method, api, query, None, token)
        try:
            if api != "media/upload" and request.can_read_body:
                raw = await request.read()
                body = json.loads(raw) if raw else None
                call.json = body
            answer = await self._answer(request, api, query, token, body)
        except _Refusal as refusal:
            answer = {"errcode": refusal.errcode, "errmsg": refusal.errmsg}
        except json.JSONDecodeError:
            answer = {"errcode": 47001, "errmsg": "data format error"}
        except Exception as e:  # the fake itself broke: make the test fail
            self.internal_errors.append(e)
            raise
        answer.setdefault("errcode", 0)
        answer.setdefault("errmsg", "ok")
        call.errcode = answer["errcode"]
        call.answer = answer
        if fault is None:  # carried out; the answer never comes
            self.hung.set()
            await self._release.wait()
        self.calls.append(call)
        self._changed.set()
        return web.json_response(answer)

    async def _answer(
        self, request: web.Request, api: str, query: dict[str, str], token: str | None, body: Any
    ) -> dict[str, Any]:
        if api == "gettoken":
            return self._gettoken(query)
        if api == "webhook/send":
            return self._webhook(query, body)
        handler = self._handlers.get(api)
        if handler is None:
            raise _Refusal(404, f"fake WeCom API has no {api}")
        self._check_token(token)
        injected = self._injected.get(api)
        if injected:
            errcode = injected.popleft()
            raise _Refusal(errcode, f"injected error {errcode}")
        result: dict[str, Any] = await handler(request, body)
        return result

    async def _authorize(self, request: web.Request) -> web.Response:
        """WeCom's OAuth2 page: back to redirect_uri with a code for `oauth_user`."""
        q = request.query
        if q.get("appid") != self.corp_id or q.get("scope") != "snsapi_base":
            return web.Response(status=400, text="invalid appid or scope")
        if q.get("response_type") != "code" or not q.get("redirect_uri"):
            return web.Response(status=400, text="invalid response_type or redirect_uri")
        if self.oauth_user is None:
            return web.Response(status=403, text="nobody signed in to WeCom")
        code = f"code-{next(self._counter)}"
        self._oauth_codes[code] = self.oauth_user
        back = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        raise web.HTTPFound(back)

    async def _getuserinfo(self, request: web.Request, body: Any) -> dict[str, Any]:
        user = self._oauth_codes.pop(request.query.get("code", ""), None)
        if user is None:
            raise _Refusal(40029, "invalid code")
        return {"userid": user}

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise _Refusal(41001, "access_token missing")
        if token not in self._tokens or token in self._revoked:
            raise _Refusal(40014, "invalid access_token")
        if self.clock() >= self._tokens[token]:
            raise _Refusal(42001, "access_token expired")

    # -- APIs --------------------------------------------------------------------------------

    def _gettoken(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("corpid") != self.corp_id:
            raise _Refusal(40013, "invalid corpid")
        if query.get("corpsecret") != self.secret:
            raise _Refusal(40001, "invalid credential")
        injected = self._injected.get("gettoken")
        if injected:
            errcode = injected.popleft()
            raise _Refusal(errcode, f"injected error {errcode}")
        token = f"fake-access-token-{next(self._counter)}-{'x' * 32}"
        self._tokens[token] = self.clock() + self.token_ttl
        return {"access_token": token, "expires_in": self.token_ttl}

    async def _message_send(self, request: web.Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _Refusal(47001, "data format error")
        checked = None
        if body.get("enable_duplicate_check") == 1:
            checked = json.dumps(body, sort_keys=True)
            interval = body.get("duplicate_check_interval", 1800)
            if not isinstance(interval, int) or not 0 < interval <= 4 * 3600:
                raise _Refusal(40058, "invalid duplicate_check_interval")
            first = self._checked.get(checked)
            if first is not None and self.clock() < first[0] + interval:
                self.suppressed += 1
                return dict(first[1])
        await self._hold(request, body)
        answer = await self._deliver(body)
        if checked is not None:
            self._checked[checked] = (self.clock(), dict(answer))
        return answer

    async def _hold(self, request: web.Request, body: dict[str, Any]) -> None:
        """Wait while a recipient is held; refuse when the caller is gone by then."""
        for user in str(body.get("touser", "")).split("|"):
            if user in self._held:
                self._waiting[user] = self._waiting.get(user, 0) + 1
                self._changed.set()
                try:
                    await self._held[user].wait()
                finally:
                    self._waiting[user] -= 1
                if request.transport is None or request.transport.is_closing():
                    raise _Refusal(-1, "the caller is gone")

    async def _deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id:
            raise _Refusal(40056, "invalid agentid")
        msgtype = body.get("msgtype")
        content = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in ("text", "markdown", "template_card", "file", "image"):
            raise _Refusal(40008, "invalid message type")
        if not isinstance(content, dict):
            raise _Refusal(47001, f"{msgtype} missing")
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        if not users or len(users) > 1000:
            raise _Refusal(40058, "touser must hold 1..1000 users")
        answer: dict[str, Any] = {}
        if msgtype in ("text", "markdown"):
            text = content.get("content")
            if not isinstance(text, str) or not text:
                raise _Refusal(44004, "empty content")
            if len(text.encode()) > TEXT_LIMIT:
                raise _Refusal(45002, "content size out of limit")
        if msgtype in ("file", "image") and content.get("media_id") not in self.media:
            raise _Refusal(40007, "invalid media_id")
        if msgtype == "template_card":
            answer["response_code"] = self._check_card(content)
        invalid = [u for u in users if self._out_of_range(u)]
        unlicensed = [u for u in users if u in self.unlicensed_users and u not in invalid]
        reachable = [u for u in users if u not in invalid and u not in unlicensed]
        if not reachable:
            raise _Refusal(81013, "user & party & tag all invalid")
        now = self.clock()
        for user in reachable:
            window = self._sent_at[user]
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.per_member_limit:
                raise _Refusal(45033, f"api concurrent out of limit (member {user})")
        for user in reachable:
            self._sent_at[user].append(now)
            self.delivered.append((user, body))
        if msgtype == "template_card":
            self._task_ids.add(content["task_id"])
        answer["msgid"] = f"msg-{next(self._counter)}"
        if invalid:
            answer["invaliduser"] = "|".join(u.lower() for u in invalid)
        if unlicensed:
            answer["unlicenseduser"] = "|".join(u.lower() for u in unlicensed)
        return answer

    def _out_of_range(self, user: str) -> bool:
        return user in self.invalid_users or (
            self.members is not None and user not in self.members
        )

    def _check_card(self, card: dict[str, Any]) -> str:
        task_id = card.get("task_id")
        if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
            raise _Refusal(40058, "invalid task_id")
        if task_id in self._task_ids:
            raise _Refusal(40058, "task_id duplicated")
        if card.get("card_type") == "button_interaction":
            buttons = card.get("button_list")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
                raise _Refusal(40058, "button_list must hold 1..6 buttons")
            keys = [b.get("key") for b in buttons]
            if not all(keys) or len(set(keys)) != len(keys):
                raise _Refusal(40058, "button key missing or duplicated")
        code = f"rc-send-{next(self._counter)}"
        self._response_codes.add(code)
        return code

    async def _update_card(self, request: web.Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("agentid") != self.agent_id:
            raise _Refusal(40056, "invalid agentid")
        code = body.get("response_code")
        if code not in self._response_codes:
            raise _Refusal(40058, "invalid response_code")
        if "button" not in body and "template_card" not in body:
            raise _Refusal(40058, "button or template_card required")
        self._response_codes.discard(code)
        self.card_updates.append(body)
        return {}

    async def _media_upload(self, request: web.Request, body: Any) -> dict[str, Any]:
        kind = request.query.get("type", "")
        if kind not in ("file", "image", "voice", "video"):
            raise _Refusal(40004, "invalid media type")
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) != "media":
                continue
            data = await part.read()  # type: ignore[union-attr]
            if not data:
                raise _Refusal(44001, "empty media data")
            media_id = f"media-{next(self._counter)}"
            self.media[media_id] = UploadedMedia(
                kind,
                part.filename or "",  # type: ignore[union-attr]
                part.headers.get("Content-Type", ""),
                bytes(data),
            )
            return {"type": kind, "media_id": media_id, "created_at": str(int(time.time()))}
        raise _Refusal(41005, "media data missing")

    async def _menu_create(self, request: web.Request, body: Any) -> dict[str, Any]:
        if request.query.get("agentid") != str(self.agent_id):
            raise _Refusal(40056, "invalid agentid")
        buttons = body.get("button") if isinstance(body, dict) else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _Refusal(40016, "invalid button size")
        self.menus.append(body)
        return {}

    def _webhook(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self.robot_keys:
            raise _Refusal(93000, "invalid webhook url")
        injected = self._injected.get("webhook/send")
        if injected:
            errcode = injected.popleft()
            raise _Refusal(errcode, f"injected error {errcode}")
        if not isinstance(body, dict) or body.get("msgtype") not in ("text", "markdown"):
            raise _Refusal(40008, "invalid message type")
        content = body[body["msgtype"]].get("content", "")
        limit = TEXT_LIMIT if body["msgtype"] == "text" else ROBOT_MARKDOWN_LIMIT
        if not content or len(content.encode()) > limit:
            raise _Refusal(45002, "content size out of limit")
        now = self.clock()
        window = self._robot_sent_at[key]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= 20:
            raise _Refusal(45009, "api freq out of limit")
        window.append(now)
        self.robot_messages.append((key, body))
        return {}
