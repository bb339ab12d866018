"""The web console's settings: FENGONG_WEB_PORT, FENGONG_WEB_LISTEN, FENGONG_WEB_URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config import ConfigError

DEFAULT_PORT = 8088
OFF = ("off", "0", "no", "false")


@dataclass(frozen=True)
class WebSettings:
    """Where the web console listens and the public address its links use."""

    port: int = DEFAULT_PORT
    listen: str = "127.0.0.1"
    url: str = ""  # "": http://127.0.0.1:<port>
    oauth_url: str = ""  # WeCom's authorize page ("": open.weixin.qq.com's); tests use a fake

    @property
    def base_url(self) -> str:
        """Return the public base address, without a trailing slash."""
        return (self.url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def secure(self) -> bool:
        """Tell whether the console is reached over https (cookies then say Secure)."""
        return self.base_url.startswith("https://")


def web_settings(env: Mapping[str, str]) -> WebSettings | None:
    """Read the web console's settings; None when FENGONG_WEB_PORT=off."""
    raw = env.get("FENGONG_WEB_PORT", "").strip()
    if raw.lower() in OFF:
        return None
    if raw and not (raw.isdecimal() and 0 < int(raw) < 65536):
        raise ConfigError(f"FENGONG_WEB_PORT 应为 1–65535 的端口号或 off，当前为：{raw[:20]}")
    url = env.get("FENGONG_WEB_URL", "").strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise ConfigError("FENGONG_WEB_URL 应为 http:// 或 https:// 开头的网址，例如 https://fg.example.cn")
    listen = env.get("FENGONG_WEB_LISTEN", "").strip() or "127.0.0.1"
    oauth = env.get("WECOM_OAUTH_URL", "").strip()
    return WebSettings(int(raw) if raw else DEFAULT_PORT, listen, url, oauth)
