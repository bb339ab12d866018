"""The WeCom channel's settings from the environment (WECOM_*), checked before the start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import ConfigError
from handlers.wecom.client import DEFAULT_BASE_URL

REQUIRED = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
_KEY = re.compile(r"[A-Za-z0-9]{43}")
_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
# A CorpID: "ww" (企业微信) or "wx" and 16 hex digits; a Secret: 43 characters, be generous.
_CORP_ID = re.compile(r"w[wx][0-9a-f]{16}", re.IGNORECASE)
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


@dataclass(frozen=True)
class WeComSettings:
    """One self-built app: its ids, its secrets (kept out of repr) and where to listen."""

    corp_id: str
    agent_id: int
    secret: str = field(repr=False)
    token: str = field(repr=False)
    aes_key: str = field(repr=False)
    api_base_url: str = DEFAULT_BASE_URL
    listen: str = "0.0.0.0"
    port: int = 8080
    # False: text messages only, for staff who read WeCom in the WeChat plug-in (or a 政务微信
    # client) where markdown shows as "暂不支持此消息类型".
    markdown: bool = True


def wecom_settings(env: Mapping[str, str]) -> WeComSettings | None:
    """Read WECOM_*; None when none is set, ConfigError naming any missing or malformed one."""
    given = {name: env.get(name, "").strip() for name in REQUIRED}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigError(f"企业微信配置不完整，缺少 {'、'.join(missing)}")
    agent = given["WECOM_AGENT_ID"]
    if not agent.isascii() or not agent.isdigit():
        raise ConfigError(f"WECOM_AGENT_ID 必须是应用的 AgentId（数字），而不是 {agent!r}")
    if not _CORP_ID.fullmatch(given["WECOM_CORP_ID"]):
        raise ConfigError(
            "WECOM_CORP_ID 应为管理后台“我的企业”页的企业ID：ww 或 wx 开头，共 18 位字母和数字，"
            f"而不是 {given['WECOM_CORP_ID']!r}"
        )
    # The secrets are not echoed: only what is wrong with them.
    if not _SECRET.fullmatch(given["WECOM_SECRET"]):
        raise ConfigError(
            "WECOM_SECRET 应为应用详情页的 Secret：通常 43 位字母和数字"
            f"（现为 {len(given['WECOM_SECRET'])} 位）"
        )
    if not _TOKEN.fullmatch(given["WECOM_TOKEN"]):
        raise ConfigError("WECOM_TOKEN 应为后台“接收消息”页的 Token：3–32 位字母或数字")
    key = given["WECOM_AES_KEY"]
    if not _KEY.fullmatch(key):
        raise ConfigError(
            f"WECOM_AES_KEY 应为后台“接收消息”页的 EncodingAESKey：43 位字母和数字"
            f"（现为 {len(key)} 位）"
        )
    base_url = env.get("WECOM_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if not _URL.fullmatch(base_url):
        raise ConfigError(
            f"WECOM_API_BASE_URL 应为 http(s):// 开头的地址，例如 {DEFAULT_BASE_URL}"
        )
    return WeComSettings(
        corp_id=given["WECOM_CORP_ID"],
        agent_id=int(agent),
        secret=given["WECOM_SECRET"],
        token=given["WECOM_TOKEN"],
        aes_key=key,
        api_base_url=base_url,
        listen=env.get("WECOM_LISTEN", "").strip() or "0.0.0.0",
        port=_port(env.get("WECOM_PORT", "").strip() or "8080"),
        markdown=_switch("WECOM_MARKDOWN", env.get("WECOM_MARKDOWN", "").strip() or "1"),
    )


def _switch(name: str, text: str) -> bool:
    value = text.lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ConfigError(f"{name} 应为 1（开）或 0（关），而不是 {text!r}")


def _port(text: str) -> int:
    port = int(text) if text.isascii() and text.isdigit() else 0
    if not 0 < port < 65536:
        raise ConfigError(f"WECOM_PORT 必须是 1–65535 的端口号，而不是 {text!r}")
    return port
