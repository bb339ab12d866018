"""The web console on a real store and a real aiohttp server on a free port, and its people."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.core import Core
from bot.documents.plan import DATA_DIR
from bot.outcome import Person
from bot.reply import render_plain
from bot.store import Store
from handlers.web.server import serving
from handlers.web.settings import WebSettings
from handlers.wecom.settings import WeComSettings
from tests.cores import make_core
from tests.fakes.clock import FakeClock

COORDINATOR = Person("tg:1", "协调人甲")
MEMBER = Person("tg:2", "李四")  # of 人社厅
OTHER = Person("tg:3", "王五")  # of 教育厅
STRANGER = Person("tg:4", "路人")
UNIT, OTHER_UNIT = "人力资源社会保障厅", "教育厅"
ROLES = {"coordinator": COORDINATOR, "member": MEMBER, "other": OTHER, "stranger": STRANGER}
NOW = dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)
LINK = re.compile(r"http://\S+/login\?t=[0-9a-f]{40}\b")


@dataclass
class Desk:
    """A running console: its core, clock and base address."""

    core: Core
    clock: FakeClock
    url: str

    def unit_index(self, name: str) -> int:
        """Return a unit's index in the plan (the `u` of the console's addresses)."""
        return [u.name for u in self.core.office.membership.plan.units].index(name)

    async def link(self, person: Person) -> str:
        """Send /web as the person, through the core as any chat does; return the link."""
        response = await self.core.command(person, person.id, "web", "")
        found = LINK.search(render_plain(response.outcome.reply))
        assert found, render_plain(response.outcome.reply)
        return found.group(0)

    async def login(self, http: aiohttp.ClientSession, person: Person) -> None:
        """Log the person in from a /web link, as a browser does (open, press 登录)."""
        await login_with(http, await self.link(person))


async def login_with(http: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Open a login link and press its button; return the answer to the press."""
    async with http.get(link) as opened:
        html = await opened.text()
    fields = dict(re.findall(r'name="(t|pre)" value="([^"]*)"', html))
    async with http.post(link.split("?")[0], data=fields, allow_redirects=False) as pressed:
        await pressed.read()
        return pressed


def csrf_of(html: str) -> str:
    """Return the CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def browser() -> aiohttp.ClientSession:
    """Return an HTTP client keeping cookies for 127.0.0.1, as a browser would."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@contextlib.asynccontextmanager
async def running_desk(
    assistant: Assistant,
    db: Path,
    *,
    wecom: WeComSettings | None = None,
    oauth_url: str = "",
    data_dir: Path | None = None,
) -> AsyncIterator[Desk]:
    """Run the console on a fresh store with a coordinator, two members and a stranger.

    `data_dir`: the data folder uploads go to (a copy of the notice's own, for the 文件 page).
    """
    clock = FakeClock(NOW)
    async with await Store.open(db, clock) as store:
        core = make_core(assistant, store, [COORDINATOR.id], clock)
        if data_dir is not None:
            core.config = dataclasses.replace(core.config, data_dir=data_dir)
        for person, unit in ((MEMBER, UNIT), (OTHER, OTHER_UNIT)):
            await store.users.upsert(person.id, person.name, True)
            await store.members.bind(person.id, person.name, unit, COORDINATOR.id)
        await store.users.upsert(STRANGER.id, STRANGER.name, True)
        async with serving(core, WebSettings(port=0, oauth_url=oauth_url), wecom):
            assert core.web_url is not None
            yield Desk(core, clock, core.web_url)


def data_folder(root: Path) -> Path:
    """A data folder holding the notice's own files only."""
    root.mkdir()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA_DIR / name, root / name)
    return root
