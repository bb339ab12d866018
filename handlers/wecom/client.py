"""The WeCom server API (企业微信 / 政务微信) on aiohttp: token, sending, cards, media, menu.

One base URL serves every call, gettoken included, so a 政务微信 host or a test server works.
The access_token is cached until shortly before `expires_in` and fetched again once when WeCom
calls it invalid (40014) or expired (42001); concurrent callers share one fetch. "System busy"
(-1) and the frequency limits (45009, 45033) are retried after a pause; any other error is
raised as WeComError. A send that would take a member past WeCom's 30 messages a minute (or
1000 an hour), which WeCom would drop without a word, waits until it fits. Neither the token
nor the secret ever reaches a log line or an exception: only API paths are logged, and every
text taken from a URL or an answer is redacted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import aiohttp

from bot.redact import redact
from handlers.wecom.cards import check_card
from handlers.wecom.split import TEXT_LIMIT

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
MAX_RECIPIENTS = 1000
TOKEN_MARGIN = 300.0  # seconds: fetch a new token this long before the old one expires

BUSY = -1
TOKEN_INVALID = frozenset({40014, 42001})
RATE_LIMITED = frozenset({45009, 45033})
ALL_INVALID = 81013
BUSY_DELAYS = (1.0, 2.0, 4.0)  # seconds before each retry after -1
HTTP_TIMEOUT = 30.0  # seconds for one call, answer included
# A send marked for WeCom's duplicate check: the same request within this window is delivered
# once, so one whose answer was lost can be sent again as it was (4 hours, WeCom's longest).
DUPLICATE_WINDOW = 4 * 3600
UNKNOWN_RETRIES = 2  # times a checked send is repeated at once when no answer came
RATE_DELAYS = (10.0, 30.0, 60.0)  # per-member limits count per minute
# WeCom delivers at most 30 messages a minute and 1000 an hour to one member from one app and
# drops the rest without an error: the client holds back a send that would exceed either.
MEMBER_LIMITS = ((30, 60.0), (1000, 3600.0))


Sleep = Callable[[float], Awaitable[None]]
MonotonicClock = Callable[[], float]
MediaKind = Literal["file", "image", "voice", "video"]


class WeComError(Exception):
    """A WeCom API call failed: an errcode, an HTTP status or a network error.

    `unknown`: the request went out but no answer came (a timeout, a connection lost after
    sending), so WeCom may have carried it out.
    """

    def __init__(self, api: str, errcode: int | None, detail: str, *, unknown: bool = False):
        self.api = api
        self.errcode = errcode
        self.unknown = unknown
        self.detail = detail
        code = f" {errcode}" if errcode is not None else ""
        super().__init__(f"企业微信接口 {api} 失败{code}：{detail}")


@dataclass(frozen=True)
class SendResult:
    """What message/send answered: the recipients WeCom could not reach, and card codes."""

    errcode: int
    msgid: str | None
    invalid_users: tuple[str, ...]
    unlicensed_users: tuple[str, ...]
    response_code: str | None

    def unreachable(self, users: Iterable[str]) -> list[str]:
        """Return those of `users` WeCom listed as invalid or unlicensed (it lower-cases ids)."""
        listed = {u.lower() for u in (*self.invalid_users, *self.unlicensed_users)}
        return [u for u in users if u.lower() in listed]


class _MemberPace:
    """Waits until every recipient of a send is within WeCom's per-member limits."""

    def __init__(
        self, limits: Sequence[tuple[int, float]], clock: MonotonicClock, sleep: Sleep
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._longest = max((window for _, window in limits), default=0.0)
        self._sent: dict[str, deque[float]] = {}

    async def reserve(self, users: Sequence[str]) -> None:
        """Return once each of `users` may get one more message, and count it."""
        if not self._limits:
            return
        while True:
            now = self._clock()
            wait = max((self._wait(user.lower(), now) for user in users), default=0.0)
            if wait <= 0:
                for user in users:
                    self._sent.setdefault(user.lower(), deque()).append(now)
                return
            logger.info("企业微信单人发送频率将超限，等待 %.0f 秒", wait)
            await self._sleep(wait)

    def _wait(self, user: str, now: float) -> float:
        sent = self._sent.get(user)
        if sent is None:
            return 0.0
        while sent and sent[0] <= now - self._longest:
            sent.popleft()
        if not sent:
            del self._sent[user]
            return 0.0
        wait = 0.0
        for limit, window in self._limits:
            recent = [t for t in sent if t > now - window]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + window - now)
        return wait


class _Retries:
    """How long to wait before retrying after an errcode, or None to stop."""

    def __init__(self) -> None:
        self._busy = list(BUSY_DELAYS)
        self._rate = list(RATE_DELAYS)

    def delay(self, errcode: int) -> float | None:
        """Return the wait before the next retry after `errcode`, or None to give up."""
        if errcode == BUSY and self._busy:
            return self._busy.pop(0)
        if errcode in RATE_LIMITED and self._rate:
            return self._rate.pop(0)
        return None


class _Http:
    """JSON over one aiohttp session, with every error redacted."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        secrets_: Callable[[], list[str]],
        timeout: float = HTTP_TIMEOUT,
    ):
        self._session = session
        self._owned = session is None
        self._secrets = secrets_
        self._timeout = timeout

    async def close(self) -> None:
        """Close the session if this object opened it."""
        if self._owned and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        url: str,
        api: str,
        params: Mapping[str, str],
        body: Callable[[], aiohttp.FormData | bytes | None],
    ) -> dict[str, Any]:
        """Send one request; return its JSON object, or raise WeComError (redacted)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        data = body()
        headers = {"Content-Type": "application/json"} if isinstance(data, bytes) else None
        try:
            async with self._session.request(
                method, url, params=params, data=data, headers=headers
            ) as response:
                if response.status != 200:
                    raise WeComError(api, None, f"HTTP {response.status}")
                answer = await response.json(content_type=None)
        except aiohttp.ClientError as e:
            detail = _network_cause(e) or redact(f"{type(e).__name__}: {e}", *self._secrets())
            # Refused before connecting: nothing went out. Lost after: WeCom may have it.
            lost = not isinstance(e, aiohttp.ClientConnectorError)
            raise WeComError(api, None, f"网络错误：{detail}", unknown=lost) from None
        except TimeoutError:
            raise WeComError(api, None, "超时，未收到应答", unknown=True) from None
        except ValueError:
            raise WeComError(api, None, "应答不是 JSON") from None
        if not isinstance(answer, dict):
            raise WeComError(api, None, "应答不是 JSON 对象")
        return answer

    def detail(self, answer: Mapping[str, Any]) -> str:
        """Return an answer's errmsg with every secret redacted."""
        return redact(str(answer.get("errmsg", "")), *self._secrets())


def _network_cause(error: aiohttp.ClientError) -> str | None:
    """Say in Chinese why no connection came about (None: a rarer error, told as it is)."""
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"域名解析失败，找不到 {error.host}"
    if isinstance(error, aiohttp.ClientConnectorError):
        where = f"{error.host}:{error.port}"
        if isinstance(error.os_error, ConnectionRefusedError):
            return f"连接被拒绝（{where}）"
        if isinstance(error.os_error, TimeoutError):
            return f"连接 {where} 超时"
        return f"无法连接 {where}"
    if isinstance(error, aiohttp.ServerTimeoutError):
        return "等待应答超时"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "服务器断开了连接"
    return None


def _errcode(answer: Mapping[str, Any]) -> int:
    code = answer.get("errcode", 0)
    return code if isinstance(code, int) else -1


def _json(payload: Mapping[str, Any]) -> Callable[[], bytes]:
    data = json.dumps(payload, ensure_ascii=False).encode()
    return lambda: data


def _ids(value: Any) -> tuple[str, ...]:
    """Read a recipient list WeCom gives as "a|b" or as a JSON list."""
    if isinstance(value, str):
        return tuple(v for v in value.split("|") if v)
    if isinstance(value, list):
        return tuple(str(v) for v in value if v)
    return ()


class WeComClient:
    """One self-built app's API client (CorpID, Secret, AgentID)."""

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: MonotonicClock = time.monotonic,
        member_limits: Sequence[tuple[int, float]] = MEMBER_LIMITS,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.base_url = base_url.rstrip("/").removesuffix("/cgi-bin")
        self._secret = secret
        self._sleep = sleep
        self._clock = clock
        self._http = _Http(session, self._secrets, timeout)
        self._token: str | None = None
        self._expires_at = 0.0
        self._generation = 0
        self._token_lock = asyncio.Lock()
        self._pace = _MemberPace(member_limits, clock, sleep)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if the client opened it."""
        await self._http.close()

    # -- sending ---------------------------------------------------------------------------

    async def send_text(
        self, users: Sequence[str], content: str, *, checked: bool = False
    ) -> SendResult:
        """Send a text message (≤ 2048 bytes: cut longer ones with split.split_utf8).

        `checked`: WeCom's duplicate check is on (see `_send`), for a message that must not
        reach anyone twice (a reminder), and that is never meant to be sent twice as it is.
        """
        _check_size(content, "text")
        return await self._send(users, "text", {"content": content}, checked=checked)

    async def send_markdown(
        self, users: Sequence[str], content: str, *, checked: bool = False
    ) -> SendResult:
        """Send a markdown message (WeCom's subset; ≤ 2048 bytes); `checked` as send_text."""
        _check_size(content, "markdown")
        return await self._send(users, "markdown", {"content": content}, checked=checked)

    async def send_card(
        self, users: Sequence[str], card: Mapping[str, Any], *, checked: bool = False
    ) -> SendResult:
        """Send a template card; its response_code is in the result; `checked` as send_text."""
        check_card(card)
        return await self._send(users, "template_card", dict(card), checked=checked)

    async def send_file(self, users: Sequence[str], media_id: str) -> SendResult:
        """Send an uploaded file."""
        return await self._send(users, "file", {"media_id": media_id})

    async def send_image(self, users: Sequence[str], media_id: str) -> SendResult:
        """Send an uploaded image."""
        return await self._send(users, "image", {"media_id": media_id})

    async def upload_media(
        self,
        kind: MediaKind,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Upload temporary media (kept 3 days by WeCom); return its media_id."""

        def form() -> aiohttp.FormData:
            # WeCom reads the file name as raw UTF-8, not percent-encoded.
            built = aiohttp.FormData(quote_fields=False)
            built.add_field("media", data, filename=filename, content_type=content_type)
            return built

        answer = await self._call("POST", "media/upload", {"type": kind}, form)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeComError("media/upload", None, "应答缺少 media_id")
        return media_id

    async def update_card(
        self,
        response_code: str,
        *,
        users: Sequence[str] = (),
        replace_name: str | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> None:
        """Update a sent card (all recipients unless `users`): grey its buttons or replace it."""
        if (replace_name is None) == (card is None):
            raise ValueError("replace_name 和 card 须且只须给一个")
        payload: dict[str, Any] = {"agentid": self.agent_id, "response_code": response_code}
        if users:
            payload["userids"] = list(users)
        else:
            payload["atall"] = 1
        if replace_name is not None:
            payload["button"] = {"replace_name": replace_name}
        else:
            payload["template_card"] = dict(card or {})
        await self._call("POST", "message/update_template_card", {}, _json(payload))

    async def create_menu(self, buttons: Sequence[Mapping[str, Any]]) -> None:
        """Replace the app's menu (1–3 top-level buttons)."""
        if not 1 <= len(buttons) <= 3:
            raise ValueError("应用菜单须有 1–3 个一级菜单")
        params = {"agentid": str(self.agent_id)}
        await self._call("POST", "menu/create", params, _json({"button": list(buttons)}))

    async def _send(
        self,
        users: Sequence[str],
        msgtype: str,
        content: Mapping[str, Any],
        checked: bool = False,
    ) -> SendResult:
        """Send one message/send; a checked one is repeated as it was when no answer came.

        WeCom's duplicate check delivers the same request once within DUPLICATE_WINDOW: a
        repeat after a lost answer reaches only those the first try did not.
        """
        if not 1 <= len(users) <= MAX_RECIPIENTS:
            raise ValueError(f"一次须发给 1–{MAX_RECIPIENTS} 人")
        if any("|" in user for user in users):  # one id would address others
            raise ValueError("企业微信 UserId 不能含有“|”")
        payload: dict[str, Any] = {
            "touser": "|".join(users),
            "msgtype": msgtype,
            "agentid": self.agent_id,
            msgtype: content,
        }
        if checked:
            payload |= {"enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_WINDOW}
        await self._pace.reserve(users)
        body, repeats = _json(payload), UNKNOWN_RETRIES if checked else 0
        while True:
            try:
                answer = await self._call("POST", "message/send", {}, body, accept={ALL_INVALID})
                break
            except WeComError as e:
                if not e.unknown or repeats == 0:
                    raise
                repeats -= 1
                logger.warning("企业微信 message/send 未收到应答（%s），按重复检查原样重发", e)
        errcode = _errcode(answer)
        invalid = _ids(answer.get("invaliduser"))
        if errcode == ALL_INVALID and not invalid:
            invalid = tuple(users)
        if invalid:
            logger.info("企业微信 message/send：%d 名接收人不可达", len(invalid))
        msgid = answer.get("msgid")
        code = answer.get("response_code")
        return SendResult(
            errcode=errcode,
            msgid=str(msgid) if msgid else None,
            invalid_users=invalid,
            unlicensed_users=_ids(answer.get("unlicenseduser")),
            response_code=code if isinstance(code, str) and code else None,
        )

    # -- the call loop and the token ----------------------------------------------------------

    async def _call(
        self,
        method: str,
        api: str,
        params: Mapping[str, str],
        body: Callable[[], aiohttp.FormData | bytes | None],
        *,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> dict[str, Any]:
        """Call /cgi-bin/`api` with the token; refresh it once, wait out busy and limits."""
        refreshed = False
        retries = _Retries()
        url = f"{self.base_url}/cgi-bin/{api}"
        while True:
            token, generation = await self._current_token()
            query = {**params, "access_token": token}
            answer = await self._http.call(method, url, api, query, body)
            errcode = _errcode(answer)
            logger.debug("企业微信 %s → %s", api, errcode)
            if errcode == 0 or errcode in accept:
                return answer
            if errcode in TOKEN_INVALID and not refreshed:
                refreshed = True
                self._discard(generation)
                continue
            delay = retries.delay(errcode)
            if delay is None:
                raise WeComError(api, errcode, self._http.detail(answer))
            logger.warning("企业微信 %s 返回 %s，%.0f 秒后重试", api, errcode, delay)
            await self._sleep(delay)

    async def _current_token(self) -> tuple[str, int]:
        """The cached token and its generation; at most one fetch in flight."""
        if self._token is not None and self._clock() < self._expires_at:
            return self._token, self._generation
        async with self._token_lock:
            if self._token is None or self._clock() >= self._expires_at:
                await self._fetch_token()
            assert self._token is not None
            return self._token, self._generation

    def _discard(self, generation: int) -> None:
        """Forget the token WeCom refused, unless a newer one was fetched meanwhile."""
        if generation == self._generation:
            self._expires_at = 0.0

    async def _fetch_token(self) -> None:
        url = f"{self.base_url}/cgi-bin/gettoken"
        params = {"corpid": self.corp_id, "corpsecret": self._secret}
        retries = _Retries()
        while True:
            answer = await self._http.call("GET", url, "gettoken", params, lambda: None)
            errcode = _errcode(answer)
            if errcode == 0:
                break
            delay = retries.delay(errcode)
            if delay is None:
                raise WeComError("gettoken", errcode, self._http.detail(answer))
            logger.warning("企业微信 gettoken 返回 %s，%.0f 秒后重试", errcode, delay)
            await self._sleep(delay)
        token = answer.get("access_token")
        expires_in = answer.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeComError("gettoken", None, "应答缺少 access_token 或 expires_in")
        self._token = token
        self._expires_at = self._clock() + max(expires_in - TOKEN_MARGIN, expires_in / 2)
        self._generation += 1
        logger.info("企业微信 access_token 已更新，%d 秒后过期", expires_in)

    def _secrets(self) -> list[str]:
        return [self._secret, self._token or ""]


class GroupRobot:
    """A group robot (消息推送) webhook: posts text or markdown into one group chat."""

    def __init__(
        self,
        webhook_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        self._url = webhook_url
        self._sleep = sleep
        self._http = _Http(session, lambda: [webhook_url], timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if the robot opened it."""
        await self._http.close()

    async def send_text(self, content: str, mentioned: Sequence[str] = ()) -> None:
        """Post a text (≤ 2048 bytes), @-mentioning the given UserIDs."""
        _check_size(content, "text")
        text: dict[str, Any] = {"content": content}
        if mentioned:
            text["mentioned_list"] = list(mentioned)
        await self._post({"msgtype": "text", "text": text})

    async def send_markdown(self, content: str) -> None:
        """Post markdown (≤ 4096 bytes)."""
        _check_size(content, "markdown", 4096)
        await self._post({"msgtype": "markdown", "markdown": {"content": content}})

    async def _post(self, payload: Mapping[str, Any]) -> None:
        retries = _Retries()
        while True:
            answer = await self._http.call("POST", self._url, "webhook/send", {}, _json(payload))
            errcode = _errcode(answer)
            if errcode == 0:
                return
            delay = retries.delay(errcode)
            if delay is None:
                raise WeComError("webhook/send", errcode, self._http.detail(answer))
            logger.warning("群机器人返回 %s，%.0f 秒后重试", errcode, delay)
            await self._sleep(delay)


def _check_size(content: str, kind: str, limit: int = TEXT_LIMIT) -> None:
    if not content:
        raise ValueError(f"{kind} 内容为空")
    if len(content.encode()) > limit:
        raise ValueError(f"{kind} 内容超过 {limit} 字节，请先用 split_utf8 切分")
