"""Typed services for handlers: `context.services` instead of bot_data lookups."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.assistant import Assistant
from bot.clock import Clock, system_clock
from bot.config import Config
from bot.dialog import Dialog
from bot.office import Office
from bot.outcome import Person
from bot.reminders import Reminders
from bot.store import Store
from bot.throttle import Throttle

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


class Services:
    """What the handlers work with: built with the application, opened in post_init."""

    def __init__(self, config: Config, assistant: Assistant, clock: Clock = system_clock) -> None:
        self.config = config
        self.assistant = assistant
        self.clock = clock
        self.queries = QueryCache()
        self.dialog = Dialog(clock)
        self.throttle = Throttle(clock)
        self._office: Office | None = None
        self._reminders: Reminders | None = None
        # Who was already recorded as seen, so that not every message costs a write.
        self._seen: set[tuple[str, str, bool]] = set()

    async def open(self) -> None:
        """Open the database and the services that need it."""
        store = await Store.open(self.config.db_path, self.clock)
        self._office = Office(self.assistant, store, self.config.coordinators, self.clock)
        self._reminders = Reminders(self._office.membership, self.config.reminders)

    async def close(self) -> None:
        """Close the database."""
        if self._office is not None:
            await self._office.membership.store.close()
            self._office = None

    @property
    def office(self) -> Office:
        """Return the members-and-notes service (after `open`)."""
        if self._office is None:
            raise RuntimeError("services are not open")
        return self._office

    @property
    def reminders(self) -> Reminders:
        """Return the reminders service (after `open`)."""
        if self._reminders is None:
            raise RuntimeError("services are not open")
        return self._reminders

    def is_new(self, person: Person) -> bool:
        """Tell whether the person's name or chat kind has not been recorded yet."""
        return (person.id, person.name, person.private) not in self._seen

    async def seen(self, person: Person) -> None:
        """Record the person once per name and chat kind (private chat opens reminders)."""
        if self.is_new(person):
            await self.office.membership.seen(person)
            self._seen.add((person.id, person.name, person.private))


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The handlers' context, with the typed services."""

    @property
    def services(self) -> Services:
        """Return the application's services."""
        return services_of(self.application.bot_data)


def services_of(bot_data: dict[Any, Any]) -> Services:
    """Return the services installed on an application's bot_data."""
    services: Services = bot_data[_SERVICES]
    return services


def attach(bot_data: dict[Any, Any], services: Services) -> None:
    """Install the services on an application's bot_data (once, at build time)."""
    bot_data[_SERVICES] = services
