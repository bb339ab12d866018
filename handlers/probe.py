"""Docker's HEALTHCHECK: `python -m handlers.probe` asks the bot's own server for GET /healthz.

WeCom's callback server (WECOM_PORT) or Telegram's webhook server (TELEGRAM_WEBHOOK_PORT)
answers 200 while the database answers. Telegram by long polling runs no server: the process
running is then all a probe can see, and it passes.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping


def health_url(env: Mapping[str, str]) -> str | None:
    """Return the /healthz URL of the server the settings start, or None when none runs."""
    if env.get("WECOM_CORP_ID"):
        port = env.get("WECOM_PORT") or "8080"
    elif env.get("TELEGRAM_WEBHOOK_URL"):
        port = env.get("TELEGRAM_WEBHOOK_PORT") or "8443"
    else:
        return None
    return f"http://127.0.0.1:{port}/healthz"


def probe(env: Mapping[str, str] = os.environ, timeout: float = 5.0) -> int:
    """Return 0 when the bot's server says it is healthy (or runs none), else 1."""
    url = health_url(env)
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as e:
        print(f"不健康：{url}（{e}）", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(probe())
