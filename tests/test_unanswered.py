"""Unanswered questions: counted per document, kept 90 days, learnt into the lexicon."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from bot.ask.assistant import Assistant
from bot.ask.catalog import load_catalog
from bot.ask.lexicon import load_lexicon
from bot.office import unanswered
from bot.outcome import Person
from bot.reply import render_plain
from bot.store import Store
from tests.cores import make_core
from tests.fakes.clock import FakeClock
from tests.test_catalog import build_data
from tests.web_harness import MEMBER, NOW, data_folder

COORDINATOR = Person("tg:1", "协调人甲")


async def test_a_question_is_counted_once_per_spelling_and_document(
    tmp_path: Path, assistant: Assistant
) -> None:
    async with await Store.open(tmp_path / "q.db", FakeClock(NOW)) as store:
        one, other = store.document(""), store.document("zongbao")
        for asked in ("手语翻译谁负责", "手語翻譯誰負責？", " 手语翻译谁负责 "):
            await unanswered.record(one, unanswered.normalized(asked), ("8.2",))
        await unanswered.record(other, unanswered.normalized("导盲犬"))
        listed = await unanswered.listing(one, assistant)
        assert [(q.text, q.count, q.suggested) for q in listed] == [
            ("手语翻译谁负责", 3, ("8.2",))
        ]
        assert listed[0].words == "手语翻译"
        assert [q.text for q in await unanswered.listing(other, assistant)] == ["导盲犬"]


async def test_questions_not_asked_for_90_days_are_forgotten(
    tmp_path: Path, assistant: Assistant
) -> None:
    clock = FakeClock(NOW)
    async with await Store.open(tmp_path / "q.db", clock) as store:
        await unanswered.record(store, "导盲犬归谁管")
        await unanswered.record(store, "手语翻译谁负责")
        clock.advance(days=60)
        await unanswered.record(store, "手语翻译谁负责")  # asked again: kept from now
        clock.advance(days=30, seconds=1)
        assert [q.text for q in await unanswered.listing(store, assistant)] == ["手语翻译谁负责"]
        await unanswered.record(store, "助听器")  # a write prunes the stored rows too
        rows = await store.db.fetch("SELECT text FROM unanswered ORDER BY text")
        assert sorted(r["text"] for r in rows) == sorted(["手语翻译谁负责", "助听器"])


async def test_out_of_scope_stays_hidden_when_asked_again(
    tmp_path: Path, assistant: Assistant
) -> None:
    async with await Store.open(tmp_path / "q.db", FakeClock(NOW)) as store:
        await unanswered.record(store, "导盲犬归谁管")
        said = await unanswered.out_of_scope(store, "导盲犬归谁管", COORDINATOR)
        assert "不在文件范围" in said
        await unanswered.record(store, "导盲犬归谁管")
        assert await unanswered.listing(store, assistant) == []
        assert "已不在" in await unanswered.out_of_scope(store, "导盲犬归谁管", COORDINATOR)
        [entry] = await store.audit.entries()
        assert (entry.action, entry.actor_id, entry.subject) == (
            "unanswered.out",
            COORDINATOR.id,
            "「导盲犬归谁管」",
        )


def test_a_synonym_is_added_keeping_the_lexicons_comments(tmp_path: Path) -> None:
    data = data_folder(tmp_path / "data")
    path = data / "lexicon.yaml"
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    unanswered.add_synonym(path, "手语翻译", "加强手语翻译服务")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# How people ask")
    after = yaml.safe_load(text)
    assert after["synonyms"] == {**before["synonyms"], "手语翻译": ["加强手语翻译服务"]}
    assert {k: v for k, v in after.items() if k != "synonyms"} == {
        k: v for k, v in before.items() if k != "synonyms"
    }
    unanswered.add_synonym(path, "手语翻译", "另一项")  # the same words again: both kept
    assert load_lexicon(data).synonyms["手语翻译"] == ("加强手语翻译服务", "另一项")


def test_a_document_without_a_lexicon_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    unanswered.add_synonym(path, "导盲犬", "盲人")
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {"synonyms": {"导盲犬": ["盲人"]}}


async def test_each_document_learns_in_its_own_lexicon(tmp_path: Path) -> None:
    data = build_data(tmp_path / "data")
    catalog = load_catalog(data)
    async with await Store.open(tmp_path / "q.db", FakeClock(NOW)) as store:
        core = make_core(catalog, store, [COORDINATOR.id])
        await core.command(MEMBER, MEMBER.id, "doc", "zongbao")
        asked = await core.text(MEMBER, MEMBER.id, "跨境电商归谁管")
        assert "没有找到" in render_plain(asked.outcome.reply)
        zongbao = catalog.doc("zongbao")
        assert zongbao is not None
        own = core.offices["zongbao"].membership.store
        assert [q.text for q in await unanswered.listing(own, zongbao.assistant)] == [
            "跨境电商归谁管"
        ]
        assert await unanswered.listing(store, catalog.default.assistant) == []
        first = zongbao.assistant.plan.measures[0]  # 拓展两个市场
        said = await unanswered.map_to(
            own, zongbao.assistant, "跨境电商归谁管", first.id, "跨境电商", COORDINATOR
        )
        assert f"举措 {first.id} 的同义词" in said
        assert "跨境电商" in load_lexicon(data / "zongbao").synonyms
        assert "跨境电商" not in load_lexicon(data).synonyms
        answer = render_plain((await core.text(MEMBER, MEMBER.id, "跨境电商归谁管")).outcome.reply)
        assert "拓展两个市场" in answer


async def test_the_answer_does_not_wait_for_the_count(
    tmp_path: Path, assistant: Assistant
) -> None:
    """The count is written after the answer, and listed (or written at close) all the same."""
    path = tmp_path / "q.db"
    async with await Store.open(path, FakeClock(NOW)) as store:
        core = make_core(assistant, store, [COORDINATOR.id])
        in_group = Person("tg:7", "群成员", private=False)  # no note flow to read
        async with store.db.transaction():  # another transaction holds the database meanwhile
            asked = asyncio.ensure_future(core.text(in_group, "g:7", "导盲犬归谁管"))
            # A guard against a hang, not a timing: before, the answer waited for the lock.
            done, _ = await asyncio.wait({asked}, timeout=30)
            assert done, "the answer waited for the count's transaction"
            assert "没有找到" in render_plain(asked.result().outcome.reply)
        assert [q.text for q in await unanswered.listing(store, assistant)] == ["导盲犬归谁管"]
        await core.text(in_group, "g:7", "手语翻译谁负责")
        await core.close()  # writes what is still pending
    async with await Store.open(path, FakeClock(NOW)) as store:
        listed = await unanswered.listing(store, assistant)
    assert sorted(q.text for q in listed) == ["导盲犬归谁管", "手语翻译谁负责"]


async def test_questions_asked_while_a_count_is_written_are_counted_together(
    tmp_path: Path, assistant: Assistant
) -> None:
    """Each asking is counted; those that wait for the database go in one transaction, not
    one each (a transaction and its fsync for every unanswered question was most of what the
    bot's CPU did for them)."""
    async with await Store.open(tmp_path / "q.db", FakeClock(NOW)) as store:
        core = make_core(assistant, store, [COORDINATOR.id])
        in_group = Person("tg:7", "群成员", private=False)  # no note flow to read
        asked = ["导盲犬归谁管", "手语翻译谁负责", "导盲犬归谁管", "助听器谁发", "导盲犬归谁管"]
        statements: list[str] = []
        async with store.db.transaction():  # the counts wait for the database meanwhile
            for text in asked:
                await core.text(in_group, "g:7", text)
            await store.db.connection.set_trace_callback(statements.append)
        listed = await unanswered.listing(store, assistant)
        assert {(q.text, q.count) for q in listed} == {
            ("导盲犬归谁管", 3),
            ("手语翻译谁负责", 1),
            ("助听器谁发", 1),
        }
        # The first count may have begun before the others were asked: two at most.
        assert 1 <= statements.count("BEGIN IMMEDIATE") <= 2
