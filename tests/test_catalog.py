"""Several documents in one data folder: which one answers, and answers that say which (#13)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.ask.assistant import ASK, READ, REPORTING, Assistant
from bot.ask.catalog import Catalog, load_catalog
from bot.ask.dialog import Dialog, Reading
from bot.cli import main
from bot.clock import TZ
from bot.config import ConfigError, load_config
from bot.documents.plan import DATA_DIR
from bot.reply import Reply, all_buttons, render_plain, text_of
from tests.fakes.clock import FakeClock

ZONGBAO = """\
国务院关于促进综合保税区
高水平开放高质量发展的若干意见
国发〔2019〕3号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
为促进综合保税区发展，现提出以下意见。
一、统筹两个市场
（一）拓展两个市场。支持企业同时开展内外贸业务。（商务部、海关总署负责）
（二）促进文物回流。支持在综合保税区内开展文物进出境业务。（文化和旅游部、文物局、海关总署负责）
二、推动创新发展
（三）开展检测维修。支持开展高技术含量的检测维修业务。（工业和信息化部、商务部负责）
国务院
2019年1月12日
"""

NONGJI = """\
国务院关于加快推进农业机械化和
农机装备产业转型升级的指导意见
国发〔2018〕42号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
为加快推进农业机械化，现提出以下意见。
一、推动农机装备产业发展
（一）完善农机装备创新体系。建设农机装备创新中心。（工业和信息化部、农业农村部负责）
（二）推进农机装备质量提升。开展农机质量评价。（市场监管总局、工业和信息化部负责）
二、加强财政支持
（三）落实农机购置补贴政策。优化补贴机具种类。（农业农村部、财政部负责）
国务院
2018年12月21日
"""

CHAT = "chat-1"


def build_data(root: Path) -> Path:
    """A data folder: the seed's document as its own, two imported ones in subfolders."""
    root.mkdir()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA_DIR / name, root / name)
    for folder, text in (("zongbao", ZONGBAO), ("nongji", NONGJI)):
        source = root.parent / f"{folder}.txt"
        source.write_text(text, encoding="utf-8")
        assert main(["import-doc", str(source), "--out", str(root / folder)]) == 0
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data(tmp_path_factory.mktemp("catalog") / "data")


@pytest.fixture(scope="module")
def catalog(data: Path) -> Catalog:
    return load_catalog(data)


def named_id(catalog: Catalog, question: str) -> str | None:
    """Return the id of the document the question names, or None."""
    named = catalog.named(question)
    return None if named is None else named[0].id


def header(reply: Reply) -> str:
    return text_of(reply.header)


async def ask(
    catalog: Catalog, question: str, dialog: Dialog | None = None, chat: str = CHAT
) -> tuple[str, Reply]:
    """Return the id of the document that answered and its reply."""
    kind, arg = await catalog.converse(question, dialog, chat)
    return catalog.of_query(arg)[0].id, await catalog.reply(kind, arg)


def test_documents_are_the_root_then_subfolders_by_name(catalog: Catalog) -> None:
    assert [(d.id, d.number) for d in catalog.docs] == [
        ("", "川残工委〔2022〕4号"),
        ("nongji", "国发〔2018〕42号"),
        ("zongbao", "国发〔2019〕3号"),
    ]
    assert catalog.default.id == ""
    assert catalog.doc("zongbao") is catalog.docs[2]


@pytest.mark.parametrize(
    ("question", "doc", "unit"),
    [
        ("3号文里工业和信息化部负责什么", "zongbao", "工业和信息化部"),
        ("42号文 工业和信息化部负责什么", "nongji", "工业和信息化部"),
        ("国发〔2019〕3号中商务部负责哪些", "zongbao", "商务部"),
        ("工业和信息化部在〔2018〕42号里负责什么", "nongji", "工业和信息化部"),
        ("国发42号文件中财政部负责什么", "nongji", "财政部"),
        ("2019年3号文海关总署负责哪些", "zongbao", "海关总署"),
        ("川残工委〔2022〕4号里人社厅负责什么", "", "人力资源社会保障厅"),
    ],
)
async def test_a_question_naming_a_number_is_answered_from_that_document(
    catalog: Catalog, question: str, doc: str, unit: str
) -> None:
    kind, arg = await catalog.converse(question)
    assert catalog.of_query(arg)[0].id == doc
    # The name is gone before the engine reads the question: the unit is found in it.
    assert catalog.to_json(kind, arg, question)["units"] == [unit]
    assert catalog.to_json(kind, arg, question)["doc"] == doc


async def test_a_number_of_no_document_is_not_taken_for_one(catalog: Catalog) -> None:
    # 4号 is not 42号, 14号 not 4号, and 〔2023〕4号 not 川残工委〔2022〕4号.
    for question in ("14号文里人社厅负责什么", "〔2023〕4号文人社厅负责什么"):
        assert catalog.named(question) is None
    assert named_id(catalog, "4号文里人社厅负责什么") == ""


@pytest.mark.parametrize(
    ("question", "doc"),
    [
        ("综保区的文件里商务部负责什么", "zongbao"),
        ("商务部在综合保税区文件中负责什么", "zongbao"),
        ("农机的文件里谁负责购置补贴", "nongji"),
        ("农业机械化的意见里财政部负责什么", "nongji"),
        ("残疾人就业的文件里人社厅负责什么", ""),
    ],
)
async def test_a_question_naming_title_words_is_answered_from_that_document(
    data: Path, question: str, doc: str
) -> None:
    # The chat's default is another document: only the words route the question.
    catalog = load_catalog(data, "nongji" if doc != "nongji" else "zongbao")
    found, reply = await ask(catalog, question)
    assert found == doc
    assert "文件" not in (catalog.named(question) or (None, "文件"))[1]
    assert catalog.docs[[d.id for d in catalog.docs].index(doc)].number in header(reply)


async def test_title_words_of_several_documents_name_none(catalog: Catalog) -> None:
    # Both 国发 titles begin 国务院关于: not distinctive, so the chat's document answers.
    assert catalog.named("国务院的文件里财政部负责什么") is None
    assert catalog.named("促进文物回流归谁管") is None  # 促进 is in a title, 文物 is no mark


async def test_unnamed_questions_go_to_the_default_document(data: Path) -> None:
    assert (await ask(load_catalog(data), "人社厅负责什么"))[0] == ""
    found, reply = await ask(load_catalog(data, "zongbao"), "商务部负责哪些")
    assert found == "zongbao"
    assert "国发〔2019〕3号" in header(reply)


async def test_a_chat_s_choice_answers_its_questions_and_no_other_chat_s(
    catalog: Catalog,
) -> None:
    dialog = Dialog()
    chosen = catalog.choose("42号文", dialog, CHAT)
    assert "已切换到" in header(chosen)
    assert "国发〔2018〕42号" in header(chosen)
    found, reply = await ask(catalog, "工业和信息化部负责什么", dialog)
    assert found == "nongji"
    assert "完善农机装备创新体系" in render_plain(reply)
    assert (await ask(catalog, "工业和信息化部负责什么", dialog, "chat-2"))[0] == ""
    # A question naming another document is answered from it, and the choice stays.
    assert (await ask(catalog, "3号文里工业和信息化部负责什么", dialog))[0] == "zongbao"
    assert dialog.chosen(CHAT) == "nongji"


async def test_answers_name_their_document_on_top_when_there_are_several(
    catalog: Catalog,
) -> None:
    _, reply = await ask(catalog, "人社厅负责什么")
    assert text_of(reply.header[:1]) == (
        "出自：川残工委〔2022〕4号《四川省促进残疾人就业三年行动方案（2022—2024年）责任分工》"
    )
    kind, arg = await catalog.converse("3号文里商务部负责什么")
    reply = await catalog.reply(kind, arg)
    assert await catalog.reply(kind, arg) is reply  # made once: channels render it once
    assert text_of(reply.header[:1]) == (
        "出自：国发〔2019〕3号《促进综合保税区高水平开放高质量发展的若干意见》"
    )
    # Its buttons say which document's measure they show.
    actions = [b.action for b in all_buttons(reply)]
    assert actions
    assert all(a.startswith("m:") and a.endswith("@zongbao") for a in actions)
    shown = catalog.action(actions[0])
    assert shown is not None
    assert "国发〔2019〕3号" in header(shown)
    assert "拓展两个市场" in render_plain(shown)


async def test_one_document_answers_exactly_as_its_assistant(
    tmp_path: Path, assistant: Assistant
) -> None:
    single = load_catalog(DATA_DIR)
    assert not single.several
    for question in ("人社厅负责什么", "盲人按摩归谁管", "3号文里人社厅负责什么"):
        kind, arg = await single.converse(question)
        assert (kind, arg) == await assistant.converse(question)
        assert render_plain(await single.reply(kind, arg)) == render_plain(
            await assistant.reply(kind, arg)
        )
        assert single.to_json(kind, arg, question) == assistant.to_json(kind, arg, question)
    assert single.action("m:7.2") == assistant.action("m:7.2")
    assert single.welcome() == assistant.welcome()


async def test_follow_ups_stay_in_the_document_of_the_question_they_follow(
    catalog: Catalog,
) -> None:
    dialog = Dialog()
    assert (await ask(catalog, "3号文里海关总署负责哪些", dialog))[0] == "zongbao"
    kind, arg = await catalog.converse("那商务部呢", dialog, CHAT)
    assert catalog.of_query(arg)[0].id == "zongbao"
    assert catalog.to_json(kind, arg, "那商务部呢")["units"] == ["商务部"]
    kind, arg = await catalog.converse("第二条", dialog, CHAT)
    assert kind == READ
    doc, inner = catalog.of_query(arg)
    assert doc.id == "zongbao"
    assert "开展检测维修" in render_plain(await catalog.reply(kind, arg))  # 商务部 1.1, 2.1
    assert Reading.decode(inner).question in {m.id for m in doc.plan.measures}
    # A question complete on its own goes back to the chat's document.
    assert (await ask(catalog, "人社厅负责什么", dialog))[0] == ""
    kind, arg = await catalog.converse("那卫健委呢", dialog, CHAT)
    assert catalog.of_query(arg)[0].id == ""


async def test_a_question_only_the_conversation_s_document_answers_stays_in_it(
    catalog: Catalog,
) -> None:
    dialog = Dialog()
    assert (await ask(catalog, "文物局负责什么", dialog, "alone"))[0] == ""  # not in 4号文
    await catalog.converse("3号文里海关总署负责哪些", dialog, CHAT)
    found, reply = await ask(catalog, "文物局负责什么", dialog)
    assert found == "zongbao"
    assert "促进文物回流" in render_plain(reply)


async def test_a_follow_up_naming_another_document_leaves_the_context(
    catalog: Catalog,
) -> None:
    dialog = Dialog()
    await catalog.converse("盲人按摩归谁管", dialog, CHAT)
    kind, arg = await catalog.converse("42号文里那财政部呢", dialog, CHAT)
    assert kind == ASK  # read alone in its document, not as 财政部 on 盲人按摩
    assert catalog.of_query(arg)[0].id == "nongji"


async def test_only_a_document_s_name_shows_what_it_is(catalog: Catalog) -> None:
    found, reply = await ask(catalog, "42号文")
    assert found == "nongji"
    assert "国发〔2018〕42号" in header(reply)
    assert "3 项工作举措" in header(reply)


async def test_reporting_questions_are_asked_of_their_document(catalog: Catalog) -> None:
    kind, arg = await catalog.converse("4号文什么时候报送")
    assert kind == REPORTING
    assert catalog.of_query(arg)[0].id == ""
    assert catalog.to_json(kind, arg, "q")["about"] == "reporting"


def test_commands_are_asked_of_the_document_they_name_or_the_chat_s(catalog: Catalog) -> None:
    dialog = Dialog()
    kind, arg = catalog.query("unit", "3号文 商务部", dialog, CHAT)
    assert (kind, catalog.of_query(arg)[0].id, catalog.of_query(arg)[1]) == (
        "unit",
        "zongbao",
        "商务部",
    )
    catalog.choose("nongji", dialog, CHAT)
    assert catalog.of_query(catalog.query("task", "1", dialog, CHAT)[1])[0].id == "nongji"


def test_doc_lists_the_documents_with_a_button_each(catalog: Catalog) -> None:
    dialog = Dialog()
    listing = catalog.listing(dialog, CHAT)
    buttons = all_buttons(listing)
    assert [b.action for b in buttons] == ["doc:", "doc:nongji", "doc:zongbao"]
    assert all(len(b.action.encode()) <= 64 for b in buttons)
    assert buttons[0].label.startswith("✓")  # the default is the current one
    text = render_plain(listing)
    for doc in catalog.docs:
        assert doc.number in text
    assert catalog.choose("", dialog, CHAT) == listing


def test_a_button_chooses_its_document(catalog: Catalog) -> None:
    dialog = Dialog()
    reply = catalog.press("doc:zongbao", dialog, CHAT)
    assert reply is not None
    assert "已切换到" in header(reply)
    assert dialog.chosen(CHAT) == "zongbao"
    assert catalog.current(dialog, CHAT).id == "zongbao"
    # Its example buttons ask that document.
    examples = [b.action for b in all_buttons(reply)]
    assert examples
    assert all(a.endswith("@zongbao") for a in examples)
    assert [b.label for b in all_buttons(catalog.listing(dialog, CHAT))][2].startswith("✓")
    assert catalog.press("doc:", dialog, CHAT) is not None
    assert dialog.chosen(CHAT) == ""


@pytest.mark.parametrize("name", ["综保区", "国发〔2019〕3号", "3号文", "zongbao"])
def test_doc_chooses_by_number_folder_or_title_words(catalog: Catalog, name: str) -> None:
    dialog = Dialog()
    catalog.choose(name, dialog, CHAT)
    assert dialog.chosen(CHAT) == "zongbao"


def test_an_unknown_document_is_answered_with_the_list(catalog: Catalog) -> None:
    dialog = Dialog()
    reply = catalog.choose("99号文", dialog, CHAT)
    assert "没有找到文件「99号文」" in header(reply)
    assert len(all_buttons(reply)) == 3
    assert dialog.chosen(CHAT) is None
    gone = catalog.press("doc:gone", dialog, CHAT)
    assert gone is not None
    assert "不再提供" in header(gone)


async def test_choosing_starts_the_conversation_afresh(catalog: Catalog) -> None:
    dialog = Dialog()
    await catalog.converse("人社厅负责什么", dialog, CHAT)
    assert dialog.context(CHAT) is not None
    catalog.choose("zongbao", dialog, CHAT)
    assert dialog.context(CHAT) is None


def test_a_bad_default_document_is_refused_naming_it(data: Path) -> None:
    with pytest.raises(ConfigError, match="FENGONG_DEFAULT_DOC 的值「nope」") as e:
        load_catalog(data, "nope")
    assert "nongji" in str(e.value)
    assert "zongbao" in str(e.value)
    with pytest.raises(ConfigError, match="FENGONG_DEFAULT_DOC"):
        load_config({"FENGONG_DEFAULT_DOC": "../data"})
    assert load_config({"FENGONG_DEFAULT_DOC": " zongbao "}).default_doc == "zongbao"


def test_the_command_line_refuses_a_bad_default(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FENGONG_DEFAULT_DOC", "nope")
    assert main(["--data", str(data), "ask", "人社厅负责什么"]) == 2
    assert "FENGONG_DEFAULT_DOC 的值「nope」" in capsys.readouterr().err


def test_ask_names_the_document_in_json_only_when_there_are_several(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(data), "ask", "--json", "3号文里商务部负责什么"]) == 0
    assert '"doc": "zongbao"' in capsys.readouterr().out
    assert main(["--data", str(DATA_DIR), "ask", "--json", "人社厅负责什么"]) == 0
    assert '"doc"' not in capsys.readouterr().out


def test_a_subfolder_alone_is_served_as_the_only_document(tmp_path: Path, data: Path) -> None:
    only = tmp_path / "only"
    only.mkdir()
    shutil.copytree(data / "zongbao", only / "zongbao")
    catalog = load_catalog(only)
    assert [d.id for d in catalog.docs] == ["zongbao"]
    assert not catalog.several


def test_check_data_checks_every_document(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-data", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "nongji：国发〔2018〕42号" in out
    assert "zongbao：国发〔2019〕3号" in out


async def test_a_unit_of_other_documents_only_is_pointed_to_them(catalog: Catalog) -> None:
    kind, arg = await catalog.converse("工业和信息化部负责什么")
    assert catalog.to_json(kind, arg, "q")["no_match"]
    reply = await catalog.reply(kind, arg)
    assert text_of(reply.header[-2:-1]) == (
        "其他文件中有：国发〔2018〕42号（工业和信息化部）、国发〔2019〕3号（工业和信息化部）。"
        "可问「42号文里工业和信息化部负责什么」，或发送 /doc 切换。"
    )
    # The line promising examples stays right above its buttons, the pointer before it.
    shown = render_plain(reply).splitlines()
    assert shown[-2].endswith("例如：")
    assert shown[-1].startswith("可输入：")
    assert not reply.footer
    # Found where it is asked: no pointer.
    _, reply = await ask(catalog, "42号文里工业和信息化部负责什么")
    assert "其他文件中有" not in render_plain(reply)


def test_a_chat_s_choice_outlives_its_conversation() -> None:
    clock = FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ))
    dialog = Dialog(clock)
    dialog.choose(CHAT, "zongbao")
    clock.advance(days=3)  # contexts end after ten quiet minutes, a choice does not
    assert dialog.chosen(CHAT) == "zongbao"
    assert dialog.chosen("chat-2") is None


def test_ask_answers_from_the_document_given(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["--data", str(data), "ask", "--json", "--doc", "综保区", "商务部负责什么"]
    assert main(lines) == 0
    assert '"doc": "zongbao"' in capsys.readouterr().out
    assert main(["--data", str(data), "ask", "--doc", "99号文", "商务部负责什么"]) == 2
    err = capsys.readouterr().err
    assert "找不到文件「99号文」" in err
    assert "zongbao 国发〔2019〕3号" in err
