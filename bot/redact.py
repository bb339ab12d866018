"""Keeping secrets out of the log: a filter on every handler, installed with the logging set-up.

A secret is any configured value whose variable name says so (TELEGRAM_BOT_TOKEN, WECOM_SECRET,
WECOM_AES_KEY, FENGONG_GROUP_WEBHOOK …) and the password of a URL configured (FENGONG_DB's
postgresql://user:password@…), plus what looks like one whatever its source: the token in a Bot
API URL (/bot<token>/), an `access_token=` query value (WeCom's API), a URL's password.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

MASK = "***"
# Environment variables whose values are secrets, now and for channels to come.
_SECRET_NAME = re.compile(
    r"^(?:TELEGRAM|WECOM|FENGONG)_\w*(?:TOKEN|SECRET|AES_?KEY|PASSWORD|GROUP_WEBHOOK)\w*$"
)
_PATTERNS = (
    # Not after "//": postgresql://bot:…@host/ is a user named bot (its password masked below).
    (re.compile(r"(?<!/)/bot[^/\s'\"]+/"), f"/bot{MASK}/"),
    # WeCom's API: access_token and corpsecret in its URLs, a group robot's key.
    (
        re.compile(r"\b(access_token=|corpsecret=|key=)[^&\s'\"<>]+", re.IGNORECASE),
        rf"\g<1>{MASK}",
    ),
    # A URL's password: scheme://user:password@host.
    (
        re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)[^\s/@'\"]+@", re.IGNORECASE),
        rf"\g<1>{MASK}@",
    ),
)
# The same, to find the passwords of the URLs configured (masked alone too, decoded or not).
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s:/@]*:([^\s/@]+)@", re.IGNORECASE)
# httpx and httpcore log every request URL (a Bot API URL holds the token), aiosqlite every
# statement with its values (a note's text).
_QUIET = ("httpx", "httpcore", "aiosqlite")


# A Bot API token "123456789:AAH…": its secret half also shows alone (a URL split at the colon).
_TOKEN_HALF = re.compile(r"[0-9]+:([A-Za-z0-9_-]+)")
# Characters a secret value is made of: a match inside a longer run of them is another word.
_WORD = "A-Za-z0-9_-"


def secrets_in(env: Mapping[str, str]) -> set[str]:
    """Return the secret values configured in `env` (a Bot API token's secret half too)."""
    values = {
        value.strip() for name, value in env.items() if _SECRET_NAME.match(name) and value.strip()
    }
    halves = {m[1] for value in values if (m := _TOKEN_HALF.fullmatch(value))}
    passwords = {m[1] for value in env.values() if (m := _URL_PASSWORD.match(value.strip()))}
    return values | halves | passwords | {unquote(password) for password in passwords}


def redact(text: str, *secrets: str) -> str:
    """Return `text` with these secrets, and whatever looks like one in a URL, masked."""
    # Longest first: a secret containing another is masked whole. Only whole values: a short
    # secret ("s") must not mask every "s" of the message around it.
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = re.sub(rf"(?<![{_WORD}]){re.escape(secret)}(?![{_WORD}])", MASK, text)
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    return text


class RedactSecrets(logging.Filter):
    """Replaces every secret in a record's message, arguments and traceback with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Redact these values too (e.g. a secret generated at start)."""
        self.secrets.update(s for s in secrets if s)

    def redact(self, text: str) -> str:
        """Return `text` with every secret masked."""
        return redact(text, *self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drop it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: log what was given, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # The traceback is formatted by the handler later: format it now, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER = RedactSecrets()


def install(env: Mapping[str, str] | None = None) -> RedactSecrets:
    """Mask the configured secrets on every root handler; quieten per-request HTTP logs."""
    _FILTER.add(*secrets_in(os.environ if env is None else env))
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return _FILTER


def masked(text: str) -> str:
    """Return `text` with every configured secret, and whatever looks like one, masked."""
    return _FILTER.redact(text)


def add_secret(*secrets: str) -> None:
    """Mask these values in the log from now on (secrets that are not in the environment)."""
    _FILTER.add(*secrets)
