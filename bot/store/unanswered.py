"""Questions the bot could not answer, per document: the normalised text, how often and when
asked (never who), the measures offered as nearest, and what a coordinator made of it
(bot/office/unanswered.py decides what is counted and kept)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.audit import log
from bot.store.generations import bump
from bot.store.repository import Repository, iso, time


@dataclass(frozen=True)
class Asked:
    """A stored question: its text, how often and when asked, the measures suggested."""

    text: str
    count: int
    suggested: tuple[str, ...]
    first_at: dt.datetime
    last_at: dt.datetime


class Unanswered(Repository):
    """The document's unanswered questions, by normalised text."""

    async def count(
        self,
        asked: Sequence[tuple[str, int, tuple[str, ...]]],
        kept: dt.timedelta,
        reopen: str,
        keep: str,
    ) -> None:
        """Count each (text, times asked, measures suggested) in one transaction; forget what
        was not asked within `kept`.

        Their status becomes `reopen`, unless it is `keep` (then it stays).
        """
        now = self.now()
        at = iso(now)
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM unanswered WHERE last_at < ?", (iso(now - kept),))
            for text, times, suggested in asked:
                await tx.execute(
                    "INSERT INTO unanswered (doc, text, count, suggested, first_at, last_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (doc, text) DO UPDATE SET "
                    "count = unanswered.count + excluded.count, "
                    "suggested = excluded.suggested, last_at = excluded.last_at, "
                    "status = CASE unanswered.status WHEN ? THEN unanswered.status ELSE ? END",
                    (self.doc, text, times, ",".join(suggested), at, at, keep, reopen),
                )

    async def listed(self, status: str, kept: dt.timedelta, most: int) -> list[Asked]:
        """Return the questions of `status` asked within `kept`, most asked first."""
        rows = await self.db.fetch(
            "SELECT * FROM unanswered WHERE doc = ? AND status = ? AND last_at >= ? "
            "ORDER BY count DESC, last_at DESC LIMIT ?",
            (self.doc, status, iso(self.now() - kept), most),
        )
        return [
            Asked(
                row["text"],
                row["count"],
                tuple(s for s in row["suggested"].split(",") if s),
                time(row["first_at"]),
                time(row["last_at"]),
            )
            for row in rows
        ]

    async def settle(
        self,
        text: str,
        was: str,
        status: str,
        actor_id: str,
        actor_name: str,
        what: str,
        files: bool = False,
    ) -> bool:
        """Set a question's status from `was` and audit it; False when it is not of `was`.

        `files`: the document's files were changed for it (its lexicon): its generation too.
        """
        now = iso(self.now())
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE unanswered SET status = ? WHERE doc = ? AND text = ? AND status = ? "
                "RETURNING text",
                (status, self.doc, text, was),
            )
            if row is None:
                return False
            await log(tx, self.doc, now, actor_id, f"unanswered.{status}", "", what, actor_name)
            if files:
                await bump(tx, self.doc)
        return True
