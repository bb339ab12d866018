"""Typed services for handlers: `context.services` instead of bot_data lookups."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.assistant import Assistant
from bot.config import Config

_SERVICES = "services"


class QueryCache:
    """Remembers what a paginated message answered, so its page buttons can redraw it.

    Buttons carry a short token (callback data is limited to 64 bytes); a token that was
    evicted, never issued or forged reads as expired.
    """

    def __init__(self, capacity: int = 5000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def remember(self, kind: str, arg: str) -> str:
        """Store a query and return its token."""
        token = secrets.token_urlsafe(6)
        self._entries[token] = (kind, arg)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return token

    def recall(self, token: str) -> tuple[str, str] | None:
        """Return the query behind a token, or None when it is unknown."""
        entry = self._entries.get(token)
        if entry is not None:
            self._entries.move_to_end(token)
        return entry


@dataclass(frozen=True)
class Services:
    """What the handlers work with; built once in `build_application`."""

    config: Config
    assistant: Assistant
    queries: QueryCache = field(default_factory=QueryCache)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The handlers' context, with the typed services."""

    @property
    def services(self) -> Services:
        """Return the application's services."""
        services: Services = self.application.bot_data[_SERVICES]
        return services


def attach(bot_data: dict[Any, Any], services: Services) -> None:
    """Install the services on an application's bot_data (once, at build time)."""
    bot_data[_SERVICES] = services
