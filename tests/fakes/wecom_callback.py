"""WeCom's side of the callback: encrypts, signs and delivers callbacks as WeCom does.

Written from the protocol (and checked against the official test vectors in
tests/test_wecom_fakes.py), not from handlers/wecom/crypto.py, so that a bug there is not
mirrored here::

    async with WeComCallbackClient(url, token=..., encoding_aes_key=..., corp_id=...) as wecom:
        status, body = await wecom.verify_url("1288432023552776189")
        status, body = await wecom.post(wecom.text("ZhangSan", "人社厅负责什么", msg_id="1"))
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def wecom_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """sha1 over the four values sorted lexicographically and concatenated, in hex."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def wecom_encrypt(encoding_aes_key: str, receive_id: str, message: bytes, random16: bytes) -> str:
    """Encrypt as the official WXBizMsgCrypt does (PKCS#7 to 32 bytes, IV = key[:16])."""
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    assert len(random16) == 16
    plain = random16 + len(message).to_bytes(4, "big") + message + receive_id.encode()
    amount = 32 - (len(plain) % 32)
    plain += bytes([amount]) * amount
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def envelope_xml(corp_id: str, encrypt: str, agent_id: int | None) -> bytes:
    """The POSTed outer XML, laid out like the official sample."""
    agent = f"<AgentID><![CDATA[{agent_id}]]></AgentID>\n" if agent_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>\n"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n{agent}</xml>"
    ).encode()


class WeComCallbackClient:
    """Delivers callbacks for one app to a callback URL, as WeCom's servers would."""

    def __init__(
        self,
        url: str,
        *,
        token: str,
        encoding_aes_key: str,
        corp_id: str,
        agent_id: int = 1000002,
        random_bytes: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.token = token
        self.encoding_aes_key = encoding_aes_key
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._random = random_bytes
        self._clock = clock
        self._nonces = iter(range(10**8, 2 * 10**8))
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        # WeCom gives up on a callback after 5 seconds.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    # -- building ----------------------------------------------------------------------------

    def encrypt(self, message: bytes, receive_id: str | None = None) -> str:
        """Encrypt `message` for this app (or, to test refusal, for another receive_id)."""
        receiver = self.corp_id if receive_id is None else receive_id
        return wecom_encrypt(self.encoding_aes_key, receiver, message, self._random(16))

    def signed_query(self, encrypt: str, **extra: str) -> dict[str, str]:
        """msg_signature, timestamp and nonce for `encrypt` (plus `extra` params)."""
        timestamp = str(int(self._clock()))
        nonce = str(next(self._nonces))
        signed = wecom_signature(self.token, timestamp, nonce, encrypt)
        return {"msg_signature": signed, "timestamp": timestamp, "nonce": nonce, **extra}

    def text(self, user: str, content: str, *, msg_id: str, create_time: int = 0) -> str:
        """The plaintext XML of a text message (CDATA, like WeCom's)."""
        return self._xml(
            user,
            create_time,
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId>",
        )

    def card_click(
        self,
        user: str,
        *,
        task_id: str,
        event_key: str,
        response_code: str = "rc",
        create_time: int = 0,
        card_type: str = "button_interaction",
    ) -> str:
        """The plaintext XML of a template_card_event (a card button pressed)."""
        return self._event(
            user,
            "template_card_event",
            create_time,
            f"<EventKey><![CDATA[{event_key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
            f"<CardType><![CDATA[{card_type}]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode>",
        )

    def menu_click(self, user: str, key: str, *, create_time: int = 0) -> str:
        """The plaintext XML of an application-menu click."""
        return self._event(user, "click", create_time, f"<EventKey><![CDATA[{key}]]></EventKey>")

    def enter_agent(self, user: str, *, create_time: int = 0) -> str:
        """The plaintext XML of a member opening the app."""
        return self._event(user, "enter_agent", create_time, "<EventKey><![CDATA[]]></EventKey>")

    def _event(self, user: str, event: str, create_time: int, extra: str) -> str:
        return self._xml(
            user,
            create_time,
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{extra}",
        )

    def _xml(self, user: str, create_time: int, body: str) -> str:
        when = create_time or int(self._clock())
        return (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{when}</CreateTime>"
            f"{body}<AgentID>{self.agent_id}</AgentID></xml>"
        )

    # -- delivering --------------------------------------------------------------------------

    async def verify_url(self, echo: str = "1288432023552776189") -> tuple[int, str]:
        """Do the URL verification GET; return (status, body)."""
        echostr = self.encrypt(echo.encode())
        return await self.get(self.signed_query(echostr, echostr=echostr))

    async def get(self, query: Mapping[str, str]) -> tuple[int, str]:
        """GET the callback URL with `query` (percent-encoded as WeCom sends it)."""
        async with self._client().get(self.url, params=query) as response:
            return response.status, await response.text()

    async def post(
        self, plaintext: str | bytes, *, receive_id: str | None = None
    ) -> tuple[int, str]:
        """Encrypt, sign and POST a callback; return (status, body)."""
        message = plaintext.encode() if isinstance(plaintext, str) else plaintext
        encrypt = self.encrypt(message, receive_id)
        body = envelope_xml(self.corp_id, encrypt, self.agent_id)
        return await self.post_raw(self.signed_query(encrypt), body)

    async def post_raw(self, query: Mapping[str, str], body: bytes) -> tuple[int, str]:
        """POST any query and body (to test what must be refused)."""
        async with self._client().post(
            self.url, params=query, data=body, headers={"Content-Type": "text/xml"}
        ) as response:
            return response.status, await response.text()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use `async with WeComCallbackClient(...)`")
        return self._session


def official_sample() -> dict[str, Any]:
    """The official callback sample's settings (sbzhu/weworkapi_python callback/Sample.py)."""
    return {
        "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
        "encoding_aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
        "corp_id": "ww1436e0e65a779aee",
    }
