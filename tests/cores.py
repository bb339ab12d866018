"""A core on a test's store, for tests that drive it without a channel."""

from __future__ import annotations

from collections.abc import Iterable

from bot.ask.assistant import Assistant
from bot.ask.catalog import Catalog
from bot.clock import Clock, system_clock
from bot.config import Config, ReminderConfig
from bot.core import Core
from bot.store import Store


def make_core(
    assistant: Assistant | Catalog,
    store: Store,
    coordinators: Iterable[str],
    clock: Clock = system_clock,
    reminders: ReminderConfig | None = None,
) -> Core:
    """Build the core on an open store (closed by the test's own `async with`)."""
    config = Config(coordinators=frozenset(coordinators), reminders=reminders or ReminderConfig())
    return Core(config, assistant, store, clock)
